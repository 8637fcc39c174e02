"""The one writer of RDF terms and SPARQL text, and the one reader of SPARQL text lmkg has.

Writing. Every IRI, literal, blank node and variable lmkg sends to an engine is written by a
function here that can emit nothing but that term: an IRI is checked against SPARQL's IRIREF
(and must be absolute), a literal's text is escaped and its language tag or datatype checked,
a variable name is checked, and a blank node is given a label by the writer (`TermWriter`),
never the label it came with: rdflib's JSON-LD parser keeps a blank-node `@id` exactly as
sent, and one pasted after `_:` once ran the SPARQL it held (issue 15). The same writer gives
the embedded store its N-Quads and a remote store its SPARQL Update. Every query the project
sends is a constant in the module that runs it, a `.rq` file, or text built here.

Parameters. pyoxigraph binds variables with `Store.query(..., substitutions=...)`; the
installed 0.5 refuses a variable that the SELECT does not project ("does not contains variable
?x in its SELECT projection", checked on 0.5.13; ASK refuses a variable used only in a
FILTER the same way), so the embedded store uses substitutions for
a SELECT that lists every bound variable in its projection, and `with_values`
(one VALUES block at the start of WHERE, the one VALUES helper) for the rest and for remote
stores, whose protocol has no bindings.

Reading. The guards (nesting depth, chained operators, SERVICE and LOAD), the row cap, the
query form and the protocol's USING clauses all come from one tokenisation of the text
(`read`, cached by text, so the API's guard and the store's row cap share it). Not a full
parse: pyoxigraph 0.5 exposes no query parser (no `pyoxigraph.Query`; parsing happens inside
`Store.query`), and rdflib's pyparsing grammar takes tens of milliseconds a query, more than
running most of them, and recurses where deep nesting is the attack to stop. The tokens are
SPARQL's own terminals (IRIs, the four string forms, comments, prefixed names, variables,
numbers, punctuation), so keywords inside an IRI, a string or a comment are never read as
keywords; the engine parses the text itself, so a query this misreads fails as a syntax
error there, never runs unguarded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier, Node

from lmkg.errors import ForbiddenQueryError
from lmkg.graphindex import Triples
from lmkg.store.base import GraphWrite
from lmkg.vocab import GRAPH_INFERRED

# -- terms ----------------------------------------------------------------------------------

_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^<>"{}|^`\\\x00-\x20]*')
_LANGUAGE = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_SPACE = re.compile(r"\s")  # str.isspace's characters (re's \s is Py_UNICODE_ISSPACE), searched in C


def is_absolute_iri(value: str) -> bool:
    """Whether `value` can be written as <value>: a scheme, and no character IRIREF forbids."""
    return _IRI.fullmatch(value) is not None


_IRI_TEXT: dict[str, str] = {}
"""IRIs already checked and written: an entry batch names a few hundred distinct predicates,
classes and organisations thousands of times."""
_IRI_TEXT_LIMIT = 100_000


def iri(value: str) -> str:
    """`<value>`; ValueError unless `value` is an absolute IRI (nothing can close the brackets)
    that Oxigraph's IRI parser (RFC 3987) accepts, so that a write is never refused half-way."""
    value = str(value)  # plain str keys: a URIRef key compares through rdflib's Python __eq__
    text = _IRI_TEXT.get(value)
    if text is None:
        # Unicode spaces (U+00A0, U+2028...): Oxigraph stores them, rdflib cannot read them back.
        if not is_absolute_iri(value) or _SURROGATE.search(value) or _SPACE.search(value):
            raise ValueError(f"not an absolute IRI that SPARQL can write: {value!r}")
        try:
            ox.NamedNode(value)
        except ValueError as exc:
            raise ValueError(f"not an IRI (RFC 3987): {value!r}: {exc}") from None
        if len(_IRI_TEXT) >= _IRI_TEXT_LIMIT:
            _IRI_TEXT.clear()
        text = _IRI_TEXT[value] = f"<{value}>"
    return text


