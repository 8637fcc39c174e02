"""Import Stanford CRFM's Ecosystem Graphs (Bommasani et al. 2023, arXiv:2303.15772).

The data set is a folder of YAML cards (`assets/*.yaml`), each a list of assets of three types:
models, datasets and applications. Most fields are `{explanation, value}`; the value is used,
the explanation kept as a statement's note. Each card's values are statements of kind
"ecosystem-graphs" whose source is the card's file on GitHub at the commit named in the
folder's SOURCE.md, at the card's line (a reader can open it).

- Models: a card is a language model when its output modality includes text or code, or is
  not given (the others, Imagen or MusicGen, are rejected with the reason). Sizes are parsed
  from free text (parse_size): "7B parameters (dense)", "61B parameters (sparse); 6.6B active
  parameters", "14B parameters with 2.7B parameters for activation (MoE)"; "unknown" and text
  that is not a parameter count ("5.5B (text, image) pairs") give none. `dependencies` that are
  models become lineage (fineTunedFrom; `derivation` fine-tune, adapter, merge, distillation or
  quantisation where the card's name or description says which); dependencies that are
  datasets become training data (trainingDatasets). Access: "open" is open weights, "limited"
  and "closed" are not. Licence: the same rules as Epoch's notes (lmkg.importers.licences);
  a closed or limited model with no licence named is "proprietary".
- Datasets (lmkg:Dataset, https://w3id.org/lmkg/dataset/{id}) and applications
  (lmkg:AIProduct, https://w3id.org/lmkg/product/{id}, lmkg:builtOn the models they use) are
  written to the data set's source graph, which is replaced as a whole when it changes.

The data set declares no licence: its source graph says so, quoting the maintainer's statement
and the citation from SOURCE.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, XSD

from lmkg.entries import dataset, is_iri, organisation, slugify
from lmkg.errors import InputError
from lmkg.importers.licences import read_licence
from lmkg.importers.pipeline import _without_stamp, plan, stored_entries, stored_graphs, write_plan
from lmkg.importers.records import (
    ImportReport,
    Outcome,
    SourceRecord,
    base_id,
    record_key,
    scaled_number,
    statement,
)
from lmkg.knowledge import KnowledgeGraph
from lmkg.vocab import LMKG, PRODUCT, SOURCE, model_iri, source_graph

DATASET_IRI = SOURCE["ecosystem-graphs"]
NAMESPACE = str(DATASET_IRI)
SOURCE_KIND = "ecosystem-graphs"
REPOSITORY = "https://github.com/stanford-crfm/ecosystem-graphs"
CITATION = (
    "Rishi Bommasani, Dilara Soylu, Thomas I. Liao, Kathleen A. Creel, Percy Liang. "
    "Ecosystem Graphs: The Social Footprint of Foundation Models. arXiv:2303.15772 (2023)"
)
ASSET_TYPES = ("model", "dataset", "application")
_UNKNOWN = {"", "unknown", "unknkown", "none", "n/a"}
_DERIVATIONS = [
    (re.compile(r"\bquanti[sz]", re.I), "quantisation"),
    (re.compile(r"\bdistill", re.I), "distillation"),
    (re.compile(r"\bmerg(?:e|ed|ing)\b", re.I), "merge"),
    (re.compile(r"\b(?:adapter|lora)\b", re.I), "adapter"),
    (re.compile(r"fine-?tun", re.I), "fine-tune"),
]


@dataclass
class Card:
    """One asset of a card file, with where it is."""

    file: str
    line: int
    fields: dict[str, Any]

    @property
    def type(self) -> str:
        return str(value_of(self.fields.get("type")) or "")

    @property
    def name(self) -> str:
        return " ".join(str(value_of(self.fields.get("name")) or "").split())


@dataclass
class SourceInfo:
    """What SOURCE.md says: the commit the cards come from, when they were retrieved, and the
    data set's licence statement (verbatim)."""

    commit: str = "HEAD"
    retrieved: str | None = None
    licence_statement: str = ""


class _LineLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """SafeLoader that remembers the line of each asset (a mapping in a card's list)."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def value_of(field_value: Any) -> Any:
    """A card field's value: `{explanation, value}` gives its value; anything else is the value."""
    if isinstance(field_value, Mapping) and "value" in field_value:
        return field_value["value"]
    return field_value


def explanation_of(field_value: Any) -> str | None:
    if isinstance(field_value, Mapping):
        text = field_value.get("explanation")
        return " ".join(str(text).split())[:500] if text else None
    return None


