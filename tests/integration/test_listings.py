"""Listings tell the truth (issue 12): whatever a directory lists stats
and opens, so that cp -r, rsync -a and tar of an offer complete even when
the server no longer serves some of what the tree could show (an old
version, a publisher named in -o publishers=, an operation's document).

    /usr/bin/python3 -m pytest -q --timeout 120 tests/integration/test_listings.py
"""
import collections
import errno
import filecmp
import json
import os

import pytest

from conftest import SEED
from util import errno_of, read_bytes, run

OFFERS = "/api/publishers/contoso/offers"
VM = OFFERS + "/contoso-vm"
OP1 = "c0ffee00-0000-4000-8000-000000000001"


def gets(emu, needle):
    """GETs whose path holds needle, by path."""
    return collections.Counter(r["path"] for r in emu.requests()
                               if r["method"] == "GET" and needle in r["path"])


def every_listed_name_stats_and_opens(root):
    """Walks root by its listings: each name readdir gave must lstat, and
    open and read to EOF (files) or list (directories)."""
    n = 0
    for d, dirs, files in os.walk(root, onerror=lambda e: pytest.fail(
            f"listing: {e}")):
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)  # raises on a lie
            if os.path.islink(p):
                assert os.path.exists(p), p  # its target too
            elif name in files:
                with open(p, "rb") as f:
                    assert len(f.read()) == st.st_size, p
            n += 1
    return n


