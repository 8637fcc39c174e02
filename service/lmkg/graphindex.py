"""An entry graph read once into dicts, for the checks that run on every entry written.

rdflib's `objects()` and `predicate_objects()` stack generators through the Memory store
and check contexts on every call: a few microseconds each, and validation and
classification made a few dozen of them an entry. Reading the graph once into
subject -> predicate -> objects makes each of those a dict look-up.
"""

from __future__ import annotations

from rdflib import Graph
from rdflib.term import Node

Index = dict[Node, dict[Node, list[Node]]]
"""subject -> predicate -> objects, each triple once (as the graph holds it)."""


def index_of(graph: Graph) -> Index:
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
