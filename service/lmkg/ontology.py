"""The ontology and the examples: loading them from ontology/, and exporting the ontology."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import OWL, RDF
from rdflib.term import Node

from lmkg.vocab import GRAPH_SOURCE, LMKG, model_graph, model_id_of

ONTOLOGY_FILE = "lmkg.ttl"
EXAMPLES_FILE = "examples.ttl"

EXPORT_FORMATS: dict[str, tuple[str, str, str]] = {
    # name: (rdflib serializer or "owlxml", media type, file suffix)
    "turtle": ("turtle", "text/turtle", ".ttl"),
    "rdfxml": ("xml", "application/rdf+xml", ".owl"),
    "jsonld": ("json-ld", "application/ld+json", ".jsonld"),
    "ntriples": ("nt", "application/n-triples", ".nt"),
    "owlxml": ("owlxml", "application/owl+xml", ".owx"),
}


@lru_cache(maxsize=4)
def _parse(path: Path, mtime: float) -> Graph:
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph


def read_turtle(path: Path) -> Graph:
    """Parse a Turtle file once per modification (callers must not modify the result)."""
    return _parse(path, path.stat().st_mtime)


def ontology_graph(ontology_dir: Path) -> Graph:
    """The TBox: ontology/lmkg.ttl."""
    return read_turtle(ontology_dir / ONTOLOGY_FILE)


def entry_subjects(graph: Graph) -> list[URIRef]:
    """The model entries described in a graph: subjects typed as a language model, by IRI form."""
    subjects = {
        s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef) and model_id_of(str(s)) is not None
    }
    return sorted(subjects)


_FOLLOWED = frozenset({LMKG.developedBy, LMKG.hasStatement, LMKG.hasObservation, LMKG.trainedOn})
"""The links whose targets an entry graph carries: its organisations, statements, observations
and datasets (each described in the entry that names it)."""


def entry_graph_of(graph: Graph, subject: URIRef) -> Graph:
    """One entry's triples out of a larger graph: the subject's own, the blank nodes they
    lead to (a concise bounded description), and the organisations it names."""
    entry = Graph()
    pending: list[Node] = [subject]
    seen: set[Node] = set()
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in graph.predicate_objects(node):
            entry.add((node, p, o))
            if isinstance(o, BNode) or (node == subject and p in _FOLLOWED):
                pending.append(o)
    return entry


def split_examples(ontology_dir: Path) -> dict[URIRef, Graph]:
    """examples.ttl as the named graphs it is stored in: one per model entry, the rest in the source graph."""
    examples = read_turtle(ontology_dir / EXAMPLES_FILE)
    graphs: dict[URIRef, Graph] = {}
    placed: set[tuple[object, object, object]] = set()
    organisations = set(examples.subjects(RDF.type, LMKG.Organisation))
    for subject in entry_subjects(examples):
        model_id = model_id_of(str(subject))
        assert model_id is not None
        entry = entry_graph_of(examples, subject)
        graphs[model_graph(model_id)] = entry
        # The entry's own triples and those of its statements, observations and datasets;
        # organisations are placed below, since non-model things name them too.
        placed.update(t for t in entry if t[0] not in organisations)
    source = Graph()
    for triple in examples:
        if triple in placed:
            continue
        # Organisations travel with the entries that name them; the source
        # graph keeps those the source's non-model things name (Copilot).
        source.add(triple)
    for org in organisations:
        if not any(True for _ in source.subjects(None, org)):
            source.remove((org, None, None))
    graphs[GRAPH_SOURCE] = source
    return graphs


def export_ontology(graph: Graph, fmt: str) -> bytes:
    """Serialise the ontology in one of EXPORT_FORMATS."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    serializer = EXPORT_FORMATS[fmt][0]
    if serializer == "owlxml":
        from lmkg.owlapi import to_owlxml

        return to_owlxml(graph)
    data = graph.serialize(format=serializer, encoding="utf-8")
    return data


def is_ontology_header(graph: Graph) -> bool:
    return (None, RDF.type, OWL.Ontology) in graph
