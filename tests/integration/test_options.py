"""Options (doc/design.md §4): each has a good value that takes effect
and bad values refused at start-up, before any request, with exit status
1, one line naming the option and "see 'partnerfs -h' for usage". -h
documents every option; -V prints the library versions.
"""
import errno
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import PARTNERFS
from ophelpers import fs_requests, read_text
from util import run

HINT = "see 'partnerfs -h' for usage\n"


def wait_exit(m, timeout=20):
    try:
        return m.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("partnerfs did not exit:\n" + m.log())


def config_of(m):
    return dict(line.split("=", 1) for line in
                read_text(m.p(".partnerfs", "config")).splitlines())


# --- -h and -V -----------------------------------------------------------------------

OPTIONS = ["endpoint=", "token_file=", "credentials=", "authority=",
           "token_endpoint=",
           "api_version=", "publishers=", "poll_interval=", "cache_ttl=",
           "cache_max=", "timeout=", "retries=", "cafile=", "insecure", "log_level="]


def test_help_documents_every_option():
    r = run([PARTNERFS, "-h"])
    assert r.returncode == 0
    usage = r.stdout
    for opt in OPTIONS:
        assert re.search(rf"^\s+-o {re.escape(opt)}", usage, re.M), opt
    for var in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        assert var in usage
    for word in ("default 5", "default 30", "default 2017-10-31",
                 "https://login.microsoftonline.com", "0600"):
        assert word in usage, word
    # libfuse's own options follow.
    assert "-f" in usage and "allow_other" in (usage + r.stderr)


def test_help_long_form_is_the_same():
    assert run([PARTNERFS, "--help"]).stdout == run([PARTNERFS, "-h"]).stdout


def _pkg_version(name):
    r = run(["pkg-config", "--modversion", name])
    return r.stdout.strip() if r.returncode == 0 else None


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_prints_all_four_versions(flag):
    r = run([PARTNERFS, flag])
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "partnerfs", "libfuse", "libcurl", "json-c"]
    got = dict(line.split(" ", 1) for line in lines)
    assert re.fullmatch(r"\d+\.\d+\.\d+", got["partnerfs"])
    for lib, pkg in (("libfuse", "fuse3"), ("libcurl", "libcurl"),
                     ("json-c", "json-c")):
        want = _pkg_version(pkg)
        if want:
            assert got[lib] == want, lib


# --- bad values ---------------------------------------------------------------

BAD = [
    ("endpoint=ftp://example.com", "bad endpoint: ftp://example.com"),
    ("endpoint=http://", "bad endpoint: http://"),
    ("endpoint=cloudpartner.azure.com", "bad endpoint"),
    ("api_version=2017/10/31", "bad api_version: '2017/10/31'"),
    ("api_version=", "bad api_version: ''"),
    ("authority=login.microsoftonline.com", "bad authority"),
    ("authority=ftp://x", "bad authority: ftp://x"),
    ("token_endpoint=v3", "bad token_endpoint: 'v3' (v1 or v2)"),
    ("token_endpoint=", "bad token_endpoint: '' (v1 or v2)"),
    ("token_endpoint=V2", "bad token_endpoint: 'V2'"),
    ("publishers=", "bad publishers: ''"),
    ("publishers=con%toso", "bad publishers: con%toso is not a publisher id"),
    ("poll_interval=abc", "bad poll_interval: abc"),
    ("poll_interval=0", "bad poll_interval: 0"),
    ("poll_interval=-1", "bad poll_interval: -1"),
    ("poll_interval=1e9", "bad poll_interval: 1e9"),
    ("poll_interval=5s", "bad poll_interval: 5s"),
    ("cache_ttl=x", "bad cache_ttl: x"),
    ("cache_ttl=-1", "bad cache_ttl: -1"),
    ("cache_max=15", "bad cache_max: 15"),
    ("cache_max=10000001", "bad cache_max: 10000001"),
    ("cache_max=1k", "bad cache_max: 1k"),
    ("cache_max=", "bad cache_max: "),
    ("timeout=0", "bad timeout: 0"),
    ("timeout=ten", "bad timeout: ten"),
    ("retries=-1", "bad retries: -1"),
    ("retries=21", "bad retries: 21"),
    ("retries=1.5", "bad retries: 1.5"),
    ("retries=", "bad retries: "),
    ("cafile=/nonexistent/ca.pem", "bad cafile: /nonexistent/ca.pem"),
    ("log_level=loud", "bad log_level: loud"),
    ("log_level=", "bad log_level: "),
]


