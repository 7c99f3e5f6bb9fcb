"""Control files publish, golive and cancel (doc/design.md §2), driven
by real shells (bash and dash), printf, cat and plain write(2), and checked
against what the emulator received.

Seeded offers used here (tests/emulator/seed.json):
  contoso-app     a publish operation running (cancel has a target)
  contoso-draft   never published, has plans (publish starts an operation)
  contoso-review  a version waiting for sign-off (golive starts one)
  contoso-noplans no plans: publish is refused with 422
"""
import errno
import json
import os

import pytest

from ophelpers import (API_VERSION, TOKEN, newest_op, posts, q, read_text, sh,
                       write_errno)

SHELLS = ["bash", "dash"]
BODY = {"metadata": {"notification-emails": "a@x.com,b@y.com"}}


def body_of(req):
    return json.loads(req["body"])


def emails_of(req):
    return body_of(req)["metadata"]["notification-emails"]


def assert_action_post(req, offer, action, emails):
    assert req["method"] == "POST"
    assert req["path"] == f"/api/publishers/contoso/offers/{offer}/{action}"
    assert req["query"] == API_VERSION
    assert req["headers"]["content-type"].split(";")[0].strip() == "application/json"
    assert req["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert body_of(req) == {"metadata": {"notification-emails": emails}}


def assert_one_action_post(emu, offer, action, emails):
    """The one request sent so far, checked by assert_action_post."""
    reqs = posts(emu)
    assert len(reqs) == 1, reqs
    assert_action_post(reqs[0], offer, action, emails)
    return reqs[0]


# --- what is sent ---------------------------------------------------------

@pytest.mark.parametrize("shell", SHELLS)
def test_echo_to_cancel_sends_exactly_one_post(shell, emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    r = sh(shell, f"echo a@x.com,b@y.com > {q(cancel)} && echo sent")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "sent\n"
    req = assert_one_action_post(emu, "contoso-app", "cancel",
                                 "a@x.com,b@y.com")
    assert body_of(req) == BODY


@pytest.mark.parametrize("text", [
    "a@x.com,b@y.com",
    "a@x.com b@y.com",
    "a@x.com, b@y.com",
    "a@x.com\nb@y.com",
    "  a@x.com\t b@y.com ,",
])
def test_separators_comma_space_newline_give_one_list(text, emu, mnt):
    publish = mnt.offer("contoso-draft", "publish")
    # coreutils printf writes its whole output in one write(): one request.
    r = sh("bash", f"/usr/bin/printf '%s\\n' {q(text)} > {q(publish)}")
    assert r.returncode == 0, r.stderr
    assert_one_action_post(emu, "contoso-draft", "publish", "a@x.com,b@y.com")


# dash's printf builtin and coreutils printf write both lines in one
# write(). (bash's builtin printf flushes at each newline: two writes, so
# two requests, by the one-request-per-completing-write rule.)
@pytest.mark.parametrize("shell,printf", [("dash", "printf"),
                                          ("bash", "/usr/bin/printf"),
                                          ("dash", "/usr/bin/printf")])
def test_printf_two_lines_in_one_write_sends_one_request(shell, printf, emu, mnt):
    publish = mnt.offer("contoso-draft", "publish")
    r = sh(shell, f"{printf} 'a@x.com\\nb@y.com\\n' > {q(publish)}")
    assert r.returncode == 0, r.stderr
    assert_one_action_post(emu, "contoso-draft", "publish", "a@x.com,b@y.com")


def test_several_writes_without_newline_then_newline_send_one_request(emu, mnt):
    publish = mnt.offer("contoso-draft", "publish")
    fd = os.open(publish, os.O_WRONLY | os.O_TRUNC)
    try:
        assert os.write(fd, b"a@x.com") == 7
        assert os.write(fd, b",b@y") == 4
        assert posts(emu) == []  # no line yet: nothing sent
        assert os.write(fd, b".com\n") == 5
        reqs = posts(emu)  # the write that completed the line sent it
        assert len(reqs) == 1, reqs
    finally:
        os.close(fd)
    # and close sent nothing more
    assert_one_action_post(emu, "contoso-draft", "publish", "a@x.com,b@y.com")


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_printf_pieces_then_echo_send_one_request(shell, emu, mnt):
    publish = mnt.offer("contoso-draft", "publish")
    r = sh(shell, f"{{ printf a@x.com; printf ' b@y.com'; echo; }} > {q(publish)}")
    assert r.returncode == 0, r.stderr
    assert_one_action_post(emu, "contoso-draft", "publish", "a@x.com,b@y.com")


@pytest.mark.parametrize("shell", SHELLS)
def test_one_write_per_line_sends_one_request_per_line(shell, emu, mnt):
    publish = mnt.offer("contoso-draft", "publish")
    r = sh(shell, f"{{ echo a@x.com; echo b@y.com; }} > {q(publish)}")
    assert r.returncode == 0, r.stderr
    reqs = posts(emu)
    assert [emails_of(x) for x in reqs] == ["a@x.com", "b@y.com"]
    for x in reqs:
        assert x["path"] == "/api/publishers/contoso/offers/contoso-draft/publish"


def test_each_write_of_a_line_is_sent_inside_that_write(emu, mnt):
    publish = mnt.offer("contoso-draft", "publish")
    fd = os.open(publish, os.O_WRONLY)
    try:
        os.write(fd, b"a@x.com\n")
        assert [emails_of(x) for x in posts(emu)] == ["a@x.com"]
        os.write(fd, b"b@y.com\n")
        assert [emails_of(x) for x in posts(emu)] == ["a@x.com", "b@y.com"]
    finally:
        os.close(fd)
    assert len(posts(emu)) == 2


@pytest.mark.parametrize("shell", SHELLS)
def test_printf_without_newline_is_sent_at_close(shell, emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    r = sh(shell, f"printf a@x.com > {q(cancel)} && echo ok")
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    assert_one_action_post(emu, "contoso-app", "cancel", "a@x.com")


def test_input_without_newline_waits_for_close(emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    fd = os.open(cancel, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"a@x.com")
        assert posts(emu) == []
    finally:
        os.close(fd)
    assert_one_action_post(emu, "contoso-app", "cancel", "a@x.com")


@pytest.mark.parametrize("shell", SHELLS)
def test_truncating_open_without_write_sends_nothing(shell, emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    r = sh(shell, f": > {q(cancel)} && echo ok")
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    assert posts(emu) == []
    assert read_text(cancel) == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_append_redirection_works_too(shell, emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    r = sh(shell, f"echo a@x.com >> {q(cancel)} && echo ok")
    assert r.stdout == "ok\n", r.stderr
    assert_one_action_post(emu, "contoso-app", "cancel", "a@x.com")


# --- invalid input --------------------------------------------------------

@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("text", ["bad", "a@x.com,bad", "a@@x.com", "@x.com"])
def test_invalid_address_fails_the_write_and_sends_nothing(shell, text, emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    r = sh(shell, f"echo {q(text)} > {q(cancel)} || echo failed")
    assert r.stdout == "failed\n", (r.stdout, r.stderr)
    if shell == "bash":  # dash says "I/O error" for any failed echo
        assert "Invalid argument" in r.stderr
    assert posts(emu) == []
    assert "not sent" in read_text(cancel)


def test_invalid_address_write_returns_einval(emu, mnt):
    publish = mnt.offer("contoso-draft", "publish")
    werr, cerr = write_errno(publish, b"ops@contoso.com not-an-address\n")
    assert werr == errno.EINVAL
    assert cerr == 0  # reported once, by the write
    assert posts(emu) == []
    shown = read_text(publish)
    assert "not-an-address" in shown


# --- the API says no ------------------------------------------------------

ERR_BODY = '{"error":{"code":"Injected","message":"Injected by the test %d"}}'


@pytest.mark.parametrize("status,err", [
    (400, errno.EINVAL), (403, errno.EACCES), (404, errno.ENOENT),
    (409, errno.EBUSY), (422, errno.EINVAL), (500, errno.EIO),
])
def test_server_error_on_post_is_the_write_errno(status, err, emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    emu.fault(method="POST", path="/api/publishers/contoso/offers/contoso-app/cancel",
              status=status, body=ERR_BODY % status)
    werr, cerr = write_errno(cancel, b"a@x.com\n")
    assert werr == err, os.strerror(werr) if werr else 0
    assert cerr == 0
    # a POST is never retried once it reached the server
    assert len(posts(emu)) == 1
    shown = read_text(cancel)
    assert f"status: {status}" in shown
    assert f"Injected by the test {status}" in shown
    assert errno.errorcode[err] in shown


@pytest.mark.parametrize("shell", SHELLS)
def test_server_error_makes_shell_redirection_fail(shell, emu, mnt):
    cancel = mnt.offer("contoso-app", "cancel")
    emu.fault(method="POST", path="*/cancel", status=403, body=ERR_BODY % 403)
    r = sh(shell, f"echo a@x.com > {q(cancel)} || echo failed")
    assert r.stdout == "failed\n", (r.stdout, r.stderr)
    if shell == "bash":
        assert "Permission denied" in r.stderr
    assert len(posts(emu)) == 1


def test_publish_while_golive_runs_is_ebusy(emu, mnt):
    golive = mnt.offer("contoso-review", "golive")
    publish = mnt.offer("contoso-review", "publish")
    assert write_errno(golive, b"a@x.com\n") == (0, 0)
    werr, _ = write_errno(publish, b"a@x.com\n")
    assert werr == errno.EBUSY
    assert len(posts(emu)) == 2
    shown = read_text(publish)
    assert "status: 409" in shown
    assert "An operation is already running on this offer." in shown


def test_publish_of_offer_without_plans_is_einval_with_api_message(emu, mnt):
    publish = mnt.offer("contoso-noplans", "publish")
    r = sh("bash", f"echo a@x.com > {q(publish)} || echo failed")
    assert r.stdout == "failed\n"
    assert "Invalid argument" in r.stderr
    assert len(posts(emu)) == 1
    shown = read_text(publish)
    assert "status: 422" in shown
    assert "The offer failed validation." in shown


def test_golive_with_nothing_in_preview_is_einval(emu, mnt):
    golive = mnt.offer("contoso-draft", "golive")
    werr, _ = write_errno(golive, b"a@x.com\n")
    assert werr == errno.EINVAL
    shown = read_text(golive)
    assert "status: 400" in shown
    assert "There is no preview version awaiting sign-off." in shown
    assert len(posts(emu)) == 1


def test_error_message_reaches_last_error(emu, mnt):
    golive = mnt.offer("contoso-draft", "golive")
    write_errno(golive, b"a@x.com\n")
    assert "There is no preview version awaiting sign-off." in \
        read_text(mnt.p(".partnerfs", "last-error"))


# --- what reading a control file shows ------------------------------------

def test_control_files_are_empty_before_the_first_request(mnt):
    for name in ("publish", "golive", "cancel"):
        path = mnt.offer("contoso-draft", name)
        assert read_text(path) == ""
        assert os.stat(path).st_size == 0


def shown_fields(text):
    fields = {}
    for line in text.splitlines():
        k, _, v = line.partition(": ")
        fields[k] = v
    return fields


@pytest.mark.parametrize("offer,action", [
    ("contoso-draft", "publish"),
    ("contoso-review", "golive"),
    ("contoso-app", "cancel"),
])
def test_cat_after_success_shows_status_operation_and_location(offer, action, emu, mnt):
    path = mnt.offer(offer, action)
    r = sh("dash", f"echo ops@contoso.com > {q(path)} && cat {q(path)}")
    assert r.returncode == 0, r.stderr
    op = newest_op(emu, offer)
    f = shown_fields(r.stdout)
    assert f["status"] == "202"
    assert f["operation"] == op
    assert f["location"].endswith(
        f"/api/publishers/contoso/offers/{offer}/operations/{op}?{API_VERSION}")
    assert "ops@contoso.com" in r.stdout
    assert "error" not in f
    assert os.stat(path).st_size == len(r.stdout.encode())


def test_cancel_with_nothing_running_shows_200_without_operation(emu, mnt):
    cancel = mnt.offer("contoso-draft", "cancel")
    assert write_errno(cancel, b"a@x.com\n") == (0, 0)
    f = shown_fields(read_text(cancel))
    assert f["status"] == "200"
    assert "operation" not in f
    assert len(posts(emu)) == 1
