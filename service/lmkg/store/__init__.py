"""Stores: the Store protocol, the embedded Oxigraph store, and the factory that picks one."""

from __future__ import annotations

from lmkg.config import Settings
from lmkg.store.base import GraphWrite, RawResult, Row, Store
from lmkg.store.oxigraph import OxigraphStore

__all__ = ["GraphWrite", "OxigraphStore", "RawResult", "Row", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store LMKG_STORE names: a directory (embedded Oxigraph) or a SPARQL endpoint URL.

    The embedded store runs in an engine process of its own (LMKG_ENGINE=process, the default),
    where a query past LMKG_QUERY_TIMEOUT can be stopped; LMKG_ENGINE=in-process opens it in
    this process instead (no timeout can stop a query there).
    """
    if settings.is_remote:
        from lmkg.store.remote import Endpoints, RemoteStore

        return RemoteStore(
            Endpoints.derive(settings.store, settings.store_update, settings.store_graphs),
            username=settings.store_user,
            password=settings.store_password,
            token=settings.store_token,
            timeout=settings.query_timeout,
            max_concurrent_queries=settings.max_concurrent_queries,
        )
    if settings.engine_process:
        from lmkg.store.engine import EngineStore

        if settings.engine_socket:  # a worker of `lmkg serve --workers N`: the engine is shared
            return EngineStore(
                socket_path=settings.engine_socket,
                timeout=settings.query_timeout,
                threads=settings.max_concurrent_queries,
            )
        return EngineStore(
            settings.store, timeout=settings.query_timeout, threads=settings.max_concurrent_queries
        )
    return OxigraphStore(settings.store)
