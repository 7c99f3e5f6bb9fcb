"""API tests of cloudpartner-emulator (tests/emulator), over real HTTP.

Each test asserts what a CPP client would see: status, headers, body.
The emulator runs with --step-ms 0, so operations move only on
POST /_emulator/tick.  Stdlib only; run with Debian's python3:

    PARTNERFS_BUILD=build /usr/bin/python3 -m pytest -q --timeout 60 \
        tests/integration/test_emulator_api.py
"""
import http.client
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PARTNERFS_BUILD", REPO / "build"))
EMULATOR = BUILD / "tests" / "emulator" / "cloudpartner-emulator"
SEED = REPO / "tests" / "emulator" / "seed.json"
API = "api-version=2017-10-31"
TOKEN = "sandbox-token"
ETAG_RE = re.compile(r"^W/\"datetime'\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{7}Z'\"$")
OPS = {n: "c0ffee00-0000-4000-8000-%012d" % n for n in (1, 2, 3, 4, 11, 21, 31, 41, 42, 51, 52)}


class Emulator:
    def __init__(self, *args, seed=True):
        if not EMULATOR.exists():
            pytest.skip(f"{EMULATOR} not built")
        argv = [str(EMULATOR), "--port", "0", "--step-ms", "0"]
        if seed:
            argv += ["--seed", str(SEED)]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv + list(args), stdout=subprocess.PIPE,
                                     stderr=self.log)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith(("http://", "https://")):
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = line.strip()
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port
        # --tls-cert: the test trusts that self-signed certificate only.
        self.ssl = None
        if "--tls-cert" in args:
            cafile = args[args.index("--tls-cert") + 1]
            self.ssl = ssl.create_default_context(cafile=str(cafile))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.seek(0)
        out = self.log.read().decode(errors="replace")
        self.log.close()
        return out

    def raw(self, method, path, body=None, headers=None, timeout=10):
        """One request; returns (status, headers dict lowercased, bytes)."""
        if self.ssl:
            conn = http.client.HTTPSConnection(self.host, self.port,
                                               timeout=timeout, context=self.ssl)
        else:
            conn = http.client.HTTPConnection(self.host, self.port,
                                              timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def api(self, method, path, body=None, token=TOKEN, headers=None, query=API):
        h = {"Accept": "application/json", "Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        sep = "&" if "?" in path else "?"
        full = f"{path}{sep}{query}" if query is not None else path
        st, hdrs, data = self.raw(method, full, body, h)
        doc = json.loads(data) if data and hdrs.get("content-type", "").startswith(
            "application/json") else None
        return st, hdrs, doc

    def tick(self, n=1):
        for _ in range(n):
            assert self.raw("POST", "/_emulator/tick")[0] == 200

    def requests(self):
        return json.loads(self.raw("GET", "/_emulator/requests")[2])

    def fault(self, **rule):
        st, _, data = self.raw("POST", "/_emulator/faults", rule)
        assert st == 200, data


SANITIZER_RE = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:")


def check_clean_exit(e):
    """Stop the emulator; fail on a sanitizer report or a bad exit."""
    log = e.stop()
    assert not SANITIZER_RE.search(log), log[-4000:]
    assert e.proc.returncode == 0, log[-4000:]


@pytest.fixture(scope="module")
def emu():
    e = Emulator()
    yield e
    check_clean_exit(e)


@pytest.fixture
def start():
    started = []

    def _start(*args, **kw):
        e = Emulator(*args, **kw)
        started.append(e)
        return e
    yield _start
    for e in started:
        check_clean_exit(e)


@pytest.fixture(autouse=True)
def _clean(request):
    if "emu" in request.fixturenames:
        e = request.getfixturevalue("emu")
        e.raw("DELETE", "/_emulator/faults")
        e.raw("DELETE", "/_emulator/requests")


OFFER = "/api/publishers/contoso/offers"


def new_offer(e, oid, plans=True, pub="contoso"):
    definition = {"displayText": f"Offer {oid}", "offer": {"x.title": oid}}
    if plans:
        definition["plans"] = [{"planId": "p1"}]
    st, h, doc = e.api("PUT", f"/api/publishers/{pub}/offers/{oid}",
                       {"offerTypeId": "microsoft-azure-virtualmachines",
                        "publisherId": pub, "id": oid, "definition": definition})
    assert st == 201, doc
    return h["etag"]


def op_path(loc):
    """Host-relative path of an operation location (absolute or not)."""
    u = urllib.parse.urlsplit(loc)
    return u.path + ("?" + u.query if u.query else "")


def publish(e, oid, body=None, pub="contoso"):
    st, h, doc = e.api("POST", f"/api/publishers/{pub}/offers/{oid}/publish", body)
    assert st == 202, doc
    return h


# ---------------------------------------------------------------- start-up

def test_first_stdout_line_is_base_url(emu):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url)
    assert emu.port > 0


def test_offers_flag_creates_synthetic_offers(start):
    e = start("--offers", "3", "--token", "tok", seed=False)
    st, _, doc = e.api("GET", OFFER, token="tok")
    assert st == 200
    assert [o["id"] for o in doc] == ["offer-00001", "offer-00002", "offer-00003"]
    assert {o["status"] for o in doc} == {"neverPublished"}
    assert e.api("GET", OFFER + "/offer-00002", token="tok")[2]["definition"]["plans"]


def tls_args(cert):
    return ("--tls-cert", cert[0], "--tls-key", cert[1])


def test_tls_mode_serves_https_with_the_given_certificate(start, cert):
    e = start(*tls_args(cert))
    # localhost: the name the certificate carries, not 127.0.0.1.
    assert e.url == f"https://localhost:{e.port}"
    st, _, doc = e.api("GET", "/api/publishers")
    assert st == 200 and doc[0]["id"] == "contoso"
    assert e.requests()[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    # A client that does not trust the certificate gets no further than
    # the handshake, and nothing is recorded.
    e.raw("DELETE", "/_emulator/requests")
    conn = http.client.HTTPSConnection(e.host, e.port, timeout=10,
                                       context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/api/publishers?" + API)
    conn.close()
    # Nor does plain HTTP get an answer on that port.
    with socket.create_connection((e.host, e.port), timeout=10) as s:
        s.sendall(b"GET /api/publishers HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        assert not data.startswith(b"HTTP/")
    assert e.requests() == []


def test_tls_absolute_locations_are_https(start, cert):
    e = start("--absolute-locations", *tls_args(cert))
    new_offer(e, "tls-abs")
    h = publish(e, "tls-abs")
    assert h["location"].startswith(
        e.url + "/api/publishers/contoso/offers/tls-abs/operations/")
    assert h["operation-location"] == h["location"]
    assert e.api("GET", op_path(h["location"]), query=None)[0] == 200


@pytest.mark.parametrize("which,message", [
    ("cert-only", "--tls-cert and --tls-key go together"),
    ("missing", "/nonexistent/cert.pem: No such file or directory"),
    ("swapped", "cannot start HTTPS"),
])
def test_tls_flag_errors_exit_1_with_a_reason(cert, which, message):
    crt, key = cert
    args = {"cert-only": ["--tls-cert", crt],
            "missing": ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", key],
            "swapped": ["--tls-cert", key, "--tls-key", crt]}[which]
    r = subprocess.run([str(EMULATOR), "--port", "0"] + args,
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and r.stdout == ""
    assert message in r.stderr
    assert not SANITIZER_RE.search(r.stderr), r.stderr


def test_help_lists_the_tls_flags():
    r = subprocess.run([str(EMULATOR), "-h"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0
    assert "--tls-cert FILE --tls-key FILE" in r.stdout


def test_sigterm_and_sigint_exit_cleanly(start):
    for sig in (signal.SIGTERM, signal.SIGINT):
        e = start()
        e.api("GET", "/api/publishers")
        e.proc.send_signal(sig)
        assert e.proc.wait(10) == 0


# ---------------------------------------------------------------- reads

def test_publishers_list_shape(emu):
    st, h, doc = emu.api("GET", "/api/publishers")
    assert st == 200
    assert h["content-type"] == "application/json; charset=utf-8"
    assert [p["id"] for p in doc] == ["contoso", "fabrikam", "northwind"]
    p = doc[0]
    assert p["version"] == 0
    assert p["definition"]["displayText"] == "Contoso Ltd"
    assert isinstance(p["definition"]["offerTypeCategories"], list)
    assert isinstance(p["definition"]["sellerId"], int)


def test_publishers_list_filtered_by_token(emu):
    st, _, doc = emu.api("GET", "/api/publishers", token="contoso-only")
    assert st == 200
    assert [p["id"] for p in doc] == ["contoso"]


def test_offer_types(emu):
    st, _, doc = emu.api("GET", "/api/offerTypes")
    assert st == 200
    assert {"id": "microsoft-azure-virtualmachines"} in doc


def test_offers_list_summaries(emu):
    st, _, doc = emu.api("GET", OFFER)
    assert st == 200
    by_id = {o["id"]: o for o in doc}
    for oid in ("contoso-vm", "contoso-app", "contoso-review", "contoso-draft",
                "contoso-failed", "contoso-noplans"):
        assert oid in by_id
    vm = by_id["contoso-vm"]
    assert set(vm) == {"offerTypeId", "publisherId", "status", "id", "version",
                       "definition", "changedTime"}
    assert vm["definition"] == {"displayText": "Contoso Virtual Machine"}
    assert (vm["status"], vm["version"]) == ("succeeded", 2)
    assert by_id["contoso-review"]["status"] == "waitingForPublisherReview"
    assert by_id["contoso-draft"]["status"] == "neverPublished"
    assert by_id["contoso-failed"]["status"] == "failed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", vm["changedTime"])


def test_get_offer_full_document_with_etag(emu):
    st, h, doc = emu.api("GET", OFFER + "/contoso-vm")
    assert st == 200
    assert ETAG_RE.match(h["etag"])
    assert doc["id"] == "contoso-vm" and doc["publisherId"] == "contoso"
    assert doc["offerTypeVersions"]["microsoft-azure-virtualmachines"] == 87
    assert doc["definition"]["plans"][0]["planId"] == "contoso-vm-2022"
    assert "microsoft-azure-marketplace.title" in doc["definition"]["offer"]


def test_slots_any_case(emu):
    _, h0, draft = emu.api("GET", OFFER + "/contoso-vm")
    st, h, doc = emu.api("GET", OFFER + "/contoso-vm/slot/Draft")
    assert st == 200 and doc == draft and h["etag"] == h0["etag"]
    for slot in ("preview", "PRODUCTION"):
        st, h, doc = emu.api("GET", OFFER + "/contoso-vm/slot/" + slot)
        assert st == 200 and doc["id"] == "contoso-vm" and "etag" in h


def test_slot_never_previewed_is_404(emu):
    for slot in ("preview", "production"):
        st, _, doc = emu.api("GET", OFFER + "/contoso-draft/slot/" + slot)
        assert st == 404 and doc["error"]["code"] == "NotFound"
    assert emu.api("GET", OFFER + "/contoso-review/slot/preview")[0] == 200
    assert emu.api("GET", OFFER + "/contoso-review/slot/production")[0] == 404
    assert emu.api("GET", OFFER + "/contoso-vm/slot/staging")[0] == 404


def test_versions(emu):
    for n in (1, 2):
        st, h, doc = emu.api("GET", OFFER + f"/contoso-vm/versions/{n}")
        assert st == 200 and doc["version"] == n and ETAG_RE.match(h["etag"])
    for bad in ("3", "0", "x", "-1"):
        st, _, doc = emu.api("GET", OFFER + f"/contoso-vm/versions/{bad}")
        assert st == 404 and doc["error"]["code"] == "NotFound"


def test_status_document_of_running_offer(emu):
    st, _, doc = emu.api("GET", OFFER + "/contoso-app/status")
    assert st == 200
    assert doc["status"] == "running"
    assert [s["id"] for s in doc["steps"]] == [
        "displaydummycertify", "displaycertify", "displayprovision",
        "displaypackage", "publisher-signoff", "live"]
    assert [s["status"] for s in doc["steps"]][:3] == ["complete", "inProgress", "notStarted"]
    step = doc["steps"][0]
    assert {"estimatedTimeFrame", "stepName", "description", "messages",
            "progressPercentage"} <= set(step)
    assert step["progressPercentage"] == 100
    assert doc["notificationEmails"] == "ops@contoso.com"
    assert doc["previewLinks"] == [] and doc["liveLinks"] == []


def test_status_of_failed_and_live_offers(emu):
    _, _, doc = emu.api("GET", OFFER + "/contoso-failed/status")
    assert doc["status"] == "failed"
    failed = doc["steps"][1]
    assert failed["status"] == "failed"
    assert failed["messages"][0]["level"] == "error"
    _, _, doc = emu.api("GET", OFFER + "/contoso-vm/status")
    assert doc["status"] == "succeeded"
    assert {s["status"] for s in doc["steps"]} == {"complete"}
    assert doc["liveLinks"] and doc["liveLinks"][0]["uri"].startswith("https://")


# ---------------------------------------------------------------- PUT

def test_put_new_offer_without_if_match_is_201(emu):
    st, h, doc = emu.api("PUT", OFFER + "/put-new",
                         {"offerTypeId": "microsoft-azure-virtualmachines",
                          "id": "put-new", "version": 7, "status": "succeeded",
                          "eTag": "bogus", "definition": {"displayText": "New",
                                                          "plans": []}})
    assert st == 201
    assert ETAG_RE.match(h["etag"])
    assert doc["version"] == 1 and doc["status"] == "neverPublished"
    assert doc["publisherId"] == "contoso" and "eTag" not in doc
    assert doc["definition"] == {"displayText": "New", "plans": []}
    st, h2, got = emu.api("GET", OFFER + "/put-new")
    assert st == 200 and got == doc and h2["etag"] == h["etag"]


def test_put_new_offer_with_star_is_201(emu):
    st, _, _ = emu.api("PUT", OFFER + "/put-star", {"definition": {}},
                       headers={"If-Match": "*"})
    assert st == 201


def test_put_new_offer_with_etag_is_412(emu):
    st, _, doc = emu.api("PUT", OFFER + "/put-nothing", {"definition": {}},
                         headers={"If-Match": "W/\"datetime'2017-06-07T06%3A15%3A40.4771399Z'\""})
    assert st == 412
    assert emu.api("GET", OFFER + "/put-nothing")[0] == 404


def test_put_existing_without_if_match_is_409(emu):
    new_offer(emu, "put-409")
    st, _, doc = emu.api("PUT", OFFER + "/put-409", {"definition": {}})
    assert st == 409
    assert doc["error"]["code"] == "InvalidResourceId"
    assert "If-Match" in doc["error"]["message"]


def test_put_existing_with_star_or_current_etag_is_200(emu):
    tag = new_offer(emu, "put-200")
    st, h, doc = emu.api("PUT", OFFER + "/put-200",
                         {"definition": {"displayText": "v2"}},
                         headers={"If-Match": "*"})
    assert st == 200 and h["etag"] != tag and doc["definition"]["displayText"] == "v2"
    st, h2, doc = emu.api("PUT", OFFER + "/put-200",
                          {"definition": {"displayText": "v3"}},
                          headers={"If-Match": h["etag"]})
    assert st == 200 and h2["etag"] not in (tag, h["etag"])
    assert emu.api("GET", OFFER + "/put-200")[2]["definition"]["displayText"] == "v3"


def test_put_existing_with_stale_etag_is_412(emu):
    tag = new_offer(emu, "put-412")
    assert emu.api("PUT", OFFER + "/put-412", {"definition": {}},
                   headers={"If-Match": "*"})[0] == 200
    st, _, doc = emu.api("PUT", OFFER + "/put-412", {"definition": {"displayText": "lost"}},
                         headers={"If-Match": tag})
    assert st == 412
    assert emu.api("GET", OFFER + "/put-412")[2]["definition"] == {}


def test_put_bad_json_is_400(emu):
    for body in ("{not json", "[1, 2]", '{"a": 1} trailing', '{"definition": 5}'):
        st, _, doc = emu.api("PUT", OFFER + "/put-bad", body)
        assert st == 400, body
        assert "code" in doc["error"]
    assert emu.api("GET", OFFER + "/put-bad")[0] == 404


def test_put_body_over_4mib_is_400(emu):
    body = json.dumps({"definition": {"blob": "x" * (4 * 1024 * 1024 + 10)}})
    st, _, doc = emu.api("PUT", OFFER + "/put-huge", body)
    assert st == 400
    assert emu.api("GET", OFFER + "/put-huge")[0] == 404


# ---------------------------------------------------------------- operations

def test_publish_returns_202_with_both_location_headers(emu):
    new_offer(emu, "pub-202")
    h = publish(emu, "pub-202", {"metadata": {"notification-emails": "a@x.com,b@y.org"}})
    assert h["operation-location"] == h["location"]
    m = re.fullmatch(r"/api/publishers/contoso/offers/pub-202/operations/"
                     r"([0-9a-f-]{36})\?api-version=2017-10-31", h["location"])
    assert m
    st, _, op = emu.api("GET", h["location"].split("?")[0])
    assert st == 200
    assert op["status"] == "notStarted" and op["id"] == m.group(1)
    assert op["notificationEmails"] == "a@x.com,b@y.org"
    assert [s["id"] for s in op["steps"]] == ["displaydummycertify", "displaycertify",
                                             "displayprovision", "displaypackage",
                                             "publisher-signoff"]
    assert op["cancellationRequestState"] == "canCancel"


def test_publish_lifecycle_to_signoff_via_tick(start):
    e = start()
    new_offer(e, "life")
    loc = op_path(publish(e, "life")["location"])
    seen = []
    for _ in range(5):
        e.tick()
        op = e.api("GET", loc, query=None)[2]
        seen.append((op["status"], [s["status"] for s in op["steps"]]))
    assert seen[0] == ("running", ["inProgress"] + ["notStarted"] * 4)
    assert seen[1][1][:2] == ["complete", "inProgress"]
    assert seen[3] == ("running", ["complete"] * 3 + ["inProgress", "notStarted"])
    assert seen[4] == ("completed", ["complete"] * 4 + ["waitingForPublisherReview"])
    st, _, doc = e.api("GET", OFFER + "/life/status")
    assert doc["status"] == "waitingForPublisherReview"
    assert doc["steps"][4]["status"] == "waitingForPublisherReview"
    st, _, prev = e.api("GET", OFFER + "/life/slot/preview")
    assert st == 200 and prev["definition"]["displayText"] == "Offer life"


def test_golive_lifecycle(start):
    e = start()
    st, h, doc = e.api("POST", OFFER + "/contoso-review/golive")
    assert st == 202 and h["location"] == h["operation-location"]
    loc = op_path(h["location"])
    assert e.api("GET", loc, query=None)[2]["status"] == "notStarted"
    e.tick()
    op = e.api("GET", loc, query=None)[2]
    assert op["status"] == "running"
    assert [s["id"] for s in op["steps"]] == ["publisher-signoff", "live"]
    assert [s["status"] for s in op["steps"]] == ["complete", "inProgress"]
    e.tick()
    assert e.api("GET", loc, query=None)[2]["status"] == "completed"
    _, _, offer = e.api("GET", OFFER + "/contoso-review")
    assert offer["status"] == "succeeded" and offer["version"] == 1
    st, _, prod = e.api("GET", OFFER + "/contoso-review/slot/production")
    assert st == 200 and prod["definition"] == offer["definition"]
    st, _, v1 = e.api("GET", OFFER + "/contoso-review/versions/1")
    assert st == 200 and v1["version"] == 1
    # publishing and going live again makes version 2
    publish(e, "contoso-review")
    e.tick(5)
    assert e.api("POST", OFFER + "/contoso-review/golive")[0] == 202
    e.tick(2)
    assert e.api("GET", OFFER + "/contoso-review")[2]["version"] == 2
    assert e.api("GET", OFFER + "/contoso-review/versions/2")[0] == 200
    _, _, status = e.api("GET", OFFER + "/contoso-review/status")
    assert status["status"] == "succeeded" and status["steps"][5]["status"] == "complete"


def test_golive_without_preview_awaiting_is_400(emu):
    for oid in ("contoso-draft", "contoso-vm"):
        st, _, doc = emu.api("POST", OFFER + f"/{oid}/golive")
        assert st == 400 and doc["error"]["code"] == "InvalidOperation"


def test_publish_same_version_running_is_idempotent(emu):
    st, h, _ = emu.api("POST", OFFER + "/contoso-app/publish")
    assert st == 202
    assert h["location"].endswith(f"/operations/{OPS[11]}?api-version=2017-10-31")


def test_other_operation_running_is_409(start):
    e = start()
    assert e.api("POST", OFFER + "/contoso-review/golive")[0] == 202
    st, _, doc = e.api("POST", OFFER + "/contoso-review/publish")
    assert st == 409 and doc["error"]["code"] == "OperationInProgress"
    st, _, doc = e.api("POST", OFFER + "/contoso-app/golive")
    assert st == 409


def test_publish_without_plans_is_422(emu):
    st, _, doc = emu.api("POST", OFFER + "/contoso-noplans/publish")
    assert st == 422
    assert doc["error"]["code"] == "ValidationFailed"
    assert doc["error"]["details"] and "code" in doc["error"]["details"][0]
    new_offer(emu, "empty-plans", plans=False)
    emu.api("PUT", OFFER + "/empty-plans", {"definition": {"plans": []}},
            headers={"If-Match": "*"})
    assert emu.api("POST", OFFER + "/empty-plans/publish")[0] == 422


def test_publish_bad_email_is_400(emu):
    new_offer(emu, "bad-mail")
    for emails in ("not-an-address", "a@b.com,nope", "a@b", "@b.com", 5):
        st, _, doc = emu.api("POST", OFFER + "/bad-mail/publish",
                             {"metadata": {"notification-emails": emails}})
        assert st == 400, emails
        assert doc["error"]["code"] == "InvalidEmail"
    assert emu.api("GET", OFFER + "/bad-mail/submissions/")[2] == []


def test_publish_bad_json_is_400(emu):
    new_offer(emu, "bad-json")
    st, _, doc = emu.api("POST", OFFER + "/bad-json/publish", "{oops")
    assert st == 400
    assert emu.api("GET", OFFER + "/bad-json/submissions/")[2] == []


def test_publish_accepts_empty_body_and_no_metadata(emu):
    new_offer(emu, "empty-body")
    assert emu.api("POST", OFFER + "/empty-body/publish", "")[0] == 202
    new_offer(emu, "no-meta")
    assert emu.api("POST", OFFER + "/no-meta/publish", {})[0] == 202


def test_cancel_with_nothing_running_is_200_empty(emu):
    st, h, doc = emu.api("POST", OFFER + "/contoso-draft/cancel")
    assert st == 200 and doc is None
    assert "location" not in h and "operation-location" not in h


def test_cancel_async_makes_cancel_operation(start):
    e = start()
    st, h, _ = e.api("POST", OFFER + "/contoso-app/cancel",
                     {"metadata": {"notification-emails": "x@y.com"}})
    assert st == 202 and h["location"] == h["operation-location"]
    cancel = op_path(h["location"])
    assert e.api("GET", cancel, query=None)[2]["submissionType"] == "cancel"
    # while the cancel runs nothing else may start
    assert e.api("POST", OFFER + "/contoso-app/publish")[0] == 409
    e.tick()
    assert e.api("GET", cancel, query=None)[2]["status"] == "completed"
    _, _, target = e.api("GET", OFFER + f"/contoso-app/operations/{OPS[11]}")
    assert target["status"] == "canceled"
    assert target["steps"][1]["status"] == "canceled"
    assert e.api("GET", OFFER + "/contoso-app")[2]["status"] == "canceled"
    subs = e.api("GET", OFFER + "/contoso-app/submissions/?status=canceled")[2]
    assert [s["id"] for s in subs] == [OPS[11]]
    assert e.api("POST", OFFER + "/contoso-app/publish")[0] == 202


def test_cancel_sync_mode(start):
    e = start("--cancel-mode=sync")
    st, h, doc = e.api("POST", OFFER + "/contoso-app/cancel")
    assert st == 200 and "location" not in h
    _, _, op = e.api("GET", OFFER + f"/contoso-app/operations/{OPS[11]}")
    assert op["status"] == "canceled"


def test_seeded_running_operation_advances_on_tick(start):
    e = start()
    e.tick(2)
    _, _, op = e.api("GET", OFFER + f"/contoso-app/operations/{OPS[11]}")
    assert op["status"] == "running" and op["steps"][3]["status"] == "inProgress"
    assert e.raw("POST", "/_emulator/tick?n=1")[0] == 200
    _, _, op = e.api("GET", OFFER + f"/contoso-app/operations/{OPS[11]}")
    assert op["status"] == "completed"
    assert e.api("GET", OFFER + "/contoso-app")[2]["status"] == "waitingForPublisherReview"


def test_step_ms_clock_advances_without_tick(start):
    e = start("--step-ms", "20")
    new_offer(e, "clocked")
    loc = op_path(publish(e, "clocked")["location"])
    deadline = time.time() + 10
    while time.time() < deadline:
        if e.api("GET", loc, query=None)[2]["status"] == "completed":
            break
        time.sleep(0.05)
    assert e.api("GET", OFFER + "/clocked/status")[2]["status"] == "waitingForPublisherReview"


def test_submissions_newest_first_and_filtered(emu):
    st, _, subs = emu.api("GET", OFFER + "/contoso-vm/submissions/")
    assert st == 200
    assert [s["id"] for s in subs] == [OPS[4], OPS[3], OPS[2], OPS[1]]
    s = subs[0]
    assert s["submissionType"] == "goLive" and s["submissionState"] == "completed"
    assert s["status"] == s["submissionState"] and s["error"] is None
    assert s["offerId"] == "contoso-vm" and s["publisherId"] == "contoso"
    assert s["definition"]["metadata"]["emails"] == "jdoe@contoso.com"
    assert subs[1]["slot"] == "staging"
    assert isinstance(s["version"], int) and s["version"] > 2 ** 53
    assert {"createdDateTime", "lastActionDateTime", "changedTime",
            "publishingVersion", "offerVersion", "offerTypeId"} <= set(s)
    assert len(emu.api("GET", OFFER + "/contoso-vm/submissions/?status=COMPLETED")[2]) == 4
    assert emu.api("GET", OFFER + "/contoso-vm/submissions/?status=running")[2] == []
    got = emu.api("GET", OFFER + "/contoso-app/submissions/?submissionState=Running")[2]
    assert [x["id"] for x in got] == [OPS[11]]
    failed = emu.api("GET", OFFER + "/contoso-failed/submissions?status=failed")[2]
    assert failed[0]["error"]


def test_get_operation_path_forms(emu):
    base = OFFER + f"/contoso-vm/operations/{OPS[3]}"
    for path in (base, base + "/"):
        st, _, op = emu.api("GET", path)
        assert st == 200 and op["id"] == OPS[3] and op["status"] == "completed"
        assert isinstance(op, dict) and op["publishingVersion"] >= 1
    st, _, doc = emu.api("GET", OFFER + "/contoso-vm/operations/no-such-op")
    assert st == 404 and doc["error"]["code"] == "NotFound"


def test_legacy_locations_with_dollar_ids(start):
    e = start("--legacy-locations")
    new_offer(e, "legacy")
    h = publish(e, "legacy")
    loc = h["location"]
    assert h["operation-location"] == loc
    assert re.fullmatch(r"/api/operations/contoso\$legacy\$\d+\$preview\?api-version=2017-10-31", loc)
    opid = loc.split("/")[3].split("?")[0]
    raw = e.api("GET", f"/api/operations/{opid}")
    enc = e.api("GET", "/api/operations/" + urllib.parse.quote(opid, safe=""))
    nested = e.api("GET", OFFER + "/legacy/operations/" + opid.replace("$", "%24"))
    for st, _, op in (raw, enc, nested):
        assert st == 200 and op["id"] == opid
    subs = e.api("GET", OFFER + "/legacy/submissions/")[2]
    assert subs[0]["id"] == opid
    assert e.api("GET", "/api/operations/contoso$legacy$99$preview")[0] == 404
    assert e.api("GET", f"/api/operations/{opid}", token="contoso-only")[0] == 200


def test_status_dialect_observed(start):
    e = start("--status-dialect=observed")
    _, _, op = e.api("GET", OFFER + f"/contoso-vm/operations/{OPS[1]}")
    assert op["status"] == "complete"
    subs = e.api("GET", OFFER + "/contoso-vm/submissions/?status=completed")[2]
    assert subs and subs[0]["submissionState"] == "complete"


def test_location_header_switches(start):
    e = start("--location-header=operation-location")
    new_offer(e, "hdr")
    h = publish(e, "hdr")
    assert "operation-location" in h and "location" not in h
    e = start("--location-header=location")
    new_offer(e, "hdr")
    h = publish(e, "hdr")
    assert "location" in h and "operation-location" not in h


def test_absolute_locations(start):
    e = start("--absolute-locations")
    new_offer(e, "abs")
    loc = publish(e, "abs")["location"]
    assert loc.startswith(e.url + "/api/publishers/contoso/offers/abs/operations/")
    assert e.api("GET", op_path(loc), query=None)[0] == 200


def test_no_get_etag(start):
    e = start("--no-get-etag")
    for path in ("/contoso-vm", "/contoso-vm/slot/draft", "/contoso-vm/versions/1"):
        st, h, _ = e.api("GET", OFFER + path)
        assert st == 200 and "etag" not in h
    st, h, _ = e.api("PUT", OFFER + "/contoso-vm", {"definition": {}},
                     headers={"If-Match": "*"})
    assert st == 200 and ETAG_RE.match(h["etag"])


def test_retry_after_flag(start):
    e = start("--retry-after", "3")
    new_offer(e, "ra")
    h = publish(e, "ra")
    assert h["retry-after"] == "3"
    assert e.api("GET", op_path(h["location"]), query=None)[1]["retry-after"] == "3"
    e.tick(5)
    assert "retry-after" not in e.api("GET", op_path(h["location"]), query=None)[1]


def test_signoff_style_observed(start):
    e = start("--signoff-style=observed")
    _, _, doc = e.api("GET", OFFER + "/contoso-review/status")
    assert doc["status"] == "running"
    assert doc["steps"][4]["status"] == "waitingForPublisherReview"
    assert e.api("POST", OFFER + "/contoso-review/golive")[0] == 202


# ---------------------------------------------------------------- auth

def token_request(e, tenant="contoso-tenant", v2=False, **form):
    fields = {"grant_type": "client_credentials",
              "client_id": "11111111-2222-3333-4444-555555555555",
              "client_secret": "s3cret-value"}
    if v2:
        fields["scope"] = "https://cloudpartner.azure.com/.default"
    else:
        fields["resource"] = "https://cloudpartner.azure.com"
    fields.update(form)
    path = f"/{tenant}/oauth2/v2.0/token" if v2 else f"/{tenant}/oauth2/token"
    st, _, data = e.raw("POST", path, urllib.parse.urlencode(fields),
                        {"Content-Type": "application/x-www-form-urlencoded"})
    return st, json.loads(data)


def test_token_endpoint_v1_issues_working_token(emu):
    st, doc = token_request(emu)
    assert st == 200
    assert doc["token_type"] == "Bearer"
    assert doc["expires_in"] == "3600" and doc["expires_on"].isdigit()
    assert int(doc["expires_on"]) - int(doc["not_before"]) == 3600
    assert doc["resource"] == "https://cloudpartner.azure.com"
    tok = doc["access_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", tok)
    st, _, pubs = emu.api("GET", "/api/publishers", token=tok)
    assert st == 200 and [p["id"] for p in pubs] == ["contoso", "fabrikam"]
    assert emu.api("GET", "/api/publishers/northwind/offers", token=tok)[0] == 403
    assert emu.api("GET", "/api/publishers/fabrikam/offers", token=tok)[0] == 200


def test_token_endpoint_v2(emu):
    st, doc = token_request(emu, v2=True)
    assert st == 200 and isinstance(doc["expires_in"], int)
    assert emu.api("GET", "/api/offerTypes", token=doc["access_token"])[0] == 200
    st, doc = token_request(emu, v2=True, scope="https://management.azure.com/.default")
    assert st == 400 and doc["error"] == "invalid_scope"


def test_token_endpoint_errors(emu):
    st, doc = token_request(emu, client_secret="wrong")
    assert st == 401 and doc["error"] == "invalid_client"
    assert doc["error_description"].startswith("AADSTS")
    assert {"error_codes", "timestamp", "trace_id", "correlation_id"} <= set(doc)
    st, doc = token_request(emu, client_id="99999999-2222-3333-4444-555555555555")
    assert st == 401 and doc["error"] == "invalid_client"
    st, doc = token_request(emu, resource="https://management.azure.com")
    assert st == 400 and doc["error"] == "invalid_resource"
    st, doc = token_request(emu, grant_type="password")
    assert st == 400 and doc["error"] == "unsupported_grant_type"


def test_issued_token_expires(start):
    e = start("--token-ttl", "1")
    st, doc = token_request(e)
    assert st == 200 and doc["expires_in"] == "1"
    tok = doc["access_token"]
    assert e.api("GET", "/api/publishers", token=tok)[0] == 200
    time.sleep(1.3)
    st, h, doc = e.api("GET", "/api/publishers", token=tok)
    assert st == 401 and "invalid_token" in h["www-authenticate"]


def test_static_token_flag(start):
    e = start("--token", "cli-token", "--token", "second")
    for t in ("cli-token", "second", "sandbox-token"):
        assert e.api("GET", "/api/publishers", token=t)[0] == 200


def test_api_version_missing_or_wrong_is_400(emu):
    for query in (None, "api-version=2016-08-01-preview", "x=1"):
        st, _, doc = emu.api("GET", "/api/publishers", query=query)
        assert st == 400
        assert doc["error"]["code"] == "InvalidAPIVersion"
        assert "2017-10-31" in doc["error"]["message"]
    # checked before the token
    assert emu.api("GET", "/api/publishers", query=None, token=None)[0] == 400


def test_missing_or_unknown_token_is_401(emu):
    for token in (None, "nope"):
        st, h, doc = emu.api("GET", OFFER, token=token)
        assert st == 401
        assert h["www-authenticate"] == 'Bearer error="invalid_token"'
        assert doc["error"]["code"] == "Unauthorized"
    st, _, _ = emu.api("GET", OFFER, headers={"Authorization": "Basic abc"}, token=None)
    assert st == 401


def test_publisher_not_granted_is_403(emu):
    for path in ("/api/publishers/fabrikam/offers",
                 "/api/publishers/fabrikam/offers/fabrikam-corevm",
                 "/api/publishers/northwind/offers/northwind-vm/status",
                 "/api/publishers/northwind/offers/nope",
                 f"/api/publishers/fabrikam/offers/fabrikam-corevm/operations/{OPS[41]}"):
        st, _, doc = emu.api("GET", path, token="contoso-only")
        assert st == 403, path
        assert doc == {"error": {"code": "Forbidden",
                                 "message": "User does not have the required permissions"}}
    st, _, _ = emu.api("POST", "/api/publishers/fabrikam/offers/fabrikam-corevm/publish",
                       token="contoso-only")
    assert st == 403
    assert emu.api("GET", OFFER + "/contoso-vm", token="contoso-only")[0] == 200


def test_not_found_is_404(emu):
    for path in ("/api/publishers/nobody/offers",
                 OFFER + "/no-such-offer",
                 OFFER + "/no-such-offer/status",
                 OFFER + "/contoso-vm/bogus",
                 "/api/nothing-here"):
        st, _, doc = emu.api("GET", path)
        assert st == 404, path
        assert doc["error"]["code"] == "NotFound"
    assert emu.api("POST", OFFER + "/no-such-offer/publish")[0] == 404


def test_percent_encoded_offer_ids(emu):
    st, _, _ = emu.api("PUT", OFFER + "/odd%24id", {"definition": {"plans": [{}]}})
    assert st == 201
    st, _, doc = emu.api("GET", OFFER + "/odd$id")
    assert st == 200 and doc["id"] == "odd$id"
    assert emu.api("GET", "/api/publishers/cont%6Fso/offers/odd%24id")[0] == 200


# ---------------------------------------------------------------- control

def test_request_log_records_raw_requests(emu):
    emu.api("PUT", OFFER + "/log%24me", {"definition": {}},
            headers={"X-Custom-Thing": "yes"})
    emu.raw("GET", "/_emulator/state")
    log = emu.requests()
    assert len(log) == 1
    r = log[0]
    assert r["method"] == "PUT"
    assert r["path"] == OFFER + "/log%24me"
    assert r["query"] == API
    assert r["headers"]["authorization"] == "Bearer sandbox-token"
    assert r["headers"]["x-custom-thing"] == "yes"
    assert json.loads(r["body"]) == {"definition": {}}
    assert not r.get("fault")
    emu.api("GET", "/api/offerTypes", query=None)
    assert emu.requests()[-1]["query"] == ""
    assert emu.raw("DELETE", "/_emulator/requests")[0] == 200
    assert emu.requests() == []


def test_fault_status_with_retry_after_and_count(emu):
    emu.fault(method="GET", path="/api/publishers/contoso/offers*", count=2,
              status=503, retry_after=2)
    for _ in range(2):
        st, h, doc = emu.api("GET", OFFER + "/contoso-vm")
        assert st == 503 and h["retry-after"] == "2" and "error" in doc
    assert emu.api("GET", OFFER + "/contoso-vm")[0] == 200
    # the method filter: a PUT never matched
    log = emu.requests()
    assert [r.get("fault", False) for r in log] == [True, True, False]


def test_fault_body_and_method_filter(emu):
    emu.fault(method="POST", path="/api/*", status=429, body='{"custom": true}')
    assert emu.api("GET", "/api/publishers")[0] == 200
    st, _, doc = emu.api("POST", OFFER + "/contoso-draft/cancel")
    assert st == 429 and doc == {"custom": True}


def test_fault_forever_and_clear(emu):
    emu.fault(path="/api/offerTypes", count=-1, status=500)
    for _ in range(3):
        assert emu.api("GET", "/api/offerTypes")[0] == 500
    assert emu.raw("DELETE", "/_emulator/faults")[0] == 200
    assert emu.api("GET", "/api/offerTypes")[0] == 200


def test_fault_drop_closes_connection(emu):
    emu.fault(path="/api/publishers", action="drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        emu.api("GET", "/api/publishers")
    assert emu.api("GET", "/api/publishers")[0] == 200
    assert emu.requests()[0]["fault"] is True


def test_fault_truncate_sends_half_body(emu):
    full = emu.raw("GET", "/api/publishers?" + API,
                   headers={"Authorization": "Bearer " + TOKEN})[2]
    emu.fault(path="/api/publishers", action="truncate")
    with socket.create_connection((emu.host, emu.port), timeout=5) as s:
        s.sendall(("GET /api/publishers?%s HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % (API, TOKEN)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0]
    assert re.search(rb"(?i)content-length: %d\r?\n?" % len(full), head + b"\r\n")
    assert 0 < len(body) < len(full) and full.startswith(body)


def test_fault_malformed_body(emu):
    emu.fault(path="/api/publishers/contoso/offers/contoso-vm", action="malformed")
    st, _, data = emu.raw("GET", OFFER + "/contoso-vm?" + API,
                          headers={"Authorization": "Bearer " + TOKEN})
    assert st == 200 and data == b'{"broken": '
    with pytest.raises(ValueError):
        json.loads(data)


def test_fault_delay_then_normal_answer(emu):
    emu.fault(path="/api/offerTypes", delay_ms=400)
    t0 = time.monotonic()
    st, _, _ = emu.api("GET", "/api/offerTypes")
    assert st == 200 and time.monotonic() - t0 >= 0.35


def test_fault_location_makes_a_redirect(emu):
    elsewhere = "http://127.0.0.1:9/api/publishers?" + API
    emu.fault(method="GET", path="/api/offerTypes", status=307,
              location=elsewhere)
    st, h, doc = emu.api("GET", "/api/offerTypes")
    assert st == 307 and h["location"] == elsewhere
    assert doc["error"]["code"] == "InjectedFault"
    assert emu.api("GET", "/api/offerTypes")[0] == 200


def test_fault_location_alone_replaces_the_real_answers(emu):
    new_offer(emu, "loc-only")
    emu.fault(method="POST", path=OFFER + "/loc-only/publish",
              location="https://other.example/op")
    h = publish(emu, "loc-only")
    assert h["location"] == "https://other.example/op"
    assert h["operation-location"].startswith(OFFER + "/loc-only/operations/")


def test_fault_location_must_be_one_header_line(emu):
    for bad in ({"path": "/x", "location": 5},
                {"path": "/x", "location": "/a\r\nSet-Cookie: x=1"}):
        st, _, data = emu.raw("POST", "/_emulator/faults", bad)
        assert st == 400 and b"location" in data
    assert emu.api("GET", "/api/offerTypes")[0] == 200


def test_fault_applies_to_token_endpoint(emu):
    emu.fault(path="/*/oauth2/token", status=503)
    st, _ = token_request(emu)
    assert st == 503
    assert token_request(emu)[0] == 200


def test_bad_fault_rule_is_400(emu):
    assert emu.raw("POST", "/_emulator/faults", {"status": 500})[0] == 400
    assert emu.raw("POST", "/_emulator/faults", {"path": "/x", "action": "explode"})[0] == 400
    assert emu.raw("POST", "/_emulator/faults", "nonsense")[0] == 400


def test_state_dump(emu):
    st, _, data = emu.raw("GET", "/_emulator/state")
    doc = json.loads(data)
    assert st == 200
    assert [p["id"] for p in doc["publishers"]] == ["contoso", "fabrikam", "northwind"]
    assert emu.requests() == []


def test_latency_flag(start):
    e = start("--latency-ms", "200")
    t0 = time.monotonic()
    assert e.api("GET", "/api/offerTypes")[0] == 200
    assert time.monotonic() - t0 >= 0.18


def test_keepalive_many_requests_fast(emu):
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=10)
    t0 = time.monotonic()
    for _ in range(500):
        conn.request("GET", OFFER + "/contoso-draft/status?" + API,
                     headers={"Authorization": "Bearer " + TOKEN})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    conn.close()
    assert time.monotonic() - t0 < 5


def test_delayed_request_does_not_stall_others(emu):
    import threading
    emu.fault(path="/api/offerTypes", delay_ms=3000)
    slow = []
    t = threading.Thread(target=lambda: slow.append(emu.api("GET", "/api/offerTypes")[0]))
    t.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    for _ in range(8):  # fresh connections land on every pool thread
        assert emu.api("GET", "/api/publishers")[0] == 200
    # Well before the slow answer: none of them waited behind it.
    assert time.monotonic() - t0 < 2.5
    t.join()
    assert slow == [200]


def test_shutdown_with_a_delayed_request_pending(start):
    import threading
    e = start()
    e.fault(path="/api/offerTypes", delay_ms=30000)
    def pending():
        try:  # answered or cut off: both fine while shutting down
            e.api("GET", "/api/offerTypes")
        except (http.client.HTTPException, OSError):
            pass
    t = threading.Thread(target=pending, daemon=True)
    t.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    e.proc.terminate()
    assert e.proc.wait(10) == 0 and time.monotonic() - t0 < 5
