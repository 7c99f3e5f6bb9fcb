"""The read-only tree (doc/design.md §1, §2 errno table, §5 caching), driven
with real shell tools and Python os calls against a real mount backed by
the emulator over real HTTP.

Each test asserts what a user sees and what the server received
(emu.requests(): method, path, query, headers, body).

    /usr/bin/python3 -m pytest -q --timeout 60 tests/integration/test_tree.py
"""
import collections
import errno
import filecmp
import json
import os
import re
import time

import pytest

from util import errno_of, read, read_bytes, run, wait_for

API_QUERY = "api-version=2017-10-31"
OFFERS = "/api/publishers/contoso/offers"
VM = OFFERS + "/contoso-vm"
SEEDED_CONTOSO = ["contoso-app", "contoso-draft", "contoso-failed",
                  "contoso-noplans", "contoso-review", "contoso-vm"]


# ---------------------------------------------------------------- helpers

def api_get(emu, path, token="sandbox-token"):
    """A direct GET of the emulator: (status, parsed JSON, headers)."""
    import urllib.request
    import urllib.error
    sep = "&" if "?" in path else "?"
    req = urllib.request.Request(emu.url + path + sep + API_QUERY,
                                 headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, None, dict(e.headers)


def gets_by_path(emu):
    """Counter of GET paths the emulator received (API paths only)."""
    return collections.Counter(r["path"] for r in emu.requests()
                               if r["method"] == "GET")


def walk_files(root):
    """Every non-symlink file under root, as os.walk sees it."""
    for d, dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            if not os.path.islink(p):
                yield p


# ------------------------------------------------------------- tree shape

def test_root_has_publishers_events_and_partnerfs(mnt):
    assert sorted(os.listdir(mnt.path)) == [".partnerfs", "events",
                                            "publishers"]
    out = run(["ls", "-a", mnt.path], check=True).stdout.split()
    assert out == [".", "..", ".partnerfs", "events", "publishers"]
    assert sorted(os.listdir(mnt.p(".partnerfs"))) == [
        "config", "last-error", "stats", "version"]


def test_publishers_are_listed_from_get_api_publishers(emu, mnt):
    emu.clear_requests()
    out = run(["ls", mnt.p("publishers")], check=True).stdout.split()
    assert out == ["contoso", "fabrikam", "northwind"]
    reqs = [r for r in emu.requests() if r["path"] == "/api/publishers"]
    assert len(reqs) == 1
    r = reqs[0]
    assert r["method"] == "GET"
    assert r["query"] == API_QUERY
    assert r["headers"]["authorization"] == "Bearer sandbox-token"
    assert r["body"] == ""


def test_publishers_option_is_the_listing_and_api_is_never_asked(
        emu, make_mount):
    m = make_mount(emu, "publishers=fabrikam,contoso")
    out = run(["ls", "-U", m.p("publishers")], check=True).stdout.split()
    assert out == ["fabrikam", "contoso"]
    run(["ls", "-l", m.p("publishers")], check=True)
    # Not at start-up either: the whole request log since the emulator
    # started has no GET /api/publishers.
    assert "/api/publishers" not in gets_by_path(emu)


def test_unlisted_publisher_is_looked_up_on_demand(emu, make_mount):
    m = make_mount(emu, "publishers=contoso")
    emu.clear_requests()
    assert os.listdir(m.p("publishers")) == ["contoso"]
    out = run(["ls", m.p("publishers", "fabrikam", "offers")],
              check=True).stdout.split()
    assert out == ["fabrikam-canceled", "fabrikam-corevm"]
    gets = gets_by_path(emu)
    assert gets["/api/publishers/fabrikam/offers"] == 1
    assert "/api/publishers" not in gets
    assert read(m.offer("fabrikam-corevm", "status", pub="fabrikam")) == \
        "succeeded\n"


def test_unknown_publisher_is_enoent(emu, mnt):
    assert errno_of(os.stat, mnt.p("publishers", "nobody")) == errno.ENOENT
    assert errno_of(os.listdir, mnt.p("publishers", "nobody", "offers")) \
        == errno.ENOENT
    r = run(["ls", mnt.p("publishers", "nobody")])
    assert r.returncode == 2 and "No such file or directory" in r.stderr
    # Looked up on demand: its listing answered 404.
    reqs = [q for q in emu.requests()
            if q["path"] == "/api/publishers/nobody/offers"]
    assert reqs and all(q["status"] == 404 for q in reqs)


def test_publisher_the_token_may_not_see_is_eacces(make_emulator, make_mount):
    emu = make_emulator()
    m = make_mount(emu, token="contoso-only")
    assert os.listdir(m.p("publishers")) == ["contoso"]
    with pytest.raises(PermissionError):
        os.listdir(m.p("publishers", "northwind"))
    assert errno_of(os.stat, m.p("publishers", "northwind", "offers")) == \
        errno.EACCES
    r = run(["cat", m.offer("northwind-vm", "status", pub="northwind")])
    assert r.returncode == 1 and "Permission denied" in r.stderr
    # The API's own words reach the daemon log.
    assert wait_for(lambda: "User does not have the required permissions"
                    in m.log())
    reqs = [q for q in emu.requests()
            if q["path"] == "/api/publishers/northwind/offers"]
    assert reqs and reqs[0]["status"] == 403
    # contoso still works.
    assert read(m.offer("contoso-vm", "status")) == "succeeded\n"


# ---------------------------------------------------------- listing costs

@pytest.fixture
def emu50(make_emulator):
    return make_emulator("--offers", "50")


def test_ls_of_50_offers_is_one_request(emu50, make_mount):
    m = make_mount(emu50)
    emu50.clear_requests()
    out = run(["ls", m.p("publishers", "contoso", "offers")],
              check=True).stdout.split()
    assert len(out) == 56
    assert out[:6] == SEEDED_CONTOSO
    assert out[6] == "offer-00001" and out[-1] == "offer-00050"
    gets = gets_by_path(emu50)
    assert gets[OFFERS] == 1
    assert not [p for p in gets if p.startswith(OFFERS + "/")], gets
    assert all(r["method"] == "GET" for r in emu50.requests())

    # ls -l: attributes came with the listing; no per-offer request.
    emu50.clear_requests()
    r = run(["ls", "-l", m.p("publishers", "contoso", "offers")], check=True)
    lines = [ln for ln in r.stdout.splitlines() if not ln.startswith("total")]
    assert len(lines) == 56
    # u+w: an offer's directory takes scratch files beside offer.json.
    assert all(ln.startswith("drwxr-xr-x") for ln in lines), lines[:3]
    assert emu50.requests() == []

    # A second ls within cache_ttl asks nothing.
    run(["ls", m.p("publishers", "contoso", "offers")], check=True)
    assert emu50.requests() == []


def test_cache_ttl_0_lists_anew_each_time(emu50, make_mount):
    m = make_mount(emu50, "cache_ttl=0")
    emu50.clear_requests()
    for i in (1, 2):
        out = run(["ls", m.p("publishers", "contoso", "offers")],
                  check=True).stdout.split()
        assert len(out) == 56
        gets = gets_by_path(emu50)
        assert gets[OFFERS] >= i
        assert not [p for p in gets if p.startswith(OFFERS + "/")], gets
    assert gets_by_path(emu50)[OFFERS] >= 2


def test_listing_is_fetched_again_after_cache_ttl(emu, make_mount):
    m = make_mount(emu, "cache_ttl=1")
    d = m.p("publishers", "contoso", "offers")
    os.listdir(d)
    emu.clear_requests()
    os.listdir(d)
    assert gets_by_path(emu)[OFFERS] == 0
    time.sleep(1.2)
    assert sorted(os.listdir(d)) == SEEDED_CONTOSO
    assert gets_by_path(emu)[OFFERS] == 1


# ------------------------------------------------------------ offer files

def test_offer_json_is_the_api_document_pretty_printed(emu, mnt):
    text = read(mnt.offer("contoso-vm", "offer.json"))
    status, doc, _ = api_get(emu, VM)
    assert status == 200
    assert json.loads(text) == doc
    assert text.endswith("}\n")
    assert not text.endswith("\n\n")
    # pretty: one key per line, indented
    assert text.count("\n") > 50
    assert '\n  "id": "contoso-vm",\n' in text
    r = [q for q in emu.requests() if q["path"] == VM]
    assert r and r[0]["method"] == "GET" and r[0]["query"] == API_QUERY
    assert r[0]["headers"]["authorization"] == "Bearer sandbox-token"


@pytest.mark.parametrize("offer,word", [
    ("contoso-vm", "succeeded"),
    ("contoso-app", "running"),
    ("contoso-review", "waitingForPublisherReview"),
    ("contoso-draft", "neverPublished"),
    ("contoso-failed", "failed"),
])
def test_status_is_one_word_and_status_json_the_api_document(emu, mnt, offer,
                                                              word):
    assert read(mnt.offer(offer, "status")) == word + "\n"
    out = run(["cat", mnt.offer(offer, "status.json")], check=True).stdout
    status, doc, _ = api_get(emu, f"{OFFERS}/{offer}/status")
    assert status == 200
    assert json.loads(out) == doc and out.endswith("\n")
    assert doc["status"] == word


def test_st_size_is_what_cat_returns_for_every_file(mnt):
    now = time.time()
    seen = 0
    for p in walk_files(mnt.path):
        assert os.path.basename(p) != "wait", p
        st = os.stat(p)
        data = run(["cat", p], check=True).stdout.encode()
        assert st.st_size == len(data), p
        assert len(read_bytes(p)) == st.st_size, p
        assert 1e9 < st.st_mtime <= now + 2, (p, st.st_mtime)
        if data:
            assert data.endswith(b"\n"), p
        seen += 1
    # 9 offers, each with at least offer.json, status, status.json, three
    # controls and slots/draft.json
    assert seen > 9 * 7


def test_directories_have_a_meaningful_mtime(mnt):
    now = time.time()
    for d, dirs, _ in os.walk(mnt.path):
        for name in dirs:
            st = os.stat(os.path.join(d, name))
            assert 1e9 < st.st_mtime <= now + 2, (d, name)


def test_offer_json_mtime_survives_a_refetch_of_the_same_content(
        emu, make_mount):
    m = make_mount(emu, "cache_ttl=0")
    p = m.offer("contoso-vm", "offer.json")
    before = os.stat(p)
    time.sleep(1.1)
    emu.clear_requests()
    after = os.stat(p)
    text = read(p)
    assert gets_by_path(emu)[VM] >= 1  # it was fetched again
    assert after.st_mtime == before.st_mtime
    assert after.st_size == before.st_size == len(text.encode())

    # A change on the server moves it forward.
    _, doc, hdrs = api_get(emu, VM)
    doc["definition"]["displayText"] = "Renamed on the server"
    st, _ = emu.call("PUT", VM + "?" + API_QUERY, doc,
                     headers={"Authorization": "Bearer sandbox-token",
                              "If-Match": "*"})
    assert st == 200
    changed = os.stat(p)
    assert changed.st_mtime > before.st_mtime
    assert "Renamed on the server" in read(p)
    assert changed.st_size == len(read_bytes(p))


def test_modes(mnt):
    o = mnt.offer("contoso-vm")
    want = {
        mnt.path: 0o40555,
        mnt.p("publishers"): 0o40555,
        mnt.p("publishers", "contoso"): 0o40555,
        mnt.p("publishers", "contoso", "offers"): 0o40555,
        o: 0o40755,  # scratch files can be made beside offer.json
        os.path.join(o, "slots"): 0o40555,
        os.path.join(o, "versions"): 0o40555,
        os.path.join(o, "operations"): 0o40555,
        os.path.join(o, "offer.json"): 0o100644,
        os.path.join(o, "publish"): 0o100644,
        os.path.join(o, "golive"): 0o100644,
        os.path.join(o, "cancel"): 0o100644,
        os.path.join(o, "status"): 0o100444,
        os.path.join(o, "status.json"): 0o100444,
        os.path.join(o, "slots", "draft.json"): 0o100444,
        os.path.join(o, "slots", "preview.json"): 0o100444,
        os.path.join(o, "versions", "1.json"): 0o100444,
        mnt.p("events"): 0o100444,
        mnt.p(".partnerfs"): 0o40555,
        mnt.p(".partnerfs", "version"): 0o100444,
        mnt.p(".partnerfs", "config"): 0o100444,
        mnt.p(".partnerfs", "stats"): 0o100444,
        mnt.p(".partnerfs", "last-error"): 0o100444,
    }
    got = {p: os.stat(p).st_mode for p in want}
    assert {p: oct(m) for p, m in got.items()} == \
        {p: oct(m) for p, m in want.items()}
    # And ls -l agrees.
    ls = run(["ls", "-l", o], check=True).stdout
    assert re.search(r"^-r--r--r-- .* status$", ls, re.M)
    assert re.search(r"^-rw-r--r-- .* offer\.json$", ls, re.M)


@pytest.mark.parametrize("rel", ["status", "status.json", "slots/draft.json",
                                 "versions/2.json"])
def test_writing_a_read_only_file_is_eacces(emu, mnt, rel):
    p = mnt.offer("contoso-vm", *rel.split("/"))
    before = read(p)
    emu.clear_requests()
    for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC,
                  os.O_WRONLY | os.O_APPEND):
        assert errno_of(os.open, p, flags) == errno.EACCES
    r = run(["sh", "-c", f"echo x > '{p}'"])
    assert r.returncode != 0 and "Permission denied" in r.stderr
    assert errno_of(os.truncate, p, 0) == errno.EACCES
    assert not [q for q in emu.requests() if q["method"] != "GET"]
    assert read(p) == before


