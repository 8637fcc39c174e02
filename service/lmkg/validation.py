"""SHACL validation of entries against shapes/, returning a typed report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

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
    graph: Graph | None = None

    def as_json(self) -> dict[str, Any]:
        return {"conforms": self.conforms, "results": [r.as_json() for r in self.results]}

    def as_text(self) -> str:
        if self.conforms:
            return "Conforms: yes"
        lines = [f"Conforms: no ({len(self.results)} problem(s))"]
        lines.extend(r.as_text() for r in self.results)
        return "\n".join(lines)

    def as_turtle(self) -> str:
        graph = self.graph if self.graph is not None else Graph()
        return graph.serialize(format="turtle")


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
