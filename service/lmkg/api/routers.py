"""The routers the app mounts, in order."""

from __future__ import annotations

from fastapi import APIRouter

from lmkg.api import health, sparql

ROUTERS: list[APIRouter] = [health.router, sparql.router]