_TERM_TEXT: dict[int, tuple[Node, str]] = {}
"""IRIs and literals written lately, by the identity of the rdflib term: entries share their
constant terms (predicates, classes, a batch's timestamp, repeated values: lmkg.entries builds
each once), and a look-up by `id` compares no rdflib terms (their __eq__ and __hash__ are
Python). The term is held with its text, so its id cannot be reused while it is kept."""
_TERM_TEXT_LIMIT = 200_000


def is_writable_iri(value: str) -> bool:
    """Whether `iri(value)` writes it: what a request's graph IRIs are checked with, so that a
    value the writer would refuse is a client's 400, never a server's 500."""
    try:
        iri(value)
    except ValueError:
        return False
    return True


def literal(value: Literal) -> str:
    """`"text"`, `"text"@lang` or `"text"^^<datatype>`, in the one string form both SPARQL and
    N-Quads read; ValueError for a language tag or datatype that is not one."""
    lexical = str(value)
    if not lexical.isascii() and _SURROGATE.search(lexical):
        raise ValueError(f"a literal holds a lone surrogate, which no RDF syntax can write: {lexical!r}")
    # Four replaces measured faster than one str.translate on entry-sized text (C loops).
    escaped = lexical.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if _CONTROL.search(escaped):
        # Other control characters as \uXXXX, which SPARQL and N-Quads both read: Virtuoso's
        # lexer ends a string at a raw NUL ("Unterminated SPARQL short double-quoted string").
        escaped = _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04X}", escaped)
    text = f'"{escaped}"'
    if value.language:
        if _LANGUAGE.fullmatch(value.language) is None:
            raise ValueError(f"not a language tag: {value.language!r}")
        return f"{text}@{value.language}"
    datatype = value.datatype
    if datatype is None or str(datatype) == _XSD_STRING:
        return text
    if str(datatype) == _RDF_LANG_STRING:
        raise ValueError(f"a literal typed rdf:langString has no language tag: {lexical!r}")
    return f"{text}^^{iri(datatype)}"


def variable(name: str) -> str:
    """`?name`; ValueError unless `name` is a plain variable name."""
    if _VARIABLE.fullmatch(name) is None:
        raise ValueError(f"not a SPARQL variable name: {name!r}")
    return f"?{name}"


def constant(term: Identifier) -> str:
    """An IRI or a literal: what a VALUES block or a bound parameter may hold (no blank node)."""
    if isinstance(term, URIRef):
        return iri(term)
    if isinstance(term, Literal):
        return literal(term)
    raise ValueError(f"only IRIs and literals can be bound to variables, not {term!r}")


def constant_term(term: Identifier) -> URIRef | Literal:
    """`term` itself when it may be bound to a variable (an IRI or a literal); else ValueError."""
    if isinstance(term, URIRef | Literal):
        return term
    raise ValueError(f"only IRIs and literals can be bound to variables, not {term!r}")


class TermWriter:
    """Terms of one write, blank nodes included: each blank node gets a label of the writer's
    making, one per node, never used by another write (the embedded store keeps N-Quads
    labels as given; SPARQL Update mints fresh nodes per request anyway)."""

    def __init__(self) -> None:
        self._prefix = f"_:w{uuid.uuid4().hex}n"
        self._blank: dict[BNode, str] = {}

    @property
    def wrote_blank_nodes(self) -> bool:
        return bool(self._blank)

    def blank(self, node: BNode) -> str:
        label = self._blank.get(node)
        if label is None:
            label = self._blank[node] = f"{self._prefix}{len(self._blank)}"
        return label

    def term(self, node: Node) -> str:
        known = _TERM_TEXT.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        if isinstance(node, URIRef):
            text = iri(node)
        elif isinstance(node, Literal):
            text = literal(node)
        elif isinstance(node, BNode):
            return self.blank(node)  # never kept: labels belong to one write
        else:
            raise ValueError(f"not an RDF term lmkg writes: {node!r}")
        if len(_TERM_TEXT) >= _TERM_TEXT_LIMIT:
            _TERM_TEXT.clear()
        _TERM_TEXT[id(node)] = (node, text)
        return text

    def triples(self, graph: Triples) -> str:
        """The graph as N-Triples lines (also the body of a GRAPH block in INSERT DATA)."""
        term = self.term
        return "".join(f"{term(s)} {term(p)} {term(o)} .\n" for s, p, o in graph)

    def quads(self, graph: Triples, graph_iri: URIRef) -> str:
        term, name = self.term, iri(graph_iri)
        return "".join(f"{term(s)} {term(p)} {term(o)} {name} .\n" for s, p, o in graph)


