"""Classification: HermiT (the reference) on the examples, and the fast path agreeing with it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from lmkg.config import Settings
from lmkg.entries import Entry
from lmkg.ontology import ontology_graph, split_examples
from lmkg.reasoning import Classifier, HermitResult, java_available, run_hermit
from lmkg.evidence import verdicts
from lmkg.vocab import LMKG, ORG, model_graph, model_iri

pytestmark = pytest.mark.skipif(not java_available(), reason="HermiT needs Java (installed by .ci/run)")

THRESHOLD = 10_000_000_000


@pytest.fixture(scope="session")
def ontology() -> Graph:
    return ontology_graph(Settings().ontology_dir)


@pytest.fixture(scope="session")
def classifier(ontology: Graph) -> Classifier:
    return Classifier(ontology)


@pytest.fixture(scope="session")
def examples() -> dict[URIRef, Graph]:
    return split_examples(Settings().ontology_dir)


@pytest.fixture(scope="session")
def hermit_examples(ontology: Graph, examples: dict[URIRef, Graph]) -> HermitResult:
    return run_hermit([ontology, *examples.values()])


def test_hermit_finds_ontology_and_examples_consistent(hermit_examples: HermitResult) -> None:
    assert hermit_examples.consistent, hermit_examples.message
    assert hermit_examples.unsatisfiable == []


# The verdicts of issue 12 on the shipped examples: (portable, cheap to fine-tune, fast), each
# with its basis. None is unknown: no evidence decides it.
EXPECTED_VERDICTS = {
    "phi-3-mini": ((True, "observation"), (True, "size-rule"), (True, "size-rule")),
    "gpt-neo-125m": ((True, "size-rule"), (True, "size-rule"), (True, "size-rule")),
    "gpt-neo-1.3b": ((True, "size-rule"), (True, "size-rule"), (True, "size-rule")),
    "gpt-neo-2.7b": ((True, "size-rule"), (True, "size-rule"), (True, "size-rule")),
    "mistral-7b": ((True, "size-rule"), (True, "size-rule"), (True, "size-rule")),
    "llama-3-8b": ((True, "size-rule"), (True, "size-rule"), (True, "size-rule")),
    "orca-2-7b": ((True, "size-rule"), (True, "size-rule"), (True, "size-rule")),
    "orca-2-13b": ((True, "size-rule"), (True, "size-rule"), (False, "size-rule")),
    "llama-3-70b": ((False, "size-rule"), (False, "size-rule"), (False, "size-rule")),
    "gpt-4": ((None, "none"), (None, "none"), (None, "none")),
    "llama-3": ((None, "none"), (None, "none"), (None, "none")),
}


@pytest.mark.parametrize("model_id", sorted(EXPECTED_VERDICTS))
def test_verdicts_from_hermits_classes(
    hermit_examples: HermitResult, examples: dict[URIRef, Graph], model_id: str
) -> None:
    """The verdicts rest on classes HermiT concludes from each model's own evidence."""
    subject = model_iri(model_id)
    graph = examples[model_graph(model_id)]
    found = verdicts(graph, subject, hermit_examples.types[subject])
    got = tuple((found[name].value, str(found[name].basis)) for name in ("portable", "cheapToFineTune", "fast"))
    assert got == EXPECTED_VERDICTS[model_id]


def test_no_trait_follows_from_a_category(hermit_examples: HermitResult) -> None:
    """A model its source calls small but of unknown size has no verdict; the category axioms are gone."""
    for model_id in ("orca-2", "gpt-neo"):  # families the source calls small, of no single size
        types = hermit_examples.types[model_iri(model_id)]
        assert not types & {LMKG.PortableModel, LMKG.NonPortableModel, LMKG.FitsLaptopAt4Bit}
        assert LMKG.FocusedTrainingData not in types and LMKG.SpecialisedModel not in types
    for model_id in ("phi-3-mini", "gpt-neo-125m"):
        assert LMKG.SpecialisedModel not in hermit_examples.types[model_iri(model_id)]


def test_size_threshold_classes(hermit_examples: HermitResult) -> None:
    assert LMKG.ModelUnderSizeThreshold in hermit_examples.types[model_iri("mistral-7b")]
    assert LMKG.ModelOverSizeThreshold in hermit_examples.types[model_iri("orca-2-13b")]
    gpt4 = hermit_examples.types[model_iri("gpt-4")]
    assert LMKG.ModelUnderSizeThreshold not in gpt4 and LMKG.ModelOverSizeThreshold not in gpt4


def test_fast_path_agrees_with_hermit_on_every_example(
    classifier: Classifier, examples: dict[URIRef, Graph], hermit_examples: HermitResult
) -> None:
    compared = 0
    for graph in examples.values():
        for subject in {s for s in graph.subjects(RDF.type, None) if "/model/" in str(s)}:
            fast = classifier.classify(graph, subject)
            assert fast.consistent
            assert fast.types == hermit_examples.types[subject], subject
            compared += 1
    assert compared == 15


def test_fast_path_class_hierarchy_agrees_with_hermit(
    classifier: Classifier, hermit_examples: HermitResult
) -> None:
    for cls, supers in classifier.class_supers.items():
        assert supers == hermit_examples.class_supers.get(cls, frozenset()), cls


# -- generated entries of every kind ------------------------------------------------

