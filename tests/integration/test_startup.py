"""Start-up (doc/design.md §4, §5 last rule): -h, -V, and failures that must
reach the user's terminal as exit status 1 and a one-line reason, before
anything is mounted. The binary is run directly, always with a timeout.

    /usr/bin/python3 -m pytest -q --timeout 60 tests/integration/test_startup.py
"""
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import PARTNERFS, TOKEN
from util import read


@pytest.fixture
def mp(tmpdir_short):
    """An empty mountpoint and a valid token file."""
    path = os.path.join(tmpdir_short, "mnt")
    os.makedirs(path)
    tok = os.path.join(tmpdir_short, "token")
    with open(tok, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(tok, 0o600)
    return path, tok


def partnerfs(*args, timeout=20):
    return subprocess.run([PARTNERFS, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def assert_failed_without_mount(r, mountpoint, *words):
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert not os.path.ismount(mountpoint)
    lines = r.stderr.strip().splitlines()
    assert lines and lines[0].startswith("partnerfs: "), r.stderr
    for w in words:
        assert w in lines[0], (w, r.stderr)
    assert r.stdout == ""
    return lines


def test_help_lists_partnerfs_and_fuse_options():
    r = partnerfs("-h", timeout=10)
    assert r.returncode == 0
    first = r.stdout.splitlines()[0]
    assert first.startswith("usage: partnerfs ") and "mountpoint" in first
    for opt in ("endpoint=URL", "token_file=PATH", "credentials=PATH",
                "authority=URL", "api_version=", "publishers=a,b",
                "poll_interval=S", "cache_ttl=S", "timeout=S", "retries=N",
                "cafile=PATH", "insecure", "log_level="):
        assert "-o " + opt in r.stdout, opt
    assert "FUSE options:" in r.stdout
    assert "-f" in r.stdout and "allow_other" in r.stdout
    assert partnerfs("--help", timeout=10).stdout == r.stdout


def test_version_prints_every_library():
    r = partnerfs("-V", timeout=10)
    assert r.returncode == 0
    assert re.fullmatch(r"partnerfs \d+\.\d+\.\d+\nlibfuse 3\.\d+\.\d+\n"
                        r"libcurl \d+\.\d+\.\d+\njson-c \d+\.\d+(\.\d+)?\n",
                        r.stdout), r.stdout
    assert partnerfs("--version", timeout=10).stdout == r.stdout


def test_version_matches_partnerfs_version_file(mnt):
    assert read(mnt.p(".partnerfs", "version")) == \
        partnerfs("-V", timeout=10).stdout


@pytest.mark.parametrize("foreground", [True, False],
                         ids=["foreground", "daemon"])
def test_nothing_listening_exits_1_with_one_line(mp, foreground):
    path, tok = mp
    url = f"http://127.0.0.1:{free_port()}"
    args = ["-o", f"endpoint={url},token_file={tok},retries=0,timeout=3",
            path]
    t0 = time.monotonic()
    r = partnerfs(*(["-f"] if foreground else []), *args)
    assert time.monotonic() - t0 < 10
    lines = assert_failed_without_mount(r, path, url, "cannot connect")
    assert len(lines) == 1, r.stderr


def test_bad_token_exits_1_with_the_api_reason(emu, mp):
    path, _ = mp
    bad = os.path.join(os.path.dirname(path), "bad-token")
    with open(bad, "w") as f:
        f.write("not-a-valid-token\n")
    os.chmod(bad, 0o600)
    r = partnerfs("-o", f"endpoint={emu.url},token_file={bad}", path)
    lines = assert_failed_without_mount(r, path, emu.url,
                                        "token is invalid")
    assert len(lines) == 1, r.stderr
    assert "not-a-valid-token" not in r.stderr
    # It did ask, with that token, before giving up.
    reqs = [q for q in emu.requests() if q["path"] == "/api/publishers"]
    assert reqs and reqs[0]["headers"]["authorization"] == \
        "Bearer not-a-valid-token"
    assert all(q["status"] == 401 for q in reqs)


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_token_file_readable_by_others_exits_1_sending_nothing(emu, mp,
                                                               mode):
    """A bearer token that group or others can read is refused, as a
    credentials file is, before any request."""
    path, tok = mp
    os.chmod(tok, mode)
    r = partnerfs("-f", "-o", f"endpoint={emu.url},token_file={tok}", path)
    lines = assert_failed_without_mount(r, path)
    assert lines == [f"partnerfs: token_file={tok}: readable by group or "
                     f"others (mode {mode:03o}), refused; run chmod 600 on "
                     "it", "see 'partnerfs -h' for usage"], r.stderr
    assert TOKEN not in r.stderr
    assert emu.requests(api_only=False) == []


def test_token_file_of_mode_0600_mounts(emu, mp):
    path, tok = mp
    os.chmod(tok, 0o600)
    r = partnerfs("-o", f"endpoint={emu.url},token_file={tok}", path)
    try:
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(path)
        assert r.stderr == ""
        reqs = emu.requests()
        assert reqs and reqs[0]["headers"]["authorization"] == \
            "Bearer " + TOKEN
    finally:
        subprocess.run(["fusermount3", "-u", "-z", path], timeout=10,
                       capture_output=True)
    assert not os.path.ismount(path)


def test_unknown_configured_publisher_exits_1(emu, mp):
    path, tok = mp
    r = partnerfs("-o", f"endpoint={emu.url},token_file={tok},"
                  "publishers=nobody", path)
    lines = assert_failed_without_mount(r, path, "nobody")
    assert len(lines) == 1, r.stderr


def test_missing_token_file_exits_1(emu, mp):
    path, _ = mp
    r = partnerfs("-f", "-o", f"endpoint={emu.url},token_file=/nonexistent"
                  "/tok", path)
    assert_failed_without_mount(r, path, "/nonexistent/tok")
    assert emu.requests() == []


@pytest.mark.parametrize("opt,words", [
    ("poll_interval=abc", ["poll_interval", "abc"]),
    ("poll_interval=0", ["poll_interval"]),
    ("cache_ttl=-1", ["cache_ttl", "-1"]),
    ("cache_ttl=10s", ["cache_ttl"]),
    ("timeout=0", ["timeout"]),
    ("retries=99", ["retries", "99"]),
    ("retries=-1", ["retries"]),
    ("retries=two", ["retries"]),
    ("log_level=loud", ["log_level", "loud"]),
    ("publishers=a%2fb", ["publisher", "a%2fb"]),
    ("endpoint=ftp://example.com", ["endpoint", "ftp://example.com"]),
])
def test_bad_option_values_exit_1_with_a_clear_message(emu, mp, opt, words):
    path, tok = mp
    opts = f"endpoint={emu.url},token_file={tok},{opt}"
    r = partnerfs("-f", "-o", opts, path, timeout=10)
    lines = assert_failed_without_mount(r, path, *words)
    assert lines[1:] == ["see 'partnerfs -h' for usage"], r.stderr
    assert emu.requests() == []  # refused before asking anything


def test_missing_endpoint_exits_1(mp):
    path, tok = mp
    r = partnerfs("-f", "-o", f"token_file={tok}", path, timeout=10)
    lines = assert_failed_without_mount(r, path, "endpoint")
    assert lines[1:] == ["see 'partnerfs -h' for usage"]


def test_missing_mountpoint_exits_1(emu, mp):
    _, tok = mp
    r = partnerfs("-f", "-o", f"endpoint={emu.url},token_file={tok}",
                  timeout=10)
    assert r.returncode == 1
    assert "mountpoint" in r.stderr


def test_daemon_mounts_and_unmounts(emu, mp):
    """Without -f it checks, daemonizes, and the parent exits 0 once the
    mount is there; fusermount3 -u ends the daemon."""
    path, tok = mp
    r = partnerfs("-o", f"endpoint={emu.url},token_file={tok}", path)
    try:
        assert r.returncode == 0, r.stderr
        assert os.path.ismount(path)
        assert sorted(os.listdir(path)) == [".partnerfs", "events",
                                            "publishers"]
    finally:
        subprocess.run(["fusermount3", "-u", "-z", path], timeout=10,
                       capture_output=True)
    assert not os.path.ismount(path)


def test_publishers_list_and_fstab_words_parse(emu, mp):
    """-o publishers=a,b next to FUSE flags, fstab words and x- options,
    in both -o forms."""
    path, tok = mp
    for style in ("split", "joined"):
        o = (f"endpoint={emu.url},token_file={tok},publishers=northwind,"
             "contoso,default_permissions,noauto,_netdev,x-systemd.automount,"
             "cache_ttl=5")
        args = ["-o", o] if style == "split" else ["-o" + o]
        proc = subprocess.Popen([PARTNERFS, "-f", *args, path],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while not os.path.ismount(path):
                assert proc.poll() is None, proc.communicate(timeout=5)[1]
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert os.listdir(os.path.join(path, "publishers")) == \
                ["northwind", "contoso"]
            cfg = read(os.path.join(path, ".partnerfs", "config"))
            assert "publishers=northwind,contoso\n" in cfg
            assert "cache_ttl=5\n" in cfg
        finally:
            subprocess.run(["fusermount3", "-u", "-z", path], timeout=10,
                           capture_output=True)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        assert proc.returncode == 0
