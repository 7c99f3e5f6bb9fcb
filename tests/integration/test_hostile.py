"""Hostile input (issue 7): names a user (or a script) passes, ids a
server puts in listings, a response larger than partnerfs accepts,
redirects and operation Locations that point to another host, and TLS
verification against a self-signed certificate.

The TLS tests run the emulator in its HTTPS mode (--tls-cert/--tls-key,
conftest's 'cert' fixture): partnerfs talks TLS to the emulator itself.
Redirects and foreign Locations are scripted with the emulator's faults
("status" + "location", or "location" alone on a real 202);
"another host" is a small recording HTTP server on 127.0.0.1 with a port
of its own (another origin to partnerfs), so a request that reached it
would be counted there.

test_tree.py has the basic invalid-name table (%2e%2e, %2F, control
bytes, 256 bytes); redirects that are not followed and Locations on other
hosts are also unit-tested in tests/unit/test_wire.c and fuzzed
(tests/fuzz/fuzz_location.c).

    /usr/bin/python3 -m pytest -q --timeout 60 tests/integration/test_hostile.py
"""
import errno
import http.server
import json
import os
import threading
import time

import pytest

from ophelpers import API_VERSION, fs_requests, read_text
from util import errno_of, run

OFFERS = "/api/publishers/contoso/offers"


# ------------------------------------------------------------- names

@pytest.mark.parametrize("name,encoded", [
    ("caf\u00e9", "caf%C3%A9"),
    ("\u65e5\u672c", "%E6%97%A5%E6%9C%AC"),
    ("a..b", "a..b"),
    ("...", "..."),
    ("x?y#z", "x%3Fy%23z"),
    ("\u00e9" * 127, "%C3%A9" * 127),  # 254 bytes
])
def test_odd_but_valid_names_are_one_encoded_segment(emu, mnt, name,
                                                     encoded):
    os.listdir(mnt.p("publishers"))
    emu.clear_requests()
    assert errno_of(os.stat, mnt.p("publishers", name)) == errno.ENOENT
    paths = [r["path"] for r in fs_requests(emu)]
    assert paths == [f"/api/publishers/{encoded}/offers"]


@pytest.mark.parametrize("name", [
    "\u00e9" * 128,          # 256 bytes of UTF-8
    "a\x00b"[:1] + "\x1b[31m",  # an escape sequence
    "line\nbreak", "..\x01", "%2e%2e%2f%2e%2e", "a%00b",
])
def test_hostile_names_send_nothing(emu, mnt, name):
    os.listdir(mnt.p("publishers"))
    emu.clear_requests()
    for p in (mnt.p("publishers", name),
              mnt.p("publishers", "contoso", "offers", name, "status")):
        try:
            os.stat(p)
            pytest.fail(f"{p!r} exists")
        except OSError as e:
            assert e.errno in (errno.ENOENT, errno.ENAMETOOLONG), p
    assert fs_requests(emu) == []


def test_dotdot_is_the_kernels_and_never_reaches_the_api(emu, mnt):
    o = mnt.p("publishers", "contoso", "offers")
    os.listdir(o)
    emu.clear_requests()
    up = os.path.join(o, "contoso-vm", "..", "..", "..")
    assert sorted(os.listdir(up)) == sorted(os.listdir(mnt.p("publishers")))
    assert not [r for r in fs_requests(emu) if ".." in r["path"]]


# ------------------------------------------------- ids in server listings

@pytest.fixture
def evil_seed(tmpdir_short):
    offer = {"offerTypeId": "microsoft-azure-corevm",
             "definition": {"displayText": "x", "plans": []}}
    seed = {
        "tokens": [{"token": "sandbox-token"}],
        "publishers": [
            {"id": "good", "offers": [
                dict(offer, id=i) for i in
                ["../../etc", "a/b", "..", ".", "ok-offer", "sp ace",
                 "ctl\u0007", "pct%2F", "back\\slash"]]},
            {"id": "../up", "offers": []},
            {"id": "a/b", "offers": []},
        ],
    }
    path = os.path.join(tmpdir_short, "evil-seed.json")
    with open(path, "w") as f:
        json.dump(seed, f)
    return path


def test_listing_ids_that_would_traverse_are_skipped(make_emulator,
                                                     make_mount, evil_seed):
    emu = make_emulator("--seed", evil_seed)
    m = make_mount(emu)
    assert os.listdir(m.p("publishers")) == ["good"]
    assert os.listdir(m.p("publishers", "good", "offers")) == ["ok-offer"]
    log = m.log()
    assert "listing: skipping entry" in log
    # Nothing outside the mount appeared, and no URL was built from them.
    paths = [r["path"] for r in fs_requests(emu)]
    assert set(paths) == {"/api/publishers", "/api/publishers/good/offers"}
    assert json.loads(read_text(m.offer("ok-offer", "offer.json",
                                        pub="good")))["id"] == "ok-offer"
    r = run(["find", m.path, "-name", "*etc*"])
    assert r.stdout == "" and r.returncode == 0


# ----------------------------------------------------- huge responses