KINDS = [LMKG.LargeLanguageModel, LMKG.SmallLanguageModel, LMKG.LanguageModel, None]
LAPTOP = 26_666_666_666  # lmkg:FitsLaptopAt4Bit
QLORA = 33_000_000_000  # lmkg:QLoRAFitsConsumerGPU
SIZES = [None, 1, THRESHOLD, THRESHOLD + 1, LAPTOP, LAPTOP + 1, QLORA, QLORA + 1, 2_000_000_000_000, (7 * 10**9, 70 * 10**9)]
ACTIVE = [None, 6_600_000_000, 12_900_000_000]
TRAITS = [
    None,
    (LMKG.hasGenerationScope, LMKG.VersatileGeneration),
    (LMKG.hasGenerationScope, LMKG.FocusedGeneration),
]


def generated_entries() -> Iterator[Entry]:
    for index, (kind, size, active, trait) in enumerate(itertools.product(KINDS, SIZES, ACTIVE, TRAITS)):
        if kind is None and size is None and trait is None and active is None:
            continue
        entry = Entry(f"generated-{index}", Graph())
        subject = entry.iri
        entry.graph.add((subject, RDF.type, OWL.NamedIndividual))  # as every write path adds
        if kind is not None:
            entry.graph.add((subject, RDF.type, kind))
        for count in size if isinstance(size, tuple) else [size] if size is not None else []:
            entry.graph.add((subject, LMKG.parameterCount, Literal(count, datatype=XSD.integer)))
        if active is not None:
            entry.graph.add((subject, LMKG.activeParameterCount, Literal(active, datatype=XSD.integer)))
        if trait is not None:
            value = BNode()
            entry.graph.add((subject, trait[0], value))
            entry.graph.add((value, RDF.type, trait[1]))
        entry.graph.add((subject, LMKG.developedBy, ORG.acme))
        entry.graph.add((ORG.acme, RDF.type, LMKG.Organisation))
        entry.graph.add((ORG.acme, RDFS.label, Literal("Acme")))
        yield entry


def test_fast_path_agrees_with_hermit_on_generated_entries(ontology: Graph, classifier: Classifier) -> None:
    entries = list(generated_entries())
    consistent = [e for e in entries if classifier.classify(e.graph, e.iri).consistent]
    inconsistent = [e for e in entries if e not in consistent]
    # Consistent entries are classified by HermiT together, in one run.
    result = run_hermit([ontology, *(e.graph for e in consistent)])
    assert result.consistent, result.message
    for entry in consistent:
        fast = classifier.classify(entry.graph, entry.iri)
        assert fast.types == result.types[entry.iri], entry.graph.serialize(format="turtle")
    # What the fast path calls inconsistent, HermiT must too (one run each, so a few).
    assert inconsistent, "the generated entries should include contradictions"
    for entry in inconsistent[:4]:
        assert not run_hermit([ontology, entry.graph]).consistent, entry.graph.serialize(format="turtle")


# -- the cache of conclusions --------------------------------------------------------


def _sized_entry(model_id: str, counts: list[int], kind: URIRef | None = LMKG.SmallLanguageModel) -> Entry:
    entry = Entry(model_id, Graph())
    entry.graph.add((entry.iri, RDF.type, OWL.NamedIndividual))
    if kind is not None:
        entry.graph.add((entry.iri, RDF.type, kind))
    for count in counts:
        entry.graph.add((entry.iri, LMKG.parameterCount, Literal(count, datatype=XSD.integer)))
    return entry


CACHE_CASES = [
    pytest.param([], id="no-count"),
    pytest.param([1], id="tiny"),
    pytest.param([THRESHOLD - 1], id="just-under"),
    pytest.param([THRESHOLD], id="at-threshold"),
    pytest.param([THRESHOLD + 1], id="just-over"),
    pytest.param([7_000_000_000, 8_000_000_000], id="two-counts-same-side"),
    pytest.param([7_000_000_000, 70_000_000_000], id="two-counts-either-side"),
]


@pytest.mark.parametrize("counts", CACHE_CASES)
@pytest.mark.parametrize("kind", [LMKG.SmallLanguageModel, LMKG.LargeLanguageModel, None])
def test_cached_conclusions_equal_a_fresh_classifiers(
    ontology: Graph, classifier: Classifier, counts: list[int], kind: URIRef | None
) -> None:
    """The cache is keyed by which side of each threshold a value falls, not by the value:
    a warm classifier must conclude, and cite, exactly what a fresh one does."""
    warm = Classifier(ontology)
    for offset in (3, 2, 1):  # other values on the same sides of the threshold: fills the cache
        others = [c + offset if c <= 3 or c > THRESHOLD + 3 else c - offset for c in counts]
        if counts == [THRESHOLD + 1]:
            others = [THRESHOLD + 1 + offset]
        warm.classify(_sized_entry("warm-up", others, kind).graph, model_iri("warm-up"))
    entry = _sized_entry("subject", counts, kind)
    cached = warm.classify(entry.graph, entry.iri)
    fresh = Classifier(ontology).classify(entry.graph, entry.iri)
    assert cached.types == fresh.types
    assert cached.why == fresh.why
    assert cached.traits == fresh.traits
    assert cached.inconsistencies == fresh.inconsistencies


def test_a_cached_reason_cites_the_entrys_own_count(classifier: Classifier) -> None:
    first = _sized_entry("first", [3_000_000_000])
    second = _sized_entry("second", [4_000_000_000])
    classifier.classify(first.graph, first.iri)
    step = classifier.classify(second.graph, second.iri).why[LMKG.ModelUnderSizeThreshold]
    cited = [p.value for p in step.premises if p.kind == "value"]
    assert cited == [Literal(4_000_000_000, datatype=XSD.integer)]
