"""Model entries over REST, in the manner of the Hugging Face Hub API: list, read, write, validate.

Reads: GET /models (filters, sorting, paging with Link and X-Total-Count), GET /models/{id}
and GET /model/{id} (the entry's IRI, dereferenced) by content negotiation. Writes, with the
bearer token: POST /models, PUT and DELETE /models/{id}. POST /validate checks an entry
without storing it. Every write goes through KnowledgeGraph.write: validated with the shapes,
classified, then written with what was inferred in one transaction, or not at all.
"""

from __future__ import annotations

from typing import Annotated, Any
from typing import Literal as TypingLiteral
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF

from lmkg.api.deps import KGDep, WriteAccess
from lmkg.api.negotiation import RDF_MEDIA_TYPES, choose
from lmkg.entries import (
    ID_PATTERN,
    RDF_FORMATS,
    Entry,
    entry_from_json,
    entry_from_rdf,
    parse_json,
    parse_rdf,
    valid_model_id,
)
from lmkg.errors import NotFoundError
from lmkg.evidence import TRAITS, Verdict
from lmkg.knowledge import Assessment, KnowledgeGraph, WriteMode
from lmkg.lookup import entry_inferred_claims, inferred_summary, model_json
from lmkg.models_query import (
    capability_classes,
    source_claims,
)
from lmkg.readindex import IndexFilter
from lmkg.readindex import Verdict as VerdictFilter
from lmkg.vocab import GRAPH_INFERRED, PREFIXES, model_graph, model_iri

router = APIRouter(tags=["models"])

MAX_OFFSET = 1_000_000_000
"""The most models a page may skip: far past any store, and within what every engine's OFFSET takes."""

ModelId = Annotated[
    str,
    AfterValidator(valid_model_id),
    Path(
        description="The model's id, e.g. phi-3-mini",
        json_schema_extra={"pattern": ID_PATTERN.pattern},
    ),
]
"""A model id in a path; one that is not says what a model id is (the pattern stays in OpenAPI)."""

JSON_TYPE = "application/json"
ENTRY_TYPES: dict[str, str | None] = {
    # request media type -> rdflib parser (None: the JSON entry format)
    JSON_TYPE: None,
    **{media: parser for media, parser in RDF_FORMATS.items() if "/" in media},
}
"""What POST, PUT and /validate read; a request without Content-Type is read as JSON."""


# -- response bodies ---------------------------------------------------------------


class ModelSummary(BaseModel):
    """One model as GET /models lists it."""

    id: str
    iri: str
    label: str
    kind: str
    parameterCount: int | None = None
    developer: list[str]
    releaseDate: str | None = None
    license: str | None = None
    openWeights: bool | None = None
    portable: bool | None = Field(description="true, false, or null when no evidence decides it")
    cheapToFineTune: bool | None = Field(description="true, false, or null when no evidence decides it")
    fast: bool | None = Field(default=None, description="true, false, or null when no evidence decides it")
    bases: dict[str, str] = Field(
        default={},
        description="what each verdict rests on: observation, size-rule, or none (unknown)",
    )


class ModelList(BaseModel):
    """A page of models; `total` counts every model that passes the filters; with `facets=true`,
    `facets` counts them per kind, developer, licence, year and verdict."""

    total: int
    limit: int
    offset: int
    models: list[ModelSummary]
    facets: dict[str, dict[str, int]] | None = None


class Inferred(BaseModel):
    """What the reasoner concluded about a model."""

    classes: list[str] = Field(description="IRIs of the classes the model was inferred into")
    portable: bool | None = Field(description="the portability verdict: true, false, or null (unknown)")
    cheapToFineTune: bool | None = Field(description="the fine-tuning cost verdict: true, false, or null")
    fast: bool | None = Field(default=None, description="the speed verdict: true, false, or null")
    sizeClass: TypingLiteral["under-threshold", "over-threshold"] | None = None


