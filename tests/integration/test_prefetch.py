"""Prefetch (issue 14): `cat */status` over a slow network. The shell
stats each match before cat opens one, one after another; once a process
has read the same kind of file in two sibling directories, the others
are fetched concurrently, each once, and what the reader sees is the same
as without prefetching. `ls -l` and stats of directories prefetch
nothing; prefetch=0 turns it off; a throttled prefetch halves its
concurrency and never fails a read."""
import os
import re

import pytest

from ophelpers import fs_requests
from util import read, run, wait_for

N_OFFERS = 20  # synthetic offers, besides the seed's six of contoso


def stats(m):
    return {k: int(v) for k, v in re.findall(r"^(\w+) (\d+)$",
                                             read(m.p(".partnerfs",
                                                      "stats")),
                                             re.M)}


def status_gets(emu):
    return [r["path"] for r in fs_requests(emu, method="GET")
            if r["path"].endswith("/status")]


@pytest.fixture
def slow(make_emulator):
    return make_emulator("--offers", str(N_OFFERS), "--latency-ms", "20")


def cat_statuses(m):
    offers = m.p("publishers", "contoso", "offers")
    r = run(f"cat {offers}/*/status", timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_glob_reads_each_status_once_and_uses_the_prefetches(slow,
                                                             make_mount):
    plain = make_mount(slow, "prefetch=0")
    expected = cat_statuses(plain)
    m = make_mount(slow)
    slow.clear_requests()
    assert cat_statuses(m) == expected
    gets = status_gets(slow)
    # Each document once: the reader and the prefetcher share the cache.
    assert len(gets) == len(set(gets)) == len(expected.splitlines())
    s = stats(m)
    # All but the two reads that started it were fetched ahead (a job
    # counts as fetched once done, whoever fetched the document).
    assert s["prefetch_fetched"] >= len(gets) - 2
    # Most were brought by the prefetcher. While its threads wait for a
    # CPU (another load on the same two cores), the reader may reach a
    # document first and fetch it itself, still once: seen at 23 of 24.
    assert s["prefetch_used"] >= (len(gets) - 2) // 2


def test_prefetch_0_and_listings_fetch_nothing_ahead(slow, make_mount):
    off = make_mount(slow, "prefetch=0")
    cat_statuses(off)
    assert stats(off)["prefetch_fetched"] == 0
    m = make_mount(slow)
    offers = m.p("publishers", "contoso", "offers")
    slow.clear_requests()
    r = run(["ls", "-l", offers], timeout=30)
    assert r.returncode == 0, r.stderr
    for d in os.listdir(offers)[:5]:
        os.stat(os.path.join(offers, d))
    assert status_gets(slow) == []
    assert stats(m)["prefetch_fetched"] == 0


def test_a_throttled_prefetch_backs_off_and_the_read_still_works(
        slow, make_mount):
    m = make_mount(slow, "retries=1")
    offers = sorted(os.listdir(m.p("publishers", "contoso", "offers")))
    last = offers[-1]
    # The last sibling is fetched ahead (the first two reads start it);
    # its two attempts are refused, so the prefetch gives up with EAGAIN.
    slow.fault(path=f"/api/publishers/contoso/offers/{last}/status",
               status=429, retry_after=0, count=2)
    out = cat_statuses(m)
    assert len(out.splitlines()) == len(offers)
    assert wait_for(lambda: stats(m)["prefetch_throttled"] >= 1, 10)


def test_listing_the_same_directory_in_siblings_prefetches_the_listings(
        slow, make_mount):
    """`grep -l running */operations/*/status`: the shell lists every
    offer's operations/ to expand the glob; after the second, the other
    offers' submissions are fetched concurrently, each once."""
    m = make_mount(slow)
    offers = m.p("publishers", "contoso", "offers")
    slow.clear_requests()
    r = run(f"ls -d {offers}/*/operations/*", timeout=60)
    assert r.returncode == 0, r.stderr
    subs = [p for p in (r["path"] for r in fs_requests(slow, method="GET"))
            if p.endswith("/submissions/")]
    assert len(subs) == len(set(subs)) == len(os.listdir(offers))
    assert stats(m)["prefetch_used"] >= len(subs) - 2