def test_namespace_changes_are_eperm_and_send_nothing(emu, mnt):
    o = mnt.offer("contoso-vm")
    offers = mnt.p("publishers", "contoso", "offers")
    # Warm the cache, then every refusal must be answered from memory.
    run(["ls", "-lR", o], check=True)
    run(["ls", "-l", offers, mnt.p("publishers")], check=True)
    emu.clear_requests()
    cases = [
        (os.mkdir, (os.path.join(offers, "new-offer"),)),
        (os.mkdir, (os.path.join(o, "newdir"),)),
        (os.rmdir, (os.path.join(o, "slots"),)),
        (os.rmdir, (o,)),
        (os.unlink, (os.path.join(o, "status"),)),
        (os.rename, (os.path.join(o, "status"), os.path.join(o, "s2"))),
        (os.rename, (o, os.path.join(offers, "contoso-vm2"))),
        (os.symlink, ("status", os.path.join(o, "link"))),
        (os.link, (os.path.join(o, "status"), os.path.join(o, "hard"))),
        (os.chmod, (os.path.join(o, "status"), 0o666)),
    ]
    for fn, args in cases:
        assert errno_of(fn, *args) == errno.EPERM, (fn.__name__, args)
    # Scratch files are made only beside documents (test_scratch.py).
    assert errno_of(os.open, os.path.join(o, "slots", "new-file"),
                    os.O_WRONLY | os.O_CREAT, 0o644) == errno.EPERM
    for cmd in (["mkdir", os.path.join(offers, "x")],
                ["rm", "-f", os.path.join(o, "status")],
                ["rm", "-rf", os.path.join(o, "slots")],
                ["mv", os.path.join(o, "status"), os.path.join(o, "st")],
                ["touch", os.path.join(o, "slots", "new-file")]):
        r = run(cmd)
        assert r.returncode != 0, cmd
        assert "Operation not permitted" in r.stderr, (cmd, r.stderr)
    assert emu.requests() == []
    assert sorted(os.listdir(o)) == sorted(
        ["offer.json", "status", "status.json", "publish", "golive",
         "cancel", "slots", "versions", "operations"])


