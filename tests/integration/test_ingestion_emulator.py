"""API tests of the product ingestion side of cloudpartner-emulator
(/rp/product-ingestion, ingestion-api.md, DESIGN.md section 8), over real
HTTP with urllib.

The emulator runs with --step-ms 0 (conftest's make_emulator), so jobs move
only on POST /_emulator/tick.  Stdlib only; run with Debian's python3:

    PARTNERFS_BUILD=build /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        --timeout 120 tests/integration/test_ingestion_emulator.py
"""
import json
import time
import urllib.parse

import pytest

from conftest import ING_SEED
from inghelpers import (BASE, CONFIGURE, DRAFT, FABRIKAM, HIDDEN, MP, NORTHWIND,
                        NOSKU, SAAS, SUBMISSION, TECH, TOKEN, VM, api_call,
                        api_raw, ing_emulator, pg, plg)
from inghelpers import VERSION_QUERY as V

NOT_ENDED = "0001-01-01T00:00:00"
EXTERNAL = ["contoso-vm", "contoso-saas", "contoso-draft", "contoso-nosku",
            "fabrikam-saas", "northwind-vm"]


class Api:
    """An emulator started with the ingestion seed, and calls to it."""

    def __init__(self, emu):
        self.emu = emu
        self.url = emu.url

    def raw(self, method, path, body=None, **kw):
        """(status, headers lowercased, bytes); kw as for api_raw."""
        return api_raw(self.emu, method, path, body, **kw)

    def call(self, method, rel, body=None, query=V, **kw):
        """(status, parsed JSON) of BASE/rel?query."""
        return api_call(self.emu, method, rel, body, query, **kw)

    def get(self, rel, query=V, **kw):
        return self.call("GET", rel, query=query, **kw)

    def ok(self, rel, query=V):
        status, doc = self.get(rel, query)
        assert status == 200, doc
        return doc

    def configure(self, resources, schema=CONFIGURE):
        doc = {"$schema": schema, "resources": resources}
        return self.call("POST", "configure", doc)

    def start(self, resources):
        status, doc = self.configure(resources)
        assert status == 202, doc
        return doc["jobId"]

    def status(self, job):
        return self.ok(f"configure/{job}/status")

    def tick(self, n=1):
        self.emu.tick(n)

    def run(self, job, max_ticks=10):
        """Tick until the job completes; its last status."""
        for _ in range(max_ticks):
            self.tick()
            st = self.status(job)
            if st["jobStatus"] == "completed":
                return st
        raise AssertionError(f"job {job} did not complete: {st}")

    def tree(self, guid, target=None):
        q = V + (f"&targetType={target}" if target else "")
        return self.get(f"resource-tree/product/{guid}", q)


@pytest.fixture
def make_api(make_emulator):
    def make(*args):
        return Api(ing_emulator(make_emulator, *args))
    return make


@pytest.fixture
def api(make_api):
    return make_api()


def publish(guid):
    return [{"$schema": SUBMISSION, "product": f"product/{guid}",
             "target": {"targetType": "preview"}}]


def golive(guid, num=None):
    res = {"$schema": SUBMISSION, "product": f"product/{guid}",
           "target": {"targetType": "live"}}
    if num:
        res["id"] = f"submission/{guid}/{num}"
    return [res]


def ids(tree):
    return sorted(r["id"] for r in tree["resources"])


def by_id(tree, rid):
    return next(r for r in tree["resources"] if r["id"] == rid)


def all_pages(api, rel, query=V):
    """Every page of a list, following @nextLink; (items, page count)."""
    status, doc = api.get(rel, query)
    assert status == 200, doc
    items, pages = list(doc["value"]), 1
    while "@nextLink" in doc:
        link = doc["@nextLink"]
        assert link.startswith(api.url + BASE + "/"), link
        assert "continuationToken=" in link
        status, _, data = api.raw("GET", link)
        assert status == 200, data
        doc = json.loads(data)
        items += doc["value"]
        pages += 1
        assert pages < 50
    return items, pages


# --- products, paging, lookup -------------------------------------------

def test_product_list_one_page(api):
    doc = api.ok("product")
    assert "@nextLink" not in doc
    assert [p["identity"]["externalId"] for p in doc["value"]] == EXTERNAL
    vm = doc["value"][0]
    assert vm["id"] == f"product/{VM}"
    assert vm["type"] == "azureVirtualMachine"
    assert vm["$schema"].startswith(MP + "product/")
    assert doc["value"][1]["type"] == "softwareAsAService"


