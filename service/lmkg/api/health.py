"""GET /health: is the store reachable, what is it, and how much does it hold."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from lmkg.api.deps import KGDep
from lmkg.store.checks import DefaultGraphCheck, store_kind

router = APIRouter(tags=["operations"])


class DefaultGraph(BaseModel):
    union: bool = Field(description="Whether the store's default graph showed its named graphs' triples")
    detail: str


class Health(BaseModel):
    status: str
    store: str
    storeKind: str = Field(
        description="oxigraph-served-by-lmkg, oxigraph-in-process, oxigraph, virtuoso, fuseki, graphdb or sparql"
    )
    defaultGraph: DefaultGraph = Field(description="The start-up check of the store's default graph")
    triples: int
    models: int


@router.get("/health", response_model=Health)
def read_health(kg: KGDep, request: Request) -> Health:
    """Report whether the store answers, what it is, and its triple and model counts."""
    checked: DefaultGraphCheck = request.app.state.default_graph
    return Health(
        status="ok",
        store=kg.store_description,
        storeKind=store_kind(kg.store),
        defaultGraph=DefaultGraph(union=checked.union, detail=checked.detail),
        triples=kg.store.triple_count(),
        models=kg.count_models(),
    )
