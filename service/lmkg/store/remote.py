"""The SPARQL client: every store lmkg serves from is a SPARQL 1.1 server reached through it.

A remote server (LMKG_STORE=http...) or the Oxigraph server `lmkg serve` runs on the embedded
store's directory (`lmkg.store.server`): one client for both. Queries go through the SPARQL 1.1
Query protocol, writes through the Update protocol (one request per GraphWrite, which a
conforming server applies atomically), whole graphs through the Graph Store HTTP Protocol.
The server must answer queries over the union of its named graphs by default (checked at
start-up, see `lmkg.store.checks`); lmkg keeps everything in named graphs.

A query past LMKG_QUERY_TIMEOUT is answered 503 at the limit, alone: the request is left to
the server in a thread of the client's pool while the caller gets QueryTimeoutError, and
other requests go on. Its slot under LMKG_MAX_CONCURRENT_QUERIES stays taken until the
server ends it, because the server may still be working on it: Oxigraph 0.5's
`--timeout-s` did not stop a grouped or sorted query when measured (bench/RESULTS.md), and a
client that closes the connection stops only a result being streamed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier

from lmkg.errors import (
    LmkgError,
    QuerySyntaxError,
    QueryTimeoutError,
    StoreBusyError,
    StoreError,
    StoreFailedError,
    StoreUnavailableError,
)
from lmkg.store import sparqltext
from lmkg.store.base import GraphWrite, QueryGate, RawResult, Row, check_conditions
from lmkg.store.generation import Generation, SharedWriteLock
from lmkg.store.oxigraph import GRAPH_FORMATS, row_count
from lmkg.store.sparqltext import QueryForm, graph_has_triples_query, iri, ntriples, update_for_write

_COUNT_LMKG_TRIPLES = (
    'SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "https://w3id.org/lmkg/graph/")) }'
)
"""The triples of the graphs lmkg writes (`lmkg.vocab`'s GRAPH_* all start so)."""

_COUNT_ALL_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

INTERNAL_TIMEOUT = 600.0
"""The limit of lmkg's own writes (an entry, a batch of an import, the ontology): not a user's query."""

ABANDONED_WAIT = 3600.0
"""How long a request the caller gave up on is still waited for, holding its slot."""

_LOCATED = re.compile(r"error at (\d+):(\d+): (.*)", re.S)

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

_SERVER_LIMITS: tuple[tuple[re.Pattern[str], type[LmkgError], str], ...] = (
    (
        re.compile(r"\bSR353\b|Sorted TOP clause"),
        StoreFailedError,
        "Virtuoso's sort limit was hit: virtuoso.ini's [Parameters] MaxSortedTopRows (10,000 by "
        "default) must be above LMKG_MAX_ROWS, since lmkg asks /sparql for LIMIT LMKG_MAX_ROWS + 1",
    ),
    (
        re.compile(r"estimated execution time", re.I),
        StoreFailedError,
        "Virtuoso refused the query on its cost estimate: set virtuoso.ini's [SPARQL] "
        "MaxQueryCostEstimationTime = 0 so that LMKG_QUERY_TIMEOUT decides",
    ),
    (
        re.compile(r"\bSR171\b|Transaction timed out"),
        QueryTimeoutError,
        "The query ran past the store's own time limit (Virtuoso: virtuoso.ini's [SPARQL] "
        "MaxQueryExecutionTime, best equal to LMKG_QUERY_TIMEOUT) and was stopped there",
    ),
)
"""Errors a server gives when one of its own settings stops a query: the error lmkg answers
(a fault to fix in the server's settings, 502, or the query's own length, 503) and the setting."""

RESULT_LIMIT_HEADER = "X-SPARQL-MaxRows"
"""Virtuoso's header on a result it cut at its ResultSetMaxRows (lmkg sends the same)."""


def with_base(text: str, base_iri: str | None) -> tuple[str, int]:
    """The text with a BASE line first when it has relative IRIs, and how many lines were added.

    The protocol has no parameter for a base IRI; without one a server resolves relative
    IRIs against its own URL, which clients of lmkg never see.
    """
    if base_iri is None or not sparqltext.read(text).has_relative_iri:
        return text, 0
    return f"BASE {iri(base_iri)}\n{text}", 1


def refusal_message(text: str, *, line_offset: int = 0) -> str:
    """A server's 400 answer in lmkg's words; Oxigraph's "error at L:C" names line and column."""
    match = _LOCATED.match(text)
    if match is None:
        return f"The SPARQL store refused the request: {text[:2000]}"
    line, column, detail = match.groups()
    return f"SPARQL syntax error at line {int(line) - line_offset}, column {column}: {detail[:2000]}"


@lru_cache(maxsize=8192)
def _uri(value: str) -> URIRef:
    """An IRI of an answer: the same predicates, classes and graphs come back in every answer,
    and rdflib checks each IRI it makes (a look-up's 100 terms took 1.2 ms of its 5 ms)."""
    return URIRef(value)


@lru_cache(maxsize=8192)
def _typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=URIRef(datatype))


