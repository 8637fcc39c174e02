"""The benchmark's regression guard: lmkg against the Oxigraph server on 1,000 entries, by ratios.

Both services run on the same data, the same requests alternate between them, and
only ratios measured in one run are checked, so a slow or busy machine slows both
alike. The floors sit well under bench/RESULTS.md's targets: they catch a change
that makes lmkg several times slower, not noise. The full benchmark is
`python3 -m bench run` (see bench/RESULTS.md).
"""

from __future__ import annotations

import random
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench import data
from bench.client import ClientPool, Request
from bench.run import Measure, build_store, count_of, dump, sparql_answer, total_of
from bench.targets import Target, start_lmkg, start_oxigraph
from bench.workloads import (
    LIST_REST,
    NO_CACHE,
    list_reference_queries,
    query_workloads,
    write_requests,
)

pytestmark = pytest.mark.slow

# workload -> (lmkg's workload, the Oxigraph workload it is compared with, floor)
FLOORS = {
    "headline through /sparql": ("headline-sparql", "headline-sparql", 0.35),
    "look-up through /sparql": ("lookup-sparql", "lookup-sparql", 0.04),
    "look-up through GET /models/{id}": ("lookup-rest", "lookup-sparql", 0.08),
    "filtered sorted page through /sparql": ("list-sparql", "list-sparql", 0.35),
    "aggregate through /sparql": ("aggregate-sparql", "aggregate-sparql", 0.35),
}
ROUNDS = 3
BURST_SECONDS = 1.5
# Bursts of 0.7 s held a handful of headline queries each: the same code measured the headline
# ratio between 0.35x and 0.54x in four runs on one quiet machine (and this change's code between
# 0.34x and 0.89x), so a floor of 0.35x failed by chance. Longer bursts average more requests.


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[Target, Target, list[str]]]:
    with tempfile.TemporaryDirectory(prefix="lmkg-guard-") as tmp:
        workdir = Path(tmp)
        store, ids, _ = build_store("1000", workdir, [])
        nquads = dump(store, workdir)
        lmkg = start_lmkg(store, workdir, query_timeout=30)
        try:
            oxigraph = start_oxigraph(nquads, workdir, query_timeout=30)
            try:
                yield lmkg, oxigraph, ids
            finally:
                oxigraph.stop()
        finally:
            lmkg.stop()


@pytest.fixture(scope="module")
def pool() -> Iterator[ClientPool]:
    clients = ClientPool(processes=1, threads=2)
    yield clients
    clients.close()


def test_query_throughput_ratios(services: tuple[Target, Target, list[str]], pool: ClientPool) -> None:
    lmkg, oxigraph, ids = services
    workloads = {
        w.name: w for w in query_workloads(ids, {"lmkg": lmkg.sparql_path, "oxigraph": oxigraph.sparql_path})
    }
    needed = {name for pair in FLOORS.values() for name in pair[:2]}
    measures = {(w, t): Measure() for w in needed for t in workloads[w].requests}
    for round_number in range(ROUNDS):
        for name in sorted(needed):
            order = sorted(workloads[name].requests, reverse=round_number % 2 == 1)
            for target_name in order:
                target = lmkg if target_name == "lmkg" else oxigraph
                burst = pool.burst(
                    target.base,
                    workloads[name].requests[target_name],
                    duration=BURST_SECONDS,
                    seed=round_number,
                )
                measures[(name, target_name)].add(burst)
    failures = []
    for label, (mine, theirs, floor) in FLOORS.items():
        ours = measures[(mine, "lmkg")]
        other = measures[(theirs, "oxigraph")]
        assert ours.errors == 0 and other.errors == 0, (label, ours.errors, other.errors)
        ratio = ours.summary()["throughput"] / other.summary()["throughput"]
        print(f"{label}: {ratio:.3f}x the Oxigraph server's throughput (floor {floor}x)")
        if ratio < floor:
            failures.append(f"{label}: {ratio:.3f}x the Oxigraph server's throughput, floor {floor}x")
    assert not failures, failures


def test_write_does_not_cost_many_reads(services: tuple[Target, Target, list[str]], pool: ClientPool) -> None:
    """POST /models (validate, classify, write) stays within 15 look-ups' time, one client each.
    The look-up asks for Turtle, which is read from the store: the JSON look-up is now a row of
    the read index (about a millisecond), which no write that goes to the store can come near."""
    lmkg, _, ids = services
    rng = random.Random(11)
    fresh = [data.entry(5_000_000 + i, rng) for i in range(30)]
    for i, document in enumerate(fresh):
        document["id"] = f"guard-write-{i:03d}"
        document.pop("fineTunedFrom", None)
    posts = pool.sequential(lmkg.base, write_requests(fresh, "/models"))
    turtle = (("Accept", "text/turtle"),)
    reads = pool.sequential(lmkg.base, [Request("GET", f"/models/{m}", turtle) for m in ids[:30]])
    assert posts.errors == 0 and reads.errors == 0, posts.statuses
    ratio = statistics.median(posts.latencies) / statistics.median(reads.latencies)
    assert ratio <= 15, f"POST /models p50 is {ratio:.1f}x GET /models/{{id}} (Turtle) p50 (ceiling 15x)"


@pytest.fixture(scope="module")
def services_10k() -> Iterator[tuple[Target, Target]]:
    with tempfile.TemporaryDirectory(prefix="lmkg-guard-10k-") as tmp:
        workdir = Path(tmp)
        store, _, _ = build_store("10000", workdir, [])
        nquads = dump(store, workdir)
        lmkg = start_lmkg(store, workdir, query_timeout=60)
        try:
            oxigraph = start_oxigraph(nquads, workdir, query_timeout=60)
            try:
                yield lmkg, oxigraph
            finally:
                oxigraph.stop()
        finally:
            lmkg.stop()


def test_uncached_list_at_10k(services_10k: tuple[Target, Target], pool: ClientPool) -> None:
    """GET /models (filtered, sorted, paged; Cache-Control: no-cache, so answered by the read
    index every time) against the Oxigraph server answering the same question in SPARQL (the
    count and the page that lmkg.models_query sends, one answer timed as a whole), at 10,000
    entries. The ratio is printed; the floor only catches the read index being bypassed (SPARQL
    at 10k is some 100x slower). Two answers of the Oxigraph server: each takes seconds."""
    lmkg, oxigraph = services_10k
    ours = pool.sequential(lmkg.base, [Request("GET", LIST_REST, NO_CACHE)] * 10)
    assert ours.errors == 0, ours.statuses
    status, total, _ = total_of(lmkg, Request("GET", LIST_REST))
    theirs = []
    for _ in range(2):
        seconds, counted = sparql_answer(oxigraph, list_reference_queries(), 60)
        assert seconds is not None, "the Oxigraph server gave no answer to the reference SPARQL in 60 s"
        theirs.append(seconds)
        assert (status, total) == (200, count_of(counted)), "lmkg and the SPARQL count different models"
    ratio = min(theirs) / statistics.median(ours.latencies)
    print(f"uncached GET /models at 10k: {ratio:.1f}x faster than the Oxigraph server's SPARQL (floor 2x)")
    assert ratio >= 2, f"uncached GET /models at 10k is only {ratio:.1f}x the Oxigraph server's speed"
