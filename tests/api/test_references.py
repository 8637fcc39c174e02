"""An entry may name a stored organisation by its IRI alone, in JSON, Turtle and JSON-LD: the
name comes from the store. An IRI the knowledge graph does not hold is refused, by name.

What broke: `lmkg:developedBy <https://w3id.org/lmkg/org/microsoft>` with no label in the
document was refused with "A model entry needs at least one developer ... an organisation
with a name", though the store knows Microsoft.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from lmkg.entries import entry_from_json, entry_from_rdf, parse_rdf
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.store import Store
from lmkg.vocab import LMKG, ORG, model_graph
from tests.conftest import ALL_STORE_KINDS

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""

REFERENCES = Path(__file__).parent.parent / "data" / "references"
MICROSOFT = ORG["microsoft"]
UNKNOWN = ORG["no-such-lab"]

FORMATS = [
    pytest.param("developer-by-iri.json", "application/json", "phi-3-vision", id="json"),
    pytest.param("developer-by-iri.ttl", "text/turtle", "phi-3-small", id="turtle"),
    pytest.param("developer-by-iri.jsonld", "application/ld+json", "phi-2", id="json-ld"),
]


def _body(name: str, *, org: URIRef = MICROSOFT) -> bytes:
    text = (REFERENCES / name).read_text(encoding="utf-8")
    # The Turtle file names the organisation with its prefix; the others in full.
    text = text.replace("org:microsoft", f"<{org}>").replace(str(MICROSOFT), str(org))
    return text.encode("utf-8")


@pytest.mark.parametrize(("name", "media_type", "model_id"), FORMATS)
def test_a_stored_organisation_named_by_iri_alone_is_accepted(
    client: TestClient, store: Store, auth: dict[str, str], name: str, media_type: str, model_id: str
) -> None:
    created = client.post("/models", content=_body(name), headers={**auth, "Content-Type": media_type})
    assert created.status_code == 201, created.text
    assert created.json()["developer"] == ["Microsoft"]
    assert client.get(f"/models/{model_id}").json()["developer"] == ["Microsoft"]
    # The name is in the entry's own graph, as for a developer named in JSON.
    stored = store.graph(model_graph(model_id))
    assert (MICROSOFT, RDFS.label, Literal("Microsoft")) in stored
    assert (MICROSOFT, RDF.type, LMKG.Organisation) in stored
    listed = client.get("/models", params={"developer": "Microsoft", "limit": 100})
    assert listed.status_code == 200 and model_id in {m["id"] for m in listed.json()["models"]}


@pytest.mark.parametrize(("name", "media_type", "model_id"), FORMATS)
def test_an_unknown_organisation_iri_is_refused_by_name(
    client: TestClient, auth: dict[str, str], name: str, media_type: str, model_id: str
) -> None:
    refused = client.post(
        "/models", content=_body(name, org=UNKNOWN), headers={**auth, "Content-Type": media_type}
    )
    assert refused.status_code == 422, refused.text
    text = refused.text
    assert str(UNKNOWN) in text and "is not an organisation of the knowledge graph" in text
    # Said once, by name: not also as the shape's "needs at least one developer".
    assert "needs at least one developer" not in text
    assert client.get(f"/models/{model_id}").status_code == 404


def test_validate_resolves_the_reference_too(client: TestClient) -> None:
    body = _body("developer-by-iri.ttl")
    valid = client.post("/validate", content=body, headers={"Content-Type": "text/turtle"})
    assert valid.status_code == 200 and valid.json()["conforms"] is True, valid.text
    unknown = _body("developer-by-iri.ttl", org=UNKNOWN)
    invalid = client.post("/validate", content=unknown, headers={"Content-Type": "text/turtle"})
    assert invalid.json()["conforms"] is False and str(UNKNOWN) in invalid.text


def test_an_organisation_named_by_another_entry_of_the_batch(kg: KnowledgeGraph) -> None:
    """In one batch (a file for `lmkg load`, an import), one entry may give an organisation's
    name and the others name it by IRI."""
    lab = ORG["new-lab"]
    sources = ["https://example.org/new-lab/models"]
    naming = entry_from_json(
        {
            "id": "new-lab-1b",
            "label": "New Lab 1B",
            "kind": "slm",
            "parameterCount": 10**9,
            "developer": "New Lab",
            "sources": sources,
        }
    )
    by_iri = entry_from_json(
        {
            "id": "new-lab-2b",
            "label": "New Lab 2B",
            "kind": "slm",
            "parameterCount": 2 * 10**9,
            "developer": str(lab),
            "sources": sources,
        }
    )
    outcome = kg.write([by_iri, naming], mode=WriteMode.UPSERT)
    assert not outcome.rejected, [a.report.as_text() for a in outcome.rejected]
    assert (lab, RDFS.label, Literal("New Lab")) in kg.entry_graph("new-lab-2b")


def test_a_model_link_to_an_iri_outside_the_model_namespace_is_named(kg: KnowledgeGraph) -> None:
    turtle = _body("developer-by-iri.ttl").replace(
        b"lmkg:openWeights true ;", b"lmkg:openWeights true ; lmkg:fineTunedFrom <https://example.org/base> ;"
    )
    entry = entry_from_rdf(parse_rdf(turtle, "turtle"))
    report = kg.assess(entry).report
    assert not report.conforms
    assert any("<https://example.org/base>" in r.message for r in report.results), report.as_text()
