"""The Store protocol: what lmkg needs from an RDF store, embedded or remote."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier, Node

from lmkg.errors import ConflictError, NotFoundError, StoreBusyError
from lmkg.vocab import GRAPH_INFERRED

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
    """One atomic change: graphs replaced whole, subjects whose inferred triples are replaced.

    Every graph in `replace` is cleared and then filled with its new triples (an empty graph
    removes it); for every subject in `inferred_subjects`, its triples in the inferred graph
    are removed and `inferred` is added. All of it happens in one transaction.
    """

    replace: dict[URIRef, Graph] = field(default_factory=dict)
    inferred_subjects: set[URIRef] = field(default_factory=set)
    inferred: Graph = field(default_factory=Graph)
    # Conditions checked with the write, under the store's write lock: a graph that must not
    # hold triples (else ConflictError with the message) or must (else NotFoundError).
    require_absent: dict[URIRef, str] = field(default_factory=dict)
    require_present: dict[URIRef, str] = field(default_factory=dict)


def graph_has_triples_query(graph_iri: URIRef) -> str:
    return f"ASK {{ GRAPH {_nt(graph_iri)} {{ ?s ?p ?o }} }}"


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

    def close(self) -> None:
        """Release the store."""
        ...


_WHERE_OPEN = re.compile(r"\bWHERE\s*\{|\bASK\s*\{", re.IGNORECASE)


def bind_values(query: str, bindings: Mapping[str, Identifier] | None) -> str:
    """The query with its variables pre-bound by a VALUES block at the start of its WHERE clause.

    Values are serialised as RDF terms (rdflib escapes them), never pasted as text, so a
    value cannot change the query's structure. Standard SPARQL 1.1: it runs on every store.
    """
    if not bindings:
        return query
    match = _WHERE_OPEN.search(_mask_comments_and_strings(query))
    if match is None:
        raise ValueError("a query with parameters needs a WHERE { ... } (or ASK { ... }) clause")
    return query[: match.end()] + f" {values_clause(bindings)} " + query[match.end() :]


def values_clause(bindings: Mapping[str, Identifier]) -> str:
    """`VALUES (?a ?b) { (<x> "y") }`: one solution binding the variables, as serialised terms.

    For a query that needs its bindings inside each branch of a UNION: Oxigraph joins a
    VALUES block at the start of WHERE with a whole UNION (every branch evaluated unbound,
    then joined), where the same block inside each branch is an index look-up.
    """
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(_nt(value) for value in bindings.values())
    return f"VALUES ({names}) {{ ({values}) }}"


def _mask_comments_and_strings(query: str) -> str:
    """The query with comments and string literals blanked out (same length), for searching."""
    return re.sub(
        r'#[^\n]*|"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'',
        lambda m: " " * len(m.group(0)),
        query,
    )


def _nt(term: Node) -> str:
    """A term in N-Triples syntax, as SPARQL Update's INSERT DATA accepts it."""
    if isinstance(term, URIRef | Literal):
        return term.n3()
    if isinstance(term, BNode):
        # Blank node labels are scoped to one request: the store mints fresh nodes.
        return f"_:b{term}"
    raise ValueError(f"variables cannot be written by lmkg: {term!r}")


def triples_block(graph: Graph) -> str:
    return "\n".join(f"{_nt(s)} {_nt(p)} {_nt(o)} ." for s, p, o in graph)


def write_as_update(change: GraphWrite) -> str:
    """The SPARQL Update request that applies a GraphWrite; one request is one transaction."""
    operations: list[str] = []
    for graph_iri in change.replace:
        operations.append(f"DROP SILENT GRAPH {_nt(graph_iri)}")
    for subject in sorted(change.inferred_subjects):
        operations.append(f"DELETE WHERE {{ GRAPH {_nt(GRAPH_INFERRED)} {{ {_nt(subject)} ?p ?o }} }}")
    inserts = [
        f"GRAPH {_nt(graph_iri)} {{\n{triples_block(data)}\n}}"
        for graph_iri, data in change.replace.items()
        if len(data)
    ]
    if len(change.inferred):
        inserts.append(f"GRAPH {_nt(GRAPH_INFERRED)} {{\n{triples_block(change.inferred)}\n}}")
    if inserts:
        operations.append("INSERT DATA {\n" + "\n".join(inserts) + "\n}")
    return " ;\n".join(operations)


def quads_of(change: GraphWrite) -> Iterable[tuple[Node, Node, Node, URIRef]]:
    for graph_iri, data in change.replace.items():
        for s, p, o in data:
            yield s, p, o, graph_iri
    for s, p, o in change.inferred:
        yield s, p, o, GRAPH_INFERRED


# -- reading SPARQL text without a parser: the protocol's dataset on updates -----------

_LEXICAL = re.compile(
    r'<[^<>"{}|^`\\\x00-\x20]*>'  # IRIs first: a '#' inside one does not start a comment
    r'|#[^\n]*|"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
)
_UPDATE_TOKEN = re.compile(r"[{}]|(?<![\w:?$@.\-])(WITH|USING|WHERE|DELETE)(?![\w:\-])", re.IGNORECASE)
_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^<>"{}|^`\\\x00-\x20]*')


