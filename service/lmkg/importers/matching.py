"""One entity per real model: matching a data set's records to the entities already known.

A record (a row of Epoch, a card of Ecosystem Graphs) is the same model as an entity when:

1. the entity already holds the record's key (its `derivedFrom`): a re-import finds its own;
2. the alias table (aliases.csv, in this package) names the entity for the record: the cases
   the rules cannot settle, each with its reason;
3. otherwise the rules: the normalised names agree ('Mistral 7B' = 'mistral-7b' = 'Mistral'
   with 7.3B parameters), the organisations agree through the hierarchy and aliases of
   organisations.csv (Google DeepMind and Google Brain are both Google; Meta AI is Meta;
   Microsoft Research is under Microsoft), and the sizes, when both are known, differ by at most
   10%. An entity that already has a record of the same source is never a candidate: a data set
   lists each model once.

One candidate: the record is merged into it (its statements added, the entity's other
sources' statements kept). None: a new entity. Several: ambiguous, listed in the report and
neither merged nor created, until the alias table settles it.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from rdflib import Graph

from lmkg.entries import slugify
from lmkg.importers.records import (
    IMPORTED_NAMESPACES,
    STATEMENT_FIELDS,
    SourceRecord,
    preferred_values,
    transliterate,
)
from lmkg.vocab import LMKG, ORG

SIZE_TOLERANCE = 0.10
"""Two sizes of one model differ by at most this share of the larger (Mistral 7B: 7.0B and 7.3B)."""


@functools.lru_cache(maxsize=1)
def organisation_table() -> dict[str, tuple[str, str]]:
    """Lower-cased organisation name -> (canonical id, parent id or '')."""
    text = resources.files("lmkg.importers").joinpath("organisations.csv").read_text(encoding="utf-8")
    return {
        row["name"].strip().lower(): (row["id"], row["parent"]) for row in csv.DictReader(io.StringIO(text))
    }


@functools.lru_cache(maxsize=1)
def alias_table() -> dict[tuple[str, str], str]:
    """(source, record name) -> entity id, for the cases the rules cannot settle."""
    text = resources.files("lmkg.importers").joinpath("aliases.csv").read_text(encoding="utf-8")
    return {(row["source"], row["name"]): row["entity"] for row in csv.DictReader(io.StringIO(text))}


def hierarchy_graph() -> Graph:
    """The organisation hierarchy of organisations.csv as lmkg:partOf triples between the
    organisations that entries name (org:google-deepmind part of org:google)."""
    graph = Graph()
    for name, (identifier, parent) in organisation_table().items():
        if parent:
            graph.add((ORG[slugify(name)], LMKG.partOf, ORG[parent]))
            if identifier != slugify(name):
                graph.add((ORG[identifier], LMKG.partOf, ORG[parent]))
    return graph


def canonical_organisation(name: str) -> str:
    entry = organisation_table().get(" ".join(name.split()).lower())
    return entry[0] if entry else slugify(name)


def organisation_root(name: str) -> str:
    """The top of an organisation's hierarchy: 'Google DeepMind' -> 'google'."""
    table = {identifier: parent for identifier, parent in organisation_table().values()}
    current = canonical_organisation(name)
    for _ in range(10):
        parent = table.get(current, "")
        if not parent:
            return current
        current = parent
    return current


def organisations_agree(first: Iterable[str], second: Iterable[str]) -> bool:
    """Whether two lists of developers can name the same model (either unknown: yes)."""
    a = {organisation_root(o) for o in first if o.strip()}
    b = {organisation_root(o) for o in second if o.strip()}
    return not a or not b or bool(a & b)


def sizes_agree(first: int | None, second: int | None) -> bool:
    if not first or not second:
        return True
    return abs(first - second) <= SIZE_TOLERANCE * max(first, second)


def normalise_name(name: str) -> str:
    """'Mistral 7B' and 'mistral-7b' -> 'mistral7b'; PanGu with a Greek alpha -> 'pangualpha'."""
    return re.sub(r"[^a-z0-9.]+", "", transliterate(name).lower()).replace(".", "_")


