"""SHACL validation of entries against shapes/, returning a typed report.

pySHACL is the reference and writes every report. Before it runs on one entry,
the shapes compiled into plain checks (`CompiledShapes`) try to prove that the
entry conforms: SHACL Core on simple paths, evaluated conservatively, so that
"conforms" is answered only when every constraint is certainly met, and any
doubt or failure goes to pySHACL for the report. pySHACL costs 4-7 ms an
entry even in batches of thousands; the compiled checks about 0.05 ms.
Tests prove that the two agree on every test entry and on generated ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from lmkg.graphindex import Index, index_of
from lmkg.ontology import read_turtle

SHACL_SPEC = "https://www.w3.org/TR/shacl/"
_COMPONENT_SECTIONS = {
    "MinCountConstraintComponent": "#MinCountConstraintComponent",
    "MaxCountConstraintComponent": "#MaxCountConstraintComponent",
    "DatatypeConstraintComponent": "#DatatypeConstraintComponent",
    "ClassConstraintComponent": "#ClassConstraintComponent",
    "NodeKindConstraintComponent": "#NodeKindConstraintComponent",
    "PatternConstraintComponent": "#PatternConstraintComponent",
    "MinExclusiveConstraintComponent": "#MinExclusiveConstraintComponent",
    "MinLengthConstraintComponent": "#MinLengthConstraintComponent",
    "MaxLengthConstraintComponent": "#MaxLengthConstraintComponent",
    "XoneConstraintComponent": "#XoneConstraintComponent",
    "InConstraintComponent": "#InConstraintComponent",
}


class Severity(StrEnum):
    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result: what failed, where, and a sentence saying how to fix it."""

    focus_node: str
    path: str | None
    value: str | None
    message: str
    severity: Severity
    constraint: str
    shape: str | None

    @property
    def spec(self) -> str:
        """The section of the SHACL specification that defines the failed constraint."""
        name = self.constraint.rsplit("#", 1)[-1]
        return SHACL_SPEC + _COMPONENT_SECTIONS.get(name, "#core-components")

    def as_json(self) -> dict[str, Any]:
        return {
            "focusNode": self.focus_node,
            "path": self.path,
            "value": self.value,
            "message": self.message,
            "severity": self.severity.value,
            "constraint": self.constraint,
            "shape": self.shape,
            "spec": self.spec,
        }

    def as_text(self) -> str:
        where = f" {self.path}" if self.path else ""
        value = f" (value: {self.value})" if self.value is not None else ""
        return f"{self.severity.value}: <{self.focus_node}>{where}: {self.message}{value}"


@dataclass
class ValidationReport:
    """The outcome of validating one or more entries."""

    conforms: bool
    results: list[ValidationResult] = field(default_factory=list)
    report_graph: Graph | None = None  # pySHACL's; None: a conforming report, built when read

    @property
    def graph(self) -> Graph:
        """The report as SHACL RDF (sh:ValidationReport)."""
        if self.report_graph is None:
            # The compiled checks prove most entries conform without pySHACL, in a third of
            # the time it took to build this graph for each one: build it when it is read.
            self.report_graph = Graph()
            node = BNode()
            self.report_graph.add((node, RDF.type, SH.ValidationReport))
            self.report_graph.add((node, SH.conforms, Literal(self.conforms)))
        return self.report_graph

    def as_json(self) -> dict[str, Any]:
        return {"conforms": self.conforms, "results": [r.as_json() for r in self.results]}

    def as_text(self) -> str:
        if self.conforms:
            return "Conforms: yes"
        lines = [f"Conforms: no ({len(self.results)} problem(s))"]
        lines.extend(r.as_text() for r in self.results)
        return "\n".join(lines)

    def as_turtle(self) -> str:
        return self.graph.serialize(format="turtle")


def _term(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, Literal):
        return str(node)
    return str(node)


def _path(report: Graph, node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, URIRef):
        return str(node)
    inverse = report.value(node, SH.inversePath)
    if inverse is not None:
        return f"^{inverse}"
    return node.n3()


class Unsupported(Exception):
    """The shapes use SHACL that the compiled checks do not cover: pySHACL validates everything."""


Check = Callable[[Index, Node], bool]
"""A compiled constraint on one focus node: True only when it is certainly met."""

_TYPE = RDF.type  # DefinedNamespace attributes cost a microsecond each: read once
_SUBCLASS_OF = RDFS.subClassOf


