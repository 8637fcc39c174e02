"""Request dependencies, as Annotated aliases used by every router.

The look-ups are `async def`: they only read app.state, and FastAPI would otherwise run each
in a worker thread, a thread hop per dependency per request."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from lmkg.config import Settings
from lmkg.knowledge import KnowledgeGraph
from lmkg.store import Store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_kg(request: Request) -> KnowledgeGraph:
    kg: KnowledgeGraph = request.app.state.kg
    return kg


async def get_store(request: Request) -> Store:
    kg: KnowledgeGraph = request.app.state.kg
    return kg.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
KGDep = Annotated[KnowledgeGraph, Depends(get_kg)]
StoreDep = Annotated[Store, Depends(get_store)]


def check_write_token(settings: Settings, authorization: str | None) -> None:
    """Refuse a write unless it carries `Authorization: Bearer <LMKG_TOKEN>` (constant-time compare)."""
    if not settings.token:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Writes are disabled: this server has no token. Start it with LMKG_TOKEN=<secret> "
            "and send 'Authorization: Bearer <secret>' to enable writes.",
        )
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This write needs an 'Authorization: Bearer <token>' header.",
            headers={"WWW-Authenticate": 'Bearer realm="lmkg"'},
        )
    if not hmac.compare_digest(credentials.strip().encode(), settings.token.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "The bearer token is not valid for writes on this server.",
        )


def require_write_token(request: Request) -> None:
    settings: Settings = request.app.state.settings
    check_write_token(settings, request.headers.get("authorization"))


WriteAccess = Depends(require_write_token)
