"""Operations (doc/design.md §3): operations/<id>/ and `latest` after a
202, states followed by the poller as the emulator's clock advances, the
operation document, every form of operation location, `wait`, and
recursive tools over a mount with operations in flight.

The emulator's clock is stopped (--step-ms 0): operations move only on
emu.tick(). A publish goes notStarted -> running (4 ticks of steps) ->
completed on the 5th tick; a cancel completes on the next tick and marks
its target canceled.
"""
import copy
import errno
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import SEED
from ophelpers import (API_VERSION, api_get, background, fs_requests,
                       newest_op, q, read_line, read_text, submissions,
                       wait_ready, wait_text, write_errno)
from util import run, wait_for

OP11 = "c0ffee00-0000-4000-8000-000000000011"  # contoso-app, running
SEEDED_VM_OPS = ["c0ffee00-0000-4000-8000-%012d" % n for n in (1, 2, 3, 4)]


def publish(mnt, offer="contoso-draft", action="publish"):
    assert write_errno(mnt.offer(offer, action), b"ops@contoso.com\n") == (0, 0)


def op_path(mnt, offer, op, *parts):
    return mnt.offer(offer, "operations", op, *parts)


def tick_and_expect(emu, path, want, timeout=3.0):
    emu.tick()
    got = wait_text(path, want + "\n", timeout)
    assert got == want + "\n"


# --- a 202 and what appears ------------------------------------------------

def test_202_makes_operation_dir_and_latest_appear_at_once(emu, mnt):
    ops = mnt.offer("contoso-draft", "operations")
    assert "latest" not in os.listdir(ops)  # never published: no operation
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    # No waiting: the write returned after the 202 was registered.
    assert os.readlink(os.path.join(ops, "latest")) == op
    assert run(["readlink", os.path.join(ops, "latest")]).stdout == op + "\n"
    assert os.path.isdir(os.path.join(ops, op))
    assert sorted(run(["ls", ops], check=True).stdout.split()) == sorted([op, "latest"])
    assert read_text(os.path.join(ops, "latest", "status")) == "notStarted\n"


def test_latest_follows_the_newest_operation_started_here(emu, mnt):
    publish(mnt, "contoso-app", "cancel")
    cancel_op = newest_op(emu, "contoso-app")
    assert cancel_op != OP11
    assert os.readlink(mnt.offer("contoso-app", "operations", "latest")) == cancel_op


def test_publish_status_moves_through_states_with_ticks(emu, mnt):
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    status = op_path(mnt, "contoso-draft", op, "status")
    doc = op_path(mnt, "contoso-draft", op, "operation.json")
    assert read_text(status) == "notStarted\n"
    for step in range(4):
        tick_and_expect(emu, status, "running")
        # the document moves too: step `step` is the one in progress
        assert wait_for(lambda: json.loads(read_text(doc))["steps"][step]["status"]
                        == "inProgress", timeout=3), read_text(doc)
    tick_and_expect(emu, status, "completed")
    assert json.loads(read_text(doc))["status"] == "completed"
    # terminal: the poller stops asking
    time.sleep(0.5)
    n = len(fs_requests(emu, method="GET", path_prefix=f"/api/publishers/contoso/offers/contoso-draft/operations/{op}"))
    time.sleep(1.0)
    m = len(fs_requests(emu, method="GET", path_prefix=f"/api/publishers/contoso/offers/contoso-draft/operations/{op}"))
    assert m == n


def test_golive_status_completes(emu, mnt):
    publish(mnt, "contoso-review", "golive")
    op = newest_op(emu, "contoso-review")
    status = op_path(mnt, "contoso-review", op, "status")
    assert read_text(status) == "notStarted\n"
    tick_and_expect(emu, status, "running")
    tick_and_expect(emu, status, "completed")


def test_cancel_marks_the_target_canceled(emu, mnt):
    target = op_path(mnt, "contoso-app", OP11, "status")
    assert read_text(target) == "running\n"  # known from the listing
    publish(mnt, "contoso-app", "cancel")
    cancel_op = newest_op(emu, "contoso-app")
    cancel_status = op_path(mnt, "contoso-app", cancel_op, "status")
    assert read_text(cancel_status) == "notStarted\n"
    emu.tick()
    assert wait_text(cancel_status, "completed\n") == "completed\n"
    assert wait_text(target, "canceled\n") == "canceled\n"
    assert read_text(op_path(mnt, "contoso-app", OP11, "wait")) == "canceled\n"


