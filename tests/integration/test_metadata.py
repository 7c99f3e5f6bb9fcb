"""Metadata and the offer's other documents: extended attributes
(user.partnerfs.url, user.partnerfs.etag, with getfattr), .partnerfs/
(version, config, stats, last-error), slots/ and versions/.
"""
import errno
import json
import os
import re
import urllib.request

import pytest

from conftest import PARTNERFS
from ophelpers import API_VERSION, TOKEN, fs_requests, read_text
from util import run

VM = "/api/publishers/contoso/offers/contoso-vm"


def server(emu, path):
    """(status, ETag, JSON) of an API path straight from the emulator."""
    req = urllib.request.Request(
        f"{emu.url}{path}?{API_VERSION}",
        headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": "pfs-test"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("ETag"), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None, None


def getfattr_d(path):
    r = run(["getfattr", "-d", "--absolute-names", path])
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r'^([\w.]+)="(.*)"$', line)
        if m:
            out[m.group(1)] = m.group(2).replace('\\"', '"')
    return out


# --- extended attributes -----------------------------------------------------

def test_getfattr_d_shows_url_and_etag_of_offer_json(emu, mnt):
    _, etag, _ = server(emu, VM)
    attrs = getfattr_d(mnt.offer("contoso-vm", "offer.json"))
    assert attrs == {
        "user.partnerfs.url": f"{emu.url}{VM}?{API_VERSION}",
        "user.partnerfs.etag": etag,
    }


@pytest.mark.parametrize("name,api", [
    ("slots/draft.json", "/slot/draft"),
    ("slots/preview.json", "/slot/preview"),
    ("slots/production.json", "/slot/production"),
    ("versions/1.json", "/versions/1"),
    ("versions/2.json", "/versions/2"),
])
def test_xattrs_of_slots_and_versions(name, api, emu, mnt):
    path = mnt.offer("contoso-vm", *name.split("/"))
    assert os.getxattr(path, "user.partnerfs.url").decode() == \
        f"{emu.url}{VM}{api}?{API_VERSION}"
    _, etag, _ = server(emu, VM + api)
    assert etag and os.getxattr(path, "user.partnerfs.etag").decode() == etag
    assert sorted(os.listxattr(path)) == ["user.partnerfs.etag",
                                          "user.partnerfs.url"]


def test_status_has_url_but_no_etag(emu, mnt):
    path = mnt.offer("contoso-vm", "status.json")
    assert os.listxattr(path) == ["user.partnerfs.url"]
    assert os.getxattr(path, "user.partnerfs.url").decode() == \
        f"{emu.url}{VM}/status?{API_VERSION}"
    with pytest.raises(OSError) as ei:
        os.getxattr(path, "user.partnerfs.etag")
    assert ei.value.errno == errno.ENODATA


def test_setting_or_removing_xattrs_is_eperm(mnt):
    path = mnt.offer("contoso-vm", "offer.json")
    for call in (lambda: os.setxattr(path, "user.partnerfs.etag", b"x"),
                 lambda: os.setxattr(path, "user.mine", b"x"),
                 lambda: os.removexattr(path, "user.partnerfs.url")):
        with pytest.raises(OSError) as ei:
            call()
        assert ei.value.errno == errno.EPERM


def test_getfattr_with_a_small_buffer_is_erange(mnt):
    # The size probe then the read, as getfattr does, via the libc calls.
    path = mnt.offer("contoso-vm", "offer.json")
    full = os.getxattr(path, "user.partnerfs.url")
    assert len(full) > 20
    r = run(["getfattr", "--only-values", "-n", "user.partnerfs.url", path])
    assert r.stdout.encode() == full


# --- .partnerfs/ ------------------------------------------------------------------

def test_version_file_matches_dash_v(mnt):
    r = run([PARTNERFS, "-V"])
    assert r.returncode == 0
    text = read_text(mnt.p(".partnerfs", "version"))
    assert text == r.stdout
    names = [line.split()[0] for line in text.splitlines()]
    assert names == ["partnerfs", "libfuse", "libcurl", "json-c"]
    assert os.stat(mnt.p(".partnerfs", "version")).st_size == len(text)


