"""GET /models/{id} keeps its rendered answers only while the store is unchanged, and sends ETags.

The cache (lmkg.api.cache) is keyed by the store's change count: every write, through any
route or any worker, must make a kept answer stale. These tests write by every path a user
has (PUT, DELETE, SPARQL Update) and read back through HTTP.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from lmkg.api import create_app
from lmkg.api.cache import Kept, ResponseCache
from lmkg.config import Settings
from lmkg.readindex import is_change_graph
from lmkg.store import Store
from tests.conftest import ALL_STORE_KINDS, TOKEN

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""

ENTRY = json.loads((Path(__file__).parent.parent / "data" / "valid-entries" / "minimal.json").read_text())
MODEL = ENTRY["id"]


def _cache(client: TestClient) -> ResponseCache:
    cache: ResponseCache = client.app.state.response_cache  # type: ignore[attr-defined]
    return cache


def _described(text: str) -> dict[str, object]:
    return {**ENTRY, "description": text}


def test_a_put_makes_the_kept_answer_stale(client: TestClient, auth: dict[str, str], store_kind: str) -> None:
    assert client.post("/models", json=_described("first"), headers=auth).status_code == 201
    first = client.get(f"/models/{MODEL}")
    again = client.get(f"/models/{MODEL}")
    assert first.json()["description"] == again.json()["description"] == "first"
    if store_kind == "embedded":
        assert _cache(client).hits >= 1, "the second read was not served from the cache"
    else:  # a remote store can be written by others unseen: nothing is kept
        assert len(_cache(client)) == 0
    assert client.put(f"/models/{MODEL}", json=_described("second"), headers=auth).status_code == 200
    assert client.get(f"/models/{MODEL}").json()["description"] == "second"


def test_a_sparql_update_makes_every_kept_answer_stale(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/models", json=_described("before the update"), headers=auth).status_code == 201
    for media in ("application/json", "text/turtle"):
        client.get(f"/models/{MODEL}", headers={"Accept": media})
    update = (
        "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
        "DELETE { GRAPH ?g { ?m dcterms:description ?old } }\n"
        'INSERT { GRAPH ?g { ?m dcterms:description "after the update" } }\n'
        'WHERE { GRAPH ?g { ?m dcterms:description ?old } FILTER(?old = "before the update") }'
    )
    answer = client.post(
        "/sparql", content=update, headers={**auth, "Content-Type": "application/sparql-update"}
    )
    assert answer.status_code in (200, 204), answer.text
    assert client.get(f"/models/{MODEL}").json()["description"] == "after the update"
    turtle = client.get(f"/models/{MODEL}", headers={"Accept": "text/turtle"}).text
    assert "after the update" in turtle and "before the update" not in turtle


def test_a_deleted_model_is_not_served_from_the_cache(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    assert client.get(f"/models/{MODEL}").status_code == 200
    assert client.delete(f"/models/{MODEL}", headers=auth).status_code == 204
    assert client.get(f"/models/{MODEL}").status_code == 404


def test_etag_and_if_none_match(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/models", json=_described("tagged"), headers=auth).status_code == 201
    first = client.get(f"/models/{MODEL}")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    unchanged = client.get(f"/models/{MODEL}", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    weak = client.get(f"/models/{MODEL}", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    turtle = client.get(f"/models/{MODEL}", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert turtle.status_code == 200 and turtle.headers["etag"] != etag  # another representation
    assert client.put(f"/models/{MODEL}", json=_described("retagged"), headers=auth).status_code == 200
    changed = client.get(f"/models/{MODEL}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["description"] == "retagged" and changed.headers["etag"] != etag


def test_lists_named_queries_and_classes_are_fresh_after_a_write(
    client: TestClient, auth: dict[str, str]
) -> None:
    def listed() -> int:
        total: int = client.get("/models", params={"search": "TinyLlama"}).json()["total"]
        return total

    def headline() -> set[str]:
        rows = client.get("/queries/portable-and-cheap-to-fine-tune").json()["rows"]
        return {row["model"] for row in rows}

    def members() -> str:
        return client.get("/classes/SmallLanguageModel").text

    before = (listed(), headline(), members())
    assert before == (listed(), headline(), members())  # the second time from the cache, if kept
    assert before[0] == 0 and MODEL not in before[2]
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    assert listed() == 1
    assert any(m.endswith(f"/{MODEL}") for m in headline() - before[1])
    assert MODEL in members()
    assert client.delete(f"/models/{MODEL}", headers=auth).status_code == 204
    assert (listed(), headline(), members()) == before


@pytest.mark.parametrize("store_kind", ["embedded"])
def test_cors_headers_are_those_of_each_request(settings: Settings, store: Store) -> None:
    """A kept answer must not carry the CORS headers of the request that first got it."""
    cors = replace(settings, cors_origins=("https://a.example", "https://b.example"))
    with TestClient(create_app(cors, store=store)) as client:
        for origin in ("https://a.example", "https://b.example", "https://a.example"):
            answer = client.get("/models/mistral-7b", headers={"Origin": origin})
            assert answer.headers["access-control-allow-origin"] == origin
        assert _cache(client).hits >= 2
        stranger = client.get("/models/mistral-7b", headers={"Origin": "https://c.example"})
        assert "access-control-allow-origin" not in stranger.headers


@pytest.mark.parametrize("store_kind", ["embedded"])
def test_errors_and_sparql_are_never_kept(client: TestClient) -> None:
    for _ in range(2):
        assert client.get("/models/no-such-model").status_code == 404
        assert (
            client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}).status_code == 200
        )
    assert len(_cache(client)) == 0


@pytest.mark.parametrize("store_kind", ["embedded"])
def test_cache_control_no_cache_renders_afresh(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    kept = client.get(f"/models/{MODEL}")
    cache = _cache(client)
    hits, misses = cache.hits, cache.misses
    fresh = client.get(f"/models/{MODEL}", headers={"Cache-Control": "no-cache"})
    assert fresh.json() == kept.json() and fresh.headers["etag"] == kept.headers["etag"]
    assert (cache.hits, cache.misses) == (hits, misses), "a no-cache request was looked up in the cache"
    client.get(f"/models/{MODEL}")
    assert cache.hits == hits + 1


@pytest.mark.parametrize("store_kind", ["embedded"])
def test_the_cache_is_bounded(client: TestClient, auth: dict[str, str]) -> None:
    cache = _cache(client)
    cache.max_entries = 3
    listed = client.get("/models", params={"limit": 6}).json()["models"]
    for model in listed:
        assert client.get(f"/models/{model['id']}").status_code == 200
    assert len(cache) == 3
    cache.max_entries = 100
    largest = max(len(client.get(f"/models/{m['id']}").content) for m in listed)
    cache.max_bytes = 2 * largest
    for model in listed:
        client.get(f"/models/{model['id']}", headers={"Accept": "text/turtle"})
        client.get(f"/models/{model['id']}")
    assert cache.bytes <= cache.max_bytes and len(cache) <= 4
    assert cache.bytes == sum(len(kept.body) for _, kept in cache._entries.values())


def test_workers_never_serve_what_another_worker_overwrote(tmp_path: Path) -> None:
    """Two workers, each with its own cache, one store server: a write through either is seen by both."""
    from tests.reliability.harness import Service

    auth = {"Authorization": f"Bearer {TOKEN}"}
    with Service(tmp_path / "store", workers=2) as service:
        url = service.url
        assert httpx.post(f"{url}/models", json=_described("version 0"), headers=auth).status_code == 201
        for version in range(1, 6):
            # A fresh connection per request, so both workers answer and both keep the page.
            for _ in range(10):
                seen = httpx.get(f"{url}/models/{MODEL}", timeout=30).json()["description"]
                assert seen == f"version {version - 1}"
            written = httpx.put(f"{url}/models/{MODEL}", json=_described(f"version {version}"), headers=auth)
            assert written.status_code == 200, written.text
        for _ in range(10):
            assert httpx.get(f"{url}/models/{MODEL}", timeout=30).json()["description"] == "version 5"


def test_a_writer_that_died_mid_write_leaves_nothing_kept(tmp_path: Path) -> None:
    """A worker killed between taking the write lock and letting it go leaves the change count
    odd: nothing read then may be kept until the next write completes."""
    import subprocess
    import sys

    from lmkg.store.generation import Generation, SharedWriteLock

    path = str(tmp_path / "changes")
    Generation(path).close()
    script = (
        "import sys, time\n"
        "from lmkg.store.generation import Generation, SharedWriteLock\n"
        "lock = SharedWriteLock(Generation(sys.argv[1], create=False), wait=5)\n"
        "assert lock.acquire()\n"
        "print('holding', flush=True)\n"
        "time.sleep(600)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, path], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
    changes = Generation(path, create=False)
    assert changes.stable() is None  # a write is in progress
    writer.kill()
    writer.wait()
    assert changes.stable() is None  # and it never finished
    lock = SharedWriteLock(changes, wait=5)
    assert lock.acquire()  # the dead writer's lock went with it
    lock.release()
    after = changes.stable()
    assert after is not None and after > 2
    lock.close()
    changes.close()


@pytest.mark.parametrize("store_kind", ["embedded"])
def _change_log_triples(store: Store) -> int:
    return sum(len(store.graph(g)) for g in store.graph_names() if is_change_graph(g))


def test_health_counts_again_after_a_write(client: TestClient, auth: dict[str, str], store: Store) -> None:
    before = client.get("/health").json()
    logged = _change_log_triples(store)
    assert client.get("/health").json() == before
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    after = client.get("/health").json()
    assert after["models"] == before["models"] + 1
    assert after["triples"] > before["triples"]
    assert client.delete(f"/models/{MODEL}", headers=auth).status_code == 204
    again = client.get("/health").json()
    # Back to the same data; the read index's change log (lmkg.readindex) kept its records.
    assert {**again, "triples": None, "countedAt": None} == {**before, "triples": None, "countedAt": None}
    assert again["countedAt"] > before["countedAt"]
    assert again["triples"] - before["triples"] == _change_log_triples(store) - logged > 0


def test_answers_of_an_older_generation_are_let_go_when_a_newer_one_is_kept() -> None:
    cache = ResponseCache(100)

    def kept(body: bytes) -> Kept:
        return Kept(200, (), body, b'"e"')

    cache.put("a", 2, kept(b"x" * 1000))
    cache.put("b", 2, kept(b"y" * 1000))
    assert len(cache) == 2 and cache.bytes == 2000
    cache.put("a", 4, kept(b"z"))  # a write landed: generation 2's answers are never sent again
    assert len(cache) == 1 and cache.bytes == 1 and cache.get("b", 2) is None
    cache.put("b", 2, kept(b"late"))  # computed before that write, kept after it: stale
    assert cache.get("b", 2) is None and cache.get("a", 4) is not None