def test_operations_lists_api_submissions_plus_started_here(emu, mnt):
    ops = mnt.offer("contoso-vm", "operations")
    assert sorted(os.listdir(ops)) == sorted(SEEDED_VM_OPS + ["latest"])
    # the seeded listing is newest first: latest is its first element
    assert os.readlink(os.path.join(ops, "latest")) == SEEDED_VM_OPS[-1]
    publish(mnt, "contoso-vm")
    op = newest_op(emu, "contoso-vm")
    assert op not in SEEDED_VM_OPS
    assert sorted(run(["ls", ops], check=True).stdout.split()) == \
        sorted(SEEDED_VM_OPS + [op, "latest"])
    for seeded in SEEDED_VM_OPS:
        assert read_text(os.path.join(ops, seeded, "status")) == "completed\n"


def test_operation_started_here_is_listed_even_when_the_api_omits_it(emu, mnt):
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    # From now on the submissions listing comes back empty.
    emu.fault(method="GET", path="*/contoso-draft/submissions*", status=200,
              body="[]", count=-1)
    ops = mnt.offer("contoso-draft", "operations")
    assert sorted(os.listdir(ops)) == sorted([op, "latest"])
    assert read_text(os.path.join(ops, op, "status")) == "notStarted\n"


def test_listed_operations_are_polled_until_terminal(emu, mnt):
    status = op_path(mnt, "contoso-app", OP11, "status")
    assert read_text(status) == "running\n"
    emu.tick(3)  # seeded at step 1: steps 2 and 3, then sign-off reached
    assert wait_text(status, "completed\n") == "completed\n"


# --- the operation document -------------------------------------------------


def test_operation_json_is_the_document_from_the_location(emu, mnt):
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    path = op_path(mnt, "contoso-draft", op, "operation.json")
    emu.tick()
    assert wait_text(op_path(mnt, "contoso-draft", op, "status"), "running\n") == "running\n"
    loc = f"/api/publishers/contoso/offers/contoso-draft/operations/{op}"
    st, api_doc = api_get(emu, loc)
    assert st == 200
    text = wait_for(lambda: (lambda t: t if json.loads(t) == api_doc else None)(read_text(path)),
                    timeout=3)
    assert text, read_text(path)
    assert text.endswith("}\n")
    assert os.stat(path).st_size == len(text.encode())
    url = os.getxattr(path, "user.partnerfs.url").decode()
    assert url.endswith(f"{loc}?{API_VERSION}")


def test_operation_json_of_a_listed_operation(emu, mnt):
    path = op_path(mnt, "contoso-vm", SEEDED_VM_OPS[0], "operation.json")
    st, api_doc = api_get(emu, f"/api/publishers/contoso/offers/contoso-vm/operations/{SEEDED_VM_OPS[0]}")
    assert st == 200
    assert json.loads(read_text(path)) == api_doc


def test_observed_status_dialect_is_normalised(make_emulator, make_mount):
    emu = make_emulator("--status-dialect=observed")
    mnt = make_mount(emu, "poll_interval=0.2")
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    status = op_path(mnt, "contoso-draft", op, "status")
    emu.tick(5)
    st, raw = api_get(emu, f"/api/publishers/contoso/offers/contoso-draft/operations/{op}")
    assert raw["status"] == "complete"  # what the server says
    assert wait_text(status, "completed\n") == "completed\n"
    assert read_text(op_path(mnt, "contoso-draft", op, "wait")) == "completed\n"
    doc = json.loads(read_text(op_path(mnt, "contoso-draft", op, "operation.json")))
    assert doc["status"] == "completed"
    # seeded operations, listed as "complete"
    for seeded in SEEDED_VM_OPS:
        assert read_text(op_path(mnt, "contoso-vm", seeded, "status")) == "completed\n"
        doc = json.loads(read_text(op_path(mnt, "contoso-vm", seeded, "operation.json")))
        assert doc["status"] == "completed"


# --- every form of operation location ---------------------------------------

