"""Regression (issue 15): a blank-node label from a JSON-LD entry was pasted into SPARQL Update.

rdflib's JSON-LD parser keeps a blank-node `@id` exactly as sent, and `store/base.py` wrote a
blank node as `_:` + that label. An entry whose blank-node `@id` held `}` and then SPARQL
passed validation (under a predicate no shape constrains), and on a remote store the update
that `RemoteStore.write` sent ran the embedded `DROP ALL`: the ontology and every stored
entry were gone. The embedded store escaped only because it had a second N-Quads writer that
minted labels of its own. One writer (lmkg.store.sparqltext) now relabels every blank node.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, PROV, RDF

from lmkg.readindex import is_change_graph
from lmkg.store import Store
from lmkg.vocab import GRAPH_ONTOLOGY, model_graph

ENTRIES = Path(__file__).parents[1] / "data" / "entries"
HOSTILE_LABEL = "x} } ; DROP ALL ; INSERT DATA { GRAPH <urn:lmkg:injected> { <urn:a> <urn:b> _:c"


def stored_entry(store: Store, model_id: str) -> Graph:
    """The entry graph without what lmkg adds to every entry (its time and owl:NamedIndividual)."""
    kept = Graph()
    for s, p, o in store.graph(model_graph(model_id)):
        if p != PROV.generatedAtTime and (p, o) != (RDF.type, OWL.NamedIndividual):
            kept.add((s, p, o))
    return kept


def test_crafted_blank_node_id_stores_exactly_its_triples(
    client: TestClient, auth: dict[str, str], store: Store
) -> None:
    entry = json.loads((ENTRIES / "new-slm.jsonld").read_text(encoding="utf-8"))
    entry["@graph"][0]["rdfs:seeAlso"] = {"@id": f"_:{HOSTILE_LABEL}"}
    body = json.dumps(entry)
    ontology = store.graph(GRAPH_ONTOLOGY)
    names = set(store.graph_names())
    assert len(ontology) > 0 and client.get("/models/phi-3-mini").status_code == 200

    response = client.post("/models", content=body, headers={**auth, "Content-Type": "application/ld+json"})

    assert response.status_code == 201, response.text
    assert isomorphic(store.graph(GRAPH_ONTOLOGY), ontology)
    assert client.get("/models/phi-3-mini").status_code == 200
    added = {g for g in set(store.graph_names()) - names if not is_change_graph(g)}  # the index's log is not data
    assert added == {model_graph("qwen2-0.5b")}
    assert URIRef("urn:lmkg:injected") not in store.graph_names()
    sent = Graph()
    for s, p, o, _ in Dataset().parse(data=body, format="json-ld").quads():
        sent.add((s, p, o))
    assert isomorphic(stored_entry(store, "qwen2-0.5b"), sent)
