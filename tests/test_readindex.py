"""The read index (lmkg.readindex) agrees with the store: its answers to GET /models questions
are the SPARQL answers of lmkg.models_query (the reference) after random writes, deletes, a
SPARQL Update and a rebuild, on the embedded store and on an Oxigraph server; and a second
service on the same remote store, with an index of its own, sees the first one's writes.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench import data
from fastapi.testclient import TestClient

from lmkg.api.app import create_app
from lmkg.api.models import model_document
from lmkg.api.queries import run_named
from lmkg.config import Settings
from lmkg.entries import entries_from_json
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.lookup import json_bytes
from lmkg.models_query import SORT_KEYS, ModelFilter, capability_classes, find_models
from lmkg.readindex import IndexFilter, ReadIndex, index_path
from lmkg.store import Store, open_store
from lmkg.vocab import LMKG

SIZE = 80


def _documents(rng: random.Random) -> list[dict[str, Any]]:
    documents = data.entries(SIZE)
    for number, document in enumerate(documents):
        if number % 3 == 0:
            document["description"] = rng.choice(
                [
                    "Runs on a phone.",
                    "A chat model for LAPTOPS",
                    "Tuned for code; Llama-style",
                    "multilingual",
                ]
            )
        if number % 11 == 0:
            document["developer"] = [*document["developer"], "Tiny Lab"]
        if number % 13 == 0:
            del document["parameterCount"]
    return documents


def _filters(kg: KnowledgeGraph, documents: list[dict[str, Any]]) -> list[ModelFilter]:
    capabilities = capability_classes(kg.classifier)
    developers = sorted({d for doc in documents for d in doc.get("developer", [])})
    label = str(documents[5]["label"])
    return [
        ModelFilter(),
        ModelFilter(kind="llm"),
        ModelFilter(kind="slm", open_weights=True),
        ModelFilter(portable="true"),
        ModelFilter(portable="false"),
        ModelFilter(portable="unknown"),
        ModelFilter(portable="true", cheap_to_fine_tune="true"),
        ModelFilter(cheap_to_fine_tune="false", kind="slm"),
        ModelFilter(fast="true", kind="llm"),
        ModelFilter(developer=developers[0].upper()),
        ModelFilter(developer="tiny-lab"),
        ModelFilter(developer="Tiny Lab", portable="true"),
        ModelFilter(capability=capabilities["FitsLaptopAt4Bit"]),
        ModelFilter(capability=LMKG.ModelOverSizeThreshold),
        ModelFilter(min_parameters=1_000_000_000),
        ModelFilter(max_parameters=3_000_000_000, open_weights=False),
        ModelFilter(min_parameters=500_000_000, max_parameters=20_000_000_000, kind="slm"),
        ModelFilter(search=label[3:10]),
        ModelFilter(search="PHONE"),
        ModelFilter(search="llama-s"),
        ModelFilter(search="#1"),
        ModelFilter(search="no such words"),
        ModelFilter(search="a", kind="llm"),
    ]


def assert_agrees(kg: KnowledgeGraph, index: ReadIndex, filters: list[ModelFilter]) -> None:
    """Every filter, sort, direction and page gives the same total and models both ways."""
    matched = 0
    for model_filter in filters:
        for sort in SORT_KEYS:
            for descending in (False, True):
                pages = ((7, 0), (9, 4), (1000, 0)) if sort == "label" and not descending else ((9, 4),)
                for limit, offset in pages:
                    expected = find_models(
                        kg.store, model_filter, sort=sort, descending=descending, limit=limit, offset=offset
                    )
                    found = index.find(
                        IndexFilter.of(model_filter),
                        sort=sort,
                        descending=descending,
                        limit=limit,
                        offset=offset,
                    )
                    where = f"{model_filter} sort={sort} desc={descending} limit={limit} offset={offset}"
                    assert found.total == expected.total, where
                    assert [m.as_json() for m in found.models] == [m.as_json() for m in expected.models], (
                        where
                    )
                    matched += bool(expected.models)
    assert matched >= len(filters) * 3  # most questions have answers: agreement on nothing proves nothing


def assert_documents_agree(kg: KnowledgeGraph, index: ReadIndex) -> None:
    """Each entry's look-up document in the index is, byte for byte, the one read from the
    store (lmkg.lookup.entry_inferred_claims); an id with no entry has none."""
    ids = [m.id for m in index.find(IndexFilter(), limit=1000).models]
    assert len(ids) == kg.count_models()
    claims = 0
    for model_id in ids:
        expected = model_document(kg, model_id)
        assert index.document(model_id) == json_bytes(expected), model_id
        claims += bool(expected["sourceClaims"])
    assert claims  # the seeded examples' claims are among them
    assert index.document("no-such-model") is None


_HISTORY = ("label_rank", "release_rank", "iri_rank", "version")
"""The model table's last columns: sort ranks (a rank between two neighbours) and versions
(one a write) depend on the order of writes; the order the ranks give is what assert_agrees
checks."""


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The index's content with its row ids replaced by IRIs: what must not depend on history."""
    with sqlite3.connect(path) as db:
        iri = dict(db.execute("SELECT rowid, iri FROM model"))
        content = {
            # Sort ranks and versions depend on history (a rank between two neighbours, a
            # version per write); the order the ranks give is checked by assert_agrees.
            "model": sorted(r[1 : -len(_HISTORY)] for r in db.execute("SELECT * FROM model")),
            "developer": sorted((iri[m], o, n) for m, o, n in db.execute("SELECT * FROM developer")),
            "model_class": sorted((iri[m], c, i) for m, c, i in db.execute("SELECT * FROM model_class")),
            "lineage": sorted((iri[m], r, t) for m, r, t in db.execute("SELECT * FROM lineage")),
            "org_label": sorted(db.execute("SELECT * FROM org_label")),
            "text": sorted(
                (iri[r], label, d) for r, label, d in db.execute("SELECT rowid, * FROM model_text")
            ),
            "descriptions": sorted(
                (iri[r], d) for r, d in db.execute("SELECT rowid, description FROM description_text")
            ),
            "document": sorted((iri[m], zlib.decompress(b)) for m, b in db.execute("SELECT * FROM document")),
        }
    return content


