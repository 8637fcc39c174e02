"""What every importer shares: statements, the rank rule, ids that never collide, the row report.

An importer turns each row of a data set into a JSON model entry under the evidence
contract: the simple fields (the preferred values) and `statements`, one per field the row
gives a value for, each with the source a reader can open, the source's kind, the date it
was retrieved and, when the source says, its confidence. These are plain dicts: parsing,
filtering and merging are tested without RDF.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lmkg.entries import slugify

SOURCE_KIND_RANK = ("curated", "paper-or-card", "epoch", "ecosystem-graphs", "source-document")
"""The rank rule's first key: a statement of an earlier kind is preferred."""
CONFIDENCE_RANK = ("confident", "likely", "speculative")
IMPORTED_NAMESPACES = (
    "https://w3id.org/lmkg/source/epoch-ai-models",
    "https://w3id.org/lmkg/source/ecosystem-graphs",
)
"""The data sets whose rows entries are derived from (`derivedFrom` IRIs `{namespace}#{row}`)."""
STATEMENT_FIELDS = (
    "parameterCount",
    "activeParameterCount",
    "releaseDate",
    "license",
    "developer",
    "kind",
    "openWeights",
    "contextLength",
    "trainingTokens",
    "trainingDatapoints",
)


def _spelt(char: str) -> str:
    name = unicodedata.name(char, "")
    if name.startswith("GREEK ") and " LETTER " in name:
        return name.rsplit(" ", 1)[-1].lower()  # 'GREEK CAPITAL LETTER SIGMA' -> 'sigma'
    return char


def transliterate(name: str) -> str:
    """Greek letters spelt out (PanGu with a capital sigma -> 'PanGu-sigma'), so that slugs keep
    them apart (slugify alone drops them: PanGu-alpha and PanGu-sigma were both 'pangu')."""
    return "".join(_spelt(c) for c in unicodedata.normalize("NFC", name))


def base_id(name: str) -> str:
    """The id a name asks for: PanGu with a Greek alpha -> 'pangu-alpha'; a name with no Latin letters or
    digits (ERNIE's Chinese name alone) gives a hex slug of its characters."""
    slug = slugify(transliterate(name))
    if slug:
        return slug
    return "m-" + name.encode("utf-8").hex()[:40] if name.strip() else ""


def unique_id(name: str, taken: set[str], *, qualifier: str = "") -> str:
    """An id for `name` not in `taken` (then added to it): the name's slug, else with its
    qualifier (an organisation), else numbered. Two different models never share an id."""
    first = base_id(name)
    candidates = [first]
    if qualifier:
        candidates.append(f"{first}-{slugify(transliterate(qualifier))}"[:100].rstrip("-._"))
    for candidate in candidates:
        if candidate and candidate not in taken:
            taken.add(candidate)
            return candidate
    number = 2
    while f"{first}-{number}" in taken:
        number += 1
    taken.add(f"{first}-{number}")
    return f"{first}-{number}"


def record_key(namespace: str, name: str) -> str:
    """The IRI that names one row of a data set, stable across its versions (its name, not its
    position): stored in the entry's `derivedFrom`, so a re-import finds its entity."""
    return f"{namespace}#{quote(name, safe='')}"


