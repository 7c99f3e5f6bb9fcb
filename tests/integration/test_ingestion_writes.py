"""Writes through the ingestion backend (doc/design.md section 8), each
checked by the exact request the emulator received: a draft resource file
written whole, configure (a product's and the root's, a document or a
bare array), publish, golive; what is refused locally sends nothing and
says why in the control file; the API's 400 messages show in the control
file and .partnerfs/last-error."""
import errno
import json
import os
import shutil

import pytest

from inghelpers import (BASE, CONFIGURE, DRAFT, FABRIKAM, NORTHWIND, SUBMISSION,
                        TECH, VM, ing_requests, plg, posted_bodies, prod)
# the ingestion API's emu, mnt and state_dir fixtures, in place of conftest's
from inghelpers import emu, mnt, state_dir  # noqa: F401
from ophelpers import q, sh, write_errno
from util import errno_of, read, wait_for

TC = os.path.join("draft", "plans", "gen2", TECH + ".json")


def write_whole(path, data):
    """open(O_TRUNC), one write, close: (write errno, close errno)."""
    return write_errno(path, data.encode() if isinstance(data, str) else data)


def last_job(mnt, ext):
    return os.readlink(prod(mnt, ext, "operations", "latest"))


def failed_job(emu, mnt, ext, control):
    """A newline written to ext's control file starts a job that the API
    ends failed: (the job, its status.json)."""
    assert write_whole(prod(mnt, ext, control), "\n") == (0, 0)
    job = last_job(mnt, ext)
    emu.tick(2)
    assert wait_for(lambda: read(prod(mnt, ext, "operations", job,
                                      "status")) == "failed\n", 5)
    return job, json.loads(read(prod(mnt, ext, "operations", job,
                                     "status.json")))


def test_resource_file_written_whole_is_one_configure(emu, mnt):
    path = prod(mnt, "contoso-vm", TC)
    res = json.loads(read(path))
    res["recommendedVmSizes"] = ["Standard_D4s_v5"]
    emu.clear_requests()
    assert write_whole(path, json.dumps(res, indent=2)) == (0, 0)
    assert posted_bodies(emu) == [{"$schema": CONFIGURE, "resources": [res]}]
    job = last_job(mnt, "contoso-vm")
    out = read(prod(mnt, "contoso-vm", "configure"))
    assert "status: 202" in out and f"job: {job}" in out
    assert sorted(os.listdir(prod(mnt, "contoso-vm", "operations"))) == \
        sorted([job, "latest"])
    emu.tick(2)
    assert wait_for(lambda: read(prod(mnt, "contoso-vm", "operations", job,
                                      "status")) == "succeeded\n", 5)
    assert wait_for(lambda: json.loads(read(path)).get("recommendedVmSizes")
                    == ["Standard_D4s_v5"], 5)


def test_cp_and_sed_onto_a_resource_file(emu, mnt, tmpdir_short):
    path = prod(mnt, "contoso-saas", "draft", "listing", "public", "main",
                "default", "en-us.json")
    copy = os.path.join(tmpdir_short, "listing.json")
    shutil.copyfile(path, copy)
    r = sh("bash", f"sed -i 's/Contoso/Contoso Ltd/' {q(copy)} && "
                   f"cp {q(copy)} {q(path)}")
    assert r.returncode == 0, r.stderr
    body = posted_bodies(emu)[-1]
    assert body["$schema"] == CONFIGURE
    assert len(body["resources"]) == 1
    assert "Contoso Ltd" in body["resources"][0]["title"]


@pytest.mark.parametrize("data,why", [
    ("{not json", "not a JSON object"),
    ("[1, 2]", "not a JSON object"),
    ('{"id": "x"}', "no $schema"),
])
def test_bad_resource_writes_send_nothing(emu, mnt, data, why):
    path = prod(mnt, "contoso-vm", TC)
    emu.clear_requests()
    assert write_whole(path, data)[1] == errno.EINVAL
    assert ing_requests(emu, "POST") == []
    out = read(prod(mnt, "contoso-vm", "configure"))
    assert "status: not sent" in out and why in out
    assert why in read(mnt.p(".partnerfs", "last-error"))
    # What was written is not lost: it is beside the file (test_refused.py).
    assert read(path + ".rejected") == data
    assert os.path.basename(path) + ".rejected" in \
        os.listdir(os.path.dirname(path))


