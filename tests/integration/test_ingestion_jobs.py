"""Jobs of the ingestion backend (doc/design.md section 8): registered
from the 2xx body (jobId or jobID), polled with configure/<id>/status to
their end, shown as status, status.json, detail.json, wait, watched with
inotifywait and tail -f events; cancelled through the product's cancel
and the job's own; a 5xx on a status GET is "still pending"; and the
state file that makes a remount after kill -9 know them all."""
import errno
import os
import re
import signal
import stat
import subprocess
import time

from inghelpers import (BASE, DRAFT, ing_emulator, ing_mount, ing_requests,
                        prod, state_files)
# the ingestion API's emu, mnt and state_dir fixtures, in place of conftest's
from inghelpers import emu, mnt, state_dir  # noqa: F401
from ophelpers import background, q, read_line, sh, wait_ready, write_errno
from util import errno_of, read, wait_for

EVENT_RE = re.compile(r"^\S+Z products/(\S+) job (\S+) (\S+) -> (\S+)$")


def publish(mnt, ext="contoso-draft"):
    assert write_errno(prod(mnt, ext, "publish"), b"\n") == (0, 0)
    return os.readlink(prod(mnt, ext, "operations", "latest"))


def op(mnt, job, *parts, ext="contoso-draft"):
    return prod(mnt, ext, "operations", job, *parts)


def wait_status(mnt, job, want, ext="contoso-draft", timeout=5):
    return wait_for(lambda: read(op(mnt, job, "status", ext=ext)) == want,
                    timeout)


def test_job_lifecycle(emu, mnt):
    job = publish(mnt)
    assert read(op(mnt, job, "status")) == "notStarted\n"
    assert sorted(os.listdir(op(mnt, job))) == [
        "cancel", "status", "status.json"]
    assert errno_of(os.stat, op(mnt, job, "detail.json")) == errno.ENOENT
    emu.tick()
    assert wait_status(mnt, job, "running\n")
    emu.tick(3)
    assert wait_status(mnt, job, "succeeded\n")
    doc = read(op(mnt, job, "status.json"))
    assert '"jobStatus": "completed"' in doc and '"jobResult": "succeeded"' in doc
    detail = read(op(mnt, job, "detail.json"))
    assert "configure-detail" in detail
    # the root's operations/ knows it too, with the same files
    assert read(mnt.p("operations", job, "status")) == "succeeded\n"
    assert os.readlink(mnt.p("operations", "latest")) == job
    # polled with configure/<id>/status, at most one status GET per poll
    polls = ing_requests(emu, "GET", f"configure/{job}/status")
    assert polls
    assert read(prod(mnt, "contoso-draft", "status")) == "succeeded\n"
    assert "preview" in os.listdir(prod(mnt, "contoso-draft"))


def test_wait_blocks_until_the_end(emu, mnt):
    job = publish(mnt)
    with background(["cat", op(mnt, job, "wait")],
                    stdout=subprocess.PIPE) as p:
        time.sleep(0.5)
        assert p.poll() is None, "wait returned before the end"
        emu.tick(4)
        assert read_line(p.stdout, 5).strip() == "succeeded"
    assert "wait" not in os.listdir(op(mnt, job))


def test_events_one_line_per_product(emu, mnt):
    a = os.path.join
    job = publish(mnt)
    emu.tick()
    assert wait_status(mnt, job, "running\n")
    lines = [EVENT_RE.match(ln) for ln in read(mnt.p("events")).splitlines()]
    assert ("contoso-draft", job, "notStarted", "running") in [
        m.groups() for m in lines if m]
    del a


def test_tail_f_events_and_inotifywait_see_the_change(emu, mnt):
    job = publish(mnt)
    time.sleep(0.5)
    status = op(mnt, job, "status")
    with background(["tail", "-n", "0", "-f", mnt.p("events")],
                    stdout=subprocess.PIPE) as tail, \
            background(["inotifywait", "-t", "20", "-e", "attrib", status],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE) as ino:
        assert wait_ready(ino.stderr, "Watches established")
        time.sleep(0.3)
        emu.tick()
        line = read_line(tail.stdout, 5)
        assert line and EVENT_RE.match(line).groups() == (
            "contoso-draft", job, "notStarted", "running")
        assert read_line(ino.stdout, 5) is not None, "no inotify event"


