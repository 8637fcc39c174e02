"""Model entries over REST, in the manner of the Hugging Face Hub API: list, read, write, validate."""

from __future__ import annotations

from typing import Annotated, Any
from typing import Literal as TypingLiteral
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Identifier

from lmkg.api.deps import KGDep, require_write_token
from lmkg.api.negotiation import RDF_MEDIA_TYPES, choose
from lmkg.entries import (
    ID_PATTERN,
    RDF_FORMATS,
    Entry,
    entry_from_json,
    entry_from_rdf,
    entry_to_json,
    parse_json,
    parse_rdf,
)
from lmkg.errors import EntryError
from lmkg.knowledge import Assessment, KnowledgeGraph, WriteMode
from lmkg.vocab import GRAPH_SOURCE, LMKG, model_iri

router = APIRouter(tags=["models"])

ModelId = Annotated[str, Path(pattern=ID_PATTERN.pattern, description="The model's id, e.g. phi-3-mini")]

CAPABILITIES = (
    "PortableModel",
    "CheapToFineTuneModel",
    "EdgeDeployableModel",
    "RealTimeCapableModel",
    "VersatileModel",
    "SpecialisedModel",
    "ModelUnderSizeThreshold",
    "ModelOverSizeThreshold",
)

_PREFIXES = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

_BODY = """
  GRAPH ?entryGraph { ?model a ?kindClass . VALUES ?kindClass { lmkg:LargeLanguageModel lmkg:SmallLanguageModel } }
  ?model rdfs:label ?label .
  OPTIONAL { ?model lmkg:parameterCount ?parameterCount }
  OPTIONAL { ?model lmkg:releaseDate ?releaseDate }
  OPTIONAL { ?model lmkg:license ?license }
  OPTIONAL { ?model lmkg:openWeights ?openWeights }
  OPTIONAL { ?model dcterms:description ?description }
"""

_FILTERS: dict[str, str] = {
    "kind": "?model a ?fKind .",
    "portable": "BIND(EXISTS { ?model a lmkg:PortableModel } AS ?isPortable) FILTER(?isPortable = ?fPortable)",
    "cheapToFineTune": "BIND(EXISTS { ?model a lmkg:CheapToFineTuneModel } AS ?isCheap) FILTER(?isCheap = ?fCheap)",
    "developer": "?model lmkg:developedBy ?fOrg . ?fOrg rdfs:label ?fOrgLabel . "
    'FILTER(LCASE(STR(?fOrgLabel)) = ?fDeveloper || STRAFTER(STR(?fOrg), "/org/") = ?fDeveloper)',
    "capability": "?model a ?fCapability .",
    "minParameters": "FILTER(BOUND(?parameterCount) && ?parameterCount >= ?fMin)",
    "maxParameters": "FILTER(BOUND(?parameterCount) && ?parameterCount <= ?fMax)",
    "openWeights": "FILTER(BOUND(?openWeights) && ?openWeights = ?fOpen)",
    "search": "FILTER(CONTAINS(LCASE(STR(?label)), ?fSearch) || "
    "(BOUND(?description) && CONTAINS(LCASE(STR(?description)), ?fSearch)))",
}

_SORT = {
    "label": "?label",
    "parameterCount": "?parameterCount",
    "releaseDate": "?releaseDate",
    "id": "?model",
}