def term_from_json(binding: Mapping[str, Any]) -> Identifier:
    """An rdflib term from one binding of SPARQL 1.1 Query Results JSON."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return _uri(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in binding:
        return Literal(value, lang=binding["xml:lang"])
    datatype = binding.get("datatype")
    if datatype is not None and datatype != _XSD_STRING:
        return _typed(value, datatype)
    # A simple literal and an xsd:string are one term (RDF 1.1); rdflib tells them apart, and
    # Virtuoso types some strings (those with non-ASCII text) where Oxigraph does not.
    return Literal(value)


def plain_value(binding: Mapping[str, Any]) -> Any:
    """What JSON holds of one binding's term: a number or a boolean for a literal whose
    datatype gives one, else its text (an IRI's, a blank node's label, a literal's lexical
    form as rdflib writes it). The same as rdflib's toPython of term_from_json(binding), kept
    when it is a bool, int, float or str, else the term's text, without making a term for an
    IRI or a string (a page of the headline query: 450 terms, 4 ms)."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri" or kind == "bnode":
        return value
    datatype = binding.get("datatype")
    if "xml:lang" in binding or datatype is None or datatype == _XSD_STRING:
        return value
    term = _typed(value, datatype)
    python = term.toPython()
    return python if isinstance(python, bool | int | float | str) else str(term)


_ENDINGS: dict[str, bytes | tuple[bytes, ...]] = {
    "application/sparql-results+json": b"}",
    "application/sparql-results+xml": b"</sparql>",
    "application/rdf+xml": b">",
    "application/ld+json": (b"]", b"}"),
    "application/n-triples": b".",
    "application/n-quads": b".",
    "text/turtle": b".",
    "application/trig": (b".", b"}"),
}


_COMMENTED = frozenset({"text/turtle", "application/n-triples", "application/n-quads", "application/trig"})


def sent_whole(body: bytes, media_type: str) -> bool:
    """Whether a result streamed by a server ends as its format ends.

    A server that streams its answer has sent 200 before the query fails (a SERVICE that
    does not answer, a timeout); Oxigraph then appends its error text to the body. Formats
    with no closing mark (CSV, TSV) cannot be checked this way.
    """
    ending = _ENDINGS.get(media_type)
    tail = body.rstrip()
    if ending is None or not tail or tail.endswith(ending):
        return True
    # An empty graph that says so in a comment (Virtuoso: "# Empty TURTLE").
    return media_type in _COMMENTED and all(
        not line.strip() or line.lstrip().startswith(b"#") for line in tail.splitlines()
    )


_ASKED_AS = {
    "text/csv": "application/sparql-results+json",
    "text/tab-separated-values": "application/sparql-results+json",
    "application/n-quads": "application/n-triples",
}
_RESULTS_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


def _rewritten(body: bytes, asked: str, media_type: str) -> bytes:
    """A result the server sent as `asked`, in `media_type` (see `_ASKED_AS`)."""
    if media_type == "application/n-quads":
        return body  # N-Triples lines are N-Quads lines of the default graph
    if asked == "application/sparql-results+json" and b'"bnode"' in body:
        body = _plain_blank_labels(body)
    parsed = ox.parse_query_results(body, format=_RESULTS_FORMATS[asked])
    return parsed.serialize(format=_RESULTS_FORMATS[media_type]) or b""


def _plain_blank_labels(body: bytes) -> bytes:
    """JSON results whose blank nodes have labels a SPARQL parser accepts: Virtuoso labels
    them `nodeID://b10005`, which pyoxigraph refuses. Each label maps to one plain label."""
    document = json.loads(body)
    for binding in document.get("results", {}).get("bindings", []):
        for term in binding.values():
            if isinstance(term, dict) and term.get("type") == "bnode":
                label = str(term.get("value", ""))
                term["value"] = "b" + hashlib.blake2b(label.encode("utf-8"), digest_size=12).hexdigest()
    return json.dumps(document).encode("utf-8")


