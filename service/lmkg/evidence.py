"""Verdicts: each model's traits from what is known about that model, with their basis.

A verdict is true, false or unknown. Its basis is, in this order of precedence:

1. an observation, with its source: the model was seen running on a device with limited
   resources (a phone or a laptop: portable), or being fine-tuned on consumer hardware (a
   phone, a laptop, one consumer GPU: cheap to fine-tune);
2. a size rule, the defined classes of ontology/lmkg.ttl that the reasoner fills from the
   model's parameter counts: lmkg:FitsLaptopAt4Bit / lmkg:ExceedsLaptopAt4Bit (portable),
   lmkg:QLoRAFitsConsumerGPU / lmkg:QLoRAExceedsConsumerGPU (cheap to fine-tune), and, for
   speed, lmkg:ActiveParametersUnder/OverSizeThreshold when the active parameters of a
   mixture of experts are known, else lmkg:ModelUnder/OverSizeThreshold; each rule's formula
   and sources are in the ontology (lmkg:ruleFormula);
3. none: the verdict is unknown, and the model is in neither answer (GPT-4, any entry
   without a size).

What a source document says of a model's category (that SLMs "generally offer ... greater
portability") is never a basis: it is the document's claim, shown beside the verdict.

The reasoner (HermiT, or the fast path that agrees with it) concludes the size-rule classes;
this module only orders the evidence, so the verdicts follow from classes both reasoners agree
on. Verdicts go to the inferred graph as a class (lmkg:PortableModel or lmkg:NonPortableModel,
neither when unknown) and a lmkg:Verdict node with the basis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from lmkg.graphindex import IndexedTriples, Triples
from lmkg.vocab import LMKG, VERDICT, model_id_of

EntryTriples = Graph | IndexedTriples
"""An entry read as a Graph, or (on the write path) as its index."""

_TYPE = RDF.type


class Basis(StrEnum):
    OBSERVATION = "observation"
    SIZE_RULE = "size-rule"
    NONE = "none"


@dataclass(frozen=True)
class Verdict:
    """One trait of one model: true, false or None (unknown), and what decided it."""

    trait: str
    value: bool | None
    basis: Basis
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "basis": str(self.basis), "detail": self.detail}


@dataclass(frozen=True)
class Trait:
    """A trait with three values: its name in JSON and the two classes that hold its answers."""

    name: str
    yes: URIRef
    no: URIRef
    label: str


TRAITS: tuple[Trait, ...] = (
    Trait("portable", LMKG.PortableModel, LMKG.NonPortableModel, "portable"),
    Trait("cheapToFineTune", LMKG.CheapToFineTuneModel, LMKG.CostlyToFineTuneModel, "cheap to fine-tune"),
    Trait("fast", LMKG.RealTimeCapableModel, LMKG.NotRealTimeCapableModel, "fast enough for real time"),
)
TRAIT_BY_NAME = {t.name: t for t in TRAITS}
VERDICT_CLASSES = frozenset(c for t in TRAITS for c in (t.yes, t.no))

_LIMITED = {LMKG.PhoneDevice: "a phone", LMKG.LaptopDevice: "a laptop"}
_CONSUMER = {**_LIMITED, LMKG.ConsumerGPUDevice: "one consumer GPU"}


def _billions(count: object) -> str:
    if isinstance(count, int) and not isinstance(count, bool):
        if count >= 1_000_000_000:
            return f"{count / 1e9:.3g} billion parameters"
        if count >= 1_000_000:
            return f"{count / 1e6:.3g} million parameters"
        return f"{count:,} parameters"
    return "an unknown number of parameters"


def _observed(graph: EntryTriples, subject: URIRef, kind: URIRef, devices: Mapping[URIRef, str]) -> str | None:
    """A sentence for the first observation of `kind` on one of `devices`, with its source."""
    found: list[str] = []
    for node in graph.objects(subject, LMKG.hasObservation):
        if (node, _TYPE, kind) not in graph:
            continue
        device = graph.value(node, LMKG.onDevice)
        if device not in devices:
            continue
        precision = graph.value(node, LMKG.atPrecision)
        method = graph.value(node, LMKG.fineTuningMethod)
        sources = sorted(str(s) for s in graph.objects(node, DCTERMS.source))
        what = "runs on" if kind == LMKG.DeploymentObservation else "was fine-tuned" + (
            f" with {method}" if method else ""
        ) + " on"
        at = f" at {precision}" if precision else ""
        found.append(f"observed: it {what} {devices[device]}{at} ({', '.join(sources)})")  # type: ignore[index]
    return sorted(found)[0] if found else None


def _value(graph: EntryTriples, subject: URIRef, prop: URIRef) -> object:
    value = graph.value(subject, prop)
    return value.toPython() if isinstance(value, Literal) else None


def verdicts(graph: EntryTriples, subject: URIRef, types: Iterable[URIRef]) -> dict[str, Verdict]:
    """The three verdicts of one model from its entry graph and the classes the reasoner
    concluded for it (its size-rule classes)."""
    classes = set(types)
    total = _value(graph, subject, LMKG.parameterCount)
    active = _value(graph, subject, LMKG.activeParameterCount)
    size = _billions(total)
    result: dict[str, Verdict] = {}

    seen = _observed(graph, subject, LMKG.DeploymentObservation, _LIMITED)
    if seen:
        result["portable"] = Verdict("portable", True, Basis.OBSERVATION, seen)
    elif LMKG.FitsLaptopAt4Bit in classes:
        result["portable"] = Verdict(
            "portable", True, Basis.SIZE_RULE,
            f"{size}: at 4 bits its weights, with 1.2x for running them, fit a 16 GB laptop "
            "(at most 26.7 billion parameters; lmkg:FitsLaptopAt4Bit)",
        )
    elif LMKG.ExceedsLaptopAt4Bit in classes:
        result["portable"] = Verdict(
            "portable", False, Basis.SIZE_RULE,
            f"{size}: even at 4 bits its weights do not fit a 16 GB laptop "
            "(more than 26.7 billion parameters; lmkg:ExceedsLaptopAt4Bit), and no source reports "
            "it running on a phone or laptop",
        )
    else:
        result["portable"] = Verdict("portable", None, Basis.NONE, "its size is unknown and no source reports it on a device")

    tuned = _observed(graph, subject, LMKG.FineTuningObservation, _CONSUMER)
    if tuned:
        result["cheapToFineTune"] = Verdict("cheapToFineTune", True, Basis.OBSERVATION, tuned)
    elif LMKG.QLoRAFitsConsumerGPU in classes:
        result["cheapToFineTune"] = Verdict(
            "cheapToFineTune", True, Basis.SIZE_RULE,
            f"{size}: QLoRA fine-tunes up to 33 billion on one 24 GB consumer GPU "
            "(Dettmers et al. 2023; lmkg:QLoRAFitsConsumerGPU)",
        )
    elif LMKG.QLoRAExceedsConsumerGPU in classes:
        result["cheapToFineTune"] = Verdict(
            "cheapToFineTune", False, Basis.SIZE_RULE,
            f"{size}: more than QLoRA fine-tunes on one 24 GB consumer GPU (33 billion; "
            "lmkg:QLoRAExceedsConsumerGPU), and no source reports it fine-tuned on consumer hardware",
        )
    else:
        result["cheapToFineTune"] = Verdict(
            "cheapToFineTune", None, Basis.NONE, "its size is unknown and no source reports it fine-tuned"
        )

    if LMKG.ActiveParametersUnderSizeThreshold in classes or LMKG.ActiveParametersOverSizeThreshold in classes:
        fast = LMKG.ActiveParametersUnderSizeThreshold in classes
        result["fast"] = Verdict(
            "fast", fast, Basis.SIZE_RULE,
            f"{_billions(active).replace('parameters', 'active parameters')} a token "
            + ("(at most 10 billion: about 20 tokens a second or more on a laptop at 4 bits)" if fast
               else "(more than 10 billion: under about 20 tokens a second on a laptop at 4 bits)"),
        )
    elif active is None and (LMKG.ModelUnderSizeThreshold in classes or LMKG.ModelOverSizeThreshold in classes):
        fast = LMKG.ModelUnderSizeThreshold in classes
        result["fast"] = Verdict(
            "fast", fast, Basis.SIZE_RULE,
            f"{size}, all read for each token "
            + ("(at most 10 billion: about 20 tokens a second or more on a laptop at 4 bits)" if fast
               else "(more than 10 billion: under about 20 tokens a second on a laptop at 4 bits)"),
        )
    else:
        result["fast"] = Verdict("fast", None, Basis.NONE, "the parameters it reads a token are unknown")
    return result


_HAS_VERDICT, _VERDICT, _VERDICT_ON = LMKG.hasVerdict, LMKG.Verdict, LMKG.verdictOn
_VERDICT_VALUE, _BASIS, _BASIS_DETAIL = LMKG.verdictValue, LMKG.basis, LMKG.basisDetail


@lru_cache(maxsize=4096)
def _text_literal(text: str) -> Literal:
    # Verdicts repeat their few texts (trait, basis, the detail for a rounded size) across
    # thousands of models: each literal is built once.
    return Literal(text)


_TRUE, _FALSE = Literal(True), Literal(False)


def add_verdicts(graph: Triples, subject: URIRef, found: Mapping[str, Verdict]) -> None:
    """Write verdicts into `graph` (the inferred graph): each known one's class, and a
    lmkg:Verdict node with its value and basis. Unknown verdicts write nothing."""
    model_id = model_id_of(str(subject)) or ""
    for trait in TRAITS:
        verdict = found.get(trait.name)
        if verdict is None or verdict.value is None:
            continue
        graph.add((subject, _TYPE, trait.yes if verdict.value else trait.no))
        node = VERDICT[f"{model_id}/{trait.name}"]
        graph.add((subject, _HAS_VERDICT, node))
        graph.add((node, _TYPE, _VERDICT))
        graph.add((node, _VERDICT_ON, _text_literal(trait.name)))
        graph.add((node, _VERDICT_VALUE, _TRUE if verdict.value else _FALSE))
        graph.add((node, _BASIS, _text_literal(str(verdict.basis))))
        graph.add((node, _BASIS_DETAIL, _text_literal(verdict.detail)))


def verdicts_from_inferred(graph: Graph, subject: URIRef) -> dict[str, Verdict]:
    """The verdicts stored for a model in `graph` (triples read back from the inferred graph);
    a trait with no verdict node is unknown."""
    found: dict[str, Verdict] = {}
    for node in graph.objects(subject, LMKG.hasVerdict):
        trait = graph.value(node, LMKG.verdictOn)
        value = graph.value(node, LMKG.verdictValue)
        if trait is None or str(trait) not in TRAIT_BY_NAME or not isinstance(value, Literal):
            continue
        basis = str(graph.value(node, LMKG.basis) or "none")
        found[str(trait)] = Verdict(
            str(trait), bool(value.toPython()), Basis(basis) if basis in Basis._value2member_map_ else Basis.NONE,
            str(graph.value(node, LMKG.basisDetail) or ""),
        )
    for each in TRAITS:
        found.setdefault(each.name, Verdict(each.name, None, Basis.NONE, "no evidence decides it"))
    return {t.name: found[t.name] for t in TRAITS}
