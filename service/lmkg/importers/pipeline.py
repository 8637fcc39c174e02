"""From a data set's records to stored entries: match, merge, link, mark withdrawn, write.

`plan` is pure (entries in, entries out, every record with its outcome); `write_plan` writes
what changed through KnowledgeGraph.write, the gate every write passes (SHACL validation,
classification, one transaction per batch). An entry whose graph equals the stored one is not
rewritten, so importing the same file twice changes no triple.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import PROV

from lmkg.entries import Entry, entry_from_json, entry_to_json
from lmkg.errors import EntryError
from lmkg.importers.matching import EntityIndex, merge_record
from lmkg.importers.records import ImportReport, Outcome, Progress, SourceRecord, unique_id
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.vocab import GRAPH_MODEL, model_graph, model_id_of

_STORED = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), ?prefix)) }"


def stored_entries(kg: KnowledgeGraph) -> list[dict[str, Any]]:
    """Every model entry in the store as JSON, read with one query."""
    graphs: dict[str, Graph] = defaultdict(Graph)
    for row in kg.store.select(_STORED, bindings={"prefix": Literal(str(GRAPH_MODEL))}):
        graphs[str(row["g"])].add((row["s"], row["p"], row["o"]))
    entries = []
    for name, graph in graphs.items():
        model_id = name[len(str(GRAPH_MODEL)) :]
        entries.append(entry_to_json(graph, URIRef(f"https://w3id.org/lmkg/model/{model_id}")))
    return entries


@dataclass
class Plan:
    """What an import will write: the entries it changes (by id) and each record's outcome."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_of: dict[str, SourceRecord] = field(default_factory=dict)


def plan(
    existing: Iterable[Mapping[str, Any]],
    records: list[SourceRecord],
    report: ImportReport,
    *,
    source: str,
    source_kind: str,
    namespace: str,
) -> Plan:
    """Match every record, merge it into its entity or make a new one, resolve its links by name,
    and mark this source's entities that no record names any more as withdrawn."""
    index = EntityIndex(existing)
    result = Plan()
    placed: list[tuple[SourceRecord, str]] = []
    for record in records:
        match = index.match(record, source=source, namespace=namespace)
        if match.outcome == "ambiguous":
            report.add(
                record.row,
                record.name,
                Outcome.AMBIGUOUS,
                f"could be any of {', '.join(match.candidates)}: add a line to aliases.csv to settle it",
            )
            continue
        if match.outcome == "new":
            entity = unique_id(record.name, index.ids | set(result.entries), qualifier=next(iter(record.organisations), ""))
            merged = merge_record(None, record, entity, source_kind=source_kind)
            report.add(record.row, record.name, Outcome.KEPT, "new entity", entity)
        else:
            entity = match.entity or ""
            current = result.entries.get(entity) or index.entries[entity]
            merged = merge_record(current, record, entity, source_kind=source_kind)
            if match.outcome == "own" and not _has_other_source(current, namespace):
                report.add(record.row, record.name, Outcome.KEPT, "its entity from an earlier import", entity)
            else:
                why = "alias table" if match.outcome == "alias" else "same name, organisation and size"
                report.add(record.row, record.name, Outcome.MERGED, why, entity)
        result.entries[entity] = merged
        result.record_of[entity] = record
        index.add(merged)
        placed.append((record, entity))
    for record, entity in placed:
        _link(result.entries[entity], record, index, report)
    seen = {record.key for record, _ in placed} | {
        r.key for r in records if any(x.row == r.row and x.outcome == Outcome.AMBIGUOUS for x in report.results)
    }
    for entity, entry in index.entries.items():
        keys = [str(k) for k in entry.get("derivedFrom") or []]
        mine = [k for k in keys if k.startswith(namespace + "#")]
        if mine and not set(mine) & seen and entry.get("status") != "withdrawn":
            if all(k.startswith(namespace + "#") for k in keys):
                withdrawn = {**entry, "status": "withdrawn"}
                result.entries[entity] = {k: v for k, v in withdrawn.items() if k not in ("iri", "recordedAt")}
                report.withdrawn.append(f"{entity}: no longer in {source}")
            else:
                report.warnings.append(f"{entity}: no longer in {source}; kept, as other sources name it")
    return result