@dataclass(frozen=True)
class Endpoints:
    """The URLs of one SPARQL server, where its layout splits them."""

    query: str
    update: str
    graphs: str | None

    @classmethod
    def derive(cls, query: str, update: str | None = None, graphs: str | None = None) -> Endpoints:
        """Known layouts: Oxigraph /query, /update, /store; Fuseki /ds/sparql (or /ds/query), /ds/update, /ds/data."""
        parts = urlsplit(query)
        path = parts.path.rstrip("/")

        def sibling(name: str) -> str:
            return urlunsplit(parts._replace(path=path.rsplit("/", 1)[0] + "/" + name))

        if path.endswith("/query"):
            derived_update, derived_graphs = sibling("update"), sibling("store")
        elif path.endswith("/sparql"):
            derived_update, derived_graphs = sibling("update"), sibling("data")
        else:
            derived_update, derived_graphs = query, None
        return cls(query, update or derived_update, graphs or derived_graphs)


def _split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """The URL without user:password@, and the user and password it carried."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    return (
        urlunsplit(parts._replace(netloc=netloc)),
        unquote(parts.username or ""),
        unquote(parts.password or ""),
    )


class ChallengedAuth(httpx.Auth):
    """User and password sent the way the server asks: HTTP Basic or Digest (Virtuoso's
    /sparql-auth offers only Digest). The first request goes without them; the scheme the
    server's 401 names is then used, and remembered."""

    requires_request_body = True

    def __init__(self, username: str, password: str) -> None:
        self._basic = httpx.BasicAuth(username, password)
        self._digest = httpx.DigestAuth(username, password)
        self.scheme: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        if self.scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "").strip().lower()
        if challenge.startswith("digest"):
            self.scheme = "digest"
            yield from self._digest.auth_flow(request)
        elif challenge.startswith("basic"):
            self.scheme = "basic"
            yield from self._basic.auth_flow(request)


class _Slot:
    """One place under the query cap, given back once, whenever the request really ends."""

    def __init__(self, gate: QueryGate) -> None:
        self._held = gate.enter()
        self._held.__enter__()
        self._given_back = False

    def give_back(self, *_: object) -> None:
        if not self._given_back:
            self._given_back = True
            self._held.__exit__(None, None, None)