class VerdictOut(BaseModel):
    """One trait's verdict: true, false or null (unknown), and its basis."""

    value: bool | None
    basis: TypingLiteral["observation", "size-rule", "none"]
    detail: str


class SourceClaimOut(BaseModel):
    """What a source says about the model or its family, in its words."""

    text: str
    claimedKind: str | None = None
    curatorNote: str | None = None
    about: str


class ModelEntry(BaseModel):
    """A model entry (the fields of POST /models) with what was inferred and what sources claim."""

    model_config = ConfigDict(extra="allow")

    id: str
    iri: str
    label: str | None = None
    kind: str | None = None
    parameterCount: int | None = None
    developer: list[str] = []
    releaseDate: str | None = None
    license: str | None = None
    openWeights: bool | None = None
    sources: list[str] = []
    recordedAt: str | None = None
    inferred: Inferred
    verdicts: dict[str, VerdictOut] = Field(
        default={},
        description="portable, cheapToFineTune and fast: each verdict's value and the evidence it rests on",
    )
    sourceClaims: list[SourceClaimOut] = []


class ReportResult(BaseModel):
    """One SHACL result: the node, the property, the value and how to fix it."""

    focusNode: str
    path: str | None = None
    value: str | None = None
    message: str
    severity: str
    constraint: str
    shape: str | None = None
    spec: str


class Report(BaseModel):
    """A SHACL validation report."""

    conforms: bool
    results: list[ReportResult]


class Problem(BaseModel):
    """A field of the request that cannot be read, and why."""

    where: str
    message: str


class Rejection(BaseModel):
    """A 422, nothing written: the entry cannot be read (`problems`, each naming its field) or
    does not conform (`report`, the SHACL report)."""

    status: int
    detail: str
    report: Report | None = None
    problems: list[Problem] | None = None


class ValidationOutcome(BaseModel):
    """What POST /validate found: the report and what would be inferred."""

    id: str
    conforms: bool
    report: Report
    inferred: Inferred
    verdicts: dict[str, VerdictOut] = {}


# -- GET /models --------------------------------------------------------------------


def _flag(text: str | None, name: str) -> bool | None:
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered not in ("true", "false", "1", "0"):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, f"'{name}' must be true or false, not {text!r}."
        )
    return lowered in ("true", "1")


def _verdict(text: str | None, name: str) -> VerdictFilter:
    if text is not None and text.strip().lower() == "unknown":
        return "unknown"
    if text is not None and text.strip().lower() not in ("true", "false", "1", "0"):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            f"'{name}' must be true, false or unknown (no evidence either way), not {text!r}.",
        )
    return _flag(text, name)


