"""Helpers shared by the control-file, operations and watcher tests.

Everything here talks either to the real mount through real programs or
to the emulator over HTTP; nothing peeks inside partnerfs.
"""
import contextlib
import json
import os
import select
import signal
import subprocess
import time

API_VERSION = "api-version=2017-10-31"
TOKEN = "sandbox-token"


def api_get(emu, path):
    """GET an API path straight from the emulator (not through the mount).
    Returns (status, parsed JSON or None)."""
    sep = "&" if "?" in path else "?"
    status, body = emu.call("GET", f"{path}{sep}{API_VERSION}",
                            headers={"Authorization": f"Bearer {TOKEN}",
                                     "User-Agent": "pfs-test"})
    return status, (json.loads(body) if body else None)


def submissions(emu, offer, pub="contoso"):
    """The emulator's submissions listing, newest first."""
    status, doc = api_get(emu, f"/api/publishers/{pub}/offers/{offer}/submissions/")
    assert status == 200, doc
    return doc


def newest_op(emu, offer, pub="contoso"):
    return submissions(emu, offer, pub)[0]["id"]


def fs_requests(emu, method=None, path=None, path_prefix=None):
    """API requests the emulator received from partnerfs (not from the
    test's own look-ups, which carry a user agent; libcurl sends none)."""
    out = []
    for r in emu.requests():
        if r["headers"].get("user-agent", "").startswith(("pfs-test", "Python-urllib")):
            continue
        if method and r["method"] != method:
            continue
        if path and r["path"] != path:
            continue
        if path_prefix and not r["path"].startswith(path_prefix):
            continue
        out.append(r)
    return out


def posts(emu):
    return fs_requests(emu, method="POST")


def sh(shell, script, timeout=15, cwd=None):
    """Runs script with a real shell (bash or dash)."""
    return subprocess.run([shell, "-c", script], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def q(path):
    """Shell-quotes a path (mount paths never contain a single quote)."""
    assert "'" not in path
    return f"'{path}'"


def read_text(path):
    with open(path) as f:
        return f.read()


def wait_text(path, want, timeout=5.0):
    """Polls a file until its content equals want; returns the last read."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = read_text(path)
        except OSError as e:
            got = f"<{e}>"
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def write_errno(path, data, mode=os.O_WRONLY | os.O_TRUNC):
    """One open, one write() of data, close. Returns (write errno or 0,
    close errno or 0)."""
    fd = os.open(path, mode)
    werr = cerr = 0
    try:
        os.write(fd, data)
    except OSError as e:
        werr = e.errno
    finally:
        try:
            os.close(fd)
        except OSError as e:
            cerr = e.errno
    return werr, cerr


@contextlib.contextmanager
def background(cmd, **kw):
    """A background process that is always killed (its whole process
    group) when the block ends."""
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    try:
        yield p
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for s in (p.stdout, p.stderr, p.stdin):
            if s:
                s.close()


def read_line(stream, timeout):
    """One line from a pipe within timeout, or None."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = stream.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        c = os.read(fd, 1)
        if not c:
            break
        buf += c
        if c == b"\n":
            return buf.decode()
    return None


def wait_ready(stream, marker, timeout=10):
    """Reads lines until one contains marker (e.g. inotifywait's
    'Watches established.'). Returns True when seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = read_line(stream, deadline - time.monotonic())
        if line is None:
            return False
        if marker in line:
            return True
    return False
