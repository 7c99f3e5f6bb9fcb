"""A save the API refuses loses nothing: what was written is kept beside
the document as `<name>.rejected`, a scratch file of the writer's (mode
0600, gone at unmount), because close()'s error is all a writer hears and
shells ignore it (`echo ... > offer.json`). Renaming it onto the document
saves it again; a later refusal replaces it. Kept copies have a budget of
their own, so failures never use up the scratch files editors need.

    /usr/bin/python3 -m pytest -q tests/integration/test_refused.py
"""
import errno
import json
import os
import stat

from ophelpers import fs_requests, q, read_text
from test_edit import OFFER, SUMMARY, edited, server_offer, server_put
from test_scratch import open_replacement
from util import errno_of, run

FILES_MAX = 32  # SCRATCH_FILES_MAX


def puts(emu):
    return fs_requests(emu, method="PUT")


def kept(mnt, offer=OFFER):
    return mnt.offer(offer, "offer.json.rejected")


def test_bad_json_from_a_shell_is_kept_and_nothing_is_sent(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    emu.clear_requests()
    r = run(f"echo '{{not json' > {q(path)}")
    assert r.returncode == 0, r.stderr  # the shell does not say
    assert puts(emu) == []
    assert server_offer(emu) == (etag0, doc0)
    assert json.loads(read_text(path)) == doc0
    assert "offer.json.rejected" in os.listdir(mnt.offer(OFFER))
    assert read_text(kept(mnt)) == "{not json\n"
    st = os.stat(kept(mnt))
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    assert st.st_size == len("{not json\n")
    # The API's reason stays the last error; the log says where it went.
    last = read_text(mnt.p(".partnerfs", "last-error"))
    assert "offer.json: not a JSON object; nothing sent" in last
    assert "is kept in" in mnt.log() and "offer.json.rejected" in mnt.log()


def test_a_refused_put_is_kept_and_renaming_it_back_saves_it(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    server_put(emu, edited(doc0, "someone else"))
    mine = json.dumps(edited(doc0, "mine"))
    emu.clear_requests()
    with open(os.open(path, os.O_WRONLY | os.O_TRUNC), "w") as f:
        f.write(mine)
        f.flush()
        assert errno_of(os.fsync, f.fileno()) == errno.ESTALE
    assert [r["status"] for r in puts(emu)] == [412]
    assert read_text(kept(mnt)) == mine
    # Read the other change, decide, and send yours: one PUT, over the
    # version shown now; the kept copy is used up.
    emu.clear_requests()
    os.rename(kept(mnt), path)
    assert [r["status"] for r in puts(emu)] == [200]
    assert server_offer(emu)[1]["definition"]["offer"][SUMMARY] == "mine"
    assert "offer.json.rejected" not in os.listdir(mnt.offer(OFFER))


def test_a_second_refusal_replaces_the_kept_copy(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    for text in ("{first", "{second, longer than the first"):
        assert errno_of(write_whole, path, text) == errno.EINVAL
    assert read_text(kept(mnt)) == "{second, longer than the first"
    assert errno_of(write_whole, path, "{3") == errno.EINVAL
    assert read_text(kept(mnt)) == "{3"
    assert os.listdir(mnt.offer(OFFER)).count("offer.json.rejected") == 1


def write_whole(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_a_refused_replacement_is_kept(emu, mnt):
    """`rm offer.json; cat > offer.json`: the new file's close is refused;
    the name is the document's again, and the text is beside it."""
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    emu.clear_requests()
    r = run(f"rm {q(path)} && printf '{{typed' > {q(path)}")
    assert r.returncode == 0, r.stderr
    assert puts(emu) == []
    assert json.loads(read_text(path)) == doc0
    assert read_text(kept(mnt)) == "{typed"


def test_a_replacement_refused_at_fsync_keeps_what_comes_after(emu, mnt):
    """The refused replacement is itself the kept copy: what its writer
    writes after the failed fsync() lands there too, and close() has
    nothing more to say."""
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    emu.clear_requests()
    fd = open_replacement(path, 0o644)
    try:
        os.write(fd, b"{first")
        assert errno_of(os.fsync, fd) == errno.EINVAL
        assert json.loads(read_text(path)) == doc0  # the document again
        os.write(fd, b", then more")
    finally:
        os.close(fd)
    assert puts(emu) == []
    assert read_text(kept(mnt)) == "{first, then more"
    assert stat.S_IMODE(os.stat(kept(mnt)).st_mode) == 0o600
    assert json.loads(read_text(path)) == doc0
    assert server_offer(emu) == (etag0, doc0)


def test_an_empty_save_keeps_nothing(emu, mnt):
    """Written, then truncated to nothing: refused (no JSON object), and
    there is no text to keep."""
    path = mnt.offer(OFFER, "offer.json")
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"{")
        os.ftruncate(fd, 0)
    finally:
        assert errno_of(os.close, fd) == errno.EINVAL
    assert puts(emu) == []
    assert "offer.json.rejected" not in os.listdir(mnt.offer(OFFER))


def test_an_editors_save_of_the_kept_copy_is_refilled(emu, mnt):
    """vim or emacs save the kept copy by rename: an ordinary scratch file
    of the writer's under that name, which the next refusal refills."""
    path = mnt.offer(OFFER, "offer.json")
    assert errno_of(write_whole, path, "{one") == errno.EINVAL
    tmp = mnt.offer(OFFER, ".offer.json.rejected.swp")
    write_whole(tmp, "{edited")
    os.rename(tmp, kept(mnt))
    assert read_text(kept(mnt)) == "{edited"
    assert errno_of(write_whole, path, "{two") == errno.EINVAL
    assert read_text(kept(mnt)) == "{two"
    assert stat.S_IMODE(os.stat(kept(mnt)).st_mode) == 0o600


def test_kept_copies_leave_editors_their_scratch_files(emu, mnt):
    offers = sorted(os.listdir(mnt.p("publishers", "contoso", "offers")))
    for o in offers:
        write = lambda: write_whole(mnt.offer(o, "offer.json"), "{bad")  # noqa
        assert errno_of(write) == errno.EINVAL
        assert os.path.exists(kept(mnt, o))
    d = mnt.offer(OFFER)
    for i in range(FILES_MAX):
        open(os.path.join(d, f"f{i}"), "w").close()
    assert errno_of(open, os.path.join(d, "one-too-many"), "w") == \
        errno.ENOSPC
    # And a full scratch budget does not stop a new refusal from being
    # kept; every name is listed.
    os.unlink(kept(mnt))
    assert errno_of(write_whole, mnt.offer(OFFER, "offer.json"),
                    "{again") == errno.EINVAL
    assert read_text(kept(mnt)) == "{again"
    names = os.listdir(d)
    assert {f"f{i}" for i in range(FILES_MAX)} <= set(names)
    assert "offer.json.rejected" in names
    assert puts(emu) == []


def test_kept_copies_are_gone_at_unmount(emu, make_mount):
    m = make_mount(emu)
    assert errno_of(write_whole, m.offer(OFFER, "offer.json"), "{x") == \
        errno.EINVAL
    assert os.path.exists(kept(m))
    m.stop()
    again = make_mount(emu)
    assert "offer.json.rejected" not in os.listdir(again.offer(OFFER))
