"""REST look-ups and validated writes: /models, /models/{id}, /model/{id}, /validate."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from lmkg.knowledge import KnowledgeGraph
from lmkg.store import Store
from lmkg.vocab import GRAPH_INFERRED, LMKG, VERDICT, model_graph, model_iri
from tests.conftest import ALL_STORE_KINDS

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""

DATA = Path(__file__).parent.parent / "data"
ENTRIES = DATA / "entries"
INVALID = DATA / "invalid-entries"

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
LARGE = {"gpt-4", "mistral-7b", "llama-3", "llama-3-8b", "llama-3-70b", "llama-2-7b", "llama-2-13b"}
ALL = SMALL | LARGE
UNDISCLOSED_SIZE = {"gpt-4", "gpt-neo", "llama-3", "orca-2"}
# The verdicts come from each model's own evidence, whatever its source calls it (issue 12).
PORTABLE = {
    "phi-3-mini", "gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b", "orca-2-7b", "orca-2-13b",
    "mistral-7b", "llama-3-8b", "llama-2-7b", "llama-2-13b",
}
NOT_PORTABLE = {"llama-3-70b"}
FAST = PORTABLE - {"orca-2-13b", "llama-2-13b"}
OVER_THRESHOLD = {"orca-2-13b", "llama-2-13b", "llama-3-70b"}
ENTRY = json.loads((DATA / "valid-entries" / "minimal.json").read_text())
NEW_ID = ENTRY["id"]

_INFERRED_TYPES = "SELECT ?class WHERE { GRAPH ?g { ?m a ?class } }"
_IN_CLASS = "ASK { ?m a ?class }"


def ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    listed = [m["id"] for m in response.json()["models"]]
    assert len(listed) == len(set(listed)), f"a model is listed twice: {listed}"
    return set(listed)


def ordered_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["models"]]


def links(response: httpx.Response) -> dict[str, str]:
    """The Link header as rel -> URL."""
    found = {}
    for part in response.headers["link"].split(","):
        url, _, params = part.strip().partition(";")
        found[params.split('rel="')[1].rstrip('"')] = url.strip().strip("<>")
    return found


def inferred_types(store: Store, model_id: str) -> set[URIRef]:
    rows = store.select(_INFERRED_TYPES, bindings={"g": GRAPH_INFERRED, "m": model_iri(model_id)})
    return {row["class"] for row in rows}  # type: ignore[misc]


# -- GET /models: filters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("", ALL, id="no-filter"),
        pytest.param("kind=slm", SMALL, id="kind-slm"),
        pytest.param("kind=llm", LARGE, id="kind-llm"),
        pytest.param("portable=true", PORTABLE, id="portable"),
        pytest.param("portable=false", NOT_PORTABLE, id="not-portable"),
        pytest.param("portable=unknown", UNDISCLOSED_SIZE, id="portable-unknown"),
        pytest.param("cheapToFineTune=true", PORTABLE, id="cheap"),
        pytest.param("cheapToFineTune=0", NOT_PORTABLE, id="not-cheap"),
        pytest.param("cheapToFineTune=unknown", UNDISCLOSED_SIZE, id="cheap-unknown"),
        pytest.param("fast=true", FAST, id="fast"),
        pytest.param("fast=false", OVER_THRESHOLD, id="not-fast"),
        pytest.param(
            "developer=EleutherAI",
            {"gpt-neo", "gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b"},
            id="developer-name",
        ),
        pytest.param(
            "developer=microsoft%20RESEARCH", {"orca-2", "orca-2-7b", "orca-2-13b"}, id="developer-any-case"
        ),
        pytest.param(
            "developer=microsoft-research", {"orca-2", "orca-2-7b", "orca-2-13b"}, id="developer-id"
        ),
        pytest.param("developer=Microsoft", {"phi-3-mini"}, id="developer-exact-not-prefix"),
        pytest.param("developer=nobody", set(), id="developer-unknown"),
        # No shipped model has evidence of its generation scope: the category decides nothing.
        pytest.param("capability=VersatileModel", set(), id="capability-versatile"),
        pytest.param("capability=SpecialisedModel", set(), id="capability-specialised"),
        pytest.param("capability=FitsLaptopAt4Bit", PORTABLE, id="capability-size-rule"),
        pytest.param("capability=RealTimeCapableModel", FAST, id="capability-real-time"),
        pytest.param("capability=ModelOverSizeThreshold", OVER_THRESHOLD, id="capability-over-threshold"),
        pytest.param(
            "maxParameters=3000000000", {"gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b"}, id="max-parameters"
        ),
        pytest.param("minParameters=10000000001", OVER_THRESHOLD, id="min-parameters"),
        pytest.param(
            "minParameters=7000000000&maxParameters=8000000000",
            {"orca-2-7b", "mistral-7b", "llama-3-8b", "llama-2-7b"},
            id="parameter-range",
        ),
        pytest.param("openWeights=false", {"gpt-4"}, id="closed-weights"),
        pytest.param("openWeights=true", ALL - {"gpt-4"}, id="open-weights"),
        pytest.param("search=PHONE", {"phi-3-mini"}, id="search-description"),
        pytest.param("search=orca%202%2013", {"orca-2-13b"}, id="search-label"),
        pytest.param(
            "kind=slm&maxParameters=5000000000&search=neo",
            {"gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b"},
            id="combined",
        ),
        # Called large by their source, portable by their own size: once a contradiction.
        pytest.param("kind=llm&portable=true", {"mistral-7b", "llama-3-8b", "llama-2-7b", "llama-2-13b"}, id="called-large-but-portable"),
        pytest.param("kind=slm&portable=unknown", {"orca-2", "gpt-neo"}, id="called-small-but-unknown"),
    ],
)
def test_filters_narrow_the_list(client: TestClient, query: str, expected: set[str]) -> None:
    response = client.get(f"/models?{query}&limit=1000")
    assert ids(response) == expected
    assert response.json()["total"] == len(expected) == int(response.headers["x-total-count"])


def test_portable_and_cheap_equals_the_named_query(client: TestClient, kg: KnowledgeGraph) -> None:
    rest = ids(client.get("/models?portable=true&cheapToFineTune=true&limit=1000"))
    rows = kg.store.select(kg.queries.get("portable-and-cheap-to-fine-tune").text)
    named = {str(row["model"]).rsplit("/", 1)[-1] for row in rows}
    assert rest == named == PORTABLE


def test_a_summary_has_every_field(client: TestClient) -> None:
    models = {m["id"]: m for m in client.get("/models?limit=1000").json()["models"]}
    assert models["phi-3-mini"] == {
        "id": "phi-3-mini",
        "iri": str(model_iri("phi-3-mini")),
        "label": "Phi-3-mini",
        "kind": "slm",
        "parameterCount": 3_800_000_000,
        "developer": ["Microsoft"],
        "releaseDate": "2024-04-23",
        "license": "MIT",
        "openWeights": True,
        "portable": True,
        "cheapToFineTune": True,
        "fast": True,
        "bases": {"portable": "observation", "cheapToFineTune": "size-rule", "fast": "size-rule"},
    }
    gpt4 = models["gpt-4"]
    assert gpt4["bases"] == {"portable": "none", "cheapToFineTune": "none", "fast": "none"}
    assert gpt4["parameterCount"] is None and gpt4["openWeights"] is False
    assert gpt4["portable"] is None and gpt4["cheapToFineTune"] is None  # unknown, not "no"
    # Organisation labels are stored in every entry graph that names them: listed once.
    assert models["gpt-neo-125m"]["developer"] == ["EleutherAI"]


def test_bad_filter_values_are_422(client: TestClient) -> None:
    unknown = client.get("/models?capability=FastModel")
    assert unknown.status_code == 422
    for name in ("FitsLaptopAt4Bit", "VersatileModel", "RealTimeCapableModel", "SpecialisedModel"):
        assert name in unknown.json()["detail"]
    for query in (
        "portable=maybe",
        "fast=perhaps",
        "openWeights=yes",
        "kind=medium",
        "limit=0",
        "limit=1001",
        "offset=-1",
        "sort=size",
        "direction=up",
        "minParameters=many",
        "offset=5&page=2",
        "page=0",
    ):
        assert client.get(f"/models?{query}").status_code == 422, query


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"search": '") || true || ("'}, id="search"),
        pytest.param({"developer": '") || true || ("'}, id="developer"),
        pytest.param({"search": 'x" ) } } SELECT * WHERE { ?s ?p ?o } #'}, id="search-closing-braces"),
    ],
)
def test_filter_values_cannot_change_the_query(client: TestClient, query: dict[str, str]) -> None:
    injected = client.get("/models", params=query)
    assert ids(injected) == set() and injected.json()["total"] == 0


# -- GET /models: sorting and paging ----------------------------------------------------


def test_sort_by_parameter_count_puts_undisclosed_sizes_last(client: TestClient) -> None:
    descending = ordered_ids(client.get("/models?sort=parameterCount&direction=desc&limit=100"))
    assert descending[:5] == ["llama-3-70b", "llama-2-13b", "orca-2-13b", "llama-3-8b", "mistral-7b"]
    assert set(descending[-4:]) == UNDISCLOSED_SIZE
    ascending = ordered_ids(client.get("/models?sort=parameterCount&direction=asc&limit=100"))
    assert ascending[:3] == ["gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b"]
    assert set(ascending[-4:]) == UNDISCLOSED_SIZE


def test_sort_by_release_date_label_and_id(client: TestClient) -> None:
    newest = ordered_ids(client.get("/models?sort=releaseDate&direction=desc&limit=4"))
    assert newest == ["phi-3-mini", "llama-3", "llama-3-70b", "llama-3-8b"]  # ties by id
    assert ordered_ids(client.get("/models?sort=releaseDate&limit=1")) == ["gpt-neo"]
    assert ordered_ids(client.get("/models?sort=id&limit=100")) == sorted(ALL)
    assert ordered_ids(client.get("/models?sort=id&direction=desc&limit=100")) == sorted(ALL, reverse=True)
    labels = [m["label"] for m in client.get("/models?sort=label&limit=100").json()["models"]]
    assert labels == sorted(labels, key=str.lower) and labels[0] == "GPT-4"
    reversed_labels = [
        m["label"] for m in client.get("/models?sort=label&direction=desc&limit=100").json()["models"]
    ]
    assert reversed_labels == labels[::-1]


def test_pages_follow_the_link_header(client: TestClient) -> None:
    first = client.get("/models?sort=id&limit=5")
    assert first.headers["x-total-count"] == "15" and first.json()["total"] == 15
    rels = links(first)
    assert set(rels) == {"first", "last", "next"}
    assert "offset=10" in rels["last"] and "offset=5" in rels["next"]
    seen = ordered_ids(first)
    response = first
    while "next" in links(response):
        response = client.get(links(response)["next"])
        assert "prev" in links(response)
        seen += ordered_ids(response)
    assert seen == sorted(ALL)
    assert response.json()["offset"] == 10 and len(response.json()["models"]) == 5
    assert ordered_ids(client.get(links(response)["prev"])) == sorted(ALL)[5:10]
    assert ordered_ids(client.get(links(response)["first"])) == sorted(ALL)[:5]


def test_links_keep_the_filters_and_page_means_offset(client: TestClient) -> None:
    response = client.get("/models?kind=slm&sort=id&limit=3&page=2")
    body = response.json()
    assert body["total"] == 8 and body["offset"] == 3 and response.headers["x-total-count"] == "8"
    assert ordered_ids(response) == sorted(SMALL)[3:6]
    rels = links(response)
    assert all("kind=slm" in url and "limit=3" in url for url in rels.values())
    assert "offset=6" in rels["last"] and "offset=0" in rels["prev"] and "page=" not in rels["next"]
    beyond = client.get("/models?kind=slm&offset=100")
    assert beyond.json()["models"] == [] and beyond.json()["total"] == 8


# -- GET /models/{id} and /model/{id} --------------------------------------------------------


def test_read_model_with_inferences_and_claims(client: TestClient, store: Store) -> None:
    body = client.get("/models/orca-2-13b").json()
    assert body["id"] == "orca-2-13b" and body["kind"] == "slm" and body["parameterCount"] == 13_000_000_000
    assert body["inferred"]["portable"] is True and body["inferred"]["cheapToFineTune"] is True
    assert body["inferred"]["sizeClass"] == "over-threshold"
    assert set(body["inferred"]["classes"]) == {str(c) for c in inferred_types(store, "orca-2-13b")}
    # The claim is about the family, Orca 2, which this model is a variant of.
    assert body["sourceClaims"] == [
        {
            "text": "ORCAD 2",
            "claimedKind": "slm",
            "curatorNote": body["sourceClaims"][0]["curatorNote"],
            "about": str(model_iri("orca-2")),
        }
    ]
    assert "Orca 2" in body["sourceClaims"][0]["curatorNote"]
    assert body["verdicts"]["portable"]["basis"] == "size-rule" and body["verdicts"]["fast"]["value"] is False
    gpt4 = client.get("/models/gpt-4").json()
    assert gpt4["inferred"]["portable"] is None and gpt4["inferred"]["sizeClass"] is None
    assert gpt4["verdicts"]["portable"] == {"value": None, "basis": "none", "detail": gpt4["verdicts"]["portable"]["detail"]}
    phi = client.get("/models/phi-3-mini").json()
    assert phi["verdicts"]["portable"]["basis"] == "observation" and phi["observations"][0]["device"] == "phone"
    assert [c["text"] for c in gpt4["sourceClaims"]] == ["OpenAI’s GPT-4.0"]  # noqa: RUF001 (the source's own apostrophe)
    assert client.get("/models/mistral-7b").json()["inferred"]["sizeClass"] == "under-threshold"
    assert client.get("/models/phi-3-mini").json()["sourceClaims"] == []


@pytest.mark.parametrize(
    ("media_type", "parser"),
    [
        pytest.param("text/turtle", "turtle", id="turtle"),
        pytest.param("application/ld+json", "json-ld", id="json-ld"),
        pytest.param("application/rdf+xml", "xml", id="rdf-xml"),
        pytest.param("application/n-triples", "nt", id="n-triples"),
    ],
)
@pytest.mark.parametrize("path", ["/models/phi-3-mini", "/model/phi-3-mini"])
def test_model_as_rdf(client: TestClient, store: Store, path: str, media_type: str, parser: str) -> None:
    response = client.get(path, headers={"Accept": media_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    expected = store.graph(model_graph("phi-3-mini"))
    for cls in inferred_types(store, "phi-3-mini"):
        expected.add((model_iri("phi-3-mini"), RDF.type, cls))
    received = Graph().parse(data=response.text, format=parser)
    assert (model_iri("phi-3-mini"), RDF.type, LMKG.PortableModel) in received
    assert isomorphic(received, expected)


def test_model_as_nquads_keeps_the_graphs_apart(client: TestClient, store: Store) -> None:
    response = client.get("/models/phi-3-mini", headers={"Accept": "application/n-quads"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/n-quads")
    dataset = Dataset().parse(data=response.text, format="nquads")
    assert isomorphic(dataset.graph(model_graph("phi-3-mini")), store.graph(model_graph("phi-3-mini")))
    assert set(dataset.graph(GRAPH_INFERRED).objects(model_iri("phi-3-mini"), RDF.type)) == inferred_types(
        store, "phi-3-mini"
    )


def test_negotiation_json_html_and_406(client: TestClient) -> None:
    assert client.get("/models/phi-3-mini").headers["content-type"].startswith("application/json")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = client.get("/models/phi-3-mini", headers={"Accept": browser})
    assert page.status_code == 200 and page.json()["id"] == "phi-3-mini"
    seen = client.get("/model/phi-3-mini", headers={"Accept": browser}, follow_redirects=False)
    assert seen.status_code == 303 and seen.headers["location"] == "/#/models/phi-3-mini"
    assert client.get("/model/phi-3-mini").json()["id"] == "phi-3-mini"
    for path in ("/models/phi-3-mini", "/model/phi-3-mini"):
        refused = client.get(path, headers={"Accept": "image/png"})
        assert refused.status_code == 406 and "text/turtle" in refused.json()["detail"]


def test_unknown_and_invalid_ids(client: TestClient) -> None:
    for path in ("/models/no-such-model", "/model/no-such-model"):
        missing = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert missing.status_code == 404
        assert "no-such-model" in missing.json()["detail"] and "GET /models" in missing.json()["detail"]
    assert client.get("/models/no-such-model", headers={"Accept": "text/turtle"}).status_code == 404
    for bad in ("Bad!Id", "GPT-4", "-leading-dash", "x" * 101):
        assert client.get(f"/models/{bad}").status_code == 422, bad
        assert client.get(f"/model/{bad}").status_code == 422, bad


# -- writes ------------------------------------------------------------------------------------


def _expected_invalid() -> list[object]:
    expected = json.loads((INVALID / "expected.json").read_text())
    return [pytest.param(name, where, message, id=name) for name, (where, message) in expected.items()]


@pytest.mark.parametrize(("name", "where", "message"), _expected_invalid())
def test_invalid_post_is_422_naming_the_property_and_writes_nothing(
    client: TestClient, auth: dict[str, str], store: Store, name: str, where: str | None, message: str
) -> None:
    before = store.triple_count()
    media_type = "text/turtle" if name.endswith(".ttl") else "application/json"
    response = client.post(
        "/models", content=(INVALID / name).read_bytes(), headers={**auth, "Content-Type": media_type}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    if "report" in body:  # the SHACL report (or the reasoner's objections) of a readable entry
        results = body["report"]["results"]
        assert all({"focusNode", "path", "value", "message", "severity"} <= set(r) for r in results)
        assert any(r["path"] == where and message in r["message"] for r in results), results
        assert message in body["detail"]
    else:  # an entry that cannot even become RDF
        assert any(p["where"] == where and message in p["message"] for p in body["problems"])
    assert store.triple_count() == before


def test_invalid_turtle_post_and_a_turtle_report(
    client: TestClient, auth: dict[str, str], store: Store
) -> None:
    before = store.triple_count()
    response = client.post(
        "/models",
        content=(ENTRIES / "invalid-size.ttl").read_bytes(),
        headers={**auth, "Content-Type": "text/turtle", "Accept": "text/turtle"},
    )
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/turtle")
    report = Graph().parse(data=response.text, format="turtle")
    assert (None, URIRef("http://www.w3.org/ns/shacl#resultPath"), LMKG.parameterCount) in report
    assert store.triple_count() == before
    assert client.get("/models/negative-size").status_code == 404


def test_valid_post_is_visible_at_once_with_its_inferences(
    client: TestClient, auth: dict[str, str], store: Store
) -> None:
    response = client.post("/models", json=ENTRY, headers=auth)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/models/{NEW_ID}"
    created = response.json()
    assert created["id"] == NEW_ID and created["label"] == ENTRY["label"] and created["recordedAt"]
    assert created["inferred"]["portable"] is True and created["inferred"]["cheapToFineTune"] is True
    assert created["inferred"]["sizeClass"] == "under-threshold"
    assert client.get(response.headers["location"]).json()["inferred"] == created["inferred"]
    assert NEW_ID in ids(client.get("/models?portable=true&cheapToFineTune=true&limit=1000"))
    assert client.get("/models").json()["total"] == 16
    assert {LMKG.PortableModel, LMKG.CheapToFineTuneModel, LMKG.FitsLaptopAt4Bit} <= inferred_types(
        store, NEW_ID
    )
    assert store.ask(_IN_CLASS, bindings={"m": model_iri(NEW_ID), "class": LMKG.CheapToFineTuneModel})


def test_duplicate_post_is_409(client: TestClient, auth: dict[str, str], store: Store) -> None:
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    before = store.triple_count()
    again = client.post("/models", json={**ENTRY, "label": "Another"}, headers=auth)
    assert again.status_code == 409 and f"PUT /models/{NEW_ID}" in again.json()["detail"]
    assert store.triple_count() == before
    assert client.post("/models", json={**ENTRY, "id": "gpt-4"}, headers=auth).status_code == 409


def test_put_replaces_and_delete_removes_the_inferences(
    client: TestClient, auth: dict[str, str], store: Store
) -> None:
    assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
    assert LMKG.PortableModel in inferred_types(store, NEW_ID)
    body = (ENTRIES / "replacement-without-id.json").read_bytes()
    replaced = client.put(
        f"/models/{NEW_ID}", content=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["kind"] == "llm" and len(replaced.json()["sources"]) == 2
    # The replacement withdraws the size: no evidence decides portability any more, and the
    # verdict of the first version is gone with it (unknown, not "not portable").
    assert replaced.json()["inferred"]["portable"] is None
    assert replaced.json()["verdicts"]["portable"]["value"] is None
    assert not {LMKG.PortableModel, LMKG.NonPortableModel} & inferred_types(store, NEW_ID)
    assert NEW_ID in ids(client.get("/models?portable=unknown"))
    assert not store.select(
        "SELECT ?p WHERE { GRAPH ?g { ?v ?p ?o } }",
        bindings={"g": GRAPH_INFERRED, "v": VERDICT[f"{NEW_ID}/portable"]},
    ), "the verdict node of the replaced version is left in the inferred graph"
    assert NEW_ID in ids(client.get("/models?kind=llm"))

    assert client.delete(f"/models/{NEW_ID}", headers=auth).status_code == 204
    assert client.get(f"/models/{NEW_ID}").status_code == 404
    assert NEW_ID not in ids(client.get("/models?limit=1000"))
    assert inferred_types(store, NEW_ID) == set()
    assert len(store.graph(model_graph(NEW_ID))) == 0
    assert client.delete(f"/models/{NEW_ID}", headers=auth).status_code == 404


def test_put_checks_the_id_and_that_the_model_exists(
    client: TestClient, auth: dict[str, str], store: Store
) -> None:
    before = store.triple_count()
    mismatch = client.put("/models/gpt-4", json=ENTRY, headers=auth)
    assert mismatch.status_code == 422 and "gpt-4" in mismatch.json()["detail"]
    missing = client.put("/models/not-there", json={**ENTRY, "id": "not-there"}, headers=auth)
    assert missing.status_code == 404 and "POST /models" in missing.json()["detail"]
    invalid = client.put("/models/gpt-4", json={**ENTRY, "id": "gpt-4", "parameterCount": 0}, headers=auth)
    assert invalid.status_code == 422 and invalid.json()["report"]["results"]
    assert store.triple_count() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", "/models", id="post"),
        pytest.param("PUT", f"/models/{NEW_ID}", id="put"),
        pytest.param("DELETE", "/models/phi-3-mini", id="delete"),
    ],
)
def test_writes_need_the_token(
    client: TestClient, store: Store, auth: dict[str, str], method: str, path: str
) -> None:
    before = store.triple_count()
    body = {} if method == "DELETE" else {"json": ENTRY}
    assert client.request(method, path, **body).status_code == 401  # type: ignore[arg-type]
    wrong = client.request(method, path, headers={"Authorization": "Bearer wrong"}, **body)  # type: ignore[arg-type]
    assert wrong.status_code == 403
    assert store.triple_count() == before
    assert client.get("/models/phi-3-mini").status_code == 200


@pytest.mark.parametrize(
    ("name", "media_type", "model_id"),
    [
        pytest.param("new-slm.ttl", "text/turtle", "smollm-1.7b", id="turtle"),
        pytest.param("new-slm.jsonld", "application/ld+json", "qwen2-0.5b", id="json-ld"),
    ],
)
def test_post_rdf_bodies(
    client: TestClient, auth: dict[str, str], store: Store, name: str, media_type: str, model_id: str
) -> None:
    body = (ENTRIES / name).read_bytes()
    response = client.post(
        "/models", content=body, headers={**auth, "Content-Type": f"{media_type}; charset=utf-8"}
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/models/{model_id}"
    assert response.json()["inferred"]["cheapToFineTune"] is True
    assert model_id in ids(client.get("/models?kind=slm&portable=true"))
    assert LMKG.PortableModel in inferred_types(store, model_id)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse, and record, every name lookup but the loopback ones (a remote store is on 127.0.0.1)."""
    attempts: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", "::1", b"127.0.0.1", b"localhost"):
            attempts.append(str(host))
            raise OSError(f"this test forbids network access (to {host!r})")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield attempts