# ---------------------------------------------------------- invalid names

BAD_NAMES = ["%2e%2e", "a%2fb", "con%toso", "bad\x01name", "tab\tname",
             "del\x7f", "sp ace", "back\\slash", "x" * 256]


@pytest.mark.parametrize("name", BAD_NAMES,
                         ids=lambda n: repr(n)[:20])
def test_invalid_names_are_enoent_without_a_request(emu, mnt, name):
    o = mnt.offer("contoso-vm")
    # Warm the listings the ancestors' checks use.
    os.listdir(o)
    os.listdir(os.path.join(o, "operations"))
    os.listdir(os.path.join(o, "versions"))
    emu.clear_requests()
    paths = [mnt.p("publishers", name),
             mnt.p("publishers", name, "offers"),
             mnt.p("publishers", "contoso", "offers", name),
             mnt.p("publishers", "contoso", "offers", name, "offer.json"),
             os.path.join(o, "versions", name + ".json"),
             os.path.join(o, "operations", name),
             os.path.join(o, "operations", name, "wait")]
    for p in paths:
        assert errno_of(os.stat, p) == errno.ENOENT, p
        assert errno_of(os.open, p, os.O_RDONLY) == errno.ENOENT, p
    assert emu.requests() == []


def test_255_byte_name_is_looked_up_and_256_is_not(emu, mnt):
    os.listdir(mnt.p("publishers"))
    emu.clear_requests()
    ok = "p" * 255
    assert errno_of(os.stat, mnt.p("publishers", ok)) == errno.ENOENT
    paths = [r["path"] for r in emu.requests()]
    assert "/api/publishers/" + ok + "/offers" in paths
    emu.clear_requests()
    assert errno_of(os.stat, mnt.p("publishers", "p" * 256)) == errno.ENOENT
    assert emu.requests() == []


