"""Editing documents the way tools do (issue 16): scratch files in the
directories that hold writable documents, and the rename (or the unlink and
create) that makes one the document's new content.

Each tool is the real one (sed, perl, jq + mv, install, emacs, vim,
rsync), run as a script would run it; the emulator's request log says what
reached the API. Every tool must send exactly one PUT with the new content,
say nothing on stderr, and leave the directory as it found it.
"""
import errno
import json
import os
import shutil
import stat
import time

import pytest

from ophelpers import fs_requests, q, read_text
from test_edit import OFFER, OFFER_PATH, SUMMARY, edited, server_offer, \
    server_put
from util import errno_of, run, vim_substitute

SIZE_MAX = 64 * 1024 * 1024  # SCRATCH_SIZE_MAX
FILES_MAX = 32               # SCRATCH_FILES_MAX
MARK_TTL = 2                 # SCRATCH_MARK_TTL


def puts(emu):
    return fs_requests(emu, method="PUT")


def changes(emu):
    """Every request partnerfs made that was not a GET."""
    return [r for r in fs_requests(emu) if r["method"] != "GET"]


def open_replacement(path, mode):
    """unlink(path), then create it again, as mv from another file system
    and install do: the replacement's fd, open for writing."""
    os.unlink(path)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)


def need(tool):
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed")


def quiet(stderr):
    """stderr less the lines Debian's emacs prints loading its site files
    (not a warning: it prints them for every batch run)."""
    return "".join(line for line in stderr.splitlines(True)
                   if not line.startswith("Loading /etc/emacs/"))


# --- the tools ----------------------------------------------------------------
# Each edits the summary of path from old to new, as a user's script would.

def _sed(path, old, new, tmp):
    return run(["sed", "-i", f"s/{old}/{new}/", path])


def _perl(path, old, new, tmp):
    need("perl")
    return run(["perl", "-pi", "-e", f"s/{old}/{new}/", path])


def _jq_filter(new):
    return f'.definition.offer["{SUMMARY}"] = "{new}"'


def _jq_mv_same_dir(path, old, new, tmp):
    need("jq")
    t = os.path.join(os.path.dirname(path), "offer.json.tmp")
    return run(f"jq {q(_jq_filter(new))} {q(path)} > {q(t)} && "
               f"mv {q(t)} {q(path)}")


def _jq_mv_from_tmp(path, old, new, tmp):
    need("jq")
    t = str(tmp / "x.json")
    return run(f"jq {q(_jq_filter(new))} {q(path)} > {q(t)} && "
               f"mv {q(t)} {q(path)}")


def _install(path, old, new, tmp):
    src = tmp / "new.json"
    src.write_text(read_text(path).replace(old, new))
    return run(["install", "-m", "644", str(src), path])


def _emacs(backup):
    def edit(path, old, new, tmp):
        need("emacs")
        script = tmp / "edit.el"
        # Emacs makes no backup of files under /tmp, where the tests mount:
        # backup=True lifts that, for its default backup by rename.
        script.write_text(
            ("(setq backup-enable-predicate (lambda (name) t))\n"
             if backup else "") +
            f'(find-file "{path}")\n(goto-char (point-min))\n'
            f'(search-forward "{old}")\n(replace-match "{new}" t t)\n'
            "(save-buffer)\n")
        env = dict(os.environ, HOME=str(tmp))
        return run(["emacs", "-batch", "-l", str(script)], timeout=60,
                   env=env)
    return edit


def _vim(backupcopy, extra=""):
    def edit(path, old, new, tmp):
        need("vim")
        return vim_substitute(path, old, new, backupcopy, extra)
    return edit


def _rsync(*opts):
    def edit(path, old, new, tmp):
        need("rsync")
        src = tmp / "offer.json"
        src.write_text(read_text(path).replace(old, new))
        return run(["rsync", *opts, str(src), path], timeout=30)
    return edit


TOOLS = {
    "sed-i": _sed,
    "perl-pi": _perl,
    "jq-mv-same-dir": _jq_mv_same_dir,
    "jq-mv-from-tmp": _jq_mv_from_tmp,
    "install-m644": _install,
    "emacs-batch": _emacs(False),
    "emacs-batch-backup-by-rename": _emacs(True),
    "vim-backupcopy-no": _vim("no"),
    "vim-backupcopy-yes": _vim("yes"),
    # Like emacs, vim skips backups under /tmp; without that it renames
    # offer.json to offer.json~, writes offer.json anew, removes the ~.
    "vim-writebackup-by-rename": _vim("no", "writebackup backupskip="),
    "rsync": _rsync(),
    "rsync-inplace": _rsync("--inplace"),
}