def statement(
    field_name: str,
    value: Any,
    *,
    source: str,
    kind: str,
    retrieved: str,
    confidence: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """One source's value for one field."""
    result: dict[str, Any] = {
        "field": field_name,
        "value": value,
        "source": source,
        "sourceKind": kind,
        "retrieved": retrieved,
    }
    if confidence:
        result["confidence"] = confidence
    if note:
        result["note"] = note
    return result


def rank_key(item: Mapping[str, Any]) -> tuple[int, int, str]:
    """Sort key of the rank rule: source kind, then confidence, then the most recent retrieval."""
    kind = item.get("sourceKind", "")
    kind_rank = SOURCE_KIND_RANK.index(kind) if kind in SOURCE_KIND_RANK else len(SOURCE_KIND_RANK)
    confidence = item.get("confidence")
    confidence_rank = (
        CONFIDENCE_RANK.index(confidence) if confidence in CONFIDENCE_RANK else len(CONFIDENCE_RANK)
    )
    retrieved = str(item.get("retrieved", ""))
    # Most recent first: invert the date's characters so that a plain ascending sort works.
    inverted = "".join(chr(0x10FFFF - ord(c)) for c in retrieved)
    return (kind_rank, confidence_rank, inverted)


def preferred_values(statements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The preferred value of each field that has statements, by the rank rule."""
    best: dict[str, Mapping[str, Any]] = {}
    statements_list = list(statements)
    for item in statements_list:
        current = best.get(item["field"])
        if current is None or rank_key(item) < rank_key(current):
            best[item["field"]] = item
    values = {name: item["value"] for name, item in best.items()}
    if "developer" in values:  # several organisations: every one of the preferred source's
        top = rank_key(best["developer"])
        values["developer"] = [
            i["value"] for i in statements_list if i["field"] == "developer" and rank_key(i) == top
        ]
    return values


class Outcome:
    KEPT = "kept"  # a new entity, or this source's own entity again
    MERGED = "merged"  # this source's statements added to an entity of another source
    REJECTED = "rejected"
    AMBIGUOUS = "ambiguous"  # several entities could be this row's; listed, not merged


@dataclass
class RowResult:
    """What became of one row (or card) of a data set."""

    row: int
    name: str
    outcome: str
    reason: str = ""
    entity: str = ""


@dataclass
class ImportReport:
    """Every row of a data set with its outcome, and what the store write did."""

    source: str
    rows: int = 0
    results: list[RowResult] = field(default_factory=list)
    written: int = 0  # entries new or changed in the store
    unchanged: int = 0
    withdrawn: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, row: int, name: str, outcome: str, reason: str = "", entity: str = "") -> RowResult:
        result = RowResult(row, name, outcome, reason, entity)
        self.results.append(result)
        return result

    def of(self, outcome: str) -> list[RowResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def rejections(self) -> list[RowResult]:
        return self.of(Outcome.REJECTED)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "kept": len(self.of(Outcome.KEPT)),
            "merged": len(self.of(Outcome.MERGED)),
            "rejected": len(self.of(Outcome.REJECTED)),
            "ambiguous": len(self.of(Outcome.AMBIGUOUS)),
            "written": self.written,
            "unchanged": self.unchanged,
            "withdrawn": len(self.withdrawn),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            **self.counts(),
            "results": [r.__dict__ for r in self.results],
            "withdrawnEntities": self.withdrawn,
            "warnings": self.warnings,
        }

    def as_text(self) -> str:
        c = self.counts()
        lines = [
            f"{self.source}: read {c['rows']} rows: {c['kept']} kept, {c['merged']} merged into an "
            f"entity of another source, {c['rejected']} rejected, {c['ambiguous']} ambiguous.",
            f"Store: {c['written']} entries new or changed, {c['unchanged']} unchanged, "
            f"{c['withdrawn']} marked withdrawn (gone upstream).",
        ]
        for result in self.results:
            if result.outcome in (Outcome.AMBIGUOUS, Outcome.MERGED):
                lines.append(
                    f"{result.outcome}: row {result.row} ({result.name}) -> {result.entity or '?'}: {result.reason}"
                )
        for result in self.rejections:
            lines.append(f"rejected: row {result.row} ({result.name or 'no name'}): {result.reason}")
        lines += [f"withdrawn: {w}" for w in self.withdrawn]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["row", "name", "outcome", "entity", "reason"])
        for r in sorted(self.results, key=lambda r: r.row):
            writer.writerow([r.row, r.name, r.outcome, r.entity, r.reason])
        return buffer.getvalue()

    def write_csv(self, path: Path) -> None:
        path.write_text(self.csv_text(), encoding="utf-8")


class Progress:
    """A progress bar on stderr (items, rate, time left), drawn only on a terminal."""

    def __init__(self, total: int, enabled: bool | None = None, *, label: str = "entries") -> None:
        self.total = total
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        if not self.enabled or not self.total:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        left = (self.total - done) / rate if rate else 0
        filled = int(30 * done / self.total)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} {self.label} "
            f"{rate:,.0f}/s {left:,.0f}s left"
        )
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMBT])\b", re.I)
_SCALE = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def scaled_number(text: str) -> int | None:
    """'7.3B' -> 7300000000, '710M' -> 710000000; None when the text does not start so."""
    match = _SIZE.match(text)
    if not match:
        return None
    number, unit = match.groups()
    whole, _, fraction = number.partition(".")
    scale = _SCALE[unit.upper()]
    return int(whole) * scale + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)


@dataclass
class SourceRecord:
    """One row or card of a data set, ready to merge: its JSON entry (no id yet; simple fields
    and this source's statements) and its links by name, resolved to ids when merged."""

    row: int
    name: str
    key: str  # the IRI of the row in its data set, stored in derivedFrom
    entry: dict[str, Any]
    organisations: list[str]
    bases: list[str] = field(default_factory=list)  # names of the models it derives from
    derivation: str | None = None  # fine-tune, adapter, merge, distillation, quantisation
    datasets: list[str] = field(default_factory=list)  # ids of the datasets it was trained on