def test_paging_follows_next_link(make_api):
    api = make_api("--page-size", "2")
    items, pages = all_pages(api, "product")
    assert pages == 3
    assert [p["identity"]["externalId"] for p in items] == EXTERNAL
    # $maxpagesize below the page size wins; filters ride along in the link
    items, pages = all_pages(api, "product", V + "&$maxpagesize=1")
    assert pages == 6 and len(items) == 6
    items, pages = all_pages(api, "product", V + "&type=softwareAsAService")
    assert [p["identity"]["externalId"] for p in items] == \
        ["contoso-saas", "fabrikam-saas"]
    assert pages == 1
    status, doc = api.get("product", V + "&continuationToken=garbage")
    assert status == 400 and doc["error"]["code"] == "badRequest"


def test_external_id_lookup(api):
    for q in ("externalId=contoso-saas", "externalID=contoso-saas",
              "externalId=CONTOSO-SAAS"):
        doc = api.ok("product", V + "&" + q)
        assert [p["id"] for p in doc["value"]] == [f"product/{SAAS}"], q
    # %24version is the same parameter
    doc = api.ok("product", "%24version=2022-07-01&externalId=northwind-vm")
    assert doc["value"][0]["id"] == f"product/{NORTHWIND}"
    assert api.ok("product", V + "&externalId=no-such-offer") == {"value": []}
    # an unlisted product: only the lookup finds it
    doc = api.ok("product", V + "&externalId=contoso-hidden")
    assert [p["id"] for p in doc["value"]] == [f"product/{HIDDEN}"]
    assert api.tree(HIDDEN)[0] == 200


def test_synthetic_products(make_api):
    api = make_api("--products", "250")
    items, pages = all_pages(api, "product")
    assert pages == 3
    names = [p["identity"]["externalId"] for p in items]
    assert names[:6] == EXTERNAL
    assert names[6:] == ["product-%05d" % i for i in range(1, 251)]
    guid = "c0000000-0000-4000-8000-%012d" % 250
    _, tree = api.tree(guid)
    assert {r["id"].split("/")[0] for r in tree["resources"]} == {
        "product", "plan", TECH, "submission"}
    assert api.run(api.start(publish(guid)))["jobResult"] == "succeeded"


def test_get_by_durable_id(api):
    doc = api.ok(f"product/{VM}")
    assert doc["identity"] == {"externalId": "contoso-vm"}
    tc = api.ok(f"{TECH}/{VM}/{plg(1, 2)}")
    assert tc["plan"] == f"plan/{VM}/{plg(1, 2)}"
    # the draft: gen2 has the unpublished image version 1.2.0
    assert [v["versionNumber"] for v in tc["vmImageVersions"]] == \
        ["1.0.0", "1.1.0", "1.2.0"]
    listing = api.ok(f"listing/{VM}/public/main/default/en-us")
    assert listing["languageId"] == "en-us"
    for rel in (f"product/{pg(99)}", f"plan/{VM}/{plg(9, 9)}", "nonsense"):
        status, doc = api.get(rel)
        assert status == 404, rel
        assert doc["error"]["code"] == "notFound"
        assert doc["error"]["details"] == []
        assert doc["error"]["message"]


def test_plan_list(api):
    doc = api.ok("plan", V + f"&product=product/{VM}")
    assert [p["identity"]["externalId"] for p in doc["value"]] == ["gen1", "gen2"]
    doc = api.ok("plan", V + f"&product=product%2F{VM}&externalId=gen2")
    assert [p["id"] for p in doc["value"]] == [f"plan/{VM}/{plg(1, 2)}"]
    status, doc = api.get("plan")
    assert status == 400 and doc["error"]["code"] == "badRequest"
    status, doc = api.get("plan", V + f"&product=product/{pg(99)}")
    assert status == 404


# --- resource trees and submissions -------------------------------------

