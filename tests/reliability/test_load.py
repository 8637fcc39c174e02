"""A bounded load test: concurrent clients on loopback, mixed reads and writes, against
`lmkg serve` on an on-disk store holding the seeded examples and Epoch AI rows.

Every answer must be what the route promises, well formed (JSON that parses into the
documented shape, SPARQL results, Turtle), or a designed 503 with Retry-After (the
concurrent-query cap); anything else, a 500 or a timeout included, is an error and fails
the test. The memory of the service (RSS of `lmkg serve` and every process under it) is
sampled throughout: after a warm-up, the median of the last fifth of the run may not
exceed the median of the first fifth by more than a generous margin.

The reduced form runs 32 clients for 15 s; the full form is one command away:

    LMKG_LOAD_SECONDS=60 python3 -m pytest tests/reliability/test_load.py -s

(also LMKG_LOAD_CLIENTS, and LMKG_LOAD_WORKERS for `lmkg serve --workers N`); `-s` prints
the figures: requests by kind, 503s, latency percentiles, memory.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from rdflib import Graph

from lmkg.config import shared_dir
from tests.reliability.harness import AUTH, Service, env_number, version_entry

SECONDS = env_number("LMKG_LOAD_SECONDS", 15)
CLIENTS = int(env_number("LMKG_LOAD_CLIENTS", 32))
WORKERS = int(env_number("LMKG_LOAD_WORKERS", 1))
EPOCH = shared_dir() / "data" / "epoch-ai-models" / "all-ml-systems.csv"
EPOCH_ROWS = 300
MEMORY_GROWTH = 1.25  # the last fifth's median RSS may be at most 25 % above the first's
MEMORY_SLACK = 32 * 1024 * 1024  # plus this, for allocator noise on a short run

pytestmark = pytest.mark.slow

SPARQL = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?m ?label WHERE { ?m a <https://w3id.org/lmkg/ontology#SmallLanguageModel> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label LIMIT 20",
    "ASK { ?m a <https://w3id.org/lmkg/ontology#PortableModel> }",
    "SELECT ?m ?n WHERE { ?m <https://w3id.org/lmkg/ontology#parameterCount> ?n FILTER(?n < 3000000000) } LIMIT 50",
]
NAMED = [
    "/queries/portable-and-cheap-to-fine-tune",
    "/queries/models-by-kind?kind=llm",
    "/queries/small-language-models-per-year",
    "/queries/organisations-publishing-small-models",
]
LISTS = [
    "/models?limit=20",
    "/models?kind=slm&sort=parameterCount&direction=desc&limit=10",
    "/models?portable=true&cheapToFineTune=true",
    "/models?search=llama&limit=5",
    "/models?minParameters=1000000000&maxParameters=10000000000&offset=10&limit=10",
]


@dataclass
class Tally:
    """What the clients saw."""

    requests: Counter[str] = field(default_factory=Counter)
    busy: Counter[str] = field(default_factory=Counter)  # designed 503s, by kind
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One client: a keep-alive connection, its own entries to write, a random mix of requests."""

    def __init__(self, url: str, number: int, known: list[str], tally: Tally) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.number = number
        self.known = known
        self.tally = tally
        self.rng = random.Random(number)
        self.mine: dict[str, int] = {}  # id -> version, as acknowledged
        self.serial = 0

    def run(self, deadline: float) -> None:
        actions: list[tuple[float, Callable[[], None]]] = [
            (0.22, self.list_models),
            (0.22, self.read_model),
            (0.18, self.sparql),
            (0.12, self.named_query),
            (0.04, self.health),
            (0.22, self.write),
        ]
        weights = [w for w, _ in actions]
        with self.http:
            while time.monotonic() < deadline:
                self.rng.choices([a for _, a in actions], weights)[0]()

    def call(
        self, kind: str, method: str, path: str, expected: set[int], **options: object
    ) -> httpx.Response | None:
        """Send a request; a designed 503 or an error is counted and gives None."""
        started = time.monotonic()
        try:
            response = self.http.request(method, path, **options)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.fail(f"{method} {path}: {exc!r}")
            return None
        with self.tally.lock:
            self.tally.requests[kind] += 1
            self.tally.latencies.append(time.monotonic() - started)
        if response.status_code == 503 and response.headers.get("Retry-After"):
            with self.tally.lock:
                self.tally.busy[kind] += 1
            time.sleep(0.05)
            return None
        if response.status_code not in expected:
            self.fail(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return None
        return response

    def fail(self, message: str) -> None:
        with self.tally.lock:
            self.tally.errors.append(message)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.fail(message)

    def list_models(self) -> None:
        path = self.rng.choice(LISTS)
        response = self.call("list", "GET", path, {200})
        if response is not None:
            body = response.json()
            self.check(
                isinstance(body.get("models"), list)
                and body["total"] == int(response.headers["X-Total-Count"])
                and len(body["models"]) <= body["limit"],
                f"GET {path}: a malformed list {str(body)[:300]}",
            )

    def read_model(self) -> None:
        model_id = self.rng.choice([*self.known, *self.mine] if self.mine else self.known)
        turtle = self.rng.random() < 0.25
        headers = {"Accept": "text/turtle"} if turtle else {}
        response = self.call("read", "GET", f"/models/{model_id}", {200}, headers=headers)
        if response is None:
            return
        if turtle:
            graph = Graph().parse(data=response.text, format="turtle")
            self.check(len(graph) > 5, f"GET /models/{model_id} as Turtle: {len(graph)} triples")
        else:
            body = response.json()
            self.check(
                body.get("id") == model_id and isinstance(body.get("inferred", {}).get("classes"), list),
                f"GET /models/{model_id}: a malformed entry {str(body)[:300]}",
            )
            if model_id in self.mine:
                expected = version_entry(model_id, self.mine[model_id])["label"]
                self.check(
                    body["label"] == expected, f"GET /models/{model_id}: {body['label']}, not {expected}"
                )

    def sparql(self) -> None:
        query = self.rng.choice(SPARQL)
        response = self.call(
            "sparql",
            "GET",
            "/sparql",
            {200},
            params={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        if response is not None:
            body = response.json()
            self.check(
                "boolean" in body or "bindings" in body.get("results", {}), f"/sparql: {str(body)[:300]}"
            )

    def named_query(self) -> None:
        path = self.rng.choice(NAMED)
        response = self.call(
            "named", "GET", path, {200}, headers={"Accept": "application/sparql-results+json"}
        )
        if response is not None:
            body = response.json()
            self.check(isinstance(body, dict | list) and body != {}, f"GET {path}: {str(body)[:300]}")

    def health(self) -> None:
        response = self.call("health", "GET", "/health", {200})
        if response is not None:
            self.check(response.json().get("status") == "ok", f"/health: {response.text[:300]}")

    def write(self) -> None:
        if not self.mine or (len(self.mine) < 5 and self.rng.random() < 0.5):
            self.serial += 1
            model_id = f"load-{self.number}-{self.serial}"
            version = self.rng.randrange(12)
            response = self.call(
                "post", "POST", "/models", {201}, json=version_entry(model_id, version), headers=AUTH
            )
            if response is not None:
                self.mine[model_id] = version
            return
        model_id = self.rng.choice(sorted(self.mine))
        if self.rng.random() < 0.25:
            if self.call("delete", "DELETE", f"/models/{model_id}", {204}, headers=AUTH) is not None:
                del self.mine[model_id]
            return
        version = (self.mine[model_id] + 1) % 12
        response = self.call(
            "put", "PUT", f"/models/{model_id}", {200}, json=version_entry(model_id, version), headers=AUTH
        )
        if response is not None:
            self.mine[model_id] = version
            self.check(
                response.json().get("label") == version_entry(model_id, version)["label"],
                f"PUT /models/{model_id} answered {response.text[:200]}",
            )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _fifths(samples: list[tuple[float, int]], seconds: float) -> list[int]:
    """The median RSS of each fifth of the run, in MiB."""
    parts: list[list[int]] = [[] for _ in range(5)]
    for at, rss in samples:
        parts[min(4, int(5 * at / seconds))].append(rss)
    return [round(statistics.median(part) / 2**20) for part in parts if part]


def test_mixed_load_gives_no_errors_and_flat_memory(tmp_path: Path) -> None:
    with Service(tmp_path / "store", workers=WORKERS) as service:
        if EPOCH.is_file():
            rows = list(
                itertools.islice(csv.reader(io.StringIO(EPOCH.read_text(encoding="utf-8-sig"))), EPOCH_ROWS)
            )
            text = io.StringIO()
            csv.writer(text).writerows(rows)
            response = httpx.post(
                f"{service.url}/imports/epoch", content=text.getvalue(), headers=AUTH, timeout=600
            )
            assert response.status_code == 200, response.text
        listed = httpx.get(f"{service.url}/models", params={"limit": 1000}, timeout=60).json()
        known = [m["id"] for m in listed["models"]]
        assert len(known) >= 13
        tally = Tally()
        samples: list[tuple[float, int]] = []
        started = time.monotonic()
        deadline = started + SECONDS
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.25):
                samples.append((time.monotonic() - started, service.rss_bytes()))

        sampler = threading.Thread(target=sample)
        sampler.start()
        clients = [Client(service.url, n, known, tally) for n in range(CLIENTS)]
        threads = [threading.Thread(target=c.run, args=(deadline,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 120)
        stop.set()
        sampler.join()
        elapsed = time.monotonic() - started
        service.wait_ready()  # still serving

    total = sum(tally.requests.values())
    fifth = SECONDS / 5
    warm = [rss for at, rss in samples if fifth <= at < 2 * fifth]  # the first fifth is warm-up
    last = [rss for at, rss in samples if at >= SECONDS - fifth]
    first_mib, last_mib = statistics.median(warm) / 2**20, statistics.median(last) / 2**20
    print(
        f"\n{CLIENTS} clients, {SECONDS:g} s, {WORKERS} worker(s): {total} requests "
        f"({total / elapsed:.0f}/s), by kind {dict(tally.requests)}; designed 503s {dict(tally.busy)}; "
        f"errors {len(tally.errors)}; latency p50 {_percentile(tally.latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {_percentile(tally.latencies, 0.95) * 1000:.0f} ms, p99 {_percentile(tally.latencies, 0.99) * 1000:.0f} ms; "
        f"RSS median {first_mib:.0f} MiB after warm-up, {last_mib:.0f} MiB in the last fifth "
        f"(max {max(rss for _, rss in samples) / 2**20:.0f} MiB; by fifth {_fifths(samples, SECONDS)} MiB)"
    )
    assert not tally.errors, f"{len(tally.errors)} errors, the first: {tally.errors[:5]}"
    assert total > CLIENTS * 5, f"only {total} requests in {SECONDS} s"
    assert sum(tally.requests[k] for k in ("post", "put", "delete")) > 0
    assert statistics.median(last) <= statistics.median(warm) * MEMORY_GROWTH + MEMORY_SLACK, (
        f"memory grew from {first_mib:.0f} MiB to {last_mib:.0f} MiB"
    )
