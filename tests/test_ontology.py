"""The ontology: OWL 2 DL as Protégé loads it, FAIR metadata, labels, exports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from lmkg.commands import profile_check
from lmkg.config import Settings
from lmkg.ontology import export_ontology, ontology_graph
from lmkg.vocab import LMKG, ONTOLOGY_IRI, VANN

SETTINGS = Settings()


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return ontology_graph(SETTINGS.ontology_dir)


needs_profile_check = pytest.mark.skipif(
    not SETTINGS.profile_check.is_file() or shutil.which("java") is None,
    reason="the OWL API profile checker needs ../shared/tools and Java (installed by .ci/run)",
)


@needs_profile_check
def test_turtle_source_is_owl2_dl_as_protege_loads_it() -> None:
    passed, output = profile_check(SETTINGS, [SETTINGS.ontology_dir / "lmkg.ttl"])
    assert passed, output
    assert "OWL 2 DL: no violations" in output


@needs_profile_check
def test_rdfxml_export_is_owl2_dl(tmp_path: Path, ontology: Graph) -> None:
    exported = tmp_path / "lmkg.owl"
    exported.write_bytes(export_ontology(ontology, "rdfxml"))
    passed, output = profile_check(SETTINGS, [exported])
    assert passed, output


@needs_profile_check
def test_profile_check_catches_a_violation(tmp_path: Path, ontology: Graph) -> None:
    """The check can fail: an undeclared class used in an axiom is a DL violation."""
    broken = Graph()
    broken += ontology
    broken.add((LMKG.PortableModel, RDFS.subClassOf, URIRef("https://example.org/Undeclared")))
    path = tmp_path / "broken.ttl"
    broken.serialize(path, format="turtle")
    passed, output = profile_check(SETTINGS, [path])
    assert not passed
    assert "Undeclared" in output


def test_fair_metadata(ontology: Graph) -> None:
    version = ontology.value(ONTOLOGY_IRI, OWL.versionIRI)
    assert isinstance(version, URIRef) and version != ONTOLOGY_IRI
    for prop in (
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.license,
        DCTERMS.creator,
        DCTERMS.created,
        OWL.versionInfo,
        VANN.preferredNamespacePrefix,
        VANN.preferredNamespaceUri,
    ):
        assert ontology.value(ONTOLOGY_IRI, prop) is not None, prop
    created = ontology.value(ONTOLOGY_IRI, DCTERMS.created)
    assert isinstance(created, Literal) and created.datatype == XSD.dateTime


def test_every_term_has_a_label_and_a_definition(ontology: Graph) -> None:
    terms = {s for s in ontology.subjects() if isinstance(s, URIRef) and s.startswith(str(LMKG._NS))}
    assert len(terms) > 50
    for term in terms:
        assert ontology.value(term, RDFS.label) is not None, f"{term} has no rdfs:label"
        assert ontology.value(term, SKOS.definition) is not None, f"{term} has no skos:definition"


def test_every_annotation_property_used_is_declared(ontology: Graph) -> None:
    declared = set(ontology.subjects(RDF.type, OWL.AnnotationProperty))
    structural = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | set(
        ontology.subjects(RDF.type, OWL.DatatypeProperty)
    )
    builtin = {RDF.type, RDF.first, RDF.rest, OWL.versionIRI, OWL.versionInfo, OWL.imports}
    owl_vocabulary = str(OWL)
    for predicate in set(ontology.predicates()):
        if predicate in builtin or str(predicate).startswith(owl_vocabulary):
            continue
        if predicate in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range):
            continue
        if str(predicate).startswith(str(XSD)):
            continue  # facets inside datatype restrictions
        assert predicate in declared or predicate in structural, f"{predicate} is not declared"


def test_no_xsd_date_outside_the_owl2_datatype_map(ontology: Graph) -> None:
    used = {o.datatype for o in ontology.objects() if isinstance(o, Literal)} | set(ontology.objects())
    assert XSD.date not in used


def test_parameter_count_is_xsd_integer(ontology: Graph) -> None:
    assert ontology.value(LMKG.parameterCount, RDFS.range) == XSD.integer
    assert (LMKG.parameterCount, RDF.type, OWL.FunctionalProperty) in ontology


def test_small_and_large_are_disjoint(ontology: Graph) -> None:
    assert (LMKG.LargeLanguageModel, OWL.disjointWith, LMKG.SmallLanguageModel) in ontology


def test_threshold_is_documented_with_its_literature(ontology: Graph) -> None:
    note = str(ontology.value(LMKG.ModelUnderSizeThreshold, SKOS.note))
    for citation in ("2311.11045", "2409.15790", "2501.05465", "10 billion parameters or less"):
        assert citation in note
    assert ontology.value(LMKG.ModelUnderSizeThreshold, LMKG.thresholdParameters).toPython() == 10**10


@pytest.mark.parametrize(
    ("fmt", "parser"),
    [("turtle", "turtle"), ("rdfxml", "xml"), ("jsonld", "json-ld"), ("ntriples", "nt")],
)
def test_exports_are_isomorphic_to_the_source(ontology: Graph, fmt: str, parser: str) -> None:
    exported = Graph().parse(data=export_ontology(ontology, fmt), format=parser)
    assert isomorphic(exported, ontology)
