"""The routers the app mounts, in order."""

from __future__ import annotations

from fastapi import APIRouter

from lmkg.api import classes, explain, health, imports, models, ontology, queries, sparql, ui
from lmkg.config import Settings


def routers(settings: Settings) -> list[APIRouter]:
    """Every router; the named-query routes are generated from settings.queries_dir."""
    return [
        health.router,
        sparql.router,
        models.router,
        explain.router,
        queries.build_router(settings.queries_dir),
        classes.router,
        ontology.router,
        imports.router,
        ui.router,
    ]
