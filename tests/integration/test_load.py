"""Load (issue 12): what a release script's shell loop can do to a mount.

A `cat .../wait` holds no FUSE worker: hundreds of them wait at once, on
a mount with the default workers and on one with max_threads=2, while
`cat` of any other file still answers at once, and each wait returns its
operation's terminal word when the operations all end together. Ctrl-C
ends a blocked `cat wait` at once; poll(2) on `wait` says readable when
the operation ends. `kill -9` of the daemon while watchers are being told
of many changes leaves no process behind and a mount that says ENOTCONN
until `fusermount3 -uz`, after which the path mounts again. With a short
retention the mount forgets operations that ended, and what the server
still lists comes back.

Every process a test starts is killed in a finally block. The tests touch
the mount only from child processes with a timeout (a frozen mount would
hold the test itself in an uninterruptible read), except for the one
open(2)/select(2) on `wait` that is the point of a test.

    PARTNERFS_BUILD=build /usr/bin/python3 -m pytest -q --timeout 120 \\
        tests/integration/test_load.py
"""
import errno
import os
import random
import select
import signal
import statistics
import subprocess
import threading
import time

import pytest

from conftest import Mount
from util import wait_for

ADDR = "load@example.com"


def offer_name(i):
    return f"offer-{i:05d}"


class Stuck(AssertionError):
    pass


