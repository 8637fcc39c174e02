"""Request dependencies, as Annotated aliases used by every router.

The look-ups are `async def`: they only read app.state, and FastAPI would otherwise run each
in a worker thread, a thread hop per dependency per request."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


# auto_error=False: a missing or non-Bearer header is answered by the checks below, with
# lmkg's own messages and statuses; the schemes are here so that OpenAPI names them on the
# routes that need them.
write_bearer = HTTPBearer(
    scheme_name="writeToken",
    description="LMKG_TOKEN: every write (POST, PUT and DELETE /models, SPARQL Update, /imports) "
    "needs 'Authorization: Bearer <LMKG_TOKEN>'; with no LMKG_TOKEN set, writes are refused.",
    auto_error=False,
)
read_bearer = HTTPBearer(
    scheme_name="readToken",
    description="LMKG_READ_TOKEN: when the server sets it, every read needs "
    "'Authorization: Bearer <LMKG_READ_TOKEN>' (or the write token); /health and the UI's page do not.",
    auto_error=False,
)
BearerCredentials = HTTPAuthorizationCredentials | None


def _matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def check_write_token(settings: Settings, credentials: BearerCredentials) -> None:
    """Refuse a write unless it carries `Authorization: Bearer <LMKG_TOKEN>` (constant-time compare)."""
    if not settings.token:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Writes are disabled: this server has no token. Start it with LMKG_TOKEN=<secret> "
            "and send 'Authorization: Bearer <secret>' to enable writes.",
        )
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This write needs an 'Authorization: Bearer <token>' header.",
            headers={"WWW-Authenticate": 'Bearer realm="lmkg"'},
        )
    if not _matches(credentials.credentials, settings.token):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "The bearer token is not valid for writes on this server.",
        )


async def require_write_token(
    settings: SettingsDep, credentials: Annotated[BearerCredentials, Security(write_bearer)]
) -> None:
    check_write_token(settings, credentials)


async def require_read_token(
    settings: SettingsDep, credentials: Annotated[BearerCredentials, Security(read_bearer)]
) -> None:
    """With LMKG_READ_TOKEN set, a read needs the read token or the write token."""
    if not settings.read_token:
        return
    given = credentials.credentials if credentials is not None else ""
    # Every token is compared, in constant time, whatever matches first.
    matched = [_matches(given, token) for token in (settings.read_token, settings.token) if token]
    if credentials is None or not any(matched):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This server needs 'Authorization: Bearer <token>' for reads too (LMKG_READ_TOKEN is set).",
            headers={"WWW-Authenticate": 'Bearer realm="lmkg"'},
        )


WriteAccess = Depends(require_write_token)
"""On a route that writes: `dependencies=[WriteAccess]`."""
ReadAccess = Depends(require_read_token)
"""Added to every router that serves data when the server has LMKG_READ_TOKEN (create_app)."""
WriteCredentials = Annotated[BearerCredentials, Security(write_bearer)]
"""For a route that writes only for some requests (SPARQL Update on POST /sparql): the handler
calls check_write_token itself."""
