"""Hostile text through every write route of the API, on the embedded store and an Oxigraph
server: POST /models as JSON, JSON-LD (a crafted blank-node @id) and Turtle, SPARQL Update
with the protocol's using-graph-uri, and named-query parameters.

After each request the store holds exactly what the request meant (compared with
`rdflib.compare.isomorphic`) or, when it was refused, what it held before; the ontology and
the stored entries are never touched. Issue 15: a blank-node label once ran `DROP ALL`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, PROV, RDF, RDFS

from lmkg.config import Settings
from lmkg.queries import QueryCatalogue
from lmkg.readindex import is_change_graph
from lmkg.store import Store
from lmkg.vocab import GRAPH_ONTOLOGY, LMKG, ORG, model_graph, model_iri
from tests.conftest import ALL_STORE_KINDS
from tests.store.test_hostile_terms import hostile

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""

ENTRIES = Path(__file__).parents[1] / "data" / "entries"
SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CATALOGUE = QueryCatalogue(Settings().queries_dir)
_ids = itertools.count()


def _state(store: Store) -> tuple[set[URIRef], int, Graph]:
    # The read index's change log (lmkg.readindex) gains a graph with every write: not data.
    names = {g for g in store.graph_names() if not is_change_graph(g)}
    return names, len(store.graph(GRAPH_ONTOLOGY)), store.graph(model_graph("phi-3-mini"))


def _unchanged_but(store: Store, before: tuple[set[URIRef], int, Graph], *added: URIRef) -> None:
    names, ontology, phi = _state(store)
    assert names == before[0] | set(added)
    assert ontology == before[1]
    assert isomorphic(phi, before[2])


def _stored_entry(store: Store, model_id: str) -> Graph:
    """The entry graph without what lmkg adds to every entry (its time and owl:NamedIndividual)."""
    kept = Graph()
    for s, p, o in store.graph(model_graph(model_id)):
        if p != PROV.generatedAtTime and (p, o) != (RDF.type, OWL.NamedIndividual):
            kept.add((s, p, o))
    return kept


def _check_rdf_post(
    client: TestClient,
    auth: dict[str, str],
    store: Store,
    body: str,
    media_type: str,
    model_id: str,
    sent: Graph,
) -> None:
    before = _state(store)
    response = client.post(
        "/models", content=body.encode("utf-8"), headers={**auth, "Content-Type": media_type}
    )
    if response.status_code == 201:
        _unchanged_but(store, before, model_graph(model_id))
        assert isomorphic(_stored_entry(store, model_id), sent)
    else:
        assert response.status_code in (400, 422), response.text
        _unchanged_but(store, before)


@SETTINGS
@given(label=hostile, description=hostile)
def test_json_entry(
    client: TestClient, auth: dict[str, str], store: Store, label: str, description: str
) -> None:
    model_id = f"hostile-json-{next(_ids)}"
    entry = {
        "id": model_id,
        "label": label,
        "kind": "slm",
        "parameterCount": 1000,
        "developer": "Hostile Lab",
        "description": description,
        "sources": ["https://example.org/hostile"],
    }
    before = _state(store)
    response = client.post("/models", json=entry, headers=auth)
    if response.status_code == 201:
        _unchanged_but(store, before, model_graph(model_id))
        stored = store.graph(model_graph(model_id))
        assert (model_iri(model_id), RDFS.label, Literal(label.strip())) in stored or (
            model_iri(model_id),
            RDFS.label,
            Literal(label),
        ) in stored
    else:
        assert response.status_code == 422, response.text
        _unchanged_but(store, before)


@SETTINGS
@given(label=hostile, text=hostile)
def test_jsonld_entry_with_a_crafted_blank_node_id(
    client: TestClient, auth: dict[str, str], store: Store, label: str, text: str
) -> None:
    model_id = f"hostile-jsonld-{next(_ids)}"
    entry = json.loads((ENTRIES / "new-slm.jsonld").read_text(encoding="utf-8"))
    entry["@graph"][0]["@id"] = str(model_iri(model_id))
    entry["@graph"][0]["rdfs:seeAlso"] = {"@id": f"_:{label}", "rdfs:comment": text}
    entry["@graph"].append(
        {
            "@id": "_:x} } ; DROP ALL ; INSERT DATA { GRAPH <urn:lmkg:injected> { <urn:a> <urn:b> _:c",
            "rdfs:comment": "second",
        }
    )
    body = json.dumps(entry)
    try:
        dataset = Dataset().parse(data=body, format="json-ld")
    except Exception:
        dataset = None
    sent = Graph()
    for s, p, o, _ in dataset.quads() if dataset is not None else []:
        sent.add((s, p, o))
    _check_rdf_post(client, auth, store, body, "application/ld+json", model_id, sent)


@SETTINGS
@given(text=hostile, other=hostile)
def test_turtle_entry(client: TestClient, auth: dict[str, str], store: Store, text: str, other: str) -> None:
    model_id = f"hostile-turtle-{next(_ids)}"
    graph = Graph()
    model, org, note = model_iri(model_id), ORG["hostile-lab"], BNode()
    graph.add((model, RDF.type, LMKG.SmallLanguageModel))
    graph.add((model, RDFS.label, Literal(text or "x")))
    graph.add((model, LMKG.parameterCount, Literal(1000)))
    graph.add((model, LMKG.developedBy, org))
    graph.add((org, RDF.type, LMKG.Organisation))
    graph.add((org, RDFS.label, Literal("Hostile Lab")))
    graph.add((model, URIRef("http://purl.org/dc/terms/source"), URIRef("https://example.org/hostile")))
    graph.add((model, RDFS.seeAlso, note))
    graph.add((note, RDFS.comment, Literal(other, datatype=URIRef("urn:lmkg:datatype"))))
    _check_rdf_post(client, auth, store, graph.serialize(format="turtle"), "text/turtle", model_id, graph)


@SETTINGS
@given(tail=hostile)
def test_update_with_a_hostile_using_graph(
    client: TestClient, auth: dict[str, str], store: Store, tail: str
) -> None:
    out = URIRef(f"urn:lmkg:out:{next(_ids)}")
    before = _state(store)
    response = client.post(
        "/sparql",
        data={
            "update": f"INSERT {{ GRAPH <{out}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
            "using-graph-uri": ["urn:lmkg:" + tail, str(model_graph("phi-3-mini"))],
        },
        headers=auth,
    )
    if response.status_code == 204:
        _unchanged_but(store, before, out)
        assert isomorphic(store.graph(out), before[2])
        # SILENT: Virtuoso refuses DROP GRAPH of a graph an INSERT made ("not explicitly created").
        store.update(f"DROP SILENT GRAPH <{out}>")
    else:
        assert response.status_code == 400, response.text
        _unchanged_but(store, before)


@SETTINGS
@given(value=hostile)
def test_named_query_parameters(client: TestClient, store: Store, value: str) -> None:
    before = _state(store)
    for query in CATALOGUE:
        for parameter in query.parameters:
            response = client.get(
                f"/queries/{query.name}",
                params={parameter.name: value},
                headers={"Accept": "application/sparql-results+json"},
            )
            assert response.status_code in (200, 400, 422), (query.name, parameter.name, response.text)
    _unchanged_but(store, before)
