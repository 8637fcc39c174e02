"""Classification: HermiT through owlready2 (the reference) and the fast path used online.

The fast path compiles the ontology once into told subsumptions, existential
restrictions, conjunctive definitions, disjointness and functional properties,
and classifies one entry by forward chaining over them. It covers the OWL the
lmkg ontology uses (an EL-like fragment plus disjointness, functionality and
datatype facets); tests prove that it concludes what HermiT concludes on every
example and on generated entries.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from lmkg.errors import ReasoningError
from lmkg.graphindex import Index, index_of

_TYPE = RDF.type  # DefinedNamespace attributes cost a microsecond each: read once

# Which Python values a base datatype's range may hold: integers, or any number.
_INTEGER_DATATYPES = frozenset((XSD.integer, XSD.long, XSD.nonNegativeInteger, XSD.positiveInteger))
_NUMBER_DATATYPES = frozenset((XSD.decimal, XSD.double, XSD.float))

_FACETS = {
    XSD.minInclusive: lambda v, b: v >= b,
    XSD.maxInclusive: lambda v, b: v <= b,
    XSD.minExclusive: lambda v, b: v > b,
    XSD.maxExclusive: lambda v, b: v < b,
}


@dataclass(frozen=True)
class DataRange:
    """A datatype restriction: a base datatype and its facets (xsd:integer[<= 10^10])."""

    datatype: URIRef
    facets: tuple[tuple[URIRef, int | float | Decimal], ...]

    def admits(self, value: Literal) -> bool:
        return self.admits_value(value.toPython())

    def admits_value(self, python_value: object) -> bool:
        """`admits` for a literal's Python value (read once for all the ranges of a property)."""
        if self.datatype in _INTEGER_DATATYPES:
            if isinstance(python_value, bool) or not isinstance(python_value, int):
                return False
        elif self.datatype in _NUMBER_DATATYPES:
            if isinstance(python_value, bool) or not isinstance(python_value, int | float | Decimal):
                return False
        return all(_FACETS[facet](python_value, bound) for facet, bound in self.facets)

    def describe(self) -> str:
        words = {
            XSD.minInclusive: ">=",
            XSD.maxInclusive: "<=",
            XSD.minExclusive: ">",
            XSD.maxExclusive: "<",
        }
        parts = [f"{words[f]} {b:,}" for f, b in self.facets]
        return f"{self.datatype.fragment or self.datatype} {' and '.join(parts)}"


Filler = URIRef | DataRange


@dataclass(frozen=True)
class Existential:
    """An existential restriction: some value of `prop` in `filler`."""

    prop: URIRef
    filler: Filler


Conjunct = URIRef | Existential


@dataclass(frozen=True)
class Premise:
    """One reason a conjunct of a definition holds.

    kind "class": the individual is in `cls`; "trait": some class it is in has the
    existential axiom prop some filler; "value": its value `value` of `prop` lies in
    `data_range`; "object": it has a value of `prop` in `filler`.
    """

    kind: str
    prop: URIRef | None = None
    cls: URIRef | None = None
    filler: URIRef | None = None
    value: Literal | None = None
    data_range: DataRange | None = None


@dataclass(frozen=True)
class Step:
    """Why a class was concluded: the rule, and the premises it used."""

    rule: str  # "asserted", "domain", "subclass", "definition"
    source: URIRef | None = None  # the subclass, or the property whose domain it is
    premises: tuple[Premise, ...] = ()


@dataclass
class Classification:
    """What the fast path concluded about one individual."""

    subject: URIRef
    asserted: frozenset[URIRef]
    types: frozenset[URIRef]
    why: dict[URIRef, Step]
    traits: frozenset[Existential]
    inconsistencies: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.inconsistencies

    @property
    def inferred(self) -> frozenset[URIRef]:
        return self.types - self.asserted


_Chained = tuple[frozenset[URIRef], dict[URIRef, Step], frozenset[Existential], tuple[str, ...]]
"""What forward chaining concludes: types, why each holds, traits, inconsistencies."""