def size_labels(count: int | None) -> list[str]:
    """How a size is written in a model's name: 7.3e9 -> ['7b', '7_3b']."""
    if not count:
        return []
    for unit, scale in (("t", 10**12), ("b", 10**9), ("m", 10**6)):
        if count >= scale:
            value = count / scale
            labels = [
                f"{round(value)}{unit}",
                f"{int(value)}{unit}",
                f"{value:.1f}".rstrip("0").rstrip(".").replace(".", "_") + unit,
            ]
            return list(dict.fromkeys(labels))
    return []


def name_keys(label: str, count: int | None) -> set[str]:
    """The normalised names a model answers to: its name, and its name with its size when the
    name carries none ('Mistral' with 7.3B -> 'mistral7b')."""
    base = normalise_name(label)
    keys = {base}
    if not re.search(r"\d+(?:\.\d+)?\s*[mbt]\b", label, re.I):
        keys |= {base + size for size in size_labels(count)}
    return keys


@dataclass
class Match:
    outcome: str  # "own", "alias", "merge", "new", "ambiguous"
    entity: str | None = None
    candidates: list[str] = field(default_factory=list)


class EntityIndex:
    """The entities known before and during an import, looked up by key and by name."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.by_name: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            self.add(dict(entry))

    def add(self, entry: dict[str, Any]) -> None:
        entity = entry["id"]
        self.entries[entity] = entry
        for key in entry.get("derivedFrom", []) or []:
            self.by_key[key] = entity
        for label in [entry.get("label") or entity, *(entry.get("altLabels") or [])]:
            for name in name_keys(str(label), entry.get("parameterCount")):
                self.by_name[name].add(entity)

    def add_name(self, entity: str, name: str, count: int | None) -> None:
        """Another name the entity answers to (a record merged into it under its own name)."""
        for key in name_keys(name, count):
            self.by_name[key].add(entity)

    @property
    def ids(self) -> set[str]:
        return set(self.entries)

    def from_namespace(self, entity: str, namespace: str) -> bool:
        return any(
            str(k).startswith(namespace + "#") for k in self.entries[entity].get("derivedFrom", []) or []
        )

    def match(self, record: SourceRecord, *, source: str, namespace: str) -> Match:
        own = self.by_key.get(record.key)
        if own is not None:
            return Match("own", own)
        alias = alias_table().get((source, record.name))
        if alias is not None and alias in self.entries:
            return Match("alias", alias)
        count = record.entry.get("parameterCount")
        found: set[str] = set()
        for name in name_keys(record.name, count):
            found |= self.by_name.get(name, set())
        candidates = sorted(
            entity
            for entity in found
            if not self.from_namespace(entity, namespace)
            and organisations_agree(record.organisations, self.entries[entity].get("developer") or [])
            and sizes_agree(count, self.entries[entity].get("parameterCount"))
        )
        if len(candidates) == 1:
            return Match("merge", candidates[0])
        if len(candidates) > 1:
            return Match("ambiguous", None, candidates)
        return Match("new")

    def resolve(self, name: str, *, organisations: Iterable[str] = ()) -> list[str]:
        """The entities a name of a base model may mean (exact normalised name first)."""
        exact = sorted(self.by_name.get(normalise_name(name), set()))
        if len(exact) > 1:
            agreeing = [
                e for e in exact if organisations_agree(organisations, self.entries[e].get("developer") or [])
            ]
            exact = agreeing or exact
        return exact


def curated_statements(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An entity's own values as statements of kind 'curated', for an entry that has none yet,
    so that its word stays beside a data set's when the two are merged."""
    sources = list(entry.get("sources") or [])
    if not sources:
        return []
    found = []
    for name in STATEMENT_FIELDS:
        value = entry.get(name)
        if value is None or value == []:
            continue
        for one in value if isinstance(value, list) else [value]:
            found.append(
                normal_statement({"field": name, "value": one, "sources": sources, "sourceKind": "curated"})
            )
    return found


