"""Regression (found by tests/api/test_hostile_routes.py): a using-graph-uri holding U+007F
passed /sparql's IRI check (a regular expression) and was refused by the writer's (Oxigraph's
RFC 3987 parser) inside the store: a 500 for a client's mistake. /sparql now checks request
graph IRIs with the writer's own test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lmkg.store import Store


@pytest.mark.parametrize("name", ["using-graph-uri", "using-named-graph-uri"])
def test_a_graph_iri_the_writer_refuses_is_a_400(
    client: TestClient, auth: dict[str, str], store: Store, name: str
) -> None:
    before = store.triple_count()
    response = client.post(
        "/sparql",
        data={
            "update": "INSERT { GRAPH <urn:lmkg:out> { ?s ?p ?o } } WHERE { ?s ?p ?o }",
            name: "urn:lmkg:\x7f",
        },
        headers=auth,
    )
    assert response.status_code == 400 and name in response.json()["detail"]
    assert store.triple_count() == before