def test_changed_id_is_refused(emu, mnt):
    path = prod(mnt, "contoso-vm", TC)
    res = json.loads(read(path))
    res["id"] = f"{TECH}/{VM}/{plg(1, 1)}"
    emu.clear_requests()
    assert write_whole(path, json.dumps(res))[1] == errno.EINVAL
    assert ing_requests(emu, "POST") == []
    out = read(prod(mnt, "contoso-vm", "configure"))
    assert f"its id is \"{TECH}/{VM}/{plg(1, 1)}\"" in out
    assert "status: not sent" in out


def test_retired_schema_host_shows_the_api_message(emu, mnt):
    path = prod(mnt, "contoso-vm", TC)
    res = json.loads(read(path))
    res["$schema"] = res["$schema"].replace("schema.mp.microsoft.com",
                                            "product-ingestion.azureedge.net")
    assert write_whole(path, json.dumps(res))[1] == errno.EINVAL
    out = read(prod(mnt, "contoso-vm", "configure"))
    assert "status: 400" in out and "could not be accessed" in out
    assert "could not be accessed" in read(mnt.p(".partnerfs", "last-error"))
    assert os.listdir(prod(mnt, "contoso-vm", "operations")) == []


def test_product_configure_document(emu, mnt):
    path = prod(mnt, "contoso-vm", TC)
    res = json.loads(read(path))
    doc = {"$schema": CONFIGURE, "resources": [res]}
    text = json.dumps(doc, indent=4) + "\n"
    emu.clear_requests()
    r = sh("bash", f"cat > {q(prod(mnt, 'contoso-vm', 'configure'))} <<'EOF'\n"
                   f"{text}EOF")
    assert r.returncode == 0, r.stderr
    assert posted_bodies(emu) == [doc]
    assert "job: " in read(prod(mnt, "contoso-vm", "configure"))


def test_root_configure_bare_array_is_wrapped(emu, mnt):
    a = json.loads(read(prod(mnt, "contoso-vm", TC)))
    b = json.loads(read(prod(mnt, "northwind-vm", "draft", "plans", "nw-gen2",
                             TECH + ".json")))
    emu.clear_requests()
    assert write_whole(mnt.p("configure"), json.dumps([a, b])) == (0, 0)
    assert posted_bodies(emu) == [{"$schema": CONFIGURE, "resources": [a, b]}]
    out = read(mnt.p("configure"))
    job = out.split("job: ")[1].split()[0]
    # the job belongs to both products it names
    assert job in os.listdir(prod(mnt, "contoso-vm", "operations"))
    assert job in os.listdir(prod(mnt, "northwind-vm", "operations"))
    assert job in os.listdir(mnt.p("operations"))
    assert job not in os.listdir(prod(mnt, "contoso-saas", "operations"))


@pytest.mark.parametrize("data", ["{}", "[]", '{"resources": [{}]}', "nope"])
def test_bad_configure_sends_nothing(emu, mnt, data):
    emu.clear_requests()
    assert write_whole(mnt.p("configure"), data)[1] == errno.EINVAL
    assert ing_requests(emu, "POST") == []
    assert "status: not sent" in read(mnt.p("configure"))


def test_configure_schema_error_from_the_api(emu, mnt):
    a = json.loads(read(prod(mnt, "contoso-vm", TC)))
    doc = {"$schema": CONFIGURE, "resources": [a], "extra": 1}
    assert write_whole(prod(mnt, "contoso-vm", "configure"),
                       json.dumps(doc))[1] == errno.EINVAL
    out = read(prod(mnt, "contoso-vm", "configure"))
    assert "status: 400" in out and "message: Invalid configuration" in out


def test_publish_sends_a_preview_submission(emu, mnt):
    emu.clear_requests()
    r = sh("bash", f"echo > {q(prod(mnt, 'contoso-draft', 'publish'))}")
    assert r.returncode == 0, r.stderr
    assert posted_bodies(emu) == [{"$schema": CONFIGURE, "resources": [{
        "$schema": SUBMISSION, "product": f"product/{DRAFT}",
        "target": {"targetType": "preview"}}]}]
    job = last_job(mnt, "contoso-draft")
    assert f"job: {job}" in read(prod(mnt, "contoso-draft", "publish"))
    assert read(prod(mnt, "contoso-draft", "status")) == "running\n"


