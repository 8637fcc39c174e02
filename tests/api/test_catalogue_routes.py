"""Named queries as endpoints, the class hierarchy, and the published ontology."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF

from lmkg.api.queries import DEFAULT_PAGE
from lmkg.config import Settings
from lmkg.ontology import ontology_graph
from lmkg.owlapi import OwlApiUnavailableError, to_owlxml
from lmkg.queries import QueryCatalogue
from lmkg.vocab import LMKG
from tests.conftest import ALL_STORE_KINDS

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""

# Portable and cheap to fine-tune by each model's own evidence (issue 12), whatever its category.
PORTABLE_AND_CHEAP = {
    "phi-3-mini", "gpt-neo-125m", "gpt-neo-1.3b", "gpt-neo-2.7b", "orca-2-7b", "orca-2-13b",
    "mistral-7b", "llama-3-8b", "llama-2-7b", "llama-2-13b",
}
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


def test_queries_are_listed_with_parameters(client) -> None:
    listed = {q["name"]: q for q in client.get("/queries").json()}
    assert set(listed) == set(QueryCatalogue(Settings().queries_dir).queries)
    kind = listed["models-by-kind"]["parameters"][0]
    assert (kind["name"], kind["type"], kind["default"], kind["enum"]) == (
        "kind",
        "string",
        "slm",
        ["llm", "slm"],
    )


def test_every_named_query_is_in_openapi_with_its_parameters(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for query in QueryCatalogue(Settings().queries_dir):
        operation = paths[f"/queries/{query.name}"]["get"]
        names = {p["name"] for p in operation.get("parameters", [])}
        assert names == {p.name for p in query.parameters} | {"limit", "offset"}, query.name
    assert (
        paths["/queries/portable-and-cheap-to-fine-tune"]["get"]["parameters"][0]["schema"]["anyOf"][0][
            "type"
        ]
        == "integer"
    )


def test_named_query_endpoint(client) -> None:
    body = client.get("/queries/portable-and-cheap-to-fine-tune").json()
    assert {row["model"].rsplit("/", 1)[-1] for row in body["rows"]} == PORTABLE_AND_CHEAP
    assert body["count"] == 10 and body["columns"][0] == "model"
    assert {row["portableBasis"] for row in body["rows"]} == {"observation", "size-rule"}
    fewer = client.get(
        "/queries/portable-and-cheap-to-fine-tune", params={"maxParameters": 3_000_000_000}
    ).json()
    assert fewer["count"] == 3
    generic = client.get("/queries/models-by-kind", params={"kind": "llm"}).json()
    assert generic["count"] == 7


def test_named_query_pages(client) -> None:
    whole = client.get("/queries/portable-and-cheap-to-fine-tune").json()
    assert whole["total"] == whole["count"] == 10 and whole["limit"] == DEFAULT_PAGE == 50
    first = client.get("/queries/portable-and-cheap-to-fine-tune", params={"limit": 3})
    assert first.json()["rows"] == whole["rows"][:3] and first.json()["total"] == 10
    assert first.headers["X-Total-Count"] == "10" and 'rel="next"' in first.headers["Link"]
    last = client.get("/queries/models-by-kind", params={"kind": "llm", "limit": 2, "offset": 6}).json()
    assert last["count"] == 1 and last["total"] == 7
    assert client.get("/queries/models-by-kind", params={"limit": 0}).status_code == 422


def test_named_query_parameters_are_checked(client, store) -> None:
    before = store.triple_count()
    assert client.get("/queries/portable-and-cheap-to-fine-tune?maxParameters=3B").status_code == 422
    hostile = 'slm" } } ; DROP ALL ; #'
    assert client.get("/queries/models-by-kind", params={"kind": hostile}).status_code == 422
    details = client.get("/queries/model-details", params={"model": 'phi-3-mini" } DROP ALL'})
    assert details.status_code == 422
    assert client.get("/queries/no-such-query").status_code == 404
    assert store.triple_count() == before


def test_classes(client) -> None:
    classes = {c["name"]: c for c in client.get("/classes").json()}
    # No category implies portability any more (issue 12): the size rule is its subclass.
    assert "SmallLanguageModel" not in classes["PortableModel"]["subclasses"]
    assert "LanguageModel" in classes["PortableModel"]["superclasses"]
    assert "ModelUnderSizeThreshold" in classes["FitsLaptopAt4Bit"]["subclasses"]
    assert classes["PortableModel"]["members"] == 10
    portable = client.get("/classes/PortableModel").json()
    members = {m["id"] for m in portable["memberList"]}
    assert "phi-3-mini" in members and "mistral-7b" in members and "gpt-4" not in members
    small = client.get("/classes/SmallLanguageModel").json()
    assert not any("portability" in axiom for axiom in small["axioms"])
    assert "DisjointWith large language model" in small["axioms"]
    # The source's sentences about the class are its view, with their hedges.
    hedges = {c["text"]: c["hedge"] for c in small["sourceClaims"]}
    assert hedges["SLMs, with their leaner architectures, generally offer faster processing and greater portability."] == "generally"
    assert small["sourceStatements"]
    assert client.get("/classes/NoSuchClass").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "media", "parser"),
    [
        ("turtle", "text/turtle", "turtle"),
        ("rdfxml", "application/rdf+xml", "xml"),
        ("jsonld", "application/ld+json", "json-ld"),
        ("ntriples", "application/n-triples", "nt"),
    ],
)
def test_ontology_rdf_formats(client, fmt: str, media: str, parser: str) -> None:
    source = ontology_graph(Settings().ontology_dir)
    for response in (
        client.get("/ontology", headers={"Accept": media}),
        client.get(f"/ontology?format={fmt}"),
    ):
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
        assert isomorphic(Graph().parse(data=response.content, format=parser), source)


def test_ontology_owlxml(client) -> None:
    try:
        to_owlxml(ontology_graph(Settings().ontology_dir))
    except OwlApiUnavailableError as exc:
        pytest.skip(str(exc))
    response = client.get("/ontology", headers={"Accept": "application/owl+xml"})
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2002/07/owl#}Ontology"
    assert root.attrib["ontologyIRI"] == "https://w3id.org/lmkg/ontology"


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(v for k, v in attrs if k == "id" and v)


def test_ontology_html_documents_every_term(client) -> None:
    response = client.get("/ontology", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.headers["content-type"].startswith("text/html")
    parser = _Anchors()
    parser.feed(response.text)
    source = ontology_graph(Settings().ontology_dir)
    terms = {
        t.fragment
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for t in source.subjects(RDF.type, kind)
        if isinstance(t, URIRef) and str(t).startswith(str(LMKG._NS))
    }
    assert terms <= parser.ids
    assert "https://w3id.org/lmkg/ontology/0.2.0" in response.text
    assert "The evidence model" in response.text and "arxiv.org/abs/2305.14314" in response.text


def test_ontology_not_acceptable(client) -> None:
    assert client.get("/ontology", headers={"Accept": "image/png"}).status_code == 406


def test_over_real_http(live_server) -> None:
    body = httpx.get(f"{live_server.url}/queries/models-by-kind", params={"kind": "slm"}).json()
    assert body["count"] == 8
    turtle = httpx.get(f"{live_server.url}/ontology", headers={"Accept": "text/turtle"})
    assert len(Graph().parse(data=turtle.text, format="turtle")) > 400
