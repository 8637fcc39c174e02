"""The Store protocol: what lmkg needs from an RDF store, embedded or remote.

SPARQL text is written and read in lmkg.store.sparqltext, nowhere else."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rdflib import Graph, URIRef
from rdflib.term import Identifier

from lmkg.errors import ConflictError, NotFoundError, StoreBusyError
from lmkg.graphindex import Triples

Row = dict[str, Identifier]
"""One SELECT solution: variable name (without '?') to an rdflib term; unbound variables are absent."""


@dataclass(frozen=True)
class RawResult:
    """A query result already serialised by the engine, ready to send to a client."""

    kind: str  # "select", "ask" or "graph"
    media_type: str
    body: bytes
    truncated_at: int | None = None  # the row (or triple) limit, when the result was cut at it


@dataclass
class GraphWrite:
    """One atomic change: graphs replaced whole, triples added to others, subjects whose
    inferred triples are replaced.

    Every graph in `replace` is cleared and then filled with its new triples (an empty graph
    removes it); for every subject in `inferred_subjects`, its triples in the inferred graph
    are removed and `inferred` is added. All of it happens in one transaction.
    """

    # Each graph's triples: an rdflib Graph, or (entries read from JSON) a TripleSet.
    replace: dict[URIRef, Triples] = field(default_factory=dict)
    # Triples added to graphs that keep what they hold (the change log's graph of the minute).
    add: dict[URIRef, Triples] = field(default_factory=dict)
    inferred_subjects: set[URIRef] = field(default_factory=set)
    inferred: Triples = field(default_factory=Graph)
    # Conditions checked with the write, under the store's write lock: a graph that must not
    # hold triples (else ConflictError with the message) or must (else NotFoundError).
    require_absent: dict[URIRef, str] = field(default_factory=dict)
    require_present: dict[URIRef, str] = field(default_factory=dict)
    # A batch of a bulk import (KnowledgeGraph.write_batches(bulk_loader=True)), which accepts that a store may
    # load it with a bulk loader that is not atomic: a failure in the middle of the batch can
    # leave part of it written (never anything that was stored before it), and the error says
    # so. Stores without such a loader write it in one transaction, as any other.
    bulk: bool = False


def check_conditions(change: GraphWrite, holds_triples: Callable[[URIRef], bool]) -> None:
    """Raise ConflictError or NotFoundError when a write's conditions do not hold."""
    for graph_iri, message in change.require_absent.items():
        if holds_triples(graph_iri):
            raise ConflictError(message)
    for graph_iri, message in change.require_present.items():
        if not holds_triples(graph_iri):
            raise NotFoundError(message)


@runtime_checkable
class Store(Protocol):
    """An RDF dataset with a SPARQL 1.1 engine; the default graph of queries is the union of all graphs."""

    def select(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        """Run a SELECT query, with variables pre-bound (never pasted into the text)."""
        ...

    def ask(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> bool:
        """Run an ASK query."""
        ...

    def construct(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        """Run a CONSTRUCT or DESCRIBE query into an rdflib Graph."""
        ...

    def execute(
        self,
        query: str,
        *,
        select_format: str,
        graph_format: str,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        base_iri: str | None = None,
        max_rows: int | None = None,
    ) -> RawResult:
        """Run any query and serialise its result in the given media type (/sparql's path).

        With `max_rows`, a SELECT returns at most that many solutions and a CONSTRUCT or
        DESCRIBE at most that many triples; `RawResult.truncated_at` says when the cap cut it.

        Given any graph URIs, the dataset is exactly those (the SPARQL 1.1 Protocol's
        default-graph-uri and named-graph-uri), overriding FROM and FROM NAMED in the text;
        `base_iri` resolves relative IRIs.
        """
        ...

    def update(
        self,
        update: str,
        *,
        base_iri: str | None = None,
        using_graph_uris: Sequence[str] = (),
        using_named_graph_uris: Sequence[str] = (),
    ) -> None:
        """Run a SPARQL 1.1 Update in one transaction.

        `using_graph_uris` and `using_named_graph_uris` are the Update protocol's dataset: they
        act as USING and USING NAMED on every DELETE/INSERT ... WHERE operation (an update that
        has its own USING or WITH is refused with them: ValueError). `base_iri` resolves
        relative IRIs.
        """
        ...

    def write(self, change: GraphWrite) -> None:
        """Apply one GraphWrite atomically: all of it or none of it."""
        ...

    def graph(self, graph_iri: URIRef) -> Graph:
        """The triples of one named graph."""
        ...

    def load_graph(self, graph_iri: URIRef, data: Graph) -> None:
        """Replace one named graph with `data` (bulk; used for the ontology and seeding)."""
        ...

    def graph_names(self) -> list[URIRef]:
        """The named graphs in the store."""
        ...

    def triple_count(self) -> int:
        """The number of quads in the store, over all graphs."""
        ...

    def generation(self) -> int | None:
        """A count that changes whenever the store's content may have changed (see
        lmkg.store.generation), or None when this store cannot tell: a remote store can
        be written by anyone, unseen."""
        ...

    def completed_generation(self) -> int | None:
        """The change count at the end of the last write that completed (see
        Generation.completed): unlike `generation()`, a number while a write is in progress,
        for readers that need every completed write but not the one in progress (the read
        index). None when this store cannot tell."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...


class QueryGate:
    """A cap on the queries running at once (LMKG_MAX_CONCURRENT_QUERIES): past it, a query
    waits for a place at most QUEUE_SECONDS and is then refused (StoreBusyError, HTTP 503 with
    Retry-After) instead of queueing without end. The wait absorbs a burst (32 clients at
    once had 0.2% of their reads refused when the refusal was immediate); a store that stays
    busy, as with a query it cannot stop, still refuses within the second."""

    QUEUE_SECONDS = 1.0

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running = 0
        self._freed = threading.Condition()

    @contextmanager
    def enter(self) -> Iterator[None]:
        with self._freed:
            if not self._freed.wait_for(lambda: self._running < self.limit, timeout=self.QUEUE_SECONDS):
                raise StoreBusyError(
                    f"{self.limit} queries are running, the most this server runs at once "
                    "(LMKG_MAX_CONCURRENT_QUERIES); retry in a moment"
                )
            self._running += 1
        try:
            yield
        finally:
            with self._freed:
                self._running -= 1
                self._freed.notify()