@pytest.mark.parametrize("data", ["ops@contoso.com\n", "yes\n", "{}\n"])
def test_publish_takes_no_addresses(emu, mnt, data):
    emu.clear_requests()
    r = sh("bash", f"printf %s {q(data)} > "
                   f"{q(prod(mnt, 'contoso-draft', 'publish'))}")
    assert r.returncode != 0 and "Invalid argument" in r.stderr
    assert ing_requests(emu, "POST") == []
    out = read(prod(mnt, "contoso-draft", "publish"))
    assert "status: not sent" in out and "takes no arguments" in out


def test_golive_sends_the_newest_preview(emu, mnt):
    emu.clear_requests()
    assert write_whole(prod(mnt, "northwind-vm", "golive"), "\n") == (0, 0)
    assert posted_bodies(emu) == [{"$schema": CONFIGURE, "resources": [{
        "$schema": SUBMISSION,
        "id": f"submission/{NORTHWIND}/1152921505697000777",
        "product": f"product/{NORTHWIND}",
        "target": {"targetType": "live"}}]}]
    job = last_job(mnt, "northwind-vm")
    emu.tick(3)
    assert wait_for(lambda: read(prod(mnt, "northwind-vm", "operations", job,
                                      "status")) == "succeeded\n", 5)


def test_golive_with_nothing_in_preview(emu, mnt):
    emu.clear_requests()
    assert write_whole(prod(mnt, "contoso-draft", "golive"), "\n")[0] == \
        errno.ENOENT
    assert ing_requests(emu, "POST") == []
    out = read(prod(mnt, "contoso-draft", "golive"))
    assert "status: not sent" in out and "no preview submission" in out
    # contoso-vm's newest preview is live already: the API's job fails
    job, doc = failed_job(emu, mnt, "contoso-vm", "golive")
    assert doc["errors"] and doc["errors"][0]["details"][0]["code"] == \
        "invalidState"
    assert errno_of(os.stat, prod(mnt, "contoso-vm", "operations", job,
                                  "detail.json")) == errno.ENOENT


def test_conflicting_publish_fails_with_the_conflict(emu, mnt):
    _, doc = failed_job(emu, mnt, "fabrikam-saas", "publish")
    assert doc["errors"][0]["code"] == "conflict"
    assert "In Progress submission" in doc["errors"][0]["message"]
    assert posted_bodies(emu)[-1]["resources"][0]["product"] == \
        f"product/{FABRIKAM}"


def test_publish_without_skus_fails_on_business_rules(emu, mnt):
    _, doc = failed_job(emu, mnt, "contoso-nosku", "publish")
    assert doc["errors"][0]["details"][0]["code"] == "businessValidationError"


def test_write_to_a_preview_file_is_refused(emu, mnt):
    path = prod(mnt, "northwind-vm", "preview", "product.json")
    assert errno_of(os.open, path, os.O_WRONLY) in (errno.EACCES, errno.EPERM,
                                                    errno.EROFS)


def test_hostile_job_id_is_not_registered(emu, mnt):
    emu.fault(method="POST", path=f"{BASE}/configure", status=202,
              body='{"jobId": "../../etc", "jobStatus": "notStarted"}')
    assert write_whole(prod(mnt, "contoso-draft", "publish"), "\n") == (0, 0)
    out = read(prod(mnt, "contoso-draft", "publish"))
    assert "status: 202" in out and "names no job" in out
    assert os.listdir(prod(mnt, "contoso-draft", "operations")) == []
    assert os.listdir(mnt.p("operations")) == []


def test_root_configure_makes_a_product(emu, mnt):
    new = {"$schema": "https://schema.mp.microsoft.com/schema/product/"
                      "2022-03-01-preview3",
           "identity": {"externalId": "contoso-new"},
           "type": "azureVirtualMachine", "alias": "Contoso New"}
    assert "contoso-new" not in os.listdir(mnt.p("products"))
    assert write_whole(mnt.p("configure"), json.dumps([new])) == (0, 0)
    job = read(mnt.p("configure")).split("job: ")[1].split()[0]
    # the job is the new product's, named by its identity
    emu.tick(2)
    assert wait_for(lambda: read(mnt.p("operations", job, "status")) ==
                    "succeeded\n", 5)
    assert wait_for(lambda: "contoso-new" in os.listdir(mnt.p("products")), 5)
    assert json.loads(read(prod(mnt, "contoso-new", "product.json")))[
        "alias"] == "Contoso New"
    assert job in os.listdir(prod(mnt, "contoso-new", "operations"))
    detail = json.loads(read(mnt.p("operations", job, "detail.json")))
    assert detail["resources"][0]["id"].startswith("product/")