# What a tool leaves beside the document: emacs keeps its backup, a
# scratch copy of the version before the edit.
LEAVES = {"emacs-batch-backup-by-rename": "offer.json~"}


@pytest.mark.parametrize("how", list(TOOLS))
def test_tool_sends_one_put_with_the_new_content(how, emu, mnt, tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    old = doc0["definition"]["offer"][SUMMARY]
    new = f"edited by {how}"
    assert json.loads(read_text(path)) == doc0
    before = sorted(os.listdir(mnt.offer(OFFER)))
    emu.clear_requests()

    r = TOOLS[how](path, old, new, tmp_path)

    assert r.returncode == 0, (r.stdout, r.stderr)
    assert quiet(r.stderr) == ""
    reqs = puts(emu)
    assert len(reqs) == 1, reqs
    assert reqs[0]["path"] == OFFER_PATH
    assert reqs[0]["headers"]["if-match"] == etag0
    assert reqs[0]["status"] == 200
    assert json.loads(reqs[0]["body"]) == edited(doc0, new)
    assert changes(emu) == reqs
    # The document shows the new content at once, under the same name,
    # and the directory holds what it held: no scratch file left behind.
    etag1, doc1 = server_offer(emu)
    assert doc1["definition"]["offer"][SUMMARY] == new
    text = read_text(path)
    assert json.loads(text) == doc1
    assert os.stat(path).st_size == len(text.encode())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.getxattr(path, "user.partnerfs.etag").decode() == etag1
    left = LEAVES.get(how)
    if left:
        assert json.loads(read_text(mnt.offer(OFFER, left))) == doc0
        os.unlink(mnt.offer(OFFER, left))
        assert changes(emu) == reqs
    assert sorted(os.listdir(mnt.offer(OFFER))) == before


# --- the scratch file itself --------------------------------------------------

def test_a_scratch_file_is_a_local_file_and_sends_nothing(emu, mnt):
    d = mnt.offer(OFFER)
    run(["ls", "-l", d], check=True)
    emu.clear_requests()
    p = os.path.join(d, "notes.txt")
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        assert os.write(fd, b"hello world\n") == 12
        os.fsync(fd)
        assert os.pread(fd, 5, 6) == b"world"
        st = os.fstat(fd)
        assert stat.S_ISREG(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert (st.st_uid, st.st_size) == (os.getuid(), 12)
        # What mv, install and rsync copy onto their new file.
        os.fchmod(fd, 0o640)
        os.fchown(fd, st.st_uid, st.st_gid)
        os.ftruncate(fd, 5)
        os.utime(fd, ns=(1_000_000_000, 2_000_000_000))
    finally:
        os.close(fd)
    st = os.stat(p)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_mtime_ns == 2_000_000_000
    assert st.st_size == 5
    assert read_text(p) == "hello"
    assert "notes.txt" in os.listdir(d)
    assert errno_of(os.open, p, os.O_WRONLY | os.O_CREAT | os.O_EXCL) == \
        errno.EEXIST
    # Only to its owner: no chown to anyone else.
    assert errno_of(os.chown, p, st.st_uid + 4242, -1) == errno.EPERM
    os.truncate(p, 0)
    with open(p, "a") as f:
        f.write("again")
    assert read_text(p) == "again"
    os.rename(p, os.path.join(d, "notes2.txt"))
    assert not os.path.exists(p)
    assert read_text(os.path.join(d, "notes2.txt")) == "again"
    os.unlink(os.path.join(d, "notes2.txt"))
    assert "notes2.txt" not in os.listdir(d)
    assert changes(emu) == []


def test_a_scratch_file_is_its_creators_only(emu, make_mount, tmpdir_short):
    """With allow_other, another user may make scratch files of their own,
    and may not open someone else's."""
    if os.getuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to become nobody")
    mnt = make_mount(emu, "allow_other")
    for p in (tmpdir_short, os.path.dirname(mnt.path)):
        os.chmod(p, 0o755)  # nobody walks to the mountpoint
    d = mnt.offer(OFFER)
    mine = os.path.join(d, "mine.txt")
    with open(mine, "w") as f:
        f.write("root's")
    r = run(["runuser", "-u", "nobody", "--", "cat", mine])
    assert r.returncode == 1 and "Permission denied" in r.stderr
    theirs = os.path.join(d, "theirs.txt")
    r = run(["runuser", "-u", "nobody", "--", "sh", "-c",
             f"echo nobody\\'s > {q(theirs)} && cat {q(theirs)}"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "nobody's\n"
    assert os.stat(theirs).st_uid != 0
    assert errno_of(open, theirs) == errno.EACCES
    assert changes(emu) == []


def test_scratch_files_are_gone_at_unmount_and_nothing_leaks(emu,
                                                             make_mount):
    mnt = make_mount(emu)
    d = mnt.offer(OFFER)
    with open(os.path.join(d, "closed.txt"), "w") as f:
        f.write("x" * 10000)
    held = os.open(os.path.join(d, "held.txt"), os.O_RDWR | os.O_CREAT, 0o600)
    os.write(held, b"still open at unmount")
    unlinked = os.open(os.path.join(d, "unlinked.txt"),
                       os.O_RDWR | os.O_CREAT, 0o600)
    os.unlink(os.path.join(d, "unlinked.txt"))
    try:
        mnt.stop()  # fails the test on a sanitizer report (leaks included)
        assert mnt.proc.returncode == 0, mnt.proc.returncode
    finally:
        for fd in (held, unlinked):
            try:
                os.close(fd)
            except OSError:
                pass
    again = make_mount(emu)
    names = os.listdir(again.offer(OFFER))
    assert not {"closed.txt", "held.txt", "unlinked.txt"} & set(names)


def test_count_cap_is_enospc(emu, mnt):
    d = mnt.offer(OFFER)
    for i in range(FILES_MAX):
        open(os.path.join(d, f"f{i}"), "w").close()
    assert errno_of(open, os.path.join(d, "one-too-many"), "w") == \
        errno.ENOSPC
    r = run(["touch", os.path.join(d, "one-too-many")])
    assert r.returncode == 1 and "No space left on device" in r.stderr
    # A rename of the document away makes one too: the same cap.
    assert errno_of(os.rename, os.path.join(d, "offer.json"),
                    os.path.join(d, "offer.json~")) == errno.ENOSPC
    os.unlink(os.path.join(d, "f0"))
    open(os.path.join(d, "one-too-many"), "w").close()
    assert changes(emu) == []


def test_size_cap_is_enospc(emu, mnt):
    p = mnt.offer(OFFER, "big")
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert errno_of(os.ftruncate, fd, SIZE_MAX + 1) == errno.ENOSPC
        assert errno_of(os.pwrite, fd, b"x", SIZE_MAX) == errno.ENOSPC
        assert os.fstat(fd).st_size == 0
        assert os.pwrite(fd, b"x", SIZE_MAX - 1) == 1
        assert os.fstat(fd).st_size == SIZE_MAX
    finally:
        os.close(fd)
    os.unlink(p)
    r = run(f"head -c {SIZE_MAX + 1} /dev/zero > {q(p)}", timeout=60)
    assert r.returncode != 0 and "No space left on device" in r.stderr
    assert changes(emu) == []


# --- rename onto a document: the moment it is sent ------------------------------

def _scratch_with_edit(mnt, doc, text, name="offer.json.new"):
    p = mnt.offer(OFFER, name)
    with open(p, "w") as f:
        json.dump(edited(doc, text), f)
    return p


def test_rename_refused_with_412_is_estale_and_keeps_the_scratch(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    assert json.loads(read_text(path)) == doc0  # read: etag0 guards
    server_put(emu, edited(doc0, "someone else"))
    etag1, doc1 = server_offer(emu)
    new = _scratch_with_edit(mnt, doc0, "mine")
    emu.clear_requests()
    assert errno_of(os.rename, new, path) == errno.ESTALE
    # One PUT, with the ETag read, refused; the kernel's retry of the
    # rename sent nothing (it would have had the new ETag).
    reqs = puts(emu)
    assert [(r["headers"]["if-match"], r["status"]) for r in reqs] == \
        [(etag0, 412)]
    assert changes(emu) == reqs
    assert server_offer(emu) == (etag1, doc1)
    assert json.loads(read_text(path)) == doc1
    # The edit is not lost.
    assert json.loads(read_text(new)) == edited(doc0, "mine")
    assert "offer.json.new" in os.listdir(mnt.offer(OFFER))
    assert f"PUT {OFFER_PATH} -> 412" in read_text(
        mnt.p(".partnerfs", "last-error"))
    # Renaming again is a new decision, made with the version now shown.
    time.sleep(1.1)
    emu.clear_requests()
    os.rename(new, path)
    reqs = puts(emu)
    assert [(r["headers"]["if-match"], r["status"]) for r in reqs] == \
        [(etag1, 200)]
    assert "offer.json.new" not in os.listdir(mnt.offer(OFFER))


def test_bad_json_renamed_is_einval_sends_nothing_and_keeps_the_scratch(
        emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    new = mnt.offer(OFFER, "broken.json")
    with open(new, "w") as f:
        f.write('{"id": "contoso-vm",')
    emu.clear_requests()
    assert errno_of(os.rename, new, path) == errno.EINVAL
    assert changes(emu) == []
    assert read_text(new) == '{"id": "contoso-vm",'
    assert server_offer(emu) == (etag0, doc0)
    assert json.loads(read_text(path)) == doc0


def test_mv_prints_estale_and_keeps_its_file(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    server_put(emu, edited(doc0, "someone else"))
    new = _scratch_with_edit(mnt, doc0, "mine", name="tmp.json")
    emu.clear_requests()
    r = run(["mv", new, path])
    assert r.returncode == 1
    assert "Stale file handle" in r.stderr
    assert len(puts(emu)) == 1
    assert json.loads(read_text(new)) == edited(doc0, "mine")


def test_mv_from_tmp_of_bad_json_fails_and_keeps_the_source(emu, mnt,
                                                            tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    src = tmp_path / "bad.json"
    src.write_text("{nope\n")
    before = sorted(os.listdir(mnt.offer(OFFER)))
    emu.clear_requests()
    r = run(["mv", str(src), path])
    assert r.returncode == 1
    assert "Invalid argument" in r.stderr
    assert src.read_text() == "{nope\n"
    assert changes(emu) == []
    # The document was only being replaced: it is back, unchanged; what
    # was written is kept beside it (test_refused.py), nothing else.
    assert json.loads(read_text(path)) == doc0
    assert sorted(os.listdir(mnt.offer(OFFER))) == \
        sorted(before + ["offer.json.rejected"])
    assert read_text(path + ".rejected") == "{nope\n"


def test_mv_from_tmp_refused_with_412_fails_and_keeps_the_source(emu, mnt,
                                                                 tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    server_put(emu, edited(doc0, "someone else"))
    etag1, doc1 = server_offer(emu)
    src = tmp_path / "x.json"
    src.write_text(json.dumps(edited(doc0, "mine")))
    emu.clear_requests()
    r = run(["mv", str(src), path])
    assert r.returncode == 1
    assert "Stale file handle" in r.stderr
    assert [r["status"] for r in puts(emu)] == [412]
    assert src.exists()
    assert server_offer(emu) == (etag1, doc1)
    assert json.loads(read_text(path)) == doc1
    assert read_text(path + ".rejected") == src.read_text()


def test_perl_pi_refused_with_412_exits_nonzero(emu, mnt):
    need("perl")
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    server_put(emu, edited(doc0, "someone else"))
    emu.clear_requests()
    r = run(["perl", "-pi", "-e", "s/someone/me/", path])
    assert r.returncode != 0
    assert "Stale file handle" in r.stderr
    assert [r["status"] for r in puts(emu)] == [412]


def test_the_name_is_coherent_after_a_rename(emu, mnt):
    """The kernel moved its dentry to the scratch file's node id: that id
    now answers as the document, the old name is gone at once."""
    path = mnt.offer(OFFER, "offer.json")
    doc0 = json.loads(read_text(path))
    ino0 = os.stat(path).st_ino
    new = _scratch_with_edit(mnt, doc0, "coherent")
    ino_new = os.stat(new).st_ino
    os.rename(new, path)
    assert not os.path.exists(new)
    st = os.stat(path)
    assert st.st_ino == ino_new != ino0
    assert stat.S_IMODE(st.st_mode) == 0o644
    text = read_text(path)
    assert json.loads(text)["definition"]["offer"][SUMMARY] == "coherent"
    assert st.st_size == len(text.encode())


# --- unlink and rename of a document: nothing is deleted ------------------------

def test_unlinked_document_reappears_unchanged(emu, mnt):
    d = mnt.offer(OFFER)
    path = os.path.join(d, "offer.json")
    etag0, doc0 = server_offer(emu)
    emu.clear_requests()
    r = run(["rm", path])
    assert r.returncode == 0 and r.stderr == ""
    assert changes(emu) == []
    # A listing ends the wait for a replacement at once ...
    assert "offer.json" in os.listdir(d)
    assert json.loads(read_text(path)) == doc0
    # ... and so does time.
    os.unlink(path)
    time.sleep(MARK_TTL + 0.2)
    assert json.loads(read_text(path)) == doc0
    assert changes(emu) == []
    assert server_offer(emu) == (etag0, doc0)


def test_unlink_then_create_is_one_put_at_close(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    emu.clear_requests()
    fd = open_replacement(path, 0o600)
    try:
        os.write(fd, json.dumps(edited(doc0, "replaced")).encode())
        os.fchmod(fd, 0o644)
        assert puts(emu) == []  # not before it is closed
    finally:
        os.close(fd)
    reqs = puts(emu)
    assert [(r["headers"]["if-match"], r["status"]) for r in reqs] == \
        [(etag0, 200)]
    assert json.loads(read_text(path))["definition"]["offer"][SUMMARY] == \
        "replaced"


def test_renaming_a_document_away_leaves_it_and_copies_it(emu, mnt):
    d = mnt.offer(OFFER)
    path = os.path.join(d, "offer.json")
    text = read_text(path)
    emu.clear_requests()
    os.rename(path, path + "~")  # emacs's backup by rename
    assert read_text(path) == text
    assert read_text(path + "~") == text
    assert {"offer.json", "offer.json~"} <= set(os.listdir(d))
    with open(path + "~", "a") as f:
        f.write("backup only\n")
    assert read_text(path) == text
    os.unlink(path + "~")
    assert "offer.json~" not in os.listdir(d)
    assert changes(emu) == []


def test_document_directories_are_writable_and_no_others(mnt):
    # What editors and `test -w` look at before they save through a new
    # file, and what -o default_permissions has the kernel enforce.
    d = mnt.offer(OFFER)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o755
    assert os.access(d, os.W_OK)
    for other in (os.path.join(d, "slots"), mnt.p("publishers"), mnt.p()):
        assert stat.S_IMODE(os.stat(other).st_mode) == 0o555, other
        assert not os.access(other, os.W_OK), other


def test_excl_create_of_a_document_is_eexist(mnt):
    assert errno_of(os.open, mnt.offer(OFFER, "offer.json"),
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL) == errno.EEXIST


# --- everything else stays refused ------------------------------------------

def test_the_rest_stays_refused(emu, mnt):
    d = mnt.offer(OFFER)
    run(["ls", "-lR", d], check=True)
    scratch = os.path.join(d, "scratch.txt")
    open(scratch, "w").close()
    emu.clear_requests()
    cases = [
        (os.mkdir, (os.path.join(d, "newdir"),)),
        (os.symlink, ("offer.json", os.path.join(d, "link"))),
        (os.link, (scratch, os.path.join(d, "hard"))),
        (os.chmod, (os.path.join(d, "offer.json"), 0o600)),
        (os.chown, (os.path.join(d, "offer.json"), os.getuid() + 4242, -1)),
        (os.chmod, (os.path.join(d, "status"), 0o644)),
        (os.rename, (os.path.join(d, "status"), os.path.join(d, "s2"))),
        (os.rename, (os.path.join(d, "slots"), os.path.join(d, "s3"))),
        (os.rename, (scratch, os.path.join(d, "status"))),
        (os.rename, (scratch, os.path.join(d, "publish"))),
        (os.rename, (scratch, os.path.join(d, "slots", "x"))),
        (os.rename, (os.path.join(d, "offer.json"), os.path.join(d, "status"))),
        (os.rename, (os.path.join(d, "offer.json"),
                     mnt.offer("contoso-app", "offer.json"))),
        (os.unlink, (os.path.join(d, "status"),)),
        (os.unlink, (os.path.join(d, "publish"),)),
        (os.rmdir, (os.path.join(d, "slots"),)),
        (os.open, (os.path.join(d, "slots", "new"),
                   os.O_WRONLY | os.O_CREAT, 0o644)),
        (os.open, (mnt.p("publishers", "new"),
                   os.O_WRONLY | os.O_CREAT, 0o644)),
        (os.open, (mnt.p("new"), os.O_WRONLY | os.O_CREAT, 0o644)),
    ]
    for fn, args in cases:
        assert errno_of(fn, *args) == errno.EPERM, (fn.__name__, args)
    # The kernel's own answer, before partnerfs is asked.
    assert errno_of(os.rename, scratch, os.path.join(d, "slots")) == \
        errno.EISDIR
    # Nor onto a document being replaced: that is no backup name.
    os.unlink(mnt.offer("contoso-app", "offer.json"))
    assert errno_of(os.rename, os.path.join(d, "offer.json"),
                    mnt.offer("contoso-app", "offer.json")) == errno.EPERM
    assert changes(emu) == []
    assert sorted(os.listdir(d)) == sorted(
        ["offer.json", "status", "status.json", "publish", "golive",
         "cancel", "slots", "versions", "operations", "scratch.txt"])
    assert "offer.json" in os.listdir(mnt.offer("contoso-app"))