@pytest.mark.parametrize("name", ["remote-context.jsonld", "remote-import.jsonld"])
@pytest.mark.parametrize("path", ["/models", "/validate"])
def test_remote_jsonld_context_is_refused_without_fetching(
    client: TestClient, auth: dict[str, str], store: Store, no_network: list[str], name: str, path: str
) -> None:
    before = store.triple_count()
    body = (ENTRIES / name).read_bytes()
    response = client.post(path, content=body, headers={**auth, "Content-Type": "application/ld+json"})
    assert response.status_code == 422, response.text
    assert "remote context" in response.json()["detail"] and "example.invalid" in response.json()["detail"]
    assert no_network == []
    assert store.triple_count() == before


def test_unreadable_bodies(client: TestClient, auth: dict[str, str], store: Store) -> None:
    before = store.triple_count()

    def post(content: bytes, media_type: str) -> httpx.Response:
        return client.post("/models", content=content, headers={**auth, "Content-Type": media_type})

    unsupported = post(b"id=x", "application/x-www-form-urlencoded")
    assert unsupported.status_code == 415 and "text/turtle" in unsupported.json()["detail"]
    assert post(b"x", "text/plain").status_code == 415
    empty = post(b"", "application/json")
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    assert "empty" in post(b"  \n", "text/turtle").json()["detail"]
    not_utf8 = post(b'{"id": "caf\xe9"}', "application/json")
    assert not_utf8.status_code == 422 and "UTF-8" in not_utf8.json()["detail"]
    broken = post(b"@prefix x", "text/turtle")
    assert broken.status_code == 422 and "Turtle" in broken.json()["detail"]
    assert "not valid JSON" in post(b"{", "application/json").json()["detail"]
    assert "JSON object" in post(b"[]", "application/json").json()["detail"]
    two = post((DATA / "valid-entries" / "two-models.ttl").read_bytes(), "text/turtle")
    assert two.status_code == 422 and "exactly one model" in two.json()["detail"]
    assert store.triple_count() == before


