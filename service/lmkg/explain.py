"""Explanations: each verdict with the evidence and rule that decided it, and why an entry is
in each class it was inferred into, from facts to conclusion.

The fast path records, for every class it concludes, the rule and premises it used
(reasoning.Step); this module walks those records back to the entry's own statements. The
verdicts (lmkg.evidence) come first, each with its basis. What the source document says of the
model's category is quoted apart, as the source's view, hedge included: it is never a reason.
It also says where the source document, the data and the size threshold disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDFS, SKOS

from lmkg.evidence import TRAITS, Verdict, verdicts
from lmkg.knowledge import KnowledgeGraph
from lmkg.reasoning import Classification, Premise
from lmkg.vocab import GRAPH_SOURCE, LMKG, model_iri

_CATEGORY_CLAIMS = """
PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
SELECT ?claim ?text ?hedge ?section (GROUP_CONCAT(STR(?trait); SEPARATOR=" ") AS ?traits) WHERE {
  ?model a ?category .
  ?claim a lmkg:CategoryClaim ; lmkg:aboutCategory ?category ; lmkg:claimText ?text ; lmkg:hedge ?hedge ;
         lmkg:claimedTrait ?trait .
  OPTIONAL { ?claim lmkg:section ?section }
}
GROUP BY ?claim ?text ?hedge ?section
ORDER BY ?claim
"""

# The trait values a category claim may ascribe, as the verdict they would give.
_CLAIMED_VERDICT: dict[str, tuple[str, bool]] = {
    str(LMKG.HighPortability): ("portable", True),
    str(LMKG.LowPortability): ("portable", False),
    str(LMKG.LowFineTuningCost): ("cheapToFineTune", True),
    str(LMKG.HighFineTuningCost): ("cheapToFineTune", False),
    str(LMKG.FastProcessing): ("fast", True),
    str(LMKG.SlowProcessing): ("fast", False),
}

_CLAIMS = """
PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
SELECT ?text ?kind ?note WHERE {
  GRAPH ?source { ?claim lmkg:claimAbout ?about ; lmkg:claimText ?text .
    OPTIONAL { ?claim lmkg:claimedKind ?kind } OPTIONAL { ?claim lmkg:curatorNote ?note } }
  ?model lmkg:variantOf? ?about .
}
"""


@dataclass
class Reason:
    """One step of an explanation, with the steps it rests on."""

    statement: str
    axiom: str | None = None
    because: list[Reason] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"statement": self.statement}
        if self.axiom:
            result["axiom"] = self.axiom
        if self.because:
            result["because"] = [r.as_json() for r in self.because]
        return result

    def lines(self, depth: int = 0) -> list[str]:
        out = ["  " * depth + "- " + self.statement]
        if self.axiom:
            out.append("  " * (depth + 1) + f"axiom: {self.axiom}")
        for reason in self.because:
            out.extend(reason.lines(depth + 1))
        return out


@dataclass
class Explanation:
    """Why an entry is in each class it was inferred into, and where sources disagree."""

    model_id: str
    label: str
    conclusions: dict[str, Reason]
    disagreements: list[str]
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    source_view: list[dict[str, Any]] = field(default_factory=list)

    def generalisation_versus_evidence(self) -> list[dict[str, Any]]:
        """For each verdict the source's category claims speak to: what they would say, what the
        model's own evidence says, and whether the two agree (None when the evidence is silent)."""
        said: dict[str, tuple[bool, str, str]] = {}
        for claim in self.source_view:
            for trait in claim.get("traits", []):
                if trait in _CLAIMED_VERDICT:
                    name, value = _CLAIMED_VERDICT[trait]
                    said.setdefault(name, (value, claim["text"], claim["hedge"]))
        rows = []
        for trait in TRAITS:
            if trait.name not in said:
                continue
            value, text, hedge = said[trait.name]
            evidence = self.verdicts.get(trait.name)
            known = evidence.value if evidence is not None else None
            rows.append(
                {
                    "trait": trait.name,
                    "sourceSays": value,
                    "sourceText": text,
                    "hedge": hedge,
                    "evidenceSays": known,
                    "basis": str(evidence.basis) if evidence is not None else "none",
                    "agrees": None if known is None else known == value,
                }
            )
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "label": self.label,
            "verdicts": {name: verdict.as_json() for name, verdict in self.verdicts.items()},
            "conclusions": [{"class": cls, **reason.as_json()} for cls, reason in self.conclusions.items()],
            "sourceView": self.source_view,
            "generalisationVersusEvidence": self.generalisation_versus_evidence(),
            "disagreements": self.disagreements,
        }

    def as_text(self) -> str:
        lines = [f"What the evidence about {self.label} ({self.model_id}) decides:"]
        for trait in TRAITS:
            verdict = self.verdicts.get(trait.name)
            if verdict is not None:
                value = {True: "yes", False: "no", None: "unknown"}[verdict.value]
                lines.append(f"- {trait.label}: {value} ({verdict.basis}): {verdict.detail}")
        lines.append("")
        lines.append(f"Why {self.label} ({self.model_id}) is in each class it was inferred into:")
        for reason in self.conclusions.values():
            lines.extend(reason.lines(0))
        lines.append("")
        if self.source_view:
            lines.append("What the source document says of its category (the source's view, not a reason):")
            for claim in self.source_view:
                hedge = f" [hedge: {claim['hedge']}]" if claim["hedge"] != "none" else ""
                lines.append(f'- "{claim["text"]}"{hedge}')
            lines.append("")
            words = {True: "yes", False: "no", None: "unknown"}
            for row in self.generalisation_versus_evidence():
                agreement = {True: "agree", False: "DIFFER", None: "evidence silent"}[row["agrees"]]
                lines.append(
                    f"- {row['trait']}: the source's generalisation says {words[row['sourceSays']]}, "
                    f"the evidence says {words[row['evidenceSays']]} ({agreement})"
                )
            lines.append("")
        if self.disagreements:
            lines.append("Where the source, the data and the threshold disagree:")
            lines.extend(f"- {d}" for d in self.disagreements)
        else:
            lines.append("The source, the data and the threshold agree on this model.")
        return "\n".join(lines)


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _billions(value: int) -> str:
    if value >= 1_000_000_000:
        return f"{value / 1e9:g}B"
    if value >= 1_000_000:
        return f"{value / 1e6:g}M"
    return f"{value:,}"