_CACHE_LIMIT = 4096
"""The most conclusions each cache keeps."""


@dataclass(frozen=True)
class _Outcome:
    """A cached conclusion, the data values it was reached with, and where its reasons cite
    them: (class, premise number, position in the data values)."""

    chained: _Chained
    data_values: tuple[tuple[URIRef, Literal], ...]
    cited: tuple[tuple[URIRef, int, int], ...]


def _named(node: Node) -> bool:
    return isinstance(node, URIRef) and node != OWL.Thing


class Classifier:
    """The fast path: the ontology compiled once, then one entry classified per call."""

    def __init__(self, ontology: Graph) -> None:
        self.ontology = ontology
        self.classes: set[URIRef] = {
            c for c in ontology.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)
        }
        self.told: dict[URIRef, set[URIRef]] = {}
        self.existentials: dict[URIRef, set[Existential]] = {}
        self.definitions: dict[URIRef, tuple[Conjunct, ...]] = {}
        self.disjoint: set[frozenset[URIRef]] = set()
        self.super_properties: dict[URIRef, set[URIRef]] = {}
        self.functional: set[URIRef] = set(
            p for p in ontology.subjects(RDF.type, OWL.FunctionalProperty) if isinstance(p, URIRef)
        )
        self.domains: dict[URIRef, set[URIRef]] = {}
        self._compile()
        self._cache: dict[tuple[object, ...], _Chained] = {}
        self._outcomes: dict[tuple[object, ...], _Outcome] = {}
        self._value_ranges: dict[URIRef, tuple[DataRange, ...]] = {}
        self._functional_of: dict[URIRef, tuple[URIRef, ...]] = {}
        self._relevant = self._relevant_properties()
        self.class_supers: dict[URIRef, frozenset[URIRef]] = {
            c: self._prototype_supers(c) for c in sorted(self.classes)
        }

    # -- compiling the ontology ------------------------------------------------

    def _list(self, head: Node) -> list[Node]:
        return list(Collection(self.ontology, head))

    def _data_range(self, node: Node) -> DataRange | None:
        datatype = self.ontology.value(node, OWL.onDatatype)
        restrictions = self.ontology.value(node, OWL.withRestrictions)
        if not isinstance(datatype, URIRef) or restrictions is None:
            return None
        facets: list[tuple[URIRef, int | float | Decimal]] = []
        for facet_node in self._list(restrictions):
            for facet, bound in self.ontology.predicate_objects(facet_node):
                if facet in _FACETS and isinstance(bound, Literal) and isinstance(facet, URIRef):
                    facets.append((facet, bound.toPython()))
        return DataRange(datatype, tuple(facets))

    def _restriction(self, node: Node) -> Existential | None:
        prop = self.ontology.value(node, OWL.onProperty)
        filler = self.ontology.value(node, OWL.someValuesFrom)
        if not isinstance(prop, URIRef) or filler is None:
            return None
        if isinstance(filler, URIRef):
            return Existential(prop, filler)
        data_range = self._data_range(filler)
        return Existential(prop, data_range) if data_range else None

    def _conjuncts(self, node: Node) -> tuple[Conjunct, ...] | None:
        if isinstance(node, URIRef):
            return (node,)
        head = self.ontology.value(node, OWL.intersectionOf)
        if head is not None:
            conjuncts: list[Conjunct] = []
            for member in self._list(head):
                if isinstance(member, URIRef):
                    conjuncts.append(member)
                else:
                    restriction = self._restriction(member)
                    if restriction is None:
                        return None
                    conjuncts.append(restriction)
            return tuple(conjuncts)
        restriction = self._restriction(node)
        return (restriction,) if restriction else None

    def _compile(self) -> None:
        g = self.ontology
        for c in self.classes:
            self.told.setdefault(c, set())
            self.existentials.setdefault(c, set())
        for c_node, sup in g.subject_objects(RDFS.subClassOf):
            if not isinstance(c_node, URIRef):
                continue
            c = c_node
            if isinstance(sup, URIRef):
                self.told.setdefault(c, set()).add(sup)
            else:
                restriction = self._restriction(sup)
                if restriction:
                    self.existentials.setdefault(c, set()).add(restriction)
        for c_node, eq in g.subject_objects(OWL.equivalentClass):
            if not isinstance(c_node, URIRef):
                continue
            c = c_node
            if isinstance(eq, URIRef):
                self.told.setdefault(c, set()).add(eq)
                self.told.setdefault(eq, set()).add(c)
                continue
            union = g.value(eq, OWL.unionOf)
            if union is not None:
                for member in self._list(union):
                    if isinstance(member, URIRef):
                        self.told.setdefault(member, set()).add(c)
                continue
            conjuncts = self._conjuncts(eq)
            if conjuncts is None:
                continue
            self.definitions[c] = conjuncts
            for conjunct in conjuncts:
                if isinstance(conjunct, URIRef):
                    self.told.setdefault(c, set()).add(conjunct)
                else:
                    self.existentials.setdefault(c, set()).add(conjunct)
        for a, b in g.subject_objects(OWL.disjointWith):
            if isinstance(a, URIRef) and isinstance(b, URIRef):
                self.disjoint.add(frozenset((a, b)))
        for axiom in g.subjects(RDF.type, OWL.AllDisjointClasses):
            head = g.value(axiom, OWL.members)
            members = [m for m in self._list(head) if isinstance(m, URIRef)] if head is not None else []
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    self.disjoint.add(frozenset((a, b)))
        for p, sup in g.subject_objects(RDFS.subPropertyOf):
            if isinstance(p, URIRef) and isinstance(sup, URIRef):
                self.super_properties.setdefault(p, set()).add(sup)
        for p, domain in g.subject_objects(RDFS.domain):
            if isinstance(p, URIRef) and isinstance(domain, URIRef):
                self.domains.setdefault(p, set()).add(domain)

    def _props_up(self, prop: URIRef) -> set[URIRef]:
        seen = {prop}
        stack = [prop]
        while stack:
            for sup in self.super_properties.get(stack.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    stack.append(sup)
        return seen

    def _up(self, classes: Iterable[URIRef]) -> set[URIRef]:
        seen = set(classes)
        stack = list(seen)
        while stack:
            for sup in self.told.get(stack.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    stack.append(sup)
        return seen

    def _prototype_supers(self, c: URIRef) -> frozenset[URIRef]:
        types, _, _, problems = self._chain(frozenset({c}), (), ())
        return frozenset(types - {c}) if not problems else frozenset({OWL.Nothing})

    # -- classifying -----------------------------------------------------------

    def _chain(
        self,
        asserted: frozenset[URIRef],
        data_values: tuple[tuple[URIRef, Literal], ...],
        object_values: tuple[tuple[URIRef, frozenset[URIRef]], ...],
    ) -> _Chained:
        key = (asserted, data_values, object_values)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        why: dict[URIRef, Step] = {c: Step("asserted") for c in asserted}
        for prop, _ in (*data_values, *object_values):
            for p in self._props_up(prop):
                for domain in self.domains.get(p, ()):
                    why.setdefault(domain, Step("domain", p))
        types: set[URIRef] = set(why)
        traits: set[Existential] = set()
        changed = True
        while changed:
            changed = False
            frontier = list(types)
            while frontier:
                c = frontier.pop()
                for sup in self.told.get(c, ()):
                    if sup not in types:
                        types.add(sup)
                        why[sup] = Step("subclass", c)
                        frontier.append(sup)
                    elif why[sup].rule == "domain":
                        why[sup] = Step("subclass", c)  # the stronger reason to explain
            traits = {e for c in types for e in self.existentials.get(c, ())}
            for defined, conjuncts in self.definitions.items():
                if defined in types:
                    continue
                premises = self._satisfied(conjuncts, types, traits, data_values, object_values)
                if premises is not None:
                    types.add(defined)
                    why[defined] = Step("definition", None, premises)
                    changed = True
        problems = self._inconsistencies(types, traits, data_values, object_values)
        result = (frozenset(t for t in types if t != OWL.Thing), why, frozenset(traits), tuple(problems))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()  # a bound on memory; what is worth keeping comes back at once
        self._cache[key] = result
        return result

    def _satisfied(
        self,
        conjuncts: tuple[Conjunct, ...],
        types: set[URIRef],
        traits: set[Existential],
        data_values: tuple[tuple[URIRef, Literal], ...],
        object_values: tuple[tuple[URIRef, frozenset[URIRef]], ...],
    ) -> tuple[Premise, ...] | None:
        premises: list[Premise] = []
        for conjunct in conjuncts:
            if isinstance(conjunct, URIRef):
                if conjunct not in types:
                    return None
                premises.append(Premise("class", cls=conjunct))
                continue
            found: Premise | None = None
            if isinstance(conjunct.filler, DataRange):
                for prop, value in data_values:
                    if conjunct.prop in self._props_up(prop) and conjunct.filler.admits(value):
                        found = Premise("value", prop=prop, value=value, data_range=conjunct.filler)
                        break
            else:
                for trait in traits:
                    if (
                        isinstance(trait.filler, URIRef)
                        and conjunct.prop in self._props_up(trait.prop)
                        and conjunct.filler in self._up({trait.filler})
                    ):
                        # The class whose own axiom gives the trait, rather than a
                        # defined class that merely repeats it in its definition.
                        owners = [c for c in sorted(types) if trait in self.existentials.get(c, ())]
                        owner = next(
                            (c for c in owners if c not in self.definitions),
                            owners[0] if owners else None,
                        )
                        found = Premise("trait", prop=trait.prop, cls=owner, filler=trait.filler)
                        break
                if found is None:
                    for prop, object_types in object_values:
                        if conjunct.prop in self._props_up(prop) and conjunct.filler in self._up(
                            object_types
                        ):
                            found = Premise("object", prop=prop, filler=conjunct.filler)
                            break
            if found is None:
                return None
            premises.append(found)
        return tuple(premises)

    def _inconsistencies(
        self,
        types: set[URIRef],
        traits: set[Existential],
        data_values: tuple[tuple[URIRef, Literal], ...],
        object_values: tuple[tuple[URIRef, frozenset[URIRef]], ...],
    ) -> list[str]:
        problems = [
            f"it would be both {a} and {b}, which are disjoint"
            for pair in sorted(self.disjoint, key=sorted)
            if pair <= types
            for a, b in [sorted(pair)]
        ]
        # Values of a functional property are one individual: their classes must not clash.
        for prop in sorted(self.functional):
            fillers: list[frozenset[URIRef]] = [
                frozenset({t.filler})
                for t in traits
                if isinstance(t.filler, URIRef) and prop in self._props_up(t.prop)
            ]
            fillers.extend(
                object_types
                for p, object_types in object_values
                if prop in self._props_up(p) and object_types
            )
            merged = self._up(set().union(*fillers)) if fillers else set()
            clashes = sorted(sorted(pair) for pair in self.disjoint if pair <= merged)
            for a, b in clashes:
                problems.append(
                    f"{prop} is functional but its value would be in disjoint classes {a} and {b}"
                )
            values = {value for p, value in data_values if prop in self._props_up(p)}
            if len(values) > 1:
                shown = ", ".join(sorted(str(v) for v in values))
                problems.append(f"{prop} is functional but has several values: {shown}")
        return problems

    def classify(self, graph: Graph | None, subject: URIRef, *, index: Index | None = None) -> Classification:
        """Classify one individual from its triples in `graph` (its entry graph; `index`: the
        graph already read by `index_of`, and then `graph` may be None)."""
        if index is None:
            if graph is None:
                raise ValueError("classify needs a graph or its index")
            index = index_of(graph)
        by_predicate = index.get(subject, {})
        asserted = frozenset(
            t for t in by_predicate.get(_TYPE, ()) if isinstance(t, URIRef) and t in self.classes
        )
        data_values: list[tuple[URIRef, Literal]] = []
        object_values: list[tuple[URIRef, frozenset[URIRef]]] = []
        for prop, values in by_predicate.items():
            if prop == _TYPE or not isinstance(prop, URIRef):
                continue
            for value in values:
                if isinstance(value, Literal):
                    data_values.append((prop, value))
                elif isinstance(value, URIRef | BNode):
                    object_types = frozenset(
                        t for t in index.get(value, {}).get(_TYPE, ()) if isinstance(t, URIRef)
                    )
                    if object_types or prop in self.domains:
                        object_values.append((prop, object_types))
        relevant = self._relevant
        data_key = tuple(sorted((p, v) for p, v in data_values if p in relevant or p in self.functional))
        object_key = tuple(sorted(object_values, key=lambda pv: (pv[0], sorted(pv[1]))))
        types, why, traits, problems = self._conclude(asserted, data_key, object_key)
        return Classification(subject, asserted, types, why, traits, list(problems))

    def _relevant_properties(self) -> set[URIRef]:
        """Data properties whose values can change a conclusion: used in definitions or domains."""
        used: set[URIRef] = set(self.domains)
        for conjuncts in self.definitions.values():
            for conjunct in conjuncts:
                if isinstance(conjunct, Existential):
                    used.add(conjunct.prop)
        return used

    # -- the cache of conclusions, keyed by what decides them ---------------------

    def _ranges_of(self, prop: URIRef) -> tuple[DataRange, ...]:
        """The data ranges of definitions that a value of `prop` may satisfy."""
        ranges = self._value_ranges.get(prop)
        if ranges is None:
            up = self._props_up(prop)
            found: list[DataRange] = []
            for conjuncts in self.definitions.values():
                for conjunct in conjuncts:
                    if (
                        isinstance(conjunct, Existential)
                        and isinstance(conjunct.filler, DataRange)
                        and conjunct.prop in up
                        and conjunct.filler not in found
                    ):
                        found.append(conjunct.filler)
            ranges = self._value_ranges[prop] = tuple(found)
        return ranges

    def _functionals_of(self, prop: URIRef) -> tuple[URIRef, ...]:
        """The functional properties that a value of `prop` is a value of."""
        functionals = self._functional_of.get(prop)
        if functionals is None:
            up = self._props_up(prop)
            functionals = self._functional_of[prop] = tuple(f for f in sorted(self.functional) if f in up)
        return functionals

    def _value_signature(
        self, data_values: tuple[tuple[URIRef, Literal], ...]
    ) -> tuple[tuple[URIRef, tuple[bool, ...]], ...] | None:
        """What of the data values can decide a conclusion: each value's property and which
        data ranges admit it (which side of each threshold a count falls), not the value.

        None when the values themselves matter: a functional property with several values
        (its problem names them), or a value a data range cannot compare.
        """
        signature: list[tuple[URIRef, tuple[bool, ...]]] = []
        seen: dict[URIRef, Literal] = {}
        for prop, value in data_values:
            for functional in self._functionals_of(prop):
                if seen.setdefault(functional, value) != value:
                    return None
            try:
                ranges = self._ranges_of(prop)
                python_value = value.toPython() if ranges else None
                admitted = tuple(r.admits_value(python_value) for r in ranges)
            except (TypeError, ValueError, ArithmeticError):
                return None
            signature.append((prop, admitted))
        return tuple(signature)

    def _conclude(
        self,
        asserted: frozenset[URIRef],
        data_values: tuple[tuple[URIRef, Literal], ...],
        object_values: tuple[tuple[URIRef, frozenset[URIRef]], ...],
    ) -> _Chained:
        """`_chain`'s result, from a cache keyed by the values' signature where it can be.

        Forward chaining reads a data value only to ask whether a data range admits it, and
        cites the first value (in `data_values` order) that one does. Two entries with the same
        classes, objects and signature (position by position) therefore reach the same
        conclusions for the same reasons; only the cited values differ, and they are the
        values at the same positions, which are put back in the reasons.
        """
        signature = self._value_signature(data_values)
        if signature is None:
            return self._chain(asserted, data_values, object_values)
        key = (asserted, signature, object_values)
        outcome = self._outcomes.get(key)
        if outcome is None:
            chained = self._chain(asserted, data_values, object_values)
            cited = [
                (cls, number, data_values.index((premise.prop, premise.value)))
                for cls, step in chained[1].items()
                for number, premise in enumerate(step.premises)
                if premise.kind == "value"
            ]
            outcome = _Outcome(chained, data_values, tuple(cited))
            if len(self._outcomes) >= _CACHE_LIMIT:
                self._outcomes.clear()
            self._outcomes[key] = outcome
        types, why, traits, problems = outcome.chained
        if outcome.cited and data_values != outcome.data_values:
            why = dict(why)
            for cls, number, position in outcome.cited:
                step = why[cls]
                premises = list(step.premises)
                premises[number] = replace(premises[number], value=data_values[position][1])
                why[cls] = replace(step, premises=tuple(premises))
        return types, why, traits, problems


# -- HermiT, the reference -------------------------------------------------------


@dataclass
class HermitResult:
    """What HermiT concluded about a whole graph."""

    consistent: bool
    unsatisfiable: list[URIRef]
    types: dict[URIRef, frozenset[URIRef]]
    class_supers: dict[URIRef, frozenset[URIRef]]
    message: str = ""


def java_available() -> bool:
    from shutil import which

    return which("java") is not None


def run_hermit(graphs: Iterable[Graph]) -> HermitResult:
    """Classify the union of `graphs` with HermiT (owlready2 starts Java); N-Triples in, since owlready2 reads no Turtle."""
    import owlready2

    merged = Graph()
    for graph in graphs:
        merged += graph
    # Everything HermiT needs is merged here; owlready2 would otherwise try to download imports.
    merged.remove((None, OWL.imports, None))
    # owlready2 passes HermiT only individuals declared as owl:NamedIndividual.
    classes = set(merged.subjects(RDF.type, OWL.Class))
    for individual, cls in list(merged.subject_objects(RDF.type)):
        if isinstance(individual, URIRef) and cls in classes:
            merged.add((individual, RDF.type, OWL.NamedIndividual))
    handle, path = tempfile.mkstemp(suffix=".nt", prefix="lmkg-hermit-")
    os.close(handle)
    try:
        merged.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        onto = world.get_ontology(Path(path).as_uri()).load()
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return HermitResult(False, [], {}, {}, f"HermiT found the knowledge graph inconsistent: {exc}")
        except (OSError, owlready2.OwlReadyJavaError) as exc:
            raise ReasoningError(f"HermiT could not run (is Java installed?): {exc}") from exc
        unsatisfiable = sorted(URIRef(c.iri) for c in world.inconsistent_classes() if hasattr(c, "iri"))
        types: dict[URIRef, frozenset[URIRef]] = {}
        for individual in world.individuals():
            types[URIRef(individual.iri)] = frozenset(
                URIRef(c.iri)
                for c in individual.INDIRECT_is_a
                if isinstance(c, owlready2.ThingClass) and c is not owlready2.Thing
            )
        class_supers: dict[URIRef, frozenset[URIRef]] = {}
        for cls in world.classes():
            class_supers[URIRef(cls.iri)] = frozenset(
                URIRef(s.iri)
                for s in cls.INDIRECT_is_a
                if isinstance(s, owlready2.ThingClass) and s is not owlready2.Thing and s is not cls
            )
        return HermitResult(True, unsatisfiable, types, class_supers)
    finally:
        os.unlink(path)
