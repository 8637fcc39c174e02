"""A GraphWrite in the form the embedded store applies fastest: N-Quads, and what to remove.

A batch of 1,000 entries is about 15,000 quads. As one SPARQL Update (DROP GRAPH and DELETE
WHERE for each entry, then INSERT DATA) the engine parses a few megabytes of SPARQL and runs
2,000 operations; as N-Quads it parses the quads alone, several times faster, and loads them in
one transaction. The removals are needed only where the store holds something to remove, which
the store checks under its write lock, with the write: a batch of new entries (an import) is one
load; a batch that replaces entries is one SPARQL Update, as before.

Text, not rdflib terms, crosses to the engine process: one string pickles far faster than
thousands of objects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from lmkg.store.base import GraphWrite
from lmkg.vocab import GRAPH_INFERRED


@dataclass(frozen=True)
class PreparedWrite:
    """One atomic change: remove `replace`'s graphs and the inferred triples of
    `inferred_subjects`, then add `nquads`; all of it or none of it, when the conditions hold."""

    nquads: str
    replace: tuple[str, ...] = ()  # graph IRIs
    inferred_subjects: tuple[str, ...] = ()  # subject IRIs
    require_absent: dict[str, str] = field(default_factory=dict)  # graph IRI -> ConflictError message
    require_present: dict[str, str] = field(default_factory=dict)  # graph IRI -> NotFoundError message


_IRI_TEXT: dict[str, str] = {}
"""IRIs in N-Triples syntax: an entry batch names a few hundred distinct predicates, classes and
organisations thousands of times, and rdflib checks an IRI's characters each time it writes one."""
_IRI_TEXT_LIMIT = 100_000


def _iri(node: URIRef) -> str:
    text = _IRI_TEXT.get(node)
    if text is None:
        if len(_IRI_TEXT) >= _IRI_TEXT_LIMIT:
            _IRI_TEXT.clear()
        text = _IRI_TEXT[node] = node.n3()
    return text


def _literal(node: Literal) -> str:
    # N-Quads has one form of string (rdflib's n3() may write a Turtle """long string""").
    text = str(node).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if node.language:
        return f'"{text}"@{node.language}'
    if node.datatype is not None:
        return f'"{text}"^^{_iri(node.datatype)}'
    return f'"{text}"'


class _Terms:
    """Terms as N-Quads text; blank nodes get labels no other write uses (as SPARQL Update
    mints fresh blank nodes for each request)."""

    def __init__(self) -> None:
        self.prefix = f"_:w{uuid.uuid4().hex}n"
        self.blank: dict[BNode, str] = {}

    def text(self, node: Node) -> str:
        if type(node) is URIRef:
            return _iri(node)
        if isinstance(node, Literal):
            return _literal(node)
        if isinstance(node, URIRef):
            return node.n3()
        if isinstance(node, BNode):
            label = self.blank.get(node)
            if label is None:
                label = self.blank[node] = f"{self.prefix}{len(self.blank)}"
            return label
        raise ValueError(f"variables cannot be written by lmkg: {node!r}")

    def lines(self, graph: Graph, graph_iri: URIRef) -> list[str]:
        text = self.text
        name = _iri(graph_iri)
        return [f"{text(s)} {text(p)} {text(o)} {name} .\n" for s, p, o in graph]


def prepare_write(change: GraphWrite) -> PreparedWrite:
    """The change as N-Quads to add and IRIs of what to remove first."""
    terms = _Terms()
    lines: list[str] = []
    for graph_iri, data in change.replace.items():
        lines.extend(terms.lines(data, graph_iri))
    lines.extend(terms.lines(change.inferred, GRAPH_INFERRED))
    return PreparedWrite(
        nquads="".join(lines),
        replace=tuple(str(g) for g in change.replace),
        inferred_subjects=tuple(sorted(str(s) for s in change.inferred_subjects)),
        require_absent={str(g): message for g, message in change.require_absent.items()},
        require_present={str(g): message for g, message in change.require_present.items()},
    )
