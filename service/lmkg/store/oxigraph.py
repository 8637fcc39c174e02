"""The embedded store: pyoxigraph on RocksDB in a local directory."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Identifier

from lmkg.errors import QuerySyntaxError, StoreError
from lmkg.store import sparqltext
from lmkg.store.base import GraphWrite, RawResult, Row, check_conditions
from lmkg.store.generation import ChangingLock, Generation
from lmkg.store.prepared import PreparedWrite, prepare_write
from lmkg.store.sparqltext import graph_has_triples_query, replacing_update
from lmkg.store.terms import to_oxigraph, to_rdflib
from lmkg.vocab import GRAPH_INFERRED

_RESULTS_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}
SELECT_MEDIA_TYPES = tuple(_RESULTS_FORMATS)
GRAPH_MEDIA_TYPES = tuple(GRAPH_FORMATS)


def _syntax_error(exc: SyntaxError, text: str) -> QuerySyntaxError:
    message = str(exc)
    # Oxigraph reports "error at LINE:COLUMN: ..."; say so in words people read.
    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.S)
    if match:
        line, column, detail = match.groups()
        message = f"SPARQL syntax error at line {line}, column {column}: {detail}"
    else:
        message = f"SPARQL syntax error: {message}"
    return QuerySyntaxError(message)


_JSON_ROW_GAP = re.compile(rb"\}\s*,\s*\{")


def row_count(body: bytes, media_type: str, at_least: int) -> int:
    """The number of solutions in a serialised result; exact when it may reach `at_least`."""
    # A cheap upper bound first: most results are far below the limit.
    if media_type == "application/sparql-results+json":
        # Row boundaries "},{" (Oxigraph), "}},\n    {" (Virtuoso); strings add to the bound only.
        bound = len(_JSON_ROW_GAP.findall(body)) + 1
    elif media_type == "application/sparql-results+xml":
        return body.count(b"<result>")  # '<' is escaped in values: every one is a row
    else:
        bound = body.count(b"\n")
    if bound < at_least:
        return bound
    if media_type == "text/csv":
        return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1)
    parsed = ox.parse_query_results(body, _RESULTS_FORMATS[media_type])
    return sum(1 for _ in parsed) if isinstance(parsed, ox.QuerySolutions) else 0


def _removing_and_adding(graphs: list[str], subjects: list[str], nquads: str) -> str:
    """One SPARQL Update: drop `graphs`, delete the inferred triples of `subjects`, add `nquads`.

    The quads were written by sparqltext; parsed back here, each term is written again by
    pyoxigraph's own N-Triples serialiser (str of a term), so nothing of the text is pasted.
    """
    blocks: dict[str, list[str]] = {}
    for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        graph = q.graph_name
        if not isinstance(graph, ox.NamedNode):
            raise StoreError(f"a prepared write has a quad outside a named graph: {q}")
        blocks.setdefault(graph.value, []).append(f"{q.subject} {q.predicate} {q.object} .\n")
    return replacing_update(graphs, subjects, [(g, "".join(lines)) for g, lines in blocks.items()])


def _substitutable(query: sparqltext.SparqlText, bindings: Mapping[str, Identifier]) -> bool:
    """Whether pyoxigraph's substitutions can bind these variables: 0.5 refuses a variable
    that is not in the query's projection (a SELECT that does not list it, SELECT * or ASK
    where it appears only in a FILTER), so only a SELECT that lists every one of them."""
    projected = query.projected_variables
    return projected is not None and projected.issuperset(bindings)


FLUSH_EVERY_BYTES = 64 * 2**20
"""N-Quads written between two flushes of the engine's memory tables to disk. Left to
RocksDB, an import of 100,000 entries (4.2M quads) kept 2.1 GB of memory tables and 2.8 GB
of write-ahead log, and the flush when the store closed never returned (pyoxigraph 0.5.13:
every thread waiting, no CPU used); at 10,000 entries it took a moment."""

BULK_LOAD_BYTES = 2**20
"""A bulk import's batch (GraphWrite.bulk) of new entries with at least this much N-Quads is
loaded by the engine's bulk loader (`Store.bulk_load`: sorted runs written as RocksDB table
files and ingested, no transaction) rather than by `Store.load` (one transaction). For batches
of 1,000 synthetic entries (42,000 quads, 6 MB) the loader took 9.9 us a quad against 23 us,
with no flush to wait for after, and the import of 10,000 entries went from 388 to 770 entries
a second with its peak memory from 579 to 276 MB (bench/RESULTS.md). Smaller writes (one POST
is a few kilobytes) stay in a transaction: a table file a write would fill the store with
small files."""


class OxigraphStore:
    """A Store on pyoxigraph; `path=None` keeps everything in memory (tests, benchmarks)."""

    def __init__(self, path: str | Path | None = None, *, generation: Generation | None = None) -> None:
        try:
            if path is None:
                self._store = ox.Store()
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the embedded store at {path}: {exc}") from exc
        self.location = str(path) if path is not None else ":memory:"
        # Every write holds this lock; taking it and letting it go bump the change count.
        self.changes = generation if generation is not None else Generation()
        self._write_lock = ChangingLock(self.changes)
        self._counted: tuple[int, int] | None = None  # (change count, quads) when last counted
        self._unflushed = 0  # characters of N-Quads written since the last flush

    @property
    def raw(self) -> ox.Store:
        """The pyoxigraph store itself, for bulk paths that need its own API."""
        return self._store

    def _run(
        self,
        query: str,
        bindings: Mapping[str, Identifier] | None,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        base_iri: str | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] | None = None
        if bindings:
            read = sparqltext.read(query)
            if _substitutable(read, bindings):
                for value in bindings.values():
                    # Refused as the VALUES route refuses it (an IRI with a Unicode space, say),
                    # whichever route a query takes, on whichever store.
                    sparqltext.constant(value)
                substitutions = {
                    ox.Variable(name): to_oxigraph(sparqltext.constant_term(value))
                    for name, value in bindings.items()
                }
            else:
                query = read.with_values(bindings)
        try:
            if default_graph_uris or named_graph_uris:
                # The protocol's dataset is exactly the graphs given (an empty default graph
                # when only named graphs are, and the reverse), as a SPARQL server does.
                return self._store.query(
                    query,
                    base_iri=base_iri,
                    default_graph=[ox.NamedNode(g) for g in default_graph_uris],
                    named_graphs=[ox.NamedNode(g) for g in named_graph_uris],
                    substitutions=substitutions,
                )
            return self._store.query(
                query, base_iri=base_iri, use_default_graph_as_union=True, substitutions=substitutions
            )
        except SyntaxError as exc:
            raise _syntax_error(exc, query) from exc
        except OSError as exc:
            raise StoreError(f"the embedded store failed to run a query: {exc}") from exc

    def select(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QuerySyntaxError("expected a SELECT query")
        names = [v.value for v in result.variables]
        rows: list[Row] = []
        for solution in result:
            row: Row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = to_rdflib(value)
            rows.append(row)
        return rows

    def ask(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> bool:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise QuerySyntaxError("expected an ASK query")
        return bool(result)

    def construct(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise QuerySyntaxError("expected a CONSTRUCT or DESCRIBE query")
        graph = Graph()
        for triple in result:
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return graph

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
        imposed = False
        if max_rows is not None:
            query, imposed = sparqltext.read(query).with_limit(max_rows)
        result = self._run(
            query,
            None,
            default_graph_uris=default_graph_uris,
            named_graph_uris=named_graph_uris,
            base_iri=base_iri,
        )
        if isinstance(result, ox.QueryTriples):
            if max_rows is None:
                body = result.serialize(format=GRAPH_FORMATS[graph_format])
                return RawResult("graph", graph_format, body or b"")
            # Triples stream from the engine: stop reading after the limit.
            triples = list(itertools.islice(result, max_rows + 1))
            cut = len(triples) > max_rows
            body = ox.serialize(triples[:max_rows], format=GRAPH_FORMATS[graph_format])
            return RawResult("graph", graph_format, body or b"", max_rows if cut else None)
        body = result.serialize(format=_RESULTS_FORMATS[select_format]) or b""
        if isinstance(result, ox.QueryBoolean):
            return RawResult("ask", select_format, body)
        cut = imposed and max_rows is not None and row_count(body, select_format, max_rows) >= max_rows
        return RawResult("select", select_format, body, max_rows if cut else None)

    def update(
        self,
        update: str,
        *,
        base_iri: str | None = None,
        using_graph_uris: Sequence[str] = (),
        using_named_graph_uris: Sequence[str] = (),
    ) -> None:
        # pyoxigraph takes no update dataset: the protocol's is written into the text.
        update = sparqltext.read(update).with_using(using_graph_uris, using_named_graph_uris)
        with self._write_lock:
            self._apply(update, base_iri=base_iri)

    def _apply(self, update: str, *, base_iri: str | None = None) -> None:
        try:
            self._store.update(update, base_iri=base_iri)
        except SyntaxError as exc:
            raise _syntax_error(exc, update) from exc
        except OSError as exc:
            raise StoreError(f"the embedded store failed to apply an update: {exc}") from exc

    def write(self, change: GraphWrite) -> None:
        self.apply(prepare_write(change))

    def apply(self, prepared: PreparedWrite) -> None:
        """A GraphWrite prepared as N-Quads (lmkg.store.prepared), in one transaction.

        One writer at a time: two transactions replacing one graph would both commit and leave
        the union of both versions (Oxigraph isolates reads, not write against write). Under
        that lock the conditions are checked, and so is what the write must remove: nothing,
        for new entries, and the quads are loaded in one transaction; else one SPARQL Update
        removes and adds together.
        """
        conditions = GraphWrite(
            require_absent={URIRef(g): m for g, m in prepared.require_absent.items()},
            require_present={URIRef(g): m for g, m in prepared.require_present.items()},
        )
        with self._write_lock:
            check_conditions(conditions, lambda g: bool(self._store.query(graph_has_triples_query(g))))
            graphs = [g for g in prepared.replace if self._store.contains_named_graph(ox.NamedNode(g))]
            inferred = ox.NamedNode(str(GRAPH_INFERRED))
            subjects = [
                s
                for s in prepared.inferred_subjects
                if next(self._store.quads_for_pattern(ox.NamedNode(s), None, None, inferred), None)
                is not None
            ]
            if graphs or subjects:
                self._apply(_removing_and_adding(graphs, subjects, prepared.nquads))
                self._unflushed += len(prepared.nquads)
            elif prepared.bulk and len(prepared.nquads) >= BULK_LOAD_BYTES:
                # Written to table files of its own: nothing for the memory tables to flush.
                try:
                    self._store.bulk_load(prepared.nquads, format=ox.RdfFormat.N_QUADS)
                except (OSError, SyntaxError) as exc:
                    raise StoreError(
                        f"the embedded store failed part-way through a batch of a bulk import ({exc}): "
                        "some of the batch's entries may be partly written, none stored before it "
                        "was touched; import the batch again (an upsert replaces each entry whole)"
                    ) from exc
            elif prepared.nquads:
                try:
                    self._store.load(prepared.nquads, format=ox.RdfFormat.N_QUADS)
                except (OSError, SyntaxError) as exc:
                    raise StoreError(f"the embedded store failed to apply a write: {exc}") from exc
                self._unflushed += len(prepared.nquads)
            if self._unflushed >= FLUSH_EVERY_BYTES and self.location != ":memory:":
                self._store.flush()
                self._unflushed = 0

    def graph(self, graph_iri: URIRef) -> Graph:
        graph = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph_iri))):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph

    def load_graph(self, graph_iri: URIRef, data: Graph) -> None:
        self.write(GraphWrite(replace={graph_iri: data}))

    def graph_names(self) -> list[URIRef]:
        return [URIRef(g.value) for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]

    def triple_count(self) -> int:
        # Counting scans every quad (0.6 s at 1.5 million): /health, polled by monitors, asks
        # again only after a write has moved the change count.
        generation = self.changes.value()
        counted = self._counted
        if counted is not None and counted[0] == generation:
            return counted[1]
        count = len(self._store)
        self._counted = (generation, count)
        return count

    def generation(self) -> int | None:
        return self.changes.stable()

    def completed_generation(self) -> int | None:
        return self.changes.completed()

    def close(self) -> None:
        if self.location != ":memory:":
            self._store.flush()
        del self._store