def _mask_lexical(text: str) -> str:
    """The text with IRIs, string literals and comments blanked out (same length)."""
    return _LEXICAL.sub(lambda m: " " * len(m.group(0)), text)


def is_absolute_iri(value: str) -> bool:
    """Whether `value` can be written as <value> in SPARQL: a scheme, and no forbidden character."""
    return _IRI.fullmatch(value) is not None


def _update_keywords(update: str) -> list[tuple[str, int]]:
    """The WITH, USING, WHERE and DELETE keywords outside braces, with their offsets."""
    found: list[tuple[str, int]] = []
    depth = 0
    for match in _UPDATE_TOKEN.finditer(_mask_lexical(update)):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            found.append((token.upper(), match.start()))
    return found


def declares_update_dataset(update: str) -> bool:
    """Whether an update names its own dataset with USING or WITH."""
    return any(word in ("USING", "WITH") for word, _ in _update_keywords(update))


def with_using_clauses(
    update: str, using_graph_uris: Sequence[str], using_named_graph_uris: Sequence[str]
) -> str:
    """The update with USING / USING NAMED clauses before the WHERE of each DELETE/INSERT.

    This is what the protocol's using-graph-uri and using-named-graph-uri mean (SPARQL 1.1
    Protocol, section 2.2.3). DELETE WHERE, INSERT DATA and the graph management operations
    have no WHERE clause to scope, and stay as they are. The clauses go on the WHERE's own
    line, so syntax errors keep their line numbers.
    """
    if not using_graph_uris and not using_named_graph_uris:
        return update
    if declares_update_dataset(update):
        raise ValueError(
            "using-graph-uri and using-named-graph-uri cannot be combined with an update "
            "that has its own USING or WITH"
        )
    for iri in (*using_graph_uris, *using_named_graph_uris):
        if not is_absolute_iri(iri):
            raise ValueError(f"not an absolute IRI: {iri!r}")
    clauses = "".join(f"USING <{iri}> " for iri in using_graph_uris) + "".join(
        f"USING NAMED <{iri}> " for iri in using_named_graph_uris
    )
    masked = _mask_lexical(update)
    cuts: list[int] = []
    previous: tuple[str, int] | None = None
    for word, offset in _update_keywords(update):
        delete_where = (
            previous is not None
            and previous[0] == "DELETE"
            and not masked[previous[1] + len("DELETE") : offset].strip()
        )
        if word == "WHERE" and not delete_where:
            cuts.append(offset)
        previous = (word, offset)
    for offset in reversed(cuts):
        update = update[:offset] + clauses + update[offset:]
    return update


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def has_relative_iri(text: str) -> bool:
    """Whether the SPARQL text has an IRI that needs a base to resolve (e.g. <test>)."""
    return any(
        match.group(0).startswith("<") and not _SCHEME.match(match.group(0)[1:])
        for match in _LEXICAL.finditer(text)
    )


# -- limits on what one query may return or reach --------------------------------------

_TOP_TOKEN = re.compile(
    r"[{}()]|(?<![\w:?$@.\-])(SELECT|CONSTRUCT|DESCRIBE|ASK|VALUES|LIMIT|SERVICE)(?![\w:\-])",
    re.IGNORECASE,
)
_LIMIT_CLAUSE = re.compile(r"(?<![\w:?$@.\-])LIMIT(\s+)(\d+)", re.IGNORECASE)


def limit_solutions(query: str, max_rows: int) -> tuple[str, bool]:
    """The query with its solutions capped at `max_rows`, and whether the cap was imposed.

    A LIMIT is added to the outer query's solution modifiers (before a trailing VALUES
    block), or an outer LIMIT larger than the cap is lowered; a query that asks for at most
    `max_rows` is returned as it is. The text is read without a parser (IRIs, strings and
    comments masked, braces and parentheses counted); the engine parses the result, so a
    query this misreads fails as a syntax error, never runs unbounded. Only SELECT is
    rewritten: a graph result is cut by counting its triples.
    """
    masked = _mask_lexical(query)
    depth = parens = 0
    form: str | None = None
    groups: list[tuple[int, int]] = []  # top-level { ... } spans
    values_at: list[int] = []  # top-level VALUES keywords
    group_start = 0
    for match in _TOP_TOKEN.finditer(masked):
        token = match.group(0)
        if token == "(":
            parens += 1
        elif token == ")":
            parens = max(0, parens - 1)
        elif token == "{":
            if depth == 0 and parens == 0:
                group_start = match.start()
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
            if depth == 0 and parens == 0:
                groups.append((group_start, match.end()))
        elif depth == 0 and parens == 0:
            word = token.upper()
            if word in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK") and form is None:
                form = word
            elif word == "VALUES":
                values_at.append(match.start())
    if form != "SELECT":
        return query, False
    tail_end = len(query)
    body_end = groups[-1][1] if groups else 0
    if values_at and groups and values_at[-1] < groups[-1][0]:
        # A top-level VALUES is the query's trailing data block: modifiers come before it.
        tail_end = values_at[-1]
        body_end = groups[-2][1] if len(groups) > 1 else 0
    tail = masked[body_end:tail_end]
    existing = _LIMIT_CLAUSE.search(tail)
    if existing is not None:
        if int(existing.group(2)) <= max_rows:
            return query, False
        start, end = body_end + existing.start(2), body_end + existing.end(2)
        return query[:start] + str(max_rows) + query[end:], True
    # Keep the text's line numbers: the clause goes on the last line of the modifiers.
    uncommented = _LEXICAL.sub(lambda m: " " * len(m.group(0)) if m.group(0)[0] == "#" else m.group(0), query)
    insert_at = body_end + len(uncommented[body_end:tail_end].rstrip())
    return query[:insert_at] + f" LIMIT {max_rows}" + query[insert_at:], True


