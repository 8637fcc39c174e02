"""An entry's triples without rdflib's Graph, and read once into dicts, for the write path.

rdflib's `objects()` and `predicate_objects()` stack generators through the Memory store
and check contexts on every call: a few microseconds each, and validation and
classification made a few dozen of them an entry. Reading the graph once into
subject -> predicate -> objects makes each of those a dict look-up.

Building the Graph itself cost more still (Graph.add indexes each triple three ways, about
40 rdflib calls a triple): an entry read from JSON keeps its triples in a `TripleSet`, which
the checks index, the store writes as N-Quads, and which becomes a Graph only when something
needs one (pySHACL's report, a response, an importer's comparison).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rdflib import Graph
from rdflib.term import Node

Triple = tuple[Node, Node, Node]

Index = dict[Node, dict[Node, list[Node]]]
"""subject -> predicate -> objects, each triple once (as the graph holds it)."""


class TripleSet:
    """A set of triples in the order they were added, each once (as a Graph holds them)."""

    __slots__ = ("_triples",)

    def __init__(self, triples: Iterable[Triple] = ()) -> None:
        self._triples: dict[Triple, None] = dict.fromkeys(triples)

    def add(self, triple: Triple) -> None:
        self._triples[triple] = None

    def remove_values(self, subject: Node, predicate: Node) -> None:
        """Remove every (subject, predicate, *) triple (Graph.set's first half)."""
        for triple in [t for t in self._triples if t[0] == subject and t[1] == predicate]:
            del self._triples[triple]

    def __contains__(self, triple: object) -> bool:
        return triple in self._triples

    def __iter__(self) -> Iterator[Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def graph(self) -> Graph:
        graph = Graph()
        add = graph.add
        for triple in self._triples:
            add(triple)
        return graph


Triples = Graph | TripleSet
"""What the write path writes: an rdflib Graph, or an entry's triples before any Graph."""


def index_of(graph: Iterable[Triple] | Graph) -> Index:
    index: Index = {}
    for s, p, o in graph:
        by_predicate = index.get(s)
        if by_predicate is None:
            by_predicate = index[s] = {}
        values = by_predicate.get(p)
        if values is None:
            by_predicate[p] = [o]
        else:
            values.append(o)
    return index


class IndexedTriples:
    """An Index read as the few Graph methods the verdicts use (value, objects, `in`)."""

    __slots__ = ("index",)

    def __init__(self, index: Index) -> None:
        self.index = index

    def value(self, subject: Node, predicate: Node) -> Node | None:
        values = self.index.get(subject, {}).get(predicate)
        return values[0] if values else None

    def objects(self, subject: Node, predicate: Node) -> Iterator[Node]:
        return iter(self.index.get(subject, {}).get(predicate, ()))

    def __contains__(self, triple: object) -> bool:
        if not isinstance(triple, tuple) or len(triple) != 3:
            return False
        s, p, o = triple
        return o in self.index.get(s, {}).get(p, ())