def ntriples(graph: Graph) -> str:
    """A graph as N-Triples, blank nodes relabelled (a Graph Store PUT's body)."""
    return TermWriter().triples(graph)


# -- queries and updates lmkg builds ----------------------------------------------------------


def values_clause(bindings: Mapping[str, Identifier]) -> str:
    """`VALUES (?a ?b) { (<x> "y") }`: one solution binding the variables; the one VALUES helper.

    On its own for a query that needs its bindings inside each branch of a UNION: Oxigraph
    joins a VALUES block at the start of WHERE with a whole UNION (every branch evaluated
    unbound, then joined), where the same block inside each branch is an index look-up.
    """
    names = " ".join(variable(name) for name in bindings)
    values = " ".join(constant(value) for value in bindings.values())
    return f"VALUES ({names}) {{ ({values}) }}"


def graph_has_triples_query(graph_iri: URIRef) -> str:
    return f"ASK {{ GRAPH {iri(graph_iri)} {{ ?s ?p ?o }} }}"


def drop_graph(graph_iri: str) -> str:
    return f"DROP SILENT GRAPH {iri(graph_iri)}"


def delete_inferred_about(subject: str) -> str:
    return f"DELETE WHERE {{ GRAPH {iri(GRAPH_INFERRED)} {{ {iri(subject)} ?p ?o }} }}"


def nquads(replace: Mapping[URIRef, Triples], inferred: Triples) -> str:
    """The quads a write adds, blank nodes relabelled."""
    writer = TermWriter()
    parts = [writer.quads(data, graph_iri) for graph_iri, data in replace.items()]
    parts.append(writer.quads(inferred, GRAPH_INFERRED))
    return "".join(parts)


def replacing_update(
    graphs: Iterable[str],
    subjects: Iterable[str],
    blocks: Iterable[tuple[str, str]],
    *,
    blank_nodes: bool = False,
) -> str:
    """One SPARQL Update: drop `graphs`, delete the inferred triples about `subjects`, then
    insert each (graph IRI, N-Triples text written by a TermWriter) block.

    With `blank_nodes` the insert is `INSERT { ... } WHERE { }` rather than INSERT DATA: the
    same triples (the template's blank nodes are fresh, one per label, for its one solution),
    and the form Virtuoso 7 accepts ("Blank node ... is not allowed in a constant clause").
    """
    operations = [drop_graph(g) for g in graphs]
    operations.extend(delete_inferred_about(s) for s in subjects)
    inserts = [f"GRAPH {iri(g)} {{\n{triples}}}" for g, triples in blocks if triples]
    if inserts:
        body = "{\n" + "\n".join(inserts) + "\n}"
        operations.append(f"INSERT {body} WHERE {{ }}" if blank_nodes else f"INSERT DATA {body}")
    return " ;\n".join(operations)


def update_for_write(change: GraphWrite) -> str:
    """The SPARQL Update that applies a GraphWrite; one request is one transaction."""
    writer = TermWriter()
    blocks = [(str(g), writer.triples(data)) for g, data in (*change.replace.items(), *change.add.items())]
    blocks.append((str(GRAPH_INFERRED), writer.triples(change.inferred)))
    return replacing_update(
        [str(g) for g in change.replace],
        sorted(str(s) for s in change.inferred_subjects),
        blocks,
        blank_nodes=writer.wrote_blank_nodes,
    )


