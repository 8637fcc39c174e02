"""The routers the app mounts, in order."""

from __future__ import annotations

from fastapi import APIRouter

from lmkg.api import health

ROUTERS: list[APIRouter] = [health.router]