def _mutate(kg: KnowledgeGraph, documents: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Random replaces and deletes, one at a time and in batches; returns the entries still there."""
    alive = {d["id"]: d for d in documents}
    for step in range(12):
        chosen = rng.sample(sorted(alive), 3)
        if step % 3 == 0:
            for model_id in chosen[:2]:
                kg.delete(model_id)
                del alive[model_id]
            continue
        changed = []
        for model_id in chosen:
            document = dict(alive[model_id])
            document["label"] = f"{document['label']} v{step}"
            document["parameterCount"] = rng.choice([300_000_000, 2_000_000_000, 40_000_000_000])
            document["kind"] = "llm" if document["parameterCount"] > 10_000_000_000 else "slm"
            document["developer"] = [rng.choice(["Tiny Lab", "Meta AI", "Borealis"])]
            document["description"] = rng.choice(["fits on a phone", "needs a cluster"])
            alive[model_id] = document
            changed.append(document)
        if step % 3 == 1:
            outcome = kg.write(entries_from_json(changed), mode=WriteMode.UPSERT)
        else:
            outcomes = list(
                kg.write_batches(
                    [entries_from_json(changed[:1]), entries_from_json(changed[1:])], mode=WriteMode.UPSERT
                )
            )
            outcome = outcomes[-1]
        assert outcome.committed and not outcome.rejected
    return list(alive.values())


@pytest.fixture
def seeded(kg: KnowledgeGraph) -> Iterator[tuple[KnowledgeGraph, list[dict[str, Any]], random.Random]]:
    rng = random.Random(14)
    documents = _documents(rng)
    outcomes = list(
        kg.write_batches(
            (entries_from_json(documents[start : start + 25]) for start in range(0, SIZE, 25)),
            mode=WriteMode.UPSERT,
        )
    )
    assert all(o.committed and not o.rejected for o in outcomes)
    yield kg, documents, rng


def test_index_agrees_with_the_store_after_writes_deletes_and_a_rebuild(
    seeded: tuple[KnowledgeGraph, list[dict[str, Any]], random.Random],
) -> None:
    kg, documents, rng = seeded
    filters = _filters(kg, documents)
    assert_agrees(kg, kg.read_index, filters)
    assert_documents_agree(kg, kg.read_index)
    alive = _mutate(kg, documents, rng)
    index = kg.read_index
    assert index.model_count() == kg.count_models()
    assert_agrees(kg, index, filters)
    assert_documents_agree(kg, index)
    written = _rows(index.path)
    assert kg.reindex() == kg.count_models()
    assert _rows(index.path) == written  # the write path and a rebuild give the same rows
    assert_agrees(kg, kg.read_index, filters)
    assert_documents_agree(kg, kg.read_index)
    assert {d["id"] for d in alive} <= {m.id for m in kg.read_index.find(IndexFilter(), limit=1000).models}


def test_a_sparql_update_is_in_the_next_read(
    seeded: tuple[KnowledgeGraph, list[dict[str, Any]], random.Random],
    settings: Settings,
    store: Store,
    auth: dict[str, str],
) -> None:
    kg, documents, _ = seeded
    target = documents[7]["id"]
    with TestClient(create_app(settings, store=store)) as client:
        before = client.get("/models", params={"search": "renamed by sparql"}).json()
        assert before["total"] == 0
        done = client.post(
            "/sparql",
            content=(
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                f"DELETE {{ GRAPH ?g {{ <https://w3id.org/lmkg/model/{target}> rdfs:label ?l }} }}\n"
                f'INSERT {{ GRAPH ?g {{ <https://w3id.org/lmkg/model/{target}> rdfs:label "Renamed by SPARQL" }} }}\n'
                f"WHERE {{ GRAPH ?g {{ <https://w3id.org/lmkg/model/{target}> rdfs:label ?l }} }}"
            ),
            headers={"Content-Type": "application/sparql-update", **auth},
        )
        assert done.status_code == 204, done.text
        after = client.get("/models", params={"search": "renamed by sparql"}).json()
        assert [m["id"] for m in after["models"]] == [target]
    assert_agrees(kg, kg.read_index, _filters(kg, documents)[:6])


def test_a_look_up_is_the_indexs_document_and_a_write_is_in_the_next_one(
    seeded: tuple[KnowledgeGraph, list[dict[str, Any]], random.Random], settings: Settings, store: Store
) -> None:
    kg, documents, _ = seeded
    model_id = str(documents[7]["id"])
    with TestClient(create_app(settings, store=store)) as client:
        answer = client.get(f"/models/{model_id}", headers={"Cache-Control": "no-cache"})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.content == kg.read_index.document(model_id) == json_bytes(model_document(kg, model_id))
        # The route reads the index's copy, not the store: a copy changed in the file is what it sends.
        with sqlite3.connect(kg.read_index.path) as db:
            db.execute(
                "UPDATE document SET body = ? WHERE model = (SELECT rowid FROM model WHERE id = ?)",
                (zlib.compress(b'{"marked":true}'), model_id),
            )
        marked = client.get(f"/models/{model_id}", headers={"Cache-Control": "no-cache"})
        assert marked.json() == {"marked": True}
        changed = {**documents[7], "label": "Renamed Through PUT", "parameterCount": 90_000_000_000}
        changed["kind"] = "llm"
        put = client.put(f"/models/{model_id}", json=changed, headers={"Authorization": f"Bearer {settings.token}"})
        assert put.status_code == 200, put.text
        after = client.get(f"/models/{model_id}", headers={"Cache-Control": "no-cache"}).json()
        assert after["label"] == "Renamed Through PUT"
        assert after["inferred"]["sizeClass"] == "over-threshold"
        assert after == put.json()
        assert client.delete(
            f"/models/{model_id}", headers={"Authorization": f"Bearer {settings.token}"}
        ).status_code in (200, 204)
        assert client.get(f"/models/{model_id}").status_code == 404
        assert kg.read_index.document(model_id) is None


def test_facet_counts_from_the_columns_are_sqlites_after_writes(
    seeded: tuple[KnowledgeGraph, list[dict[str, Any]], random.Random],
) -> None:
    """The columns count facets their own way (lmkg.readcolumns); SQLite's GROUP BY over the
    same rows (find_in_sqlite) is the reference, for every filter, before and after writes."""
    kg, documents, rng = seeded
    filters = [IndexFilter.of(f) for f in _filters(kg, documents)]
    for _ in range(2):
        index = kg.read_index
        counted = 0
        for index_filter in filters:
            found = index.find(index_filter, limit=1, facets=True)
            assert found.facets == index.find_in_sqlite(index_filter, limit=1, facets=True).facets, index_filter
            counted += found.total > 0
        assert counted > len(filters) // 2
        _mutate(kg, documents, rng)


def test_models_route_answers_from_the_index_with_facets_and_unknown(
    seeded: tuple[KnowledgeGraph, list[dict[str, Any]], random.Random], settings: Settings, store: Store
) -> None:
    kg, _, _ = seeded
    with TestClient(create_app(settings, store=store)) as client:
        answer = client.get("/models", params={"facets": "true", "limit": 3, "kind": "slm"})
        assert answer.status_code == 200
        body = answer.json()
        facets = body["facets"]
        assert sum(facets["kind"].values()) == body["total"] == int(answer.headers["X-Total-Count"])
        assert set(facets["kind"]) == {"slm"}
        assert sum(facets["portable"].values()) == body["total"]
        assert sum(facets["year"].values()) == body["total"]
        portable = client.get("/models", params={"portable": "true", "kind": "slm", "limit": 1}).json()[
            "total"
        ]
        assert facets["portable"].get("true", 0) == portable
        unknown = client.get("/models", params={"fast": "unknown", "limit": 1})
        assert unknown.status_code == 200
        assert client.get("/models", params={"portable": "perhaps"}).status_code == 422
        ranked = client.get("/models", params={"search": "phone"}).json()["models"]
        assert ranked and all(
            "phone" in (m["label"] + kg.entry_graph(m["id"]).serialize()).lower() for m in ranked
        )


def test_index_file_beside_the_embedded_store_or_where_settings_say(tmp_path: Path) -> None:
    assert index_path(Settings(store=str(tmp_path / "s"))) == tmp_path / "s.readindex.sqlite"
    assert (
        index_path(Settings(store=str(tmp_path / "s"), read_index=str(tmp_path / "i.db")))
        == tmp_path / "i.db"
    )
    served = Settings(store="http://127.0.0.1:41234/query", served_store=str(tmp_path / "s"))
    assert index_path(served) == tmp_path / "s.readindex.sqlite"  # lmkg serve: beside the directory
    remote = index_path(Settings(store="http://example.org/sparql"))
    assert remote.name.startswith("readindex-") and remote != index_path(
        Settings(store="http://example.org/q")
    )


@pytest.mark.parametrize("store_kind", ["remote"], indirect=True)
def test_two_services_on_one_oxigraph_server_see_each_others_writes(
    seeded: tuple[KnowledgeGraph, list[dict[str, Any]], random.Random], settings: Settings, tmp_path: Path
) -> None:
    kg, documents, rng = seeded
    other_settings = replace(settings, read_index=str(tmp_path / "other-service.sqlite"))
    other_store = open_store(other_settings)
    try:
        other = KnowledgeGraph(other_store, other_settings)
        filters = _filters(kg, documents)[:8]
        assert_agrees(other, other.read_index, filters)
        _mutate(kg, documents, rng)  # written by the first service only
        assert_agrees(other, other.read_index, filters)
        gone = documents[1]["id"]
        if kg.exists(gone):
            other.delete(gone)  # and the other way round
            assert gone not in {m.id for m in kg.read_index.find(IndexFilter(), limit=1000).models}
        assert_agrees(kg, kg.read_index, filters)
    finally:
        other_store.close()


def test_sort_ranks_make_room_when_crowded(kg: KnowledgeGraph) -> None:
    """Labels that each fall between the last one written and the next label use up the room
    between two sort ranks (32 halvings); the index moves the ranks near them and still orders as
    the store."""
    template = data.entries(1)[0]
    labels = ["Aa", "B"] + ["Aa" + "z" * i for i in range(1, 40)]
    for number, label in enumerate(labels):
        document = dict(template, id=f"crowded-{number:02d}", label=label)
        outcome = kg.write(entries_from_json([document]), mode=WriteMode.UPSERT)  # one rank a write
        assert outcome.committed and not outcome.rejected
    index = kg.read_index
    assert_agrees(
        kg, index, [ModelFilter(), ModelFilter(kind=str(template["kind"])), ModelFilter(min_parameters=1)]
    )
    with sqlite3.connect(index.path) as db:
        versions = db.execute("SELECT count(DISTINCT version) FROM model WHERE id LIKE 'crowded-%'").fetchone()[0]
    assert versions < len(labels)  # written apart, and some stamped again when their ranks moved


def test_keys_written_in_order_restamp_their_neighbours_not_every_row(kg: KnowledgeGraph) -> None:
    """Ids and labels that arrive in order (a counter in them) each take half of the room left
    after the one before: past 32 of them the ranks must move. Only the keys near them move
    (their rows stamped, so the columns reload those alone), not every row of the index (2 s
    at 100,000 entries, with every read waiting); the ranks still order as the keys do."""
    kg.write(entries_from_json(data.entries(300)), mode=WriteMode.UPSERT)
    template = data.entries(1)[0]
    index = kg.read_index
    with sqlite3.connect(index.path) as db:
        everything = db.execute("SELECT count(*) FROM model").fetchone()[0]
    most = 0
    for number in range(45):
        document = dict(template, id=f"in-order-{number:03d}", label=f"In order {number:03d}")
        outcome = kg.write(entries_from_json([document]), mode=WriteMode.UPSERT)
        assert outcome.committed and not outcome.rejected
        with sqlite3.connect(index.path) as db:
            latest = db.execute("SELECT max(version) FROM model").fetchone()[0]
            most = max(most, db.execute("SELECT count(*) FROM model WHERE version = ?", (latest,)).fetchone()[0])
    assert everything > 300 and most <= 64, f"one write stamped {most} rows; the index held {everything} before these writes"
    with sqlite3.connect(index.path) as db:
        for rank, key, rows in (
            ("label_rank", "label_key", "label_missing = 0"),
            ("release_rank", "release_date", "release_missing = 0"),
            ("iri_rank", "iri", "1 = 1"),
        ):
            keys = [r[0] for r in db.execute(f"SELECT {key} FROM model WHERE {rows} ORDER BY {rank}, {key}")]
            assert keys == sorted(keys), rank
            ranks = dict(db.execute(f"SELECT {key}, count(DISTINCT {rank}) FROM model WHERE {rows} GROUP BY {key}"))
            assert set(ranks.values()) == {1}, f"{rank}: one key, several ranks"
    assert_agrees(kg, index, [ModelFilter(), ModelFilter(kind=str(template["kind"]))])


def _unordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with each GROUP_CONCAT's names sorted: SPARQL leaves their order to the engine, which
    joins them in another order when the query is restricted to a few models."""
    return [{**r, "developer": sorted(r["developer"].split(", "))} if "developer" in r else r for r in rows]


def test_named_queries_from_the_index_give_the_engines_rows(
    seeded: tuple[KnowledgeGraph, list[dict[str, Any]], random.Random], settings: Settings, store: Store
) -> None:
    """The headline and per-year queries, answered with the read index page by page, give the
    rows and total of the whole query run by the engine, before and after writes."""
    kg, documents, rng = seeded

    def compare(name: str, params: dict[str, str]) -> int:
        expected = run_named(kg, kg.queries.get(name), params)  # no limit: the engine, every row
        rows: list[dict[str, Any]] = []
        with TestClient(create_app(settings, store=store)) as client:
            for offset in range(0, len(expected["rows"]) + 3, 3):
                answer = client.get(f"/queries/{name}", params={**params, "limit": 3, "offset": offset})
                assert answer.status_code == 200, answer.text
                body = answer.json()
                assert body["total"] == expected["total"] == int(answer.headers["X-Total-Count"])
                assert body["columns"] == expected["columns"]
                rows += body["rows"]
        assert _unordered(rows) == _unordered(expected["rows"]), name
        return len(rows)

    for _ in range(2):
        assert compare("portable-and-cheap-to-fine-tune", {}) > 3
        compare("portable-and-cheap-to-fine-tune", {"maxParameters": "1500000000"})
        assert compare("small-language-models-per-year", {}) > 1
        _mutate(kg, documents, rng)


def test_columns_a_reader_took_are_never_changed_by_a_later_catch_up(kg: KnowledgeGraph) -> None:
    """Readers answer from the columns they took under the lock, after letting it go (32
    readers queued behind one lock for whole answers); a catch-up after a write publishes new
    columns and leaves the ones taken before as they were."""
    index = kg.read_index
    before = index.find(IndexFilter(), limit=5).total
    taken = index._columns
    version, alive = taken.version, taken.alive.copy()
    document = dict(data.entries(1)[0], id="after-the-reader-took-its-columns")
    assert kg.write(entries_from_json([document]), mode=WriteMode.UPSERT).committed
    assert index.find(IndexFilter(), limit=5).total == before + 1
    assert index._columns is not taken and index._columns.version > version
    assert taken.version == version and np.array_equal(taken.alive, alive)


def test_a_search_begun_before_another_readers_catch_up_reads_again(
    kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search reads FTS5 before it takes the columns' lock (other readers go on meanwhile).
    When another request writes and reads in that moment, the columns move past the search's
    snapshot; the search then reads again in a newer one, and the columns never go back to an
    older version (which after a rebuild would reload them whole, request after request)."""
    from lmkg import readindex

    index = kg.read_index
    index.find(IndexFilter(), limit=1)  # the columns loaded
    document = dict(data.entries(1)[0], id="moved-past", label="Zqmovedpast 7B")
    real = readindex._searched
    interleaved: list[int] = []

    def search_then_another_request(db: sqlite3.Connection, filters: IndexFilter) -> Any:
        hits = real(db, filters)
        if not interleaved:
            interleaved.append(1)

            def another_request() -> None:  # a thread of its own: a connection of its own
                assert kg.write(entries_from_json([document]), mode=WriteMode.UPSERT).committed
                kg.read_index.find(IndexFilter(), limit=1)

            thread = threading.Thread(target=another_request)
            thread.start()
            thread.join()
        return hits

    monkeypatch.setattr(readindex, "_searched", search_then_another_request)
    page = index.find(IndexFilter(search="zqmovedpast"), limit=10)
    assert interleaved
    assert [m.id for m in page.models] == ["moved-past"]  # found in the newer snapshot
    with sqlite3.connect(index.path) as db:
        newest = int(db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
    assert index._columns.version == newest


def test_a_read_during_a_write_in_progress_does_not_wait_for_another_sync(kg: KnowledgeGraph) -> None:
    """The store's change count is odd while a write holds the store's lock: that write is not
    acknowledged, so a read needs every write completed before it (the count before the lock
    was taken), which the index already holds, and answers without waiting for a sync under
    way in another thread. Once the write completes, the next read takes it in."""
    from lmkg.store.oxigraph import OxigraphStore

    if not isinstance(kg.store, OxigraphStore):
        pytest.skip("a remote store gives no change count: each read asks the change log's head")
    index = kg.read_index  # synced at the count now
    before = index.find(IndexFilter(), limit=1).total
    document = dict(data.entries(1)[0], id="in-progress", label="In progress 7B")
    answered: list[int] = []
    with kg.store._write_lock:  # a write in progress: the count is odd
        assert kg.store.generation() is None
        with index._sync_lock:  # and another thread bringing the index up to date
            reader = threading.Thread(target=lambda: answered.append(kg.read_index.find(IndexFilter()).total))
            reader.start()
            reader.join(timeout=30)
            assert answered == [before]  # answered, without waiting for either
    assert kg.write(entries_from_json([document]), mode=WriteMode.UPSERT).committed
    assert kg.read_index.find(IndexFilter(), limit=1).total == before + 1


def _hold_catch_ups(kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Make the index's catch-ups wait: the first event is set when one begins, and the
    second lets them go on. On the embedded store only (the reads below rely on its change count)."""
    from lmkg.store.oxigraph import OxigraphStore

    if not isinstance(kg.store, OxigraphStore):
        pytest.skip("a remote store gives no change count: each read asks the change log's head")
    index = kg.read_index
    catching_up, release = threading.Event(), threading.Event()
    catch_up = index._catch_up

    def held(*args: Any, **kwargs: Any) -> None:
        catching_up.set()
        release.wait(60)
        catch_up(*args, **kwargs)

    monkeypatch.setattr(index, "_catch_up", held)
    return catching_up, release


def test_a_read_does_not_wait_for_the_catch_up_of_a_write_not_yet_acknowledged(
    kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write committed to the store waits for the index to take it in before it is
    acknowledged; a read that comes meanwhile is concurrent with it and answers from the index
    as it stands, instead of queueing behind that catch-up. The next read after the
    acknowledgement has the write."""
    index = kg.read_index
    before = index.find(IndexFilter(), limit=1).total
    catching_up, release = _hold_catch_ups(kg, monkeypatch)
    document = dict(data.entries(1)[0], id="not-yet-acknowledged", label="Not yet acknowledged 7B")
    outcomes: list[Any] = []
    writer = threading.Thread(
        target=lambda: outcomes.append(kg.write(entries_from_json([document]), mode=WriteMode.UPSERT))
    )
    second = dict(data.entries(2)[1], id="written-meanwhile", label="Written meanwhile 3B")
    late = threading.Thread(
        target=lambda: outcomes.append(kg.write(entries_from_json([second]), mode=WriteMode.UPSERT))
    )
    writer.start()
    try:
        assert catching_up.wait(60)  # committed to the store, being taken in, not acknowledged
        answered: list[int] = []
        reader = threading.Thread(target=lambda: answered.append(kg.read_index.find(IndexFilter(), limit=1).total))
        reader.start()
        reader.join(timeout=10)
        assert answered == [before]  # at once, without the write
        # Another write meanwhile is not acknowledged before the index has it: it waits for the
        # catch-up under way, then takes itself in (had it gone on as a read does, a read after
        # its acknowledgement could miss it).
        late.start()
        late.join(timeout=3)
        assert late.is_alive() and len(outcomes) == 0
    finally:
        release.set()
        writer.join(timeout=60)
        if late.ident is not None:
            late.join(timeout=60)
    assert len(outcomes) == 2 and all(o.committed for o in outcomes)
    assert kg.read_index.find(IndexFilter(), limit=1).total == before + 2


def test_a_read_after_a_bulk_import_waits_for_the_catch_up_under_way(
    kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk import's batches are acknowledged before the index takes them in: a read after
    them syncs even while another write's catch-up is under way, and so has them."""
    before = kg.read_index.find(IndexFilter(), limit=1).total
    catching_up, release = _hold_catch_ups(kg, monkeypatch)  # a bulk import does not catch up
    imported = [dict(d, id=f"bulk-{n}", label=f"Bulk {n} 1B") for n, d in enumerate(data.entries(3))]
    assert all(o.committed for o in kg.write_batches([entries_from_json(imported)], mode=WriteMode.UPSERT))
    assert not catching_up.is_set()
    document = dict(data.entries(1)[0], id="after-the-import", label="After the import 7B")
    writer = threading.Thread(target=lambda: kg.write(entries_from_json([document]), mode=WriteMode.UPSERT))
    answered: list[int] = []
    reader = threading.Thread(target=lambda: answered.append(kg.read_index.find(IndexFilter(), limit=1).total))
    writer.start()
    try:
        assert catching_up.wait(60)
        reader.start()
        reader.join(timeout=3)
        assert reader.is_alive()  # it waits: the import was acknowledged, the index lacks it
    finally:
        release.set()
        writer.join(timeout=60)
        if reader.ident is not None:
            reader.join(timeout=60)
    assert answered and answered[0] >= before + 3


def test_kept_sort_orders_moved_by_each_catch_up_are_the_orders_made_afresh(kg: KnowledgeGraph) -> None:
    """A page is read from a kept order of every live row (lmkg.readcolumns.Columns.ordered);
    a catch-up moves each kept order along (rows written taken out and put back where their new
    keys say, new rows put in, deleted ones gone) instead of sorting again. After each of these
    writes, every moved order is the one a full sort makes, and pages read from it agree with
    the store."""
    kg.write(entries_from_json(data.entries(120)), mode=WriteMode.UPSERT)
    index = kg.read_index
    keys = [(sort, descending) for sort in ("label", "parameterCount", "releaseDate", "id") for descending in (False, True)]
    rng = random.Random(3)
    alive = {str(d["id"]): d for d in data.entries(120)}
    for step in range(6):
        for sort, descending in keys:
            index.find(IndexFilter(), sort=sort, descending=descending, limit=3)
        changed = []
        for model_id in rng.sample(sorted(alive), 4):
            document = dict(alive[model_id], label=f"{rng.choice('AMZ')}{alive[model_id]['label']} {step}")
            document["parameterCount"] = rng.choice([100_000_000, 7_000_000_000, 70_000_000_000])
            document["kind"] = "llm" if document["parameterCount"] > 10_000_000_000 else "slm"
            if step % 2:
                document.pop("releaseDate", None)
            alive[model_id] = document
            changed.append(document)
        new = dict(data.entries(1)[0], id=f"new-in-step-{step}", label=f"{'AMZ'[step % 3]} new {step}")
        alive[str(new["id"])] = new
        assert kg.write(entries_from_json([*changed, new]), mode=WriteMode.UPSERT).committed
        gone = rng.choice(sorted(alive))
        kg.delete(gone)
        del alive[gone]
        index.find(IndexFilter(), limit=3)  # catches up, moving every kept order
        columns = index._columns
        assert set(columns.orders) == set(keys), "the kept orders were dropped, not moved"
        afresh = columns.copy()
        afresh.orders = {}
        for key in keys:
            assert np.array_equal(columns.orders[key].rows, afresh.ordered(*key)), (step, key)
    listed = {m.id for m in index.find(IndexFilter(), limit=1000).models}
    assert index.model_count() == kg.count_models() and set(alive) <= listed
    assert_agrees(kg, index, [ModelFilter(), ModelFilter(kind="slm"), ModelFilter(min_parameters=1_000_000_000)])


def test_a_search_ranks_label_hits_first_and_shorter_labels_before_longer(
    kg: KnowledgeGraph, settings: Settings, store: Store
) -> None:
    """GET /models?search= ranks as BM25 does for a phrase found once in each field: a hit in
    the label before one in the description alone, a short label before a long one, and a long
    label that also has the phrase in its description before the same label without it; the
    other sorts still apply when asked for. The labels sort the other way round by name, so
    ranking by label order instead of relevance fails; the two long labels are of one length,
    so only the description tells them apart."""
    template = dict(data.entries(1)[0])
    template.pop("tasks", None)
    documents = [
        dict(template, id="only-described", label="Aardvark", description="a kestrel of a model"),
        dict(template, id="long-label", label="Kestrel Large Instruct Model Alfa", parameterCount=9_000_000_000),
        dict(template, id="short-label", label="Tiny Kestrel", parameterCount=1_000_000_000),
        dict(
            template,
            id="long-label-described",
            label="Kestrel Large Instruct Model Zeta",
            description="the kestrel that fits on a phone",
            parameterCount=5_000_000_000,
        ),
    ]
    assert kg.write(entries_from_json(documents), mode=WriteMode.UPSERT).committed
    with TestClient(create_app(settings, store=store)) as client:
        ranked = client.get("/models", params={"search": "KESTREL"}).json()["models"]
        assert [m["id"] for m in ranked] == ["short-label", "long-label-described", "long-label", "only-described"]
        by_name = client.get("/models", params={"search": "kestrel", "sort": "label"}).json()["models"]
        assert [m["id"] for m in by_name] == [m["id"] for m in reversed(ranked)]
        worst_first = client.get("/models", params={"search": "kestrel", "direction": "desc"}).json()["models"]
        assert [m["id"] for m in worst_first] == [m["id"] for m in reversed(ranked)]
        by_size = client.get(
            "/models", params={"search": "kestrel", "sort": "parameterCount", "direction": "desc"}
        ).json()["models"]
        assert [m["id"] for m in by_size] == ["only-described", "long-label", "long-label-described", "short-label"]


def test_a_served_index_copies_its_log_back_in_a_thread_of_its_own_not_in_a_write(
    settings: Settings, store: Store
) -> None:
    """SQLite copies its write-ahead log back into the file in the write that fills it past
    1,000 pages: one POST in ten took 0.6-0.8 s at 100,000 entries. The service leaves that to
    a thread of the index's own; writes through it then leave the log alone, and the log is
    still copied back."""
    with TestClient(create_app(settings, store=store, serving=True)) as client:
        assert client.get("/models", params={"limit": 1}).status_code == 200  # after the warm-up
        kg = client.app.state.kg
        index = kg.read_index
        assert index._checkpointer is not None and index._checkpointer.is_alive()
        before = index.checkpoints
        documents = [dict(d, id=f"logged-{n}", label=f"Logged {n}") for n, d in enumerate(data.entries(5))]
        assert kg.write(entries_from_json(documents), mode=WriteMode.UPSERT).committed
        assert index._db().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        deadline = time.monotonic() + 10
        while index.checkpoints == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert index.checkpoints > before, "nothing copied the log back"
        found = client.get("/models", params={"search": "logged", "limit": 10}).json()
        assert {m["id"] for m in found["models"]} >= {f"logged-{n}" for n in range(5)}