def test_resource_tree_per_target(api):
    status, draft = api.tree(VM)
    assert status == 200
    assert draft["root"] == f"product/{VM}"
    assert draft["target"] == {"targetType": "draft"}
    assert draft["$schema"].startswith(MP + "resource-tree/")
    tc_id = f"{TECH}/{VM}/{plg(1, 2)}"
    assert len(by_id(draft, tc_id)["vmImageVersions"]) == 3
    assert by_id(draft, f"submission/{VM}/0")["target"] == {"targetType": "draft"}
    status, explicit = api.tree(VM, "draft")
    assert ids(explicit) == ids(draft)
    # the guid alone names the product too
    status, bare = api.get(f"resource-tree/{VM}")
    assert status == 200 and ids(bare) == ids(draft)
    for target in ("preview", "live"):
        status, tree = api.tree(VM, target)
        assert status == 200
        assert tree["target"] == {"targetType": target}
        assert len(by_id(tree, tc_id)["vmImageVersions"]) == 2
        sub = by_id(tree, f"submission/{VM}/1152921505697000257")
        assert sub["target"]["targetType"] == target
        assert sub["status"] == "completed" and sub["result"] == "succeeded"
    # northwind: preview is ahead of live
    _, pv = api.tree(NORTHWIND, "preview")
    _, lv = api.tree(NORTHWIND, "live")
    tc = f"{TECH}/{NORTHWIND}/{plg(6, 1)}"
    assert len(by_id(pv, tc)["vmImageVersions"]) == 2
    assert len(by_id(lv, tc)["vmImageVersions"]) == 1
    # no submission for the target: 404 in the error envelope
    for guid, target in ((DRAFT, "preview"), (DRAFT, "live"), (SAAS, "live")):
        status, doc = api.tree(guid, target)
        assert status == 404, (guid, target)
        assert doc["error"]["code"] == "notFound"
    status, doc = api.tree(pg(99))
    assert status == 404
    status, doc = api.tree(VM, "staging")
    assert status == 400 and doc["error"]["code"] == "badRequest"


def test_quoted_target_type_is_accepted(api):
    status, doc = api.tree(SAAS, "%22preview%22")
    assert status == 200 and doc["target"] == {"targetType": "preview"}
    status, doc = api.get(f"submission/{SAAS}", V + "&targetType=%22preview%22")
    assert status == 200 and len(doc["value"]) == 1


def test_submissions_list(make_api):
    api = make_api("--page-size", "3")
    items, pages = all_pages(api, f"submission/{VM}")
    assert pages == 2
    assert [s["id"].rsplit("/", 1)[1] for s in items] == [
        "0", "1152921505697000101", "1152921505697000101",
        "1152921505697000257", "1152921505697000257"]
    assert [s["target"]["targetType"] for s in items] == [
        "draft", "preview", "live", "preview", "live"]
    for s in items[1:]:
        assert isinstance(s["id"], str)
        assert s["created"].endswith("Z")
    live = api.ok(f"submission/{VM}", V + "&targetType=live")["value"]
    assert [s["target"]["targetType"] for s in live] == ["live", "live"]
    # the product's durable id names it too
    assert api.ok(f"submission/product/{VM}", V + "&targetType=live") == \
        {"value": live}
    assert api.ok(f"submission/product/{VM}/0")["id"] == f"submission/{VM}/0"
    one = api.ok(f"submission/{VM}/1152921505697000257")
    assert one["target"]["targetType"] == "live"
    assert api.ok(f"submission/{VM}/0")["target"]["targetType"] == "draft"
    status, _ = api.get(f"submission/{VM}/42")
    assert status == 404
    running = all_pages(api, f"submission/{FABRIKAM}")[0][-1]
    assert (running["status"], running["result"]) == ("running", "pending")


def test_assets_carry_sas_urls(api):
    rid = f"listing-asset/{VM}/public/main/default/en-us/azurelogosmall/1"
    a = api.ok(rid)
    url = urllib.parse.urlsplit(a["url"])
    assert url.scheme == "https" and url.path.endswith("contoso-vm-small.png")
    q = urllib.parse.parse_qs(url.query)
    assert q["sp"] == ["r"] and q["sig"] and q["se"]
    # stable by default: two calls, the same bytes
    first = api.raw("GET", f"{BASE}/resource-tree/{VM}?{V}")[2]
    assert api.raw("GET", f"{BASE}/resource-tree/{VM}?{V}")[2] == first


# --- $version, auth -----------------------------------------------------

def test_version_required(api):
    status, doc = api.get("product", query="")
    assert status == 400
    assert doc["error"]["code"] == "badRequest"
    assert "$version" in doc["error"]["message"]
    status, doc = api.get("product", "$version=1999-01-01")
    assert status == 400 and doc["error"]["code"] == "badRequest"
    for v in ("2022-03-01-preview2", "2022-03-01-preview3", "2023-07-15"):
        assert api.get("product", "$version=" + v)[0] == 200


def test_version_optional_switch(make_api):
    api = make_api("--version-optional")
    assert api.get("product", query="")[0] == 200
    assert api.get(f"configure/{pg(0)}/status", query="")[0] == 404
    assert api.get("product", "$version=1999-01-01")[0] == 400