_NODE_KINDS: dict[URIRef, Callable[[Node], bool]] = {
    SH.IRI: lambda n: isinstance(n, URIRef),
    SH.Literal: lambda n: isinstance(n, Literal),
    SH.BlankNode: lambda n: isinstance(n, BNode),
    SH.BlankNodeOrIRI: lambda n: isinstance(n, URIRef | BNode),
    SH.IRIOrLiteral: lambda n: isinstance(n, URIRef | Literal),
    SH.BlankNodeOrLiteral: lambda n: isinstance(n, BNode | Literal),
}
_COMPARISONS: dict[URIRef, Callable[[object, object], bool]] = {
    SH.minExclusive: lambda v, b: v > b,  # type: ignore[operator]
    SH.minInclusive: lambda v, b: v >= b,  # type: ignore[operator]
    SH.maxExclusive: lambda v, b: v < b,  # type: ignore[operator]
    SH.maxInclusive: lambda v, b: v <= b,  # type: ignore[operator]
}
_ANNOTATIONS = {RDF.type, RDFS.label, RDFS.comment, SH.message, SH.name, SH.description}
_VALUE_CONSTRAINTS = {
    SH.datatype,
    SH.nodeKind,
    SH.pattern,
    SH.minLength,
    SH.maxLength,
    SH["in"],
    SH["class"],
    *_COMPARISONS,
}
_PROPERTY_KEYS = _ANNOTATIONS | _VALUE_CONSTRAINTS | {SH.path, SH.minCount, SH.maxCount}
_NODE_KEYS = _ANNOTATIONS | {SH.targetClass, SH.property, SH.nodeKind, SH.pattern, SH.xone}
_MEMBER_KEYS = _ANNOTATIONS | {SH["class"]}


def _well_formed(literal: Literal) -> bool:
    """Its lexical form is valid for its datatype (a literal built from a Python value always is)."""
    return literal.ill_typed is not True and literal.value is not None


def _number(node: Node) -> object | None:
    """The numeric value of a well-formed numeric literal, else None."""
    if not isinstance(node, Literal) or not _well_formed(node):
        return None
    value = node.toPython()
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return value


def _datatype_check(datatype: Node) -> Check:
    if datatype == XSD.string:
        string = XSD.string

        def plain(graph: Index, value: Node) -> bool:
            if not isinstance(value, Literal) or value.language is not None:
                return False
            datatype = value.datatype
            return datatype is None or datatype == string

        return plain

    def typed(graph: Index, value: Node) -> bool:
        return isinstance(value, Literal) and value.datatype == datatype and _well_formed(value)

    return typed


def _node_kind_check(kind: Callable[[Node], bool]) -> Check:
    def check(graph: Index, value: Node) -> bool:
        return kind(value)

    return check


def _pattern_check(regex: re.Pattern[str]) -> Check:
    def check(graph: Index, value: Node) -> bool:
        return not isinstance(value, BNode) and regex.search(str(value)) is not None

    return check


def _length_check(bound: int, *, at_least: bool) -> Check:
    def check(graph: Index, value: Node) -> bool:
        if isinstance(value, BNode):
            return False
        return len(str(value)) >= bound if at_least else len(str(value)) <= bound

    return check


def _range_check(compare: Callable[[object, object], bool], bound: object) -> Check:
    def check(graph: Index, value: Node) -> bool:
        number = _number(value)
        return number is not None and compare(number, bound)

    return check


def _in_check(allowed: frozenset[Node]) -> Check:
    def check(graph: Index, value: Node) -> bool:
        return value in allowed

    return check


