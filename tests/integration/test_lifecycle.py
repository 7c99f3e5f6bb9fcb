"""Lifecycle (issue 7): SIGTERM, SIGINT and fusermount3 -u end the daemon
cleanly (exit 0, mountpoint no longer mounted) while a `cat wait` is
blocked and `tail -f events` follows; SIGKILL leaves ENOTCONN, and a new
mount on the same path works after `fusermount3 -uz`; the daemon writes
nothing outside the mount.

    /usr/bin/python3 -m pytest -q --timeout 60 tests/integration/test_lifecycle.py
"""
import errno
import os
import signal
import subprocess
import time

import pytest

from conftest import PARTNERFS, Mount
from ophelpers import background, newest_op, read_text
from util import run, wait_for


def readers(m, emu):
    """A `cat wait` blocked on a running operation and a `tail -f events`,
    both started (wait_inside sees them inside the mount)."""
    op = newest_op(emu, "contoso-app")
    wait = m.offer("contoso-app", "operations", op, "wait")
    cat = background(["cat", wait], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    tail = background(["tail", "-f", m.p("events")], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
    return cat, tail


def wait_inside(m, *procs):
    """Waits until each of procs has a file of the mount m open."""
    for p in procs:
        assert wait_for(lambda: open_fds_under(p.pid, m.path), 5)


def open_fds_under(pid, root):
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    out = []
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(root):
            out.append(target)
    return out


def wait_exit(proc, timeout=15):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("partnerfs did not exit")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_signal_unmounts_with_blocked_readers(emu, make_mount, sig):
    m = make_mount(emu, "poll_interval=0.2")
    c, t = readers(m, emu)
    with c as cat, t as tail:
        wait_inside(m, cat, tail)
        time.sleep(0.3)
        assert cat.poll() is None  # blocked in wait
        t0 = time.monotonic()
        m.proc.send_signal(sig)
        assert wait_exit(m.proc) == 0, m.log()
        assert time.monotonic() - t0 < 10
        assert not os.path.ismount(m.path)
        # The blocked reader is released, not left hanging.
        cat.wait(10)
        assert cat.returncode != 0 or cat.stdout.read() == b""
    assert "ERROR" not in m.log()


def test_fusermount_u_unmounts_once_readers_let_go(emu, make_mount):
    m = make_mount(emu, "poll_interval=0.2")
    c, t = readers(m, emu)
    with c as cat, t as tail:
        wait_inside(m, cat, tail)
        # The kernel refuses a plain unmount of a busy filesystem; the
        # mount keeps working.
        r = run(["fusermount3", "-u", m.path])
        assert r.returncode == 1
        assert "Device or resource busy" in r.stderr
        assert os.path.ismount(m.path)
        assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
        # Ctrl-C ends the blocked wait (EINTR), tail goes away.
        cat.send_signal(signal.SIGINT)
        assert cat.wait(5) != 0
        tail.terminate()
        tail.wait(5)
    r = run(["fusermount3", "-u", m.path])
    assert r.returncode == 0, r.stderr
    assert wait_exit(m.proc) == 0, m.log()
    assert not os.path.ismount(m.path)


def test_fusermount_uz_with_readers_detaches_at_once(emu, make_mount):
    m = make_mount(emu, "poll_interval=0.2")
    c, t = readers(m, emu)
    with c as cat, t as tail:
        wait_inside(m, cat, tail)
        r = run(["fusermount3", "-u", "-z", m.path])
        assert r.returncode == 0, r.stderr
        assert not os.path.ismount(m.path)
        # The daemon serves the open files until they close.
        cat.send_signal(signal.SIGINT)
        cat.wait(5)
        tail.terminate()
        tail.wait(5)
    assert wait_exit(m.proc) == 0, m.log()


def test_sigkill_leaves_enotconn_and_the_path_can_be_mounted_again(
        emu, make_mount):
    m = make_mount(emu)
    assert read_text(m.offer("contoso-vm", "status")) == "succeeded\n"
    m.proc.kill()
    assert m.proc.wait(10) == -signal.SIGKILL
    # The mountpoint's attributes are never cached, nor a file's: both
    # say so at once. (A directory below the root the kernel keeps for
    # cache_ttl may still answer a stat from its cache.)
    for path in (m.path, m.offer("contoso-vm", "status")):
        with pytest.raises(OSError) as e:
            os.stat(path)
        assert e.value.errno == errno.ENOTCONN, path
    with pytest.raises(OSError) as e:
        os.listdir(m.path)
    assert e.value.errno == errno.ENOTCONN
    r = run(["fusermount3", "-u", "-z", m.path])
    assert r.returncode == 0, r.stderr
    assert not os.path.ismount(m.path)
    m2 = Mount(m.tmp, emu.url)
    try:
        assert m2.path == m.path
        assert read_text(m2.offer("contoso-vm", "status")) == "succeeded\n"
        assert sorted(os.listdir(m2.path)) == [".partnerfs", "events",
                                               "publishers"]
        r = run(["fusermount3", "-u", m2.path])
        assert r.returncode == 0, r.stderr
        assert wait_exit(m2.proc) == 0
    finally:
        m2.stop()


def snapshot(root):
    """Every path under root with its size and mtime."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return out


def test_nothing_is_written_outside_the_mount(emu, tmpdir_short):
    home = os.path.join(tmpdir_short, "home")
    cwd = os.path.join(tmpdir_short, "cwd")
    mnt = os.path.join(tmpdir_short, "mnt")
    for d in (home, cwd, mnt):
        os.makedirs(d)
    token = os.path.join(tmpdir_short, "token")
    with open(token, "w") as f:
        f.write("sandbox-token\n")
    os.chmod(token, 0o600)
    with open(os.path.join(home, ".profile"), "w") as f:
        f.write("# untouched\n")
    before = {d: snapshot(d) for d in (home, cwd, tmpdir_short)}
    env = dict(os.environ, HOME=home, TMPDIR=cwd, XDG_CACHE_HOME=home,
               XDG_CONFIG_HOME=home, XDG_RUNTIME_DIR=home)
    err = open(os.path.join(cwd, "..", "stderr.log"), "w")
    proc = subprocess.Popen(
        [PARTNERFS, "-f", "-o",
         f"endpoint={emu.url},token_file={token},poll_interval=0.2", mnt],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        assert wait_for(lambda: os.path.ismount(mnt), 10)
        p = os.path.join(mnt, "publishers", "contoso", "offers")
        assert "contoso-vm" in os.listdir(p)
        assert read_text(os.path.join(p, "contoso-vm", "status")) == \
            "succeeded\n"
        r = run(["bash", "-c",
                 f"echo a@x.com > '{p}/contoso-draft/publish'"])
        assert r.returncode == 0, r.stderr
        read_text(os.path.join(mnt, "events"))
        read_text(os.path.join(mnt, ".partnerfs", "stats"))
    finally:
        run(["fusermount3", "-u", mnt])
        try:
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            err.close()
    assert proc.returncode == 0
    after = {d: snapshot(d) for d in (home, cwd, tmpdir_short)}
    assert after[home] == before[home]
    assert after[cwd] == before[cwd] == {}
    # The only changes in the test's directory: the daemon's stderr log
    # (which this test created) and the emulator's.
    changed = {k for k in set(after[tmpdir_short]) | set(before[tmpdir_short])
               if after[tmpdir_short].get(k) != before[tmpdir_short].get(k)
               and not k.endswith("emulator.err")}
    assert changed == {"stderr.log"}, changed