def read_source_info(folder: Path) -> SourceInfo:
    path = folder / "SOURCE.md"
    if not path.is_file():
        return SourceInfo()
    text = path.read_text(encoding="utf-8")
    commit = re.search(r"Commit[^:\n]*:\s*([0-9a-f]{40})", text)
    retrieved = re.search(r"Retrieved:\s*(\d{4}-\d{2}-\d{2})", text)
    licence = re.search(r"^- License:(.*?)(?=^- |\Z)", text, re.M | re.S)
    return SourceInfo(
        commit=commit.group(1) if commit else "HEAD",
        retrieved=retrieved.group(1) if retrieved else None,
        licence_statement=" ".join(licence.group(1).split()) if licence else "",
    )


def read_cards(folder: Path) -> list[Card]:
    """Every asset of `folder/assets/*.yaml`, in file order; a file that is not a list of
    assets is refused with its name."""
    assets = folder / "assets"
    if not assets.is_dir():
        raise InputError(
            f"{folder} is not an Ecosystem Graphs folder: it has no assets/ directory of YAML cards"
        )
    cards: list[Card] = []
    for path in sorted(assets.glob("*.yaml")):
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
        except yaml.YAMLError as exc:
            raise InputError(f"{path.name} is not valid YAML: {exc}") from exc
        if document is None:
            continue
        if not isinstance(document, list):
            raise InputError(f"{path.name}: a card file is a list of assets, not a {type(document).__name__}")
        for item in document:
            if not isinstance(item, dict):
                raise InputError(f"{path.name}: every asset is a mapping of fields; found {item!r:.60}")
            line = int(item.pop("__line__", 0))
            cards.append(Card(path.name, line, _drop_lines(item)))
    if not cards:
        raise InputError(f"{assets} holds no YAML cards")
    return cards


def _drop_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_drop_lines(v) for v in value]
    return value


@dataclass(frozen=True)
class Size:
    total: int | None
    active: int | None = None


_ACTIVE = re.compile(
    r"([0-9.]+\s*[KMBT])\s*(?:active parameters|parameters for activation|parameters active)", re.I
)


def parse_size(text: object) -> Size:
    """Parameters from a card's size: '7B parameters (dense)' -> 7e9; '61B parameters (sparse);
    6.6B active parameters' -> 61e9 total, 6.6e9 active; 'unknown', a date or '5.5B (text,
    image) pairs' -> none."""
    if not isinstance(text, str):
        return Size(None)
    cleaned = " ".join(text.split())
    if cleaned.lower() in _UNKNOWN:
        return Size(None)
    total = scaled_number(cleaned)
    rest = re.sub(r"^\s*[0-9.]+\s*[KMBT]\s*", "", cleaned, flags=re.I)
    if total is None or not (rest == "" or rest.lower().startswith("parameters")):
        return Size(None)
    match = _ACTIVE.search(cleaned)
    active = scaled_number(match.group(1).replace(" ", "")) if match else None
    return Size(total, active if active and active < total else None)


def modalities(text: object) -> tuple[list[str], list[str]]:
    """'image, text; text' -> (['image', 'text'], ['text']); without ';' both sides are the list."""
    if not isinstance(text, str) or text.strip().lower() in _UNKNOWN:
        return [], []
    sides = text.split(";")

    def items(side: str) -> list[str]:
        return [p.strip().lower() for p in side.split(",") if p.strip() and p.strip().lower() not in _UNKNOWN]

    if len(sides) == 1:
        return items(sides[0]), items(sides[0])
    return items(sides[0]), items(sides[1])


def organisations_of(card: Card) -> list[str]:
    text = value_of(card.fields.get("organization"))
    if not isinstance(text, str):
        return []
    return [p.strip() for p in re.split(r",|;", text) if p.strip()]


def dependencies_of(card: Card) -> list[str]:
    deps = value_of(card.fields.get("dependencies"))
    if not isinstance(deps, list):
        return []
    return [" ".join(str(d).split()) for d in deps if isinstance(d, str | int | float) and str(d).strip()]


def derivation_of(card: Card) -> str | None:
    text = f"{card.name} {value_of(card.fields.get('description')) or ''}"
    return next((name for pattern, name in _DERIVATIONS if pattern.search(text)), None)


def _date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
        return value.strip()
    return None


def card_url(info: SourceInfo, card: Card) -> str:
    return f"{REPOSITORY}/blob/{info.commit}/assets/{card.file}#L{card.line}"


def card_keys(cards: Iterable[Card]) -> dict[int, str]:
    """A key for each card (by position): its name, with its file when the name repeats."""
    cards = list(cards)
    counts = Counter((c.type, c.name) for c in cards)
    return {
        i: (c.name if counts[(c.type, c.name)] == 1 else f"{c.name} ({c.file})") for i, c in enumerate(cards)
    }


def is_language_model(card: Card) -> tuple[bool, str]:
    outputs = modalities(value_of(card.fields.get("modality")))[1]
    if outputs and not {"text", "code"} & set(outputs):
        return False, f"not a language model: its output modality is {', '.join(outputs)}"
    return True, ""