class CompiledShapes:
    """The shapes as plain checks: `conforms(graph)` is True only when pySHACL would report nothing.

    Raises Unsupported when a shape uses anything beyond SHACL Core on simple paths
    (targets by class, cardinality, datatype, node kind, pattern without flags, length,
    numeric ranges, sh:in, sh:class, sh:xone of class shapes, no severities or deactivation).
    """

    def __init__(self, shapes: Graph, hierarchy: Iterable[tuple[Node, Node, Node]]) -> None:
        self.shapes = shapes
        self.supers: dict[Node, set[Node]] = {}
        for cls, _, sup in hierarchy:
            self.supers.setdefault(cls, set()).add(sup)
        changed = True
        while changed:  # the reflexive-transitive closure of rdfs:subClassOf
            changed = False
            for sups in self.supers.values():
                extra = set().union(*(self.supers.get(s, set()) for s in sups)) - sups
                if extra:
                    sups |= extra
                    changed = True
        # class -> itself and its superclasses, for is_instance's set look-ups
        self._closure: dict[Node, frozenset[Node]] = {
            cls: frozenset((cls, *sups)) for cls, sups in self.supers.items()
        }
        # target class -> the checks of every node shape that targets it
        self.targets: dict[Node, list[Check]] = {}
        node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
            shapes.subjects(SH.targetClass, None)
        )
        for shape in sorted(node_shapes, key=str):
            self._keys(shape, _NODE_KEYS)
            types = set(shapes.objects(shape, RDF.type))
            if types & {RDFS.Class, OWL.Class}:
                raise Unsupported(f"{shape} is also a class (implicit class target)")
            checks = self._node_checks(shape)
            for prop_shape in shapes.objects(shape, SH.property):
                checks.append(self._property_check(prop_shape))
            for target in shapes.objects(shape, SH.targetClass):
                self.targets.setdefault(target, []).extend(checks)
        if (
            any(shapes.subjects(SH.targetNode, None))
            or any(shapes.subjects(SH.targetSubjectsOf, None))
            or any(shapes.subjects(SH.targetObjectsOf, None))
        ):
            raise Unsupported("node, subjects-of and objects-of targets")

    def _keys(self, shape: Node, allowed: set[URIRef]) -> None:
        extra = {p for p in self.shapes.predicates(shape, None)} - allowed
        if extra:
            raise Unsupported(f"{shape} uses {', '.join(sorted(str(p) for p in extra))}")

    def _one(self, shape: Node, prop: URIRef) -> Node | None:
        values = list(self.shapes.objects(shape, prop))
        if len(values) > 1:
            raise Unsupported(f"{shape} has several {prop}")
        return values[0] if values else None

    def is_instance(self, graph: Index, node: Node, cls: Node) -> bool:
        types = graph.get(node, {}).get(_TYPE, ())
        closure = self._closure
        return any(cls in (closure.get(t) or (t,)) for t in types)

    def _value_checks(self, shape: Node) -> list[Check]:
        """Checks of one value node, for each value constraint of `shape`."""
        checks: list[Check] = []
        for prop, value in self.shapes.predicate_objects(shape):
            if prop == SH.datatype:
                checks.append(_datatype_check(value))
            elif prop == SH.nodeKind:
                if not isinstance(value, URIRef) or value not in _NODE_KINDS:
                    raise Unsupported(f"node kind {value}")
                checks.append(_node_kind_check(_NODE_KINDS[value]))
            elif prop == SH.pattern:
                if self._one(shape, SH.flags) is not None:
                    raise Unsupported("sh:flags")
                checks.append(_pattern_check(re.compile(str(value))))
            elif prop in (SH.minLength, SH.maxLength):
                bound = _number(value)
                if not isinstance(bound, int):
                    raise Unsupported(f"{prop} {value}")
                checks.append(_length_check(bound, at_least=prop == SH.minLength))
            elif prop in _COMPARISONS:
                limit = _number(value)
                if limit is None or not isinstance(prop, URIRef):
                    raise Unsupported(f"{prop} {value}")
                checks.append(_range_check(_COMPARISONS[prop], limit))
            elif prop == SH["in"]:
                checks.append(_in_check(frozenset(Collection(self.shapes, value))))
            elif prop == SH["class"]:
                checks.append(self._class_check(value))
        return checks

    def _class_check(self, cls: Node) -> Check:
        def check(graph: Index, value: Node) -> bool:
            return isinstance(value, URIRef | BNode) and self.is_instance(graph, value, cls)

        return check

    def _node_checks(self, shape: Node) -> list[Check]:
        value_checks = self._value_checks(shape)
        checks: list[Check] = [lambda g, focus: all(c(g, focus) for c in value_checks)]
        for head in self.shapes.objects(shape, SH.xone):
            members = []
            for member in Collection(self.shapes, head):
                self._keys(member, _MEMBER_KEYS)
                members.append(self._value_checks(member))

            def exactly_one(g: Index, focus: Node, ms: list[list[Check]] = members) -> bool:
                return sum(1 for m in ms if all(c(g, focus) for c in m)) == 1

            checks.append(exactly_one)
        return checks

    def _property_check(self, shape: Node) -> Check:
        self._keys(shape, _PROPERTY_KEYS)
        path = self._one(shape, SH.path)
        if not isinstance(path, URIRef):
            raise Unsupported(f"{shape}: only simple paths (one property IRI)")
        least = _number(self._one(shape, SH.minCount) or Literal(0))
        most = self._one(shape, SH.maxCount)
        most_count = _number(most) if most is not None else None
        if not isinstance(least, int) or (most is not None and not isinstance(most_count, int)):
            raise Unsupported(f"{shape}: counts")
        value_checks = self._value_checks(shape)

        def check(g: Index, focus: Node) -> bool:
            values = g.get(focus, {}).get(path, ())
            if len(values) < least or (most_count is not None and len(values) > most_count):  # type: ignore[operator]
                return False
            return all(c(g, v) for v in values for c in value_checks)

        return check

    def conforms(self, graph: Graph | None, *, index: Index | None = None) -> bool:
        """True when every target node in `graph` certainly meets every shape targeting it
        (`index`: the graph already read by `index_of`; then `graph` may be None)."""
        if index is None:
            if graph is None:
                raise ValueError("conforms needs a graph or its index")
            index = index_of(graph)
        if any(_SUBCLASS_OF in by_predicate for by_predicate in index.values()):
            return False  # the entry extends the hierarchy: leave it to pySHACL
        for node, by_predicate in index.items():
            for cls in set(by_predicate.get(_TYPE, ())):
                for target in (cls, *self.supers.get(cls, ())):
                    for check in self.targets.get(target, ()):
                        if not check(index, node):
                            return False
        return True