def test_validate_without_storing(client: TestClient, store: Store) -> None:
    before = store.triple_count()
    good = client.post("/validate", json=ENTRY)  # no token needed
    assert good.status_code == 200, good.text
    assert good.json()["conforms"] is True and good.json()["report"]["results"] == []
    inferred = good.json()["inferred"]
    assert inferred["portable"] is True and inferred["cheapToFineTune"] is True
    assert str(LMKG.FitsLaptopAt4Bit) in inferred["classes"]
    assert good.json()["verdicts"]["portable"]["basis"] == "size-rule"
    assert str(LMKG.SmallLanguageModel) not in inferred["classes"]  # asserted, not inferred

    bad = client.post("/validate", json={**ENTRY, "kind": "llm", "developer": None}).json()
    assert bad["conforms"] is False and bad["inferred"]["portable"] is True  # by its size, not its kind
    assert [r["path"] for r in bad["report"]["results"]] == [str(LMKG.developedBy)]

    turtle = client.post(
        "/validate", content=(ENTRIES / "new-slm.ttl").read_bytes(), headers={"Content-Type": "text/turtle"}
    )
    assert turtle.json()["conforms"] is True and turtle.json()["id"] == "smollm-1.7b"
    assert client.post("/validate", content=b"x", headers={"Content-Type": "text/csv"}).status_code == 415
    assert store.triple_count() == before
    assert client.get(f"/models/{NEW_ID}").status_code == 404