def test_401_without_or_with_bad_token(api):
    for tok in (None, "not-a-token"):
        status, hdrs, data = api.raw("GET", f"{BASE}/product?{V}", token=tok)
        assert status == 401, tok
        assert hdrs["www-authenticate"].startswith("Bearer")
        err = json.loads(data)["error"]
        assert err["code"] == "InvalidAuthenticationToken" and err["message"]
    # auth comes first: no token and no $version is still a 401
    assert api.raw("GET", f"{BASE}/product", token=None)[0] == 401


def form(**kw):
    return urllib.parse.urlencode(kw).encode()


def test_token_endpoint_graph_audience(api):
    client = dict(grant_type="client_credentials",
                  client_id="00000000-0000-0000-0000-000000000001",
                  client_secret="sandbox-secret")
    hdr = {"Content-Type": "application/x-www-form-urlencoded"}
    got = []
    for path, extra in (
            ("/sandbox-tenant/oauth2/token",
             {"resource": "https://graph.microsoft.com"}),
            ("/sandbox-tenant/oauth2/token",
             {"resource": "https://graph.microsoft.com/"}),
            ("/sandbox-tenant/oauth2/v2.0/token",
             {"scope": "https://graph.microsoft.com/.default"})):
        status, _, data = api.raw("POST", path, form(**client, **extra),
                                  token=None, headers=hdr)
        assert status == 200, data
        doc = json.loads(data)
        if "resource" in extra:
            assert doc["resource"] == "https://graph.microsoft.com/"
            assert isinstance(doc["expires_on"], str)
        else:
            assert isinstance(doc["expires_in"], int)
        got.append(doc["access_token"])
    for tok in got:
        assert api.get("product", token=tok)[0] == 200
        # a graph token is not a Cloud Partner Portal token
        status, _, _ = api.raw("GET", "/api/publishers?api-version=2017-10-31",
                               token=tok)
        assert status == 401
    status, _, data = api.raw(
        "POST", "/sandbox-tenant/oauth2/token",
        form(**client, resource="https://cloudpartner.azure.com"),
        token=None, headers=hdr)
    cpp = json.loads(data)["access_token"]
    assert api.get("product", token=cpp)[0] == 401
    status, _, data = api.raw(
        "POST", "/sandbox-tenant/oauth2/v2.0/token",
        form(**client, scope="https://graph.microsoft.com"),
        token=None, headers=hdr)
    assert status == 400 and json.loads(data)["error"] == "invalid_scope"


# --- configure and jobs -------------------------------------------------

def assert_status_shape(st, job):
    assert st["$schema"].startswith(MP + "configure-status/")
    assert st["jobId"] == job
    assert st["jobStart"].endswith("Z") and len(st["jobStart"]) == 28
    assert isinstance(st["errors"], list)
    if st["jobStatus"] == "completed":
        assert st["jobEnd"] != NOT_ENDED and st["jobEnd"].endswith("Z")
    else:
        assert st["jobEnd"] == NOT_ENDED
        assert st["jobResult"] == "pending"


def test_publish_job_progression(api):
    status, hdrs, data = api.raw(
        "POST", f"{BASE}/configure?{V}",
        {"$schema": CONFIGURE, "resources": publish(DRAFT)})
    assert status == 202
    assert "location" not in hdrs and "operation-location" not in hdrs
    st = json.loads(data)
    job = st["jobId"]
    assert (st["jobStatus"], st["jobResult"]) == ("notStarted", "pending")
    assert_status_shape(st, job)
    # not yet completed: no detail
    status, doc = api.get(f"configure/{job}")
    assert status == 404 and doc["error"]["code"] == "notFound"
    seen, trees = [], []
    for _ in range(4):
        api.tick()
        st = api.status(job)
        assert_status_shape(st, job)
        seen.append((st["jobStatus"], st["jobResult"]))
        status, tree = api.tree(DRAFT, "preview")
        subs = [r for r in tree["resources"] if r["id"].startswith(
            "submission/")] if status == 200 else []
        trees.append((status, [(r["status"], r["result"]) for r in subs]))
    assert seen == [("running", "pending")] * 3 + [("completed", "succeeded")]
    # the preview tree exists once the submission does: running, then done
    assert trees == [(404, [])] + [(200, [("running", "pending")])] * 2 + [
        (200, [("completed", "succeeded")])]
    assert st["resourceUri"].endswith(f"/configure/{job}")
    detail = api.ok(f"configure/{job}")
    assert detail["$schema"].startswith(MP + "configure-detail/")
    sub = detail["resources"][-1]
    num = sub["id"].rsplit("/", 1)[1]
    assert sub["id"] == f"submission/{DRAFT}/{num}" and int(num) > 2 ** 53
    assert sub["target"] == {"targetType": "preview"}
    status, tree = api.tree(DRAFT, "preview")
    assert status == 200
    assert by_id(tree, sub["id"])["result"] == "succeeded"
    subs = api.ok(f"submission/{DRAFT}")["value"]
    assert [s["target"]["targetType"] for s in subs] == ["draft", "preview"]
    # go live with that preview submission's id
    job = api.start(golive(DRAFT, num))
    st = api.run(job)
    assert st["jobResult"] == "succeeded", st
    status, live = api.tree(DRAFT, "live")
    assert status == 200
    assert by_id(live, sub["id"])["target"] == {"targetType": "live"}
    # preview == live now: another golive has nothing to move
    st = api.run(api.start(golive(DRAFT)))
    assert st["jobResult"] == "failed"


