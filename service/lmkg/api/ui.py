"""The browser UI: its page at /, its files under /ui/assets/, and the few JSON look-ups it needs.

The page is a client of the HTTP API (/sparql, /models, /classes, /validate, ...). The JSON
routes here answer what no other route does: chart data, the editor's prefixes, and a named
query's text with its parameters bound, so that the editor shows exactly what runs.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel
from rdflib import Literal
from rdflib.namespace import RDFS

from lmkg.api.deps import KGDep
from lmkg.entries import KINDS
from lmkg.errors import NotFoundError
from lmkg.models_query import capability_classes
from lmkg.store import sparqltext
from lmkg.vocab import GRAPH_INFERRED, LMKG, PREFIXES, model_id_of

router = APIRouter(tags=["browser UI"])
pages = APIRouter(tags=["browser UI"])
"""The page and its static files: they hold no data, so LMKG_READ_TOKEN does not guard them
(the page asks for the token)."""

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""The UI's files: the page, its scripts and styles, and vendor/ (built from web/ by the install step)."""

VENDOR_FILES = ("vendor/yasgui.min.js", "vendor/yasgui.min.css", "vendor/chart.umd.min.js")

_KIND_NAMES = {str(cls): name for name, cls in KINDS.items()}

# The kind an entry asserts (its own graph, not the inferred one), with size and date.
_POINTS = """
PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?model (SAMPLE(?name) AS ?label) (SAMPLE(?kindClass) AS ?kind)
       (MAX(?count) AS ?parameterCount) (MIN(?date) AS ?releaseDate)
WHERE {
  VALUES ?kindClass { lmkg:LargeLanguageModel lmkg:SmallLanguageModel }
  GRAPH ?entryGraph { ?model a ?kindClass }
  FILTER(?entryGraph != ?inferredGraph)
  ?model lmkg:parameterCount ?count ; lmkg:releaseDate ?date .
  OPTIONAL { ?model rdfs:label ?name }
}
GROUP BY ?model
ORDER BY ?releaseDate
"""

_PER_YEAR = """
PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
SELECT ?year ?kind (COUNT(DISTINCT ?model) AS ?models)
WHERE {
  VALUES ?kind { lmkg:LargeLanguageModel lmkg:SmallLanguageModel }
  GRAPH ?entryGraph { ?model a ?kind }
  FILTER(?entryGraph != ?inferredGraph)
  ?model lmkg:releaseDate ?date .
  BIND(YEAR(?date) AS ?year)
}
GROUP BY ?year ?kind
ORDER BY ?year ?kind
"""


class ChartPoint(BaseModel):
    """One model on the scatter plot."""

    id: str
    label: str
    kind: str
    parameterCount: int
    releaseDate: str


class YearCount(BaseModel):
    """How many models of one kind were released in one year."""

    year: int
    kind: str
    models: int


class ChartData(BaseModel):
    """What the charts page draws: models by size and date, counts per kind and year, the threshold."""

    threshold: int
    points: list[ChartPoint]
    perYear: list[YearCount]


class Capability(BaseModel):
    """A class GET /models filters by (its `capability` parameter), with its label."""

    name: str
    label: str


class BoundQuery(BaseModel):
    """A named query's text with its parameters bound by a VALUES block, ready for /sparql."""

    name: str
    summary: str
    description: str
    text: str


# -- the page and its files ------------------------------------------------------------


@pages.get("/", response_class=HTMLResponse, include_in_schema=False)
def read_ui() -> Response:
    """The browser UI's page (503 with what to do when the front-end libraries were never built)."""
    missing = [name for name in VENDOR_FILES if not (WEB_DIR / name).is_file()]
    if missing:
        return HTMLResponse(
            "<!doctype html><html lang='en'><title>lmkg</title><h1>The browser UI is not built</h1>"
            f"<p>Missing: {', '.join(missing)}. Run <code>pip install -e .</code> in the checkout "
            "(it needs <code>npm</code>): the install step builds them from web/package.json. "
            "The HTTP API works without them: see <a href='/docs'>/docs</a>.</p></html>",
            status_code=503,
        )
    return FileResponse(WEB_DIR / "index.html", media_type="text/html")


@pages.get("/ui/assets/{path:path}", include_in_schema=False)
def read_asset(path: str) -> FileResponse:
    """A file of the UI; nothing outside its directory is ever sent."""
    target = (WEB_DIR / path).resolve()
    if not target.is_relative_to(WEB_DIR) or not target.is_file():
        raise NotFoundError(f"The browser UI has no file '{path}'.")
    media_type, _ = mimetypes.guess_type(target.name)
    if target.suffix in (".js", ".mjs"):
        media_type = "text/javascript"
    return FileResponse(target, media_type=media_type or "application/octet-stream")


# -- JSON look-ups the UI needs --------------------------------------------------------


@router.get("/ui/prefixes", response_model=dict[str, str])
def read_prefixes() -> dict[str, str]:
    """The prefixes the SPARQL editor declares, as the named queries and the CLI use them."""
    return dict(PREFIXES)


@router.get("/ui/capabilities", response_model=list[Capability])
def list_capabilities(kg: KGDep) -> list[Capability]:
    """The values GET /models accepts for `capability`, each with its label, for a form's choices."""
    return [
        Capability(name=name, label=str(kg.ontology.value(cls, RDFS.label) or name))
        for name, cls in capability_classes(kg.classifier).items()
    ]


@router.get("/ui/charts", response_model=ChartData)
def read_chart_data(kg: KGDep) -> ChartData:
    """Models with a size and a release date, by the kind their entry asserts; counts per kind and year."""
    bindings = {"inferredGraph": GRAPH_INFERRED}
    points = [
        ChartPoint(
            id=model_id_of(str(row["model"])) or str(row["model"]),
            label=str(row.get("label") or row["model"]),
            kind=_KIND_NAMES[str(row["kind"])],
            parameterCount=int(str(row["parameterCount"])),
            releaseDate=str(row["releaseDate"])[:10],
        )
        for row in kg.store.select(_POINTS, bindings=bindings)
    ]
    per_year = [
        YearCount(
            year=int(str(row["year"])), kind=_KIND_NAMES[str(row["kind"])], models=int(str(row["models"]))
        )
        for row in kg.store.select(_PER_YEAR, bindings=bindings)
        if "year" in row
    ]
    threshold = kg.ontology.value(LMKG.ModelUnderSizeThreshold, LMKG.thresholdParameters)
    if not isinstance(threshold, Literal):
        raise NotFoundError("The ontology gives lmkg:ModelUnderSizeThreshold no lmkg:thresholdParameters.")
    return ChartData(threshold=int(threshold.toPython()), points=points, perYear=per_year)


@router.get("/ui/queries/{name}", response_model=BoundQuery)
def read_bound_query(name: str, request: Request, kg: KGDep) -> BoundQuery:
    """A named query's SPARQL with the query string's parameters (or their defaults) bound."""
    query = kg.queries.get(name)
    bindings = query.bindings(dict(request.query_params))
    return BoundQuery(
        name=query.name,
        summary=query.summary,
        description=query.description,
        text=sparqltext.read(query.text).with_values(bindings),
    )