def _links(request: Request, total: int, limit: int, offset: int) -> str:
    """The RFC 8288 Link header: first, last, and next and prev where they exist."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "page")]

    def url(at: int) -> str:
        return f"{request.url.path}?{urlencode([*kept, ('offset', str(at))])}"

    last = ((total - 1) // limit) * limit if total else 0
    links = [f'<{url(0)}>; rel="first"', f'<{url(last)}>; rel="last"']
    if offset + limit < total:
        links.append(f'<{url(offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{url(max(0, min(offset - limit, last)))}>; rel="prev"')
    return ", ".join(links)


class ModelQuery(BaseModel):
    """The query parameters of GET /models, read by the route itself (`_model_query`): as
    FastAPI parameters, their checks cost 0.5 ms of a 2.5 ms page at 100,000 entries
    (bench/RESULTS.md, "The fifth pass"). OpenAPI describes them from this model."""

    model_config = ConfigDict(extra="ignore")

    kind: TypingLiteral["llm", "slm", "unknown"] | None = Field(
        None, description="llm or slm, as the source classifies it; unknown: neither a category nor a size is known"
    )
    portable: str | None = Field(None, description="true, false or unknown: the portability verdict")
    cheapToFineTune: str | None = Field(None, description="true, false or unknown: the fine-tuning cost verdict")
    fast: str | None = Field(None, description="true, false or unknown: the real-time verdict")
    developer: str | None = Field(None, max_length=200, description="organisation name or id, any case")
    capability: str | None = Field(None, description="a class name, e.g. FitsLaptopAt4Bit, VersatileModel")
    minParameters: int | None = Field(None, ge=0, description="at least this many parameters")
    maxParameters: int | None = Field(None, ge=0, description="at most this many parameters")
    openWeights: str | None = Field(None, description="true or false")
    search: str | None = Field(None, max_length=200, description="text in label or description, any case")
    sort: TypingLiteral["label", "parameterCount", "releaseDate", "id", "relevance"] | None = Field(
        None, description="label unless searching; relevance (BM25 over label and description) when searching"
    )
    direction: TypingLiteral["asc", "desc"] = "asc"
    limit: int = Field(50, ge=1, le=1000, description="models per page")
    offset: int | None = Field(None, ge=0, le=MAX_OFFSET, description="models to skip")
    page: int | None = Field(
        None, ge=1, le=MAX_OFFSET // 1000, description="page number from 1, instead of offset"
    )
    facets: bool = Field(False, description="add counts per kind, developer, licence, year and verdict")


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI's parameter objects for the fields of `model`, each an optional query parameter."""
    properties = model.model_json_schema()["properties"]
    parameters = []
    for name, schema in properties.items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
        if "description" in schema:
            parameter["description"] = schema["description"]
        parameters.append(parameter)
    return parameters


def _model_query(request: Request) -> ModelQuery:
    """The request's query parameters as ModelQuery (the last of a repeated one, as FastAPI
    takes it); a 422 naming each bad one, as FastAPI's own check gives it."""
    try:
        return ModelQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        errors = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


@router.get(
    "/models",
    response_model=ModelList,
    openapi_extra={"parameters": _query_parameters(ModelQuery)},
    responses={
        422: {
            "description": "A query parameter is not valid: the answer names each one.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    },
)
def list_models(request: Request) -> Response:
    """List models with filters, sorting and pagination (Link and X-Total-Count headers),
    answered from the read index (lmkg.readindex)."""
    kg: KnowledgeGraph = request.app.state.kg
    query = _model_query(request)
    kind, portable, cheapToFineTune, fast = query.kind, query.portable, query.cheapToFineTune, query.fast
    developer, capability, search, sort = query.developer, query.capability, query.search, query.sort
    minParameters, maxParameters, openWeights = query.minParameters, query.maxParameters, query.openWeights
    direction, limit, offset, page, facets = query.direction, query.limit, query.offset, query.page, query.facets
    if offset is not None and page is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "Give 'offset' or 'page', not both.")
    start = (page - 1) * limit if page is not None else offset or 0
    capability_class: URIRef | None = None
    if capability is not None:
        allowed = capability_classes(kg.classifier)
        if capability not in allowed:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                f"'capability' must be a class of the ontology: one of {', '.join(allowed)}; "
                f"not {capability!r}. GET /classes describes them.",
            )
        capability_class = allowed[capability]
    filters = IndexFilter(
        kind=kind,
        portable=_verdict(portable, "portable"),
        cheap_to_fine_tune=_verdict(cheapToFineTune, "cheapToFineTune"),
        fast=_verdict(fast, "fast"),
        developer=developer,
        capability=capability_class,
        min_parameters=minParameters,
        max_parameters=maxParameters,
        open_weights=_flag(openWeights, "openWeights"),
        search=search,
    )
    order = sort or ("relevance" if search and search.strip() else "label")
    found = kg.read_index.find(
        filters, sort=order, descending=direction == "desc", limit=limit, offset=start, facets=facets
    )
    # The body as ModelList documents it, written at once: made into pydantic models and
    # checked against them again, a page of 20 cost as much as finding it.
    body = {
        "total": found.total,
        "limit": limit,
        "offset": start,
        "models": [m.as_json() for m in found.models],
        "facets": found.facets,
    }
    headers = {"X-Total-Count": str(found.total), "Link": _links(request, found.total, limit, start)}
    return JSONResponse(body, headers=headers)


