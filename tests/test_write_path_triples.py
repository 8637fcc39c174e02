"""The write path without rdflib Graphs: an entry read from JSON stays a set of triples through
validation, classification and the store's write, and is stored exactly as the Graph it
stands for would be; an entry the checks cannot prove valid still gets pySHACL's report."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from bench.data import entries as synthetic_entries
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from lmkg.config import Settings
from lmkg.entries import Entry, EntryError, entry_from_json
from lmkg.graphindex import TripleSet
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.readindex import IndexFilter
from lmkg.store import OxigraphStore
from lmkg.store import oxigraph as embedded
from lmkg.vocab import GRAPH_INFERRED, LMKG, MODEL, ORG, VERDICT, model_graph

DATA = Path(__file__).parent / "data"


def documents() -> list[dict[str, object]]:
    """Entries of every shape the JSON reader writes: synthetic ones (links, several developers,
    undisclosed sizes), statements, observations, datasets, a developer named by its IRI."""
    found: list[dict[str, object]] = list(synthetic_entries(40))
    found.append(json.loads((DATA / "statements" / "mistral-7b-two-sources.json").read_text()))
    found += [json.loads(p.read_text()) for p in sorted((DATA / "valid-entries").glob("*.json"))]
    found.append(
        {
            "id": "observed-7b",
            "label": "Observed 7B",
            "kind": "slm",
            "parameterCount": 7_000_000_000,
            "developer": ["Meta AI", "Meta AI", "Tiny Lab"],  # a repeated developer is one triple
            "sources": ["https://example.org/observed"],
            "trainingDatasets": ["The Pile"],
            "tasks": ["Chat", "Chat"],
            "observations": [
                {"kind": "runs-on", "device": "phone", "precision": "4-bit", "source": "https://example.org/phone"},
                {"kind": "fine-tuned", "device": "consumer-gpu", "method": "QLoRA", "source": "https://example.org/ft"},
            ],
        }
    )
    found.append(
        {
            "id": "named-by-iri",
            "label": "Named by IRI",
            "kind": "slm",
            "parameterCount": 1_000_000_000,
            "developer": str(ORG["tiny-lab"]),  # described by another entry of the batch
            "sources": ["https://example.org/iri"],
        }
    )
    return found


def stored(kg: KnowledgeGraph, ids: list[str]) -> dict[str, set[tuple[object, ...]]]:
    """Each entry's graph (its stamp left out) and its triples in the inferred graph."""
    inferred = kg.store.graph(GRAPH_INFERRED)
    found: dict[str, set[tuple[object, ...]]] = {}
    for model_id in ids:
        graph = kg.store.graph(model_graph(model_id))
        found[model_id] = {t for t in graph if t[1] != PROV.generatedAtTime}
        subjects = {MODEL[model_id]} | {VERDICT[f"{model_id}/{t}"] for t in ("portable", "cheapToFineTune", "fast")}
        found["inferred " + model_id] = {t for t in inferred if t[0] in subjects}
        assert len(list(graph.objects(None, PROV.generatedAtTime))) == 1
    return found


@pytest.mark.parametrize("bulk_loader", [False, True], ids=["transactions", "bulk loader"])
def test_entries_kept_as_triples_are_stored_as_their_graphs_would_be(
    kg: KnowledgeGraph, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk_loader: bool
) -> None:
    if bulk_loader:  # the embedded store's bulk loader takes batches of any size (GraphWrite.bulk)
        monkeypatch.setattr(embedded, "BULK_LOAD_BYTES", 0)
    docs = documents()
    as_triples = [entry_from_json(d) for d in docs]
    assert all(isinstance(e.triples, TripleSet) for e in as_triples)
    as_graphs = [Entry(e.id, entry_from_json(d).graph) for e, d in zip(as_triples, docs, strict=True)]
    half = len(as_triples) // 2
    outcomes = list(
        kg.write_batches([as_triples[:half], as_triples[half:]], mode=WriteMode.UPSERT, bulk_loader=bulk_loader)
    )
    assert all(o.committed and not o.rejected for o in outcomes)
    # The reference: the same entries as rdflib Graphs, written by `write` in one transaction
    # to a store of their own.
    other = KnowledgeGraph(OxigraphStore(), replace(settings, read_index=str(tmp_path / "other.sqlite")))
    other.ensure_seeded()
    outcome = other.write(as_graphs, mode=WriteMode.UPSERT)
    assert outcome.committed and not outcome.rejected
    ids = [e.id for e in as_triples]
    ours, theirs = stored(kg, ids), stored(other, ids)
    assert ours == theirs
    assert (ORG["meta-ai"], RDFS.label, Literal("Meta AI")) in ours["observed-7b"]
    assert (ORG["tiny-lab"], RDFS.label, Literal("Tiny Lab")) in ours["named-by-iri"]
    assert (MODEL["observed-7b"], RDF.type, LMKG.PortableModel) in ours["inferred observed-7b"]


