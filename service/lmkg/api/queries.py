"""Named queries as endpoints: GET /queries, and one typed route per queries/*.rq in OpenAPI."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from rdflib import Literal

from lmkg.api.deps import KGDep
from lmkg.commands import execute
from lmkg.knowledge import KnowledgeGraph
from lmkg.queries import NamedQuery, QueryCatalogue

_PYTHON_TYPES: dict[str, type] = {"integer": int, "decimal": float, "boolean": bool}


def _json(value: object) -> Any:
    if isinstance(value, Literal):
        python = value.toPython()
        return python if isinstance(python, bool | int | float | str) else str(value)
    return None if value is None else str(value)


def run_named(kg: KnowledgeGraph, query: NamedQuery, values: dict[str, str | None]) -> dict[str, Any]:
    """Run a named query with typed parameters bound by the engine; the JSON result."""
    bindings = query.bindings(values)  # QueryParameterError: a 422
    output = execute(kg.store, query.text, bindings)
    if output.boolean is not None:
        return {"query": query.name, "boolean": output.boolean}
    rows = [{c: _json(row.get(c)) for c in output.columns if c in row} for row in output.rows]
    return {"query": query.name, "columns": output.columns, "rows": rows, "count": len(rows)}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _endpoint(query: NamedQuery):  # type: ignore[no-untyped-def]
    # Python names may clash with keywords ('class'): each parameter is p_NAME, aliased to NAME.
    def run(kg: KGDep, **params: Any) -> dict[str, Any]:
        values = {k[2:]: _text(v) for k, v in params.items() if v is not None}
        return run_named(kg, query, values)

    parameters = [inspect.Parameter("kg", inspect.Parameter.KEYWORD_ONLY, annotation=KGDep)]
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
    def run_query(name: str, request: Request, kg: KGDep) -> dict[str, Any]:
        """Run any named query by name, with parameters from the query string."""
        return run_named(kg, kg.queries.get(name), dict(request.query_params))

    return router
