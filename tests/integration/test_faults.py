"""Faults (issue 7, doc/design.md §2 retry rules): what a user sees,
what the log and .partnerfs/last-error say, how many requests the server
received, and that the mount works afterwards without a remount.

Faults come from the emulator (POST /_emulator/faults: status,
Retry-After, delay, drop after the request was read, truncated or
malformed body) and, for what happens before the server reads a request
(a connection reset on accept), from faultproxy.FaultProxy.

The plain status -> errno table is test_tree.py's; here: retries,
backoff, Retry-After, counts and recovery.

    /usr/bin/python3 -m pytest -q --timeout 60 tests/integration/test_faults.py
"""
import errno
import json
import os
import time

import pytest

from faultproxy import FaultProxy
from ophelpers import fs_requests, read_text
from util import read_bytes, run, wait_for

OFFERS = "/api/publishers/contoso/offers"
VM = OFFERS + "/contoso-vm"
STATUS = VM + "/status"
TENANT = "sandbox-tenant"
TOKEN_PATH = f"/{TENANT}/oauth2/token"


def hits(emu, path, method="GET"):
    """Statuses of partnerfs's requests for path, in order (None: the
    emulator dropped the connection)."""
    return [r.get("status") for r in fs_requests(emu, method=method,
                                                 path=path)]


def last_error(m):
    return read_text(m.p(".partnerfs", "last-error"))


def status_json(m, offer="contoso-vm"):
    return json.loads(read_text(m.offer(offer, "status.json")))


def timed(fn, *args):
    t0 = time.monotonic()
    try:
        return fn(*args), None, time.monotonic() - t0
    except OSError as e:
        return None, e.errno, time.monotonic() - t0


def bash(script):
    """bash, whose echo reports the errno of a failed write (dash only
    says "I/O error")."""
    return run(["bash", "-c", script], timeout=20)


def mount(make_mount, emu, opts="retries=3,timeout=10"):
    """A mount with the offer listing warm, so a fault on a document is
    met by the read of that document and not by a lookup."""
    m = make_mount(emu, opts)
    assert "contoso-vm" in os.listdir(m.p("publishers", "contoso", "offers"))
    return m


# --------------------------------------------------------- GET retries

@pytest.mark.parametrize("status", [503, 429])
def test_get_is_retried_with_exponential_backoff(emu, make_mount, status):
    m = mount(make_mount, emu)
    emu.fault(method="GET", path=STATUS, status=status, count=2)
    emu.clear_requests()
    doc, err, took = timed(status_json, m)
    assert err is None and doc["status"] == "succeeded"
    assert hits(emu, STATUS) == [status, status, 200]
    # No Retry-After: 200 ms, then 400 ms.
    assert 0.55 <= took < 3.0, took
    log = m.log()
    assert "retrying in 200 ms" in log and "retrying in 400 ms" in log


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_is_honoured(emu, make_mount, status):
    m = mount(make_mount, emu)
    emu.fault(method="GET", path=STATUS, status=status, count=1,
              retry_after=2)
    emu.clear_requests()
    doc, err, took = timed(status_json, m)
    assert err is None and doc["status"] == "succeeded"
    assert hits(emu, STATUS) == [status, 200]
    assert 1.9 <= took < 4.0, took
    assert "retrying in 2000 ms" in m.log()


def test_retry_after_past_the_timeout_is_not_waited_for(emu, make_mount):
    m = mount(make_mount, emu, "retries=3,timeout=2")
    emu.fault(method="GET", path=STATUS, status=429, count=1,
              retry_after=30)
    emu.clear_requests()
    _, err, took = timed(status_json, m)
    # Waiting 30 s would only turn the answer into a timeout.
    assert err == errno.EAGAIN
    assert took < 1.0, took
    assert hits(emu, STATUS) == [429]
    assert "Fault injected by the emulator (status 429)." in last_error(m)
    assert status_json(m)["status"] == "succeeded"
    assert hits(emu, STATUS) == [429, 200]


