"""GET /models/{id}/explain: why a model is in each class it was inferred into."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lmkg.api.deps import KGDep
from lmkg.api.models import ModelId
from lmkg.explain import explain

router = APIRouter(tags=["models"])


@router.get("/models/{model_id}/explain", response_model=dict[str, Any])
def explain_model(
    kg: KGDep,
    model_id: ModelId,
) -> dict[str, Any]:
    """Explain each inferred class of a model, from its facts through the axioms used."""
    explanation = explain(kg, model_id)
    return {**explanation.as_json(), "text": explanation.as_text()}