def test_job_id_spelled_jobID(make_emulator, make_mount, state_dir):
    emu = ing_emulator(make_emulator, "--job-id-spelling=jobID")
    mnt = ing_mount(make_mount, emu, state_dir=state_dir)
    job = publish(mnt)
    emu.tick(4)
    assert wait_status(mnt, job, "succeeded\n")


def test_product_cancel(emu, mnt):
    job = publish(mnt)
    emu.clear_requests()
    r = sh("bash", f"echo > {q(prod(mnt, 'contoso-draft', 'cancel'))}")
    assert r.returncode == 0, r.stderr
    posts = ing_requests(emu, "POST")
    assert [p["rel"] for p in posts] == [f"configure/{job}/cancel"]
    assert read(op(mnt, job, "status")) == "cancelled\n"
    assert "status: 200" in read(prod(mnt, "contoso-draft", "cancel"))
    assert "configure-detail" in read(op(mnt, job, "detail.json"))


def test_cancel_with_nothing_running(emu, mnt):
    emu.clear_requests()
    assert write_errno(prod(mnt, "contoso-vm", "cancel"), b"\n")[0] == \
        errno.ENOENT
    assert ing_requests(emu, "POST") == []
    assert "no unfinished job" in read(prod(mnt, "contoso-vm", "cancel"))
    assert write_errno(prod(mnt, "contoso-vm", "cancel"), b"now\n")[0] == \
        errno.EINVAL


def test_cancel_of_an_ended_job_is_busy(emu, mnt):
    job = publish(mnt)
    emu.tick(4)
    assert wait_status(mnt, job, "succeeded\n")
    emu.clear_requests()
    assert write_errno(op(mnt, job, "cancel"), b"\n")[0] == errno.EBUSY
    assert ing_requests(emu, "POST") == []
    assert "already ended" in read(op(mnt, job, "cancel"))


def test_cancel_too_late_for_the_api_is_busy(emu, make_mount, state_dir):
    # polled rarely: the job ends on the emulator before the mount knows
    mnt = ing_mount(make_mount, emu, "poll_interval=30", state_dir=state_dir)
    job = publish(mnt)
    emu.tick(4)
    emu.clear_requests()
    assert write_errno(op(mnt, job, "cancel"), b"\n")[0] == errno.EBUSY
    assert [p["rel"] for p in ing_requests(emu, "POST")] == [
        f"configure/{job}/cancel"]
    out = read(op(mnt, job, "cancel"))
    assert "status: 400" in out and "already completed" in out


def test_5xx_on_status_is_still_pending(emu, mnt):
    job = publish(mnt)
    emu.fault(path=f"{BASE}/configure/*/status", status=503, count=-1)
    emu.tick(4)
    time.sleep(1.5)
    assert read(op(mnt, job, "status")) == "notStarted\n"
    assert "failed" not in read(mnt.p("events"))
    emu.call("DELETE", "/_emulator/faults")
    # backoff doubles from 0.2 s; it has not grown past a few seconds yet
    assert wait_status(mnt, job, "succeeded\n", timeout=15)


def test_state_file_is_written_before_the_write_returns(emu, mnt, state_dir):
    job = publish(mnt)
    files = state_files(state_dir)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
    assert f"job {job} " in read(files[0])
    assert "contoso-draft" in read(files[0])


