"""What the kernel may keep, and for how long (fuse_attr.c): directories
below the root keep their names and attributes for cache_ttl, so `ls -l`
of a listing and the stats after it make no round trip per directory;
files and the root keep no attributes, so a file's size is always its
content's and a dead daemon's mountpoint says ENOTCONN at once.

Seen from outside: while the daemon is stopped (SIGSTOP) a stat the kernel
answers from its cache returns, and one that needs the daemon waits.

    /usr/bin/python3 -m pytest -q tests/integration/test_kernel_cache.py
"""
import os
import re
import signal
import threading
import time

import pytest

from util import run

OFFERS = ("contoso-app", "contoso-draft", "contoso-failed",
          "contoso-noplans", "contoso-review", "contoso-vm")


def stat_in_thread(path):
    """os.stat(path) on a thread of its own: (thread, result list)."""
    out = []

    def go():
        try:
            out.append(os.stat(path))
        except OSError as e:
            out.append(e)

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, out


class Stopped:
    """The daemon stopped (SIGSTOP) for the block; continued after it."""

    def __init__(self, m):
        self.pid = m.proc.pid

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        # kill() returns before every thread has stopped: a worker still
        # running could take the stat this test expects to wait.
        deadline = time.monotonic() + 5
        while not self.all_threads_stopped():
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGCONT)
                pytest.fail("the daemon's threads did not all stop")
            time.sleep(0.01)

    def all_threads_stopped(self):
        tasks = f"/proc/{self.pid}/task"
        for tid in os.listdir(tasks):
            try:
                with open(f"{tasks}/{tid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                continue  # a thread that ended meanwhile
            if state not in ("T", "t"):
                return False
        return True

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


def offers_dir(m):
    return m.p("publishers", "contoso", "offers")


@pytest.mark.parametrize("ttl,cached", [("30", True), ("0", False)])
def test_directories_stat_from_the_kernel_for_cache_ttl(ttl, cached, emu,
                                                        make_mount):
    m = make_mount(emu, f"cache_ttl={ttl}")
    r = run(["ls", "-l", offers_dir(m)])
    assert r.returncode == 0, r.stderr
    with Stopped(m):
        dirs = [stat_in_thread(os.path.join(offers_dir(m), o))
                for o in OFFERS]
        # A stat the kernel answers may be late on a loaded machine: wait
        # for it as long as it takes. One that needs the stopped daemon
        # cannot be answered at all, so a short wait shows it.
        deadline = time.monotonic() + (5 if cached else 0.3)
        for t, _ in dirs:
            t.join(max(0, deadline - time.monotonic()))
        answered = [not t.is_alive() for t, _ in dirs]
        assert answered == [cached] * len(OFFERS)
    for t, out in dirs:
        t.join(5)
        assert not t.is_alive()
        assert isinstance(out[0], os.stat_result), out


def test_files_and_the_root_always_ask_the_daemon(emu, make_mount):
    m = make_mount(emu)
    status = m.offer("contoso-vm", "status")
    os.stat(status)
    os.stat(m.path)
    with Stopped(m):
        waits = [stat_in_thread(p) for p in (status, m.path)]
        for t, _ in waits:
            t.join(0.5)
        assert [t.is_alive() for t, _ in waits] == [True, True]
    for t, out in waits:
        t.join(5)
        assert isinstance(out[0], os.stat_result), out
    assert waits[0][1][0].st_size == len("succeeded\n")


def fuse_requests(m, start):
    """The FUSE opcodes the daemon received since log offset start
    (libfuse's debug lines: `unique: N, opcode: NAME (n), nodeid: ...`)."""
    return re.findall(r"opcode: (\w+) \(\d+\), nodeid: (\d+)",
                      m.log()[start:])


def test_ls_l_makes_no_round_trip_per_directory(emu, make_mount):
    m = make_mount(emu, "debug,log_level=debug")
    d = offers_dir(m)
    os.stat(d)
    start = len(m.log())
    r = run(["ls", "-l", d])
    assert r.returncode == 0, r.stderr
    assert sorted(line.split()[-1] for line in r.stdout.splitlines()[1:]) \
        == sorted(OFFERS)
    ops = fuse_requests(m, start)
    assert ("READDIRPLUS" in [op for op, _ in ops]), ops
    # Each offer came as a full entry with the listing: none is looked
    # up or asked for its attributes on its own.
    per_entry = [op for op, _ in ops if op in ("LOOKUP", "GETATTR")]
    assert len(per_entry) <= 1, ops  # at most the directory itself
    # And the second listing's entries are all still in the kernel.
    start = len(m.log())
    assert run(["ls", "-l", d]).returncode == 0
    per_entry = [op for op, _ in fuse_requests(m, start)
                 if op in ("LOOKUP", "GETATTR")]
    assert len(per_entry) <= 1, per_entry


def test_libfuse_high_level_timeouts_are_ignored(emu, make_mount):
    """Old command lines still mount, and cannot make the kernel keep a
    file's attributes: partnerfs decides that per file."""
    m = make_mount(emu, "attr_timeout=60,entry_timeout=60,kernel_cache,"
                        "auto_cache,direct_io,negative_timeout=5,use_ino")
    status = m.offer("contoso-vm", "status")
    with open(status) as f:
        assert f.read() == "succeeded\n"
    with Stopped(m):
        t, _ = stat_in_thread(status)
        t.join(0.5)
        assert t.is_alive()
    t.join(5)
    assert not t.is_alive()