_CLAIMS = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
SELECT DISTINCT ?text ?claimedKind ?curatorNote ?about WHERE {
  ?model lmkg:variantOf? ?about .
  GRAPH ?source { ?claim lmkg:claimAbout ?about ; lmkg:claimText ?text .
    OPTIONAL { ?claim lmkg:claimedKind ?claimedKind } OPTIONAL { ?claim lmkg:curatorNote ?curatorNote } }
}"""


class ModelSummary(BaseModel):
    id: str
    iri: str
    label: str
    kind: str
    parameterCount: int | None = None
    developer: list[str]
    releaseDate: str | None = None
    license: str | None = None
    openWeights: bool | None = None
    portable: bool
    cheapToFineTune: bool


class ModelList(BaseModel):
    total: int
    limit: int
    offset: int
    models: list[ModelSummary]


def _python(value: Identifier | None) -> Any:
    return value.toPython() if isinstance(value, Literal) else None


def _bool(text: str | None, name: str) -> bool | None:
    if text is None:
        return None
    lowered = text.lower()
    if lowered not in ("true", "false", "1", "0"):
        raise HTTPException(422, f"'{name}' must be true or false, not {text!r}")
    return lowered in ("true", "1")


@router.get("/models", response_model=ModelList)
def list_models(
    request: Request,
    response: Response,
    kg: KGDep,
    kind: Annotated[TypingLiteral["llm", "slm"] | None, Query(description="llm or slm")] = None,
    portable: Annotated[str | None, Query(description="true: only portable models")] = None,
    cheapToFineTune: Annotated[str | None, Query(description="true: only cheap to fine-tune")] = None,
    developer: Annotated[str | None, Query(description="organisation name or id")] = None,
    capability: Annotated[str | None, Query(description=f"a class: {', '.join(CAPABILITIES)}")] = None,
    minParameters: Annotated[int | None, Query(ge=0)] = None,
    maxParameters: Annotated[int | None, Query(ge=0)] = None,
    openWeights: Annotated[str | None, Query(description="true or false")] = None,
    search: Annotated[str | None, Query(max_length=200, description="text in label or description")] = None,
    sort: Annotated[TypingLiteral["label", "parameterCount", "releaseDate", "id"], Query()] = "label",
    direction: Annotated[TypingLiteral["asc", "desc"], Query()] = "asc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ModelList:
    """List models with filters, sorting and pagination (Link and X-Total-Count headers)."""
    bindings: dict[str, Identifier] = {}
    used: list[str] = []
    if kind is not None:
        used.append("kind")
        bindings["fKind"] = LMKG.LargeLanguageModel if kind == "llm" else LMKG.SmallLanguageModel
    for name, text, var in (
        ("portable", portable, "fPortable"),
        ("cheapToFineTune", cheapToFineTune, "fCheap"),
        ("openWeights", openWeights, "fOpen"),
    ):
        flag = _bool(text, name)
        if flag is not None:
            used.append(name)
            bindings[var] = Literal(flag)
    if developer:
        used.append("developer")
        bindings["fDeveloper"] = Literal(developer.strip().lower())
    if capability is not None:
        if capability not in CAPABILITIES:
            raise HTTPException(
                422, f"'capability' must be one of {', '.join(CAPABILITIES)}, not {capability!r}"
            )
        used.append("capability")
        bindings["fCapability"] = LMKG[capability]
    if minParameters is not None:
        used.append("minParameters")
        bindings["fMin"] = Literal(minParameters)
    if maxParameters is not None:
        used.append("maxParameters")
        bindings["fMax"] = Literal(maxParameters)
    if search:
        used.append("search")
        bindings["fSearch"] = Literal(search.strip().lower())
    where = _BODY + "\n".join("  " + _FILTERS[name] for name in used)
    count_rows = kg.store.select(
        _PREFIXES + f"SELECT (COUNT(DISTINCT ?model) AS ?n) WHERE {{{where}\n}}", bindings=bindings
    )
    total = int(_python(count_rows[0].get("n")) or 0) if count_rows else 0
    order = f"{'DESC' if direction == 'desc' else 'ASC'}({_SORT[sort]})"
    query = (
        _PREFIXES + "SELECT ?model ?label ?kindClass ?parameterCount ?releaseDate ?license ?openWeights "
        '(GROUP_CONCAT(DISTINCT ?developerName; SEPARATOR="\\u001f") AS ?developers) '
        "(SAMPLE(?p) AS ?portable) (SAMPLE(?c) AS ?cheap) "
        f"WHERE {{{where}\n"
        "  OPTIONAL { ?model lmkg:developedBy/rdfs:label ?developerName }\n"
        "  BIND(EXISTS { ?model a lmkg:PortableModel } AS ?p)\n"
        "  BIND(EXISTS { ?model a lmkg:CheapToFineTuneModel } AS ?c)\n}\n"
        "GROUP BY ?model ?label ?kindClass ?parameterCount ?releaseDate ?license ?openWeights\n"
        f"ORDER BY {order} ?model LIMIT {limit} OFFSET {offset}"
    )
    models = []
    for row in kg.store.select(query, bindings=bindings):
        release = _python(row.get("releaseDate"))
        developers = str(row.get("developers") or "")
        models.append(
            ModelSummary(
                id=str(row["model"]).rsplit("/", 1)[-1],
                iri=str(row["model"]),
                label=str(row["label"]),
                kind="llm" if row["kindClass"] == LMKG.LargeLanguageModel else "slm",
                parameterCount=_python(row.get("parameterCount")),
                developer=sorted(d for d in developers.split("\u001f") if d),
                releaseDate=release.date().isoformat() if hasattr(release, "date") else release,
                license=_python(row.get("license")),
                openWeights=_python(row.get("openWeights")),
                portable=bool(_python(row.get("portable"))),
                cheapToFineTune=bool(_python(row.get("cheap"))),
            )
        )
    response.headers["X-Total-Count"] = str(total)
    links = _links(request, total, limit, offset)
    if links:
        response.headers["Link"] = ", ".join(links)
    return ModelList(total=total, limit=limit, offset=offset, models=models)


def _links(request: Request, total: int, limit: int, offset: int) -> list[str]:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def url(at: int) -> str:
        return f"{request.url.path}?{urlencode([*params, ('offset', str(at))])}"

    last = max(0, ((total - 1) // limit) * limit) if total else 0
    links = [f'<{url(0)}>; rel="first"', f'<{url(last)}>; rel="last"']
    if offset + limit < total:
        links.append(f'<{url(offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{url(max(0, offset - limit))}>; rel="prev"')
    return links


# -- one model ------------------------------------------------------------------


def inferred_summary(kg: KnowledgeGraph, classes: list[URIRef]) -> dict[str, Any]:
    size = (
        "under-threshold"
        if LMKG.ModelUnderSizeThreshold in classes
        else "over-threshold"
        if LMKG.ModelOverSizeThreshold in classes
        else None
    )
    return {
        "classes": [str(c) for c in classes],
        "portable": LMKG.PortableModel in classes,
        "cheapToFineTune": LMKG.CheapToFineTuneModel in classes,
        "sizeClass": size,
    }


def model_document(kg: KnowledgeGraph, model_id: str) -> dict[str, Any]:
    graph = kg.entry_graph(model_id)
    document = entry_to_json(graph, model_iri(model_id))
    document["inferred"] = inferred_summary(kg, kg.inferred_types(model_id))
    claims = kg.store.select(_CLAIMS, bindings={"model": model_iri(model_id), "source": GRAPH_SOURCE})
    document["sourceClaims"] = [
        {
            "text": str(row["text"]),
            "claimedKind": _python(row.get("claimedKind")),
            "curatorNote": _python(row.get("curatorNote")),
            "about": str(row["about"]),
        }
        for row in claims
    ]
    return document


def _rdf_response(kg: KnowledgeGraph, model_id: str, media_type: str) -> Response:
    graph = Graph()
    graph += kg.entry_graph(model_id)
    for cls in kg.inferred_types(model_id):
        graph.add((model_iri(model_id), RDF.type, cls))
    graph.bind("lmkg", str(LMKG._NS))
    body = graph.serialize(format=RDF_MEDIA_TYPES[media_type], encoding="utf-8")
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


_OFFERED = ["application/json", *RDF_MEDIA_TYPES]
_RDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in RDF_MEDIA_TYPES}, "description": "The entry, as JSON or RDF"},
    406: {"description": "No acceptable representation"},
}


def _negotiated(request: Request, kg: KnowledgeGraph, model_id: str) -> Response:
    chosen = choose(request.headers.get("accept"), _OFFERED)
    if chosen is None:
        raise HTTPException(
            406, f"Cannot produce any of: {request.headers.get('accept')}; offered: {', '.join(_OFFERED)}"
        )
    if chosen == "application/json":
        return JSONResponse(model_document(kg, model_id), headers={"Vary": "Accept"})
    return _rdf_response(kg, model_id, chosen)


@router.get("/models/{model_id}", response_model=dict[str, Any], responses=_RDF_RESPONSES)
def read_model(request: Request, kg: KGDep, model_id: ModelId) -> Response:
    """One model with what was inferred about it: JSON, or RDF by Accept."""
    return _negotiated(request, kg, model_id)


@router.get("/model/{model_id}", response_model=dict[str, Any], responses=_RDF_RESPONSES)
def resolve_model_iri(request: Request, kg: KGDep, model_id: ModelId) -> Response:
    """Dereference the model IRI https://w3id.org/lmkg/model/{id} (linked data)."""
    return _negotiated(request, kg, model_id)


