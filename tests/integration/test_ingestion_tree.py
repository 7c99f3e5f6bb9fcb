"""The ingestion backend's tree (doc/design.md section 8) on a real mount
of the emulator's product ingestion API, read with real tools: products
from every page and by lookup, each product's files, the draft, preview
and live trees with one file per resource named from its durable id, the
xattrs, $version on every request, a st_mtime that does not move when a
tree only comes back reordered and re-signed, hostile ids, and the errors
of reads (401, 404, 5xx)."""
import errno
import json
import os
import subprocess
import time

import pytest

from inghelpers import (BASE, HIDDEN, LISTED, NORTHWIND, SAAS, TECH, V, VM,
                        api_get, ing_emulator, ing_mount, ing_requests, pg,
                        plg, prod)
# the ingestion API's emu, mnt and state_dir fixtures, in place of conftest's
from inghelpers import emu, mnt, state_dir  # noqa: F401
from util import errno_of, read, run

VM_DRAFT_FILES = {
    "product.json",
    "property/public/main.json",
    "listing/public/main/default/en-us.json",
    "listing-asset/public/main/default/en-us/azurelogosmall/1.json",
    "listing-asset/public/main/default/en-us/azurelogolarge/1.json",
    "price-and-availability-offer.json",
    "reseller.json",
    "submission/0.json",
    "plans/gen1/plan.json",
    "plans/gen1/plan-listing/public/main/en-us.json",
    "plans/gen1/price-and-availability-plan.json",
    "plans/gen1/" + TECH + ".json",
    "plans/gen2/plan.json",
    "plans/gen2/plan-listing/public/main/en-us.json",
    "plans/gen2/price-and-availability-plan.json",
    "plans/gen2/" + TECH + ".json",
}


def files_below(top):
    out = set()
    for d, _, names in os.walk(top):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), top))
    return out


def test_root_lists_products_operations_configure(mnt):
    assert sorted(os.listdir(mnt.path)) == [".partnerfs", "configure", "events",
                                           "operations", "products"]
    assert os.listdir(mnt.p("operations")) == []


def test_products_listed_and_an_unlisted_one_found_by_lookup(emu, mnt):
    r = run(["ls", mnt.p("products")])
    assert r.returncode == 0 and r.stdout.split() == LISTED
    assert "contoso-hidden" not in os.listdir(mnt.p("products"))
    emu.clear_requests()
    assert os.path.isdir(prod(mnt, "contoso-hidden"))
    lookups = [r for r in ing_requests(emu, "GET", "product")
               if "externalId=contoso-hidden" in r["query"]]
    assert len(lookups) == 1
    assert json.loads(read(prod(mnt, "contoso-hidden", "product.json")))[
        "id"] == "product/" + HIDDEN
    assert errno_of(os.stat, prod(mnt, "no-such-product")) == errno.ENOENT
    # the lookup matches exactly: another spelling is not the product
    assert errno_of(os.stat, prod(mnt, "Contoso-Hidden")) == errno.ENOENT


def test_every_page_of_products_and_submissions(make_emulator, make_mount,
                                                tmpdir_short):
    emu = ing_emulator(make_emulator, "--page-size", "2")
    mnt = ing_mount(make_mount, emu, state_dir=tmpdir_short + "/s")
    assert sorted(os.listdir(mnt.p("products"))) == LISTED
    pages = ing_requests(emu, "GET", "product")
    assert sum("continuationToken=" in r["query"] for r in pages) >= 2
    subs = json.loads(read(prod(mnt, "contoso-vm", "submissions.json")))
    _, first = api_get(emu, f"submission/{VM}")
    assert "@nextLink" in first
    assert len(subs["value"]) == 5 and list(subs) == ["value"]
    ids = [s["id"] for s in subs["value"]]
    assert ids[0] == f"submission/{VM}/0"
    # numbers beyond 2^53 stay strings, digit for digit
    assert all(isinstance(s["id"], str) for s in subs["value"])
    assert f"submission/{VM}/1152921505697000257" in ids


def test_product_directory(mnt):
    assert sorted(os.listdir(prod(mnt, "contoso-vm"))) == [
        "cancel", "configure", "draft", "golive", "live", "operations",
        "preview", "product.json", "publish", "status", "submissions.json"]
    # preview/ and live/ only when such a submission exists
    assert "preview" not in os.listdir(prod(mnt, "contoso-draft"))
    assert "live" not in os.listdir(prod(mnt, "contoso-saas"))
    assert "preview" in os.listdir(prod(mnt, "contoso-saas"))
    assert errno_of(os.stat, prod(mnt, "contoso-draft", "live")) == errno.ENOENT
    assert errno_of(os.stat, prod(mnt, "contoso-vm", "staging")) == errno.ENOENT


