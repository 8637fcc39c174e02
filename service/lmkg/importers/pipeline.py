"""From a data set's records to stored entries: match, merge, link, mark withdrawn, write.

`plan` is pure (entries in, entries out, every record with its outcome); `write_plan` writes
what changed through KnowledgeGraph.write, the gate every write passes (SHACL validation,
classification, one transaction per batch). An entry whose graph equals the stored one is not
rewritten, so importing the same file twice changes no triple.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import PROV
from rdflib.term import Node

from lmkg.entries import Entry, entry_from_json, entry_to_json
from lmkg.errors import EntryError
from lmkg.importers.matching import EntityIndex, hierarchy_graph, merge_record
from lmkg.importers.records import ImportReport, Outcome, Progress, SourceRecord, unique_id
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.vocab import GRAPH_MODEL, model_iri, source_graph

_STORED = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
_BARE = re.compile(r"^[+-]?(\d+)$|^[+-]?(\d*\.\d+)$|^[+-]?((?:\d+\.?\d*|\.\d+)[eE][+-]?\d+)$")
_XSD = "http://www.w3.org/2001/XMLSchema#"
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_SIMPLE_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        short, long, char = match.groups()
        return chr(int(short or long, 16)) if (short or long) else _SIMPLE_ESCAPES.get(char, char)

    return _ESCAPE.sub(one, text)


def _tsv_term(cell: str) -> Node:
    """One cell of a SPARQL 1.1 TSV result as an rdflib term (N-Triples syntax, or a bare
    number or boolean)."""
    if cell.startswith("<"):
        return URIRef(cell[1:-1])
    if cell.startswith("_:"):
        return BNode(cell[2:])
    if cell.startswith('"'):
        end = cell.rfind('"')
        lexical, rest = _unescape(cell[1:end]), cell[end + 1 :]
        if rest.startswith("^^<"):
            return Literal(lexical, datatype=URIRef(rest[3:-1]))
        if rest.startswith("@"):
            return Literal(lexical, lang=rest[1:])
        return Literal(lexical)
    if cell in ("true", "false"):
        return Literal(cell, datatype=URIRef(_XSD + "boolean"))
    match = _BARE.match(cell)
    if match is None:
        raise ValueError(f"not a term of a SPARQL TSV result: {cell[:80]!r}")
    kind = next(i for i, group in enumerate(match.groups()) if group is not None)
    return Literal(cell, datatype=URIRef(_XSD + ("integer", "decimal", "double")[kind]))


def stored_graphs(kg: KnowledgeGraph) -> dict[str, Graph]:
    """Every model entry's graph, by entity id, read with one query.

    Measured on the Epoch import (67,000 triples in model graphs, on a loaded machine):
    Store.select took 15 s and rdflib's N-Quads parser 21 s; the query's TSV result, read
    cell by cell with repeated cells looked up once, takes about 5 s with the query."""
    raw = kg.store.execute(
        _STORED, select_format="text/tab-separated-values", graph_format="application/n-triples"
    )
    prefix = f"<{GRAPH_MODEL}"
    terms: dict[str, Node] = {}
    graphs: dict[str, Graph] = defaultdict(Graph)
    for line in raw.body.decode("utf-8").split("\n")[1:]:
        if not line.startswith(prefix):
            continue
        g, s, p, o = line.split("\t")
        triple = []
        for cell in (s, p, o):
            term = terms.get(cell)
            if term is None:
                term = terms[cell] = _tsv_term(cell)
            triple.append(term)
        graphs[g[len(prefix) : -1]].add((triple[0], triple[1], triple[2]))
    return dict(graphs)


def stored_entries(kg: KnowledgeGraph, graphs: Mapping[str, Graph] | None = None) -> list[dict[str, Any]]:
    """Every model entry in the store as JSON."""
    found = stored_graphs(kg) if graphs is None else graphs
    return [entry_to_json(graph, model_iri(entity)) for entity, graph in found.items()]


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
            entity = unique_id(
                record.name, index.ids | set(result.entries), qualifier=next(iter(record.organisations), "")
            )
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
        index.add_name(entity, record.name, record.entry.get("parameterCount"))
        placed.append((record, entity))
    for record, entity in placed:
        _link(result.entries[entity], record, index, report)
    seen = {record.key for record, _ in placed} | {
        r.key
        for r in records
        if any(x.row == r.row and x.outcome == Outcome.AMBIGUOUS for x in report.results)
    }
    for entity, entry in index.entries.items():
        keys = [str(k) for k in entry.get("derivedFrom") or []]
        mine = [k for k in keys if k.startswith(namespace + "#")]
        if mine and not set(mine) & seen and entry.get("status") != "withdrawn":
            if all(k.startswith(namespace + "#") for k in keys):
                withdrawn = {**entry, "status": "withdrawn"}
                result.entries[entity] = {
                    k: v for k, v in withdrawn.items() if k not in ("iri", "recordedAt")
                }
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
            report.warnings.append(
                f"row {record.row} ({record.name}): base {name!r} could be {', '.join(targets)}; not linked"
            )
        else:
            report.warnings.append(
                f"row {record.row} ({record.name}): base {name!r} is not a known model; not linked"
            )
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


def write_hierarchy(kg: KnowledgeGraph) -> None:
    """The organisation hierarchy (organisations.csv) in a graph of its own, rewritten when it changed."""
    wanted = hierarchy_graph()
    name = source_graph("organisation-hierarchy")
    if not isomorphic(kg.store.graph(name), wanted):
        kg.store.load_graph(name, wanted)


def write_plan(
    kg: KnowledgeGraph,
    planned: Plan,
    report: ImportReport,
    *,
    stored: Mapping[str, Graph],
    batch_size: int = 500,
    progress: bool | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> None:
    """Write the planned entries that differ from the stored ones (`stored`: the graphs read
    before planning), bases before derived models."""
    entries: list[Entry] = []
    for entity, document in sorted(planned.entries.items()):
        try:
            entry = entry_from_json(document)
        except EntryError as exc:
            _reject(report, planned, entity, str(exc))
            continue
        if entity in stored and _same_graph(stored[entity], entry.graph):
            report.unchanged += 1
            continue
        entries.append(entry)
    entries.sort(key=lambda e: (_depth(e.id, planned.entries), e.id))
    known = frozenset(planned.entries) | frozenset(stored)
    write_hierarchy(kg)
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


def _same_graph(stored: Graph, new: Graph) -> bool:
    """Whether an entry's stored graph (its timestamp aside) is the new one. Entry graphs name
    every node (statements and observations have IRIs), so sets of triples compare; a graph with
    blank nodes is compared with rdflib's isomorphism."""
    old = {t for t in stored if t[1] != PROV.generatedAtTime}
    fresh = {t for t in new if t[1] != PROV.generatedAtTime}
    if len(old) != len(fresh):
        return False
    if any(isinstance(term, BNode) for triple in fresh for term in triple):
        return isomorphic(_without_stamp(stored), new)
    return old == fresh


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
