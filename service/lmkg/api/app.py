"""The app factory: `create_app(settings)` builds a FastAPI app with its own store."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lmkg import __version__
from lmkg.api.cache import KeptAnswers, ResponseCache
from lmkg.api.health import StoreCounts
from lmkg.config import Settings
from lmkg.errors import LmkgError, StoreError
from lmkg.knowledge import KnowledgeGraph
from lmkg.store import Store, open_store
from lmkg.store.checks import require_union_default_graph

log = logging.getLogger("lmkg.http")


def _error(status_code: int, detail: object, **extra: object) -> JSONResponse:
    return JSONResponse({"status": status_code, "detail": detail, **extra}, status_code=status_code)


def _install_error_handlers(app: FastAPI) -> None:
    # Starlette's class: FastAPI's HTTPException and the router's own 404 and 405 alike.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = (
                f"No resource at {request.url.path!r}: /docs lists this service's routes "
                "(a model id has no '/': lowercase letters, digits, '.', '_' and '-')."
            )
        response = _error(exc.status_code, detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        said = "; ".join(f"{p['where']}: {p['message']}" for p in problems)
        return _error(422, f"The request is not valid: {said}", problems=problems)

    @app.exception_handler(LmkgError)
    async def lmkg_error(request: Request, exc: LmkgError) -> Response:
        """Every lmkg error, answered with the status and headers its class carries."""
        if exc.status >= 500:
            log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
        problems = exc.problems_json()
        response = _error(exc.status, exc.detail, **({"problems": problems} if problems is not None else {}))
        response.headers.update(exc.headers)
        return response


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["status", "detail"],
    "properties": {
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What is wrong, and where"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"where": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
"""Every error this app sends: {"status", "detail"}, with the fields at fault for a 422."""


def _document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document describe the errors sent: FastAPI's default says a 422 holds
    a list of validation errors, and says nothing of the 404 for a path naming nothing."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["HTTPValidationError"] = ERROR_SCHEMA
        schemas["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                if "{" in path:
                    operation.setdefault("responses", {}).setdefault(
                        "404", {"description": "Nothing has this name.", "content": error}
                    )
        return document

    app.openapi = openapi  # type: ignore[method-assign]


class BodyLimit:
    """Refuse a request body past LMKG_MAX_BODY_BYTES with 413, before it is read into memory.

    A declared Content-Length is checked at once; a chunked body is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        too_large = False

        async def counted() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)
        except Exception:
            if too_large and not started:
                await self._refuse(scope, receive, send)
            else:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _error(
            413,
            f"The request body is larger than this server accepts ({self.max_bytes} bytes, "
            "LMKG_MAX_BODY_BYTES); send fewer entries per request",
        )
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class RequestLog:
    """Logs each request's method, path, status and time, as ASGI middleware.

    Starlette's `@app.middleware("http")` wraps every response in a stream through a task
    group; at a few hundred look-ups a second that wrapping cost more than the look-up.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500  # what the server answers when the app raises before it starts a response

        async def noted(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status_code,
                (time.perf_counter() - started) * 1000,
            )


def _exit_with_parent() -> None:
    """A worker of `lmkg serve --workers N` ends when the process that supervises it and the
    store's server is gone (uvicorn leaves its workers running when its master is killed)."""
    parent = os.getppid()
    if os.environ.get("LMKG_WORKER_OF") != str(parent):
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        log.error("the supervising process is gone: this worker stops")
        os._exit(1)

    threading.Thread(target=watch, name="lmkg-parent-watch", daemon=True).start()


SERVING_ENV = "LMKG_SERVING"
"""Set by `lmkg serve` for its app (and its workers): a process that serves until it ends."""


def _warm_read_index(kg: KnowledgeGraph, serving: bool) -> None:
    try:
        if serving:
            kg.read_index.checkpoint_in_background()
        kg.read_index.warm()
    except Exception as exc:  # the first request that needs the index meets the error
        logging.getLogger(__name__).info("the read index was not loaded ahead: %s", exc)
    if serving:
        _freeze_what_start_up_made()


def _freeze_what_start_up_made() -> None:
    """Leave what start-up made (the ontology, the shapes, the classifier, the imports) out of
    every later garbage collection: they live as long as the process. A full collection
    walked them all, 150,000 objects, and stopped every request for 85-160 ms each time, a few
    times a minute under writes (bench/RESULTS.md, "The fourth pass"). Objects freed by their
    reference count are freed as before; a frozen cycle would stay, and start-up makes none
    that it drops. Only in `lmkg serve` (SERVING_ENV): a process that makes many apps (the
    tests) would keep every one of them."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, serving: bool | None = None
) -> FastAPI:
    """Build the lmkg HTTP app; the store opens at start-up (from settings unless given).
    `serving`: the app is the one a long-running process serves (default: SERVING_ENV is set,
    as `lmkg serve` sets it): the read index copies its log back in a thread of its own and
    what start-up made is frozen out of garbage collection."""
    settings = settings or Settings.from_env()
    if serving is None:
        serving = bool(os.environ.get(SERVING_ENV))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _exit_with_parent()
        opened = store if store is not None else open_store(settings)
        kg = KnowledgeGraph(opened, settings)
        kg.ensure_seeded()
        try:
            app.state.default_graph = require_union_default_graph(opened)
        except StoreError:
            if store is None:
                opened.close()
            raise
        app.state.settings = settings
        app.state.kg = kg
        app.state.store_counts = StoreCounts(kg)  # /health's, made beside the requests
        # The read index's columns load in the background: seconds at 1M entries.
        threading.Thread(
            target=_warm_read_index, args=(kg, serving), name="lmkg-warm-index", daemon=True
        ).start()
        app.state.response_cache = ResponseCache(settings.cache_entries)
        try:
            yield
        finally:
            if store is None:
                opened.close()

    app = FastAPI(
        title="lmkg",
        version=__version__,
        summary="A knowledge graph of language models: SPARQL, REST look-ups and validated writes.",
        lifespan=lifespan,
    )
    # Innermost, so that CORS (and everything outside) handles kept answers like fresh ones.
    app.add_middleware(KeptAnswers)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
        )

    app.add_middleware(RequestLog)
    _install_error_handlers(app)
    _document_errors(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    from lmkg.api.deps import ReadAccess
    from lmkg.api.routers import data_routers, open_routers

    for router in open_routers():
        app.include_router(router)
    # Only a server with a read token lists it in OpenAPI as needed by its reads.
    guarded = [ReadAccess] if settings.read_token else []
    for router in data_routers(settings):
        app.include_router(router, dependencies=guarded)
    return app
