"""The named-query catalogue: headers, typed parameters, safe binding, violation checks."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from lmkg.commands import execute
from lmkg.config import Settings
from lmkg.knowledge import KnowledgeGraph
from lmkg.queries import QueryCatalogue, QueryParameterError
from lmkg.store.base import GraphWrite
from lmkg.vocab import LMKG, model_graph, model_iri

CATALOGUE = QueryCatalogue(Settings().queries_dir)
REQUIRED = {
    "portable-and-cheap-to-fine-tune",
    "models-by-kind",
    "model-details",
    "traits-of-kind",
    "source-claims-versus-facts",
}


def test_required_queries_exist_with_headers() -> None:
    assert set(CATALOGUE.queries) >= REQUIRED
    for query in CATALOGUE:
        assert query.summary and query.description, query.name
    assert any(q.is_violation_check for q in CATALOGUE)


@pytest.mark.parametrize("name", [pytest.param(q.name, id=q.name) for q in CATALOGUE])
def test_every_query_runs_with_its_defaults(kg: KnowledgeGraph, name: str) -> None:
    query = CATALOGUE.get(name)
    output = execute(kg.store, query.text, query.bindings({}))
    if query.is_violation_check:
        assert output.rows == [], f"{name} found defects in the seeded data: {output.rows}"
    elif name != "parameter-count-datatype-violation":
        assert output.rows, f"{name} returned nothing on the seeded data"


def test_portable_and_cheap_answers_the_small_examples(kg: KnowledgeGraph) -> None:
    query = CATALOGUE.get("portable-and-cheap-to-fine-tune")
    rows = execute(kg.store, query.text, query.bindings({})).rows
    ids = {str(r["model"]).rsplit("/", 1)[-1] for r in rows}
    assert ids == {
        "orca-2",
        "orca-2-7b",
        "orca-2-13b",
        "gpt-neo",
        "gpt-neo-125m",
        "gpt-neo-1.3b",
        "gpt-neo-2.7b",
        "phi-3-mini",
    }
    fewer = execute(kg.store, query.text, query.bindings({"maxParameters": "3000000000"})).rows
    assert {str(r["model"]).rsplit("/", 1)[-1] for r in fewer} == {
        "gpt-neo-125m",
        "gpt-neo-1.3b",
        "gpt-neo-2.7b",
    }


def test_source_claims_versus_facts_finds_the_known_disagreements(kg: KnowledgeGraph) -> None:
    query = CATALOGUE.get("source-claims-versus-facts")
    rows = execute(kg.store, query.text, query.bindings({"disagreementsOnly": "true"})).rows
    found = {(str(r["model"]).rsplit("/", 1)[-1], str(r["verdict"])) for r in rows}
    assert ("mistral-7b", "disagrees: called large, under the size threshold") in found
    assert ("orca-2-13b", "disagrees: called small, over the size threshold") in found
    assert ("microsoft-copilot", "disagrees: not a language model") in found
    assert all(v.startswith("disagrees") for _, v in found)


def test_violation_query_finds_a_planted_defect(kg: KnowledgeGraph) -> None:
    """The checks can fail: an entry stored with both kinds is reported."""
    from rdflib import Graph

    bad = Graph()
    subject = model_iri("planted")
    bad.add((subject, RDF.type, LMKG.SmallLanguageModel))
    bad.add((subject, RDF.type, LMKG.LargeLanguageModel))
    kg.store.write(GraphWrite(replace={model_graph("planted"): bad}))
    rows = execute(kg.store, CATALOGUE.get("entry-kind-violation").text).rows
    assert [str(r["model"]) for r in rows] == [str(subject)]
    unclassified = execute(kg.store, CATALOGUE.get("unclassified-entry-violation").text).rows
    assert str(subject) in {str(r["model"]) for r in unclassified}


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        pytest.param("models-by-kind", {"kind": "medium"}, "must be one of llm, slm", id="enum"),
        pytest.param(
            "portable-and-cheap-to-fine-tune", {"maxParameters": "3B"}, "of type integer", id="integer"
        ),
        pytest.param("model-details", {"model": "../x"}, "of type model", id="model-id"),
        pytest.param("traits-of-kind", {"class": "A B"}, "of type class", id="class-name"),
        pytest.param("models-by-kind", {"nope": "1"}, "has no parameter nope", id="unknown"),
    ],
)
def test_parameters_are_typed_and_validated(name: str, params: dict[str, str], message: str) -> None:
    with pytest.raises(QueryParameterError, match=message):
        CATALOGUE.get(name).bindings(params)


def test_hostile_string_is_only_a_value(kg: KnowledgeGraph) -> None:
    before = kg.store.triple_count()
    hostile = '" } } ; DROP ALL ; #'
    rows = kg.store.select(
        "SELECT ?m WHERE { ?m <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
        bindings={"label": Literal(hostile)},
    )
    assert rows == []
    assert kg.store.triple_count() == before
    rows = kg.store.select(
        "SELECT ?label WHERE { ?m <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
        bindings={"m": URIRef("https://w3id.org/lmkg/model/phi-3-mini")},
    )
    assert [str(r["label"]) for r in rows] == ["Phi-3-mini"]