def _has_other_source(entry: Mapping[str, Any], namespace: str) -> bool:
    keys = [str(k) for k in entry.get("derivedFrom") or []]
    return any(not k.startswith(namespace + "#") for k in keys) or any(
        s.get("sourceKind") == "curated" for s in entry.get("statements") or []
    )


def _link(entry: dict[str, Any], record: SourceRecord, index: EntityIndex, report: ImportReport) -> None:
    """The record's base models as ids (every base a known model; the others reported)."""
    if not record.bases:
        return
    found: list[str] = []
    for name in record.bases:
        targets = [t for t in index.resolve(name, organisations=record.organisations) if t != entry["id"]]
        if len(targets) == 1:
            found.append(targets[0])
        elif len(targets) > 1:
            report.warnings.append(f"row {record.row} ({record.name}): base {name!r} could be {', '.join(targets)}; not linked")
        else:
            report.warnings.append(f"row {record.row} ({record.name}): base {name!r} is not a known model; not linked")
    previous = entry.get("fineTunedFrom")
    existing = [previous] if isinstance(previous, str) else list(previous or [])
    links = list(dict.fromkeys([*existing, *found]))
    if links:
        entry["fineTunedFrom"] = links[0] if len(links) == 1 else links
    if record.derivation and found and not entry.get("derivation"):
        entry["derivation"] = record.derivation


def _without_stamp(graph: Graph) -> Graph:
    copy = Graph()
    for triple in graph:
        if triple[1] != PROV.generatedAtTime:
            copy.add(triple)
    return copy


def write_plan(
    kg: KnowledgeGraph,
    planned: Plan,
    report: ImportReport,
    *,
    batch_size: int = 500,
    progress: bool | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> None:
    """Write the planned entries that differ from the stored ones, bases before derived models."""
    stored_names = {str(g) for g in kg.store.graph_names()}
    entries: list[Entry] = []
    for entity, document in sorted(planned.entries.items()):
        try:
            entry = entry_from_json(document)
        except EntryError as exc:
            _reject(report, planned, entity, str(exc))
            continue
        if str(model_graph(entity)) in stored_names:
            stored = kg.store.graph(model_graph(entity))
            if isomorphic(_without_stamp(stored), entry.graph):
                report.unchanged += 1
                continue
        entries.append(entry)
    entries.sort(key=lambda e: (_depth(e.id, planned.entries), e.id))
    known = frozenset(planned.entries) | frozenset(model_id_of(n) or "" for n in stored_names)
    bar = Progress(len(entries), progress)
    done = 0
    for number, start in enumerate(range(0, len(entries), batch_size)):
        batch = entries[start : start + batch_size]
        outcome = kg.write(batch, mode=WriteMode.UPSERT, known_ids=known)
        report.written += len(outcome.written)
        for assessment in outcome.rejected:
            reasons = "; ".join(r.message for r in assessment.report.results)
            _reject(report, planned, assessment.entry.id, reasons)
        done += len(batch)
        bar.update(done)
        if after_batch is not None:
            after_batch(number)


def _depth(entity: str, entries: Mapping[str, Mapping[str, Any]]) -> int:
    depth, current, seen = 0, entity, set()
    while current in entries and current not in seen:
        seen.add(current)
        base = entries[current].get("fineTunedFrom")
        current = base if isinstance(base, str) else (base[0] if base else "")
        depth += 1 if current else 0
    return depth


def _reject(report: ImportReport, planned: Plan, entity: str, reason: str) -> None:
    record = planned.record_of.get(entity)
    if record is None:
        report.warnings.append(f"{entity}: not written: {reason}")
        return
    for result in report.results:
        if result.row == record.row and result.entity == entity:
            result.outcome = Outcome.REJECTED
            result.reason = reason
            return
