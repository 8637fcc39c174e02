"""Writes to the embedded store as N-Quads: loaded in one transaction when nothing is replaced,
one SPARQL Update when something is; the result is the same either way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

from lmkg.config import Settings
from lmkg.errors import ConflictError, NotFoundError
from lmkg.store import GraphWrite, OxigraphStore
from lmkg.store import oxigraph as embedded
from lmkg.store.base import Store
from lmkg.store.prepared import prepare_write
from lmkg.store.server import ServedStore
from lmkg.vocab import GRAPH_INFERRED, LMKG, model_graph, model_iri


@pytest.fixture(params=["in-process", "served"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store = (
        OxigraphStore(tmp_path / "store")
        if request.param == "in-process"
        else ServedStore(replace(Settings(), store=str(tmp_path / "store")))
    )
    yield opened
    opened.close()


def entry(model_id: str, label: str, *, trait: URIRef | None = None) -> Graph:
    graph = Graph()
    subject = model_iri(model_id)
    graph.add((subject, RDF.type, LMKG.SmallLanguageModel))
    graph.add((subject, RDFS.label, Literal(label)))
    graph.add((subject, LMKG.parameterCount, Literal(7_000_000_000)))
    graph.add(
        (
            subject,
            RDFS.comment,
            Literal('quotes " and \\ backslashes,\nnew lines, tabs\t, émoji 🚀', lang="en"),
        )
    )
    if trait is not None:
        value = BNode()
        graph.add((subject, LMKG.hasPortability, value))
        graph.add((value, RDF.type, trait))
    return graph


def change(*model_ids: str, label: str = "first", trait: URIRef | None = None) -> GraphWrite:
    write = GraphWrite()
    for model_id in model_ids:
        write.replace[model_graph(model_id)] = entry(model_id, label, trait=trait)
        write.inferred_subjects.add(model_iri(model_id))
        write.inferred.add((model_iri(model_id), RDF.type, LMKG.PortableModel))
    return write


def test_new_entries_are_stored_whole(store: Store) -> None:
    store.write(change("a", "b", trait=LMKG.HighPortability))
    assert isomorphic(store.graph(model_graph("a")), entry("a", "first", trait=LMKG.HighPortability))
    inferred = store.graph(GRAPH_INFERRED)
    assert set(inferred.subjects(RDF.type, LMKG.PortableModel)) == {model_iri("a"), model_iri("b")}


def test_a_replaced_entry_keeps_nothing_of_its_old_version(store: Store) -> None:
    store.write(change("a", "b", trait=LMKG.HighPortability))
    replacing = change("a", "c", label="second")  # one entry replaced, one new, in one write
    replacing.inferred = Graph()
    replacing.inferred.add((model_iri("a"), RDF.type, LMKG.CheapToFineTuneModel))
    store.write(replacing)
    assert isomorphic(store.graph(model_graph("a")), entry("a", "second"))
    assert isomorphic(store.graph(model_graph("b")), entry("b", "first", trait=LMKG.HighPortability))
    assert isomorphic(store.graph(model_graph("c")), entry("c", "second"))
    inferred = store.graph(GRAPH_INFERRED)
    assert set(inferred.predicate_objects(model_iri("a"))) == {(RDF.type, LMKG.CheapToFineTuneModel)}
    assert set(inferred.predicate_objects(model_iri("c"))) == set()
    assert set(inferred.predicate_objects(model_iri("b"))) == {(RDF.type, LMKG.PortableModel)}


def test_an_empty_graph_removes_an_entry(store: Store) -> None:
    store.write(change("a"))
    store.write(GraphWrite(replace={model_graph("a"): Graph()}, inferred_subjects={model_iri("a")}))
    assert model_graph("a") not in store.graph_names()
    assert len(store.graph(GRAPH_INFERRED)) == 0


def test_blank_nodes_of_two_writes_stay_two_nodes(store: Store) -> None:
    """rdflib may give blank nodes of two documents one label; the store must not merge them."""
    shared = BNode("b0")
    for model_id, trait in (("a", LMKG.HighPortability), ("b", LMKG.LowPortability)):
        graph = Graph()
        graph.add((model_iri(model_id), LMKG.hasPortability, shared))
        graph.add((shared, RDF.type, trait))
        store.write(GraphWrite(replace={model_graph(model_id): graph}))
    for model_id, trait in (("a", LMKG.HighPortability), ("b", LMKG.LowPortability)):
        stored = store.graph(model_graph(model_id))
        values = list(stored.objects(model_iri(model_id), LMKG.hasPortability))
        assert len(values) == 1
        assert set(stored.objects(values[0], RDF.type)) == {trait}


def test_conditions_are_checked_with_the_write(store: Store) -> None:
    store.write(change("a"))
    conflicting = change("a", "b", label="second")
    conflicting.require_absent[model_graph("a")] = "a exists"
    with pytest.raises(ConflictError, match="a exists"):
        store.write(conflicting)
    missing = change("b")
    missing.require_present[model_graph("b")] = "b is missing"
    with pytest.raises(NotFoundError, match="b is missing"):
        store.write(missing)
    assert model_graph("b") not in store.graph_names()  # nothing of either write
    assert isomorphic(store.graph(model_graph("a")), entry("a", "first"))


def test_prepared_writes_name_blank_nodes_afresh() -> None:
    node = BNode("x")
    graph = Graph()
    graph.add((model_iri("a"), LMKG.hasPortability, node))
    first = prepare_write(GraphWrite(replace={model_graph("a"): graph})).nquads
    second = prepare_write(GraphWrite(replace={model_graph("a"): graph})).nquads
    assert "_:x " not in first and first != second


def test_a_bulk_batch_of_new_entries_goes_through_the_bulk_loader_and_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GraphWrite.bulk: new entries are loaded by the engine's bulk loader (table files of their
    own, so nothing is left in the memory tables to flush), and are the same entries; a bulk
    write that replaces an entry, or one smaller than BULK_LOAD_BYTES, is a transaction."""
    store = OxigraphStore(tmp_path / "store")
    small = change("s")
    small.bulk = True
    store.write(small)  # a few hundred bytes: below the threshold
    assert store._unflushed > 0
    monkeypatch.setattr(embedded, "BULK_LOAD_BYTES", 0)
    store._store.flush()
    store._unflushed = 0
    bulk = change("a", "b", trait=LMKG.HighPortability)
    bulk.bulk = True
    store.write(bulk)
    assert store._unflushed == 0  # the bulk loader wrote it
    assert isomorphic(store.graph(model_graph("a")), entry("a", "first", trait=LMKG.HighPortability))
    conflicting = change("c", "a", label="second")
    conflicting.bulk = True
    conflicting.require_absent[model_graph("a")] = "a exists"
    with pytest.raises(ConflictError, match="a exists"):
        store.write(conflicting)
    assert model_graph("c") not in store.graph_names()
    replacing = change("a", label="second")
    replacing.bulk = True
    store.write(replacing)  # removes the old version first: a transaction
    assert store._unflushed > 0
    store.close()
    reopened = OxigraphStore(tmp_path / "store")
    try:
        assert isomorphic(reopened.graph(model_graph("a")), entry("a", "second"))
        assert isomorphic(reopened.graph(model_graph("b")), entry("b", "first", trait=LMKG.HighPortability))
        assert isomorphic(reopened.graph(model_graph("s")), entry("s", "first"))
        inferred = reopened.graph(GRAPH_INFERRED)
        assert set(inferred.subjects(RDF.type, LMKG.PortableModel)) == {model_iri(m) for m in "abs"}
    finally:
        reopened.close()