def test_retries_exhausted_is_eagain_after_retries_plus_one(emu, make_mount):
    m = mount(make_mount, emu, "retries=2,timeout=10")
    emu.fault(method="GET", path=STATUS, status=503, count=3,
              body='{"error":{"code":"Busy","message":"try later, busy"}}')
    emu.clear_requests()
    _, err, took = timed(read_bytes, m.offer("contoso-vm", "status.json"))
    assert err == errno.EAGAIN
    assert hits(emu, STATUS) == [503, 503, 503]
    assert 0.55 <= took < 3.0, took
    assert "try later, busy" in last_error(m)
    assert wait_for(lambda: "try later, busy" in m.log())
    assert status_json(m)["status"] == "succeeded"
    assert hits(emu, STATUS) == [503, 503, 503, 200]


@pytest.mark.parametrize("status", [500, 502])
def test_other_5xx_is_eio_and_not_retried(emu, make_mount, status):
    m = mount(make_mount, emu)
    emu.fault(method="GET", path=STATUS, status=status, count=1)
    emu.clear_requests()
    _, err, took = timed(read_bytes, m.offer("contoso-vm", "status.json"))
    assert err == errno.EIO
    assert took < 1.0
    assert hits(emu, STATUS) == [status]
    assert f"(status {status})" in last_error(m)
    assert status_json(m)["status"] == "succeeded"
    assert hits(emu, STATUS) == [status, 200]


def test_dropped_get_is_retried(emu, make_mount):
    m = mount(make_mount, emu)
    emu.fault(method="GET", path=STATUS, action="drop", count=1)
    emu.clear_requests()
    assert status_json(m)["status"] == "succeeded"
    assert hits(emu, STATUS) == [None, 200]


def test_truncated_get_is_retried_then_eio(emu, make_mount):
    m = mount(make_mount, emu, "retries=2,timeout=10")
    emu.fault(method="GET", path=STATUS, action="truncate", count=1)
    emu.clear_requests()
    assert status_json(m)["status"] == "succeeded"
    assert hits(emu, STATUS) == [200, 200]
    # Truncated every time: EIO after 1 + retries attempts, and nothing
    # half-received is shown or cached.
    emu.fault(method="GET", path=VM, action="truncate", count=3)
    emu.clear_requests()
    _, err, _ = timed(read_bytes, m.offer("contoso-vm", "offer.json"))
    assert err == errno.EIO
    assert hits(emu, VM) == [200, 200, 200]
    assert "transport error" in last_error(m)
    doc = json.loads(read_text(m.offer("contoso-vm", "offer.json")))
    assert doc["id"] == "contoso-vm"


def test_malformed_json_is_eio_and_not_cached(emu, make_mount):
    m = mount(make_mount, emu)
    emu.fault(method="GET", path=STATUS, action="malformed", count=1)
    emu.clear_requests()
    _, err, _ = timed(read_bytes, m.offer("contoso-vm", "status"))
    assert err == errno.EIO
    assert hits(emu, STATUS) == [200]
    assert wait_for(lambda: "contoso-vm/status: the response (11 bytes) "
                    "is not JSON" in m.log()), m.log()
    assert "is not JSON" in last_error(m)
    # Not cached: the next read asks again and shows the real document.
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    assert hits(emu, STATUS) == [200, 200]


def test_listing_of_the_wrong_shape_is_eio(emu, make_mount):
    m = make_mount(emu, "retries=3,timeout=10")
    os.listdir(m.p("publishers"))
    emu.fault(method="GET", path=OFFERS, status=200, count=1,
              body='{"value":[{"id":"contoso-vm"}]}')
    emu.clear_requests()
    r = run(["ls", m.p("publishers", "contoso", "offers")])
    assert r.returncode == 2
    assert "Input/output error" in r.stderr
    assert hits(emu, OFFERS) == [200]
    assert "is not a JSON array" in last_error(m)
    assert "contoso-vm" in os.listdir(m.p("publishers", "contoso", "offers"))
    assert hits(emu, OFFERS) == [200, 200]