def test_version_names_that_are_not_numbers_send_nothing(emu, mnt):
    v = mnt.offer("contoso-vm", "versions")
    assert sorted(os.listdir(v)) == ["1.json", "2.json"]
    emu.clear_requests()
    for name in ("0.json", "01.json", "-1.json", "1x.json", "1", "1.JSON",
                 "3.json", "99999999999999999999999.json"):
        assert errno_of(os.stat, os.path.join(v, name)) == errno.ENOENT, name
    assert not [r for r in emu.requests() if "/versions/" in r["path"]]


@pytest.fixture
def odd_seed(tmpdir_short):
    seed = {
        "tokens": [{"token": "sandbox-token"}],
        "publishers": [{
            "id": "acme@corp",
            "offers": [
                {"id": "vm$1@x", "offerTypeId": "microsoft-azure-corevm",
                 "definition": {"displayText": "dollar", "plans": []}},
                {"id": "caf\u00e9+plus", "offerTypeId":
                 "microsoft-azure-corevm",
                 "definition": {"displayText": "utf8", "plans": []}},
            ]}],
    }
    path = os.path.join(tmpdir_short, "odd-seed.json")
    with open(path, "w") as f:
        json.dump(seed, f)
    return path


def test_identifiers_are_percent_encoded_in_urls(make_emulator, make_mount,
                                                  odd_seed):
    emu = make_emulator("--seed", odd_seed)
    m = make_mount(emu)
    assert os.listdir(m.p("publishers")) == ["acme@corp"]
    assert sorted(os.listdir(m.p("publishers", "acme@corp", "offers"))) == \
        sorted(["vm$1@x", "caf\u00e9+plus"])
    emu.clear_requests()
    doc = json.loads(read(m.offer("vm$1@x", "offer.json", pub="acme@corp")))
    assert doc["id"] == "vm$1@x"
    assert read(m.offer("caf\u00e9+plus", "status", pub="acme@corp")) == \
        "neverPublished\n"
    paths = [r["path"] for r in emu.requests()]
    assert "/api/publishers/acme%40corp/offers/vm%241%40x" in paths
    assert "/api/publishers/acme%40corp/offers/caf%C3%A9%2Bplus/status" in \
        paths
    assert not [p for p in paths if "$" in p or "@" in p or "+" in p]
    url = os.getxattr(m.offer("vm$1@x", "offer.json", pub="acme@corp"),
                      "user.partnerfs.url").decode()
    assert url == (emu.url + "/api/publishers/acme%40corp/offers/"
                   "vm%241%40x?" + API_QUERY)


