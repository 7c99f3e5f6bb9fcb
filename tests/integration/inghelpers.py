"""Helpers for the ingestion backend's tests (test_ingestion_*.py): an
emulator serving the ingestion seed, a mount of it with api=ingestion, and
the requests it received.  The emulator's clock is stopped (--step-ms 0):
jobs move only with emu.tick()."""
import json
import os
import urllib.parse

import pytest

from conftest import ING_SEED

BASE = "/rp/product-ingestion"
V = "2022-07-01"
VERSION_QUERY = "$version=" + V
TOKEN = "sandbox-token"
MP = "https://schema.mp.microsoft.com/schema/"
CONFIGURE = MP + "configure/2022-07-01"
SUBMISSION = MP + "submission/2022-03-01-preview2"
TECH = "virtual-machine-plan-technical-configuration"
POLL = 0.2


def pg(n):
    """The seed's product GUID of row n."""
    return "a1b2c3d4-0000-4000-8000-%012d" % n


def plg(n, k):
    """The seed's GUID of plan k of product n."""
    return "b1b2c3d4-0000-4000-8000-%012d" % (n * 100 + k)


VM, SAAS, DRAFT, NOSKU, FABRIKAM, NORTHWIND, HIDDEN = (pg(n) for n in range(1, 8))
LISTED = ["contoso-draft", "contoso-nosku", "contoso-saas", "contoso-vm",
          "fabrikam-saas", "northwind-vm"]


def ing_emulator(make_emulator, *args, seed=ING_SEED):
    return make_emulator("--ingestion-seed", seed, *args)


def ing_mount(make_mount, emu, options="", state_dir=None, **kw):
    """A mount of emu's ingestion API; poll_interval 0.2 s unless options
    say otherwise, its state file in state_dir (default: its own)."""
    opts = ["api=ingestion"]
    if "poll_interval=" not in options:
        opts.append(f"poll_interval={POLL}")
    if state_dir is not None:
        opts.append(f"state_dir={state_dir}")
    if options:
        opts.append(options)
    m = make_mount(emu.url + BASE, ",".join(opts), **kw)
    return m


# The fixtures of a test module of the backend, which imports them by
# name so that they stand in for conftest's emu and mnt of the Cloud
# Partner Portal API.
@pytest.fixture
def emu(make_emulator):
    return ing_emulator(make_emulator)


@pytest.fixture
def state_dir(tmpdir_short):
    return os.path.join(tmpdir_short, "state")


@pytest.fixture
def mnt(emu, make_mount, state_dir):
    return ing_mount(make_mount, emu, state_dir=state_dir)


def prod(mnt, ext, *parts):
    return mnt.p("products", ext, *parts)


def api_raw(emu, method, path, body=None, token=TOKEN, headers=None,
            timeout=10):
    """A request to emu with token as its bearer (None: no Authorization):
    (status, headers lowercased, bytes); path as for Emulator.request."""
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = "Bearer " + token
    return emu.request(method, path, body, hdrs, timeout)


def api_call(emu, method, rel, body=None, query=VERSION_QUERY, **kw):
    """(status, parsed body) of BASE/rel?query (no query if it is empty);
    kw as for api_raw."""
    path = f"{BASE}/{rel}" + (f"?{query}" if query else "")
    status, _, data = api_raw(emu, method, path, body, **kw)
    return status, json.loads(data) if data else None


def api_get(emu, path, token=TOKEN):
    """GET of the emulator's ingestion API: (status, parsed body); path may
    carry a query of its own."""
    sep = "&" if "?" in path else "?"
    return api_call(emu, "GET", f"{path}{sep}{VERSION_QUERY}", query=None,
                    token=token)


def ing_requests(emu, method=None, path=None):
    """Requests to the ingestion API, oldest first; path is below BASE
    (percent-decoded), e.g. "configure"."""
    out = []
    for r in emu.requests(prefix=BASE + "/"):
        p = urllib.parse.unquote(r["path"][len(BASE) + 1:])
        if method and r["method"] != method:
            continue
        if path is not None and p != path:
            continue
        r = dict(r, rel=p)
        out.append(r)
    return out


def posted_bodies(emu, path="configure"):
    """The JSON bodies of the POSTs to path, oldest first."""
    return [json.loads(r["body"]) for r in ing_requests(emu, "POST", path)]


def state_files(state_dir):
    if not os.path.isdir(state_dir):
        return []
    return [os.path.join(state_dir, f) for f in sorted(os.listdir(state_dir))
            if f.endswith(".jobs")]