def test_kill_9_and_remount_resumes_every_job(emu, make_mount, state_dir):
    m1 = ing_mount(make_mount, emu, state_dir=state_dir)
    done = publish(m1, "contoso-saas")
    emu.tick(4)
    assert wait_status(m1, done, "succeeded\n", ext="contoso-saas")
    # The watchers' touches of that change go through the mount itself:
    # a daemon killed with one in flight waits for its own answer
    # forever (a FUSE self-request), so let them end first.
    assert wait_for(lambda: f"job {done} " in read(m1.p("events")), 5)
    time.sleep(1)
    running = publish(m1)
    time.sleep(3 * 0.2)  # its first poll: no change, no touch
    m1.proc.send_signal(signal.SIGKILL)
    m1.proc.wait(10)
    subprocess.run(["fusermount3", "-u", "-z", m1.path], timeout=10)
    emu.clear_requests()
    m2 = ing_mount(make_mount, emu, state_dir=state_dir)
    assert sorted(os.listdir(m2.p("operations"))) == sorted(
        [done, running, "latest"])
    assert os.listdir(prod(m2, "contoso-draft", "operations")) != []
    assert running in os.listdir(prod(m2, "contoso-draft", "operations"))
    assert done in os.listdir(prod(m2, "contoso-saas", "operations"))
    assert read(op(m2, done, "status", ext="contoso-saas")) == "succeeded\n"
    emu.tick(4)
    assert wait_status(m2, running, "succeeded\n")
    # the ended job was not polled again; the unfinished one was
    assert not ing_requests(emu, "GET", f"configure/{done}/status")
    assert ing_requests(emu, "GET", f"configure/{running}/status")


def test_retention_forgets_ended_jobs(emu, make_mount, state_dir):
    """An ended job stays listed for `retention` seconds, then the mount
    forgets it, and a later mount finds it gone from the state file."""
    m1 = ing_mount(make_mount, emu, "retention=2", state_dir=state_dir)
    job = publish(m1)
    emu.tick(4)
    assert wait_status(m1, job, "succeeded\n")
    assert wait_for(lambda: "succeeded" in read(state_files(state_dir)[0]))
    m1.stop()
    time.sleep(3.5)  # the state file keeps times in whole seconds
    m2 = ing_mount(make_mount, emu, "retention=2", state_dir=state_dir)
    assert os.listdir(m2.p("operations")) == []


def test_entr_runs_on_a_product_status_change(emu, mnt, tmpdir_short):
    job = publish(mnt)
    time.sleep(0.5)
    out = os.path.join(tmpdir_short, "entr.out")
    jobdir = op(mnt, job)
    # -n: not interactive (no TTY here); -p: only after a change.
    script = f"echo status | entr -np sh -c 'cat status >> {q(out)}'"
    with background(["sh", "-c", script], cwd=jobdir,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(1.0)  # entr sets up its watches
        assert p.poll() is None, p.stderr.read()
        assert not os.path.exists(out)
        emu.tick()
        assert wait_for(lambda: os.path.exists(out), 5), "entr did not run"
        assert wait_for(lambda: "running" in read(out), 2)


def test_token_rejected_while_mounted(emu, mnt):
    """A token that stops working: reads of what is not cached are EACCES
    and say so in last-error; the mount stays up and recovers with a good
    token."""
    with open(mnt.token_file, "w") as f:
        f.write("revoked-token\n")
    time.sleep(1.1)  # the token file is re-read when its mtime moves
    path = prod(mnt, "northwind-vm", "submissions.json")
    assert errno_of(read, path) == errno.EACCES
    assert "401" in read(mnt.p(".partnerfs", "last-error")) or \
        "token" in read(mnt.p(".partnerfs", "last-error")).lower()
    with open(mnt.token_file, "w") as f:
        f.write("sandbox-token\n")
    def readable():
        try:
            return '"value"' in read(path)
        except OSError:
            return False
    assert wait_for(readable, 5)


def test_version_on_every_write_and_poll(emu, mnt):
    from inghelpers import V
    job = publish(mnt)
    assert write_errno(prod(mnt, "contoso-draft", "cancel"), b"\n") == (0, 0)
    assert "configure-detail" in read(op(mnt, job, "detail.json"))
    reqs = ing_requests(emu)
    assert {r["method"] for r in reqs} == {"GET", "POST"}
    for r in reqs:
        assert f"$version={V}" in r["query"], r
