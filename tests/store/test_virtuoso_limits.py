"""Virtuoso's own limits, met the way lmkg reports them (README, "Virtuoso 7"): on a Virtuoso
with the settings Debian ships, not the fixture's (tests/conftest.py, VIRTUOSO_INI)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from lmkg.api import create_app
from lmkg.config import Settings
from lmkg.errors import StoreFailedError
from lmkg.store import open_store
from tests.conftest import TOKEN, VIRTUOSO_INI, VirtuosoServer
from tests.store.test_virtuoso import JSON, LONG, MANY_ROWS

DEFAULT_LIMITS_INI = (
    "\n".join(
        line
        for line in VIRTUOSO_INI.splitlines()
        if not line.startswith(("MaxSortedTopRows", "ResultSetMaxRows", "MaxQueryExecutionTime"))
    ).replace("[SPARQL]\n", "[SPARQL]\nResultSetMaxRows = 10000\nMaxQueryExecutionTime = 2\n")
    + "\n"
)
"""Virtuoso as Debian ships it (ResultSetMaxRows 10,000, MaxSortedTopRows at its default of
10,000), and a store time limit (2 s) below lmkg's."""


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso-limited"), ini=DEFAULT_LIMITS_INI)
    server.start()
    yield server.settings(replace(Settings(), token=TOKEN))
    server.stop()


def test_the_sort_limit_is_a_store_fault_naming_the_setting(limited: Settings) -> None:
    with TestClient(create_app(limited)) as client:
        response = client.get("/sparql", params={"query": MANY_ROWS + " ORDER BY ?a"}, headers=JSON)
    assert response.status_code == 502, response.text
    assert "Retry-After" not in response.headers
    assert "MaxSortedTopRows" in response.json()["detail"]


def test_a_result_the_store_cut_carries_its_limit(limited: Settings) -> None:
    with TestClient(create_app(limited)) as client:
        for accept in ("application/sparql-results+json", "text/csv"):
            response = client.get("/sparql", params={"query": MANY_ROWS}, headers={"Accept": accept})
            assert response.status_code == 200, response.text
            assert response.headers["X-SPARQL-MaxRows"] == "10000", accept
    store = open_store(limited)
    try:
        with pytest.raises(StoreFailedError, match="ResultSetMaxRows"):
            store.select(MANY_ROWS)  # a query of lmkg's own, cut, would be a wrong answer
    finally:
        store.close()


def test_the_store_time_limit_is_a_timeout_naming_the_setting(limited: Settings) -> None:
    with TestClient(create_app(limited)) as client:
        response = client.get("/sparql", params={"query": LONG}, headers=JSON)
    assert response.status_code == 503, response.text
    assert "MaxQueryExecutionTime" in response.json()["detail"]
