"""/sparql: the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/), on the store.

Queries by GET, form POST or direct POST; updates by form or direct POST with the write
token; a service description at GET /sparql without a query. The store's engine runs
everything and serialises the results; this module reads requests and negotiates formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, DefinedNamespace, Namespace
from starlette.concurrency import run_in_threadpool

from lmkg.api.deps import BearerCredentials, SettingsDep, StoreDep, WriteCredentials, check_write_token
from lmkg.api.negotiation import RDF_MEDIA_TYPES, choose
from lmkg.config import Settings
from lmkg.store import Store, sparqltext
from lmkg.store.sparqltext import QueryForm, is_writable_iri

router = APIRouter(tags=["sparql"])

PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"

RESULTS_TYPES: tuple[str, ...] = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
"""What SELECT and ASK results can be sent as, most preferred first."""

GRAPH_TYPES: tuple[str, ...] = (
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/n-quads",
)
"""What CONSTRUCT and DESCRIBE results can be sent as, most preferred first."""

_RESULTS_ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
}
_GRAPH_ALIASES = {"application/json": "application/ld+json"}

_FORMAT_OVERRIDES = {
    # ?format= or ?output= value -> the Accept header it stands for
    "json": "application/sparql-results+json, application/ld+json",
    "xml": "application/sparql-results+xml, application/rdf+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "n-triples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "nquads": "application/n-quads",
    "n-quads": "application/n-quads",
}


class SD(DefinedNamespace):
    """The SPARQL 1.1 Service Description vocabulary (https://www.w3.org/TR/sparql11-service-description/)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/sparql-service-description#")

    Service: URIRef  # a SPARQL endpoint
    Dataset: URIRef  # an RDF dataset
    Graph: URIRef  # an RDF graph
    endpoint: URIRef  # the URL requests go to
    supportedLanguage: URIRef  # SPARQL11Query, SPARQL11Update
    SPARQL11Query: URIRef  # the SPARQL 1.1 Query language
    SPARQL11Update: URIRef  # the SPARQL 1.1 Update language
    resultFormat: URIRef  # a format results can be sent in
    inputFormat: URIRef  # a format the service reads
    feature: URIRef  # a feature of the service
    UnionDefaultGraph: URIRef  # the default graph is the union of the named graphs
    BasicFederatedQuery: URIRef  # SERVICE
    defaultDataset: URIRef  # the dataset used without FROM or default-graph-uri
    defaultGraph: URIRef  # that dataset's default graph


class FORMATS(DefinedNamespace):
    """Unique URIs for file formats (https://www.w3.org/ns/formats/)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/formats/")

    SPARQL_Results_JSON: URIRef
    SPARQL_Results_XML: URIRef
    SPARQL_Results_CSV: URIRef
    SPARQL_Results_TSV: URIRef
    Turtle: URIRef
    N_Triples: URIRef
    RDF_XML: URIRef
    JSON_LD: URIRef
    N_Quads: URIRef


_FORMAT_IRIS = {
    "application/sparql-results+json": FORMATS.SPARQL_Results_JSON,
    "application/sparql-results+xml": FORMATS.SPARQL_Results_XML,
    "text/csv": FORMATS.SPARQL_Results_CSV,
    "text/tab-separated-values": FORMATS.SPARQL_Results_TSV,
    "text/turtle": FORMATS.Turtle,
    "application/n-triples": FORMATS.N_Triples,
    "application/rdf+xml": FORMATS.RDF_XML,
    "application/ld+json": FORMATS.JSON_LD,
    "application/n-quads": FORMATS.N_Quads,
}


@dataclass(frozen=True)
class Operation:
    """One protocol request, read: a query or an update, and the dataset it names."""

    query: str | None
    update: str | None
    default_graph_uris: list[str]
    named_graph_uris: list[str]
    using_graph_uris: list[str]
    using_named_graph_uris: list[str]
    format: str | None


def _bad_request(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, f"{detail} (see {PROTOCOL})")


def _operation(pairs: list[tuple[str, str]]) -> Operation:
    """The operation the parameters describe; several or no query/update is a 400."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    queries, updates = values.get("query", []), values.get("update", [])
    if queries and updates:
        raise _bad_request("A request carries either 'query' or 'update', not both")
    if len(queries) > 1:
        raise _bad_request(f"A request carries one 'query'; this one has {len(queries)}")
    if len(updates) > 1:
        raise _bad_request(f"A request carries one 'update'; this one has {len(updates)}")
    graphs = {
        name: values.get(name, [])
        for name in (
            "default-graph-uri",
            "named-graph-uri",
            "using-graph-uri",
            "using-named-graph-uri",
        )
    }
    for name, iris in graphs.items():
        for iri in iris:
            if not is_writable_iri(iri):
                raise _bad_request(f"'{name}' must be an absolute IRI, not {iri!r}")
    if updates and (graphs["default-graph-uri"] or graphs["named-graph-uri"]):
        raise _bad_request(
            "default-graph-uri and named-graph-uri apply to queries; an update's dataset is "
            "given by using-graph-uri and using-named-graph-uri"
        )
    if queries and (graphs["using-graph-uri"] or graphs["using-named-graph-uri"]):
        raise _bad_request(
            "using-graph-uri and using-named-graph-uri apply to updates; a query's dataset is "
            "given by default-graph-uri and named-graph-uri"
        )
    formats = values.get("format", []) + values.get("output", [])
    return Operation(
        query=queries[0] if queries else None,
        update=updates[0] if updates else None,
        default_graph_uris=graphs["default-graph-uri"],
        named_graph_uris=graphs["named-graph-uri"],
        using_graph_uris=graphs["using-graph-uri"],
        using_named_graph_uris=graphs["using-named-graph-uri"],
        format=formats[0] if formats else None,
    )


def _utf8(body: bytes, charset: str | None, what: str) -> str:
    if charset is not None and charset.strip('"').lower() not in ("utf-8", "utf8"):
        raise _bad_request(f"The {what} must be UTF-8; charset={charset} is not supported")
    try:
        return body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise _bad_request(f"The {what} is not valid UTF-8: {exc}") from exc


def _media_type(header: str) -> tuple[str, str | None]:
    """The media type of a Content-Type header, lower case, and its charset parameter."""
    media, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip()
    return media.lower(), charset


def _rewrite_accept(accept: str | None, aliases: dict[str, str]) -> str | None:
    """The Accept header with alias media ranges replaced (parameters such as q kept)."""
    if not accept:
        return accept
    ranges = []
    for part in accept.split(","):
        media, sep, params = part.strip().partition(";")
        ranges.append(aliases.get(media.strip().lower(), media.strip()) + sep + params)
    return ", ".join(ranges)


def _requested(accept: str | None, override: str | None) -> str | None:
    """The Accept header to negotiate with: ?format= / ?output= win over the header."""
    if override is None:
        return accept
    if "/" in override:
        return override
    try:
        return _FORMAT_OVERRIDES[override.strip().lower()]
    except KeyError:
        raise _bad_request(
            f"Unknown format {override!r}; use one of {', '.join(sorted(_FORMAT_OVERRIDES))} or a media type"
        ) from None


def _not_acceptable(accept: str | None, kind: str, offered: tuple[str, ...]) -> HTTPException:
    return HTTPException(
        status.HTTP_406_NOT_ACCEPTABLE,
        f"Nothing in 'Accept: {accept}' can be sent for a {kind} query; "
        f"it can be sent as {', '.join(offered)}.",
    )


def endpoint_iri(request: Request) -> str:
    """This endpoint's URL as the client sees it: the base IRI of queries and updates."""
    return str(request.url.replace(query="", fragment=""))


async def _run_query(store: Store, settings: Settings, operation: Operation, request: Request) -> Response:
    query = operation.query
    if query is None or not query.strip():
        raise _bad_request("The query is empty")
    read = sparqltext.read(query)
    read.check(settings.service_allow)
    accept = _requested(request.headers.get("accept"), operation.format)
    results_type = choose(_rewrite_accept(accept, _RESULTS_ALIASES), RESULTS_TYPES)
    graph_type = choose(_rewrite_accept(accept, _GRAPH_ALIASES), GRAPH_TYPES)
    form = read.form
    if form is QueryForm.UPDATE:
        raise _bad_request(
            "This looks like a SPARQL Update, not a query: send it by POST, as 'update=' in a form or "
            f"with Content-Type: {UPDATE_TYPE}"
        )
    if (graph_type if form.makes_graph else results_type) is None:
        raise _not_acceptable(accept, form.value, GRAPH_TYPES if form.makes_graph else RESULTS_TYPES)
    result = await run_in_threadpool(
        store.execute,
        query,
        select_format=results_type or RESULTS_TYPES[0],
        graph_format=graph_type or GRAPH_TYPES[0],
        default_graph_uris=operation.default_graph_uris,
        named_graph_uris=operation.named_graph_uris,
        base_iri=endpoint_iri(request),
        max_rows=settings.max_rows,
    )
    # The form was read from tokens, not parsed; the engine's answer decides.
    if (graph_type if result.kind == "graph" else results_type) is None:
        raise _not_acceptable(accept, result.kind.upper(), RESULTS_TYPES + GRAPH_TYPES)
    headers = {"Vary": "Accept"}
    if result.truncated_at is not None:
        # Virtuoso's header for a result cut at the server's row limit (LMKG_MAX_ROWS).
        headers["X-SPARQL-MaxRows"] = str(result.truncated_at)
    return Response(result.body, media_type=result.media_type, headers=headers)


async def _run_update(
    store: Store, settings: Settings, operation: Operation, request: Request, credentials: BearerCredentials
) -> Response:
    update = operation.update
    check_write_token(settings, credentials)
    if update is None or not update.strip():
        raise _bad_request("The update is empty")
    read = sparqltext.read(update)
    read.check(settings.service_allow)
    if (operation.using_graph_uris or operation.using_named_graph_uris) and read.declares_update_dataset:
        raise _bad_request(
            "using-graph-uri and using-named-graph-uri cannot be combined with an update that "
            "has its own USING or WITH clause (SPARQL 1.1 Protocol, section 2.2.3)"
        )
    await run_in_threadpool(
        request.app.state.kg.update,
        update,
        base_iri=endpoint_iri(request),
        using_graph_uris=operation.using_graph_uris,
        using_named_graph_uris=operation.using_named_graph_uris,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def service_description(endpoint: str) -> Graph:
    """What this endpoint offers, in the SPARQL 1.1 Service Description vocabulary."""
    graph = Graph()
    graph.bind("sd", SD._NS)
    graph.bind("formats", FORMATS._NS)
    service, dataset, default_graph = BNode(), BNode(), BNode()
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, URIRef(endpoint)))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for media_type in RESULTS_TYPES + GRAPH_TYPES:
        graph.add((service, SD.resultFormat, _FORMAT_IRIS[media_type]))
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    return graph