def card_to_record(
    card: Card, number: int, key: str, *, info: SourceInfo, threshold: int, retrieved: str
) -> SourceRecord:
    """One model card as a record: its entry (simple fields and statements) and its links."""
    url = card_url(info, card)
    fields = card.fields

    def said(field_name: str, value: Any, raw: Any = None) -> dict[str, Any]:
        return statement(
            field_name, value, source=url, kind=SOURCE_KIND, retrieved=retrieved, note=explanation_of(raw)
        )

    organisations = organisations_of(card)
    statements = [said("developer", o, fields.get("organization")) for o in organisations]
    entry: dict[str, Any] = {"label": card.name, "developer": organisations}
    size = parse_size(value_of(fields.get("size")))
    if size.total:
        entry["parameterCount"] = size.total
        entry["kind"] = "slm" if size.total <= threshold else "llm"
        entry["kindBasis"] = "size-threshold"
        statements.append(said("parameterCount", size.total, fields.get("size")))
        if size.active:
            entry["activeParameterCount"] = size.active
            statements.append(said("activeParameterCount", size.active, fields.get("size")))
    else:
        entry["kindBasis"] = "unknown"
    released = _date(value_of(fields.get("created_date")))
    if released:
        entry["releaseDate"] = released
        statements.append(said("releaseDate", released, fields.get("created_date")))
    access = str(value_of(fields.get("access")) or "").strip().lower()
    licence_text = str(value_of(fields.get("license")) or "")
    if access == "open":
        entry["openWeights"] = True
        statements.append(said("openWeights", True, fields.get("access")))
    elif access in ("limited", "closed"):
        entry["openWeights"] = False
        statements.append(said("openWeights", False, fields.get("access")))
    reading = read_licence(licence_text, access="Open weights" if access == "open" else "")
    licence = reading.licence
    if licence is None and access in ("limited", "closed") and licence_text.strip().lower() in _UNKNOWN:
        licence = "proprietary"
    if licence:
        entry["license"] = licence
        statements.append(said("license", licence, fields.get("license")))
    inputs, outputs = modalities(value_of(fields.get("modality")))
    if inputs:
        entry["inputModalities"] = inputs
    if outputs:
        entry["outputModalities"] = outputs
    description = value_of(fields.get("description"))
    if isinstance(description, str) and description.strip():
        entry["description"] = " ".join(description.split())[:5000]
    links = [url]
    for name in ("url", "model_card"):
        link = value_of(fields.get(name))
        if isinstance(link, str) and re.match(r"^https?://\S+$", link.strip()) and is_iri(link.strip()):
            links.append(link.strip())
    entry["sources"] = list(dict.fromkeys(links))
    entry["statements"] = statements
    return SourceRecord(
        row=number,
        name=card.name,
        key=record_key(NAMESPACE, key),
        entry=entry,
        organisations=organisations,
        derivation=derivation_of(card),
    )


@dataclass
class CardSelection:
    cards: list[Card]
    records: list[SourceRecord] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    datasets: list[int] = field(default_factory=list)  # positions of dataset cards
    applications: list[int] = field(default_factory=list)


def select_cards(cards: list[Card], *, info: SourceInfo, threshold: int, retrieved: str) -> CardSelection:
    """Records for the language-model cards, the positions of datasets and applications, and
    every other card with the reason (rows are numbered from 1 in file order)."""
    selection = CardSelection(cards)
    keys = card_keys(cards)
    dataset_names = {c.name for c in cards if c.type == "dataset"}
    for index, card in enumerate(cards):
        number = index + 1
        if card.type == "dataset":
            selection.datasets.append(index)
            continue
        if card.type == "application":
            selection.applications.append(index)
            continue
        if card.type != "model":
            selection.rejected.append((number, card.name, f"unknown asset type {card.type!r}"))
            continue
        if not card.name or not base_id(card.name):
            selection.rejected.append((number, card.name, "the card has no usable name"))
            continue
        keep, reason = is_language_model(card)
        if not keep:
            selection.rejected.append((number, card.name, reason))
            continue
        if not organisations_of(card):
            selection.rejected.append((number, card.name, "no organisation: an entry needs a developer"))
            continue
        record = card_to_record(
            card, number, keys[index], info=info, threshold=threshold, retrieved=retrieved
        )
        deps = dependencies_of(card)
        record.datasets = [d for d in deps if d in dataset_names]
        record.bases = [d for d in deps if d not in dataset_names and d != card.name]
        if record.datasets:
            record.entry["trainingDatasets"] = record.datasets
        selection.records.append(record)
    return selection


