"""REST look-ups and validated writes: /models, /models/{id}, /model/{id}, /validate."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from rdflib import Graph

from lmkg.commands import execute
from lmkg.knowledge import KnowledgeGraph
from lmkg.vocab import GRAPH_INFERRED, LMKG, model_iri

DATA = Path(__file__).parent.parent / "data"
SMALL = {
    "orca-2",
    "orca-2-7b",
    "orca-2-13b",
    "gpt-neo",
    "gpt-neo-125m",
    "gpt-neo-1.3b",
    "gpt-neo-2.7b",
    "phi-3-mini",
}
LARGE = {"gpt-4", "mistral-7b", "llama-3", "llama-3-8b", "llama-3-70b"}
ENTRY = json.loads((DATA / "valid-entries" / "minimal.json").read_text())


def ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {m["id"] for m in response.json()["models"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("kind=slm", SMALL, id="kind-slm"),
        pytest.param("kind=llm", LARGE, id="kind-llm"),
        pytest.param("portable=true", SMALL, id="portable"),
        pytest.param("portable=false", LARGE, id="not-portable"),
        pytest.param(
            "developer=EleutherAI",
            {"gpt-neo", "gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b"},
            id="developer-name",
        ),
        pytest.param(
            "developer=microsoft-research", {"orca-2", "orca-2-7b", "orca-2-13b"}, id="developer-id"
        ),
        pytest.param("capability=VersatileModel", LARGE, id="capability"),
        pytest.param("maxParameters=3000000000", {"gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b"}, id="max"),
        pytest.param("minParameters=10000000001", {"orca-2-13b", "llama-3-70b"}, id="min"),
        pytest.param("openWeights=false", {"gpt-4"}, id="open-weights"),
        pytest.param("search=PHONE", {"phi-3-mini"}, id="search-description"),
        pytest.param(
            "kind=slm&maxParameters=5000000000&search=neo",
            {"gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b"},
            id="combined",
        ),
    ],
)
def test_filters_narrow_the_list(client, query: str, expected: set[str]) -> None:
    assert ids(client.get(f"/models?{query}")) == expected


def test_portable_and_cheap_equals_the_named_query(client, kg: KnowledgeGraph) -> None:
    rest = ids(client.get("/models?portable=true&cheapToFineTune=true&limit=1000"))
    named = kg.queries.get("portable-and-cheap-to-fine-tune")
    rows = execute(kg.store, named.text, named.bindings({})).rows
    assert rest == {str(r["model"]).rsplit("/", 1)[-1] for r in rows} == SMALL


def test_sort_and_pagination(client) -> None:
    first = client.get("/models?sort=parameterCount&direction=desc&limit=4")
    assert [m["id"] for m in first.json()["models"]] == [
        "llama-3-70b",
        "orca-2-13b",
        "llama-3-8b",
        "mistral-7b",
    ]
    assert first.headers["x-total-count"] == "13" and first.json()["total"] == 13
    link = first.headers["link"]
    assert 'rel="next"' in link and 'rel="last"' in link and 'rel="prev"' not in link
    rels = {part.split('rel="')[1].rstrip('"'): part.split("<")[1].split(">")[0] for part in link.split(", ")}
    next_url = rels["next"]
    second = client.get(next_url)
    assert second.json()["offset"] == 4 and 'rel="prev"' in second.headers["link"]
    assert not {m["id"] for m in first.json()["models"]} & {m["id"] for m in second.json()["models"]}
    by_label = [m["label"] for m in client.get("/models?sort=label&limit=100").json()["models"]]
    assert by_label == sorted(by_label)


def test_bad_filter_values(client) -> None:
    assert client.get("/models?capability=Nope").status_code == 422
    assert client.get("/models?portable=maybe").status_code == 422
    assert client.get("/models?limit=0").status_code == 422


def test_read_model_with_inferences_and_claims(client) -> None:
    body = client.get("/models/orca-2-13b").json()
    assert body["kind"] == "slm" and body["parameterCount"] == 13_000_000_000
    assert body["inferred"]["portable"] and body["inferred"]["sizeClass"] == "over-threshold"
    assert body["sourceClaims"][0]["text"] == "ORCAD 2"
    assert client.get("/models/gpt-4").json()["inferred"]["portable"] is False


@pytest.mark.parametrize(
    ("media_type", "parser"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
    ],
)
@pytest.mark.parametrize("path", ["/models/phi-3-mini", "/model/phi-3-mini"])
def test_model_as_rdf(client, path: str, media_type: str, parser: str) -> None:
    response = client.get(path, headers={"Accept": media_type})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
    graph = Graph().parse(data=response.text, format=parser)
    subject = model_iri("phi-3-mini")
    assert (subject, None, LMKG.PortableModel) in graph
    assert (subject, LMKG.parameterCount, None) in graph


def test_model_errors(client) -> None:
    assert client.get("/models/phi-3-mini", headers={"Accept": "image/png"}).status_code == 406
    missing = client.get("/models/no-such-model")
    assert missing.status_code == 404 and "no-such-model" in missing.json()["detail"]
    assert client.get("/models/Bad!Id").status_code == 422


def test_invalid_post_is_422_names_the_property_and_writes_nothing(client, auth, store) -> None:
    before = store.triple_count()
    response = client.post("/models", json={**ENTRY, "parameterCount": -1}, headers=auth)
    assert response.status_code == 422
    paths = [r["path"] for r in response.json()["report"]["results"]]
    assert str(LMKG.parameterCount) in paths
    assert all(
        {"focusNode", "path", "value", "message", "severity"} <= set(r)
        for r in response.json()["report"]["results"]
    )
    assert store.triple_count() == before
    turtle = client.post("/models", json={**ENTRY, "sources": []}, headers={**auth, "Accept": "text/turtle"})
    assert turtle.status_code == 422
    assert len(Graph().parse(data=turtle.text, format="turtle")) > 3


def test_valid_post_is_visible_at_once_with_its_inferences(client, auth) -> None:
    response = client.post("/models", json=ENTRY, headers=auth)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/models/tinyllama-1.1b"
    assert response.json()["inferred"]["portable"] is True
    assert "tinyllama-1.1b" in ids(client.get("/models?portable=true&cheapToFineTune=true"))
    ask = "ASK { <https://w3id.org/lmkg/model/tinyllama-1.1b> a <https://w3id.org/lmkg/ontology#CheapToFineTuneModel> }"
    assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 409


def test_writes_need_the_token(client, auth) -> None:
    assert client.post("/models", json=ENTRY).status_code == 401
    assert client.post("/models", json=ENTRY, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.delete("/models/phi-3-mini").status_code == 401
    assert client.get("/models/phi-3-mini").status_code == 200


def test_put_and_delete_replace_and_remove_inferences(client, auth, store) -> None:
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    replaced = client.put("/models/tinyllama-1.1b", json={**ENTRY, "kind": "llm"}, headers=auth)
    assert replaced.status_code == 200 and replaced.json()["inferred"]["portable"] is False
    assert client.put("/models/other-id", json=ENTRY, headers=auth).status_code == 422
    assert client.put("/models/not-there", json={**ENTRY, "id": "not-there"}, headers=auth).status_code == 404
    assert client.delete("/models/tinyllama-1.1b", headers=auth).status_code == 204
    assert client.get("/models/tinyllama-1.1b").status_code == 404
    inferred = store.select(
        "SELECT ?c WHERE { GRAPH ?g { ?m a ?c } }",
        bindings={"g": GRAPH_INFERRED, "m": model_iri("tinyllama-1.1b")},
    )
    assert inferred == []


@pytest.mark.parametrize(
    ("name", "media_type", "model_id"),
    [
        ("new-slm.ttl", "text/turtle", "smollm-1.7b"),
        ("new-slm.jsonld", "application/ld+json", "qwen2-0.5b"),
    ],
)
def test_post_rdf_bodies(client, auth, name: str, media_type: str, model_id: str) -> None:
    body = (DATA / "entries" / name).read_bytes()
    response = client.post("/models", content=body, headers={**auth, "Content-Type": media_type})
    assert response.status_code == 201, response.text
    assert client.get(f"/models/{model_id}").json()["inferred"]["cheapToFineTune"] is True


def test_remote_jsonld_context_is_refused_without_fetching(client, auth) -> None:
    body = (DATA / "entries" / "remote-context.jsonld").read_bytes()
    response = client.post("/models", content=body, headers={**auth, "Content-Type": "application/ld+json"})
    assert response.status_code == 422
    assert "remote context" in response.json()["detail"]


def test_bad_bodies(client, auth) -> None:
    assert (
        client.post("/models", content=b"x", headers={**auth, "Content-Type": "text/plain"}).status_code
        == 415
    )
    assert (
        client.post("/models", content=b"", headers={**auth, "Content-Type": "application/json"}).status_code
        == 422
    )
    assert (
        client.post(
            "/models", content=b"\xff\xfe", headers={**auth, "Content-Type": "application/json"}
        ).status_code
        == 422
    )
    broken = client.post("/models", content=b"@prefix x", headers={**auth, "Content-Type": "text/turtle"})
    assert broken.status_code == 422


def test_validate_without_storing(client, store) -> None:
    before = store.triple_count()
    good = client.post("/validate", json=ENTRY).json()
    assert good["conforms"] and good["inferred"]["portable"]
    bad = client.post("/validate", json={**ENTRY, "kind": "llm", "developer": None}).json()
    assert not bad["conforms"] and bad["report"]["results"]
    assert store.triple_count() == before


def test_over_real_http(live_server, auth) -> None:
    response = httpx.post(f"{live_server.url}/models", json=ENTRY, headers=auth)
    assert response.status_code == 201
    listed = httpx.get(f"{live_server.url}/models", params={"search": "tinyllama"})
    assert [m["id"] for m in listed.json()["models"]] == ["tinyllama-1.1b"]
    explained = httpx.get(f"{live_server.url}/models/tinyllama-1.1b/explain").json()
    assert any(c["class"] == str(LMKG.PortableModel) for c in explained["conclusions"])