def copies_complete(src, tmp):
    """cp -r, tar c and rsync -a of src: each exits 0 and says nothing,
    and the copies hold what the mount shows."""
    cp = os.path.join(tmp, "cp")
    r = run(["cp", "-r", src, cp], timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    cmp = filecmp.dircmp(src, cp)
    assert cmp.left_only == [] and cmp.right_only == []
    tar = os.path.join(tmp, "x.tar")
    r = run(["tar", "-C", os.path.dirname(src), "-cf", tar,
             os.path.basename(src)], timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    rs = os.path.join(tmp, "rsync")
    r = run(["rsync", "-a", src + "/", rs + "/"], timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    for d, _, files in os.walk(src):
        for name in files:
            p = os.path.join(d, name)
            if os.path.islink(p):
                continue
            rel = os.path.relpath(p, src)
            want = read_bytes(p)
            assert read_bytes(os.path.join(cp, rel)) == want, rel
            assert read_bytes(os.path.join(rs, rel)) == want, rel
    return cp


# ------------------------------------------------------------- versions

@pytest.fixture
def five_versions(tmpdir_short):
    """The default seed with contoso-vm published as versions 1..5."""
    with open(SEED) as f:
        seed = json.load(f)
    for p in seed["publishers"]:
        for o in p["offers"]:
            if o["id"] == "contoso-vm":
                o["version"] = 5
    path = os.path.join(tmpdir_short, "seed5.json")
    with open(path, "w") as f:
        json.dump(seed, f)
    return path


@pytest.fixture
def holes(make_emulator, five_versions):
    """An emulator that no longer serves versions 1 (the oldest) and 3 (a
    middle one) of contoso-vm: their GETs answer 404."""
    emu = make_emulator("--seed", five_versions)
    for v in (1, 3):
        emu.fault(method="GET", path=f"{VM}/versions/{v}", status=404,
                  count=-1)
    return emu


def test_versions_the_server_no_longer_serves_are_not_listed(holes,
                                                              make_mount):
    m = make_mount(holes)
    v = m.offer("contoso-vm", "versions")
    out = run(["ls", v], check=True).stdout.split()
    assert out == ["2.json", "4.json", "5.json"]
    assert sorted(os.listdir(v)) == out
    for name in out:
        doc = json.loads(read_bytes(os.path.join(v, name)))
        assert doc["version"] == int(name.split(".")[0])
    for gone in ("1.json", "3.json", "6.json"):
        assert errno_of(os.stat, os.path.join(v, gone)) == errno.ENOENT
    r = run(["ls", "-l", v])
    assert r.returncode == 0 and r.stderr == ""


def test_each_version_is_asked_once_and_then_served_from_the_cache(
        holes, make_mount):
    """ls asks for every candidate once (1..version); the stats and reads
    of a copy that follows find them in the cache."""
    m = make_mount(holes)
    holes.clear_requests()
    run(["ls", m.offer("contoso-vm", "versions")], check=True)
    got = gets(holes, "/versions/")
    assert got == {f"{VM}/versions/{n}": 1 for n in range(1, 6)}
    holes.clear_requests()
    r = run(["cp", "-r", m.offer("contoso-vm", "versions"),
             os.path.join(m.tmp, "v")], timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert gets(holes, "/versions/") == {}


def test_copies_of_an_offer_with_holes_in_its_versions_complete(
        holes, make_mount, tmpdir_short):
    m = make_mount(holes)
    src = m.offer("contoso-vm")
    assert every_listed_name_stats_and_opens(src) >= 16
    cp = copies_complete(src, tmpdir_short)
    assert sorted(os.listdir(os.path.join(cp, "versions"))) == \
        ["2.json", "4.json", "5.json"]


def test_cache_ttl_0_still_lists_only_what_opens(holes, make_mount,
                                                  tmpdir_short):
    m = make_mount(holes, "cache_ttl=0")
    src = m.offer("contoso-vm")
    assert every_listed_name_stats_and_opens(src) >= 16
    copies_complete(src, tmpdir_short)


def test_a_version_that_stops_being_served_leaves_the_listing(
        emu, make_mount):
    """After the ttl the listing asks again, and a version gone since is
    no longer named."""
    m = make_mount(emu, "cache_ttl=0.2")
    v = m.offer("contoso-vm", "versions")
    assert sorted(os.listdir(v)) == ["1.json", "2.json"]
    emu.fault(method="GET", path=f"{VM}/versions/1", status=404, count=-1)
    import time
    time.sleep(0.3)
    assert sorted(os.listdir(v)) == ["2.json"]
    assert errno_of(os.stat, os.path.join(v, "1.json")) == errno.ENOENT


def test_an_error_other_than_404_fails_the_listing_rather_than_hide(
        holes, make_mount):
    """A version that could not be asked for (500) is not known to be
    gone: the listing says EIO instead of leaving it out."""
    m = make_mount(holes, "retries=0")
    holes.fault(method="GET", path=f"{VM}/versions/2", status=500, count=1)
    v = m.offer("contoso-vm", "versions")
    assert errno_of(os.listdir, v) == errno.EIO
    assert sorted(os.listdir(v)) == ["2.json", "4.json", "5.json"]


# ----------------------------------------------------------- publishers

def test_a_configured_publisher_the_api_does_not_know_is_not_listed(
        emu, make_mount, tmpdir_short):
    """-o publishers= names are taken on trust, except one whose offer
    listing answers 404: it would list a directory whose offers/ fails."""
    m = make_mount(emu, "publishers=fabrikam,nobody,contoso")
    out = run(["ls", "-U", m.p("publishers")], check=True).stdout.split()
    assert out == ["fabrikam", "contoso"]
    assert errno_of(os.stat, m.p("publishers", "nobody")) == errno.ENOENT
    assert "/api/publishers" not in gets(emu, "/api/publishers")
    assert every_listed_name_stats_and_opens(m.p("publishers")) > 30
    r = run(["cp", "-r", m.p("publishers"), os.path.join(tmpdir_short, "c")],
            timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_a_configured_publisher_the_token_may_not_read_stays_listed(
        emu, make_mount):
    """A 403 is not "does not exist": the name stays, and offers/ says
    EACCES, as an unreadable directory would."""
    m = make_mount(emu, "publishers=contoso,fabrikam")
    emu.fault(method="GET", path="/api/publishers/fabrikam/offers",
              status=403, count=-1)
    assert os.listdir(m.p("publishers")) == ["contoso", "fabrikam"]
    assert errno_of(os.listdir, m.p("publishers", "fabrikam", "offers")) == \
        errno.EACCES


def test_a_publisher_whose_offers_answer_404_leaves_the_listing(
        emu, make_mount):
    m = make_mount(emu)
    assert "fabrikam" in os.listdir(m.p("publishers"))
    emu.fault(method="GET", path="/api/publishers/fabrikam/offers",
              status=404, count=-1)
    _, body = emu.call("GET", "/api/publishers?api-version=2017-10-31",
                       headers={"Authorization": "Bearer sandbox-token"})
    pubs = [p for p in json.loads(body) if p["id"] != "fabrikam"]
    emu.fault(method="GET", path="/api/publishers", status=200,
              body=json.dumps(pubs), count=-1)
    # readdir's ENOENT is an empty directory to glibc (a directory
    # removed while read): what a user sees is nothing in it.
    assert os.listdir(m.p("publishers", "fabrikam", "offers")) == []
    # At once, not after cache_ttl (30 s here).
    assert "fabrikam" not in os.listdir(m.p("publishers"))


def test_a_name_no_listing_had_drops_no_listing(emu, make_mount):
    """Only a listing that named what answered 404 is asked again: a
    typo looked up costs its own GET, not the listings'."""
    m = make_mount(emu)
    os.listdir(m.p("publishers"))
    os.listdir(m.p("publishers", "contoso", "offers"))
    emu.clear_requests()
    assert errno_of(os.stat, m.p("publishers", "nobody")) == errno.ENOENT
    assert errno_of(os.stat, m.offer("nothing")) == errno.ENOENT
    os.listdir(m.p("publishers"))
    os.listdir(m.p("publishers", "contoso", "offers"))
    assert list(gets(emu, "/api/")) == ["/api/publishers/nobody/offers"]


# --------------------------------------------------------------- offers

def test_an_offer_that_answers_404_leaves_the_listing_at_once(emu,
                                                              make_mount):
    """The listing is cached for the ttl; an offer deleted since answers
    404, and that drops the listing so the next ls asks again."""
    m = make_mount(emu)
    offers = m.p("publishers", "contoso", "offers")
    assert "contoso-vm" in os.listdir(offers)
    _, body = emu.call("GET", OFFERS + "?api-version=2017-10-31",
                       headers={"Authorization": "Bearer sandbox-token"})
    rest = [o for o in json.loads(body) if o["id"] != "contoso-vm"]
    emu.fault(method="GET", path=OFFERS, status=200, body=json.dumps(rest),
              count=-1)
    emu.fault(method="GET", path=VM + "*", status=404, count=-1)
    assert errno_of(read_bytes, m.offer("contoso-vm", "offer.json")) == \
        errno.ENOENT
    assert "contoso-vm" not in os.listdir(offers)
    r = run(["cp", "-r", offers, os.path.join(m.tmp, "c")], timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


# ---------------------------------------------------------------- slots

@pytest.mark.parametrize("offer", ["contoso-vm", "contoso-draft"])
def test_slots_list_only_what_opens(emu, make_mount, offer):
    m = make_mount(emu)
    emu.fault(method="GET", path=f"{OFFERS}/{offer}/slot/draft", status=404,
              count=-1)
    s = m.offer(offer, "slots")
    assert "draft.json" not in os.listdir(s)
    every_listed_name_stats_and_opens(s)


def test_a_slot_that_could_not_be_asked_for_fails_the_listing(emu,
                                                               make_mount):
    """A 500 is not "no such slot": slots/ says EIO rather than list one
    file fewer, so that cp -r reports the copy as incomplete; the next ls,
    once the server answers, lists it."""
    m = make_mount(emu, "retries=0")
    emu.fault(method="GET", path=f"{VM}/slot/preview", status=500, count=1)
    s = m.offer("contoso-vm", "slots")
    assert errno_of(os.listdir, s) == errno.EIO
    assert sorted(os.listdir(s)) == ["draft.json", "preview.json",
                                     "production.json"]


# ----------------------------------------------------------- operations

def test_an_operation_whose_document_answers_404(emu, make_mount,
                                                  tmpdir_short):
    """The submissions listing names an operation whose own GET answers
    404: the operation is listed (its status is the listing's), its
    operation.json is not, and copies of the offer complete."""
    emu.fault(method="GET", path=f"{VM}/operations/{OP1}*", status=404,
              count=-1)
    m = make_mount(emu)
    op = m.offer("contoso-vm", "operations", OP1)
    assert OP1 in os.listdir(m.offer("contoso-vm", "operations"))
    assert os.listdir(op) == ["status"]
    assert errno_of(os.stat, os.path.join(op, "operation.json")) == \
        errno.ENOENT
    src = m.offer("contoso-vm")
    every_listed_name_stats_and_opens(src)
    copies_complete(src, tmpdir_short)


def test_latest_always_points_at_a_listed_operation(emu, mnt):
    ops = mnt.offer("contoso-vm", "operations")
    target = os.readlink(os.path.join(ops, "latest"))
    assert target in os.listdir(ops)
    assert os.path.isdir(os.path.join(ops, "latest"))