# ---------------------------------------------------------- errno mapping

ERROR_BODY = '{"error":{"code":"Injected","message":"injected %s for %s"}}'


@pytest.mark.parametrize("status,err", [
    (404, errno.ENOENT), (403, errno.EACCES), (400, errno.EINVAL),
    (422, errno.EINVAL), (409, errno.EBUSY), (500, errno.EIO),
    (502, errno.EIO), (503, errno.EAGAIN), (429, errno.EAGAIN),
])
def test_http_status_maps_to_errno(emu, make_mount, status, err):
    m = make_mount(emu, "cache_ttl=0,retries=1,timeout=5")
    p = m.offer("contoso-vm", "status.json")
    path = VM + "/status"
    # 429/503 are retried: both tries get the fault.
    count = 2 if status in (429, 503) else 1
    emu.fault(method="GET", path=path, status=status, count=count,
              body=ERROR_BODY % (status, "status.json"))
    emu.clear_requests()
    t0 = time.monotonic()
    assert errno_of(read_bytes, p) == err
    assert time.monotonic() - t0 < 4
    hits = [r for r in emu.requests() if r["path"] == path]
    assert [r["status"] for r in hits] == [status] * count
    msg = f"injected {status} for status.json"
    assert wait_for(lambda: msg in m.log()), m.log()
    if status != 404:  # a 404 is logged at info only (api.c)
        assert msg in read(m.p(".partnerfs", "last-error"))
    # The fault is used up: the same file reads again, the mount works.
    assert json.loads(read(p))["status"] == "succeeded"
    assert read(m.offer("contoso-vm", "status")) == "succeeded\n"