# -- one model -----------------------------------------------------------------------


def _not_found(model_id: str) -> NotFoundError:
    return NotFoundError(
        f"There is no model with id '{model_id}'. GET /models lists the models "
        "(?search= finds one by name); POST /models adds one."
    )


def _entry_graph(kg: KnowledgeGraph, model_id: str) -> Graph:
    try:
        return kg.entry_graph(model_id)
    except NotFoundError:
        raise _not_found(model_id) from None


def _entry_inferred_claims(
    kg: KnowledgeGraph, model_id: str
) -> tuple[Graph, list[URIRef], list[dict[str, Any]], dict[str, Verdict]]:
    """lmkg.lookup.entry_inferred_claims, with a 404 for a model that has no entry."""
    graph, classes, claims, verdicts = entry_inferred_claims(kg.store, model_id)
    if not len(graph):
        raise _not_found(model_id)
    return graph, classes, claims, verdicts


def _entry_and_inferred(kg: KnowledgeGraph, model_id: str) -> tuple[Graph, list[URIRef]]:
    graph, classes, _, _ = _entry_inferred_claims(kg, model_id)
    return graph, classes


def _claims(kg: KnowledgeGraph, model_id: str) -> list[dict[str, Any]]:
    return [claim.as_json() for claim in source_claims(kg.store, model_id)]


def model_document(
    kg: KnowledgeGraph,
    model_id: str,
    *,
    written: Assessment | None = None,
    claims: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON of GET /models/{id}: the entry, what was inferred, the source's claims.

    For a write's answer, `written` gives the entry as this request stored it: read back, it
    could already be another writer's version, or deleted (a POST answered 404). A write
    reads the source's `claims` before it writes: after the commit nothing may fail (a 503
    from the query cap told clients to retry a write that had been applied).
    """
    if written is None:
        graph, classes, read_claims, found = _entry_inferred_claims(kg, model_id)
        claims = claims if claims is not None else read_claims
    else:
        inferred = written.classification.inferred if written.classification is not None else ()
        graph, classes, found = written.entry.graph, sorted(inferred), written.verdicts
        classes = sorted(
            set(classes)
            | {t.yes if v.value else t.no for t in TRAITS if (v := found[t.name]).value is not None}
        )
    return model_json(
        model_id, graph, classes, found, claims if claims is not None else _claims(kg, model_id)
    )


def _rdf_body(kg: KnowledgeGraph, model_id: str, media_type: str) -> bytes:
    entry, classes = _entry_and_inferred(kg, model_id)
    inferred = [(model_iri(model_id), RDF.type, cls) for cls in classes]
    if media_type == "application/n-quads":
        # Quads keep where each triple lives: the entry's graph, and the inferred graph.
        dataset = Dataset()
        entry_part = dataset.graph(model_graph(model_id))
        for triple in entry:
            entry_part.add(triple)
        inferred_part = dataset.graph(GRAPH_INFERRED)
        for triple in inferred:
            inferred_part.add(triple)
        body = dataset.serialize(format="nquads", encoding="utf-8")
    else:
        graph = Graph()
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        graph += entry
        for triple in inferred:
            graph.add(triple)
        body = graph.serialize(format=RDF_MEDIA_TYPES[media_type], encoding="utf-8")
    return body


_OFFERED = [JSON_TYPE, *RDF_MEDIA_TYPES, "text/html"]

_READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The entry as JSON (the default) or, by Accept, as RDF: the entry graph "
        "with its inferred types.",
        "content": {media: {} for media in RDF_MEDIA_TYPES},
    },
    404: {"description": "No model has this id."},
    406: {"description": f"The entry cannot be sent in any type the client accepts: {', '.join(_OFFERED)}."},
    422: {"description": "The id is not a valid model id."},
}


def _negotiate(request: Request) -> str:
    accept = request.headers.get("accept")
    chosen = choose(accept, _OFFERED)
    if chosen is None:
        raise HTTPException(
            status.HTTP_406_NOT_ACCEPTABLE,
            f"Nothing in 'Accept: {accept}' can be sent; a model is available as {', '.join(_OFFERED[:-1])}.",
        )
    return chosen


def _negotiated(kg: KnowledgeGraph, model_id: str, media_type: str) -> Response:
    """The entry in `media_type` (lmkg.api.cache keeps the answer while the store is unchanged):
    JSON from the read index, RDF from the store."""
    if media_type in RDF_MEDIA_TYPES:
        return Response(
            _rdf_body(kg, model_id, media_type), media_type=media_type, headers={"Vary": "Accept"}
        )
    # The read index keeps each entry's document (lmkg.lookup), written with the entry; a
    # model it has no row for (or an id of none) is read from the store, which gives the 404.
    kept = kg.read_index.document(model_id)
    if kept is not None:
        return Response(kept, media_type="application/json", headers={"Vary": "Accept"})
    return JSONResponse(model_document(kg, model_id), headers={"Vary": "Accept"})


@router.get("/models/{model_id}", response_model=ModelEntry, responses=_READ_RESPONSES)
def read_model(request: Request, kg: KGDep, model_id: ModelId) -> Response:
    """One model with what was inferred about it: JSON (also for text/html), or RDF by Accept."""
    return _negotiated(kg, model_id, _negotiate(request))


@router.get(
    "/model/{model_id}",
    response_model=ModelEntry,
    responses={**_READ_RESPONSES, 303: {"description": "For text/html: the model's page in the browser UI."}},
)
def resolve_model_iri(request: Request, kg: KGDep, model_id: ModelId) -> Response:
    """Dereference https://w3id.org/lmkg/model/{id}: RDF or JSON by Accept; for text/html (a
    browser following the IRI), 303 to the model's page in the browser UI."""
    media_type = _negotiate(request)
    if media_type == "text/html":
        _entry_graph(kg, model_id)  # a 404 for an unknown model, not a redirect to one
        return RedirectResponse(f"/#/models/{model_id}", status_code=status.HTTP_303_SEE_OTHER)
    return _negotiated(kg, model_id, media_type)


