"""Editing offer.json (DESIGN.md section 2, writable JSON files): the
document written between open() and close() is validated at flush/fsync
and PUT with If-Match set to the ETag of the version read (verbatim), or
"*" when the GET gave none. Driven by real tools: cp, a shell redirection,
tee, dd conv=fsync, Python and vim; checked against what the emulator
received and what it now stores. The tools that save through a new file
(sed -i, mv, ...) are in test_scratch.py.
"""
import errno
import json
import os
import shutil
import urllib.request

import pytest

from ophelpers import API_VERSION, TOKEN, fs_requests, q, read_text
from util import run, vim_substitute

OFFER = "contoso-vm"
OFFER_PATH = f"/api/publishers/contoso/offers/{OFFER}"
SUMMARY = "microsoft-azure-marketplace.summary"


def server_offer(emu, offer=OFFER):
    """(ETag header, document) of the offer, straight from the emulator."""
    req = urllib.request.Request(
        f"{emu.url}/api/publishers/contoso/offers/{offer}?{API_VERSION}",
        headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": "pfs-test"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers.get("ETag"), json.loads(r.read())


def server_put(emu, doc, offer=OFFER):
    """A change made behind partnerfs's back."""
    status, body = emu.call(
        "PUT", f"/api/publishers/contoso/offers/{offer}?{API_VERSION}", doc,
        headers={"Authorization": f"Bearer {TOKEN}", "If-Match": "*",
                 "User-Agent": "pfs-test"})
    assert status == 200, body


def puts(emu):
    return fs_requests(emu, method="PUT")


def edited(doc, text):
    new = json.loads(json.dumps(doc))
    new["definition"]["offer"][SUMMARY] = text
    return new


def getxattr(path, name):
    return os.getxattr(path, name).decode()


def assert_one_put(emu, if_match, body_doc):
    reqs = puts(emu)
    assert len(reqs) == 1, reqs
    r = reqs[0]
    assert r["method"] == "PUT"
    assert r["path"] == OFFER_PATH
    assert r["query"] == API_VERSION
    assert r["headers"]["if-match"] == if_match
    assert r["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert r["headers"]["content-type"].split(";")[0] == "application/json"
    assert json.loads(r["body"]) == body_doc
    assert r.get("status") == 200
    return r


# --- the file ---------------------------------------------------------------

def test_offer_json_is_0644_and_status_0444(mnt):
    assert os.stat(mnt.offer(OFFER, "offer.json")).st_mode & 0o777 == 0o644
    assert os.stat(mnt.offer(OFFER, "status.json")).st_mode & 0o777 == 0o444
    assert os.access(mnt.offer(OFFER, "offer.json"), os.W_OK)


# --- every way of writing a file ------------------------------------------

def _cp(src, dst):
    return run(["cp", src, dst])


def _cat_redirect(src, dst):
    return run(f"cat {q(src)} > {q(dst)}")


def _tee(src, dst):
    return run(f"tee {q(dst)} < {q(src)} > /dev/null")


def _dd_fsync(src, dst):
    return run(["dd", f"if={src}", f"of={dst}", "conv=fsync,notrunc",
                "status=none"])


def _dd_trunc_fsync(src, dst):
    return run(["dd", f"if={src}", f"of={dst}", "conv=fsync", "status=none"])


def _python(src, dst):
    with open(src) as f:
        text = f.read()
    with open(dst, "w") as f:
        f.write(text)
    return None


def _python_small_writes(src, dst):
    # Many write() calls at increasing offsets: one document, one PUT.
    data = open(src, "rb").read()
    fd = os.open(dst, os.O_WRONLY | os.O_TRUNC)
    try:
        for i in range(0, len(data), 100):
            os.write(fd, data[i:i + 100])
    finally:
        os.close(fd)
    return None


def _vim(backupcopy):
    def write(src, dst):
        if not shutil.which("vim"):
            pytest.skip("vim not installed")
        # Edit the summary in place and :wq, as a user would; the test
        # expects the same document as src.
        want = json.loads(open(src).read())["definition"]["offer"][SUMMARY]
        with open(dst) as f:
            old = json.load(f)["definition"]["offer"][SUMMARY]
        return vim_substitute(dst, old, want, backupcopy)
    return write


WRITERS = {
    "cp": _cp,
    "cat-redirect": _cat_redirect,
    "tee": _tee,
    "dd-conv-fsync": _dd_trunc_fsync,
    "dd-conv-fsync-notrunc-same-size": _dd_fsync,
    "python-open-w": _python,
    "python-100-byte-writes": _python_small_writes,
    "vim-backupcopy-yes": _vim("yes"),
    "vim-backupcopy-auto": _vim("auto"),
    "vim-backupcopy-no": _vim("no"),
}


@pytest.mark.parametrize("how", list(WRITERS))
def test_writer_sends_one_put_with_read_etag_and_refreshes(how, emu, mnt,
                                                           tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    assert etag0.startswith('W/"datetime\'') and etag0.endswith("'\"")
    # What partnerfs read is the server's version, ETag included.
    assert json.loads(read_text(path)) == doc0
    assert getxattr(path, "user.partnerfs.etag") == etag0
    src = tmp_path / "new.json"
    if how == "dd-conv-fsync-notrunc-same-size":
        # Without O_TRUNC: overwrite every byte with a same-size edit.
        old = doc0["definition"]["offer"][SUMMARY]
        text = old.upper()
        src.write_text(read_text(path).replace(old, text))
        assert len(src.read_bytes()) == os.stat(path).st_size
        new = json.loads(src.read_text())
    else:
        text = f"edited by {how}"
        new = edited(doc0, text)
        src.write_text(json.dumps(new, indent=2) + "\n")
    emu.clear_requests()

    r = WRITERS[how](str(src), path)
    assert r is None or r.returncode == 0, (r.stdout, r.stderr)

    assert_one_put(emu, etag0, new)
    etag1, doc1 = server_offer(emu)
    assert doc1["definition"]["offer"][SUMMARY] == text
    assert etag1 != etag0
    # The cached offer and its ETag are refreshed at once (cache_ttl is
    # 30 s): a cat after the write shows the stored document.
    assert json.loads(read_text(path)) == doc1
    assert getxattr(path, "user.partnerfs.etag") == etag1
    assert len(puts(emu)) == 1


def test_second_edit_uses_the_etag_of_the_first_edits_answer(emu, mnt,
                                                            tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    emu.clear_requests()
    with open(path, "w") as f:
        json.dump(edited(doc0, "one"), f)
    etag1, doc1 = server_offer(emu)
    with open(path, "w") as f:
        json.dump(edited(doc1, "two"), f)
    reqs = puts(emu)
    assert [r["headers"]["if-match"] for r in reqs] == [etag0, etag1]
    assert [r["status"] for r in reqs] == [200, 200]
    assert server_offer(emu)[1]["definition"]["offer"][SUMMARY] == "two"


def test_rewrite_after_fsync_in_one_open_uses_the_new_etag(emu, mnt):
    """fsync() sends a version; writing on and closing sends the next one,
    guarded by the ETag the first PUT produced, not the one read at open."""
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    emu.clear_requests()
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, json.dumps(edited(doc0, "first")).encode())
        os.fsync(fd)
        etag1, doc1 = server_offer(emu)
        assert etag1 != etag0
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(edited(doc0, "second")).encode())
    finally:
        os.close(fd)
    reqs = puts(emu)
    assert [r["headers"]["if-match"] for r in reqs] == [etag0, etag1]
    assert [r["status"] for r in reqs] == [200, 200]
    assert server_offer(emu)[1]["definition"]["offer"][SUMMARY] == "second"


def test_without_get_etag_if_match_is_star(make_emulator, make_mount):
    emu = make_emulator("--no-get-etag")
    mnt = make_mount(emu)
    path = mnt.offer(OFFER, "offer.json")
    doc0 = json.loads(read_text(path))
    with pytest.raises(OSError) as ei:
        os.getxattr(path, "user.partnerfs.etag")
    assert ei.value.errno == errno.ENODATA
    new = edited(doc0, "last one wins")
    emu.clear_requests()
    with open(path, "w") as f:
        f.write(json.dumps(new))
    assert_one_put(emu, "*", new)
    assert json.loads(read_text(path))["definition"]["offer"][SUMMARY] == \
        "last one wins"


def test_etag_is_sent_verbatim_including_weak_prefix_and_quotes(emu, mnt):
    path = mnt.offer("fabrikam-corevm", "offer.json", pub="fabrikam")
    doc = json.loads(read_text(path))
    etag = getxattr(path, "user.partnerfs.etag")
    assert etag.startswith('W/"') and "%3A" in etag
    emu.clear_requests()
    with open(path, "w") as f:
        json.dump(doc, f)
    reqs = puts(emu)
    assert len(reqs) == 1
    assert reqs[0]["path"] == "/api/publishers/fabrikam/offers/fabrikam-corevm"
    assert reqs[0]["headers"]["if-match"] == etag


# --- refused documents: EINVAL, nothing sent ----------------------------------

@pytest.mark.parametrize("data", [
    b"{bad",
    b'{"id": "contoso-vm",',
    b"[1, 2, 3]\n",
    b'"a string"\n',
    b'{"a": 1} {"b": 2}\n',
    b'{"a": 1} trailing\n',
    b"\x00\x01\x02",
], ids=["truncated", "unterminated", "array", "string", "two-documents",
        "trailing-garbage", "binary"])
def test_invalid_json_is_einval_at_close_and_nothing_is_sent(data, emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    emu.clear_requests()
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, data)
    with pytest.raises(OSError) as ei:
        os.close(fd)
    assert ei.value.errno == errno.EINVAL
    assert puts(emu) == []
    assert server_offer(emu) == (etag0, doc0)
    assert json.loads(read_text(path)) == doc0


def test_invalid_json_is_einval_at_fsync(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    emu.clear_requests()
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"{not json")
        with pytest.raises(OSError) as ei:
            os.fsync(fd)
        assert ei.value.errno == errno.EINVAL
    finally:
        os.close(fd)  # the error was reported once; nothing is pending
    assert puts(emu) == []


def test_python_write_of_bad_json_raises_einval(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    emu.clear_requests()
    with pytest.raises(OSError) as ei:
        with open(path, "w") as f:
            f.write("{oops")
    assert ei.value.errno == errno.EINVAL
    assert puts(emu) == []


def test_dd_of_bad_json_fails_and_sends_nothing(emu, mnt, tmp_path):
    src = tmp_path / "bad.json"
    src.write_text("{nope\n")
    emu.clear_requests()
    r = run(["dd", f"if={src}", f"of={mnt.offer(OFFER, 'offer.json')}",
             "conv=fsync", "status=none"])
    assert r.returncode != 0
    assert "Invalid argument" in r.stderr
    assert puts(emu) == []


def test_truncating_without_writing_sends_nothing(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    emu.clear_requests()
    r = run(f": > {q(path)}")
    assert r.returncode == 0, r.stderr
    assert puts(emu) == []
    assert server_offer(emu) == (etag0, doc0)


# --- the server says no -------------------------------------------------------

def test_changed_behind_our_back_is_estale_and_refreshes(emu, mnt, tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    assert json.loads(read_text(path)) == doc0  # cached with etag0
    server_put(emu, edited(doc0, "changed by someone else"))
    etag1, doc1 = server_offer(emu)
    assert etag1 != etag0
    emu.clear_requests()
    with pytest.raises(OSError) as ei:
        with open(path, "w") as f:
            json.dump(edited(doc0, "mine"), f)
    assert ei.value.errno == errno.ESTALE
    reqs = puts(emu)
    assert len(reqs) == 1
    assert reqs[0]["headers"]["if-match"] == etag0
    assert reqs[0]["status"] == 412
    # The other writer's version stays, and is what a read now shows.
    assert server_offer(emu) == (etag1, doc1)
    assert json.loads(read_text(path)) == doc1
    assert getxattr(path, "user.partnerfs.etag") == etag1
    last = read_text(mnt.p(".partnerfs", "last-error"))
    assert f"PUT {OFFER_PATH} -> 412" in last


def test_cp_reports_estale(emu, mnt, tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    server_put(emu, edited(doc0, "someone else"))
    src = tmp_path / "new.json"
    src.write_text(json.dumps(edited(doc0, "mine")))
    r = run(["cp", str(src), path])
    assert r.returncode == 1
    assert "Stale file handle" in r.stderr
    assert server_offer(emu)[1]["definition"]["offer"][SUMMARY] == \
        "someone else"


@pytest.mark.parametrize("status,err", [(400, errno.EINVAL),
                                        (422, errno.EINVAL),
                                        (403, errno.EACCES),
                                        (404, errno.ENOENT),
                                        (409, errno.EBUSY),
                                        (500, errno.EIO),
                                        (503, errno.EAGAIN)])
def test_put_error_status_maps_to_errno_and_is_not_retried(status, err, emu,
                                                           mnt):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    read_text(path)
    emu.fault(method="PUT", path=OFFER_PATH, status=status,
              body=json.dumps({"error": {"code": "X",
                                         "message": f"refused {status}"}}))
    emu.clear_requests()
    with pytest.raises(OSError) as ei:
        with open(path, "w") as f:
            json.dump(edited(doc0, "x"), f)
    assert ei.value.errno == err
    reqs = puts(emu)
    assert len(reqs) == 1, reqs
    assert reqs[0]["status"] == status
    assert server_offer(emu) == (etag0, doc0)
    assert f"refused {status}" in read_text(mnt.p(".partnerfs", "last-error"))


# --- what is refused ------------------------------------------------------

def test_sed_to_stdout_then_cp_is_the_way(emu, mnt, tmp_path):
    path = mnt.offer(OFFER, "offer.json")
    etag0, doc0 = server_offer(emu)
    out = tmp_path / "o.json"
    r = run(f"sed 's/Contoso Virtual Machine summary/via sed/' {q(path)} > "
            f"{q(str(out))} && cp {q(str(out))} {q(path)}")
    assert r.returncode == 0, r.stderr
    assert_one_put(emu, etag0, edited(doc0, "via sed"))


def test_a_read_only_file_is_not_renamed_over_offer_json(emu, mnt):
    # sed -i, mv and the rest work through scratch files (test_scratch.py);
    # a read-only file is no scratch file and stays where it is.
    path = mnt.offer(OFFER, "offer.json")
    emu.clear_requests()
    with pytest.raises(OSError) as ei:
        os.rename(mnt.offer(OFFER, "status"), path)
    assert ei.value.errno == errno.EPERM
    assert puts(emu) == []


def test_read_only_documents_refuse_writes(emu, mnt):
    for name in ("status.json", "status", os.path.join("slots", "draft.json")):
        with pytest.raises(OSError) as ei:
            open(mnt.offer(OFFER, name), "w").close()
        assert ei.value.errno == errno.EACCES, name
    assert puts(emu) == []


def test_stats_count_the_put(emu, mnt):
    path = mnt.offer(OFFER, "offer.json")
    doc = json.loads(read_text(path))
    body = json.dumps(edited(doc, "counted"))
    with open(path, "w") as f:
        f.write(body)
    stats = read_text(mnt.p(".partnerfs", "stats")).splitlines()
    assert "requests PUT 200 1" in stats
    sent = [int(line.split()[1]) for line in stats
            if line.startswith("bytes_sent ")]
    assert sent and sent[0] >= len(body)