def _describe_service(request: Request) -> Response:
    accept = request.headers.get("accept")
    offered = list(RDF_MEDIA_TYPES)
    # A browser asks for HTML first and XML next; Turtle is the readable answer for it.
    media_type = "text/turtle" if accept and "text/html" in accept else choose(accept, offered)
    if media_type is None:
        raise HTTPException(
            status.HTTP_406_NOT_ACCEPTABLE,
            f"Nothing in 'Accept: {accept}' can be sent for the service description; "
            f"it can be sent as {', '.join(offered)}.",
        )
    body = service_description(endpoint_iri(request)).serialize(
        format=RDF_MEDIA_TYPES[media_type], encoding="utf-8"
    )
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


_RESULTS_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Query results, in the format the Accept header (or ?format=) asks for. "
        "A result cut at the row limit (LMKG_MAX_ROWS) carries the header X-SPARQL-MaxRows.",
        "content": {media_type: {} for media_type in RESULTS_TYPES + GRAPH_TYPES},
    },
    204: {"description": "The update was applied."},
    400: {
        "description": "No query, several, a syntax error (with line and column), bad UTF-8, "
        "SERVICE to an endpoint that is not allowed."
    },
    401: {"description": "An update without 'Authorization: Bearer <token>'."},
    403: {"description": "An update with a wrong token, or on a server without one."},
    406: {"description": "The result cannot be sent in any format the client accepts."},
    413: {"description": "A body larger than LMKG_MAX_BODY_BYTES."},
    415: {"description": "A POST body that is not a form, a query or an update."},
    503: {"description": "The query ran past LMKG_QUERY_TIMEOUT and was stopped, or too many run."},
}