def test_product_json_and_its_xattrs(emu, mnt):
    path = prod(mnt, "contoso-vm", "product.json")
    _, want = api_get(emu, f"product/{VM}")
    assert json.loads(read(path)) == want
    assert os.stat(path).st_size == len(open(path, "rb").read())
    r = run(["getfattr", "-d", "--absolute-names", path])
    assert f'user.partnerfs.id="product/{VM}"' in r.stdout
    assert f"/product/{VM}?$version={V}" in r.stdout
    r = run(["getfattr", "--only-values", "-n", "user.partnerfs.id", path])
    assert r.stdout == "product/" + VM


@pytest.mark.parametrize("ext,word", [
    ("contoso-vm", "succeeded"), ("contoso-saas", "succeeded"),
    ("contoso-draft", "neverPublished"), ("contoso-nosku", "failed"),
    ("fabrikam-saas", "running"), ("northwind-vm", "succeeded")])
def test_status_word(mnt, ext, word):
    assert read(prod(mnt, ext, "status")) == word + "\n"


def test_draft_files_named_from_durable_ids(mnt):
    draft = prod(mnt, "contoso-vm", "draft")
    assert files_below(draft) == VM_DRAFT_FILES | {"resource-tree.json"}
    r = run(["ls", os.path.join(draft, "plans")])
    assert r.stdout.split() == ["gen1", "gen2"]


def test_each_file_is_its_resource(emu, mnt):
    draft = prod(mnt, "contoso-vm", "draft")
    tree = json.loads(read(os.path.join(draft, "resource-tree.json")))
    ids = [r["id"] for r in tree["resources"]]
    assert ids == sorted(ids), "the tree is shown sorted by id"
    by_id = {r["id"]: r for r in tree["resources"]}
    for rel in VM_DRAFT_FILES:
        path = os.path.join(draft, rel)
        rid = run(["getfattr", "--only-values", "-n", "user.partnerfs.id",
                   path]).stdout
        assert json.loads(read(path)) == by_id[rid], rel
        assert os.stat(path).st_size == len(open(path, "rb").read())
    tc = os.path.join(draft, "plans", "gen2", TECH + ".json")
    assert run(["getfattr", "--only-values", "-n", "user.partnerfs.id",
                tc]).stdout == f"{TECH}/{VM}/{plg(1, 2)}"
    # a draft resource's URL is its own GET
    url = run(["getfattr", "--only-values", "-n", "user.partnerfs.url",
               tc]).stdout
    assert url.endswith(f"{BASE}/{TECH}/{VM}/{plg(1, 2)}?$version={V}")
    _, want = api_get(emu, f"{TECH}/{VM}/{plg(1, 2)}")
    assert json.loads(read(tc)) == want


def test_preview_and_live_trees(emu, mnt):
    live = prod(mnt, "northwind-vm", "live")
    preview = prod(mnt, "northwind-vm", "preview")
    assert os.listdir(os.path.join(live, "submission")) == [
        "1152921505697000601.json"]
    assert os.listdir(os.path.join(preview, "submission")) == [
        "1152921505697000777.json"]
    _, want = api_get(emu, f"resource-tree/product/{NORTHWIND}?targetType=live")
    got = json.loads(read(os.path.join(live, "resource-tree.json")))
    assert sorted(r["id"] for r in got["resources"]) == sorted(
        r["id"] for r in want["resources"])
    for name in os.listdir(os.path.join(live, "plans", "nw-gen2")):
        assert os.access(os.path.join(live, "plans", "nw-gen2", name), os.R_OK)
    # only the draft's files are writable
    st = os.stat(os.path.join(live, "product.json"))
    assert st.st_mode & 0o777 == 0o444
    assert os.stat(prod(mnt, "northwind-vm", "draft", "product.json")
                   ).st_mode & 0o777 == 0o644
    url = run(["getfattr", "--only-values", "-n", "user.partnerfs.url",
               os.path.join(live, "product.json")]).stdout
    assert "targetType=live" in url


def test_saas_product_files(mnt):
    files = files_below(prod(mnt, "contoso-saas", "draft"))
    assert "software-as-a-service-technical-configuration.json" in files
    assert "plans/basic/plan.json" in files and "plans/pro/plan.json" in files


def test_version_on_every_request(emu, mnt):
    run(["find", prod(mnt, "contoso-vm"), "-maxdepth", "3"], timeout=30)
    read(prod(mnt, "contoso-vm", "submissions.json"))
    reqs = ing_requests(emu)
    assert reqs
    for r in reqs:
        assert f"$version={V}" in r["query"], r