def test_503_retried_once_then_succeeds(emu, make_mount):
    m = make_mount(emu, "cache_ttl=0,retries=1,timeout=5")
    path = VM + "/status"
    emu.fault(method="GET", path=path, status=503, count=1,
              body=ERROR_BODY % (503, "retry"))
    emu.clear_requests()
    assert read(m.offer("contoso-vm", "status")) == "succeeded\n"
    hits = [r["status"] for r in emu.requests() if r["path"] == path]
    assert hits[:2] == [503, 200]


def test_dropped_connection_is_eio(emu, make_mount):
    m = make_mount(emu, "cache_ttl=0,retries=1,timeout=5")
    p = m.offer("contoso-vm", "status.json")
    # libcurl itself retries once on a reused connection that died, so
    # every try may take two drops: drop until told otherwise.
    emu.fault(method="GET", path=VM + "/status", action="drop", count=-1)
    emu.clear_requests()
    assert errno_of(read_bytes, p) == errno.EIO
    tries = [r for r in emu.requests() if r["path"] == VM + "/status"]
    assert 2 <= len(tries) <= 4 and all(r.get("fault") for r in tries)
    emu.call("DELETE", "/_emulator/faults")
    assert read(m.p(".partnerfs", "last-error")).strip()
    assert json.loads(read(p))["status"] == "succeeded"


def test_slow_server_past_timeout_is_etimedout(emu, make_mount):
    m = make_mount(emu, "cache_ttl=0,retries=1,timeout=1")
    p = m.offer("contoso-vm", "status.json")
    emu.fault(method="GET", path=VM + "/status", delay_ms=2500, count=1)
    t0 = time.monotonic()
    assert errno_of(read_bytes, p) == errno.ETIMEDOUT
    took = time.monotonic() - t0
    assert 0.8 < took < 2.4, took
    assert read(m.p(".partnerfs", "last-error")).strip()
    time.sleep(1.7)  # let the emulator finish the slow answer
    assert json.loads(read(p))["status"] == "succeeded"


def test_emulator_gone_is_ehostunreach(emu, make_mount):
    m = make_mount(emu, "retries=1,timeout=3")
    assert read(m.offer("contoso-vm", "status")) == "succeeded\n"
    emu.stop()
    t0 = time.monotonic()
    assert errno_of(read_bytes, m.offer("contoso-app", "status")) == \
        errno.EHOSTUNREACH
    assert time.monotonic() - t0 < 3
    assert read(m.p(".partnerfs", "last-error")).strip()
    # What is cached still reads; the mount is alive.
    assert read(m.offer("contoso-vm", "status")) == "succeeded\n"
    assert sorted(os.listdir(m.path)) == [".partnerfs", "events",
                                          "publishers"]


# ----------------------------------------------------------------- slots

