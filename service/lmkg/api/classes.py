"""The class hierarchy: GET /classes and GET /classes/{name}, with axioms and members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from rdflib import URIRef
from rdflib.namespace import OWL, RDFS, SKOS

from lmkg.api.deps import KGDep
from lmkg.errors import NotFoundError
from lmkg.knowledge import KnowledgeGraph
from lmkg.reasoning import DataRange, Existential
from lmkg.vocab import LMKG

router = APIRouter(tags=["ontology"])

_MEMBER_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?model) AS ?n) WHERE {
  ?model a ?class . ?model a <https://w3id.org/lmkg/ontology#LanguageModel>
} GROUP BY ?class
"""
_CATEGORY_CLAIMS = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
SELECT ?text ?hedge ?section WHERE {
  ?claim a lmkg:CategoryClaim ; lmkg:aboutCategory ?class ; lmkg:claimText ?text ; lmkg:hedge ?hedge ; lmkg:section ?section
} ORDER BY ?claim"""

_MEMBERS = """
SELECT DISTINCT ?model ?label WHERE {
  ?model a ?class . ?model a <https://w3id.org/lmkg/ontology#LanguageModel> .
  OPTIONAL { ?model <http://www.w3.org/2000/01/rdf-schema#label> ?label }
} ORDER BY ?label
"""


def _label(kg: KnowledgeGraph, term: URIRef) -> str:
    value = kg.ontology.value(term, RDFS.label)
    return str(value) if value is not None else (term.fragment or str(term))


def _name(term: URIRef) -> str:
    return term.fragment if str(term).startswith(str(LMKG._NS)) else str(term)


def _lmkg_classes(kg: KnowledgeGraph) -> list[URIRef]:
    return sorted(c for c in kg.classifier.classes if str(c).startswith(str(LMKG._NS)))


def _direct(kg: KnowledgeGraph, cls: URIRef) -> list[URIRef]:
    supers = kg.classifier.class_supers.get(cls, frozenset())
    return sorted(
        s
        for s in supers
        if not any(s in kg.classifier.class_supers.get(o, frozenset()) for o in supers if o != s)
    )


def _existential(kg: KnowledgeGraph, e: Existential) -> str:
    filler = e.filler.describe() if isinstance(e.filler, DataRange) else _label(kg, e.filler)
    return f"{_label(kg, e.prop)} some {filler}"


def _summary(kg: KnowledgeGraph, cls: URIRef, counts: dict[URIRef, int]) -> dict[str, Any]:
    supers = kg.classifier.class_supers.get(cls, frozenset())
    subclasses = sorted(c for c, s in kg.classifier.class_supers.items() if cls in s)
    return {
        "name": _name(cls),
        "iri": str(cls),
        "label": _label(kg, cls),
        "definition": str(kg.ontology.value(cls, SKOS.definition) or "") or None,
        "directSuperclasses": [_name(s) for s in _direct(kg, cls)],
        "superclasses": [_name(s) for s in sorted(supers)],
        "subclasses": [_name(s) for s in subclasses],
        "members": counts.get(cls, 0),
    }


@router.get("/classes", response_model=list[dict[str, Any]])
def list_classes(kg: KGDep) -> list[dict[str, Any]]:
    """Every lmkg class: label, definition, inferred super- and subclasses, member count."""
    counts = {
        row["class"]: int(str(row["n"]))
        for row in kg.store.select(_MEMBER_COUNTS)
        if isinstance(row.get("class"), URIRef)
    }
    return [_summary(kg, cls, counts) for cls in _lmkg_classes(kg)]  # type: ignore[arg-type]


@router.get("/classes/{name}", response_model=dict[str, Any])
def read_class(name: str, kg: KGDep) -> dict[str, Any]:
    """One class: definition, notes, the source's sentences, axioms in words, members."""
    cls = URIRef(str(LMKG._NS) + name)
    if cls not in kg.classifier.classes:
        raise NotFoundError(f"There is no class '{name}' in the lmkg ontology; GET /classes lists them.")
    members = kg.store.select(_MEMBERS, bindings={"class": cls})
    # The source document's sentences about the class: its view, hedges included, never axioms.
    claims = kg.store.select(_CATEGORY_CLAIMS, bindings={"class": cls})
    result = _summary(kg, cls, {cls: len(members)})
    axioms = [
        f"SubClassOf {_existential(kg, e)}"
        for e in sorted(kg.classifier.existentials.get(cls, ()), key=str)
        if cls not in kg.classifier.definitions
    ]
    definition = kg.classifier.definitions.get(cls)
    if definition:
        axioms.append(
            "EquivalentTo "
            + " and ".join(
                _label(kg, c) if isinstance(c, URIRef) else _existential(kg, c) for c in definition
            )
        )
    axioms += [
        f"SubClassOf {_label(kg, s)}"
        for s in sorted(o for o in kg.ontology.objects(cls, RDFS.subClassOf) if isinstance(o, URIRef))
        if isinstance(s, URIRef)
    ]
    axioms += [
        f"DisjointWith {_label(kg, other)}"
        for pair in sorted(kg.classifier.disjoint, key=sorted)
        if cls in pair
        for other in pair
        if other != cls
    ]
    result.update(
        axioms=axioms,
        notes=[str(n) for n in kg.ontology.objects(cls, SKOS.note)],
        sourceStatements=[str(row["text"]) for row in claims],
        sourceClaims=[{"text": str(r["text"]), "hedge": str(r["hedge"]), "section": str(r["section"])} for r in claims],
        equivalentTo=[str(e) for e in kg.ontology.objects(cls, OWL.equivalentClass) if isinstance(e, URIRef)],
        memberList=[
            {
                "id": str(r["model"]).rsplit("/", 1)[-1],
                "iri": str(r["model"]),
                "label": str(r.get("label", "")),
            }
            for r in members
        ],
    )
    return result