def test_api_version_option(make_emulator, make_mount, tmpdir_short):
    emu = ing_emulator(make_emulator)
    mnt = ing_mount(make_mount, emu, "api_version=2022-03-01-preview2",
                    state_dir=tmpdir_short + "/s")
    read(prod(mnt, "contoso-vm", "product.json"))
    assert all("$version=2022-03-01-preview2" in r["query"]
               for r in ing_requests(emu))
    cfg = read(mnt.p(".partnerfs", "config"))
    assert "api_version=2022-03-01-preview2" in cfg


def test_reordered_and_resigned_tree_is_no_change(make_emulator, make_mount,
                                                  tmpdir_short):
    emu = ing_emulator(make_emulator, "--shuffle-resources", "--resign-sas")
    mnt = ing_mount(make_mount, emu, "cache_ttl=0",
                    state_dir=tmpdir_short + "/s")
    tree = prod(mnt, "contoso-vm", "draft", "resource-tree.json")
    asset = prod(mnt, "contoso-vm", "draft",
                 "listing-asset/public/main/default/en-us/azurelogosmall/1.json")
    st1, a1 = os.stat(tree), os.stat(asset)
    urls = {json.loads(read(asset))["url"]}
    time.sleep(1.1)
    for _ in range(3):
        urls.add(json.loads(read(asset))["url"])
        st2, a2 = os.stat(tree), os.stat(asset)
        assert (st2.st_mtime, st2.st_size) == (st1.st_mtime, st1.st_size)
        assert (a2.st_mtime, a2.st_size) == (a1.st_mtime, a1.st_size)
    assert len(urls) > 1, "the emulator re-signs on every call"
    assert len({read(tree).count("\n") for _ in range(3)}) == 1


def test_hostile_ids_in_listings(make_emulator, make_mount, tmpdir_short):
    """Names a server chose that cannot be file names are left out (and
    never turned into paths); the rest of the listing stays."""
    g = "e0000000-0000-4000-8000-000000000001"
    schema = "https://schema.mp.microsoft.com/schema/"
    def product(guid, ext):
        return {"$schema": schema + "product/2022-03-01-preview3",
                "id": f"product/{guid}", "identity": {"externalId": ext},
                "type": "azureVirtualMachine", "alias": ext}
    bad_exts = ["..", "a/b", "x" * 300, "sp ace", "%2e%2e"]
    products = [{"draft": [product(f"e0000000-0000-4000-8000-00000000010{i}",
                                   ext)]} for i, ext in enumerate(bad_exts)]
    draft = [product(g, "good-one"),
             {"$schema": schema + "plan/2022-03-01-preview2",
              "id": f"plan/{g}/p1", "product": f"product/{g}",
              "identity": {"externalId": "../../escape"}, "alias": "p"},
             {"$schema": schema + "plan/2022-03-01-preview2",
              "id": f"plan/{g}/p2", "product": f"product/{g}",
              "identity": {"externalId": "fine"}, "alias": "p"},
             {"$schema": schema + "listing/2022-03-01-preview5",
              "id": f"listing/{g}/../../etc", "product": f"product/{g}"},
             {"$schema": schema + "listing/2022-03-01-preview5",
              "id": f"listing/{g}/public//x", "product": f"product/{g}"},
             {"$schema": schema + "reseller/2022-03-01-preview2",
              "id": f"reseller/00000000-0000-4000-8000-000000000bad",
              "product": f"product/{g}"},
             {"$schema": schema + "property/2022-03-01-preview5",
              "id": f"property/{g}/public/main", "product": f"product/{g}"}]
    products.append({"draft": draft})
    seed = os.path.join(tmpdir_short, "hostile.json")
    with open(seed, "w") as f:
        json.dump({"products": products}, f)
    emu = ing_emulator(make_emulator, seed=seed)
    mnt = ing_mount(make_mount, emu, state_dir=tmpdir_short + "/s")
    assert os.listdir(mnt.p("products")) == ["good-one"]
    files = files_below(prod(mnt, "good-one", "draft"))
    assert files == {"product.json", "property/public/main.json",
                     "plans/fine/plan.json", "submission/0.json",
                     "resource-tree.json"}
    for bad in ("..", "%2e%2e"):
        assert errno_of(os.stat, mnt.p("products", bad, "status")) in (
            errno.ENOENT,)


def test_unauthorized_token_fails_the_mount(make_emulator, make_mount,
                                           tmpdir_short):
    emu = ing_emulator(make_emulator)
    m = ing_mount(make_mount, emu, state_dir=tmpdir_short + "/s",
                  token="not-a-token", expect_fail=True)
    assert m.proc.wait(15) == 1
    err = m.log().strip().splitlines()
    assert len(err) == 1, err
    assert emu.url in err[0] and "token" in err[0].lower(), err


