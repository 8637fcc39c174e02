"""Import Epoch AI's database of AI models (CC BY 4.0) as model entries.

Each language-model row (Domain includes "Language") becomes a JSON entry and
passes the same gate as POST /models: SHACL validation, classification, one
transaction per batch. Epoch gives no large/small category, so an entry's
kind comes from lmkg's size threshold (kindBasis "size-threshold"); a row
without a parameter count cannot be classified and is rejected with that
reason. Nothing is dropped in silence: every rejected row is in the report.
Entries are keyed by id, unchanged entries are not rewritten, so importing
twice changes nothing and an interrupted import can simply be run again.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, XSD

from lmkg.entries import Entry, entry_from_json, slugify
from lmkg.errors import EntryError, InputError
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.vocab import LMKG, SOURCE, model_graph, source_graph

DATASET = SOURCE["epoch-ai-models"]
DATASET_PAGE = "https://epoch.ai/data/ai-models"
ATTRIBUTION = (
    "Epoch AI, 'Parameter, Compute and Data Trends in Machine Learning' / 'Data on AI models'. "
    "Published online at epoch.ai. Retrieved from https://epoch.ai/data/ai-models"
)
REQUIRED_COLUMNS = ("Model", "Domain", "Organization", "Publication date", "Parameters")
_LICENCES = [
    (re.compile(r"apache[ -]?(licen[cs]e )?2\.0", re.I), "Apache-2.0"),
    (re.compile(r"\bMIT\b"), "MIT"),
    (re.compile(r"CC[ -]BY[ -]NC[ -]4\.0", re.I), "CC-BY-NC-4.0"),
    (re.compile(r"CC[ -]BY[ -]SA[ -]4\.0", re.I), "CC-BY-SA-4.0"),
    (re.compile(r"CC[ -]BY[ -]4\.0", re.I), "CC-BY-4.0"),
    (re.compile(r"openrail", re.I), "LicenseRef-OpenRAIL"),
    (re.compile(r"llama ?3", re.I), "LicenseRef-Llama-3-Community"),
    (re.compile(r"llama ?2", re.I), "LicenseRef-Llama-2-Community"),
    (re.compile(r"gemma", re.I), "LicenseRef-Gemma-Terms-of-Use"),
]


@dataclass
class Rejection:
    row: int
    model: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: counts, every rejected row with its reason, warnings."""

    rows: int = 0
    language_rows: int = 0
    with_parameters: int = 0
    imported: int = 0  # new or updated
    updated: int = 0
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "languageRows": self.language_rows,
            "withParameters": self.with_parameters,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "rejections": [r.__dict__ for r in self.rejections],
            "warnings": self.warnings,
        }

    def as_text(self) -> str:
        c = self.counts()
        lines = [
            f"Read {c['rows']} rows; {c['languageRows']} are language models, "
            f"{c['withParameters']} of them with a parameter count.",
            f"Stored {c['imported']} new or changed entries ({c['updated']} updated), "
            f"{c['unchanged']} unchanged, {c['rejected']} rejected.",
        ]
        lines += [f"row {r.row} ({r.model or 'no name'}): {r.reason}" for r in self.rejections]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "model", "reason"])
            for r in self.rejections:
                writer.writerow([r.row, r.model, r.reason])


