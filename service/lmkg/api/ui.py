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
from pydantic import BaseModel, Field
from rdflib import Literal
from rdflib.namespace import RDFS

from lmkg.api.deps import KGDep
from lmkg.entries import KINDS
from lmkg.errors import NotFoundError
from lmkg.lookup import json_bytes
from lmkg.models_query import capability_classes
from lmkg.store import sparqltext
from lmkg.vocab import LMKG, PREFIXES

router = APIRouter(tags=["browser UI"])
pages = APIRouter(tags=["browser UI"])
"""The page and its static files: they hold no data, so LMKG_READ_TOKEN does not guard them
(the page asks for the token)."""

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""The UI's files: the page, its scripts and styles, and vendor/ (built from web/ by the install step)."""

VENDOR_FILES = ("vendor/yasgui.min.js", "vendor/yasgui.min.css", "vendor/chart.umd.min.js")

_KIND_NAMES = {str(cls): name for name, cls in KINDS.items()}


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


class ChartBin(BaseModel):
    """How many models of one kind fall in one cell: a release year, and a power of ten of size."""

    year: int
    decade: int = Field(description="floor(log10(parameterCount)): 9 holds 1 to 9.99 billion")
    kind: str
    models: int


class ChartData(BaseModel):
    """What the charts page draws: models by size and date (every one up to MAX_POINTS, else an
    even sample of them and `bins` counting them all), counts per kind and year, the threshold."""

    threshold: int
    points: list[ChartPoint]
    pointsTotal: int
    bins: list[ChartBin]
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


MAX_POINTS = 1500
"""The most points /ui/charts sends; past it a sample (about 100 KB) and the bins."""


@router.get("/ui/charts", response_model=ChartData)
def read_chart_data(kg: KGDep) -> Response:
    """Models with a size and a release date, by kind, sampled past MAX_POINTS and counted in
    bins; counts per kind and year. Aggregated by the read index (lmkg.readindex); the body is
    ChartData written at once (1,500 points made into pydantic models and checked again cost
    a fifth of the answer), its points as SQLite wrote them."""
    charts = kg.read_index.charts(max_points=MAX_POINTS)
    threshold = kg.ontology.value(LMKG.ModelUnderSizeThreshold, LMKG.thresholdParameters)
    if not isinstance(threshold, Literal):
        raise NotFoundError("The ontology gives lmkg:ModelUnderSizeThreshold no lmkg:thresholdParameters.")
    rest = {
        "threshold": int(threshold.toPython()),
        "pointsTotal": int(charts.points_total),
        "bins": [{"year": int(y), "decade": int(d), "kind": str(k), "models": int(n)} for y, d, k, n in charts.bins],
        "perYear": [{"year": int(y), "kind": str(k), "models": int(n)} for y, k, n in charts.per_year],
    }
    # The points come as JSON from the index (SQLite writes them); the rest is written here.
    body = '{"points":' + charts.points + "," + json_bytes(rest).decode("utf-8")[1:]
    return Response(body.encode("utf-8"), media_type="application/json")


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