@pytest.mark.parametrize("args", [
    [],
    ["--location-header=location"],
    ["--location-header=operation-location"],
    ["--absolute-locations"],
    ["--absolute-locations", "--location-header=location"],
])
def test_location_forms(args, make_emulator, make_mount):
    emu = make_emulator(*args)
    mnt = make_mount(emu, "poll_interval=0.2")
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    assert os.readlink(mnt.offer("contoso-draft", "operations", "latest")) == op
    status = op_path(mnt, "contoso-draft", op, "status")
    assert read_text(status) == "notStarted\n"
    tick_and_expect(emu, status, "running")
    path = f"/api/publishers/contoso/offers/contoso-draft/operations/{op}"
    gets = fs_requests(emu, method="GET", path=path)
    assert gets, [r["path"] for r in fs_requests(emu)]
    assert all(r["query"] == API_VERSION for r in gets)
    shown = read_text(mnt.offer("contoso-draft", "publish"))
    assert f"operation: {op}\n" in shown


def test_legacy_locations_with_dollar_ids(make_emulator, make_mount):
    emu = make_emulator("--legacy-locations")
    mnt = make_mount(emu, "poll_interval=0.2")
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    assert "$" in op and op.startswith("contoso$contoso-draft$")
    ops = mnt.offer("contoso-draft", "operations")
    assert os.readlink(os.path.join(ops, "latest")) == op
    assert op in os.listdir(ops)
    status = op_path(mnt, "contoso-draft", op, "status")
    assert read_text(status) == "notStarted\n"
    tick_and_expect(emu, status, "running")
    # polled at the legacy path, exactly as the location gave it
    gets = fs_requests(emu, method="GET", path_prefix="/api/operations/")
    assert gets
    assert {r["path"] for r in gets} == {f"/api/operations/{op}"}
    assert all(r["query"] == API_VERSION for r in gets)
    assert not fs_requests(emu, method="GET", path_prefix="/api/publishers/contoso/offers/contoso-draft/operations/")
    emu.tick(4)
    assert wait_text(status, "completed\n") == "completed\n"
    url = os.getxattr(status, "user.partnerfs.url").decode()
    assert url.endswith(f"/api/operations/{op}?{API_VERSION}")


def test_legacy_id_seen_in_a_listing_is_percent_encoded(make_emulator, make_mount):
    emu = make_emulator("--legacy-locations")
    first = make_mount(emu, "poll_interval=0.2")
    publish(first)
    op = newest_op(emu, "contoso-draft")
    emu.tick()
    # A second mount knows the operation only from the listing.
    second = make_mount(emu, "poll_interval=0.2")
    emu.clear_requests()
    status = op_path(second, "contoso-draft", op, "status")
    assert wait_text(status, "running\n") == "running\n"
    enc = op.replace("$", "%24")
    doc = json.loads(read_text(op_path(second, "contoso-draft", op, "operation.json")))
    assert doc["status"] == "running"
    paths = {r["path"] for r in fs_requests(emu, method="GET")}
    assert f"/api/publishers/contoso/offers/contoso-draft/operations/{enc}" in paths, paths


def test_sync_cancel_repolls_at_once(make_emulator, make_mount):
    emu = make_emulator("--cancel-mode=sync")
    # A long interval: only the re-poll after the 200 can show the change.
    mnt = make_mount(emu, "poll_interval=30")
    target = op_path(mnt, "contoso-app", OP11, "status")
    assert read_text(target) == "running\n"
    before = os.readlink(mnt.offer("contoso-app", "operations", "latest"))
    publish(mnt, "contoso-app", "cancel")
    shown = read_text(mnt.offer("contoso-app", "cancel"))
    assert "status: 200" in shown and "operation:" not in shown
    assert wait_text(target, "canceled\n", timeout=3) == "canceled\n"
    # no new operation was made
    assert os.readlink(mnt.offer("contoso-app", "operations", "latest")) == before
    assert submissions(emu, "contoso-app")[0]["id"] == OP11


# --- poll timing --------------------------------------------------------------

def test_retry_after_shorter_than_the_interval_polls_sooner(make_emulator, make_mount):
    emu = make_emulator("--retry-after", "1")
    mnt = make_mount(emu, "poll_interval=30")
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    status = op_path(mnt, "contoso-draft", op, "status")
    assert read_text(status) == "notStarted\n"
    time.sleep(0.2)
    emu.tick()
    t0 = time.monotonic()
    assert wait_text(status, "running\n", timeout=4) == "running\n"
    assert time.monotonic() - t0 < 2.5