class RemoteStore:
    """A Store on a SPARQL 1.1 server over HTTP; stateless, so many processes may share one.

    `changes_path` is given for the Oxigraph server `lmkg serve` supervises: the change count
    and write lock its workers share (`lmkg.store.server`). Without it (a server others may
    write to unseen) nothing can tell when the content changed, and writes are not serialised.
    """

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        max_concurrent_queries: int = 16,
        changes_path: str | None = None,
        location: str | None = None,
    ) -> None:
        # Credentials written into the URL (http://user:secret@host/...) become basic auth and
        # leave the URLs, which appear in /health and in error messages.
        query, user_in_url, password_in_url = _split_userinfo(endpoints.query)
        endpoints = Endpoints(
            query,
            _split_userinfo(endpoints.update)[0],
            _split_userinfo(endpoints.graphs)[0] if endpoints.graphs else None,
        )
        if username is None and user_in_url is not None:
            username, password = user_in_url, password_in_url
        self.endpoints = endpoints
        self._gate = QueryGate(max_concurrent_queries)
        self.location = location or endpoints.query
        headers = {"User-Agent": "lmkg"}
        auth: httpx.Auth | None = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif username is not None:
            auth = ChallengedAuth(username, password or "")
        self._timeout = timeout
        limits = httpx.Limits(max_connections=2 * max_concurrent_queries + 8)

        def new_client() -> httpx.Client:
            return httpx.Client(
                headers=headers, auth=auth, limits=limits, timeout=httpx.Timeout(ABANDONED_WAIT, connect=10.0)
            )

        self._new_client = new_client
        self._client = new_client()
        # Requests run in this pool while their caller waits up to the limit, so that a caller
        # can be answered at the limit while the server still holds the request.
        self._pool = ThreadPoolExecutor(2 * max_concurrent_queries + 8, thread_name_prefix="lmkg-sparql")
        self.served = changes_path is not None  # the Oxigraph server lmkg serve runs
        self.server_software: str | None = None  # the server's own name (HTTP Server header)
        self._changes = Generation(changes_path, create=False) if changes_path else None
        self._counted: tuple[int, int] | None = None  # (change count, quads) when last counted
        self._write_lock = (
            SharedWriteLock(self._changes, wait=max(timeout, 60.0)) if self._changes is not None else None
        )

    # -- HTTP -----------------------------------------------------------------------

    def _request(self, method: str, url: str, *, line_offset: int, **kwargs: Any) -> httpx.Response:
        client = self._client
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            # The server went away (a restart, say): its other kept-alive connections are dead
            # too. A fresh pool lets the next request reach the server that is back, instead
            # of each stale connection failing one request more.
            if self._client is client:
                self._client = self._new_client()
            raise StoreUnavailableError(
                f"The SPARQL store at {url} cannot be reached ({type(exc).__name__}: {exc}); "
                "try again when it is back."
            ) from exc
        except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
            raise StoreUnavailableError(
                f"The SPARQL store at {url} cannot be reached ({type(exc).__name__}: {exc}); "
                "try again when it is back."
            ) from exc
        except httpx.HTTPError as exc:
            raise StoreUnavailableError(f"The SPARQL store at {url} failed: {exc}") from exc
        if self.server_software is None:
            self.server_software = response.headers.get("server", "")
        if response.status_code == 400:
            raise QuerySyntaxError(refusal_message(response.text.strip(), line_offset=line_offset))
        if response.status_code in (502, 503, 504):
            raise StoreUnavailableError(
                f"The SPARQL store at {url} is unavailable (HTTP {response.status_code}); try again."
            )
        if response.status_code >= 400:
            # A server's own failure (Virtuoso answers 500 for an error in a query it accepted):
            # not "unavailable, try again", which would repeat it.
            text = response.text.strip()
            for pattern, error, setting in _SERVER_LIMITS:
                if pattern.search(text):
                    raise error(f"{setting}. The SPARQL store at {url} said: {text[:2000]}")
            raise StoreFailedError(
                f"The SPARQL store at {url} answered HTTP {response.status_code}: {text[:2000]}"
            )
        return response

    def _send(
        self,
        method: str,
        url: str,
        *,
        line_offset: int = 0,
        limit: float | None = None,
        what: str = "query",
        when_done: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request and wait for its answer up to `limit` (LMKG_QUERY_TIMEOUT by default).

        Past the limit the caller gets QueryTimeoutError; the request stays with the server,
        and `when_done` runs once it really ends (it gives back a query slot or the write lock).
        """
        limit = self._timeout if limit is None else limit
        future: Future[httpx.Response] = self._pool.submit(
            self._request, method, url, line_offset=line_offset, **kwargs
        )
        try:
            return future.result(timeout=limit)
        except FutureTimeout:
            if when_done is not None:
                later = when_done
                future.add_done_callback(lambda _: later())
                when_done = None
            if what == "update":
                raise QueryTimeoutError(
                    f"The update ran longer than the time limit ({limit:g} s, LMKG_QUERY_TIMEOUT); "
                    "the store may still apply it: check before retrying."
                ) from None
            raise QueryTimeoutError(
                f"The {what} ran longer than the time limit ({limit:g} s, LMKG_QUERY_TIMEOUT); "
                "lmkg answered without waiting for it. A store should stop such a query itself "
                "(oxigraph serve --timeout-s, Virtuoso's MaxQueryExecutionTime)."
            ) from None
        finally:
            if when_done is not None:
                when_done()

    def _writing(self, send: Callable[[Callable[[], None] | None], httpx.Response]) -> httpx.Response:
        """Run a write under the shared write lock, when there is one; the lock is let go when
        the server has really finished the write, even if its caller stopped waiting."""
        lock = self._write_lock
        if lock is None:
            return send(None)
        if not lock.acquire():
            raise StoreBusyError(
                "another write has held the store for longer than the time limit; retry in a moment"
            )
        return send(lock.release)

    def _query(
        self,
        query: str,
        accept: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        line_offset: int = 0,
        limit: float | None = None,
    ) -> httpx.Response:
        form = [("query", query)]
        form += [("default-graph-uri", g) for g in default_graph_uris]
        form += [("named-graph-uri", g) for g in named_graph_uris]
        slot = _Slot(self._gate)
        return self._send(
            "POST",
            self.endpoints.query,
            content=urlencode(form).encode("ascii"),
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
            line_offset=line_offset,
            limit=limit,
            when_done=slot.give_back,
        )

    # -- the Store protocol ----------------------------------------------------------

    def _own_query(self, query: str, bindings: Mapping[str, Identifier] | None, accept: str) -> httpx.Response:
        """A query lmkg wrote: the store refusing it is a fault (502), not the client's error
        (400); so is an answer the store cut at a row limit of its own, which would be wrong."""
        try:
            # Read into tokens only to place bindings: a look-up's query, its terms written
            # in, was tokenized on every call (1.1 ms of 5 ms at 100,000 entries).
            text = sparqltext.read(query).with_values(bindings) if bindings else query
            response = self._query(text, accept)
        except QuerySyntaxError as exc:
            raise StoreFailedError(f"The SPARQL store refused a query of lmkg's own: {exc}") from exc
        cut_at = response.headers.get(RESULT_LIMIT_HEADER)
        if cut_at is not None:
            raise StoreFailedError(
                f"The SPARQL store cut an answer lmkg needs whole at {cut_at} rows "
                f"({RESULT_LIMIT_HEADER}): raise the server's result limit (Virtuoso: "
                "virtuoso.ini's [SPARQL] ResultSetMaxRows, above LMKG_MAX_ROWS)"
            )
        return response

    def select(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        response = self._own_query(query, bindings, "application/sparql-results+json")
        document = json.loads(response.content)
        if "results" not in document:
            raise QuerySyntaxError("expected a SELECT query")
        return [
            {name: term_from_json(value) for name, value in solution.items()}
            for solution in document["results"]["bindings"]
        ]

    def ask(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> bool:
        response = self._own_query(query, bindings, "application/sparql-results+json")
        document = json.loads(response.content)
        if "boolean" not in document:
            raise QuerySyntaxError("expected an ASK query")
        return bool(document["boolean"])

    def construct(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        response = self._own_query(query, bindings, "application/n-triples")
        graph = Graph().parse(data=response.text, format="nt")
        typed = [t for t in graph if isinstance(t[2], Literal) and str(t[2].datatype) == _XSD_STRING]
        for s, p, o in typed:  # one term in RDF 1.1, two in rdflib (see term_from_json)
            graph.remove((s, p, o))
            graph.add((s, p, Literal(str(o))))
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
        read = sparqltext.read(query)
        form = read.form
        media_type = graph_format if form.makes_graph else select_format
        # What the server is asked for: CSV and TSV are written here from its JSON (Virtuoso's
        # TSV quotes the header and writes terms as CSV does), N-Quads read as N-Triples (a
        # graph has no graph names; Virtuoso offers no N-Quads for CONSTRUCT).
        asked = _ASKED_AS.get(media_type, media_type)
        imposed = False
        original = query
        if max_rows is not None:
            query, imposed = read.with_limit(max_rows)
        text, added_lines = with_base(query, base_iri)
        try:
            response = self._query(
                text,
                asked,
                default_graph_uris=default_graph_uris,
                named_graph_uris=named_graph_uris,
                line_offset=added_lines,
            )
        except QuerySyntaxError as exc:
            # Where the client's own text breaks SPARQL, the same on every store.
            located = sparqltext.syntax_error(original, base_iri)
            raise (QuerySyntaxError(located) if located else exc) from None
        kind = "graph" if form.makes_graph else "ask" if form is QueryForm.ASK else "select"
        body = response.content
        if not sent_whole(body, asked):
            raise StoreError(
                "The SPARQL store failed while it sent the result (it had answered 200 and "
                f"streamed part of it); it said: {body[-300:].decode('utf-8', 'replace')}"
            )
        if asked != media_type:
            body = _rewritten(body, asked, media_type)
        # The server's own row limit (Virtuoso's ResultSetMaxRows) cut the result: say so, with
        # the limit it was cut at, as lmkg does at its own.
        store_cut = response.headers.get(RESULT_LIMIT_HEADER)
        store_limit = int(store_cut) if store_cut and store_cut.isdigit() else None
        if max_rows is None or kind == "ask":
            return RawResult(kind, media_type, body, store_limit)
        if kind == "select":
            cut = imposed and row_count(body, media_type, max_rows) >= max_rows
            return RawResult(kind, media_type, body, store_limit or (max_rows if cut else None))
        # A graph result: the server sent it whole; keep the first max_rows triples.
        rdf_format = GRAPH_FORMATS[media_type]
        triples = list(itertools.islice(ox.parse(body, rdf_format), max_rows + 1))
        if len(triples) <= max_rows:
            return RawResult(kind, media_type, body, store_limit)
        return RawResult(
            kind, media_type, ox.serialize(triples[:max_rows], format=rdf_format) or b"", max_rows
        )

    def update(
        self,
        update: str,
        *,
        base_iri: str | None = None,
        using_graph_uris: Sequence[str] = (),
        using_named_graph_uris: Sequence[str] = (),
    ) -> None:
        if (using_graph_uris or using_named_graph_uris) and sparqltext.read(update).declares_update_dataset:
            raise ValueError(
                "using-graph-uri and using-named-graph-uri cannot be combined with an update "
                "that has its own USING or WITH"
            )
        text, added_lines = with_base(update, base_iri)
        # The Update protocol's own dataset parameters: the server applies them.
        params = [("using-graph-uri", g) for g in using_graph_uris]
        params += [("using-named-graph-uri", g) for g in using_named_graph_uris]
        self._writing(
            lambda done: self._send(
                "POST",
                self.endpoints.update,
                params=params,
                content=text.encode("utf-8"),
                headers={"Content-Type": "application/sparql-update; charset=utf-8"},
                line_offset=added_lines,
                what="update",
                when_done=done,
            )
        )

    def write(self, change: GraphWrite) -> None:
        # One Update request: the server applies it in one transaction, so a failure
        # (or the server going down) leaves neither the entry nor its inferred triples.
        # The conditions are checked first, in a request of their own, under the shared
        # write lock when there is one (the embedded store's server); on a server others
        # write to, they are not atomic with the write.
        text = update_for_write(change)

        def send(done: Callable[[], None] | None) -> httpx.Response:
            try:
                check_conditions(change, lambda g: self.ask(graph_has_triples_query(g)))
            except BaseException:
                if done is not None:
                    done()
                raise
            return self._send(
                "POST",
                self.endpoints.update,
                content=text.encode("utf-8"),
                headers={"Content-Type": "application/sparql-update; charset=utf-8"},
                limit=max(self._timeout, INTERNAL_TIMEOUT),
                what="update",
                when_done=done,
            )

        self._writing(send)

    def graph(self, graph_iri: URIRef) -> Graph:
        rows = self.construct(
            "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", bindings={"g": graph_iri}
        )
        return rows

    def load_graph(self, graph_iri: URIRef, data: Graph) -> None:
        if self.endpoints.graphs is None:
            self.write(GraphWrite(replace={graph_iri: data}))
            return
        body = ntriples(data).encode("utf-8")
        graphs = self.endpoints.graphs
        self._writing(
            lambda done: self._send(
                "PUT",
                graphs,
                params={"graph": str(graph_iri)},
                content=body,
                headers={"Content-Type": "application/n-triples"},
                limit=max(self._timeout, INTERNAL_TIMEOUT),
                what="update",
                when_done=done,
            )
        )

    def graph_names(self) -> list[URIRef]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return [row["g"] for row in rows if isinstance(row.get("g"), URIRef)]  # type: ignore[misc]

    def triple_count(self) -> int:
        """The quads in lmkg's graphs (https://w3id.org/lmkg/graph/...)."""
        # Counting scans every quad: /health, polled by monitors, counts again only after a
        # write has moved the change count (where there is one).
        generation = self.generation()
        if generation is not None and self._counted is not None and self._counted[0] == generation:
            return self._counted[1]
        # lmkg's own graphs only: a server keeps graphs of its own (Virtuoso's system graphs
        # hold thousands of triples) that are none of lmkg's. The server lmkg runs on its own
        # store holds nothing else: a plain count (the graph-name test on every quad passed
        # the 30 s limit at 100,000 entries).
        rows = self.select(_COUNT_ALL_TRIPLES if self._changes is not None else _COUNT_LMKG_TRIPLES)
        value = rows[0].get("n") if rows else None
        count = int(value.toPython()) if isinstance(value, Literal) else 0
        if generation is not None:
            self._counted = (generation, count)
        return count

    def generation(self) -> int | None:
        if self._changes is None:
            return None  # other clients of the server write unseen: nothing here can tell
        return self._changes.stable()

    def completed_generation(self) -> int | None:
        return self._changes.completed() if self._changes is not None else None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
        if self._write_lock is not None:
            self._write_lock.close()
        if self._changes is not None:
            self._changes.close()