@router.get("/sparql", response_class=Response, response_model=None, responses=_RESULTS_DOC)
async def query_by_get(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    query: Annotated[list[str] | None, Query(description="A SPARQL 1.1 query.")] = None,
    default_graph_uri: Annotated[
        list[str] | None, Query(alias="default-graph-uri", description="The default graph.")
    ] = None,
    named_graph_uri: Annotated[
        list[str] | None, Query(alias="named-graph-uri", description="A named graph.")
    ] = None,
    format: Annotated[
        str | None, Query(description="A result format (json, xml, csv, tsv, turtle, ...).")
    ] = None,
) -> Response:
    """Run a query given in the URL; without one, describe this SPARQL service."""
    pairs = request.query_params.multi_items()
    names = {name for name, _ in pairs}
    if "update" in names:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"A SPARQL Update cannot be sent by GET: POST it as 'update=' in a form or with "
            f"Content-Type: {UPDATE_TYPE} (see {PROTOCOL}#update-operation)",
        )
    if "query" not in names:
        if names & {"default-graph-uri", "named-graph-uri"}:
            raise _bad_request("The request names graphs but has no 'query'")
        return _describe_service(request)
    return await _run_query(store, settings, _operation(pairs), request)


@router.post(
    "/sparql",
    response_class=Response,
    response_model=None,
    responses=_RESULTS_DOC,
    openapi_extra={
        "requestBody": {
            "content": {
                FORM_TYPE: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string"},
                            "update": {"type": "string"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "using-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "using-named-graph-uri": {
                                "type": "array",
                                "items": {"type": "string"},
                            },
                        },
                    }
                },
                QUERY_TYPE: {"schema": {"type": "string"}},
                UPDATE_TYPE: {"schema": {"type": "string"}},
            }
        }
    },
)
async def query_or_update_by_post(
    request: Request, store: StoreDep, settings: SettingsDep, credentials: WriteCredentials
) -> Response:
    """Run a query or, with the write token, an update sent in a form or as the body."""
    header = request.headers.get("content-type")
    if not header:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"A POST to /sparql needs a Content-Type: {FORM_TYPE}, {QUERY_TYPE} or {UPDATE_TYPE}.",
        )
    media_type, charset = _media_type(header)
    pairs = request.query_params.multi_items()
    body = await request.body()
    if media_type == FORM_TYPE:
        text = _utf8(body, charset, "form")
        try:
            pairs += parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            raise _bad_request(f"The form is not valid UTF-8 once decoded: {exc}") from exc
    elif media_type in (QUERY_TYPE, UPDATE_TYPE):
        field = "query" if media_type == QUERY_TYPE else "update"
        if any(name in ("query", "update") for name, _ in pairs):
            raise _bad_request(
                f"With Content-Type: {media_type} the body is the {field}; "
                "the URL cannot carry 'query' or 'update' too"
            )
        pairs.append((field, _utf8(body, charset, field)))
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"A POST to /sparql is {FORM_TYPE}, {QUERY_TYPE} or {UPDATE_TYPE}, not {media_type}.",
        )
    operation = _operation(pairs)
    if operation.update is not None:
        return await _run_update(store, settings, operation, request, credentials)
    if operation.query is None:
        raise _bad_request("The request has neither 'query' nor 'update'")
    return await _run_query(store, settings, operation, request)


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False, response_model=None)
def refuse_other_methods(request: Request) -> Response:
    """Answer 405: the protocol has GET and POST only."""
    raise HTTPException(
        status.HTTP_405_METHOD_NOT_ALLOWED,
        f"/sparql answers GET and POST, not {request.method} (see {PROTOCOL}). "
        "Graphs are replaced through SPARQL Update.",
        headers={"Allow": "GET, POST"},
    )