def test_slots_are_the_api_slot_documents(emu, mnt):
    s = mnt.offer("contoso-vm", "slots")
    assert sorted(os.listdir(s)) == ["draft.json", "preview.json",
                                     "production.json"]
    for slot in ("draft", "preview", "production"):
        text = read(os.path.join(s, slot + ".json"))
        status, doc, _ = api_get(emu, f"{VM}/slot/{slot}")
        assert status == 200
        assert json.loads(text) == doc and text.endswith("}\n")
    paths = {r["path"] for r in emu.requests()}
    assert {VM + "/slot/draft", VM + "/slot/preview",
            VM + "/slot/production"} <= paths


def test_never_previewed_slot_is_enoent_and_not_listed(emu, mnt):
    s = mnt.offer("contoso-draft", "slots")
    assert errno_of(os.stat, os.path.join(s, "preview.json")) == errno.ENOENT
    assert errno_of(read_bytes, os.path.join(s, "production.json")) == \
        errno.ENOENT
    assert os.listdir(s) == ["draft.json"]
    assert sorted(os.listdir(mnt.offer("contoso-review", "slots"))) == \
        ["draft.json", "preview.json"]
    r = run(["ls", "-l", s])
    assert r.returncode == 0 and r.stderr == ""


# -------------------------------------------------------------- versions

def test_versions_are_listed_1_to_version(emu, mnt):
    v = mnt.offer("contoso-vm", "versions")
    out = run(["ls", v], check=True).stdout.split()
    assert out == ["1.json", "2.json"]
    for n in (1, 2):
        text = read(os.path.join(v, f"{n}.json"))
        status, doc, _ = api_get(emu, f"{VM}/versions/{n}")
        assert status == 200 and json.loads(text) == doc
        assert doc["version"] == n
    assert errno_of(os.stat, os.path.join(v, "3.json")) == errno.ENOENT


def test_never_published_offer_lists_no_versions(emu, mnt):
    for offer in ("contoso-draft", "contoso-app"):
        v = mnt.offer(offer, "versions")
        assert os.listdir(v) == [], offer
        assert errno_of(os.stat, os.path.join(v, "1.json")) == errno.ENOENT
        r = run(["ls", "-l", v])
        assert r.returncode == 0 and r.stderr == ""


# ---------------------------------------------------------------- xattrs

def test_xattrs_url_and_etag(emu, mnt):
    p = mnt.offer("contoso-vm", "offer.json")
    _, _, hdrs = api_get(emu, VM)
    etag = hdrs["ETag"]
    assert etag.startswith('W/"datetime\'')
    assert os.getxattr(p, "user.partnerfs.etag").decode() == etag
    assert os.getxattr(p, "user.partnerfs.url").decode() == \
        emu.url + VM + "?" + API_QUERY
    assert sorted(os.listxattr(p)) == ["user.partnerfs.etag",
                                       "user.partnerfs.url"]
    r = run(["getfattr", "-d", p], check=True)
    assert f'user.partnerfs.url="{emu.url}{VM}?{API_QUERY}"' in r.stdout
    assert "user.partnerfs.etag=" in r.stdout
    v = run(["getfattr", "--only-values", "-n", "user.partnerfs.etag", p],
            check=True).stdout
    assert v == etag
    st = mnt.offer("contoso-vm", "status.json")
    assert os.getxattr(st, "user.partnerfs.url").decode() == \
        emu.url + VM + "/status?" + API_QUERY
    sl = mnt.offer("contoso-vm", "slots", "preview.json")
    assert os.getxattr(sl, "user.partnerfs.url").decode() == \
        emu.url + VM + "/slot/preview?" + API_QUERY


@pytest.mark.parametrize("name,err", [
    ("security.selinux", errno.EOPNOTSUPP),
    ("security.capability", errno.EOPNOTSUPP),
    ("system.posix_acl_access", errno.EOPNOTSUPP),
    ("trusted.x", errno.EOPNOTSUPP),
    ("user.other", errno.ENODATA),
])
def test_unserved_xattrs_are_answered_from_memory(emu, mnt, name, err):
    """Only user.* is served: other namespaces are not supported (so ls -l
    stops asking for labels and ACLs), other user.* names do not exist."""
    p = mnt.offer("contoso-vm", "offer.json")
    read(p)
    emu.clear_requests()
    assert errno_of(os.getxattr, p, name) == err
    assert emu.requests() == []
    assert errno_of(os.setxattr, p, "user.partnerfs.url", b"x") == errno.EPERM