class Explainer:
    """Builds explanations from the fast path's records for one knowledge graph."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self.ontology = kg.ontology
        self.threshold = int(
            self.ontology.value(LMKG.ModelUnderSizeThreshold, LMKG.thresholdParameters).toPython()  # type: ignore[union-attr]
        )

    def label(self, term: URIRef | None) -> str:
        if term is None:
            return "?"
        value = self.ontology.value(term, RDFS.label)
        return str(value) if value is not None else (term.fragment or str(term).rsplit("/", 1)[-1])

    def explain(self, model_id: str) -> Explanation:
        graph = self.kg.entry_graph(model_id)
        subject = model_iri(model_id)
        classification = self.kg.classifier.classify(graph, subject)
        label = str(graph.value(subject, RDFS.label) or model_id)
        memo: dict[URIRef, Reason] = {}
        conclusions = {
            str(cls): self._reason(cls, classification, graph, subject, memo)
            for cls in sorted(classification.inferred)
        }
        found = verdicts(graph, subject, classification.types)
        return Explanation(
            model_id, label, conclusions, self._disagreements(graph, subject), found, self._source_view(subject)
        )

    def _source_view(self, subject: URIRef) -> list[dict[str, Any]]:
        """The source document's sentences about the model's category, with their hedges."""
        rows = self.kg.store.select(_CATEGORY_CLAIMS, bindings={"model": subject})
        return [
            {
                "text": str(row["text"]),
                "hedge": str(row["hedge"]),
                "section": str(row.get("section", "")),
                "traits": sorted(str(row.get("traits", "")).split()),
            }
            for row in rows
        ]

    def _asserted(self, cls: URIRef, graph: Graph, subject: URIRef) -> Reason:
        basis = graph.value(subject, LMKG.kindBasis)
        count = graph.value(subject, LMKG.parameterCount)
        if cls in (LMKG.SmallLanguageModel, LMKG.LargeLanguageModel):
            if str(basis) == "size-threshold" and isinstance(count, Literal):
                n = int(count.toPython())
                relation = "at most" if n <= self.threshold else "over"
                return Reason(
                    f"it is {_a(self.label(cls))}: its source gives no category, so lmkg applied its "
                    f"size threshold, and its parameter count {_billions(n)} is {relation} "
                    f"{_billions(self.threshold)}",
                )
            sources = ", ".join(sorted(str(s) for s in graph.objects(subject, PROV.wasDerivedFrom)))
            return Reason(
                f"its source classifies it as {_a(self.label(cls))} (the entry's kind)"
                + (f"; see {sources}" if sources else "")
            )
        return Reason(f"the entry states that it is {_a(self.label(cls))}")

    def _reason(
        self,
        cls: URIRef,
        classification: Classification,
        graph: Graph,
        subject: URIRef,
        memo: dict[URIRef, Reason],
    ) -> Reason:
        if cls in memo:
            return Reason(memo[cls].statement)  # said once already: no repeat of the chain
        step = classification.why.get(cls)
        name = self.label(cls)
        if step is None or step.rule == "asserted":
            reason = self._asserted(cls, graph, subject)
        elif step.rule == "domain":
            reason = Reason(
                f"it is {_a(name)}, because it has {_a(self.label(step.source))} and that "
                f"property's domain is {name}",
                axiom=f"{self.label(step.source)} has domain {name}",
            )
        elif step.rule == "subclass":
            assert step.source is not None
            reason = Reason(
                f"it is {_a(name)}, because every {self.label(step.source)} is {_a(name)}",
                axiom=f"{self.label(step.source)} SubClassOf {name}",
                because=[self._reason(step.source, classification, graph, subject, memo)],
            )
        else:
            definition = self.ontology.value(cls, SKOS.definition)
            # Size rules are named as phrases ("fits a laptop at 4 bits"), not as nouns.
            is_phrase = name.split(" ", 1)[0] in ("fits", "exceeds", "QLoRA", "active")
            said = f"it is in “{name}”" if is_phrase else f"it is {_a(name)}"
            reason = Reason(
                f"{said}: {definition}" if definition else said,
                axiom=f"{name} EquivalentTo " + " and ".join(self._premise_text(p) for p in step.premises),
                because=[
                    self._premise_reason(p, classification, graph, subject, memo) for p in step.premises
                ],
            )
        memo[cls] = reason
        return reason

    def _premise_text(self, premise: Premise) -> str:
        if premise.kind == "class":
            return self.label(premise.cls)
        if premise.kind == "value" and premise.data_range is not None:
            return f"{self.label(premise.prop)} some {premise.data_range.describe()}"
        return f"{self.label(premise.prop)} some {self.label(premise.filler)}"

    def _premise_reason(
        self,
        premise: Premise,
        classification: Classification,
        graph: Graph,
        subject: URIRef,
        memo: dict[URIRef, Reason],
    ) -> Reason:
        if premise.kind == "class" and premise.cls is not None:
            return self._reason(premise.cls, classification, graph, subject, memo)
        if premise.kind == "value" and premise.value is not None and premise.data_range is not None:
            value = premise.value.toPython()
            shown = _billions(value) if isinstance(value, int) else str(value)
            return Reason(
                f"its {self.label(premise.prop)} is {shown}, which is {premise.data_range.describe()}"
            )
        if premise.kind == "trait" and premise.cls is not None and premise.prop is not None:
            return Reason(
                f"it has {self.label(premise.filler)}, because every {self.label(premise.cls)} has",
                axiom=f"{self.label(premise.cls)} SubClassOf {self.label(premise.prop)} some "
                f"{self.label(premise.filler)}",
                because=[self._reason(premise.cls, classification, graph, subject, memo)],
            )
        return Reason(
            f"the entry states {_a(self.label(premise.prop))} that is {_a(self.label(premise.filler))}"
        )

    def _disagreements(self, graph: Graph, subject: URIRef) -> list[str]:
        found: list[str] = []
        count = graph.value(subject, LMKG.parameterCount)
        kind = (
            "llm"
            if (subject, None, LMKG.LargeLanguageModel) in graph
            else "slm"
            if (subject, None, LMKG.SmallLanguageModel) in graph
            else None
        )
        basis = str(graph.value(subject, LMKG.kindBasis) or "source")
        threshold = _billions(self.threshold)
        if isinstance(count, Literal) and kind and basis == "source":
            n = int(count.toPython())
            if kind == "llm" and n <= self.threshold:
                found.append(
                    f"Its source calls it a large language model, but its {_billions(n)} parameters "
                    f"are under the {threshold} threshold: small by size."
                )
            if kind == "slm" and n > self.threshold:
                found.append(
                    f"Its source calls it a small language model, but its {_billions(n)} parameters "
                    f"are over the {threshold} threshold: large by size."
                )
        if count is None:
            found.append(
                "Its parameter count is not recorded (undisclosed, or a model family), so the "
                "size threshold cannot confirm or contradict its kind."
            )
        rows = self.kg.store.select(_CLAIMS, bindings={"model": subject, "source": GRAPH_SOURCE})
        for row in rows:
            claimed = str(row.get("kind", ""))
            text = f'The source document lists it as "{row["text"]}"'
            if claimed and kind and claimed != kind:
                text += f" ({claimed}), while the entry's kind is {kind}"
            elif claimed:
                text += f" ({claimed})"
            note = row.get("note")
            found.append(text + (f". Curators: {note}" if note else "."))
        return found


def explain(kg: KnowledgeGraph, model_id: str) -> Explanation:
    """Explain the classification of one stored entry."""
    return Explainer(kg).explain(model_id)