def test_retry_after_longer_than_the_interval_does_not_slow_polling(make_emulator, make_mount):
    # doc/design.md 3: every poll_interval, sooner when the server says so.
    emu = make_emulator("--retry-after", "30")
    mnt = make_mount(emu, "poll_interval=0.2")
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    status = op_path(mnt, "contoso-draft", op, "status")
    assert read_text(status) == "notStarted\n"
    time.sleep(0.5)
    emu.tick()
    assert wait_text(status, "running\n", timeout=3) == "running\n"


def test_poll_errors_back_off_and_recover(emu, mnt):
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    status = op_path(mnt, "contoso-draft", op, "status")
    assert read_text(status) == "notStarted\n"
    path = f"/api/publishers/contoso/offers/contoso-draft/operations/{op}"
    time.sleep(0.3)
    emu.fault(method="GET", path=path, status=500,
              body='{"error":{"code":"Boom","message":"injected"}}', count=3)
    emu.tick()
    # while polls fail, status keeps the last state it knew
    time.sleep(0.3)
    assert read_text(status) == "notStarted\n"
    assert wait_text(status, "running\n", timeout=10) == "running\n"
    gets = [r for r in fs_requests(emu, method="GET", path=path)]
    assert sum(1 for r in gets if r.get("fault")) == 3


# --- wait ---------------------------------------------------------------------