def test_edit_draft_then_publish(api):
    tc_id = f"{TECH}/{VM}/{plg(1, 1)}"
    tc = api.ok(tc_id)
    tc["recommendedVmSizes"] = ["Standard_B2s"]
    job = api.start([tc])
    st = api.run(job)
    assert (st["jobStatus"], st["jobResult"]) == ("completed", "succeeded")
    assert api.ok(tc_id)["recommendedVmSizes"] == ["Standard_B2s"]
    detail = api.ok(f"configure/{job}")
    assert [r["id"] for r in detail["resources"]] == [tc_id]
    _, pv = api.tree(VM, "preview")
    assert by_id(pv, tc_id)["recommendedVmSizes"] != ["Standard_B2s"]
    # an edit and a publish in one payload: preview gets the edit
    tc["recommendedVmSizes"] = ["Standard_B4ms"]
    st = api.run(api.start([tc] + publish(VM)))
    assert st["jobResult"] == "succeeded", st
    _, pv = api.tree(VM, "preview")
    assert by_id(pv, tc_id)["recommendedVmSizes"] == ["Standard_B4ms"]
    _, lv = api.tree(VM, "live")
    assert by_id(lv, tc_id)["recommendedVmSizes"] != ["Standard_B4ms"]
    # without the id: matched by type and plan
    del tc["id"]
    tc["recommendedVmSizes"] = ["Standard_D8s_v5"]
    assert api.run(api.start([tc]))["jobResult"] == "succeeded"
    assert api.ok(tc_id)["recommendedVmSizes"] == ["Standard_D8s_v5"]


def test_create_product_and_plan_by_resource_name(api):
    res = [{"$schema": MP + "product/2022-03-01-preview3",
            "resourceName": "newProduct",
            "identity": {"externalId": "contoso-new"},
            "type": "softwareAsAService", "alias": "Contoso New"},
           {"$schema": MP + "plan/2022-03-01-preview2",
            "product": {"resourceName": "newProduct"},
            "identity": {"externalId": "gold"}, "alias": "Gold"}]
    job = api.start(res)
    assert api.run(job)["jobResult"] == "succeeded"
    detail = api.ok(f"configure/{job}")["resources"]
    pid, plan = detail[0]["id"], detail[1]["id"]
    assert pid.startswith("product/") and plan.startswith(f"plan/{pid[8:]}/")
    assert "resourceName" not in detail[0]
    assert detail[1]["product"] == pid
    found = api.ok("product", V + "&externalId=contoso-new")["value"]
    assert [p["id"] for p in found] == [pid]
    assert api.ok(plan)["identity"] == {"externalId": "gold"}


def error_codes(st):
    return [(e["code"], [d["code"] for d in e.get("details", [])])
            for e in st["errors"]]


