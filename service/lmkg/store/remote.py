"""The remote store: any SPARQL 1.1 server, through the standard protocols only.

Queries go through the SPARQL 1.1 Query protocol, writes through the Update
protocol (one request per GraphWrite, which a conforming server applies
atomically), whole graphs through the Graph Store HTTP Protocol. The server
must answer queries over the union of its named graphs by default (Oxigraph:
`--union-default-graph`; Fuseki: `tdb2:unionDefaultGraph true`; GraphDB and
Virtuoso do so by default); lmkg keeps everything in named graphs.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier

from lmkg.errors import QuerySyntaxError, QueryTimeoutError, StoreError, StoreUnavailableError
from lmkg.store import sparqltext
from lmkg.store.base import GraphWrite, QueryGate, RawResult, Row, check_conditions
from lmkg.store.oxigraph import GRAPH_FORMATS, row_count
from lmkg.store.sparqltext import QueryForm, graph_has_triples_query, iri, ntriples, update_for_write

_LOCATED = re.compile(r"error at (\d+):(\d+): (.*)", re.S)


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


def term_from_json(binding: Mapping[str, Any]) -> Identifier:
    """An rdflib term from one binding of SPARQL 1.1 Query Results JSON."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in binding:
        return Literal(value, lang=binding["xml:lang"])
    if "datatype" in binding:
        return Literal(value, datatype=URIRef(binding["datatype"]))
    return Literal(value)


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


class RemoteStore:
    """A Store on a SPARQL 1.1 server over HTTP; stateless, so many processes may share one."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        max_concurrent_queries: int = 16,
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
        self.location = endpoints.query
        headers = {"User-Agent": "lmkg"}
        auth: httpx.Auth | None = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif username is not None:
            auth = httpx.BasicAuth(username, password or "")
        self._timeout = timeout
        self._client = httpx.Client(headers=headers, auth=auth, timeout=timeout)

    # -- HTTP -----------------------------------------------------------------------

    def _send(self, method: str, url: str, *, line_offset: int = 0, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.ReadTimeout as exc:
            if url == self.endpoints.query:
                raise QueryTimeoutError(
                    f"The SPARQL store at {url} did not answer within {self._timeout:g} s "
                    "(LMKG_QUERY_TIMEOUT); the query was abandoned. Give the store a timeout of "
                    "its own (oxigraph serve --timeout-s) so that it stops there too."
                ) from exc
            raise StoreUnavailableError(
                f"The SPARQL store at {url} did not answer within {self._timeout:g} s; the "
                "change may or may not have been applied there: check before retrying."
            ) from exc
        except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
            raise StoreUnavailableError(
                f"The SPARQL store at {url} cannot be reached ({type(exc).__name__}: {exc}); "
                "nothing was changed. Try again when it is back."
            ) from exc
        except httpx.HTTPError as exc:
            raise StoreUnavailableError(f"The SPARQL store at {url} failed: {exc}") from exc
        if response.status_code == 400:
            raise QuerySyntaxError(refusal_message(response.text.strip(), line_offset=line_offset))
        if response.status_code in (502, 503, 504):
            raise StoreUnavailableError(
                f"The SPARQL store at {url} is unavailable (HTTP {response.status_code}); try again."
            )
        if response.status_code >= 400:
            raise StoreError(
                f"The SPARQL store at {url} answered HTTP {response.status_code}: "
                f"{response.text.strip()[:2000]}"
            )
        return response

    def _query(
        self,
        query: str,
        accept: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        line_offset: int = 0,
    ) -> httpx.Response:
        form = [("query", query)]
        form += [("default-graph-uri", g) for g in default_graph_uris]
        form += [("named-graph-uri", g) for g in named_graph_uris]
        with self._gate.enter():
            return self._send(
                "POST",
                self.endpoints.query,
                content=urlencode(form).encode("ascii"),
                headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
                line_offset=line_offset,
            )

    # -- the Store protocol ----------------------------------------------------------

    def select(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        response = self._query(sparqltext.read(query).with_values(bindings), "application/sparql-results+json")
        document = json.loads(response.content)
        if "results" not in document:
            raise QuerySyntaxError("expected a SELECT query")
        return [
            {name: term_from_json(value) for name, value in solution.items()}
            for solution in document["results"]["bindings"]
        ]

    def ask(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> bool:
        response = self._query(sparqltext.read(query).with_values(bindings), "application/sparql-results+json")
        document = json.loads(response.content)
        if "boolean" not in document:
            raise QuerySyntaxError("expected an ASK query")
        return bool(document["boolean"])

    def construct(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        response = self._query(sparqltext.read(query).with_values(bindings), "application/n-triples")
        return Graph().parse(data=response.text, format="nt")

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
        imposed = False
        if max_rows is not None:
            query, imposed = read.with_limit(max_rows)
        text, added_lines = with_base(query, base_iri)
        response = self._query(
            text,
            media_type,
            default_graph_uris=default_graph_uris,
            named_graph_uris=named_graph_uris,
            line_offset=added_lines,
        )
        kind = "graph" if form.makes_graph else "ask" if form is QueryForm.ASK else "select"
        body = response.content
        if max_rows is None or kind == "ask":
            return RawResult(kind, media_type, body)
        if kind == "select":
            cut = imposed and row_count(body, media_type, max_rows) >= max_rows
            return RawResult(kind, media_type, body, max_rows if cut else None)
        # A graph result: the server sent it whole; keep the first max_rows triples.
        rdf_format = GRAPH_FORMATS[media_type]
        triples = list(itertools.islice(ox.parse(body, rdf_format), max_rows + 1))
        if len(triples) <= max_rows:
            return RawResult(kind, media_type, body)
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
        self._send(
            "POST",
            self.endpoints.update,
            params=params,
            content=text.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
            line_offset=added_lines,
        )

    def write(self, change: GraphWrite) -> None:
        # One Update request: the server applies it in one transaction, so a failure
        # (or the server going down) leaves neither the entry nor its inferred triples.
        # The conditions are checked first, in a request of their own: unlike the embedded
        # store's, they are not atomic with the write when other services write too.
        check_conditions(change, lambda g: self.ask(graph_has_triples_query(g)))
        self.update(update_for_write(change))

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
        self._send(
            "PUT",
            self.endpoints.graphs,
            params={"graph": str(graph_iri)},
            content=body,
            headers={"Content-Type": "application/n-triples"},
        )

    def graph_names(self) -> list[URIRef]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return [row["g"] for row in rows if isinstance(row.get("g"), URIRef)]  # type: ignore[misc]

    def triple_count(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        value = rows[0].get("n") if rows else None
        return int(value.toPython()) if isinstance(value, Literal) else 0

    def generation(self) -> int | None:
        return None  # other clients of the server write unseen: nothing here can tell

    def close(self) -> None:
        self._client.close()
