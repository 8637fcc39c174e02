"""The UI's routes: the page and its files at / and /ui/assets/, and the JSON look-ups it needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmkg.api import ui

pytestmark = pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)


def test_the_page_is_served_at_the_root(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="(/ui/assets/[^"]+)"', page.text)
    assert {f"/ui/assets/{name}" for name in ui.VENDOR_FILES} <= set(assets)
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["content-type"].split(";")[0] in ("text/javascript", "text/css"), asset
    # The API keeps its routes beside the UI.
    assert client.get("/health").status_code == 200
    assert client.get("/models").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/ui/assets/%2e%2e/api/ui.py", id="parent-directory"),
        pytest.param("/ui/assets/..%2f..%2fconfig.py", id="encoded-slashes"),
        pytest.param("/ui/assets/vendor", id="a-directory"),
        pytest.param("/ui/assets/no-such-file.js", id="missing"),
    ],
)
def test_no_file_outside_the_ui_is_sent(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "import" not in answer.text


def test_an_unbuilt_ui_says_how_to_build_it(client: TestClient, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>", encoding="utf-8")
    monkeypatch.setattr(ui, "WEB_DIR", tmp_path)
    answer = client.get("/")
    assert answer.status_code == 503
    assert "pip install -e ." in answer.text and "vendor/yasgui.min.js" in answer.text


def test_chart_data_matches_the_models(client: TestClient, auth: dict[str, str]) -> None:
    entry = {
        "id": "chart-probe",
        "label": "Chart probe",
        "kind": "llm",
        "parameterCount": 52_000_000_000,
        "developer": "Acme",
        "releaseDate": "2025-02-03",
        "sources": ["https://example.org/chart-probe"],
    }
    assert client.post("/models", json=entry, headers=auth).status_code == 201
    data = client.get("/ui/charts").json()
    assert data["threshold"] == 10_000_000_000
    models = client.get("/models", params={"limit": 1000}).json()["models"]
    expected = {
        m["id"]: (m["kind"], m["parameterCount"], m["releaseDate"])
        for m in models
        if m["parameterCount"] is not None and m["releaseDate"] is not None
    }
    assert {p["id"]: (p["kind"], p["parameterCount"], p["releaseDate"]) for p in data["points"]} == expected
    assert expected["chart-probe"] == ("llm", 52_000_000_000, "2025-02-03")
    # By date, then by IRI (the model ids share its prefix): the order a sample is taken in.
    shown = [(p["releaseDate"], p["id"]) for p in data["points"]]
    assert shown == sorted(shown) and len(shown) > 5
    assert all(p["label"] for p in data["points"])
    dated = [m for m in models if m["releaseDate"] is not None]
    per_year = {(r["year"], r["kind"]): r["models"] for r in data["perYear"]}
    assert sum(per_year.values()) == len(dated)
    assert per_year[(2025, "llm")] == sum(
        1 for m in dated if m["kind"] == "llm" and m["releaseDate"].startswith("2025")
    )


def test_every_capability_offered_filters_the_models(client: TestClient) -> None:
    capabilities = client.get("/ui/capabilities").json()
    names = {c["name"] for c in capabilities}
    assert {"PortableModel", "CheapToFineTuneModel"} <= names
    assert not names & {"SmallLanguageModel", "LargeLanguageModel"}  # `kind` filters by those
    for capability in capabilities:
        assert capability["label"] and capability["label"] != capability["name"]
        assert client.get("/models", params={"capability": capability["name"]}).status_code == 200
    portable = client.get("/models", params={"capability": "PortableModel"}).json()["total"]
    assert portable == client.get("/models", params={"portable": "true"}).json()["total"] > 0


def test_prefixes_are_those_of_the_named_queries(client: TestClient) -> None:
    prefixes = client.get("/ui/prefixes").json()
    assert prefixes["lmkg"] == "https://w3id.org/lmkg/ontology#"
    assert prefixes["model"] == "https://w3id.org/lmkg/model/"


@pytest.mark.parametrize("kind", ["llm", "slm"])
def test_a_bound_named_query_runs_on_sparql_as_it_does_by_name(client: TestClient, kind: str) -> None:
    bound = client.get("/ui/queries/models-by-kind", params={"kind": kind}).json()
    assert f'VALUES (?kind) {{ ("{kind}") }}' in bound["text"]
    by_name = client.get("/queries/models-by-kind", params={"kind": kind}).json()
    answer = client.get("/sparql", params={"query": bound["text"], "format": "json"})
    assert answer.status_code == 200
    models = {b["model"]["value"] for b in answer.json()["results"]["bindings"]}
    assert models == {row["model"] for row in by_name["rows"]} and models


def test_a_named_query_without_parameters_is_its_text(client: TestClient) -> None:
    bound = client.get("/ui/queries/small-language-models-per-year").json()
    assert "VALUES" not in bound["text"] and bound["summary"] == "Small language models per year"


def test_bad_named_queries_are_refused_with_a_reason(client: TestClient) -> None:
    unknown = client.get("/ui/queries/no-such-query")
    assert unknown.status_code == 404 and "GET /queries lists them" in unknown.json()["detail"]
    wrong = client.get("/ui/queries/models-by-kind", params={"kind": "huge"})
    assert wrong.status_code == 422 and "must be one of llm, slm" in wrong.json()["detail"]
    extra = client.get("/ui/queries/models-by-kind", params={"size": "1"})
    assert extra.status_code == 422 and "has no parameter size" in extra.json()["detail"]