def test_business_rule_failures(api):
    # golive with nothing in preview
    st = api.run(api.start(golive(DRAFT)))
    assert (st["jobStatus"], st["jobResult"]) == ("completed", "failed")
    assert error_codes(st) == [("badRequest", ["invalidState"])]
    assert "preview" in st["errors"][0]["message"]
    # an unfinished submission (fabrikam's runs forever)
    st = api.run(api.start(publish(FABRIKAM)))
    assert st["jobResult"] == "failed"
    assert error_codes(st) == [("conflict", ["invalidState"])]
    assert "An In Progress submission already exists" in st["errors"][0]["message"]
    # a plan technical configuration without SKUs
    job = api.start(publish(NOSKU))
    st = api.run(job)
    assert st["jobResult"] == "failed"
    assert error_codes(st) == [("badRequest", ["businessValidationError"])]
    assert st["errors"][0]["resourceId"] == f"{TECH}/{NOSKU}/{plg(4, 1)}"
    # a failed job has no detail, and changed nothing
    status, doc = api.get(f"configure/{job}")
    assert status == 404
    subs = api.ok(f"submission/{NOSKU}")["value"]
    assert [(s["target"]["targetType"], s.get("result")) for s in subs] == [
        ("draft", None), ("preview", "failed")]
    # the seeded failed preview submission is the preview tree's
    _, tree = api.tree(NOSKU, "preview")
    assert by_id(tree, f"submission/{NOSKU}/1152921505697000444")[
        "result"] == "failed"
    # an unknown durable id; an old preview id for golive
    bad = api.ok(f"product/{VM}")
    bad["id"] = f"product/{pg(99)}"
    st = api.run(api.start([bad]))
    assert error_codes(st) == [("notFound", ["resourceNotFound"])]
    st = api.run(api.start(golive(NORTHWIND, "1152921505697000601")))
    assert error_codes(st) == [("conflict", ["invalidState"])]
    assert "not the latest" in st["errors"][0]["message"]


def test_failed_job_is_all_or_nothing(api):
    tc_id = f"{TECH}/{VM}/{plg(1, 1)}"
    tc = api.ok(tc_id)
    before = tc["recommendedVmSizes"]
    tc["recommendedVmSizes"] = ["Standard_B1s"]
    new = {"$schema": MP + "product/2022-03-01-preview3",
           "identity": {"externalId": "contoso-doomed"},
           "type": "azureVirtualMachine", "alias": "Doomed"}
    st = api.run(api.start([new, tc] + golive(DRAFT)))
    assert st["jobResult"] == "failed"
    assert api.ok(tc_id)["recommendedVmSizes"] == before
    assert api.ok("product", V + "&externalId=contoso-doomed")["value"] == []
    # a plan reference that names no plan of the product
    pl = api.ok(f"plan-listing/{VM}/public/main/{plg(1, 1)}/en-us")
    del pl["id"]
    pl["plan"] = f"plan/{VM}/{plg(9, 9)}"
    st = api.run(api.start([pl]))
    assert error_codes(st) == [("notFound", ["resourceNotFound"])]


def test_match_without_id(api):
    """Without an id, a listing-asset updates the asset of its type."""
    rid = f"listing-asset/{SAAS}/public/main/default/en-us/azurelogolarge/1"
    asset = api.ok(rid)
    del asset["id"]
    asset["friendlyName"] = "Bigger logo"
    job = api.start([asset])
    st = api.run(job)
    assert st["jobResult"] == "succeeded", st
    assert api.ok(f"configure/{job}")["resources"][0]["id"] == rid
    assert api.ok(rid)["friendlyName"] == "Bigger logo"
    small = rid.replace("azurelogolarge", "azurelogosmall")
    assert api.ok(small)["friendlyName"] != "Bigger logo"
    # a plan by externalId reference, the product by {"externalId"}
    pl = api.ok(f"plan-listing/{SAAS}/public/main/{plg(2, 2)}/en-us")
    del pl["id"]
    pl["product"] = {"externalId": "contoso-saas"}
    pl["plan"] = {"externalId": "pro"}
    pl["name"] = "Professional"
    assert api.run(api.start([pl]))["jobResult"] == "succeeded"
    got = api.ok(f"plan-listing/{SAAS}/public/main/{plg(2, 2)}/en-us")
    assert got["name"] == "Professional"
    assert got["plan"] == f"plan/{SAAS}/{plg(2, 2)}"
    assert got["product"] == f"product/{SAAS}"


def test_second_publish_conflicts(api):
    first, second = api.start(publish(SAAS)), api.start(publish(SAAS))
    api.tick(2)
    st = api.status(second)
    assert (st["jobStatus"], st["jobResult"]) == ("completed", "failed")
    assert error_codes(st) == [("conflict", ["invalidState"])]
    assert api.status(first)["jobStatus"] == "running"
    assert api.run(first)["jobResult"] == "succeeded"