def source_graph_of(
    selection: CardSelection, info: SourceInfo, *, model_of: Callable[[str], str | None], report: ImportReport
) -> Graph:
    """The data set's graph: the data set (no licence declared: the maintainer's statement and
    the citation), its datasets and its applications with the models they are built on."""
    graph = Graph()
    graph.add((DATASET_IRI, RDF.type, LMKG.SourceDocument))
    graph.add((DATASET_IRI, RDF.type, OWL.NamedIndividual))
    graph.add((DATASET_IRI, RDFS.label, Literal("Stanford CRFM, Ecosystem Graphs")))
    graph.add((DATASET_IRI, DCTERMS.source, URIRef(f"{REPOSITORY}/tree/{info.commit}")))
    graph.add((DATASET_IRI, DCTERMS.bibliographicCitation, Literal(CITATION)))
    rights = "No licence declared: the repository has no LICENSE file."
    if info.licence_statement:
        rights += f" SOURCE.md: {info.licence_statement}"
    graph.add((DATASET_IRI, DCTERMS.rights, Literal(rights)))
    keys = card_keys(selection.cards)
    for index in selection.datasets:
        card = selection.cards[index]
        iri = dataset(graph, card.name)
        if iri is None:
            report.add(index + 1, card.name, Outcome.REJECTED, "the dataset has no usable name")
            continue
        _describe(graph, iri, card, info)
        report.add(index + 1, card.name, Outcome.KEPT, "dataset", str(iri))
    for index in selection.applications:
        card = selection.cards[index]
        product_id = slugify(keys[index])
        if not product_id:
            report.add(index + 1, card.name, Outcome.REJECTED, "the application has no usable name")
            continue
        iri = PRODUCT[product_id]
        graph.add((iri, RDF.type, LMKG.AIProduct))
        graph.add((iri, RDF.type, OWL.NamedIndividual))
        graph.add((iri, RDFS.label, Literal(card.name)))
        _describe(graph, iri, card, info)
        for name in organisations_of(card):
            org = organisation(graph, name)
            if org is not None:
                graph.add((iri, LMKG.developedBy, org))
        for dependency in dependencies_of(card):
            model = model_of(dependency)
            if model is not None:
                graph.add((iri, LMKG.builtOn, model_iri(model)))
        report.add(index + 1, card.name, Outcome.KEPT, "application", str(iri))
    return graph


def _describe(graph: Graph, iri: URIRef, card: Card, info: SourceInfo) -> None:
    description = value_of(card.fields.get("description"))
    if isinstance(description, str) and description.strip():
        graph.add((iri, DCTERMS.description, Literal(" ".join(description.split())[:5000])))
    graph.add((iri, DCTERMS.source, URIRef(card_url(info, card))))
    created = _date(value_of(card.fields.get("created_date")))
    if created:
        graph.add((iri, DCTERMS.created, Literal(created, datatype=XSD.date)))
    for name in organisations_of(card):
        org = organisation(graph, name)
        if org is not None:
            graph.add((iri, DCTERMS.creator, org))


def import_ecosystem_graphs(
    kg: KnowledgeGraph,
    folder: Path,
    *,
    batch_size: int = 500,
    progress: bool | None = None,
    retrieved: datetime | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import an Ecosystem Graphs folder (assets/*.yaml, SOURCE.md): models as entries merged
    with what is known, datasets and applications into the data set's graph."""
    cards = read_cards(folder)
    info = read_source_info(folder)
    report = ImportReport(source="ecosystem-graphs", rows=len(cards))
    threshold = int(kg.ontology.value(LMKG.ModelUnderSizeThreshold, LMKG.thresholdParameters).toPython())  # type: ignore[union-attr]
    day = (
        (retrieved.date().isoformat() if retrieved else None)
        or info.retrieved
        or datetime.now(UTC).date().isoformat()
    )
    selection = select_cards(cards, info=info, threshold=threshold, retrieved=day)
    for number, name, reason in selection.rejected:
        report.add(number, name, Outcome.REJECTED, reason)
    stored = stored_graphs(kg)
    planned = plan(
        stored_entries(kg, stored), selection.records, report, source="ecosystem-graphs", source_kind=SOURCE_KIND,
        namespace=NAMESPACE,
    )  # fmt: skip
    write_plan(
        kg, planned, report, stored=stored, batch_size=batch_size, progress=progress, after_batch=after_batch
    )
    written = {
        r.row: r.entity for r in report.results if r.outcome in (Outcome.KEPT, Outcome.MERGED) and r.entity
    }
    by_name = {selection.cards[r.row - 1].name: e for r in selection.records if (e := written.get(r.row))}

    def model_of(name: str) -> str | None:
        return by_name.get(name)

    graph = source_graph_of(selection, info, model_of=model_of, report=report)
    current = kg.store.graph(source_graph("ecosystem-graphs"))
    if not isomorphic(_without_stamp(current), graph):
        kg.store.load_graph(source_graph("ecosystem-graphs"), graph)
    report.results.sort(key=lambda r: r.row)
    return report