# -- reading SPARQL text: one tokenisation ---------------------------------------------------


class QueryForm(StrEnum):
    """What a request is, read once (`SparqlText.form`)."""

    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"
    UPDATE = "UPDATE"

    @property
    def makes_graph(self) -> bool:
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<comment>\#[^\n]*)
    |(?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
        |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    |(?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    |(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    |(?P<pname>(?:[^\W\d][\w\-]*(?:\.[\w\-]+)*)?:(?:[\w\-:%]|\\.|\.(?=[\w\-:%]))*
        |_:[\w](?:[\w\-]|\.(?=[\w\-]))*)
    |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[^\W\d]\w*)
    |(?P<punct>\^\^|\|\||&&|!=|<=|>=|.)""",
    re.VERBOSE | re.DOTALL,
)

_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_OPERATION_WORDS = {"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "GRAPH", "SERVICE", "EXISTS"}
_OPERATORS = {"{", "!", "=", "<", ">", "+", "-", "*", "/", "|", "^", "||", "&&", "!=", "<=", ">="}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

MAX_NESTING = 256
"""How deep braces, parentheses and brackets may nest in a query or update sent to an engine.

Oxigraph's parser recurses once a level: at 10,000 levels it overflows its stack and the
process dies (a segfault, not an error). Real queries nest a few levels.
"""

MAX_OPERATIONS = 1000
"""How many operators and clauses one query or update may chain.

Oxigraph builds a chain of UNION, OPTIONAL, MINUS, BIND or FILTER, or of operators such as
`||`, `+` and `!`, into a tree as deep as the chain is long, and walks it by recursion: about
3,000 BINDs or 20,000 `+` overflow its stack, killing the embedded engine or an Oxigraph
server (a segfault, not an error). Real queries chain a few dozen.
"""


class Token(NamedTuple):
    kind: str  # iri, string, var, lang, pname, number, word (upper-cased), punct
    text: str
    start: int
    end: int
    depth: int  # braces open before it
    parens: int  # parentheses open before it


@dataclass(frozen=True)
class SparqlText:
    """A query or update read once into tokens (comments and white space dropped)."""

    text: str
    tokens: tuple[Token, ...]

    @cached_property
    def form(self) -> QueryForm:
        """The first form keyword or update operation; SELECT when there is none (the
        engine then reports the syntax error)."""
        for token in self.tokens:
            if token.kind == "word":
                if token.text in _FORMS:
                    return QueryForm(token.text)
                if token.text in _UPDATE_WORDS:
                    return QueryForm.UPDATE
        return QueryForm.SELECT

    @cached_property
    def nesting_depth(self) -> int:
        depth = deepest = 0
        for token in self.tokens:
            if token.text in ("{", "(", "["):
                depth += 1
                deepest = max(deepest, depth)
            elif token.text in ("}", ")", "]"):
                depth = max(0, depth - 1)
        return deepest

    @cached_property
    def operation_count(self) -> int:
        """Operators and clauses chained, outside data blocks (INSERT DATA, DELETE DATA and
        VALUES hold flat data: signed numbers, nested GRAPH blocks, not operators): an upper
        bound on how deep the engine's algebra tree can be."""
        count = 0
        data_depth: int | None = None  # the brace depth of the data block being skipped
        opening_data = False
        previous: Token | None = None
        for token in self.tokens:
            if data_depth is not None:
                if token.text == "}" and token.depth == data_depth + 1:
                    data_depth = None
                continue
            if token.kind == "word" and (
                token.text == "VALUES"
                or (token.text == "DATA" and previous is not None and previous.text in ("INSERT", "DELETE"))
            ):
                opening_data = True
            if token.text == "{":
                count += 1
                if opening_data:
                    data_depth, opening_data = token.depth, False
            elif (token.kind == "punct" and token.text in _OPERATORS) or (
                token.kind == "word" and token.text in _OPERATION_WORDS
            ):
                count += 1
            previous = token
        return count

    def _iris_after(self, keyword: str) -> list[str | None]:
        found: list[str | None] = []
        for at, token in enumerate(self.tokens):
            if token.kind != "word" or token.text != keyword:
                continue
            rest = self.tokens[at + 1 : at + 3]
            if rest and rest[0].kind == "word" and rest[0].text == "SILENT":
                rest = rest[1:]
            found.append(rest[0].text[1:-1] if rest and rest[0].kind == "iri" else None)
        return found

    @cached_property
    def service_endpoints(self) -> list[str | None]:
        """The endpoint of each SERVICE, None where it is not an IRI (a variable, a prefixed name)."""
        return self._iris_after("SERVICE")

    @cached_property
    def load_sources(self) -> list[str | None]:
        """The source of each LOAD, None where it is not an IRI."""
        return self._iris_after("LOAD")

    @cached_property
    def has_relative_iri(self) -> bool:
        return any(t.kind == "iri" and not _SCHEME.match(t.text[1:]) for t in self.tokens)

    def _top_words(self, *words: str) -> list[tuple[int, Token]]:
        return [
            (at, t)
            for at, t in enumerate(self.tokens)
            if t.kind == "word" and t.depth == 0 and t.text in words
        ]

    @cached_property
    def declares_update_dataset(self) -> bool:
        """Whether an update names its own dataset with USING or WITH."""
        return bool(self._top_words("USING", "WITH"))

    @cached_property
    def projected_variables(self) -> frozenset[str] | None:
        """The variables the outer SELECT projects (None for SELECT *, or another form)."""
        if self.form is not QueryForm.SELECT:
            return None
        names: set[str] = set()
        started = False
        previous: Token | None = None
        for token in self.tokens:
            if not started:
                started = token.kind == "word" and token.text == "SELECT" and token.depth == 0
                continue
            if (
                token.depth > 0
                or token.text == "{"
                or (token.kind == "word" and token.text in ("WHERE", "FROM"))
            ):
                break
            if token.text == "*" and token.parens == 0:
                return None
            if token.kind == "var" and (
                token.parens == 0
                or (previous is not None and previous.kind == "word" and previous.text == "AS")
            ):
                names.add(token.text[1:])
            previous = token
        return frozenset(names)

    def with_values(
        self,
        bindings: Mapping[str, Identifier] | None,
        *,
        among: tuple[str, Sequence[Identifier]] | None = None,
    ) -> str:
        """The text with its variables bound by a VALUES block at the start of its WHERE clause
        (written by `values_clause`: terms, never pasted text), and with `among` (a variable,
        its values) one variable restricted to a list. Standard SPARQL 1.1: it runs on every
        store."""
        if not bindings and among is None:
            return self.text
        blocks = values_clause(bindings) if bindings else ""
        if among is not None:
            # In a subquery: Oxigraph 0.5 joined a bare VALUES block after the query's other
            # patterns (1.7 s for 20 models of the headline at 10,000 entries), and starts
            # from a subquery's solutions (19 ms); the solutions are the same.
            name, terms = among
            listed = " ".join(constant(t) for t in terms)
            blocks += f" {{ SELECT {variable(name)} WHERE {{ VALUES {variable(name)} {{ {listed} }} }} }}"
        for at, token in enumerate(self.tokens[:-1]):
            if token.kind == "word" and token.text in ("WHERE", "ASK") and self.tokens[at + 1].text == "{":
                cut = self.tokens[at + 1].end
                return f"{self.text[:cut]} {blocks} {self.text[cut:]}"
        raise ValueError("a query with parameters needs a WHERE { ... } (or ASK { ... }) clause")

    def with_limit(self, max_rows: int) -> tuple[str, bool]:
        """The text with a SELECT's solutions capped at `max_rows`, and whether the cap was imposed.

        A LIMIT is added to the outer query's solution modifiers (before a trailing VALUES
        block), or an outer LIMIT larger than the cap is lowered; a query that asks for at
        most `max_rows` stays as it is. Only SELECT is rewritten: a graph result is cut by
        counting its triples. The clause goes after the last token of the modifiers, on its
        line, so syntax errors keep their line numbers.
        """
        if self.form is not QueryForm.SELECT:
            return self.text, False
        groups: list[tuple[int, int]] = []  # token indices of top-level { and its }
        values_at: list[int] = []
        opened = 0
        for at, token in enumerate(self.tokens):
            if token.parens:
                continue
            if token.text == "{" and token.depth == 0:
                opened = at
            elif token.text == "}" and token.depth == 1:
                groups.append((opened, at))
            elif token.depth == 0 and token.kind == "word" and token.text == "VALUES":
                values_at.append(at)
        if not groups:
            return self.text, False
        tail_end = len(self.tokens)
        body_end = groups[-1][1]
        if values_at and values_at[-1] < groups[-1][0]:
            # A top-level VALUES is the query's trailing data block: modifiers come before it.
            tail_end = values_at[-1]
            body_end = groups[-2][1] if len(groups) > 1 else -1
        tail = self.tokens[body_end + 1 : tail_end]
        for at, token in enumerate(tail[:-1]):
            if token.kind == "word" and token.text == "LIMIT" and tail[at + 1].kind == "number":
                number = tail[at + 1]
                if not number.text.isdigit() or int(number.text) <= max_rows:
                    return self.text, False
                return self.text[: number.start] + str(max_rows) + self.text[number.end :], True
        last = self.tokens[tail_end - 1]
        return self.text[: last.end] + f" LIMIT {max_rows}" + self.text[last.end :], True

    def with_using(self, using_graph_uris: Sequence[str], using_named_graph_uris: Sequence[str]) -> str:
        """The update with USING / USING NAMED before the WHERE of each DELETE/INSERT.

        What the protocol's using-graph-uri and using-named-graph-uri mean (SPARQL 1.1
        Protocol, section 2.2.3), for an engine that takes no update dataset. DELETE WHERE,
        INSERT DATA and the graph management operations have no WHERE clause to scope.
        ValueError for an update with its own USING or WITH, or a graph that is not an IRI.
        """
        if not using_graph_uris and not using_named_graph_uris:
            return self.text
        if self.declares_update_dataset:
            raise ValueError(
                "using-graph-uri and using-named-graph-uri cannot be combined with an update "
                "that has its own USING or WITH"
            )
        clauses = "".join(f"USING {iri(g)} " for g in using_graph_uris) + "".join(
            f"USING NAMED {iri(g)} " for g in using_named_graph_uris
        )
        cuts = [
            token.start
            for at, token in self._top_words("WHERE")
            if not (at and self.tokens[at - 1].kind == "word" and self.tokens[at - 1].text == "DELETE")
        ]
        text = self.text
        for offset in reversed(cuts):
            text = text[:offset] + clauses + text[offset:]
        return text

    def check(self, service_allow: Sequence[str]) -> None:
        """The guards: ForbiddenQueryError for nesting or chains deeper than an engine survives,
        and for SERVICE or LOAD of anything not in `service_allow` (LMKG_SERVICE_ALLOW): the
        engine would otherwise fetch whatever address a user names, internal ones included."""
        if self.nesting_depth > MAX_NESTING:
            raise ForbiddenQueryError(
                f"The request nests groups, brackets or parentheses {self.nesting_depth} levels "
                f"deep; this server accepts at most {MAX_NESTING}"
            )
        if self.operation_count > MAX_OPERATIONS:
            raise ForbiddenQueryError(
                f"The request chains {self.operation_count} operators and clauses (UNION, "
                "OPTIONAL, MINUS, BIND, FILTER, GRAPH, groups, and operators such as ||, &&, +, !); "
                f"this server accepts at most {MAX_OPERATIONS} in one query or update"
            )
        for endpoint in self.service_endpoints:
            if endpoint is not None and endpoint in service_allow:
                continue
            named = (
                f"SERVICE <{endpoint}>"
                if endpoint is not None
                else "SERVICE with a variable or prefixed name"
            )
            allowed = ", ".join(f"<{e}>" for e in service_allow) or "none"
            raise ForbiddenQueryError(
                f"{named} is refused: this server does not send requests to other endpoints on a "
                f"user's behalf unless they are allowed (LMKG_SERVICE_ALLOW, a comma-separated list "
                f"of full endpoint IRIs; allowed now: {allowed})"
            )
        for source in self.load_sources:
            if source is None or source not in service_allow:
                raise ForbiddenQueryError(
                    f"LOAD {'<' + source + '>' if source else 'of that source'} is refused: this "
                    "server does not fetch documents on a user's behalf unless their IRIs are "
                    "allowed (LMKG_SERVICE_ALLOW); send the data itself with INSERT DATA or POST /models"
                )


def _tokens(text: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    depth = parens = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind in ("space", "comment"):
            continue
        value = match.group(0)
        if kind == "word":
            value = value.upper()
        tokens.append(Token(kind, value, match.start(), match.end(), depth, parens))
        if kind == "punct":
            if value == "{":
                depth += 1
            elif value == "}":
                depth = max(0, depth - 1)
            elif value == "(":
                parens += 1
            elif value == ")":
                parens = max(0, parens - 1)
    return tuple(tokens)


@lru_cache(maxsize=32)
def _read_cached(text: str) -> SparqlText:
    return SparqlText(text, _tokens(text))


_CACHED_UP_TO = 64 * 1024


def read(text: str) -> SparqlText:
    """The text read into tokens. Cached by text up to 64 KB, so the API's guards and the
    store's rewrite of one request share one reading; a larger update (a bulk INSERT DATA) is
    read again rather than held."""
    if len(text) > _CACHED_UP_TO:
        return SparqlText(text, _tokens(text))
    return _read_cached(text)


def nesting_depth(text: str) -> int:
    """The deepest nesting of {, ( and [ outside IRIs, strings and comments (Turtle too)."""
    return read(text).nesting_depth


_PARSE_ONLY = ox.Variable("lmkg_parse_only_5f0c9e")
"""Bound in `syntax_error` so that pyoxigraph stops after parsing: it checks substitutions
against the projection before it evaluates anything (0.5.13), and none projects this."""
_LOCATED_ERROR = re.compile(r"error at (\d+):(\d+): (.*)", re.S)


def syntax_error(query: str, base_iri: str | None = None) -> str | None:
    """Where a query fails to parse, in Oxigraph's grammar ("SPARQL syntax error at line L,
    column C: ..."), or None when it parses.

    For a query a SPARQL server refused: servers locate errors their own way (Virtuoso counts
    lines from a prologue of its own and gives no column), so lmkg says where the query's own
    text breaks SPARQL 1.1, the same on every store. Parsed on an empty in-memory store and
    never evaluated (see `_PARSE_ONLY`).
    """
    if _PARSE_ONLY.value in query:
        return None
    try:
        ox.Store().query(query, base_iri=base_iri, substitutions={_PARSE_ONLY: ox.Literal("")})
    except SyntaxError as exc:
        match = _LOCATED_ERROR.match(str(exc))
        if match is None:
            return f"SPARQL syntax error: {exc}"
        line, column, detail = match.groups()
        return f"SPARQL syntax error at line {line}, column {column}: {detail}"
    except (RuntimeError, ValueError, OSError):
        return None  # it parsed: the substitution (or what follows parsing) was refused
    return None