def test_slow_server_is_etimedout_and_does_not_block_others(emu, make_mount):
    m = mount(make_mount, emu, "retries=3,timeout=1")
    emu.fault(method="GET", path=STATUS, delay_ms=3000, count=1)
    emu.clear_requests()
    t0 = time.monotonic()
    slow = run(["cat", m.offer("contoso-vm", "status.json")], timeout=10,
               )
    took = time.monotonic() - t0
    assert slow.returncode == 1
    assert "Connection timed out" in slow.stderr
    assert 0.9 <= took < 2.9, took  # the timeout, not the 3 s answer
    # A timeout is not retried: the request may be in the server's hands.
    assert hits(emu, STATUS) == [None] or hits(emu, STATUS) == [200]
    assert len(fs_requests(emu, path=STATUS)) == 1
    assert "timed out after" in last_error(m)
    time.sleep(2.2)
    assert status_json(m)["status"] == "succeeded"


def test_reads_go_on_while_one_request_is_slow(emu, make_mount):
    import subprocess
    m = mount(make_mount, emu, "retries=0,timeout=4")
    emu.fault(method="GET", path=STATUS, delay_ms=3000, count=1)
    slow = subprocess.Popen(["cat", m.offer("contoso-vm", "status.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The slow GET is in the server's hands (logged when it arrives,
        # answered 3 s later) before the other read starts.
        deadline = time.monotonic() + 5
        while not any(r.get("fault") for r in fs_requests(emu, path=STATUS)):
            assert time.monotonic() < deadline, "the slow GET never came"
            time.sleep(0.02)
        t0 = time.monotonic()
        assert read_text(m.offer("contoso-app", "status")) == "running\n"
        # Well before the slow GET's 3 s: it did not wait behind it.
        assert time.monotonic() - t0 < 2.0
        out, _ = slow.communicate(timeout=10)
        assert json.loads(out)["status"] == "succeeded"
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait(5)


# ----------------------------------------------------- server gone, back

def test_server_gone_then_back_on_the_same_port(make_emulator, make_mount):
    emu = make_emulator()
    port = emu.url.rsplit(":", 1)[1]
    m = mount(make_mount, emu, "retries=2,timeout=3,cache_ttl=0")
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    emu.stop()
    _, err, took = timed(read_bytes, m.offer("contoso-vm", "status.json"))
    assert err == errno.EHOSTUNREACH
    # Connection refused is retried (nothing was sent), within timeout.
    assert 0.5 <= took < 3.0, took
    assert f"cannot connect to 127.0.0.1:{port}" in last_error(m)
    assert "retrying in" in m.log()
    # A new server on the same address: no remount needed.
    emu2 = make_emulator("--port", port)
    assert emu2.url == emu.url
    assert status_json(m)["status"] == "succeeded"
    assert read_text(m.offer("contoso-app", "status")) == "running\n"
    assert hits(emu2, STATUS) and set(hits(emu2, STATUS)) == {200}


def test_post_to_a_gone_server_reaches_nobody_and_says_why(make_emulator,
                                                           make_mount):
    emu = make_emulator()
    port = emu.url.rsplit(":", 1)[1]
    m = mount(make_mount, emu, "retries=2,timeout=3")
    publish = m.offer("contoso-draft", "publish")
    os.stat(publish)
    emu.stop()
    r = bash(f"echo a@x.com > '{publish}'")
    assert r.returncode == 1
    assert "No route to host" in r.stderr
    text = read_text(publish)
    assert "status: no response\n" in text
    assert "error: EHOSTUNREACH" in text
    emu2 = make_emulator("--port", port)
    r = bash(f"echo a@x.com > '{publish}'")
    assert r.returncode == 0, r.stderr
    assert len(hits(emu2, OFFERS + "/contoso-draft/publish", "POST")) == 1


# ------------------------------------------------------------- tokens

def write_credentials(tmp):
    path = os.path.join(tmp, "cpp.credentials")
    with open(path, "w") as f:
        f.write(f"tenant_id={TENANT}\n"
                "client_id=00000000-0000-0000-0000-000000000001\n"
                "client_secret=sandbox-secret\n")
    os.chmod(path, 0o600)
    return path


def token_posts(emu):
    return [r.get("status") for r in emu.requests(api_only=False)
            if r["method"] == "POST" and r["path"] == TOKEN_PATH]


def test_token_forgotten_mid_run_is_fetched_again(make_emulator, make_mount,
                                                  tmpdir_short):
    emu = make_emulator()
    port = emu.url.rsplit(":", 1)[1]
    cred = write_credentials(tmpdir_short)
    m = make_mount(emu, f"credentials={cred},authority={emu.url},"
                   "cache_ttl=0", token=None)
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    assert token_posts(emu) == [200]
    # A restarted server knows none of the tokens it issued: the live
    # token is now rejected.
    emu.stop()
    emu2 = make_emulator("--port", port)
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    seq = [(r["method"], r["path"], r.get("status"))
           for r in emu2.requests(api_only=False)]
    # The first GET (whichever document the read needs first) is
    # rejected, the token fetched once, and the same GET sent again.
    first = seq[0][1]
    assert seq[:3] == [("GET", first, 401),
                       ("POST", TOKEN_PATH, 200),
                       ("GET", first, 200)]
    assert [s for _, _, s in seq].count(401) == 1


def test_token_endpoint_down_is_eacces_then_recovers(make_emulator,
                                                     make_mount,
                                                     tmpdir_short):
    emu = make_emulator("--token-ttl", "2")
    cred = write_credentials(tmpdir_short)
    m = make_mount(emu, f"credentials={cred},authority={emu.url},"
                   "cache_ttl=0,retries=1,timeout=3", token=None)
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    emu.fault(method="POST", path=TOKEN_PATH, status=503, count=-1)
    time.sleep(2.2)  # the token has expired
    emu.clear_requests()
    _, err, took = timed(read_bytes, m.offer("contoso-vm", "status.json"))
    assert err == errno.EACCES
    assert took < 3.5
    # Nothing is sent without a token.
    assert fs_requests(emu) == []
    assert token_posts(emu) and set(token_posts(emu)) == {503}
    assert "no access token" in last_error(m)
    emu.call("DELETE", "/_emulator/faults")
    assert status_json(m)["status"] == "succeeded"
    assert token_posts(emu)[-1] == 200


# ------------------------------------------------------ control files

CONTROL_FAULTS = [
    # (fault, errno the write returns, control-file line)
    (dict(status=503), errno.EAGAIN, "status: 503"),
    (dict(status=429, retry_after=1), errno.EAGAIN, "status: 429"),
    (dict(status=500), errno.EIO, "status: 500"),
    (dict(status=502), errno.EIO, "status: 502"),
    (dict(action="drop"), errno.EIO, "status: no response"),
    (dict(delay_ms=2500), errno.ETIMEDOUT, "status: no response"),
]


@pytest.mark.parametrize("fault,err,line", CONTROL_FAULTS,
                         ids=lambda v: str(v)[:30])
def test_control_write_under_a_fault_sends_exactly_one_post(
        emu, make_mount, fault, err, line):
    m = mount(make_mount, emu, "retries=3,timeout=1.5")
    publish = m.offer("contoso-draft", "publish")
    path = OFFERS + "/contoso-draft/publish"
    emu.fault(method="POST", path=path, count=1, **fault)
    emu.clear_requests()
    fd = os.open(publish, os.O_WRONLY | os.O_TRUNC)
    try:
        with pytest.raises(OSError) as e:
            os.write(fd, b"a@x.com\n")
        assert e.value.errno == err
    finally:
        os.close(fd)
    time.sleep(1.5 if "delay_ms" in fault else 0.2)
    assert len(fs_requests(emu, method="POST", path=path)) == 1
    text = read_text(publish)
    assert line + "\n" in text
    assert f"error: {errno.errorcode[err]} " in text
    # The mount works: another control file sends exactly one POST.
    golive = OFFERS + "/contoso-review/golive"
    r = bash(f"echo a@x.com > '{m.offer('contoso-review', 'golive')}'")
    assert r.returncode == 0, r.stderr
    assert hits(emu, golive, "POST") == [202]


def test_post_reset_on_accept_is_never_sent_twice(emu, make_mount):
    """A connection reset as it is accepted, before the server read a byte.
    If curl notices during connect, nothing was sent: the POST is retried
    and the server sees it once. If curl already counted the connection as
    up, the POST may have gone out: it is not retried, and the write fails
    with EIO. Which one happens is a race of the RST with curl's connect
    check (ASan builds see the second more often); never two POSTs."""
    proxy = FaultProxy(emu.url)
    try:
        m = make_mount(proxy.url, "retries=3,timeout=3")
        publish = m.offer("contoso-draft", "publish")
        path = OFFERS + "/contoso-draft/publish"
        os.stat(publish)
        emu.clear_requests()
        # Opened first, so the rejected connection is the POST's.
        fd = os.open(publish, os.O_WRONLY | os.O_TRUNC)
        try:
            before = proxy.connections
            proxy.reject(1)
            try:
                n, err = os.write(fd, b"a@x.com\n"), 0
            except OSError as e:
                n, err = 0, e.errno
        finally:
            os.close(fd)
        assert proxy.rejected == 1
        text = read_text(publish)
        if err == 0:
            assert n == 8
            # The retry's connection (the poller may open one more for
            # the new operation).
            assert proxy.connections - before >= 2
            assert hits(emu, path, "POST") == [202]
            assert "Couldn't connect to server" in m.log()
            assert "status: 202\n" in text and "operation: " in text
        else:
            assert err == errno.EIO
            assert proxy.connections - before == 1
            assert hits(emu, path, "POST") == []
            assert "status: no response\n" in text
            assert "error: EIO " in text
            r = bash(f"echo a@x.com > '{publish}'")
            assert r.returncode == 0, r.stderr
            assert hits(emu, path, "POST") == [202]
    finally:
        proxy.close()


def test_get_reset_before_the_request_is_read_is_retried(emu, make_mount):
    proxy = FaultProxy(emu.url)
    try:
        m = make_mount(proxy.url, "retries=3,timeout=5")
        os.listdir(m.p("publishers", "contoso", "offers"))
        emu.clear_requests()
        before = proxy.connections
        proxy.reject(2)
        assert status_json(m)["status"] == "succeeded"
        assert proxy.connections - before == 3
        assert hits(emu, STATUS) == [200]
    finally:
        proxy.close()


def test_successful_writes_under_random_faults_are_one_post_each(
        emu, make_mount):
    """Many writes, a fault on every other POST: each write that returned
    success is exactly one accepted POST, each failure at most one."""
    m = mount(make_mount, emu, "retries=3,timeout=1")
    cancel = m.offer("contoso-app", "cancel")
    path = OFFERS + "/contoso-app/cancel"
    kinds = [dict(status=503), dict(action="drop"), dict(status=500),
             dict(status=429)]
    ok = failed = 0
    emu.clear_requests()
    for i in range(12):
        if i % 2:
            emu.fault(method="POST", path=path, count=1, **kinds[i // 2 % 4])
        fd = os.open(cancel, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, b"ops@contoso.com\n")
            ok += 1
        except OSError:
            failed += 1
        finally:
            os.close(fd)
    statuses = hits(emu, path, "POST")
    assert len(statuses) == 12
    assert ok == len([s for s in statuses if s in (200, 202, 409)]) or \
        ok == len([s for s in statuses if s in (200, 202)])
    assert failed == 12 - ok
    assert failed >= 6