# -- writes --------------------------------------------------------------------------


async def request_body(request: Request) -> bytes:
    """The raw request body, read on the event loop so that the handlers can be plain `def`."""
    return await request.body()


Body = Annotated[bytes, Depends(request_body)]


def _entry_from_request(request: Request, body: bytes, *, expected_id: str | None = None) -> Entry:
    header = request.headers.get("content-type") or JSON_TYPE
    media_type = header.split(";")[0].strip().lower()
    if media_type not in ENTRY_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Cannot read a model entry sent as {media_type!r}: send it as {', '.join(ENTRY_TYPES)}.",
        )
    parser = ENTRY_TYPES[media_type]
    if parser is None:
        return entry_from_json(parse_json(body), expected_id=expected_id)
    return entry_from_rdf(parse_rdf(body, parser), expected_id=expected_id)


def _rejected(request: Request, assessment: Assessment) -> Response:
    report = assessment.report
    if choose(request.headers.get("accept"), [JSON_TYPE, "text/turtle"]) == "text/turtle":
        return Response(report.as_turtle(), status_code=422, media_type="text/turtle")
    problems = "; ".join(
        f"{(r.path or r.focus_node).rsplit('#', 1)[-1]}: {r.message}" for r in report.results
    )
    return JSONResponse(
        {
            "status": 422,
            "detail": f"The entry does not conform, so nothing was written: {problems}",
            "report": report.as_json(),
        },
        status_code=422,
    )