def test_poll_interval_below_60_refused_against_graph(tmpdir_short):
    from conftest import PARTNERFS
    mnt = os.path.join(tmpdir_short, "g")
    os.makedirs(mnt)
    r = subprocess.run(
        [PARTNERFS, "-f", "-o",
         "endpoint=https://graph.microsoft.com/rp/product-ingestion,"
         "token_file=/nonexistent,poll_interval=5", mnt],
        capture_output=True, text=True, timeout=15)
    assert r.returncode == 1
    # one line of reason (then options.c's pointer to -h), nothing sent
    lines = r.stderr.strip().splitlines()
    assert "poll_interval" in lines[0] and "60" in lines[0], r.stderr
    assert all("poll_interval" not in ln for ln in lines[1:])


def test_help_lists_the_backend():
    from conftest import PARTNERFS
    r = subprocess.run([PARTNERFS, "-h"], capture_output=True, text=True,
                       timeout=10)
    assert "api=ingestion:" in r.stdout
    assert "graph.microsoft.com" in r.stdout and "state_dir" in r.stdout


def test_config_shows_backend_defaults(make_emulator, make_mount,
                                       tmpdir_short):
    emu = ing_emulator(make_emulator)
    mnt = ing_mount(make_mount, emu, "poll_interval=60",
                    state_dir=tmpdir_short + "/s")
    cfg = read(mnt.p(".partnerfs", "config"))
    assert cfg.startswith("api=ingestion\nendpoint=")
    assert "poll_interval=60" in cfg and "retention=604800" in cfg
    assert f"state_file={tmpdir_short}/s/" in cfg


def test_not_found_and_server_errors(emu, mnt):
    assert errno_of(os.stat, prod(mnt, "contoso-vm", "draft", "nope.json")
                    ) == errno.ENOENT
    assert errno_of(os.stat, prod(mnt, "contoso-vm", "draft", "plans",
                                  "gen3")) == errno.ENOENT
    emu.fault(path=f"{BASE}/resource-tree/*", status=500, count=-1)
    assert errno_of(read, prod(mnt, "contoso-saas", "draft",
                               "resource-tree.json")) == errno.EIO
    emu.call("DELETE", "/_emulator/faults")
    assert json.loads(read(prod(mnt, "contoso-saas", "draft",
                                "resource-tree.json")))["root"] == \
        "product/" + SAAS


@pytest.mark.parametrize("version,target", [
    ("v1", "resource=https%3A%2F%2Fgraph.microsoft.com&"),
    ("v2", "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&")])
def test_credentials_get_a_graph_token(version, target, make_emulator,
                                       make_mount, tmpdir_short):
    emu = ing_emulator(make_emulator)
    cred = os.path.join(tmpdir_short, "cred")
    with open(cred, "w") as f:
        f.write("tenant_id=sandbox-tenant\n"
                "client_id=00000000-0000-0000-0000-000000000001\n"
                "client_secret=sandbox-secret\n")
    os.chmod(cred, 0o600)
    mnt = ing_mount(make_mount, emu, f"credentials={cred},authority={emu.url},"
                    f"token_endpoint={version}",
                    state_dir=tmpdir_short + "/s", token=None)
    assert "contoso-vm" in os.listdir(mnt.p("products"))
    tokens = [r for r in emu.requests(prefix="/") if "oauth2" in r["path"]]
    assert tokens and (target in tokens[0]["body"] + "&")
    assert tokens[0]["status"] == 200


def test_next_link_to_another_host_is_not_followed(emu, mnt):
    page = json.dumps({"value": [], "@nextLink":
                       "http://198.51.100.7/rp/product-ingestion/product?x=1"})
    emu.fault(method="GET", path=f"{BASE}/product", status=200, body=page,
              count=-1)
    assert errno_of(os.listdir, mnt.p("products")) == errno.EIO
    assert "not on the endpoint" in read(mnt.p(".partnerfs", "last-error"))


def test_many_products_over_many_pages(make_emulator, make_mount,
                                       tmpdir_short):
    emu = ing_emulator(make_emulator, "--products", "250", "--page-size", "40")
    mnt = ing_mount(make_mount, emu, state_dir=tmpdir_short + "/s")
    names = run(["ls", mnt.p("products")], timeout=30).stdout.split()
    assert len(names) == 256 and "product-00250" in names
    assert len(ing_requests(emu, "GET", "product")) >= 7
    assert os.listdir(prod(mnt, "product-00250", "draft", "plans")) == ["gen2"]


def test_bad_endpoint_fails_the_mount(make_emulator, make_mount, tmpdir_short):
    emu = ing_emulator(make_emulator)
    m = make_mount(emu.url + "/rp/not-the-api",
                   f"api=ingestion,state_dir={tmpdir_short}/s",
                   expect_fail=True)
    assert m.proc.wait(15) == 1
    err = m.log().strip().splitlines()
    assert len(err) == 1 and "/rp/not-the-api" in err[0], err
    assert not os.path.ismount(m.path)