class Validator:
    """The shapes, parsed once, and the class hierarchy the data graph needs."""

    def __init__(self, shapes_dir: Path, class_supers: dict[URIRef, frozenset[URIRef]]) -> None:
        self.shapes = Graph()
        for path in sorted(shapes_dir.glob("*.ttl")):
            self.shapes += read_turtle(path)
        # The class hierarchy as the reasoner computed it, so that targets and
        # sh:class see subclasses without RDFS inference on every call.
        self.hierarchy = [
            (cls, RDFS.subClassOf, sup)
            for cls, supers in class_supers.items()
            for sup in supers
            if isinstance(sup, URIRef)
        ]
        try:
            self.compiled: CompiledShapes | None = CompiledShapes(self.shapes, self.hierarchy)
        except Unsupported:
            self.compiled = None

    def validate_entry(self, graph: Graph, *, index: Index | None = None) -> ValidationReport:
        """One entry's report: the compiled checks when they prove it conforms, else pySHACL's."""
        return self.validate_indexed(index if index is not None else index_of(graph), lambda: graph)

    def validate_indexed(self, index: Index, graph: Callable[[], Graph]) -> ValidationReport:
        """One entry's report from its triples read by `index_of`: the compiled checks when they
        prove it conforms, else pySHACL's report on `graph()` (the entry as a Graph, built then)."""
        if self.compiled is not None and self.compiled.conforms(None, index=index):
            return ValidationReport(True, [])
        return self.validate([graph()])

    def validate(self, graphs: Iterable[Graph]) -> ValidationReport:
        data = Graph()
        for graph in graphs:
            data += graph
        for triple in self.hierarchy:
            data.add(triple)
        conforms, report_graph, _ = shacl_validate(
            data,
            shacl_graph=self.shapes,
            inference="none",
            inplace=True,
            advanced=False,
            do_owl_imports=False,
            allow_warnings=True,
        )
        results: list[ValidationResult] = []
        for result in report_graph.subjects(RDF.type, SH.ValidationResult):
            severity_node = report_graph.value(result, SH.resultSeverity)
            severity = (
                {
                    SH.Violation: Severity.VIOLATION,
                    SH.Warning: Severity.WARNING,
                    SH.Info: Severity.INFO,
                }.get(severity_node, Severity.VIOLATION)
                if isinstance(severity_node, URIRef)
                else Severity.VIOLATION
            )
            messages = [str(m) for m in report_graph.objects(result, SH.resultMessage)]
            results.append(
                ValidationResult(
                    focus_node=str(report_graph.value(result, SH.focusNode)),
                    path=_path(report_graph, report_graph.value(result, SH.resultPath)),
                    value=_term(report_graph.value(result, SH.value)),
                    message=messages[0] if messages else "constraint not met",
                    severity=severity,
                    constraint=str(report_graph.value(result, SH.sourceConstraintComponent)),
                    shape=_term(report_graph.value(result, SH.sourceShape)),
                )
            )
        # Two components of one property shape (datatype and minimum, say) can
        # fail on one value with the same message: report it once.
        unique = {(r.focus_node, r.path, r.value, r.message): r for r in results}
        ordered = sorted(unique.values(), key=lambda r: (r.focus_node, r.path or "", r.message))
        return ValidationReport(bool(conforms), ordered, report_graph)