def test_partnerfs_dir_lists_its_four_files(mnt):
    assert sorted(os.listdir(mnt.p(".partnerfs"))) == [
        "config", "last-error", "stats", "version"]
    for name in os.listdir(mnt.p(".partnerfs")):
        assert os.stat(mnt.p(".partnerfs", name)).st_mode & 0o777 == 0o444


def test_config_shows_effective_options(emu, make_mount):
    m = make_mount(emu, "poll_interval=0.5,cache_ttl=7,cache_max=500,"
                   "timeout=9,retries=2,"
                   "log_level=debug,publishers=contoso,fabrikam")
    cfg = read_text(m.p(".partnerfs", "config"))
    assert cfg == (
        "api=cpp\n"
        f"endpoint={emu.url}\n"
        "api_version=2017-10-31\n"
        f"auth=token_file={m.token_file}\n"
        "publishers=contoso,fabrikam\n"
        "poll_interval=0.5\n"
        "cache_ttl=7\n"
        "cache_max=500\n"
        "timeout=9\n"
        "retries=2\n"
        "cafile=(system)\n"
        "insecure=0\n"
        "log_level=debug\n"
        f"mountpoint={m.path}\n")
    assert os.stat(m.p(".partnerfs", "config")).st_size == len(cfg)


def test_config_defaults(emu, mnt):
    cfg = dict(line.split("=", 1) for line in
               read_text(mnt.p(".partnerfs", "config")).splitlines())
    assert cfg["api_version"] == "2017-10-31"
    assert cfg["cache_ttl"] == "30"
    assert cfg["timeout"] == "30"
    assert cfg["retries"] == "3"
    assert cfg["log_level"] == "info"
    assert cfg["publishers"] == "(from the API)"


def stats_of(m):
    out = {}
    for line in read_text(m.p(".partnerfs", "stats")).splitlines():
        parts = line.split()
        out[" ".join(parts[:-1])] = int(parts[-1])
    return out


def test_stats_count_requests_by_method_and_status_like_the_server(emu, mnt):
    read_text(mnt.offer("contoso-vm", "offer.json"))
    with pytest.raises(OSError):
        read_text(mnt.offer("contoso-draft", "slots", "preview.json"))
    emu.fault(method="GET", path=VM + "/status", status=500, count=1)
    with pytest.raises(OSError):
        read_text(mnt.offer("contoso-vm", "status.json"))
    st = stats_of(mnt)
    want = {}
    for r in fs_requests(emu):
        key = f"requests {r['method']} {r['status']}"
        want[key] = want.get(key, 0) + 1
    got = {k: v for k, v in st.items() if k.startswith("requests ")}
    assert got == want
    assert got["requests GET 404"] == 1
    assert got["requests GET 500"] == 1
    assert st["bytes_received"] > len(read_text(mnt.offer("contoso-vm",
                                                         "offer.json"))) // 2


def test_stats_cache_hits_grow_on_cached_reads(emu, mnt):
    path = mnt.offer("contoso-vm", "offer.json")
    read_text(path)
    before = stats_of(mnt)
    emu.clear_requests()
    for _ in range(5):
        read_text(path)
    after = stats_of(mnt)
    assert fs_requests(emu) == []
    assert after["cache_hits"] >= before["cache_hits"] + 5
    assert after["cache_misses"] == before["cache_misses"]
    assert after["requests GET 200"] == before["requests GET 200"]


def test_stats_count_tracked_operations(emu, mnt):
    before = stats_of(mnt)
    with open(mnt.offer("contoso-draft", "publish"), "w") as f:
        f.write("a@x.com\n")
    after = stats_of(mnt)
    assert after["operations_tracked"] >= before["operations_tracked"] + 1
    assert after["requests POST 202"] == 1


