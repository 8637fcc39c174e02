"""Stores: the Store protocol, the embedded Oxigraph store, and the factory that picks one."""

from __future__ import annotations

from lmkg.config import Settings
from lmkg.store.base import GraphWrite, RawResult, Row, Store
from lmkg.store.oxigraph import OxigraphStore

__all__ = ["GraphWrite", "OxigraphStore", "RawResult", "Row", "Store", "open_store"]


def open_store(settings: Settings, *, in_process: bool = False) -> Store:
    """The store LMKG_STORE names: a SPARQL endpoint URL, or a directory (the embedded store).

    The embedded store is served by an Oxigraph server this store starts and supervises
    (`lmkg.store.server`), reached through the same SPARQL client as a remote store, so that a
    query past LMKG_QUERY_TIMEOUT is answered at the limit while others go on. `in_process`
    opens the directory with pyoxigraph in this process instead: for the CLI's loading and
    queries, where nothing runs beside them and no time limit applies.
    """
    from lmkg.store.remote import Endpoints, RemoteStore

    if settings.is_remote:
        return RemoteStore(
            Endpoints.derive(settings.store, settings.store_update, settings.store_graphs),
            username=settings.store_user,
            password=settings.store_password,
            token=settings.store_token,
            timeout=settings.query_timeout,
            max_concurrent_queries=settings.max_concurrent_queries,
            changes_path=settings.store_changes,
            location=settings.served_store,
        )
    if in_process:
        return OxigraphStore(settings.store)
    from lmkg.store.server import ServedStore

    return ServedStore(settings)