# -- writes -----------------------------------------------------------------------


async def _entry_from_request(request: Request, expected_id: str | None = None) -> Entry:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if content_type in ("application/json", ""):
        if not content_type and not body:
            raise EntryError([("(body)", "is empty; send a JSON object describing the model")])
        return entry_from_json(parse_json(body), expected_id=expected_id)
    if content_type in RDF_FORMATS:
        graph = parse_rdf(body, RDF_FORMATS[content_type])
        return entry_from_rdf(graph, expected_id=expected_id)
    raise HTTPException(
        415,
        f"Unsupported Content-Type {content_type!r}: send application/json, application/ld+json "
        "or text/turtle.",
    )


def _rejected(request: Request, assessment: Assessment) -> Response:
    report = assessment.report
    if choose(
        request.headers.get("accept"), ["application/json", "text/turtle"]
    ) == "text/turtle" and "text/turtle" in (request.headers.get("accept") or ""):
        return Response(report.as_turtle(), status_code=422, media_type="text/turtle")
    return JSONResponse(
        {
            "status": 422,
            "detail": f"The entry does not conform: {len(report.results)} problem(s). Nothing was written.",
            "report": report.as_json(),
        },
        status_code=422,
    )


@router.post(
    "/models", status_code=201, response_model=dict[str, Any], dependencies=[Depends(require_write_token)]
)
async def create_model(request: Request, kg: KGDep) -> Response:
    """Validate, classify and store a new entry (JSON, JSON-LD or Turtle); 201 with Location."""
    from starlette.concurrency import run_in_threadpool

    entry = await _entry_from_request(request)
    outcome = await run_in_threadpool(kg.write, [entry], mode=WriteMode.CREATE)
    if outcome.rejected:
        return _rejected(request, outcome.rejected[0])
    document = await run_in_threadpool(model_document, kg, entry.id)
    return JSONResponse(document, status_code=201, headers={"Location": f"/models/{entry.id}"})


