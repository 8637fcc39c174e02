"""The routers the app mounts, in order."""

from __future__ import annotations

from fastapi import APIRouter

from lmkg.api import classes, explain, health, imports, models, ontology, queries, sparql, ui
from lmkg.config import Settings


def open_routers() -> list[APIRouter]:
    """What holds no data: open even when LMKG_READ_TOKEN is set."""
    return [health.router, ui.pages]


def data_routers(settings: Settings) -> list[APIRouter]:
    """Every router that serves data (guarded by the read token when the server has one); the
    named-query routes are generated from settings.queries_dir."""
    return [
        sparql.router,
        models.router,
        explain.router,
        queries.build_router(settings.queries_dir),
        classes.router,
        ontology.router,
        imports.router,
        ui.router,
    ]