def test_a_response_over_the_cap_is_efbig_with_a_clear_error(
        make_emulator, make_mount, tmpdir_short):
    big = {"offerTypeId": "microsoft-azure-corevm", "id": "huge",
           "definition": {"displayText": "big", "plans": [],
                          "blob": "x" * (65 * 1024 * 1024)}}
    seed = {"tokens": [{"token": "sandbox-token"}],
            "publishers": [{"id": "contoso", "offers": [
                big, {"offerTypeId": "microsoft-azure-corevm",
                      "id": "small", "definition": {"plans": []}}]}]}
    path = os.path.join(tmpdir_short, "huge-seed.json")
    with open(path, "w") as f:
        json.dump(seed, f)
    emu = make_emulator("--seed", path)
    m = make_mount(emu, "retries=3,timeout=30")
    assert sorted(os.listdir(m.p("publishers", "contoso", "offers"))) == \
        ["huge", "small"]
    emu.clear_requests()
    assert errno_of(read_text, m.offer("huge", "offer.json")) == errno.EFBIG
    # Not retried: the answer would be as large the next time.
    assert len(fs_requests(emu, path=OFFERS + "/huge")) == 1
    assert "response too large" in read_text(m.p(".partnerfs", "last-error"))
    assert json.loads(read_text(m.offer("small", "offer.json")))["id"] == \
        "small"


def test_a_redirect_is_not_followed(emu, make_mount):
    m = make_mount(emu, "retries=3")
    os.listdir(m.p("publishers", "contoso", "offers"))
    path = OFFERS + "/contoso-vm/status"
    emu.fault(method="GET", path=path, status=302, count=1,
              body='{"moved":"elsewhere"}')
    emu.clear_requests()
    assert errno_of(read_text, m.offer("contoso-vm", "status")) == errno.EIO
    assert [r["path"] for r in fs_requests(emu)] == [path]
    assert "302" in read_text(m.p(".partnerfs", "last-error"))


# -------------------------------------------------- another host

class OtherHost:
    """'Another host': an HTTP server on a 127.0.0.1 port of its own that
    records every connection and request, and answers each request 200
    with a plausible status document, so a followed redirect would look
    like success."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                with me.lock:
                    me.requests.append((self.command, self.path,
                                        dict(self.headers)))
                body = b'{"status": "succeeded", "steps": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = answer

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address):
                with me.lock:
                    me.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def other_host():
    h = OtherHost()
    yield h
    h.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_reaches_nothing_there(
        emu, make_mount, other_host, status):
    m = make_mount(emu, "retries=3")
    os.listdir(m.p("publishers", "contoso", "offers"))
    path = OFFERS + "/contoso-vm/status"
    emu.fault(method="GET", path=path, status=status, count=1,
              location=f"{other_host.url}{path}?{API_VERSION}")
    emu.clear_requests()
    assert errno_of(read_text, m.offer("contoso-vm", "status")) == errno.EIO
    # Answered as is: not followed, not retried.
    assert [(r["path"], r["status"]) for r in fs_requests(emu)] == \
        [(path, status)]
    assert str(status) in read_text(m.p(".partnerfs", "last-error"))
    # Not a connection, so not a request and never the bearer token.
    assert other_host.connections == 0 and other_host.requests == []
    # The redirect was one answer; the mount goes on working.
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    assert other_host.connections == 0


def test_an_operation_location_on_another_host_is_never_polled(
        make_emulator, make_mount, other_host):
    # Only Location, so there is no same-host Operation-Location to use.
    emu = make_emulator("--location-header=location")
    m = make_mount(emu, "poll_interval=0.2")
    publish = m.offer("contoso-draft", "publish")
    path = OFFERS + "/contoso-draft/publish"
    emu.fault(method="POST", path=path,
              location=f"{other_host.url}/api/operations/x?{API_VERSION}")
    emu.clear_requests()
    with open(publish, "w") as f:
        f.write("a@x.com\n")
    # The publish itself was accepted, once.
    assert [r["status"] for r in fs_requests(emu, path=path)] == [202]
    assert "status: 202\n" in read_text(publish)
    assert "operation location" in read_text(m.p(".partnerfs", "last-error"))
    # Several poll intervals later, still nothing went there.
    time.sleep(1)
    assert other_host.connections == 0 and other_host.requests == []


# --------------------------------------------------------------- TLS

def tls_emulator(make_emulator, cert):
    e = make_emulator("--tls-cert", cert[0], "--tls-key", cert[1])
    assert e.url.startswith("https://localhost:")
    return e


def test_tls_is_verified_by_default(make_emulator, make_mount, cert):
    emu = tls_emulator(make_emulator, cert)
    m = make_mount(emu, expect_fail=True)
    assert m.proc.wait(20) == 1
    err = m.log()
    port = emu.url.rsplit(":", 1)[1]
    # One line that names the endpoint; curl's own words ("certificate")
    # are not passed up to it yet.
    assert err.startswith(f"partnerfs: {emu.url}: transport error "
                          f"talking to localhost:{port}"), err
    assert err.count("\n") == 1, err
    assert not os.path.ismount(m.path)
    # The handshake failed: no request, so no token, reached the server.
    assert emu.requests(api_only=False) == []


def test_tls_works_with_cafile(make_emulator, make_mount, cert):
    emu = tls_emulator(make_emulator, cert)
    m = make_mount(emu, f"cafile={cert[0]}")
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    reqs = fs_requests(emu)
    assert reqs and all(r["headers"]["authorization"] ==
                        "Bearer sandbox-token" for r in reqs)