@router.put("/models/{model_id}", response_model=dict[str, Any], dependencies=[Depends(require_write_token)])
async def replace_model(request: Request, kg: KGDep, model_id: ModelId) -> Response:
    """Replace an entry and what was inferred from it."""
    from starlette.concurrency import run_in_threadpool

    entry = await _entry_from_request(request, expected_id=model_id)
    outcome = await run_in_threadpool(kg.write, [entry], mode=WriteMode.REPLACE)
    if outcome.rejected:
        return _rejected(request, outcome.rejected[0])
    return JSONResponse(await run_in_threadpool(model_document, kg, model_id))


@router.delete("/models/{model_id}", status_code=204, dependencies=[Depends(require_write_token)])
def delete_model(kg: KGDep, model_id: ModelId) -> Response:
    """Remove an entry and what was inferred from it."""
    kg.delete(model_id)
    return Response(status_code=204)


@router.post("/validate", response_model=dict[str, Any])
async def validate_entry(request: Request, kg: KGDep) -> dict[str, Any]:
    """Validate and classify an entry without storing it."""
    from starlette.concurrency import run_in_threadpool

    entry = await _entry_from_request(request)
    assessment = await run_in_threadpool(kg.assess, entry)
    classes = sorted(assessment.classification.types) if assessment.classification else []
    return {
        "id": entry.id,
        "conforms": assessment.ok,
        "report": assessment.report.as_json(),
        "inferred": inferred_summary(kg, classes),
    }


__all__ = ["CAPABILITIES", "model_document", "router"]