def test_cancel(api):
    job = api.start(publish(SAAS))
    status, st = api.call("POST", f"configure/{job}/cancel")
    assert status == 200
    assert (st["jobStatus"], st["jobResult"]) == ("completed", "cancelled")
    assert st["jobId"] == job and st["jobEnd"] != NOT_ENDED
    assert api.status(job)["jobResult"] == "cancelled"
    status, doc = api.call("POST", f"configure/{job}/cancel")
    assert status == 400
    assert doc == {"error": {"code": "badRequest", "message":
                             "Cannot cancel job, job has already completed.",
                             "details": []}}
    # cancel during the publish: the edit stays, the submission goes
    tc_id = f"{TECH}/{NORTHWIND}/{plg(6, 1)}"
    tc = api.ok(tc_id)
    tc["recommendedVmSizes"] = ["Standard_F2s"]
    job = api.start([tc] + publish(NORTHWIND))
    api.tick(2)
    subs = api.ok(f"submission/{NORTHWIND}")["value"]
    assert subs[-1]["status"] == "running"
    status, st = api.call("POST", f"configure/{job}/cancel")
    assert status == 200 and st["jobResult"] == "cancelled"
    assert len(api.ok(f"submission/{NORTHWIND}")["value"]) == len(subs) - 1
    detail = api.ok(f"configure/{job}")
    assert [r["id"] for r in detail["resources"]] == [tc_id]
    assert api.ok(tc_id)["recommendedVmSizes"] == ["Standard_F2s"]
    # a completed job cannot be cancelled either
    job = api.start([tc])
    api.run(job)
    assert api.call("POST", f"configure/{job}/cancel")[0] == 400


def test_job_404_and_405(api):
    for rel in (f"configure/{pg(0)}/status", f"configure/{pg(0)}",
                "configure/x/y/z"):
        status, doc = api.get(rel)
        assert status == 404 and doc["error"]["code"] == "notFound", rel
    assert api.call("POST", f"configure/{pg(0)}/cancel")[0] == 404
    job = api.start(publish(SAAS))
    assert api.call("POST", f"configure/{job}/status")[0] == 405
    assert api.get(f"configure/{job}/cancel")[0] == 405
    assert api.get("configure")[0] == 405
    assert api.call("DELETE", "product")[0] == 405


def test_configure_validation(api):
    retired = "https://product-ingestion.azureedge.net/schema/configure/2022-03-01-preview2"
    status, doc = api.configure(publish(SAAS), schema=retired)
    assert status == 400
    assert doc == {"error": {"code": "badRequest", "message":
                             f"Schema {retired} could not be accessed",
                             "details": []}}
    res = publish(SAAS)
    res[0]["$schema"] = SUBMISSION.replace(
        "https://schema.mp.microsoft.com", "https://product-ingestion.azureedge.net")
    status, doc = api.configure(res)
    assert status == 400 and "could not be accessed" in doc["error"]["message"]

    def invalid(body):
        status, _, data = api.raw("POST", f"{BASE}/configure?{V}", body)
        assert status == 400, data
        err = json.loads(data)["error"]
        assert err["code"] == "badRequest"
        assert err["details"][0]["code"] == "schemaValidationError"
        return err
    invalid({"resources": publish(SAAS)})                 # no $schema
    invalid({"$schema": "https://example.com/schema/configure/2022-07-01",
             "resources": publish(SAAS)})
    invalid({"$schema": MP + "product/2022-07-01", "resources": publish(SAAS)})
    invalid({"$schema": CONFIGURE, "resources": []})
    invalid({"$schema": CONFIGURE, "resources": publish(SAAS), "extra": 1})
    invalid({"$schema": CONFIGURE, "resources": [{"id": f"product/{SAAS}"}]})
    invalid(b"{not json")
    invalid(b"{'$schema': '" + CONFIGURE.encode() + b"', 'resources': []}")
    invalid(json.dumps({"$schema": CONFIGURE,
                        "resources": publish(SAAS)}).encode() + b" {}")
    invalid(b"")
    invalid(b"[]")
    res = publish(SAAS)
    res[0]["target"]["targetType"] = "draft"
    invalid({"$schema": CONFIGURE, "resources": res})
    p = api.ok(f"product/{SAAS}")
    p["id"] = f"plan/{SAAS}/{plg(2, 1)}"                   # id of another type
    invalid({"$schema": CONFIGURE, "resources": [p]})
    # nothing was registered: still no job
    assert api.get(f"configure/{pg(0)}")[0] == 404


def test_jobs_move_on_the_clock(make_api):
    api = make_api("--step-ms", "50")
    job = api.start(publish(SAAS))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st = api.status(job)
        if st["jobStatus"] == "completed":
            break
        time.sleep(0.05)
    assert st["jobResult"] == "succeeded", st


def test_deprecate_live_submission(api):
    res = golive(VM, "1152921505697000257")
    res[0]["lifecycleState"] = "deprecated"
    assert api.run(api.start(res))["jobResult"] == "succeeded"
    _, lv = api.tree(VM, "live")
    assert by_id(lv, f"submission/{VM}/1152921505697000257")[
        "lifecycleState"] == "deprecated"


