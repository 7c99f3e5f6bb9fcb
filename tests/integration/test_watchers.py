"""File watchers and the events log (doc/design.md §3): inotifywait
(attrib, close_write, modify), entr, tail -f and plain reads of events
see a state change within poll_interval + 1 s of the emulator moving the
operation, and only the poller may write-open a read-only file.

The emulator's clock is stopped (--step-ms 0); each test starts a publish
of contoso-draft (notStarted) and moves it with emu.tick().
"""
import datetime
import errno
import os
import re
import subprocess
import threading
import time

import pytest

from ophelpers import (background, newest_op, q, read_line, read_text, sh,
                       wait_ready, wait_text, write_errno)
from util import run

POLL = 0.2
# What the design promises: a watcher sees the change within one poll
# interval plus one second (GNU tail polls once a second on FUSE).
WITHIN = POLL + 1.0
OP11 = "c0ffee00-0000-4000-8000-000000000011"  # contoso-app, running

EVENT_RE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (\S+)/(\S+) operation (\S+) "
    r"(\S+) -> (\S+)$")


@pytest.fixture
def started(emu, mnt):
    """A publish started through the mount: (op id, its status path)."""
    assert write_errno(mnt.offer("contoso-draft", "publish"),
                       b"ops@contoso.com\n") == (0, 0)
    op = newest_op(emu, "contoso-draft")
    status = mnt.offer("contoso-draft", "operations", op, "status")
    assert read_text(status) == "notStarted\n"
    # Let the poller settle on the state it has (no change pending).
    time.sleep(2 * POLL)
    return op, status


def latest_status(mnt):
    return mnt.offer("contoso-draft", "operations", "latest", "status")


