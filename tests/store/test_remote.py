"""The remote store against a real Oxigraph server: URL layouts, outages, atomic writes."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from lmkg.config import Settings
from lmkg.entries import entry_from_json
from lmkg.errors import StoreUnavailableError
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.store import Store
from lmkg.store.remote import Endpoints
from lmkg.vocab import GRAPH_INFERRED, model_graph, model_iri


@pytest.mark.parametrize(
    ("query", "update", "graphs"),
    [
        ("http://h:7878/query", "http://h:7878/update", "http://h:7878/store"),
        ("http://h:3030/ds/sparql", "http://h:3030/ds/update", "http://h:3030/ds/data"),
        ("https://h:8182/sparql", "https://h:8182/update", "https://h:8182/data"),
        ("http://h:7200/repositories/lmkg", "http://h:7200/repositories/lmkg", None),
    ],
)
def test_endpoint_layouts_are_derived(query: str, update: str, graphs: str | None) -> None:
    endpoints = Endpoints.derive(query)
    assert (endpoints.update, endpoints.graphs) == (update, graphs)


def test_explicit_endpoints_win() -> None:
    endpoints = Endpoints.derive("http://h/q", "http://h/u", "http://h/g")
    assert (endpoints.query, endpoints.update, endpoints.graphs) == ("http://h/q", "http://h/u", "http://h/g")


def entries(count: int, prefix: str = "bulk") -> list:
    return [
        entry_from_json(
            {
                "id": f"{prefix}-{i}",
                "label": f"Bulk model {i}",
                "kind": "slm" if i % 2 else "llm",
                "parameterCount": 1_000_000 * (i + 1),
                "developer": f"Lab {i % 7}",
                "sources": [f"https://example.org/{prefix}/{i}"],
            }
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("store_kind", ["remote"], indirect=True)
def test_store_down_answers_503_then_200(live_server, oxigraph_server) -> None:
    assert httpx.get(f"{live_server.url}/health").status_code == 200
    oxigraph_server.kill()
    try:
        down = httpx.get(f"{live_server.url}/health")
        assert down.status_code == 503
        assert "cannot be reached" in down.json()["detail"]
    finally:
        oxigraph_server.start()
    assert httpx.get(f"{live_server.url}/health").status_code == 200


@pytest.mark.parametrize("store_kind", ["remote"], indirect=True)
def test_write_while_down_fails_whole_and_succeeds_on_retry(kg: KnowledgeGraph, oxigraph_server) -> None:
    batch = entries(20, "retry")
    oxigraph_server.kill()
    try:
        with pytest.raises(StoreUnavailableError):
            kg.write(batch, mode=WriteMode.CREATE)
    finally:
        oxigraph_server.start()
    assert not kg.exists("retry-0")
    assert kg.write(batch, mode=WriteMode.CREATE).committed
    assert all(kg.exists(e.id) for e in batch)


@pytest.mark.parametrize("store_kind", ["remote"], indirect=True)
def test_server_killed_during_a_write_leaves_no_partial_entry(
    kg: KnowledgeGraph, store: Store, settings: Settings, oxigraph_server
) -> None:
    batch = entries(3000, "killed")
    expected = {e.id: len(e.graph) for e in batch}
    outcome: dict[str, object] = {}
    sending = threading.Event()
    original_write = store.write

    def write_and_signal(change):  # instrumentation only: the real write still runs
        sending.set()
        original_write(change)

    store.write = write_and_signal  # type: ignore[method-assign]

    def write() -> None:
        try:
            outcome["result"] = kg.write(batch, mode=WriteMode.UPSERT)
        except StoreUnavailableError as exc:
            outcome["error"] = exc

    writer = threading.Thread(target=write)
    writer.start()
    # Kill the server while the one Update request of the batch is being sent and applied.
    assert sending.wait(timeout=120)
    time.sleep(0.02)
    oxigraph_server.kill()
    writer.join(timeout=120)
    oxigraph_server.start()
    stored = {e.id for e in batch if kg.exists(e.id)}
    # One transaction: all of the batch or none of it, and each stored entry whole.
    assert stored in (set(), set(expected)), f"{len(stored)} of {len(expected)} stored"
    for model_id in list(stored)[:50]:
        graph = store.graph(model_graph(model_id))
        assert len(graph) == expected[model_id] + 1  # + prov:generatedAtTime
        inferred = store.select(
            "SELECT ?c WHERE { GRAPH ?g { ?m a ?c } }",
            bindings={"g": GRAPH_INFERRED, "m": model_iri(model_id)},
        )
        assert inferred
    if "error" in outcome:
        assert stored == set()