_ENTRY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON_TYPE: {
                "schema": {"type": "object"},
                "example": {
                    "id": "tinyllama-1.1b",
                    "label": "TinyLlama 1.1B",
                    "kind": "slm",
                    "parameterCount": 1100000000,
                    "developer": "TinyLlama",
                    "releaseDate": "2024-01-04",
                    "license": "Apache-2.0",
                    "openWeights": True,
                    "sources": ["https://arxiv.org/abs/2401.02385"],
                },
            },
            "application/ld+json": {"schema": {"type": "object"}},
            "text/turtle": {"schema": {"type": "string"}},
        },
    }
}

_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No 'Authorization: Bearer <token>' header."},
    403: {"description": "A wrong token, or a server without one."},
    415: {"description": f"A body in another type than {', '.join(ENTRY_TYPES)}."},
    422: {
        "model": Rejection,
        "description": "The entry cannot be read, or does not conform (the SHACL report; as Turtle "
        "when Accept prefers text/turtle). Nothing was written.",
        "content": {"text/turtle": {}},
    },
}


@router.post(
    "/models",
    status_code=status.HTTP_201_CREATED,
    response_model=ModelEntry,
    responses={**_WRITE_RESPONSES, 409: {"description": "A model with this id exists; PUT replaces it."}},
    dependencies=[WriteAccess],
    openapi_extra=_ENTRY_BODY,
)
def create_model(request: Request, kg: KGDep, body: Body) -> Response:
    """Validate, classify and store a new entry (JSON, JSON-LD or Turtle); 201 with its Location."""
    entry = _entry_from_request(request, body)
    claims = _claims(kg, entry.id)
    outcome = kg.write([entry], mode=WriteMode.CREATE)
    if outcome.rejected:
        return _rejected(request, outcome.rejected[0])
    return JSONResponse(
        model_document(kg, entry.id, written=outcome.written[0], claims=claims),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/models/{entry.id}"},
    )


@router.put(
    "/models/{model_id}",
    response_model=ModelEntry,
    responses={**_WRITE_RESPONSES, 404: {"description": "No model has this id; POST /models creates one."}},
    dependencies=[WriteAccess],
    openapi_extra=_ENTRY_BODY,
)
def replace_model(request: Request, kg: KGDep, model_id: ModelId, body: Body) -> Response:
    """Replace an entry and what was inferred from it; the body's id must match the URL or be absent."""
    entry = _entry_from_request(request, body, expected_id=model_id)
    claims = _claims(kg, model_id)
    outcome = kg.write([entry], mode=WriteMode.REPLACE)
    if outcome.rejected:
        return _rejected(request, outcome.rejected[0])
    return JSONResponse(model_document(kg, model_id, written=outcome.written[0], claims=claims))


@router.delete(
    "/models/{model_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    response_model=None,
    responses={
        401: _WRITE_RESPONSES[401],
        403: _WRITE_RESPONSES[403],
        404: {"description": "No model has this id."},
    },
    dependencies=[WriteAccess],
)
def delete_model(kg: KGDep, model_id: ModelId) -> Response:
    """Remove an entry and what was inferred from it."""
    kg.delete(model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/validate",
    response_model=ValidationOutcome,
    responses={415: _WRITE_RESPONSES[415], 422: {"description": "The entry cannot be read at all."}},
    openapi_extra=_ENTRY_BODY,
)
def validate_entry(request: Request, kg: KGDep, body: Body) -> ValidationOutcome:
    """Validate and classify an entry without storing it."""
    entry = _entry_from_request(request, body)
    assessment = kg.assess(entry)
    classification = assessment.classification
    found = assessment.verdicts
    verdict_classes = {t.yes if v.value else t.no for t in TRAITS if (v := found[t.name]).value is not None}
    inferred = sorted(set(classification.inferred) | verdict_classes) if classification else []
    members = set(classification.types) if classification else set()
    return ValidationOutcome(
        id=entry.id,
        conforms=assessment.ok,
        report=Report(**assessment.report.as_json()),
        inferred=Inferred(**inferred_summary(inferred, members_of=members)),
        verdicts={name: VerdictOut(**v.as_json()) for name, v in found.items()},
    )
