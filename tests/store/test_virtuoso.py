"""What lmkg does differently for Virtuoso 7, one test per workaround (see the README)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lmkg.store import Store

pytestmark = pytest.mark.parametrize("store_kind", ["virtuoso"], indirect=True)

JSON = {"Accept": "application/sparql-results+json"}


def test_writes_go_through_digest_credentials(client: TestClient, store: Store) -> None:
    """/sparql-auth offers only HTTP Digest: seeding wrote the ontology through it."""
    assert store.graph_names(), "nothing was written"
    assert store._client.auth.scheme == "digest"


def test_a_virtuoso_error_is_a_502_not_try_again(client: TestClient) -> None:
    # Virtuoso's bif:signal raises an SQL error while the query runs: HTTP 500.
    query = 'SELECT (<bif:signal>("22023", "lmkg-test-failure") AS ?x) WHERE { }'
    response = client.get("/sparql", params={"query": query}, headers=JSON)
    assert response.status_code == 502, response.text
    assert "Retry-After" not in response.headers
    assert "lmkg-test-failure" in response.json()["detail"]


def test_health_counts_lmkg_graphs_not_virtuoso_system_graphs(client: TestClient, store: Store) -> None:
    everything = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    body = client.get("/health").json()
    assert body["storeKind"] == "virtuoso"
    assert 0 < body["triples"] < int(everything[0]["n"])


def test_the_model_list_sorts_by_label_on_virtuoso(client: TestClient) -> None:
    response = client.get("/models", params={"sort": "label", "limit": 1000})
    assert response.status_code == 200, response.text
    names = [m["label"].lower() for m in response.json()["models"]]
    assert names and names == sorted(names)


# -- the server's own limits (README, "Virtuoso 7") ------------------------------------------

V11 = " ".join(str(i) for i in range(11))
MANY_ROWS = f"SELECT ?a ?b ?c ?d WHERE {{ VALUES ?a {{ {V11} }} VALUES ?b {{ {V11} }} VALUES ?c {{ {V11} }} VALUES ?d {{ {V11} }} }}"
"""11^4 = 14,641 rows from no data: more than Virtuoso's defaults let through (10,000)."""
V200 = " ".join(str(i) for i in range(200))
LONG = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?a {{ {V200} }} VALUES ?b {{ {V200} }} VALUES ?c {{ {V200} }} VALUES ?d {{ {V200} }} }}"
"""1.6 billion solutions counted: seconds of work on any machine."""


def test_the_fixture_settings_let_a_sorted_result_past_10000_rows_through(client: TestClient) -> None:
    """MaxSortedTopRows and ResultSetMaxRows above LMKG_MAX_ROWS: lmkg's LIMIT 100001 is sorted whole."""
    response = client.get("/sparql", params={"query": MANY_ROWS + " ORDER BY ?a ?b ?c ?d"}, headers=JSON)
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    assert len(rows) == 11**4
    assert [int(rows[-1][v]["value"]) for v in "abcd"] == [10, 10, 10, 10]
    assert "X-SPARQL-MaxRows" not in response.headers