def test_etag_absent_when_the_api_gives_none(make_emulator, make_mount):
    emu = make_emulator("--no-get-etag")
    m = make_mount(emu)
    p = m.offer("contoso-vm", "offer.json")
    assert errno_of(os.getxattr, p, "user.partnerfs.etag") == errno.ENODATA
    assert os.listxattr(p) == ["user.partnerfs.url"]


# ------------------------------------------------------- recursive tools

def test_find_completes_and_never_touches_wait(emu, mnt):
    r = run(["find", mnt.path], timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert not [ln for ln in lines if ln.endswith("/wait")]
    assert mnt.offer("contoso-vm", "operations",
                     "c0ffee00-0000-4000-8000-000000000004",
                     "status") in lines
    r = run(["find", mnt.path, "-type", "f", "-size", "+0"], timeout=30)
    assert r.returncode == 0 and r.stderr == ""
    # A clean walk is nothing to warn about (404 probes are info).
    noisy = [ln for ln in mnt.log().splitlines()
             if not ln.startswith("partnerfs: info: ")]
    assert noisy == []


def test_tar_of_the_whole_mount_completes(emu, mnt, tmpdir_short):
    r = run(f"tar -C '{mnt.path}' -cf - . | tar -tf -", timeout=45)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    names = r.stdout.splitlines()
    assert "./publishers/contoso/offers/contoso-vm/offer.json" in names
    assert not [n for n in names if n.endswith("/wait")]
    # And the archive holds the real bytes.
    out = os.path.join(tmpdir_short, "x")
    os.mkdir(out)
    r = run(f"tar -C '{mnt.path}' -cf - publishers/contoso | "
            f"tar -C '{out}' -xf -", timeout=45)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    rel = "publishers/contoso/offers/contoso-vm/offer.json"
    assert read_bytes(os.path.join(out, rel)) == \
        read_bytes(os.path.join(mnt.path, rel))


def test_cp_r_of_an_offer_copies_exact_contents(mnt, tmpdir_short):
    src = mnt.offer("contoso-vm")
    dst = os.path.join(tmpdir_short, "copy")
    r = run(["cp", "-r", src, dst], timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    n = 0
    for p in walk_files(src):
        rel = os.path.relpath(p, src)
        assert read_bytes(os.path.join(dst, rel)) == read_bytes(p), rel
        n += 1
    assert n >= 16
    assert os.path.islink(os.path.join(dst, "operations", "latest"))
    assert os.readlink(os.path.join(dst, "operations", "latest")) == \
        "c0ffee00-0000-4000-8000-000000000004"
    cmp = filecmp.dircmp(src, dst)
    assert cmp.left_only == [] and cmp.right_only == []


# ------------------------------------------------------------ .partnerfs

def test_partnerfs_version_lists_the_libraries(mnt):
    text = read(mnt.p(".partnerfs", "version"))
    assert re.fullmatch(r"partnerfs \d+\.\d+\.\d+\nlibfuse 3\.\d+\.\d+\n"
                        r"libcurl \d+\.\d+\.\d+\njson-c \d+\.\d+(\.\d+)?\n",
                        text), text
    assert os.stat(mnt.p(".partnerfs", "version")).st_size == len(text)


def test_partnerfs_config_shows_options_and_hides_the_token(make_emulator,
                                                             make_mount):
    token = "tok-9f8e7d6c5b4a-secret"
    emu = make_emulator("--token", token)
    m = make_mount(emu, "cache_ttl=7,publishers=contoso,retries=2,timeout=9",
                   token=token)
    text = read(m.p(".partnerfs", "config"))
    lines = text.splitlines()
    assert f"endpoint={emu.url}" in lines
    assert "cache_ttl=7" in lines
    assert "publishers=contoso" in lines
    assert "retries=2" in lines
    assert "timeout=9" in lines
    assert f"mountpoint={m.path}" in lines
    assert token not in text
    assert token[:8] not in text
    # the token did reach the API
    assert any(r["headers"].get("authorization") == "Bearer " + token
               for r in emu.requests())
    assert token not in m.log()