_LIST_FIELDS = (
    "sources",
    "derivedFrom",
    "tasks",
    "domains",
    "inputModalities",
    "outputModalities",
    "trainingDatasets",
)
_FILL_FIELDS = (
    "description",
    "activeParameterCount",
    "architecture",
    "contextLength",
    "trainingDatapoints",
    "trainingDatapointsUnit",
    "trainingCompute",
    "weightsPrecision",
    "derivation",
)


def normal_statement(item: Mapping[str, Any]) -> dict[str, Any]:
    """A statement as it is written: without its output-only rank, one source as `source`.

    An entry read back gives `sources` (a list) where it was written with `source`; the
    statement's IRI is made from what it holds, so the two spellings would be two statements."""
    result = {k: v for k, v in item.items() if k != "rank"}
    sources = result.get("sources")
    if isinstance(sources, list) and len(sources) == 1:
        result["source"] = sources[0]
        del result["sources"]
    return result


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (a.get("field"), a.get("value"), a.get("source"), a.get("sourceKind")) == (
        b.get("field"),
        b.get("value"),
        b.get("source"),
        b.get("sourceKind"),
    )


def merge_record(
    existing: Mapping[str, Any] | None, record: SourceRecord, entity: str, *, source_kind: str
) -> dict[str, Any]:
    """The entity's entry with this record's word in it.

    The record's statements replace the statements of the same source kind; every other
    source's stay. A statement already stored with the same value keeps its retrieval date, so
    a re-import of an unchanged file changes nothing. Simple fields with statements take the
    preferred value (the rank rule); others are filled when the entity lacks them.
    """
    incoming = dict(record.entry)
    if existing is None:
        merged: dict[str, Any] = {**incoming, "id": entity}
        merged["derivedFrom"] = [record.key]
        old_statements: list[dict[str, Any]] = []
    else:
        merged = {
            k: v
            for k, v in existing.items()
            if k not in ("iri", "recordedAt", "inferred", "verdicts", "organisations")
        }
        old_statements = [normal_statement(s) for s in existing.get("statements") or []]
        if not old_statements and not any(
            str(k).startswith(f"{n}#") for k in existing.get("derivedFrom") or [] for n in IMPORTED_NAMESPACES
        ):
            old_statements = curated_statements(existing)
        for name in _LIST_FIELDS:
            values = [*(merged.get(name) or []), *(incoming.get(name) or [])]
            if name == "derivedFrom":
                values.append(record.key)
            if values:
                merged[name] = list(dict.fromkeys(values))
        for name in _FILL_FIELDS:
            if merged.get(name) is None and incoming.get(name) is not None:
                merged[name] = incoming[name]
        if not merged.get("kind") and incoming.get("kind"):
            merged["kind"] = incoming["kind"]
            merged["kindBasis"] = incoming.get("kindBasis")
    kept = [s for s in old_statements if s.get("sourceKind") != source_kind]
    previous = [s for s in old_statements if s.get("sourceKind") == source_kind]
    new_statements = []
    for item in incoming.get("statements", []):
        item = normal_statement(item)
        earlier = next((p for p in previous if _same(p, item)), None)
        if earlier is not None and earlier.get("retrieved"):
            item["retrieved"] = earlier["retrieved"]
        new_statements.append(item)
    statements = kept + new_statements
    merged["statements"] = statements
    for name, value in preferred_values(statements).items():
        if name == "kind" and merged.get("kind") and merged.get("kindBasis") in (None, "source"):
            continue  # the category its curators or its source gave
        merged[name] = value
    if merged.get("kindBasis") == "size-threshold" and incoming.get("kindBasis") == "size-threshold":
        if merged.get("parameterCount") == incoming.get("parameterCount"):
            merged["kind"] = incoming["kind"]
    merged.pop("status", None)  # named by its source again: no longer withdrawn
    return {k: v for k, v in merged.items() if v is not None}