def assert_inotify_sees(emu, path, event, shown):
    """Starts inotifywait -e event on path, checks it stays quiet while
    nothing changes, ticks, and checks that the event comes within WITHIN,
    named as inotifywait prints it (shown), and that the new content
    (running) is there."""
    cmd = ["inotifywait", "-t", "20", "-e", event, path]
    with background(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert wait_ready(p.stderr, "Watches established"), "inotifywait did not start"
        time.sleep(3 * POLL)
        assert p.poll() is None, "event without a state change: " + \
            (read_line(p.stdout, 1) or "")
        emu.tick()
        t0 = time.monotonic()
        line = read_line(p.stdout, WITHIN + 2)
        dt = time.monotonic() - t0
        assert line is not None, f"no {event} event"
    assert line.strip() == f"{path} {shown}"
    assert dt <= WITHIN, dt
    assert read_text(path) == "running\n"


# --- inotify ----------------------------------------------------------------

def test_inotifywait_attrib_on_latest_status(emu, mnt, started):
    path = latest_status(mnt)
    assert_inotify_sees(emu, path, "attrib", "ATTRIB")


def test_inotifywait_close_write_on_status(emu, mnt, started):
    op, path = started
    assert_inotify_sees(emu, path, "close_write", "CLOSE_WRITE,CLOSE")


def test_inotifywait_modify_on_status(emu, mnt, started):
    op, path = started
    assert_inotify_sees(emu, path, "modify", "MODIFY")


def test_inotifywait_on_operation_json_and_events(emu, mnt, started):
    op, status = started
    doc = mnt.offer("contoso-draft", "operations", op, "operation.json")
    events = mnt.p("events")
    cmd = ["inotifywait", "-m", "-t", "20", "-e", "close_write", doc, events]
    with background(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert wait_ready(p.stderr, "Watches established")
        emu.tick()
        seen = set()
        deadline = time.monotonic() + WITHIN
        while len(seen) < 2 and time.monotonic() < deadline:
            line = read_line(p.stdout, deadline - time.monotonic())
            if line:
                seen.add(line.split()[0])
        assert seen == {doc, events}


def test_inotifywait_sees_every_change_and_only_changes(emu, mnt, started):
    op, path = started
    cmd = ["inotifywait", "-m", "-t", "30", "-e", "close_write", path]
    with background(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert wait_ready(p.stderr, "Watches established")
        # notStarted -> running (1), running x3 (document changes only),
        # running -> completed (1)
        emu.tick()
        assert read_line(p.stdout, WITHIN) is not None
        emu.tick(4)
        assert read_line(p.stdout, WITHIN + 1) is not None
        assert wait_text(path, "completed\n") == "completed\n"
        # nothing more once terminal
        assert read_line(p.stdout, 4 * POLL + 0.5) is None


def test_status_mtime_is_the_time_of_the_change(emu, mnt, started):
    op, path = started
    before = os.stat(path).st_mtime
    time.sleep(1.1)  # st_mtime has whole seconds
    emu.tick()
    t = time.time()
    assert wait_text(path, "running\n") == "running\n"
    after = os.stat(path).st_mtime
    assert after > before
    assert abs(after - t) < 2
    assert os.stat(mnt.p("events")).st_mtime >= int(t)


def test_inotifywait_on_the_offer_status(emu, mnt, started):
    path = mnt.offer("contoso-draft", "status")
    assert read_text(path) == "notStarted\n"
    assert_inotify_sees(emu, path, "close_write", "CLOSE_WRITE,CLOSE")


def test_open_handles_across_a_change(emu, mnt, started):
    """A reader keeps its snapshot; the change is neither blocked nor
    hidden from a new open (no page invalidation under an open file)."""
    op, path = started
    fd = os.open(path, os.O_RDONLY)
    try:
        assert os.pread(fd, 100, 0) == b"notStarted\n"
        with background(["tail", "-f", path], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE):
            emu.tick()
            assert wait_text(path, "running\n", timeout=WITHIN + 1) == "running\n"
            assert os.pread(fd, 100, 0) == b"notStarted\n"
            assert os.stat(path).st_size == len(b"running\n")
            emu.tick(4)
            assert wait_text(path, "completed\n", timeout=WITHIN + 1) == "completed\n"
    finally:
        os.close(fd)


# --- entr -------------------------------------------------------------------

def test_entr_runs_on_change(emu, mnt, started, tmpdir_short):
    op, status = started
    opdir = os.path.dirname(status)
    out = os.path.join(tmpdir_short, "entr.out")
    # -n: not interactive (no TTY here); -p: only after a change.
    script = f"echo status | entr -np sh -c 'cat status >> {q(out)}'"
    with background(["sh", "-c", script], cwd=opdir,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(1.0)  # entr sets up its watches
        assert p.poll() is None, p.stderr.read()
        assert not os.path.exists(out)  # -p: nothing ran yet
        emu.tick()
        t0 = time.monotonic()
        while time.monotonic() - t0 < WITHIN + 2 and not os.path.exists(out):
            time.sleep(0.02)
        dt = time.monotonic() - t0
        assert os.path.exists(out), "entr did not run"
        assert dt <= WITHIN, dt
        time.sleep(0.3)
        lines = read_text(out).splitlines()
        assert lines and set(lines) == {"running"}, lines
        # and again at the next change of state
        emu.tick(4)
        deadline = time.monotonic() + WITHIN + 2
        while time.monotonic() < deadline and \
                "completed" not in read_text(out):
            time.sleep(0.05)
        assert read_text(out).splitlines()[-1] == "completed"


# --- tail -f and the events log -----------------------------------------------

def test_tail_f_events_sees_the_change(emu, mnt, started):
    op, status = started
    events = mnt.p("events")
    with background(["tail", "-n", "0", "-f", events],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(1.5)  # tail has read the (empty) file and follows it
        emu.tick()
        t0 = time.monotonic()
        line = read_line(p.stdout, WITHIN + 2)
        dt = time.monotonic() - t0
        assert line is not None, "tail -f printed nothing"
        m = EVENT_RE.match(line.rstrip("\n"))
        assert m, line
        assert m.groups()[1:] == ("contoso", "contoso-draft", op, "notStarted", "running")
        assert dt <= WITHIN, dt


def test_tail_f_follows_several_changes(emu, mnt, started):
    op, status = started
    events = mnt.p("events")
    with background(["tail", "-f", events],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(1.2)
        emu.tick()
        first = read_line(p.stdout, WITHIN + 2)
        emu.tick(4)
        second = read_line(p.stdout, WITHIN + 2)
        assert first and first.endswith(f"operation {op} notStarted -> running\n")
        assert second and second.endswith(f"operation {op} running -> completed\n")


def test_events_one_line_per_state_change(emu, mnt, started):
    op, status = started
    events = mnt.p("events")
    assert read_text(events) == ""  # nothing has changed yet
    # contoso-app's running operation (known from its listing), canceled
    target = mnt.offer("contoso-app", "operations", OP11, "status")
    assert read_text(target) == "running\n"
    assert write_errno(mnt.offer("contoso-app", "cancel"), b"a@x.com\n") == (0, 0)
    cancel_op = newest_op(emu, "contoso-app")
    cancel_status = mnt.offer("contoso-app", "operations", cancel_op, "status")
    assert read_text(cancel_status) == "notStarted\n"
    time.sleep(3 * POLL)
    assert read_text(events) == ""
    emu.tick()  # publish starts; cancel completes; its target is canceled
    assert wait_text(status, "running\n") == "running\n"
    assert wait_text(target, "canceled\n") == "canceled\n"
    assert wait_text(cancel_status, "completed\n") == "completed\n"
    for _ in range(3):  # steps move, the state does not
        emu.tick()
        time.sleep(3 * POLL)
    emu.tick()
    assert wait_text(status, "completed\n") == "completed\n"
    time.sleep(3 * POLL)
    text = read_text(events)
    assert text.endswith("\n")
    lines = text.splitlines()
    parsed = []
    now = datetime.datetime.now(datetime.timezone.utc)
    for line in lines:
        m = EVENT_RE.match(line)
        assert m, line
        stamp = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        assert abs((now - stamp).total_seconds()) < 120, line
        parsed.append(m.groups()[1:])
    assert sorted(parsed[:3]) == sorted([
        ("contoso", "contoso-draft", op, "notStarted", "running"),
        ("contoso", "contoso-app", OP11, "running", "canceled"),
        ("contoso", "contoso-app", cancel_op, "notStarted", "completed"),
    ])
    assert parsed[3:] == [("contoso", "contoso-draft", op, "running", "completed")]
    # time stamps never go back
    stamps = [EVENT_RE.match(x).group(1) for x in lines]
    assert stamps == sorted(stamps)


def test_events_read_at_end_is_eof_and_size_is_exact(emu, mnt, started):
    events = mnt.p("events")
    # empty log: cat returns at once
    r = run(["cat", events], timeout=5)
    assert (r.returncode, r.stdout) == (0, "")
    assert os.stat(events).st_size == 0
    emu.tick()
    assert wait_text(started[1], "running\n") == "running\n"
    fd = os.open(events, os.O_RDONLY)
    try:
        data = b""
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        assert data.count(b"\n") == 1
        assert os.fstat(fd).st_size == len(data)
        # At the end: EOF, never a read that waits for the next event
        # (none comes until the emulator ticks again).
        at_end = []
        reader = threading.Thread(
            target=lambda: at_end.append(os.read(fd, 4096)), daemon=True)
        reader.start()
        reader.join(5)
        assert at_end == [b""]
        # appended later: the same open file shows it (append-only)
        emu.tick(4)
        assert wait_text(started[1], "completed\n") == "completed\n"
        time.sleep(0.2)
        more = os.read(fd, 4096)
        assert more.endswith(b"running -> completed\n"), more
        assert os.fstat(fd).st_size == len(data) + len(more)
    finally:
        os.close(fd)
    # tools that read st_size bytes get the whole log
    assert run(["cp", events, "/dev/stdout"], timeout=5).stdout.encode() == data + more


# --- only the poller may write-open read-only files -------------------------------

@pytest.mark.parametrize("which", ["status", "operation.json", "events"])
def test_user_write_open_of_read_only_file_is_eacces(which, emu, mnt, started):
    op, status = started
    path = mnt.p("events") if which == "events" else \
        mnt.offer("contoso-draft", "operations", op, which)
    before = read_text(path)
    with pytest.raises(PermissionError) as e:
        os.open(path, os.O_WRONLY)
    assert e.value.errno == errno.EACCES
    with pytest.raises(PermissionError):
        os.open(path, os.O_RDWR)
    for shell in ("bash", "dash"):
        r = sh(shell, f"echo x > {q(path)} || echo failed")
        assert r.stdout == "failed\n", r.stderr
    r = run(["touch", path])
    assert r.returncode != 0 and "Permission denied" in r.stderr
    assert read_text(path) == before
    mode = os.stat(path).st_mode & 0o777
    assert mode == 0o444


def events_after_a_change(emu, m):
    """Publishes contoso-draft through m, moves it once; the events text."""
    assert write_errno(m.offer("contoso-draft", "publish"),
                       b"ops@contoso.com\n") == (0, 0)
    op = newest_op(emu, "contoso-draft")
    emu.tick()
    status = m.offer("contoso-draft", "operations", op, "status")
    assert wait_text(status, "running\n") == "running\n"
    events = m.p("events")
    deadline = time.monotonic() + 5
    while "notStarted -> running" not in read_text(events) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    return op, read_text(events)


def test_the_events_log_is_a_file_not_the_daemons_memory(emu, make_mount,
                                                          tmp_path):
    """The events log lives in an unlinked file of the daemon's $TMPDIR
    (mode 0600), so its megabytes are page cache the kernel may take back,
    not heap: /proc/<pid>/fd shows it, deleted, once a change was logged;
    `cat events` shows what it holds."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    m = make_mount(emu, "poll_interval=0.2",
                   env=dict(os.environ, TMPDIR=str(tmpdir)))
    op, text = events_after_a_change(emu, m)
    assert f"operation {op} notStarted -> running" in text
    fd_dir = f"/proc/{m.proc.pid}/fd"
    held = [os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)]
    logs = [t for t in held if t.startswith(str(tmpdir) + "/") and
            t.endswith(" (deleted)")]
    assert len(logs) == 1, held
    assert list(tmpdir.iterdir()) == []  # nothing left for others to read


def test_the_events_log_without_a_writable_tmpdir(emu, make_mount):
    """No file can be made ($TMPDIR does not exist): the log is kept in
    memory, and reads the same."""
    m = make_mount(emu, "poll_interval=0.2",
                   env=dict(os.environ, TMPDIR="/nonexistent/partnerfs"))
    op, text = events_after_a_change(emu, m)
    assert EVENT_RE.match(text.splitlines()[0]), text
    assert f"operation {op} notStarted -> running" in text
    assert "no file for the events log" in m.log()
