"""lmkg refuses a store whose default graph is not the union of its named graphs.

Regression: on an Oxigraph server started without --union-default-graph (its default), lmkg
started, seeded and wrote, /health said 200 with "models": 0, and /models listed the examples
with their ids as labels, every size null: every query reads the default graph.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmkg.api import create_app
from lmkg.config import Settings
from lmkg.errors import StoreError
from tests.conftest import ALL_STORE_KINDS, TOKEN, OxigraphServer, free_port

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""

SETTINGS_NAMED = ("--union-default-graph", "tdb2:unionDefaultGraph", "GraphDB", "Virtuoso", "DefaultGraph")


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[OxigraphServer]:
    """An Oxigraph server as it starts by default: its default graph is its own, not the union."""
    server = OxigraphServer(tmp_path / "plain", union_default_graph=False)
    server.start()
    yield server
    server.stop()


def test_the_app_refuses_to_start_and_names_the_setting(plain_server: OxigraphServer) -> None:
    settings = replace(Settings(), store=plain_server.query_url, token=TOKEN)
    with pytest.raises(StoreError) as refused, TestClient(create_app(settings)):
        pass
    message = str(refused.value)
    for setting in SETTINGS_NAMED:
        assert setting in message, f"{setting!r} not in {message!r}"
    assert plain_server.query_url in message


def test_lmkg_serve_exits_with_the_message(plain_server: OxigraphServer, tmp_path: Path) -> None:
    import os

    env = {**os.environ, "LMKG_STORE": plain_server.query_url, "LMKG_TOKEN": TOKEN}
    finished = subprocess.run(
        ["lmkg", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert "--union-default-graph" in finished.stderr
    assert "does not answer queries over the union of its named graphs" in finished.stderr


def test_a_union_server_passes_and_health_says_so(client: TestClient, store_kind: str) -> None:
    body = client.get("/health").json()
    assert body["defaultGraph"]["union"] is True
    expected = {"embedded": "oxigraph-in-process", "remote": "oxigraph", "virtuoso": "virtuoso"}[store_kind]
    assert body["storeKind"] == expected


def test_the_served_embedded_store_is_reported_as_such(tmp_path: Path) -> None:
    settings = replace(Settings(), store=str(tmp_path / "store"), token=TOKEN)
    with TestClient(create_app(settings)) as client:
        body = client.get("/health").json()
    assert body["storeKind"] == "oxigraph-served-by-lmkg"
    assert body["defaultGraph"]["union"] is True
    assert body["store"].endswith(f"({tmp_path / 'store'})")
