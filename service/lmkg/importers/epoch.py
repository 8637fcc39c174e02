"""Import Epoch AI's database of AI models (CC BY 4.0) as model entries with Epoch's statements.

Which rows are language models (language_model_verdict, select_rows): Epoch has no architecture
column and its Domain "Language" covers graph embeddings, driving-video world models and
sentiment classifiers, so a row is kept when its Domain includes "Language" AND one of its
Tasks reads and writes text (TEXT_GENERATION_TASKS: language modelling or generation, chat,
code generation, question answering, translation, summarisation, quantitative reasoning...).
A row without tasks is kept when Language is its only domain (INTELLECT-1), or when its
"Base model" is of the family of a kept row (the architecture: Eagle 2 is a
vision-language model built on Qwen2.5-7B). Dropped, with the reason in the report: TransE
(Entity embedding), GAIA-1 (Self-driving car, Video generation, Instruction interpretation),
sentiment classifiers (Sentiment classification), PaLI-X (Image captioning, Video description,
Character recognition only) and every row whose Domain lacks "Language" (vision-only rows).
Kept: GPT-4, PaLI (it also does language modelling), Mistral 7B, Eagle 2.

What each row becomes (row_to_record): its values as statements of kind "epoch" with Epoch's
Confidence (Confident, Likely, Speculative; "Unknown" gives none); a row without a parameter
count is kept with its size unknown (GPT-4, o1, Claude 3.7), its kind from the size threshold
when the size is known, "llm" when its training compute alone rules out 10B parameters
(MAX_SIZE_BOUND_FLOP; a statement of kind says so), and no kind otherwise (kindBasis "unknown":
lmkg:LanguageModelOfUnknownKind); the active parameters
of a mixture of experts from the parameter notes (Phi-3.5-MoE: 60.8B total, 6.6B active); the
licence of the weights from the accessibility level and notes (lmkg.importers.licences);
"Unreleased" is openWeights false with no licence (nothing was released under any licence),
"API access" and "Hosted access" are "proprietary"; "Training dataset size (datapoints)" as
trainingDatapoints in Epoch's unit, datapoints (tokens for some rows, images for PaLI), never
as training tokens; every base model of a row ("Qwen2-72B,InternViT-6B") linked when it is a
known model, the others reported. Ids never collide (PanGu-alpha and PanGu-sigma, spelt with Greek letters, are
pangu-alpha and pangu-sigma); an entity found again by its key (the row's name in the data set) is updated.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, XSD

from lmkg.entries import is_iri
from lmkg.errors import InputError
from lmkg.importers.licences import read_licence
from lmkg.importers.pipeline import _without_stamp, plan, stored_entries, stored_graphs, write_plan
from lmkg.importers.records import ImportReport, Outcome, SourceRecord, base_id, record_key, statement
from lmkg.knowledge import KnowledgeGraph
from lmkg.vocab import LMKG, SOURCE, source_graph

DATASET = SOURCE["epoch-ai-models"]
DATASET_PAGE = "https://epoch.ai/data/ai-models"
ATTRIBUTION = (
    "Epoch AI, 'Parameter, Compute and Data Trends in Machine Learning' / 'Data on AI models'. "
    "Published online at epoch.ai. Retrieved from https://epoch.ai/data/ai-models"
)
REQUIRED_COLUMNS = ("Model", "Domain", "Organization", "Publication date", "Parameters")
SOURCE_KIND = "epoch"
NAMESPACE = str(DATASET)

TEXT_GENERATION_TASKS = frozenset(
    {
        "Language modeling/generation",
        "Language modeling",
        "Language generation",
        "Japanese language modeling",
        "Chat",
        "Code generation",
        "Code autocompletion",
        "Text autocompletion",
        "Question answering",
        "Translation",
        "Text summarization",
        "Quantitative reasoning",
        "Mathematical reasoning",
        "Retrieval-augmented generation",
    }
)
"""Tasks in which a model reads and writes text: one of them makes a "Language" row a language
model. Not enough alone: "Instruction interpretation" (GAIA-1 follows instructions to generate
driving video), "Visual question answering", "Image captioning" and "Video description" (text
from images or video only: PaLI-X), classification and embedding tasks ("Sentiment
classification", "Entity embedding": TransE, "Semantic embedding")."""

CONFIDENCE = {"Confident": "confident", "Likely": "likely", "Speculative": "speculative"}
CLOSED_ACCESS = {"API access": "API access", "Hosted access (no API)": "hosted access, no API"}

_ACTIVE_AFTER = re.compile(
    r"(\d+(?:\.\d+)?)\s*(B|billion|M|million)\b(?:\s+(?:parameters|params|are))?\s+activ", re.I
)
_ACTIVE_BEFORE = re.compile(r"activated parameters(?: per token)?:\s*(\d+(?:\.\d+)?)\s*(B|M)\b", re.I)
MAX_SIZE_BOUND_FLOP = 6e24
"""Training compute above which a model has more than 10B parameters: C = 6ND, so a model of at
most 10B parameters trained with 6e24 FLOP saw 1e14 tokens, several times more text than any
model is known to have been trained on (tens of trillions of tokens)."""


def split_list(text: str) -> list[str]:
    """Epoch's comma-separated cells ('Acme AI,Open Lab'), each part trimmed."""
    return [part.strip() for part in text.split(",") if part.strip()]


_split = split_list


_SIZE_SUFFIX = re.compile(r"[\s(_-]*\d+(?:\.\d+)?\s*[MBT]\)?(?:[\s-]*(?:base|instruct|chat))?\s*$", re.I)


def model_family(name: str) -> str:
    """A model's name without its size: 'Qwen2.5-7B' and 'Qwen2.5-72B' -> 'qwen2.5'."""
    return _SIZE_SUFFIX.sub("", " ".join(name.split())).lower()


def language_model_verdict(row: Mapping[str, str]) -> tuple[bool, str]:
    """Whether an Epoch row is a language model, and why not when it is not (its tasks alone;
    see is_language_model_row for rows without tasks)."""
    domains = split_list(row.get("Domain", ""))
    if "Language" not in domains:
        return False, f"not a language model: its domains are {', '.join(domains) or 'none'}"
    tasks = split_list(row.get("Task", ""))
    if not tasks:
        return False, "no task given"
    if not set(tasks) & TEXT_GENERATION_TASKS:
        return False, f"not a language model: none of its tasks ({', '.join(tasks)}) reads and writes text"
    return True, ""


def active_parameters(notes: str) -> int | None:
    """The active parameters of a mixture of experts, from Epoch's parameter notes."""
    text = " ".join(notes.split())
    match = _ACTIVE_BEFORE.search(text) or _ACTIVE_AFTER.search(text)
    if match is None:
        return None
    number, unit = match.groups()
    scale = 10**9 if unit.lower() in ("b", "billion") else 10**6
    return int(Decimal(number) * scale)


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


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def row_to_record(row: Mapping[str, str], number: int, *, threshold: int, retrieved: str) -> SourceRecord:
    """One kept row as a record: its entry (simple fields and statements) and its links by name."""
    name = " ".join(row["Model"].split())
    confidence = CONFIDENCE.get(row.get("Confidence", "").strip())
    links = [u for u in re.split(r"\s+", row.get("Link", "")) if re.match(r"^https?://\S+$", u) and is_iri(u)]

    def said(field_name: str, value: Any, note: str | None = None) -> dict[str, Any]:
        return statement(
            field_name, value, source=DATASET_PAGE, kind=SOURCE_KIND, retrieved=retrieved,
            confidence=confidence, note=note,
        )  # fmt: skip

    statements: list[dict[str, Any]] = []
    organisations = split_list(row.get("Organization", ""))
    entry: dict[str, Any] = {"label": name, "developer": organisations}
    statements.extend(said("developer", organisation) for organisation in organisations)
    count = _number(row.get("Parameters", ""))
    if count is not None and count >= 1:
        entry["parameterCount"] = int(count.to_integral_value())
        entry["kind"] = "slm" if entry["parameterCount"] <= threshold else "llm"
        entry["kindBasis"] = "size-threshold"
        statements.append(said("parameterCount", entry["parameterCount"]))
    else:
        compute = _number(row.get("Training compute (FLOP)", ""))
        if compute is not None and compute >= Decimal(MAX_SIZE_BOUND_FLOP):
            entry["kind"] = "llm"
            entry["kindBasis"] = "size-threshold"
            statements.append(
                said(
                    "kind",
                    "llm",
                    f"lmkg from Epoch's training compute, {float(compute):.3g} FLOP: over 10B parameters (C = 6ND)",
                )
            )
        else:
            entry["kindBasis"] = "unknown"
    active = active_parameters(row.get("Parameters notes", ""))
    if active is not None and entry.get("parameterCount") and active < entry["parameterCount"]:
        entry["activeParameterCount"] = active
        statements.append(said("activeParameterCount", active, "from Epoch's parameter notes"))
    tasks = split_list(row.get("Task", ""))
    if tasks:
        entry["tasks"] = tasks
    entry["domains"] = split_list(row.get("Domain", ""))
    date = row.get("Publication date", "").strip()
    if date:
        entry["releaseDate"] = date
        statements.append(said("releaseDate", date))
    entry["sources"] = [*dict.fromkeys(links), DATASET_PAGE]
    reference = row.get("Reference", "").strip()
    if reference:
        entry["description"] = " ".join(reference.split())[:5000]
    access = row.get("Model accessibility", "").strip()
    if access.startswith("Open weights"):
        entry["openWeights"] = True
        statements.append(said("openWeights", True, f"Epoch: {access}"))
        reading = read_licence(row.get("Accessibility notes", ""), access=access)
        if reading.licence:
            entry["license"] = reading.licence
            statements.append(said("license", reading.licence, reading.note or None))
    elif access in CLOSED_ACCESS:
        entry["openWeights"] = False
        entry["license"] = "proprietary"
        statements.append(said("openWeights", False, f"Epoch: {access}"))
        statements.append(said("license", "proprietary", f"Epoch: {access}: the weights are not released"))
    elif access == "Unreleased":
        # Not released at all: no weights, no API; so no licence either (never "proprietary").
        entry["openWeights"] = False
        statements.append(
            said("openWeights", False, "Epoch: Unreleased (neither weights nor an API are public)")
        )
    datapoints = _number(row.get("Training dataset size (datapoints)", ""))
    if datapoints is not None and datapoints >= 1:
        entry["trainingDatapoints"] = int(datapoints.to_integral_value())
        entry["trainingDatapointsUnit"] = "datapoints"
        notes = " ".join(row.get("Dataset size notes", "").split())[:300]
        statements.append(said("trainingDatapoints", entry["trainingDatapoints"], notes or None))
    compute = _number(row.get("Training compute (FLOP)", ""))
    if compute is not None and compute > 0:
        entry["trainingCompute"] = float(compute)
    entry["statements"] = statements
    return SourceRecord(
        row=number,
        name=name,
        key=record_key(NAMESPACE, name),
        entry=entry,
        organisations=organisations,
        bases=split_list(row.get("Base model", "")),
    )


@dataclass
class EpochSelection:
    """The rows of an Epoch file sorted: records to import, and each other row with its reason."""

    rows: int
    records: list[SourceRecord]
    rejected: list[tuple[int, str, str]]  # row, name, reason


def select_rows(rows: list[dict[str, str]], *, threshold: int, retrieved: str) -> EpochSelection:
    """Which rows are language models (see language_model_verdict), as records; the rest with
    the reason. A row without tasks is kept when its base model is of the family of a kept row
    (Eagle 2 is built on Qwen2.5-7B, of the family of Qwen2.5-72B) and dropped otherwise. Repeated names keep the first row."""
    rejected: list[tuple[int, str, str]] = []
    verdicts: dict[int, tuple[bool, str]] = {}
    kept_families: set[str] = set()
    for number, row in enumerate(rows, start=1):
        verdict = language_model_verdict(row)
        verdicts[number] = verdict
        if verdict[0]:
            kept_families.add(model_family(row.get("Model", "")))
    records: list[SourceRecord] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        name = " ".join(row.get("Model", "").split())
        keep, reason = verdicts[number]
        if not keep and reason == "no task given" and split_list(row.get("Domain", "")) == ["Language"]:
            keep = True  # nothing but language, and no task that says otherwise (INTELLECT-1)
        if not keep and reason == "no task given":
            bases = [b for b in split_list(row.get("Base model", "")) if model_family(b) in kept_families]
            if bases:
                keep = True
            else:
                reason = "not a language model: no task given and no base model that is one"
        if not keep:
            rejected.append((number, name, reason))
            continue
        if not name or not base_id(name):
            rejected.append((number, name, "the model has no usable name"))
            continue
        if not split_list(row.get("Organization", "")):
            rejected.append((number, name, "no organisation: an entry needs a developer"))
            continue
        if name in seen:
            rejected.append((number, name, f"duplicate: row {seen[name]} has the same model name"))
            continue
        parameters = row.get("Parameters", "").strip()
        value = _number(parameters) if parameters else None
        if parameters and (value is None or value < 1):
            rejected.append((number, name, f"the parameter count {parameters!r} is not a positive number"))
            continue
        seen[name] = number
        records.append(row_to_record(row, number, threshold=threshold, retrieved=retrieved))
    return EpochSelection(len(rows), records, rejected)


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


def import_epoch(
    kg: KnowledgeGraph,
    text: str,
    *,
    batch_size: int = 500,
    progress: bool | None = None,
    retrieved: datetime | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the language-model rows of an Epoch CSV (its text): every row ends up kept,
    merged, rejected (with the reason) or ambiguous in the report."""
    _, rows = read_rows(text)
    report = ImportReport(source="epoch", rows=len(rows))
    threshold = int(kg.ontology.value(LMKG.ModelUnderSizeThreshold, LMKG.thresholdParameters).toPython())  # type: ignore[union-attr]
    day = (retrieved or datetime.now(UTC)).date().isoformat()
    selection = select_rows(rows, threshold=threshold, retrieved=day)
    for number, name, reason in selection.rejected:
        report.add(number, name, Outcome.REJECTED, reason)
    dataset = dataset_graph(retrieved or datetime.now(UTC))
    stored_dataset = kg.store.graph(source_graph("epoch-ai-models"))
    if not isomorphic(_without_stamp(stored_dataset), _without_stamp(dataset)):
        kg.store.load_graph(source_graph("epoch-ai-models"), dataset)
    stored = stored_graphs(kg)
    planned = plan(
        stored_entries(kg, stored),
        selection.records,
        report,
        source="epoch",
        source_kind=SOURCE_KIND,
        namespace=NAMESPACE,
    )
    write_plan(
        kg, planned, report, stored=stored, batch_size=batch_size, progress=progress, after_batch=after_batch
    )
    report.results.sort(key=lambda r: r.row)
    return report


def import_epoch_file(kg: KnowledgeGraph, path: Path, **options: Any) -> ImportReport:
    """import_epoch on a file, read as UTF-8 (with or without a byte order mark)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8: byte {exc.start} cannot be decoded") from exc
    return import_epoch(kg, text, **options)
