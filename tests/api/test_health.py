"""GET /health over the in-process client and over a real server."""

from __future__ import annotations

import httpx

from tests.conftest import ALL_STORE_KINDS

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""


def test_health_reports_seeded_counts(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["models"] == 15
    assert body["triples"] > 500


def test_health_over_real_http(live_server) -> None:
    response = httpx.get(f"{live_server.url}/health")
    assert response.status_code == 200
    assert response.json()["models"] == 15