def run(cmd, timeout=10):
    """A real command (a list, or a string for sh -c) with a timeout. On
    timeout it is killed and not waited for long: a process stuck in a
    request of a frozen mount may not die at once."""
    p = subprocess.Popen(cmd, shell=isinstance(cmd, str), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_all([p])
        raise Stuck(f"{cmd} did not answer within {timeout} s")
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def read(path, timeout=5):
    r = run(["cat", path], timeout)
    assert r.returncode == 0, r.stderr
    return r.stdout


def stats(m):
    """.partnerfs/stats as {name: int} ("requests GET 200" keeps its
    words)."""
    out = {}
    for line in read(m.p(".partnerfs", "stats")).splitlines():
        name, _, value = line.rpartition(" ")
        if value.isdigit():
            out[name] = int(value)
    return out


def stat_of(m, name):
    return stats(m).get(name, -1)


def timed_cat(path, timeout=5):
    """A real `cat` of path: (seconds, stdout). Fails the test when it
    does not answer within timeout."""
    t0 = time.monotonic()
    r = run(["cat", path], timeout=timeout)
    dt = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    return dt, r.stdout


def publish_all(m, offers, timeout=60):
    """`echo ADDR > publish` for each offer, from one real shell loop."""
    paths = " ".join(f"'{m.offer(o, 'publish')}'" for o in offers)
    r = run(f"for p in {paths}; do echo {ADDR} > $p || exit 1; done",
            timeout=timeout)
    assert r.returncode == 0, r.stderr


def kill_all(procs):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in procs:
        try:
            p.wait(max(0.01, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        for f in (p.stdout, p.stderr):
            if f:
                f.close()


def start_readers(paths):
    """One `cat` per path, each in a session of its own (killed with its
    group)."""
    procs = []
    try:
        for path in paths:
            procs.append(subprocess.Popen(["cat", path],
                                          stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT,
                                          start_new_session=True))
    except BaseException:
        kill_all(procs)
        raise
    return procs


def idle_median(path, n=15):
    timed_cat(path)  # the first read may fetch what later ones reuse
    return statistics.median(timed_cat(path)[0] for _ in range(n))


@pytest.mark.parametrize("readers_per_op,options", [
    (5, ""),
    (2, "max_threads=2"),
], ids=["default-workers", "max_threads=2"])
def test_hundreds_of_waits_do_not_freeze_the_mount(make_emulator, make_mount,
                                                   readers_per_op, options):
    """100 offers each publish once; then a release script waits on every
    operation at once, 5 `cat .../operations/latest/wait` per offer (500
    readers; 200 on a mount with max_threads=2, 100 times its workers).
    While they wait and all 100 operations change state together,
    `cat` of another offer's status (cache_ttl=0: a request to the server
    each time) answers within 1 s, with a median at most 10 times what it
    was on the idle mount; when the operations complete together every
    reader prints `completed` and .partnerfs/stats shows no read still
    waiting."""
    nops = 100
    emu = make_emulator("--offers", str(nops), "--quiet")
    m = make_mount(emu, "poll_interval=0.5,cache_ttl=0" +
                   ("," + options if options else ""))
    offers = [offer_name(i) for i in range(1, nops + 1)]
    other = m.offer("contoso-vm", "status")
    idle = idle_median(other)

    publish_all(m, offers)
    waits = [m.offer(o, "operations", "latest", "wait") for o in offers
             for _ in range(readers_per_op)]
    procs = start_readers(waits)
    try:
        want = len(waits)
        assert wait_for(lambda: stat_of(m, "reads_waiting") == want, 30,
                        0.2), stats(m)
        assert all(p.poll() is None for p in procs)
        # All 100 operations start running at once: 100 state changes,
        # each waking the waiters and queueing touches, while we read.
        emu.tick()
        loaded = []
        t_end = time.monotonic() + 3
        while time.monotonic() < t_end or len(loaded) < 15:
            dt, text = timed_cat(other, timeout=5)
            assert text == "succeeded\n"
            loaded.append(dt)
        assert max(loaded) < 1.0, loaded
        median = statistics.median(loaded)
        assert median <= 10 * idle, (median, idle, loaded)
        assert all(p.poll() is None for p in procs)  # still waiting
        assert wait_for(lambda: stat_of(m, "operations_active") == nops, 10)

        # They all complete on the same tick.
        emu.tick(4)
        deadline = time.monotonic() + 60
        for p in procs:
            out, _ = p.communicate(timeout=max(1, deadline -
                                               time.monotonic()))
            assert (p.returncode, out) == (0, b"completed\n")
        assert wait_for(lambda: stat_of(m, "reads_waiting") == 0, 5), \
            stats(m)
        st = stats(m)
        assert st["operations_active"] == 0
        assert st["touches_dropped"] == 0
        print(f"\n{want} readers ({options or 'default workers'}): idle "
              f"read {idle * 1000:.1f} ms, under load median "
              f"{median * 1000:.1f} ms, max {max(loaded) * 1000:.1f} ms, "
              f"{len(loaded)} reads; touches sent {st['touches_sent']}")
    finally:
        kill_all(procs)
    # Still a working mount.
    assert read(other) == "succeeded\n"


def children_of(pid):
    """Pids whose parent is pid (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def gone(pid):
    """No such process, or only a zombie waiting for init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def fails_enotconn(cmd):
    """cmd (touching the dead mount) fails promptly with ENOTCONN."""
    r = run(cmd, timeout=5)
    return r.returncode != 0 and os.strerror(errno.ENOTCONN) in r.stderr


def test_kill_9_with_touches_in_flight(make_emulator, make_mount):
    """30 offers publish while the emulator moves every operation one
    step each 100 ms and watchers follow (inotifywait on each offer's
    status, `tail -f events`); the daemon is killed with SIGKILL at a
    random moment while it is telling them of changes, three times. Each
    time the daemon and its toucher process are gone at once, `ls`,
    `stat` and `cat` of the mount fail with ENOTCONN within 5 s, and after
    `fusermount3 -uz` the same path mounts again and answers."""
    nops = 30
    emu = make_emulator("--offers", str(nops), "--quiet")
    offers = [offer_name(i) for i in range(1, nops + 1)]
    rnd = random.Random(12)
    stop = threading.Event()

    def ticker():
        while not stop.wait(0.1):
            try:
                emu.tick()
            except (OSError, AssertionError):
                pass
    t = threading.Thread(target=ticker, daemon=True)
    t.start()
    opts = "poll_interval=0.2"
    m = make_mount(emu, opts)
    mounts = [m]
    watchers = []
    try:
        for _ in range(3):
            status = [m.offer(o, "status") for o in offers]
            watchers = [subprocess.Popen(
                ["inotifywait", "-m", "-q", "-e", "attrib,modify"] + status,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True),
                subprocess.Popen(["tail", "-f", m.p("events")],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 start_new_session=True)]
            sent0 = stat_of(m, "touches_sent")
            publish_all(m, offers)
            time.sleep(rnd.uniform(0.2, 1.2))
            pid = m.proc.pid
            kids = children_of(pid)
            assert kids, "no toucher process"
            assert stat_of(m, "touches_sent") > sent0
            m.proc.kill()
            assert m.proc.wait(5) == -signal.SIGKILL
            assert wait_for(lambda: all(gone(k) for k in kids), 5), \
                [open(f"/proc/{k}/status").read() for k in kids
                 if not gone(k)]
            assert children_of(pid) == []
            for cmd in (["stat", m.path], ["ls", m.path],
                        ["cat", m.offer(offers[0], "status")],
                        ["ls", m.offer(offers[0], "operations")]):
                assert fails_enotconn(cmd), cmd
            kill_all(watchers)
            r = run(["fusermount3", "-u", "-z", m.path])
            assert r.returncode == 0, r.stderr
            m.stop()
            m = Mount(m.tmp, emu.url, opts)  # the same path again
            mounts.append(m)
            r = run(["cat", m.offer(offers[0], "status")], timeout=10)
            assert r.returncode == 0 and r.stdout.strip(), r.stderr
    finally:
        stop.set()
        t.join(5)
        kill_all(watchers)
        for mm in mounts:
            mm.stop()


def test_ctrl_c_ends_a_blocked_wait(emu, mnt):
    """`cat wait` on an operation that is still running blocks; Ctrl-C
    (SIGINT) ends it within 2 s, the read it was blocked in is no longer
    kept (.partnerfs/stats), and the mount answers as before."""
    wait = mnt.offer("contoso-app", "operations", "latest", "wait")
    p = subprocess.Popen(["cat", wait], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_for(lambda: stat_of(mnt, "reads_waiting") == 1, 5)
        assert p.poll() is None
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        p.wait(5)
        assert time.monotonic() - t0 < 2
        assert p.returncode == -signal.SIGINT
        assert wait_for(lambda: stat_of(mnt, "reads_waiting") == 0, 2)
    finally:
        kill_all([p])
    assert read(mnt.offer("contoso-vm", "status")) == "succeeded\n"
    assert read(mnt.offer("contoso-app", "operations", "latest",
                          "status")) == "running\n"


def test_eintr_reaches_a_reader_that_handles_sigint(emu, mnt):
    """A program that catches SIGINT (here a Python child that turns it
    into an exception) sees its read of `wait` fail at once rather than
    staying blocked: the read is answered EINTR."""
    wait = mnt.offer("contoso-app", "operations", "latest", "wait")
    code = ("import os, signal, sys\n"
            "signal.signal(signal.SIGINT, lambda *a: sys.exit(7))\n"
            f"fd = os.open({wait!r}, os.O_RDONLY)\n"
            "print('open', flush=True)\n"
            "os.read(fd, 64)\n"
            "sys.exit(0)\n")
    p = subprocess.Popen(["/usr/bin/python3", "-c", code],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        assert wait_for(lambda: stat_of(mnt, "reads_waiting") == 1, 10)
        p.send_signal(signal.SIGINT)
        assert p.wait(5) == 7
        assert wait_for(lambda: stat_of(mnt, "reads_waiting") == 0, 2)
    finally:
        kill_all([p])


def test_poll_says_readable_when_the_operation_ends(emu, mnt):
    """select(2) on an open `wait` says nothing while the operation runs
    and readable once it has ended; the read then gives the word."""
    wait = mnt.offer("contoso-app", "operations", "latest", "wait")
    fd = os.open(wait, os.O_RDONLY)
    try:
        r, _, _ = select.select([fd], [], [], 0.5)
        assert r == []
        p = select.poll()
        p.register(fd, select.POLLIN)
        assert p.poll(200) == []
        emu.tick(5)  # contoso-app's publish completes
        r, _, _ = select.select([fd], [], [], 10)
        assert r == [fd]
        assert os.read(fd, 64) == b"completed\n"
    finally:
        os.close(fd)


def test_retention_forgets_ended_operations(emu, make_mount):
    """With `-o retention=1` an operation this mount started and saw end
    leaves the mount's memory about a second after it ended:
    .partnerfs/stats operations_tracked goes down. The user loses
    nothing the server still has: CPP's submissions listing keeps every
    operation of an offer, so `ls operations/` still shows it, its status
    still reads `completed` and `latest` still names it (the mount learns
    it again from the listing, and forgets it again a retention later)."""
    m = make_mount(emu, "poll_interval=0.2,retention=1")
    publish_all(m, ["contoso-draft"])
    ops = m.offer("contoso-draft", "operations")

    def latest():
        return run(["readlink", os.path.join(ops, "latest")]).stdout.strip()
    op = latest()
    assert op
    assert wait_for(lambda: stat_of(m, "operations_active") == 1, 5)
    tracked = stat_of(m, "operations_tracked")
    assert tracked >= 1
    emu.tick(5)
    r = run(["cat", os.path.join(ops, op, "wait")], timeout=10)
    assert r.stdout == "completed\n"
    t_end = time.monotonic()
    assert wait_for(lambda: stat_of(m, "operations_tracked") < tracked, 5,
                    0.05)
    # Not before the retention has passed.
    assert time.monotonic() - t_end > 0.8
    assert stat_of(m, "operations_active") == 0
    # What a user sees: the server still lists it.
    assert op in run(["ls", ops]).stdout.split()
    assert read(os.path.join(ops, op, "status")) == "completed\n"
    assert latest() == op
    assert stat_of(m, "operations_tracked") >= 1
    # And forgotten again.
    assert wait_for(lambda: stat_of(m, "operations_tracked") == 0, 5)


def read_every_operation(m, offers):
    """`cat` of every listed operation's status, as `cat */status` would:
    {path: content}."""
    got = {}
    for o in offers:
        ops = m.offer(o, "operations")
        for op in run(["ls", ops]).stdout.split():
            if op != "latest":
                path = os.path.join(ops, op, "status")
                got[path] = read(path)
    return got


def test_the_kernel_forgets_operations_nobody_uses(emu, make_mount):
    """The kernel keeps every name it has looked up until memory runs
    short, and the mount keeps a node for each: with every operation a
    mount has seen, memory without end. With `-o cache_ttl=1,forget_after=2` an
    operation's directory that nobody has looked up for 2 s leaves the
    kernel and the node table (.partnerfs/stats: nodes_known loses the
    operations' directories and files; forget_probes counts the kernel
    being made to drop a name). The user sees nothing of it: the
    same operations are listed and read alike afterwards."""
    m = make_mount(emu, "cache_ttl=1,forget_after=2")
    offers = ["contoso-vm", "contoso-app", "contoso-review"]
    first = read_every_operation(m, offers)
    assert len(first) >= 4
    peak = stat_of(m, "nodes_known")
    # A directory and a status file for each operation go.
    gone = peak - 2 * len(first)
    assert wait_for(lambda: stat_of(m, "nodes_known") <= gone, 20, 0.2), \
        (peak, stat_of(m, "nodes_known"))
    assert stat_of(m, "forget_probes") >= len(first)
    assert read_every_operation(m, offers) == first
    # Used again, they are known again, and forgotten again.
    assert stat_of(m, "nodes_known") >= peak
    assert wait_for(lambda: stat_of(m, "nodes_known") <= gone, 20, 0.2)


def test_a_watcher_of_a_forgotten_operation_still_hears(emu, make_mount):
    """inotifywait on a running operation's status, and nothing else
    looks at the operation for longer than forget_after: its directory
    leaves the kernel's name cache (the watch keeps the file itself), and
    when the operation moves, the watcher hears of it all the same, and
    its status reads the new state."""
    m = make_mount(emu, "poll_interval=0.2,cache_ttl=1,forget_after=2")
    publish_all(m, ["contoso-draft"])
    ops = m.offer("contoso-draft", "operations")
    op = run(["readlink", os.path.join(ops, "latest")]).stdout.strip()
    status = os.path.join(ops, op, "status")
    assert read(status) == "notStarted\n"
    probes = stat_of(m, "forget_probes")
    p = subprocess.Popen(["inotifywait", "-t", "60", "-e", "attrib", status],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        line = p.stderr.readline()  # inotifywait -t bounds it
        while line and "Watches established" not in line:
            line = p.stderr.readline()
        assert line, "inotifywait did not start"
        assert wait_for(lambda: stat_of(m, "forget_probes") > probes, 20,
                        0.2), "the operation's directory was never dropped"
        time.sleep(1)
        assert p.poll() is None, "an event without a change"
        emu.tick()
        out, _ = p.communicate(timeout=15)
        assert out.strip() == f"{status} ATTRIB"
    finally:
        kill_all([p])
    assert read(status) == "running\n"


def test_a_process_working_in_an_operation_keeps_it(emu, make_mount):
    """A shell left in an operation's directory (its cwd) for longer than
    forget_after while nothing else looks at it: the kernel is not made to
    drop that name (it would unhash the directory under the process, and
    getcwd() would fail), and a relative read from there still works."""
    m = make_mount(emu, "cache_ttl=1,forget_after=2")
    ops = m.offer("contoso-vm", "operations")
    op = next(o for o in run(["ls", ops]).stdout.split() if o != "latest")
    d = os.path.join(ops, op)
    script = ("import os, sys, time\n"
              "os.chdir(sys.argv[1]); time.sleep(9)\n"
              "print(os.getcwd()); print(open('status').read(), end='')\n")
    r = run(["/usr/bin/python3", "-c", script, d], timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [d, "completed"]