class Progress:
    """A progress bar on stderr (rows, rate, time left), drawn only on a terminal."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        self.total = total
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
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} rows "
            f"{rate:,.0f}/s {left:,.0f}s left"
        )
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def read_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of an Epoch CSV (RFC 4180, multi-line cells), refusing missing columns."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = list(reader.fieldnames or [])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"not an Epoch AI models file: missing column(s) {', '.join(missing)} "
            f"(found {', '.join(header[:8]) or 'no header'})"
        )
    return header, [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]


def row_to_json(row: dict[str, str], number: int, threshold: int, importable: set[str]) -> dict[str, Any]:
    """The JSON entry of one language-model row (parameters already checked)."""
    name = row["Model"].strip()
    count = int((_number(row["Parameters"]) or Decimal(0)).to_integral_value())
    entry: dict[str, Any] = {
        "id": slugify(name),
        "label": name,
        "kind": "slm" if count <= threshold else "llm",
        "kindBasis": "size-threshold",
        "parameterCount": count,
        "developer": _split(row.get("Organization", "")),
        "domains": _split(row.get("Domain", "")),
        "derivedFrom": [f"{DATASET}#row-{number}"],
    }
    tasks = _split(row.get("Task", ""))
    if tasks:
        entry["tasks"] = tasks
    date = row.get("Publication date", "").strip()
    if date:
        entry["releaseDate"] = date
    links = [u for u in re.split(r"\s+", row.get("Link", "")) if re.match(r"^https?://\S+$", u)]
    entry["sources"] = [*links, DATASET_PAGE]
    reference = row.get("Reference", "").strip()
    if reference:
        entry["description"] = reference[:5000]
    access = row.get("Model accessibility", "").strip()
    if access.startswith("Open weights"):
        entry["openWeights"] = True
        notes = row.get("Accessibility notes", "")
        licence = next((spdx for pattern, spdx in _LICENCES if pattern.search(notes)), None)
        if licence:
            entry["license"] = licence
    elif access in ("API access", "Hosted access (no API)", "Unreleased"):
        entry["openWeights"] = False
        entry["license"] = "proprietary"
    tokens = _number(row.get("Training dataset size (datapoints)", ""))
    if tokens is not None and tokens >= 1:
        entry["trainingTokens"] = int(tokens.to_integral_value())
    compute = _number(row.get("Training compute (FLOP)", ""))
    if compute is not None and compute > 0:
        entry["trainingCompute"] = float(compute)
    base = slugify(row.get("Base model", "").strip()) if row.get("Base model", "").strip() else ""
    if base and base in importable and base != entry["id"]:
        entry["fineTunedFrom"] = base
    return entry


def dataset_graph(retrieved: datetime) -> Graph:
    """Epoch's dataset as a source, with its licence and the attribution it asks for."""
    graph = Graph()
    graph.add((DATASET, RDF.type, LMKG.SourceDocument))
    graph.add((DATASET, RDF.type, OWL.NamedIndividual))
    graph.add((DATASET, RDFS.label, Literal("Epoch AI, Data on AI models")))
    graph.add((DATASET, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    graph.add((DATASET, DCTERMS.bibliographicCitation, Literal(ATTRIBUTION)))
    graph.add((DATASET, DCTERMS.source, URIRef(DATASET_PAGE)))
    stamp = retrieved.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    graph.add((DATASET, PROV.generatedAtTime, Literal(stamp, datatype=XSD.dateTime)))
    return graph


def _without_stamp(graph: Graph) -> Graph:
    copy = Graph()
    for triple in graph:
        if triple[1] != PROV.generatedAtTime:
            copy.add(triple)
    return copy


def _batches(items: list[Entry], size: int) -> Iterable[list[Entry]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_epoch(
    kg: KnowledgeGraph,
    text: str,
    *,
    batch_size: int = 500,
    progress: bool | None = None,
    retrieved: datetime | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the language-model rows of an Epoch CSV (its text) into the knowledge graph."""
    _, rows = read_rows(text)
    report = ImportReport(rows=len(rows))
    threshold = int(kg.ontology.value(LMKG.ModelUnderSizeThreshold, LMKG.thresholdParameters).toPython())  # type: ignore[union-attr]
    candidates: list[tuple[int, dict[str, str]]] = []
    for number, row in enumerate(rows, start=1):
        if "Language" not in _split(row.get("Domain", "")):
            continue
        report.language_rows += 1
        name = row.get("Model", "").strip()
        parameters = row.get("Parameters", "").strip()
        if not parameters:
            report.rejections.append(
                Rejection(number, name, "no parameter count: its kind cannot be determined")
            )
            continue
        report.with_parameters += 1
        value = _number(parameters)
        if value is None or value < 1:
            report.rejections.append(
                Rejection(number, name, f"the parameter count {parameters!r} is not a positive number")
            )
            continue
        if not name or not slugify(name):
            report.rejections.append(Rejection(number, name, "the model has no usable name"))
            continue
        if not _split(row.get("Organization", "")):
            report.rejections.append(Rejection(number, name, "no organisation: an entry needs a developer"))
            continue
        candidates.append((number, row))
    first_row: dict[str, int] = {}
    unique: list[tuple[int, dict[str, str]]] = []
    for number, row in candidates:
        model_id = slugify(row["Model"].strip())
        if model_id in first_row:
            report.rejections.append(
                Rejection(
                    number,
                    row["Model"].strip(),
                    f"duplicate: row {first_row[model_id]} already gives the model id '{model_id}'",
                )
            )
            continue
        first_row[model_id] = number
        unique.append((number, row))
    importable = set(first_row)
    entries: list[Entry] = []
    row_of: dict[str, tuple[int, str]] = {}
    for number, row in unique:
        document = row_to_json(row, number, threshold, importable)
        base = row.get("Base model", "").strip()
        if base and "fineTunedFrom" not in document:
            report.warnings.append(
                f"row {number} ({row['Model'].strip()}): base model {base!r} is not an imported row; no link"
            )
        try:
            entry = entry_from_json(document)
        except EntryError as exc:
            report.rejections.append(Rejection(number, row["Model"].strip(), str(exc)))
            continue
        entries.append(entry)
        row_of[entry.id] = (number, row["Model"].strip())
    dataset = dataset_graph(retrieved or datetime.now(UTC))
    stored_dataset = kg.store.graph(source_graph("epoch-ai-models"))
    if not isomorphic(_without_stamp(stored_dataset), _without_stamp(dataset)):
        kg.store.load_graph(source_graph("epoch-ai-models"), dataset)
    # Bases first, so that a fine-tuned model's link is to a stored entry.
    entries.sort(key=lambda e: (e.graph.value(e.iri, LMKG.fineTunedFrom) is not None, e.id))
    known = frozenset(e.id for e in entries)
    # One look-up of the stored graphs' names instead of one round trip per row: only an
    # entry whose graph exists is fetched and compared (an import into an empty store fetches none).
    stored_graphs = set(kg.store.graph_names())
    bar = Progress(len(entries), progress)
    done = 0
    for index, batch in enumerate(_batches(entries, batch_size)):
        changed: list[Entry] = []
        existing: set[str] = set()
        for entry in batch:
            if model_graph(entry.id) not in stored_graphs:
                changed.append(entry)
                continue
            stored = kg.store.graph(model_graph(entry.id))
            if len(stored) and isomorphic(_without_stamp(stored), entry.graph):
                report.unchanged += 1
                continue
            if len(stored):
                origins = {str(o) for o in stored.objects(entry.iri, PROV.wasDerivedFrom)}
                if not any(o.startswith(f"{DATASET}#") for o in origins):
                    number, name = row_of[entry.id]
                    report.rejections.append(
                        Rejection(
                            number,
                            name,
                            f"the id '{entry.id}' belongs to an entry from another source "
                            f"({', '.join(sorted(origins)) or 'unknown'}); it is kept, not overwritten",
                        )
                    )
                    continue
                existing.add(entry.id)
            changed.append(entry)
        if changed:
            outcome = kg.write(changed, mode=WriteMode.UPSERT, known_ids=known)
            report.imported += len(outcome.written)
            report.updated += sum(1 for a in outcome.written if a.entry.id in existing)
            for assessment in outcome.rejected:
                number, name = row_of[assessment.entry.id]
                reasons = "; ".join(r.message for r in assessment.report.results)
                report.rejections.append(Rejection(number, name, reasons))
        done += len(batch)
        bar.update(done)
        if after_batch is not None:
            after_batch(index)
    report.rejections.sort(key=lambda r: r.row)
    return report


def import_epoch_file(kg: KnowledgeGraph, path: Path, **options: Any) -> ImportReport:
    """import_epoch on a file, read as UTF-8 (with or without a byte order mark)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8: byte {exc.start} cannot be decoded") from exc
    return import_epoch(kg, text, **options)
