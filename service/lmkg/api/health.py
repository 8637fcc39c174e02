"""GET /health: is the store reachable, and how much does it hold."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from lmkg.api.deps import KGDep

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    store: str
    triples: int
    models: int


@router.get("/health", response_model=Health)
def read_health(kg: KGDep) -> Health:
    """Report whether the store answers, with its triple and model counts."""
    return Health(
        status="ok",
        store=kg.store_description,
        triples=kg.store.triple_count(),
        models=kg.count_models(),
    )