# -- over real HTTP ---------------------------------------------------------------------------


def test_over_real_http(live_server, auth: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        created = http.post("/models", json=ENTRY, headers=auth)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"/models/{NEW_ID}"
        listed = http.get("/models", params={"search": "tinyllama"})
        assert [m["id"] for m in listed.json()["models"]] == [NEW_ID]
        assert listed.headers["x-total-count"] == "1" and 'rel="first"' in listed.headers["link"]
        page = http.get("/models", params={"sort": "id", "limit": 5})
        assert page.json()["total"] == 16 and 'rel="next"' in page.headers["link"]
        turtle = http.get(f"/model/{NEW_ID}", headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=turtle.text, format="turtle")
        assert (model_iri(NEW_ID), RDF.type, LMKG.PortableModel) in graph
        assert http.post("/models", json=ENTRY, headers=auth).status_code == 409
        assert http.post("/models", json=ENTRY).status_code == 401
        assert http.delete(f"/models/{NEW_ID}", headers=auth).status_code == 204
        assert http.get(f"/models/{NEW_ID}").status_code == 404


def test_a_model_of_unknown_kind_and_size_is_listed_with_unknown_verdicts(
    client: TestClient, auth: dict[str, str]
) -> None:
    """Issue 13: a frontier model whose sources give neither a category nor a size is an entity
    (not a rejected row), listed under kind=unknown, and unknown on every verdict."""
    entry = {
        "id": "frontier-x",
        "label": "Frontier X",
        "kindBasis": "unknown",
        "developer": "Frontier Lab",
        "sources": ["https://example.org/frontier-x"],
    }
    created = client.post("/models", json=entry, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["kind"] is None
    listed = client.get("/models?kind=unknown").json()
    assert [m["id"] for m in listed["models"]] == ["frontier-x"] and listed["models"][0]["kind"] == "unknown"
    assert "frontier-x" in ids(client.get("/models?portable=unknown&limit=1000"))
    assert "frontier-x" not in ids(client.get("/models?portable=false&limit=1000"))
    assert client.get("/models").json()["total"] == 16