# --- dialect switches ---------------------------------------------------

def test_job_id_spelling_switch(make_api):
    api = make_api("--job-id-spelling=jobID")
    status, st = api.configure(publish(SAAS))
    assert status == 202 and "jobId" not in st
    job = st["jobID"]
    assert api.status(job)["jobID"] == job
    status, st = api.call("POST", f"configure/{job}/cancel")
    assert st["jobID"] == job


def test_target_quotes_reject_switch(make_api):
    api = make_api("--target-quotes=reject")
    status, doc = api.tree(SAAS, "%22preview%22")
    assert status == 400 and doc["error"]["code"] == "badRequest"
    assert api.tree(SAAS, "preview")[0] == 200


def test_shuffle_switch(make_api):
    api = make_api("--shuffle-resources")
    orders = {tuple(r["id"] for r in api.tree(VM)[1]["resources"])
              for _ in range(6)}
    assert len(orders) > 1
    assert len({tuple(sorted(o)) for o in orders}) == 1
    # the product list keeps its order
    assert [p["identity"]["externalId"]
            for p in api.ok("product")["value"]] == EXTERNAL


def test_resign_sas_switch(make_api):
    api = make_api("--resign-sas")
    rid = f"listing-asset/{SAAS}/public/main/default/en-us/azurelogolarge/1"
    urls = [api.ok(rid)["url"] for _ in range(3)]
    assert len(set(urls)) == 3
    parts = {urllib.parse.urlsplit(u)._replace(query="") for u in urls}
    assert len(parts) == 1
    sigs = {urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)["sig"][0]
            for u in urls}
    assert len(sigs) == 3
    # everything but the asset URLs is unchanged between two trees
    a, b = api.tree(SAAS)[1], api.tree(SAAS)[1]
    for x, y in zip(a["resources"], b["resources"]):
        x.pop("url", None), y.pop("url", None)
        assert x == y


# --- faults, request log, state ----------------------------------------

def test_faults_and_request_log(api):
    emu = api.emu
    job = api.start(publish(SAAS))
    emu.fault(path=f"{BASE}/configure/*/status", status=503, count=1)
    status, doc = api.get(f"configure/{job}/status")
    assert status == 503 and doc["error"]["code"] == "InjectedFault"
    assert api.get(f"configure/{job}/status")[0] == 200
    emu.fault(path=f"{BASE}/product", action="malformed")
    status, _, data = api.raw("GET", f"{BASE}/product?{V}")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(data)
    emu.fault(path=f"{BASE}/resource-tree/*", status=500,
              body='{"error":{"code":"internalServerError","message":"x"}}')
    status, doc = api.tree(SAAS)
    assert status == 500 and doc["error"]["code"] == "internalServerError"
    emu.fault(method="POST", path=f"{BASE}/configure", action="drop")
    with pytest.raises(Exception):
        api.configure(publish(SAAS))
    reqs = emu.requests(prefix=BASE + "/")
    post = reqs[0]
    assert post["method"] == "POST" and post["path"] == f"{BASE}/configure"
    assert post["query"] == V and post["status"] == 202
    assert json.loads(post["body"])["resources"] == publish(SAAS)
    assert post["headers"]["authorization"] == "Bearer " + TOKEN
    assert reqs[1]["fault"] is True and reqs[1]["status"] == 503
    assert "status" not in reqs[-1] and reqs[-1]["fault"] is True
    emu.clear_requests()
    assert emu.requests(api_only=False) == []


def test_state_dump(api):
    job = api.start(publish(SAAS))
    status, data = api.emu.call("GET", "/_emulator/state")
    ing = json.loads(data)["ingestion"]
    assert [p["externalId"] for p in ing["products"]] == EXTERNAL + [
        "contoso-hidden"]
    assert [j["jobId"] for j in ing["jobs"]] == [job]
    assert "publishers" in json.loads(data)


def test_latency_applies(make_api):
    api = make_api("--latency-ms", "300")
    t0 = time.monotonic()
    assert api.get("product")[0] == 200
    assert time.monotonic() - t0 >= 0.29


def test_https(make_emulator, cert):
    crt, key = cert
    emu = make_emulator("--ingestion-seed", ING_SEED, "--tls-cert", crt,
                        "--tls-key", key)
    assert emu.url.startswith("https://localhost:")
    status, body = emu.call("GET", f"{BASE}/product?{V}&externalId=contoso-vm",
                            headers={"Authorization": "Bearer " + TOKEN})
    assert status == 200
    assert json.loads(body)["value"][0]["id"] == f"product/{VM}"
