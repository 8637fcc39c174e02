"""Stores: the Store protocol, the embedded Oxigraph store, and the factory that picks one."""

from __future__ import annotations

from lmkg.config import Settings
from lmkg.store.base import GraphWrite, RawResult, Row, Store
from lmkg.store.oxigraph import OxigraphStore

__all__ = ["GraphWrite", "OxigraphStore", "RawResult", "Row", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store LMKG_STORE names: a directory for the embedded store (a remote URL comes later)."""
    if settings.is_remote:
        from lmkg.errors import StoreError

        raise StoreError(
            f"LMKG_STORE={settings.store} is a URL; the remote SPARQL store is not built yet "
            "(issue 5). Give a directory for the embedded store."
        )
    return OxigraphStore(settings.store)
