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
    elif name not in ("parameter-count-datatype-violation", "fact-disagreements"):
        # fact-disagreements needs a second source for a fact: none is shipped (see below).
        assert output.rows, f"{name} returned nothing on the seeded data"


def test_portable_and_cheap_answers_the_small_examples(kg: KnowledgeGraph) -> None:
    query = CATALOGUE.get("portable-and-cheap-to-fine-tune")
    rows = execute(kg.store, query.text, query.bindings({})).rows
    ids = {str(r["model"]).rsplit("/", 1)[-1] for r in rows}
    # Each model's own evidence decides, whatever its source's category: Mistral 7B and Llama 3 8B
    # (called large) are in; the families of no single size, Llama 3 70B and GPT-4 are not.
    assert ids == {
        "orca-2-7b",
        "orca-2-13b",
        "gpt-neo-125m",
        "gpt-neo-1.3b",
        "gpt-neo-2.7b",
        "phi-3-mini",
        "mistral-7b",
        "llama-3-8b",
        "llama-2-7b",
        "llama-2-13b",
    }
    bases = {str(r["model"]).rsplit("/", 1)[-1]: str(r["portableBasis"]) for r in rows}
    assert bases["phi-3-mini"] == "observation" and bases["mistral-7b"] == "size-rule"
    fewer = execute(kg.store, query.text, query.bindings({"maxParameters": "3000000000"})).rows
    assert {str(r["model"]).rsplit("/", 1)[-1] for r in fewer} == {
        "gpt-neo-125m",
        "gpt-neo-1.3b",
        "gpt-neo-2.7b",
    }


def test_fact_disagreements_lists_both_sources(kg: KnowledgeGraph) -> None:
    from pathlib import Path

    from lmkg.entries import entry_from_json, parse_json
    from lmkg.knowledge import WriteMode

    body = (Path(__file__).parent / "data" / "statements" / "mistral-7b-two-sources.json").read_bytes()
    assert kg.write([entry_from_json(parse_json(body))], mode=WriteMode.REPLACE).committed
    rows = execute(kg.store, CATALOGUE.get("fact-disagreements").text).rows
    found = {
        (str(r["fact"]).rsplit("#", 1)[-1], str(r["value"])[:10], str(r["sourceKind"]), str(r["otherValue"])[:10],
         str(r["otherSourceKind"]))
        for r in rows
        if str(r["model"]).endswith("/mistral-7b")
    }
    assert ("parameterCount", "7000000000", "epoch", "7300000000", "ecosystem-graphs") in found
    assert ("releaseDate", "2023-09-27", "curated", "2023-10-10", "epoch") in found
    # The curated 7.3B agrees with Ecosystem Graphs' statement, so it is not set against Epoch twice.
    assert not any(f[0] == "parameterCount" and f[2] == "curated" for f in found)


def test_generalisations_keep_their_hedges(kg: KnowledgeGraph) -> None:
    query = CATALOGUE.get("generalisations-of-the-source")
    rows = execute(kg.store, query.text, query.bindings({"category": "slm"})).rows
    hedges = {str(r["text"]): str(r["hedge"]) for r in rows}
    assert hedges["SLMs, with their leaner architectures, generally offer faster processing and greater portability."] == "generally"
    large = execute(kg.store, query.text, query.bindings({"category": "llm"})).rows
    assert any("may limit their portability and affect real-time performance" in str(r["text"]) for r in large)


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