def test_a_rejected_entry_gets_pyshacls_report_and_nothing_is_written(kg: KnowledgeGraph) -> None:
    expected = json.loads((DATA / "invalid-entries" / "expected.json").read_text())
    docs = [json.loads((DATA / "invalid-entries" / name).read_text()) for name in sorted(expected) if name.endswith(".json")]
    good = entry_from_json(documents()[0])
    batch, graphs = [good], {}
    for doc in docs:
        try:
            entry = entry_from_json(doc)
        except EntryError:
            continue  # refused before RDF: not the shapes' concern
        batch.append(entry)
        graphs[id(entry)] = entry_from_json(doc).graph  # several files share an id
    assert len(batch) > 5
    [outcome] = kg.write_batches([batch], mode=WriteMode.UPSERT)
    assert [a.entry.id for a in outcome.written] == [good.id]
    assert len(outcome.rejected) == len(batch) - 1
    shapes_reported = 0
    for assessment in outcome.rejected:
        # The same report as the entry built as a Graph gets.
        reference = kg.assess(Entry(assessment.entry.id, graphs[id(assessment.entry)]))
        assert assessment.report.as_json() == reference.report.as_json()
        assert assessment.report.results
        shapes_reported += assessment.report.report_graph is not None  # pySHACL wrote it
        assert not kg.exists(assessment.entry.id)
    assert shapes_reported >= 5


def test_the_first_read_after_a_bulk_import_sees_every_entry(kg: KnowledgeGraph) -> None:
    before = kg.read_index.find(IndexFilter(), limit=1).total
    batch = [entry_from_json(d) for d in synthetic_entries(30)]
    for outcome in kg.write_batches([batch[:10], batch[10:20], batch[20:]], mode=WriteMode.UPSERT):
        assert outcome.committed
    page = kg.read_index.find(IndexFilter(search=None), limit=100)
    assert page.total == before + 30
    assert {e.id for e in batch} <= {m.id for m in page.models}


def test_an_entry_becomes_a_graph_once_and_then_is_that_graph() -> None:
    entry = entry_from_json(documents()[-2])
    triples = set(entry.triples)
    assert len(triples) == len(entry.triples)  # each triple once
    subject = entry.iri
    entry.set((subject, RDFS.label, Literal("Renamed")))
    assert entry.index[subject][RDFS.label] == [Literal("Renamed")]
    graph = entry.graph
    assert isinstance(graph, Graph) and entry.triples is graph
    assert set(graph) == (triples - {(subject, RDFS.label, Literal("Observed 7B"))}) | {
        (subject, RDFS.label, Literal("Renamed"))
    }
    extra = (subject, LMKG.task, Literal("Added"))
    graph.add(extra)  # a change to the graph is the entry's
    assert LMKG.task in entry.index[subject] and Literal("Added") in entry.index[subject][LMKG.task]
    entry.add((subject, LMKG.task, Literal("Again")))
    assert (subject, LMKG.task, Literal("Again")) in graph
    with pytest.raises(ValueError):
        Entry("x")
    with pytest.raises(ValueError):
        Entry("x", Graph(), triples=TripleSet())
    assert URIRef(str(subject)) == subject
