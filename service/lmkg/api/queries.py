"""Named queries as endpoints: GET /queries, and one typed route per queries/*.rq in OpenAPI.

A SELECT's rows come in pages (`limit`, default DEFAULT_PAGE, and `offset`), with the total in
`total` and X-Total-Count and the other pages in a Link header, as GET /models pages. The engine
still finds every row (the total is exact); the page keeps the answer small (at 100k entries the
headline query's full answer was 9.5 MB).
"""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from rdflib import Literal, URIRef
from rdflib.term import Identifier

from lmkg.api.deps import KGDep
from lmkg.commands import execute, run_select
from lmkg.config import package_data
from lmkg.knowledge import KnowledgeGraph
from lmkg.queries import NamedQuery, QueryCatalogue
from lmkg.readindex import IndexFilter
from lmkg.vocab import LMKG

_PYTHON_TYPES: dict[str, type] = {"integer": int, "decimal": float, "boolean": bool}

DEFAULT_PAGE = 50
"""Rows a page of a named query holds unless `limit` says otherwise (as GET /models)."""
MAX_PAGE = 10_000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows per page")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="rows to skip")]


def run_named(
    kg: KnowledgeGraph,
    query: NamedQuery,
    values: dict[str, str | None],
    *,
    limit: int | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """Run a named query with typed parameters bound by the engine; the JSON result, the rows
    from `offset` on, at most `limit` of them (all when None), with their `total`."""
    bindings = query.bindings(values)  # QueryParameterError: a 422
    if limit is not None:
        answered = _from_index(kg, query, bindings, limit=limit, offset=offset)
        if answered is not None:
            return answered
    output = execute(kg.store, query.text, bindings, read=query.read, plain=True)
    if output.boolean is not None:
        return {"query": query.name, "boolean": output.boolean}
    end = None if limit is None else offset + limit
    rows = [{c: row[c] for c in output.columns if c in row} for row in output.rows[offset:end]]
    return {
        "query": query.name,
        "columns": output.columns,
        "rows": rows,
        "count": len(rows),
        "total": len(output.rows),
        "limit": limit,
        "offset": offset,
    }


HEADLINE = "portable-and-cheap-to-fine-tune"
PER_YEAR = "small-language-models-per-year"


def _from_index(
    kg: KnowledgeGraph, query: NamedQuery, bindings: dict[str, Identifier], *, limit: int, offset: int
) -> dict[str, Any] | None:
    """A page of the catalogue's headline or per-year query answered with the read index
    (lmkg.readindex), or None when the engine must answer (another query, or rows the index
    cannot vouch for).

    - The headline: the index picks the models (portable and cheap, at most maxParameters)
      and their order by size, largest first, and counts them; the engine runs the query on
      the page's models only (with those tied in size at its edges, whose order is the
      query's ORDER BY), which gives the rows. When the engine's rows for them are not one a
      model (a model with two labels, say), the whole query runs in the engine instead.
    - Per year: counts of the SmallLanguageModel class per release year, from the columns.
    """
    if query.text != _catalogue_text(query.name):
        return None  # not the catalogue's query (another queries_dir): the index cannot vouch
    if query.name == HEADLINE:
        cap = bindings.get("maxParameters")
        filters = IndexFilter(
            portable=True,
            cheap_to_fine_tune=True,
            max_parameters=int(cap.toPython()) if isinstance(cap, Literal) else None,
        )
        total, before, iris = kg.read_index.window(
            filters, sort="parameterCount", descending=True, offset=offset, limit=limit
        )
        text = query.read.with_values(bindings, among=("model", [URIRef(i) for i in iris]))
        output = run_select(kg.store, text, plain=True)
        if len(output.rows) != len(iris) or len({r.get("model") for r in output.rows}) != len(iris):
            return None
        rows = output.rows[offset - before : offset - before + limit]
        page = [{c: row[c] for c in output.columns if c in row} for row in rows]
        return _answer(query, output.columns, page, total, limit, offset)
    if query.name == PER_YEAR and not bindings:
        years = kg.read_index.per_year(str(LMKG.SmallLanguageModel))
        page = [{"year": year, "models": n} for year, n in years[offset : offset + limit]]
        return _answer(query, ["year", "models"], page, len(years), limit, offset)
    return None


@cache
def _catalogue_text(name: str) -> str | None:
    """The text of the catalogue's query `name` as shipped (None: not shipped)."""
    shipped = package_data("queries") / f"{name}.rq"
    return shipped.read_text(encoding="utf-8") if shipped.is_file() else None


def _answer(
    query: NamedQuery, columns: list[str], rows: list[dict[str, Any]], total: int, limit: int, offset: int
) -> dict[str, Any]:
    return {
        "query": query.name,
        "columns": columns,
        "rows": rows,
        "count": len(rows),
        "total": total,
        "limit": limit,
        "offset": offset,
    }


def _paged(request: Request, response: Response, answer: dict[str, Any]) -> dict[str, Any]:
    """Set X-Total-Count and the Link header of a paged answer (as GET /models does)."""
    from lmkg.api.models import _links

    if "total" in answer and answer["limit"]:
        response.headers["X-Total-Count"] = str(answer["total"])
        response.headers["Link"] = _links(request, answer["total"], answer["limit"], answer["offset"])
    return answer


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _endpoint(query: NamedQuery):  # type: ignore[no-untyped-def]
    # Python names may clash with keywords ('class'): each parameter is p_NAME, aliased to NAME.
    def run(
        request: Request, response: Response, kg: KGDep, limit: int, offset: int, **params: Any
    ) -> dict[str, Any]:
        values = {k[2:]: _text(v) for k, v in params.items() if v is not None}
        return _paged(request, response, run_named(kg, query, values, limit=limit, offset=offset))

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("response", keyword, annotation=Response),
        inspect.Parameter("kg", keyword, annotation=KGDep),
    ]
    for p in query.parameters:
        python_type = _PYTHON_TYPES.get(p.type, str)
        description = p.description + (f" (one of {', '.join(p.enum)})" if p.enum else "")
        default = (
            python_type(p.default)
            if p.default is not None and python_type is not bool
            else (p.default == "true" if p.default is not None else None)
        )
        parameters.append(
            inspect.Parameter(
                f"p_{p.name}",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[python_type | None, Query(alias=p.name, description=description)],
                default=default,
            )
        )
    parameters += [
        inspect.Parameter("limit", keyword, annotation=Limit, default=DEFAULT_PAGE),
        inspect.Parameter("offset", keyword, annotation=Offset, default=0),
    ]
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__name__ = "run_" + query.name.replace("-", "_")
    run.__doc__ = query.summary
    return run


def build_router(queries_dir: Path) -> APIRouter:
    """One route per named query, typed from its header, plus the catalogue and a generic route."""
    router = APIRouter(tags=["queries"])
    catalogue = QueryCatalogue(queries_dir)

    @router.get("/queries", response_model=list[dict[str, Any]])
    def list_queries(kg: KGDep) -> list[dict[str, Any]]:
        """The named queries, with their parameters, types and defaults."""
        return [q.as_json() for q in kg.queries]

    for query in catalogue:
        router.add_api_route(
            f"/queries/{query.name}",
            _endpoint(query),
            methods=["GET"],
            response_model=dict[str, Any],
            summary=query.summary,
            description=query.description,
        )

    @router.get("/queries/{name}", response_model=dict[str, Any])
    def run_query(
        name: str,
        request: Request,
        response: Response,
        kg: KGDep,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Run any named query by name, with parameters from the query string; paged."""
        values: dict[str, str | None] = {
            k: v for k, v in request.query_params.items() if k not in ("limit", "offset")
        }
        return _paged(
            request, response, run_named(kg, kg.queries.get(name), values, limit=limit, offset=offset)
        )

    return router