def test_last_error_is_empty_then_names_the_failure(emu, mnt):
    path = mnt.p(".partnerfs", "last-error")
    assert read_text(path) == ""
    assert os.stat(path).st_size == 0
    emu.fault(method="GET", path=VM + "/status", status=500, count=4,
              body=json.dumps({"error": {"code": "Boom",
                                         "message": "the server broke"}}))
    with pytest.raises(OSError) as ei:
        read_text(mnt.offer("contoso-vm", "status.json"))
    assert ei.value.errno == errno.EIO
    text = read_text(path)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ GET "
                    rf"{re.escape(VM)}/status -> 500: the server broke",
                    text), text
    assert text.endswith("\n") and text.count("\n") == 1
    assert os.stat(path).st_size == len(text)


# --- slots -----------------------------------------------------------------------------

@pytest.mark.parametrize("slot", ["draft", "preview", "production"])
def test_slot_file_is_the_api_document(slot, emu, mnt):
    st, _, doc = server(emu, f"{VM}/slot/{slot}")
    assert st == 200
    path = mnt.offer("contoso-vm", "slots", f"{slot}.json")
    text = read_text(path)
    assert text.endswith("}\n")
    assert json.loads(text) == doc
    assert os.stat(path).st_size == len(text.encode())
    reqs = fs_requests(emu, path=f"{VM}/slot/{slot}")
    assert len(reqs) >= 1 and reqs[0]["query"] == API_VERSION


def test_slot_never_reached_is_enoent(emu, mnt):
    st, _, _ = server(emu, "/api/publishers/contoso/offers/contoso-draft/slot/preview")
    assert st == 404
    for slot in ("preview", "production"):
        with pytest.raises(OSError) as ei:
            read_text(mnt.offer("contoso-draft", "slots", f"{slot}.json"))
        assert ei.value.errno == errno.ENOENT
    assert json.loads(read_text(mnt.offer("contoso-draft", "slots",
                                          "draft.json")))["id"] == \
        "contoso-draft"


def test_slots_dir_lists_the_three_slots_of_a_live_offer(mnt):
    assert sorted(os.listdir(mnt.offer("contoso-vm", "slots"))) == [
        "draft.json", "preview.json", "production.json"]


def test_unknown_slot_name_is_enoent_without_a_request(emu, mnt):
    os.listdir(mnt.offer("contoso-vm", "slots"))
    emu.clear_requests()
    for name in ("staging.json", "Draft.json", "draft", "draft.json.bak"):
        assert not os.path.exists(mnt.offer("contoso-vm", "slots", name))
    assert fs_requests(emu, path_prefix=VM + "/slot") == []


# --- versions -----------------------------------------------------------------

def test_versions_lists_one_file_per_version(emu, mnt):
    _, _, offer = server(emu, VM)
    assert offer["version"] == 2
    assert sorted(os.listdir(mnt.offer("contoso-vm", "versions"))) == [
        "1.json", "2.json"]
    assert os.listdir(mnt.offer("fabrikam-corevm", "versions",
                                pub="fabrikam")) == ["1.json"]


@pytest.mark.parametrize("n", [1, 2])
def test_version_file_is_get_versions_n(n, emu, mnt):
    st, _, doc = server(emu, f"{VM}/versions/{n}")
    assert st == 200
    path = mnt.offer("contoso-vm", "versions", f"{n}.json")
    assert json.loads(read_text(path)) == doc
    reqs = fs_requests(emu, path=f"{VM}/versions/{n}")
    assert len(reqs) >= 1
    assert reqs[0]["method"] == "GET" and reqs[0]["query"] == API_VERSION


@pytest.mark.parametrize("name", ["3.json", "0.json", "01.json", "-1.json",
                                  "x.json", "1", "1.5.json"])
def test_missing_or_malformed_version_is_enoent(name, emu, mnt):
    with pytest.raises(OSError) as ei:
        read_text(mnt.offer("contoso-vm", "versions", name))
    assert ei.value.errno == errno.ENOENT


def test_malformed_version_names_make_no_version_request(emu, mnt):
    os.listdir(mnt.offer("contoso-vm", "versions"))
    emu.clear_requests()
    for name in ("0.json", "01.json", "x.json", "1.5.json"):
        assert not os.path.exists(mnt.offer("contoso-vm", "versions", name))
    assert fs_requests(emu, path_prefix=VM + "/versions") == []