def test_cat_wait_returns_the_terminal_state(emu, mnt):
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    wait = op_path(mnt, "contoso-draft", op, "wait")
    with background(["cat", wait], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(0.5)
        assert p.poll() is None, "cat wait returned before the operation ended"
        emu.tick(4)
        time.sleep(0.5)
        assert p.poll() is None, "cat wait returned while running"
        emu.tick()
        out, err = p.communicate(timeout=5)
        assert p.returncode == 0, err
        assert out == b"completed\n"


def test_wait_of_a_canceled_operation_returns_canceled(emu, mnt):
    wait = op_path(mnt, "contoso-app", OP11, "wait")
    with background(["cat", wait], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(0.3)
        assert p.poll() is None
        publish(mnt, "contoso-app", "cancel")
        emu.tick()
        out, err = p.communicate(timeout=5)
        assert (p.returncode, out) == (0, b"canceled\n"), err


def test_wait_of_a_terminal_operation_returns_at_once(mnt):
    r = run(["cat", mnt.offer("contoso-vm", "operations", "latest", "wait")], timeout=5)
    assert (r.returncode, r.stdout) == (0, "completed\n")
    r = run(["cat", op_path(mnt, "contoso-vm", SEEDED_VM_OPS[0], "wait")], timeout=5)
    assert (r.returncode, r.stdout) == (0, "completed\n")
    r = run(["cat", op_path(mnt, "contoso-failed", "c0ffee00-0000-4000-8000-000000000031", "wait")],
            timeout=5)
    assert (r.returncode, r.stdout) == (0, "failed\n")


def test_poll_on_wait_becomes_readable_when_the_operation_ends(emu, mnt):
    """poll(2) on `wait` (what select-based scripts and event loops use):
    not readable while running, readable once the operation is over, and
    the read then returns the state at once."""
    import select
    publish(mnt)
    op = newest_op(emu, "contoso-draft")
    fd = os.open(op_path(mnt, "contoso-draft", op, "wait"),
                 os.O_RDONLY | os.O_NONBLOCK)
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        assert p.poll(300) == []
        emu.tick(4)
        assert p.poll(500) == [], "readable while still running"
        emu.tick()
        t0 = time.monotonic()
        events = p.poll(5000)
        assert events and events[0][1] & select.POLLIN, events
        assert time.monotonic() - t0 < 3
        assert os.read(fd, 4096) == b"completed\n"
    finally:
        os.close(fd)


def test_select_on_a_terminal_wait_is_ready_at_once(mnt):
    import select
    fd = os.open(mnt.offer("contoso-vm", "operations", "latest", "wait"),
                 os.O_RDONLY)
    try:
        r, _, _ = select.select([fd], [], [], 2)
        assert r == [fd]
        assert os.read(fd, 4096) == b"completed\n"
    finally:
        os.close(fd)


def test_wait_nonblocking_on_a_running_operation_is_eagain(emu, mnt):
    wait = op_path(mnt, "contoso-app", OP11, "wait")
    fd = os.open(wait, os.O_RDONLY | os.O_NONBLOCK)
    try:
        t0 = time.monotonic()
        with pytest.raises(OSError) as e:
            os.read(fd, 4096)
        assert e.value.errno == errno.EAGAIN
        assert time.monotonic() - t0 < 1
    finally:
        os.close(fd)
    r = run(["dd", f"if={wait}", "iflag=nonblock", "status=none"], timeout=5)
    assert r.returncode != 0
    assert "Resource temporarily unavailable" in r.stderr


def test_sigint_ends_a_blocked_cat_wait(emu, mnt):
    wait = op_path(mnt, "contoso-app", OP11, "wait")
    with background(["cat", wait], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(0.5)
        assert p.poll() is None
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pytest.fail("cat wait did not end after SIGINT")
        assert p.returncode == -signal.SIGINT
    # the mount still works, and so does wait
    assert read_text(op_path(mnt, "contoso-app", OP11, "status")) == "running\n"


def test_sigint_to_a_shell_waiting_in_a_loop(emu, mnt):
    """Ctrl-C in a script: `read` of wait inside sh ends, the shell too."""
    wait = op_path(mnt, "contoso-app", OP11, "wait")
    with background(["bash", "-c", f"state=$(cat {q(wait)}); echo got $state"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(0.5)
        assert p.poll() is None
        os.killpg(p.pid, signal.SIGINT)  # as a terminal would
        try:
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pytest.fail("script did not end after SIGINT")


def test_wait_is_not_listed_but_opens_by_name(mnt):
    d = op_path(mnt, "contoso-vm", SEEDED_VM_OPS[0])
    assert sorted(run(["ls", "-a", d], check=True).stdout.split()) == \
        [".", "..", "operation.json", "status"]
    found = run(["find", mnt.offer("contoso-vm", "operations")], timeout=10).stdout
    assert "/wait" not in found
    assert os.path.exists(os.path.join(d, "wait"))
    assert read_text(os.path.join(d, "wait")) == "completed\n"


def test_recursive_tools_finish_while_operations_run(emu, mnt, tmpdir_short):
    publish(mnt)  # notStarted
    emu.tick()    # running; contoso-app's seeded operation runs too
    op = newest_op(emu, "contoso-draft")
    assert wait_text(op_path(mnt, "contoso-draft", op, "status"), "running\n") == "running\n"
    assert read_text(op_path(mnt, "contoso-app", OP11, "status")) == "running\n"
    r = run(["grep", "-r", "x", mnt.path], timeout=30)
    # (Errors elsewhere in the tree are other tests' business; here: no
    # operation file fails or hangs.)
    assert "/operations/" not in r.stderr and "events" not in r.stderr, r.stderr
    r = run(["grep", "-rx", "running", mnt.path], timeout=30)
    assert f"contoso-draft/operations/{op}/status:running\n" in r.stdout
    assert f"contoso-app/operations/{OP11}/status:running\n" in r.stdout
    tarball = os.path.join(tmpdir_short, "mnt.tar")
    r = run(["tar", "-cf", tarball, "-C", mnt.path, "."], timeout=30)
    assert "/operations/" not in r.stderr and "events" not in r.stderr, r.stderr
    names = run(["tar", "-tf", tarball], timeout=30, check=True).stdout.split("\n")
    assert f"./publishers/contoso/offers/contoso-draft/operations/{op}/status" in names
    assert not [n for n in names if n.endswith("/wait")]
    # what tar stored is what a read returns (st_size is exact)
    r = run(["tar", "-xOf", tarball,
             f"./publishers/contoso/offers/contoso-app/operations/{OP11}/status"],
            timeout=10, check=True)
    assert r.stdout == "running\n"
    r = subprocess.run(["tar", "-cf", "-", mnt.path], capture_output=True, timeout=30)
    assert len(r.stdout) > 0


# --- many operations at once ----------------------------------------------

def bulk_seed(path, n):
    with open(SEED) as f:
        seed = json.load(f)
    template = next(o for o in seed["publishers"][0]["offers"]
                    if o["id"] == "contoso-draft")
    offers = []
    for i in range(n):
        o = copy.deepcopy(template)
        o["id"] = "bulk-%03d" % i
        o["status"] = "notStarted"
        o["operations"] = [{"id": "b0000000-0000-4000-8000-%012d" % i,
                            "type": "publish", "state": "notStarted"}]
        offers.append(o)
    seed["publishers"] = [{"id": "bulk", "displayText": "Bulk",
                           "sellerId": 1, "offers": offers}]
    with open(path, "w") as f:
        json.dump(seed, f)


def test_two_hundred_operations_keep_being_polled(make_emulator, make_mount, tmpdir_short):
    n = 200
    seed = os.path.join(tmpdir_short, "bulk-seed.json")
    bulk_seed(seed, n)
    emu = make_emulator("--seed", seed)
    mnt = make_mount(emu, "poll_interval=0.5")
    offers = mnt.p("publishers", "bulk", "offers")
    names = sorted(os.listdir(offers))
    assert len(names) == n

    def statuses():
        out = {}
        for i, name in enumerate(names):
            op = "b0000000-0000-4000-8000-%012d" % i
            out[name] = read_text(os.path.join(offers, name, "operations", op, "status"))
        return out

    assert set(statuses().values()) == {"notStarted\n"}
    paths = [os.path.join(offers, name, "operations", "b0000000-0000-4000-8000-%012d" % i,
                          "status") for i, name in enumerate(names)]
    listfile = os.path.join(tmpdir_short, "watch.list")
    with open(listfile, "w") as f:
        f.write("\n".join(paths) + "\n")
    # every one of the 200 files is watched, and each must see its change
    with background(["inotifywait", "-m", "-t", "40", "-e", "close_write",
                     "--fromfile", listfile],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) as w:
        assert wait_ready(w.stderr, "Watches established", timeout=20)
        emu.tick()
        got = wait_for(lambda: (lambda s: s if set(s.values()) == {"running\n"} else None)(statuses()),
                       timeout=15, interval=0.2)
        assert got, {k: v for k, v in statuses().items() if v != "running\n"}
        seen = set()
        deadline = time.monotonic() + 5
        while len(seen) < n and time.monotonic() < deadline:
            line = read_line(w.stdout, deadline - time.monotonic())
            if line is None:
                break
            seen.add(line.split(" ", 1)[0])
        assert len(seen) == n, sorted(set(paths) - seen)[:5]
    emu.tick(4)
    got = wait_for(lambda: (lambda s: s if set(s.values()) == {"completed\n"} else None)(statuses()),
                   timeout=15, interval=0.2)
    assert got, {k: v for k, v in statuses().items() if v != "completed\n"}
    events = read_text(mnt.p("events"))
    assert events.count(" notStarted -> running\n") == n
    assert events.count(" running -> completed\n") == n
    # one log, appended by several poller threads: time never goes back
    stamps = [line.split(" ", 1)[0] for line in events.splitlines()]
    assert stamps == sorted(stamps)


# --- shutdown while someone waits -------------------------------------------

def test_sigterm_while_cat_wait_blocks_does_not_hang(emu, mnt):
    wait = op_path(mnt, "contoso-app", OP11, "wait")
    with background(["cat", wait], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(0.5)
        assert p.poll() is None
        mnt.proc.send_signal(signal.SIGTERM)
        try:
            mnt.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pytest.fail("partnerfs did not exit while a wait was blocked")
        try:
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pytest.fail("cat wait still blocked after the daemon exited")
        assert p.returncode != 0
        assert p.stdout.read() == b""


def test_lazy_unmount_with_a_blocked_wait_then_ctrl_c(emu, mnt):
    """umount -l keeps the file system alive while cat holds wait open;
    Ctrl-C ends cat, and then the daemon goes away by itself."""
    wait = op_path(mnt, "contoso-app", OP11, "wait")
    with background(["cat", wait], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        time.sleep(0.5)
        run(["fusermount3", "-u", "-z", mnt.path], timeout=10, check=True)
        assert not os.path.ismount(mnt.path)
        time.sleep(0.3)
        assert p.poll() is None
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pytest.fail("cat wait did not end after SIGINT")
        try:
            mnt.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pytest.fail("partnerfs did not exit after the last user left")