def _keyword_iris(text: str, keyword: str) -> list[str | None]:
    """The IRI after each `keyword` (and an optional SILENT) in SPARQL text, or None where
    something else follows (a variable, a prefixed name) that cannot be checked beforehand."""
    found: list[str | None] = []
    for match in re.finditer(rf"(?<![\w:?$@.\-]){keyword}(?![\w:\-])", _mask_lexical(text), re.I):
        rest = text[match.end() :].lstrip()
        if rest[:6].upper() == "SILENT" and not re.match(r"[\w:\-]", rest[6:7]):
            rest = rest[6:].lstrip()
        iri = re.match(r"<([^<>\"{}|^`\\\x00-\x20]*)>", rest)
        found.append(iri.group(1) if iri else None)
    return found


def service_endpoints(query: str) -> list[str | None]:
    """The endpoints of the SERVICE clauses in a query or update."""
    return _keyword_iris(query, "SERVICE")


def load_sources(update: str) -> list[str | None]:
    """The sources of the LOAD operations in an update."""
    return _keyword_iris(update, "LOAD")


class QueryGate:
    """A cap on the queries running at once (LMKG_MAX_CONCURRENT_QUERIES): past it, a query is
    refused at once (StoreBusyError, HTTP 503 with Retry-After) instead of queueing without end."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running = 0
        self._lock = threading.Lock()

    @contextmanager
    def enter(self) -> Iterator[None]:
        with self._lock:
            if self._running >= self.limit:
                raise StoreBusyError(
                    f"{self.limit} queries are running, the most this server runs at once "
                    "(LMKG_MAX_CONCURRENT_QUERIES); retry in a moment"
                )
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1


MAX_NESTING = 256
"""How deep braces, parentheses and brackets may nest in a query or update sent to an engine.

Oxigraph's parser recurses once a level: at 10,000 levels it overflows its stack and the
process dies (a segfault, not an error). Real queries nest a few levels.
"""


def nesting_depth(text: str) -> int:
    """The deepest nesting of {, ( and [ in SPARQL text, outside IRIs, strings and comments."""
    depth = deepest = 0
    for char in _mask_lexical(text):
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth = max(0, depth - 1)
    return deepest


MAX_OPERATIONS = 1000
"""How many operators and clauses one query or update may chain.

Oxigraph builds a chain of UNION, OPTIONAL, MINUS, BIND or FILTER, or of operators such as
`||`, `+` and `!`, into a tree as deep as the chain is long, and walks it by recursion: about
3,000 BINDs or 20,000 `+` overflow its stack, killing the embedded engine or an Oxigraph
server (a segfault, not an error). Real queries chain a few dozen.
"""

_DATA_BLOCK = re.compile(r"(?<![\w:?$@.\-])(?:(?:INSERT|DELETE)\s+DATA|VALUES)(?![\w:\-])[^{]*\{", re.I)
_OPERATION = re.compile(
    r"(?P<skip>\^\^|@[A-Za-z]+(?:-[A-Za-z0-9]+)*|[A-Za-z_][\w.\-]*:[\w.\-:%]*|:[\w.\-:%]*|[?$]\w+"
    r"|\d[\d.]*(?:[eE][+-]?\d+)?)"
    r"|(?<![\w:?$@.\-])(?:UNION|OPTIONAL|MINUS|FILTER|BIND|GRAPH|SERVICE|EXISTS)(?![\w:\-])"
    r"|\|\||&&|!=|<=|>=|[{!=<>+\-*/|^]",
    re.IGNORECASE,
)


def _mask_data_blocks(masked: str) -> str:
    """Masked SPARQL text with the insides of INSERT DATA, DELETE DATA and VALUES blocks blanked:
    they hold flat data (signed numbers, nested GRAPH blocks), not operators."""
    out = list(masked)
    for match in _DATA_BLOCK.finditer(masked):
        depth, at = 1, match.end()
        while at < len(masked) and depth:
            depth += {"{": 1, "}": -1}.get(masked[at], 0)
            if depth:
                out[at] = " "
            at += 1
    return "".join(out)


def operation_count(text: str) -> int:
    """How many operators and clauses a query or update chains, outside IRIs, strings,
    comments and data blocks (an upper bound on how deep its algebra tree can be)."""
    masked = _mask_data_blocks(_mask_lexical(text))
    return sum(1 for match in _OPERATION.finditer(masked) if match.group("skip") is None)