@pytest.mark.parametrize("opt,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_value_is_refused_before_any_request(opt, msg, emu, make_mount):
    name = opt.split("=")[0]
    m = make_mount(emu, opt, expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    lines = err.splitlines(keepends=True)
    assert len(lines) == 2, err
    assert lines[0].startswith("partnerfs: ")
    assert name in lines[0]
    assert msg in lines[0]
    assert lines[1] == HINT
    assert not os.path.ismount(m.path)
    assert emu.requests(api_only=False) == []


def test_missing_endpoint_is_refused(tmp_path):
    tok = tmp_path / "tok"
    tok.write_text("sandbox-token\n")
    os.chmod(tok, 0o600)
    mnt = tmp_path / "m"
    mnt.mkdir()
    r = run([PARTNERFS, "-f", "-o", f"token_file={tok}", str(mnt)])
    assert r.returncode == 1
    assert r.stderr == "partnerfs: missing -o endpoint=URL\n" + HINT


def test_missing_mountpoint_is_refused(emu, tmp_path):
    r = run([PARTNERFS, "-f", "-o", f"endpoint={emu.url}"])
    assert r.returncode == 1
    assert "mountpoint" in r.stderr and r.stderr.endswith(HINT)


@pytest.mark.parametrize("what", ["missing", "directory", "empty"])
def test_bad_token_file_is_refused(what, emu, make_mount, tmp_path):
    path = {"missing": str(tmp_path / "nope"), "directory": str(tmp_path),
            "empty": str(tmp_path / "empty")}[what]
    if what == "empty":
        open(path, "w").close()
        os.chmod(path, 0o600)  # empty, not refused for its mode
    m = make_mount(emu, f"token_file={path}", token=None, expect_fail=True)
    assert wait_exit(m) == 1
    lines = m.log().splitlines(keepends=True)
    assert lines[0].startswith(f"partnerfs: token_file={path}: ")
    assert lines[-1] == HINT
    assert emu.requests(api_only=False) == []


@pytest.mark.parametrize("what", ["missing", "directory"])
def test_bad_credentials_path_is_refused(what, emu, make_mount, tmp_path):
    path = str(tmp_path / "nope") if what == "missing" else str(tmp_path)
    m = make_mount(emu, f"credentials={path}", token=None, expect_fail=True)
    assert wait_exit(m) == 1
    lines = m.log().splitlines(keepends=True)
    assert lines[0].startswith(f"partnerfs: credentials={path}: ")
    assert lines[-1] == HINT


def test_unknown_option_is_refused_before_any_request(emu, make_mount):
    m = make_mount(emu, "no_such_option=1", expect_fail=True)
    assert wait_exit(m) == 1
    assert "no_such_option" in m.log()
    assert not os.path.ismount(m.path)
    assert emu.requests(api_only=False) == []


def test_api_version_the_server_refuses_fails_at_start(emu, make_mount):
    m = make_mount(emu, "api_version=2099-01-01", expect_fail=True)
    assert wait_exit(m) == 1
    err = m.log()
    assert err.strip().splitlines()[-1].startswith(f"partnerfs: {emu.url}: ")
    assert "2017-10-31" in err  # the server's message lists what it takes


def test_unreachable_endpoint_fails_at_start(make_mount, tmp_path):
    m = make_mount("http://127.0.0.1:1", "timeout=2,retries=0",
                   expect_fail=True)
    assert wait_exit(m) == 1
    assert m.log().strip().splitlines()[-1] == \
        "partnerfs: http://127.0.0.1:1: cannot connect to 127.0.0.1:1"


# --- good values take effect ---------------------------------------------------

def test_endpoint_with_trailing_slash(emu, make_mount):
    m = make_mount(emu.url + "/")
    assert os.listdir(m.p("publishers"))
    assert config_of(m)["endpoint"] == emu.url
    assert all(r["path"].startswith("/api/") and "//" not in r["path"]
               for r in fs_requests(emu))


def test_api_version_is_sent_on_every_request(emu, make_mount):
    m = make_mount(emu, "api_version=2017-10-31")
    read_text(m.offer("contoso-vm", "offer.json"))
    reqs = fs_requests(emu)
    assert reqs and {r["query"] for r in reqs} == {"api-version=2017-10-31"}


def test_publishers_list_replaces_the_api_listing(emu, make_mount):
    m = make_mount(emu, "publishers=contoso,fabrikam")
    assert sorted(os.listdir(m.p("publishers"))) == ["contoso", "fabrikam"]
    assert fs_requests(emu, path="/api/publishers") == []
    # Others are still looked up on demand.
    assert os.listdir(m.p("publishers", "northwind", "offers")) == \
        ["northwind-vm"]


@pytest.mark.parametrize("cache_max,asked_again", [("16", True),
                                                   ("1000", False)])
def test_cache_max_bounds_what_is_kept(cache_max, asked_again,
                                       make_emulator, make_mount):
    """Past cache_max documents the stalest go: the first offer read is
    asked for again once 30 others were read since, and not otherwise."""
    emu = make_emulator("--offers", "40")
    m = make_mount(emu, f"cache_max={cache_max}")
    assert config_of(m)["cache_max"] == cache_max
    for k in range(1, 32):
        read_text(m.offer(f"offer-{k:05d}", "offer.json"))
    emu.clear_requests()
    read_text(m.offer("offer-00001", "offer.json"))
    again = fs_requests(emu, path="/api/publishers/contoso/offers/offer-00001")
    assert bool(again) == asked_again


# cache_ttl=0: every read asks again (lookup, open and read each may).
@pytest.mark.parametrize("ttl,requests", [("0", range(3, 16)),
                                          ("30", range(1, 2))])
def test_cache_ttl(ttl, requests, emu, make_mount):
    m = make_mount(emu, f"cache_ttl={ttl}")
    path = m.offer("contoso-vm", "status.json")
    emu.clear_requests()
    for _ in range(3):
        read_text(path)
    got = fs_requests(emu, path="/api/publishers/contoso/offers/contoso-vm/status")
    assert len(got) in requests
    assert config_of(m)["cache_ttl"] == ttl


def test_cache_ttl_0_asks_once_per_request(emu, make_mount):
    """Even uncached, one stat of an offer directory (it checks the offer
    exists, then shows it) sends one listing request at most, not one per
    step; and names and a directory's attributes, which the kernel keeps
    1 s anyway, are taken from a listing up to 1 s old (issue 14: fresh
    documents, not fresh parents), later ones ask again."""
    m = make_mount(emu, "cache_ttl=0")
    d = m.p("publishers", "contoso", "offers", "contoso-vm")
    os.stat(d)  # the kernel now knows the name: the next stat is a GETATTR
    time.sleep(1.1)
    emu.clear_requests()
    os.stat(d)
    os.stat(d)
    assert len(fs_requests(emu, path="/api/publishers/contoso/offers")) == 1
    time.sleep(1.1)
    emu.clear_requests()
    os.stat(d)
    assert len(fs_requests(emu, path="/api/publishers/contoso/offers")) == 1


def test_uid_gid_umask_are_shown(emu, make_mount):
    """libfuse's high-level layer did these; partnerfs now does them."""
    m = make_mount(emu, "uid=1234,gid=4321,umask=027")
    status = m.offer("contoso-vm", "status")
    for path, kind in ((status, stat.S_IFREG), (m.p("publishers"),
                                                stat.S_IFDIR)):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (1234, 4321), path
        assert stat.S_IFMT(st.st_mode) == kind
        assert stat.S_IMODE(st.st_mode) == 0o750, oct(st.st_mode)
    # What is shown does not make a read-only file writable.
    with pytest.raises(PermissionError):
        open(status, "w")


def test_uid_without_a_number_is_refused(emu, make_mount):
    m = make_mount(emu, "uid=nobody", expect_fail=True)
    assert m.proc.wait(10) == 1


def test_timeout(emu, make_mount):
    m = make_mount(emu, "timeout=1,retries=0")
    assert config_of(m)["timeout"] == "1"
    emu.fault(method="GET", path="/api/publishers/contoso/offers/contoso-vm/status",
              delay_ms=4000, count=1)
    t0 = time.monotonic()
    with pytest.raises(OSError) as ei:
        read_text(m.offer("contoso-vm", "status.json"))
    took = time.monotonic() - t0
    assert ei.value.errno == errno.ETIMEDOUT
    assert 0.8 < took < 3.0, took


@pytest.mark.parametrize("retries,faults,ok,sent", [
    ("0", 1, False, 1), ("2", 2, True, 3), ("2", 3, False, 3)])
def test_retries(retries, faults, ok, sent, emu, make_mount):
    m = make_mount(emu, f"retries={retries}")
    path = "/api/publishers/contoso/offers/contoso-vm/status"
    emu.fault(method="GET", path=path, status=503, retry_after=0,
              count=faults)
    emu.clear_requests()
    if ok:
        assert read_text(m.offer("contoso-vm", "status.json"))
    else:
        with pytest.raises(OSError) as ei:
            read_text(m.offer("contoso-vm", "status.json"))
        assert ei.value.errno == errno.EAGAIN
    assert len(fs_requests(emu, path=path)) == sent


def test_poll_interval(emu, make_mount):
    m = make_mount(emu, "poll_interval=0.5")
    assert config_of(m)["poll_interval"] == "0.5"


def test_cafile_and_insecure_are_accepted(emu, make_mount):
    ca = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.exists(ca):
        pytest.skip("no system CA bundle")
    m = make_mount(emu, f"cafile={ca},insecure")
    cfg = config_of(m)
    assert cfg["cafile"] == ca
    assert cfg["insecure"] == "1"
    assert os.listdir(m.p("publishers"))


@pytest.mark.parametrize("level,seen,unseen", [
    ("debug", ["debug: GET ", "info: mounted"], []),
    ("info", ["info: mounted"], ["debug:"]),
    ("warn", [], ["info:", "debug:"]),
    ("error", [], ["info:", "debug:", "warn:"]),
])
def test_log_level(level, seen, unseen, emu, make_mount):
    m = make_mount(emu, f"log_level={level}")
    # Something worth a warning: a 500.
    emu.fault(method="GET", path="/api/publishers/contoso/offers/contoso-vm/status",
              status=500, count=1)
    with pytest.raises(OSError):
        read_text(m.offer("contoso-vm", "status.json"))
    assert config_of(m)["log_level"] == level
    log = m.log()
    for s in seen:
        assert s in log, (s, log)
    for s in unseen:
        assert s not in log, (s, log)
    if level in ("debug", "info", "warn"):
        assert "warn: GET /api/publishers/contoso/offers/contoso-vm/status -> 500" in log


def test_relative_token_file_still_works_after_chdir(emu, make_mount, tmp_path):
    # The daemon runs in "/" once daemonized: paths are made absolute.
    tok = tmp_path / "rel-token"
    tok.write_text("sandbox-token\n")
    os.chmod(tok, 0o600)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        m = make_mount(emu, "token_file=rel-token,cache_ttl=0", token=None)
    finally:
        os.chdir(cwd)
    assert config_of(m)["auth"] == f"token_file={tok}"
    tok.write_text("contoso-only\n")
    os.listdir(m.p("publishers", "contoso", "offers"))
    assert fs_requests(emu)[-1]["headers"]["authorization"] == \
        "Bearer contoso-only"
