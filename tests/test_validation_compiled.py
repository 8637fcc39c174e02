"""The compiled shapes answer "conforms" only where pySHACL reports nothing, and on valid entries they do.

The write path trusts `CompiledShapes.conforms` instead of running pySHACL on an entry,
so a "yes" from it must never hide a result pySHACL would report.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bench.data import entries as synthetic_entries
from rdflib import Graph

from lmkg.commands import read_entry_file
from lmkg.config import Settings
from lmkg.entries import entry_from_json
from lmkg.errors import EntryError
from lmkg.ontology import ontology_graph, split_examples
from lmkg.reasoning import Classifier
from lmkg.validation import CompiledShapes, Validator

DATA = Path(__file__).parent / "data"
FILES = sorted(
    p
    for folder in ("valid-entries", "invalid-entries", "entries")
    for p in (DATA / folder).iterdir()
    if p.suffix in (".json", ".ttl", ".jsonld") and p.name != "expected.json"
)


def pyshacl_clean(validator: Validator, graph: Graph) -> bool:
    report = validator.validate([graph])
    return report.conforms and not report.results


@pytest.fixture(scope="module")
def validator() -> Validator:
    settings = Settings()
    made = Validator(settings.shapes_dir, Classifier(ontology_graph(settings.ontology_dir)).class_supers)
    assert made.compiled is not None, "the shapes no longer compile: every write runs pySHACL"
    return made


@pytest.mark.parametrize("path", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in FILES])
def test_test_entries_agree(validator: Validator, path: Path) -> None:
    try:
        found = read_entry_file(path)
    except Exception:  # a file refused before SHACL (remote context...) has nothing to compare
        return
    compiled = validator.compiled
    assert compiled is not None
    for entry in found.entries:
        if compiled.conforms(entry.graph):
            assert pyshacl_clean(validator, entry.graph), path
        elif path.parent.name == "valid-entries":
            pytest.fail(f"{path}: valid, but the compiled shapes would send it to pySHACL")


def test_examples_agree(validator: Validator) -> None:
    compiled = validator.compiled
    assert compiled is not None
    for graph in split_examples(Settings().ontology_dir).values():
        assert compiled.conforms(graph) == pyshacl_clean(validator, graph)


Mutation = Callable[[dict[str, Any], random.Random], None]
MUTATIONS: dict[str, Mutation] = {
    "none": lambda d, r: None,
    "no-label": lambda d, r: d.pop("label"),
    "empty-label": lambda d, r: d.update(label=""),
    "long-label": lambda d, r: d.update(label="x" * 301),
    "negative-size": lambda d, r: d.update(parameterCount=-5),
    "zero-size": lambda d, r: d.update(parameterCount=0),
    "fractional-size": lambda d, r: d.update(parameterCount=1.5),
    "text-size": lambda d, r: d.update(parameterCount="7B"),
    "boolean-size": lambda d, r: d.update(parameterCount=True),
    "text-open-weights": lambda d, r: d.update(openWeights="yes"),
    "date-words": lambda d, r: d.update(releaseDate="last spring"),
    "no-sources": lambda d, r: d.pop("sources"),
    "source-not-url": lambda d, r: d.update(sources=["a book"]),
    "ftp-source": lambda d, r: d.update(sources=["ftp://example.org/x"]),
    "no-developer": lambda d, r: d.pop("developer"),
    "empty-licence": lambda d, r: d.update(license=""),
    "long-description": lambda d, r: d.update(description="y" * 5001),
    "description": lambda d, r: d.update(description="A model."),
    "integer-compute": lambda d, r: d.update(trainingCompute=10**22),
    "double-compute": lambda d, r: d.update(trainingCompute=1.5e22),
    "negative-compute": lambda d, r: d.update(trainingCompute=-1.0),
    "zero-tokens": lambda d, r: d.update(trainingTokens=0),
    "bad-kind-basis": lambda d, r: d.update(kindBasis="guess"),
    "kind-basis": lambda d, r: d.update(kindBasis="size-threshold"),
    "empty-task": lambda d, r: d.update(tasks=[""]),
    "long-speciality": lambda d, r: d.update(specialisesIn=["z" * 201]),
    "domains": lambda d, r: d.update(domains=["Language", "Vision"]),
    "variant": lambda d, r: d.update(variantOf="some-family"),
    "derived": lambda d, r: d.update(derivedFrom=["https://example.org/row-1"]),
    "derived-literal": lambda d, r: d.update(derivedFrom=["row 1"]),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_generated_entries_agree(validator: Validator, name: str) -> None:
    """Synthetic entries, each changed in one way: the compiled shapes and pySHACL give one verdict."""
    compiled = validator.compiled
    assert compiled is not None
    rng = random.Random(name)
    for document in synthetic_entries(12, seed=len(name)):
        changed = copy.deepcopy(document)
        changed.pop("fineTunedFrom", None)
        MUTATIONS[name](changed, rng)
        try:
            entry = entry_from_json(json.loads(json.dumps(changed)))
        except EntryError:
            continue
        assert compiled.conforms(entry.graph) == pyshacl_clean(validator, entry.graph), (name, changed)


def test_turtle_with_two_kinds_and_a_subclass_axiom_goes_to_pyshacl(validator: Validator) -> None:
    graph = Graph().parse(
        data="""
        @prefix lmkg: <https://w3id.org/lmkg/ontology#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <https://w3id.org/lmkg/model/m> a lmkg:SmallLanguageModel , lmkg:LargeLanguageModel ;
            rdfs:label "M" .
        lmkg:Thing rdfs:subClassOf lmkg:LanguageModel .
        """,
        format="turtle",
    )
    assert isinstance(validator.compiled, CompiledShapes)
    assert not validator.compiled.conforms(graph)
