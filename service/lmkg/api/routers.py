"""The routers the app mounts, in order."""

from __future__ import annotations

from fastapi import APIRouter

from lmkg.api import explain, health, models, sparql

ROUTERS: list[APIRouter] = [health.router, sparql.router, models.router, explain.router]
