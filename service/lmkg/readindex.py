"""The read index: a projection of every model entry into SQLite, behind GET /models,
/ui/charts and the catalogue's headline and per-year queries.

DERIVED STATE. The store (entry graphs and the inferred graph) is the source of truth; this
index is a copy of what GET /models lists, filters, sorts, searches and counts, in a form
built for those questions (B-tree indexes per sort key, an FTS5 table for search, child
tables for developers and classes, and each entry's look-up document, the JSON of
GET /models/{id}, compressed). It is never written from request bodies: every row is
computed by `project`, and every document by lmkg.lookup.documents, which query the store for
the entries named (or for all of them), so the write path and a rebuild give identical rows.

Who answers what (chosen by measurement, bench/RESULTS.md "The read index"): each worker
holds the filtered and sorted columns in memory (lmkg.readcolumns: masks, partitions and
bincounts, no row scan in SQLite) for filters, sorts, totals, facets and charts; SQLite's
FTS5 table answers search, its indexes the organisations a developer filter names, and its
rows the page shown. Sort ranks (`label_rank`, `release_rank`, `iri_rank`) are integers the
writer keeps in order (`place_rank`), so that a worker never sorts strings; each write
transaction stamps the rows it writes with a new `version`, which is how every worker's
columns catch up with it (lmkg.readcolumns).

- Rebuilt from the store by `lmkg reindex` (`ReadIndex.rebuild`), on first use of a new
  index file, and after a change that may touch any entry (a SPARQL Update through /sparql,
  `lmkg reason`).
- Kept current through the store's change log: every write through KnowledgeGraph
  (write, write_batches, delete) adds, in the same transaction, its change (a stamp and the
  entries it changed) to the graph of its minute, `<https://w3id.org/lmkg/graph/changes/minute/{n}>`
  (BUCKET_NS), and replaces the head graph `<https://w3id.org/lmkg/graph/changes>` with the
  change's IRI and `prunedBefore`. Before answering, `sync` compares the head with the one
  the index last applied; when they differ it reads the changes stamped since (with a
  look-back of LOOKBACK_NS for commits that were stamped earlier than they landed) from
  those minutes' graphs only, and re-projects their entries. The writer syncs before it
  acknowledges, so a write is in the next read of every worker sharing the index file;
  another service on the same remote store, with an index of its own, reads the head on
  each request (one triple) and catches up then.
- Writes drop the minutes older than RETENTION_NS (at most PRUNE_PER_WRITE at a time) and
  move the head's `prunedBefore` past them.
- How far behind it may be: not at all for a read that starts after a write was
  acknowledged, provided a commit lands within LOOKBACK_NS of its stamp and the clocks of
  services sharing a remote store agree to within that margin too. An index whose last
  read is older than `prunedBefore` rebuilds, unless the head leads back, change by change
  (`changes:follows`, each change's parent), to the one it applied last: then it did not
  miss a change the writes dropped (an index current when the writes stopped, then a write
  an hour later). One that did not read while nothing was written catches up.
- On an embedded store the check is free when nothing was written: the store's change
  count (Store.generation, shared by every worker) is compared first. A read that comes
  while another thread takes in a write of this process, not yet acknowledged, answers from
  the index as it stands (ReadIndex.acknowledging) instead of waiting for that catch-up.
- Proven to agree with the store by tests/test_readindex.py, which compares its answers with
  the SPARQL answers of lmkg.models_query (kept as the reference) after random writes,
  deletes and a rebuild, on the embedded store and on an Oxigraph server.

Where it lives: LMKG_READ_INDEX, else beside an embedded store (`{LMKG_STORE}.readindex.sqlite`),
else (a remote store) in the user's data directory, one file per store URL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from typing import Literal as TypingLiteral

import numpy as np
import numpy.typing as npt
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, XSD
from rdflib.term import Identifier

from lmkg.config import Settings
from lmkg.entries import LISTED_KINDS, slugify
from lmkg.lookup import Select, build, fetch
from lmkg.models_query import SORT_KEYS, ModelFilter, ModelSummary
from lmkg.readcolumns import MISSING, UNKNOWN, Columns, group_counts, ordered_page, page
from lmkg.store import Store
from lmkg.vocab import (
    CHANGES,
    GRAPH_CHANGE_NS,
    GRAPH_CHANGES,
    GRAPH_INFERRED,
    LMKG,
    ORG,
    model_id_of,
    model_iri,
)

LOOKBACK_NS = 60 * 1_000_000_000
"""How long after its stamp a change may land and still be seen by an index that synced in
between (and how far the clocks of services sharing a remote store may disagree)."""

RETENTION_NS = 3600 * 1_000_000_000
"""How long changes are kept; an index that did not sync for longer, while writes pruned the
changes it had not read, rebuilds."""

BUCKET_NS = 60 * 1_000_000_000
"""The change log's graphs: one per minute of stamps, so that a catch-up reads the minutes
since its last sync, not every change kept (a scan of every change graph made each write at
100,000 entries wait up to a second for its index)."""

REBUILD_PAST = 5000
"""Changed entries past which (and past a tenth of the index) a catch-up rebuilds instead."""

PRUNE_PER_WRITE = 60
"""At most this many expired minutes of the change log are dropped by one write."""

INDEX_SORT_KEYS = (*SORT_KEYS, "relevance")

Verdict = bool | TypingLiteral["unknown"] | None
"""A verdict filter: True, False, "unknown" (neither class inferred) or None (no filter)."""


def _term(name: str) -> URIRef | None:
    """An lmkg term that main's evidence model adds (issue 12), or None until the ontology has it."""
    return URIRef(str(LMKG._NS) + name) if name in getattr(LMKG, "__annotations__", {}) else None


# verdict -> (class of yes, class of no or None in the old two-valued data)
_VERDICTS: dict[str, tuple[URIRef, URIRef | None]] = {
    "portable": (LMKG.PortableModel, _term("NonPortableModel")),
    "cheapToFineTune": (LMKG.CheapToFineTuneModel, _term("CostlyToFineTuneModel")),
    "fast": (LMKG.RealTimeCapableModel, _term("NotRealTimeCapableModel")),
}
_COLUMNS = {"portable": "portable", "cheapToFineTune": "cheap", "fast": "fast"}
_ACTIVE_PARAMETERS = _term("activeParameterCount")

_KIND_OF = {cls: name for name, cls in LISTED_KINDS.items()}
_KIND_VALUES = "VALUES ?kindClass { %s }" % " ".join(cls.n3() for cls in LISTED_KINDS.values())
_FACT_PROPERTIES = {
    RDFS.label: "label",
    DCTERMS.description: "description",
    LMKG.parameterCount: "parameterCount",
    LMKG.releaseDate: "releaseDate",
    LMKG.licence: "license",
    LMKG.openWeights: "openWeights",
    LMKG.fineTunedFrom: "fineTunedFrom",
    LMKG.variantOf: "variantOf",
    **({_ACTIVE_PARAMETERS: "activeParameterCount"} if _ACTIVE_PARAMETERS is not None else {}),
}

# The queries of the projection. %(values)s restricts ?model to the entries being projected
# (empty for all of them); each reads what models_query's reference reads, from the same graphs.
_Q_KINDS = (
    "SELECT ?model ?kindClass ?g WHERE { %(values)s " + _KIND_VALUES + " GRAPH ?g { ?model a ?kindClass } }"
)
_Q_FACTS = (
    # The properties as a FILTER, not a second VALUES block: Oxigraph joins two VALUES blocks
    # before the pattern (12.6 s for 500 models at 10k entries, against 0.63 s so).
    "SELECT ?model ?p ?o WHERE { %(values)s GRAPH ?g { ?model ?p ?o } FILTER(?p IN ("
    + ", ".join(p.n3() for p in _FACT_PROPERTIES)
    + ")) }"
)
_Q_TYPES = "SELECT ?model ?class ?g WHERE { %(values)s GRAPH ?g { ?model a ?class } }"
# What each verdict rests on (lmkg.evidence): "observation" or "size-rule".
_Q_BASES = (
    "SELECT ?model ?trait ?basis WHERE { %(values)s GRAPH "
    + GRAPH_INFERRED.n3()
    + " { ?model "
    + LMKG.hasVerdict.n3()
    + " ?verdict . ?verdict "
    + LMKG.verdictOn.n3()
    + " ?trait ; "
    + LMKG.basis.n3()
    + " ?basis } }"
)
# The graph given back, not joined with the kind's pattern: the developers an entry's own graph
# names (where its kind is stated) are kept by `project`; the join with the kinds' VALUES took
# 17 s for 2,000 models at 100,000 entries, against 0.13 s so.
_Q_DEVELOPERS = (
    "SELECT ?model ?org ?orgLabel ?g WHERE { %(values)s GRAPH ?g { ?model "
    + LMKG.developedBy.n3()
    + " ?org OPTIONAL { ?org "
    + RDFS.label.n3()
    + " ?orgLabel } } }"
)
# By organisation: joined from each model instead, an organisation's label repeated in each
# of its models' graphs made this quadratic (50 s at 10,000 entries, against 0.7 s).
# DISTINCT: an organisation's label is repeated in the graph of each entry that names it (a
# lab with 20,000 entries gave 20,000 rows, 0.6 s of a write's index update at 100,000).
_Q_ORG_LABELS = (
    "SELECT DISTINCT ?org ?label WHERE { %(values)s GRAPH ?g { ?org " + RDFS.label.n3() + " ?label } }"
)
_Q_HEAD = "SELECT ?last ?pruned WHERE { GRAPH %s { %s %s ?last OPTIONAL { %s %s ?pruned } } }" % (
    GRAPH_CHANGES.n3(),
    GRAPH_CHANGES.n3(),
    CHANGES.last.n3(),
    GRAPH_CHANGES.n3(),
    CHANGES.prunedBefore.n3(),
)
# %(values)s binds ?g to the minutes' graphs to read (bucket_graph); a catch-up reads every
# change of its look-back again, and what those changed only for the changes it has not applied.
_Q_CHANGES_SINCE = (
    "SELECT ?change ?at ?follows WHERE { %%(values)s GRAPH ?g { ?change %s ?at "
    "OPTIONAL { ?change %s ?follows } } FILTER(?at >= %%(since)d) }" % (CHANGES.at.n3(), CHANGES.follows.n3())
)
# Each change's graph and IRI written in: Oxigraph joined a VALUES (?g ?change) block after
# reading every change of the log (10 ms at 1,000 entries, where a constant pattern takes 0.1).
_Q_CHANGED = "{ GRAPH %%s { %%s %s ?at OPTIONAL { %%s %s ?entry } OPTIONAL { %%s %s ?every } } }" % (
    CHANGES.at.n3(),
    CHANGES.entry.n3(),
    CHANGES.everyEntry.n3(),
)

_Q_CHANGE_EXISTS = "ASK { GRAPH %s { %s ?p ?o } }"

_BATCH = 500
"""Entries per projection query: a VALUES block of this many IRIs stays a few tens of KB."""

log = logging.getLogger(__name__)

SCHEMA_VERSION = 7
"""Bumped when the tables change: an index file of another version is emptied and rebuilt."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS model (
  rowid INTEGER PRIMARY KEY,
  iri TEXT NOT NULL UNIQUE,
  id TEXT NOT NULL,
  label TEXT,
  label_key TEXT,
  label_missing INTEGER NOT NULL,
  kind TEXT NOT NULL,
  parameter_count INTEGER,
  parameters_missing INTEGER NOT NULL,
  active_parameter_count INTEGER,
  licence TEXT,
  open_weights INTEGER,
  release_date TEXT,
  release_missing INTEGER NOT NULL,
  release_year INTEGER,
  portable INTEGER, portable_basis TEXT,
  cheap INTEGER, cheap_basis TEXT,
  fast INTEGER, fast_basis TEXT,
  label_rank INTEGER,
  release_rank INTEGER,
  iri_rank INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS model_version ON model (version);
CREATE TABLE IF NOT EXISTS removed (model INTEGER NOT NULL, version INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS removed_version ON removed (version);
CREATE INDEX IF NOT EXISTS model_label ON model (label_missing, label_key, iri);
CREATE INDEX IF NOT EXISTS model_label_desc ON model (label_missing, label_key DESC, iri);
CREATE INDEX IF NOT EXISTS model_size ON model (parameters_missing, parameter_count, iri);
CREATE INDEX IF NOT EXISTS model_size_desc ON model (parameters_missing, parameter_count DESC, iri);
CREATE INDEX IF NOT EXISTS model_released ON model (release_missing, release_date, iri);
CREATE INDEX IF NOT EXISTS model_released_desc ON model (release_missing, release_date DESC, iri);
CREATE TABLE IF NOT EXISTS developer (model INTEGER NOT NULL, org TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS developer_model ON developer (model);
CREATE INDEX IF NOT EXISTS developer_org ON developer (org, model);
CREATE TABLE IF NOT EXISTS org_label (org TEXT NOT NULL, label_key TEXT NOT NULL, PRIMARY KEY (org, label_key));
CREATE INDEX IF NOT EXISTS org_label_key ON org_label (label_key);
CREATE TABLE IF NOT EXISTS model_class (model INTEGER NOT NULL, class TEXT NOT NULL, inferred INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS model_class_class ON model_class (class, model);
CREATE INDEX IF NOT EXISTS model_class_model ON model_class (model);
CREATE TABLE IF NOT EXISTS lineage (model INTEGER NOT NULL, relation TEXT NOT NULL, target TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lineage_model ON lineage (model);
CREATE TABLE IF NOT EXISTS document (model INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS applied_change (change TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS model_text USING fts5(label, description, tokenize='trigram');
CREATE VIRTUAL TABLE IF NOT EXISTS description_text USING fts5(description, tokenize='trigram');
"""


RANK_STEP = 1 << 32
"""The distance between neighbouring sort ranks after a rebuild: room for 32 halvings."""

_RANKED: dict[str, tuple[str, str]] = {
    # rank column -> (the rows it ranks, the text it orders by)
    "label_rank": ("label_missing = 0", "label_key"),
    "release_rank": ("release_missing = 0", "release_date"),
    "iri_rank": ("1 = 1", "iri"),
}


def place_rank(db: sqlite3.Connection, column: str, value: str | None, version: int) -> int | None:
    """The sort rank of a row whose key is `value` among the rows already in the index: the
    rank of an equal key, else one between the ranks of the keys either side (found by the
    B-tree index on the key); when there is no integer left between them, the ranks of the
    keys nearest it are spread out first (`_respread`)."""
    if value is None:
        return None
    rows, key = _RANKED[column]
    same = db.execute(f"SELECT {column} FROM model WHERE {rows} AND {key} = ? LIMIT 1", (value,)).fetchone()
    if same is not None:
        return int(same[0])
    below = db.execute(
        f"SELECT {column} FROM model WHERE {rows} AND {key} < ? ORDER BY {key} DESC LIMIT 1", (value,)
    ).fetchone()
    above = db.execute(
        f"SELECT {column} FROM model WHERE {rows} AND {key} > ? ORDER BY {key} LIMIT 1", (value,)
    ).fetchone()
    if below is None and above is None:
        return 0
    if below is None:
        return int(above[0]) - RANK_STEP
    if above is None:
        return int(below[0]) + RANK_STEP
    if int(above[0]) - int(below[0]) >= 2:
        return (int(above[0]) + int(below[0])) // 2
    return _respread(db, column, value, version)


MIN_GAP = 1 << 16
"""After `_respread`, at least this far between neighbouring ranks of the keys it moved."""


def _respread(db: sqlite3.Connection, column: str, value: str, version: int) -> int:
    """Room for `value` among the ranks of its neighbours, made locally: the distinct keys
    nearest it on each side (8, then 16, 32, ...: until their ranks span MIN_GAP a key) are
    given evenly spaced ranks in the span between the keys just outside them, in the same
    order; their rows are stamped `version`, so each worker's columns reload those rows alone.

    Keys that arrive in order (ids with a counter, labels with a number) halve the same gap
    each time: after 32 of them there was no room, and the whole column was numbered afresh,
    every row stamped, every worker's columns reloaded whole. At 100,000 entries that held the
    index's write lock 2 s, and every read waited (bench/RESULTS.md, "The third pass")."""
    rows, key = _RANKED[column]
    size = 8
    while True:
        lower = db.execute(
            f"SELECT {key}, min({column}) FROM model WHERE {rows} AND {key} < ? "
            f"GROUP BY {key} ORDER BY {key} DESC LIMIT ?",
            (value, size + 1),
        ).fetchall()
        upper = db.execute(
            f"SELECT {key}, min({column}) FROM model WHERE {rows} AND {key} > ? "
            f"GROUP BY {key} ORDER BY {key} LIMIT ?",
            (value, size + 1),
        ).fetchall()
        inside_lower, inside_upper = lower[:size], upper[:size]
        keys = [k for k, _ in reversed(inside_lower)] + [value] + [k for k, _ in inside_upper]
        slots = len(keys) + 1
        # Past the first or the last key there is room without limit.
        low = int(lower[size][1]) if len(lower) > size else int(inside_lower[-1][1]) - RANK_STEP * slots
        high = int(upper[size][1]) if len(upper) > size else int(inside_upper[-1][1]) + RANK_STEP * slots
        step = (high - low) // slots
        if step >= MIN_GAP:
            placed = low
            for number, each in enumerate(keys, start=1):
                if each == value:
                    placed = low + number * step
                else:
                    db.execute(
                        f"UPDATE model SET {column} = ?, version = ? WHERE {rows} AND {key} = ?",
                        (low + number * step, version, each),
                    )
            return placed
        size *= 2


def index_path(settings: Settings) -> Path:
    """Where the index of this store lives (see the module docstring)."""
    if settings.read_index:
        return Path(settings.read_index)
    # `lmkg serve` reaches the embedded store through an Oxigraph server on a port of its own
    # each start (settings.store is then that server's URL): the index stays beside the
    # directory, not in a new file per port that each start would rebuild.
    embedded = settings.served_store or (None if settings.is_remote else settings.store)
    if embedded is not None:
        store = Path(embedded)
        return store.with_name(store.name + ".readindex.sqlite")
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "lmkg"
    digest = hashlib.sha256(settings.store.encode()).hexdigest()[:16]
    return base / f"readindex-{digest}.sqlite"


# -- the projection -----------------------------------------------------------------


@dataclass
class ModelRow:
    """One entry as the index holds it."""

    iri: str
    kind: str
    labels: set[str] = field(default_factory=set)
    descriptions: set[str] = field(default_factory=set)
    parameter_counts: set[int] = field(default_factory=set)
    active_parameter_counts: set[int] = field(default_factory=set)
    release_dates: set[str] = field(default_factory=set)
    licences: set[str] = field(default_factory=set)
    open_weights: set[bool] = field(default_factory=set)
    lineage: set[tuple[str, str]] = field(default_factory=set)
    classes: dict[str, bool] = field(default_factory=dict)  # class -> inferred
    developers: dict[str, set[str]] = field(default_factory=dict)  # org -> names shown
    bases: dict[str, str] = field(default_factory=dict)  # verdict -> its basis

    @property
    def id(self) -> str:
        return model_id_of(self.iri) or self.iri

    def verdict(self, name: str) -> int | None:
        yes, no = _VERDICTS[name]
        if str(yes) in self.classes:
            return 1
        if no is None or str(no) in self.classes:
            return 0  # before three-valued verdicts, not inferred portable meant not portable
        return None

    def values(self) -> dict[str, Any]:
        label = min(self.labels) if self.labels else None
        released = min(self.release_dates) if self.release_dates else None
        year = int(released[:4]) if released and released[:4].isdigit() else None
        size = max(self.parameter_counts) if self.parameter_counts else None
        return {
            "iri": self.iri,
            "id": self.id,
            "label": label,
            "label_key": label.lower() if label is not None else None,
            "label_missing": int(label is None),
            "kind": self.kind,
            "parameter_count": size,
            "parameters_missing": int(size is None),
            "active_parameter_count": max(self.active_parameter_counts)
            if self.active_parameter_counts
            else None,
            "licence": min(self.licences) if self.licences else None,
            "open_weights": int(min(self.open_weights)) if self.open_weights else None,
            "release_date": released,
            "release_missing": int(released is None),
            "release_year": year,
            "portable": self.verdict("portable"),
            "portable_basis": self.bases.get("portable"),
            "cheap": self.verdict("cheapToFineTune"),
            "cheap_basis": self.bases.get("cheapToFineTune"),
            "fast": self.verdict("fast"),
            "fast_basis": self.bases.get("fast"),
        }


def _values(name: str, terms: Iterable[Identifier] | None) -> str:
    if terms is None:
        return ""
    return "VALUES ?%s { %s }" % (name, " ".join(t.n3() for t in terms))


def _python(term: Identifier | None) -> Any:
    return term.toPython() if isinstance(term, Literal) else None


def _iso_date(term: Identifier) -> str | None:
    value = _python(term)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(term) if isinstance(term, Literal) else None


_REBUILD_BATCH = 2000
"""Entries per projection query of a rebuild: each query stays well under a second at 100,000
entries, where one query over every entry took 15-18 s and passed LMKG_QUERY_TIMEOUT (the
served store's own limit) on a loaded machine, so that the service never built its index."""


def _among(name: str, terms: Sequence[Identifier]) -> str:
    """`?name` restricted to `terms`, as a subquery: Oxigraph joined a bare VALUES block with
    the kinds' VALUES block first (4.3 s for 500 models at 100,000 entries, against 0.5 s)."""
    return "{ SELECT ?%s WHERE { %s } }" % (name, _values(name, terms))


_TSV_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_TSV_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]*\.[0-9]+")


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "uU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return _TSV_ESCAPES.get(code, code)


def _tsv_term(token: str, datatypes: dict[str, URIRef]) -> Identifier | None:
    """One term of a SPARQL TSV result (Turtle's syntax), as rdflib's; None when unbound."""
    if not token:
        return None
    first = token[0]
    if first == "<":
        return URIRef(token[1:-1])
    if first == '"':
        end = token.rindex('"')
        lexical = token[1:end]
        if "\\" in lexical:
            lexical = _TSV_ESCAPE.sub(_unescape, lexical)
        rest = token[end + 1 :]
        if rest.startswith("^^<"):
            datatype = datatypes.get(rest)
            if datatype is None:
                datatype = datatypes[rest] = URIRef(rest[3:-1])
            return Literal(lexical, datatype=datatype)
        if rest.startswith("@"):
            return Literal(lexical, lang=rest[1:])
        return Literal(lexical)
    if token.startswith("_:"):
        return BNode(token[2:])
    if token in ("true", "false"):
        return Literal(token, datatype=XSD.boolean)
    if _INTEGER.fullmatch(token):
        return Literal(token, datatype=XSD.integer)
    if _DECIMAL.fullmatch(token):
        return Literal(token, datatype=XSD.decimal)
    return Literal(token, datatype=XSD.double)


def select_tsv(store: Store, query: str) -> list[dict[str, Identifier]]:
    """A SELECT's solutions as store.select gives them, read from the engine's TSV."""
    body = store.execute(
        query, select_format="text/tab-separated-values", graph_format="application/n-triples"
    ).body.decode("utf-8")
    lines = body.split("\n")
    names = [name[1:] for name in lines[0].split("\t")]
    datatypes: dict[str, URIRef] = {}
    terms: dict[str, Identifier | None] = {}  # the same IRI or literal in many rows: read once
    rows: list[dict[str, Identifier]] = []
    for line in lines[1:]:
        if not line:
            continue
        row: dict[str, Identifier] = {}
        for name, token in zip(names, line.split("\t"), strict=True):
            term = terms.get(token)
            if term is None:
                term = _tsv_term(token, datatypes)
                if term is None:
                    continue
                if len(terms) < 100_000:
                    terms[token] = term
            row[name] = term
        rows.append(row)
    return rows


def project(
    store: Store, models: Sequence[URIRef] | None, *, org_labels: bool = True
) -> tuple[dict[str, ModelRow], dict[str, set[str]]]:
    """The index rows of `models` (all entries when None) read from the store, and the labels
    (lower case) of the organisations they name, read from every graph (with `org_labels`
    False, only those the rows' own graphs give). An IRI with no entry has no row."""
    rows: dict[str, ModelRow] = {}
    orgs: dict[str, set[str]] = {}
    kind_graphs: dict[str, set[str]] = defaultdict(set)  # where each entry's kind is stated

    def kinds(solutions: Iterable[Mapping[str, Identifier]]) -> None:
        for solution in solutions:
            iri = str(solution["model"])
            kind = _KIND_OF[solution["kindClass"]]  # type: ignore[index]
            kind_graphs[iri].add(str(solution["g"]))
            if iri not in rows or kind < rows[iri].kind:
                rows[iri] = ModelRow(iri, kind)

    # Every entry: listed by one query, then read in batches (each query's answer serialised
    # by the engine as TSV and read here, five times faster than a solution turned into
    # rdflib terms by the client).
    select = store.select if models is not None else partial(select_tsv, store)
    if models is None:
        kinds(select(_Q_KINDS % {"values": ""}))
        listed, size = sorted(URIRef(i) for i in rows), _REBUILD_BATCH
    else:
        listed, size = list(models), _BATCH
    for start in range(0, len(listed), size):
        batch = listed[start : start + size]
        if models is not None:
            kinds(select(_Q_KINDS % {"values": _among("model", batch)}))
        present = [m for m in batch if str(m) in rows]
        if not present:
            continue
        values = {"values": _among("model", present)}
        for solution in select(_Q_FACTS % values):
            row = rows.get(str(solution["model"]))
            if row is None:
                continue
            _add_fact(row, _FACT_PROPERTIES[solution["p"]], solution["o"])  # type: ignore[index]
        for solution in select(_Q_TYPES % values):
            row = rows.get(str(solution["model"]))
            if row is not None:
                cls = str(solution["class"])
                row.classes[cls] = row.classes.get(cls, False) or solution["g"] == GRAPH_INFERRED
        for solution in select(_Q_BASES % values):
            row = rows.get(str(solution["model"]))
            if row is not None:
                row.bases[str(solution["trait"])] = str(solution["basis"])
        for solution in select(_Q_DEVELOPERS % values):
            row = rows.get(str(solution["model"]))
            if row is None or str(solution["g"]) not in kind_graphs[row.iri]:
                continue
            org = solution["org"]
            label = solution.get("orgLabel")
            names = row.developers.setdefault(str(org), set())
            names.add(str(label) if label is not None else str(org))
    if not org_labels:
        for row in rows.values():
            for org_iri, given in row.developers.items():
                orgs.setdefault(org_iri, set()).update(n.lower() for n in given if n != org_iri)
        return rows, orgs
    named = sorted({URIRef(org) for row in rows.values() for org in row.developers})
    label_rows = []
    for start in range(0, len(named), _BATCH):
        label_rows += store.select(_Q_ORG_LABELS % {"values": _values("org", named[start : start + _BATCH])})
    for solution in label_rows:
        orgs.setdefault(str(solution["org"]), set()).add(str(solution["label"]).lower())
    for row in rows.values():
        for named_org in row.developers:
            orgs.setdefault(named_org, set())
    return rows, orgs


def _add_fact(row: ModelRow, name: str, value: Identifier) -> None:
    python = _python(value)
    if name == "label":
        row.labels.add(str(value))
    elif name == "description":
        row.descriptions.add(str(value))
    elif name in ("parameterCount", "activeParameterCount"):
        if isinstance(python, int) and not isinstance(python, bool):
            (row.parameter_counts if name == "parameterCount" else row.active_parameter_counts).add(python)
    elif name == "releaseDate":
        iso = _iso_date(value)
        if iso is not None:
            row.release_dates.add(iso)
    elif name == "license":
        row.licences.add(str(value))
    elif name == "openWeights":
        if isinstance(python, bool):
            row.open_weights.add(python)
    elif name in ("fineTunedFrom", "variantOf") and isinstance(value, URIRef):
        row.lineage.add((name, model_id_of(str(value)) or str(value)))


# -- the change log -------------------------------------------------------------------


def bucket_graph(stamp: int) -> URIRef:
    """The change log's graph for the minute of `stamp` (ns since the epoch)."""
    return GRAPH_CHANGE_NS[f"minute/{stamp // BUCKET_NS}"]


def _buckets(since: int, until: int) -> list[URIRef]:
    """The minutes' graphs that hold every change stamped from `since` to `until`."""
    return [bucket_graph(n * BUCKET_NS) for n in range(since // BUCKET_NS, until // BUCKET_NS + 1)]


def _stamp_of(change: str) -> int | None:
    """The stamp a change's IRI begins with (`changes/{stamp:020d}-{random}`)."""
    name = change[len(str(GRAPH_CHANGE_NS)) :] if change.startswith(str(GRAPH_CHANGE_NS)) else ""
    digits = name.split("-", 1)[0]
    return int(digits) if digits.isdigit() else None


@dataclass
class ChangeRecord:
    """What a write adds to the change log: the change, added to its minute's graph
    (GraphWrite.add), and the head naming it (GraphWrite.replace), with how far the log was
    pruned carried forward, or moved by the expired minutes this write drops (`drop`)."""

    add: dict[URIRef, Graph]
    head: dict[URIRef, Graph]
    drop: dict[URIRef, Graph]


def change_record(
    entries: Iterable[URIRef],
    *,
    every_entry: bool = False,
    pruned_before: int | None = None,
    follows: str | None = None,
) -> ChangeRecord:
    """The change log's part of a write that changes `entries` (or, with `every_entry`, any),
    linked to `follows`, the head's last change when it was written (as a revision names its
    parent): an index that applied that change needs only this one, however much was pruned.

    `pruned_before` is the head's (`ReadIndex.head`); None
    for a store that has none yet, which starts it one retention period back. Expired minutes
    from there on are dropped, at most PRUNE_PER_WRITE of them."""
    stamp = time.time_ns()
    change = GRAPH_CHANGE_NS[f"{stamp:020d}-{uuid.uuid4().hex[:12]}"]
    graph = Graph()
    graph.add((change, CHANGES.at, Literal(stamp, datatype=XSD.integer)))
    for entry in entries:
        graph.add((change, CHANGES.entry, entry))
    if every_entry:
        graph.add((change, CHANGES.everyEntry, Literal(True)))
    if follows:
        graph.add((change, CHANGES.follows, URIRef(follows)))
    expired_until = (stamp - RETENTION_NS) // BUCKET_NS * BUCKET_NS  # minutes wholly expired
    pruned = expired_until if pruned_before is None else pruned_before
    drop: dict[URIRef, Graph] = {}
    while pruned < expired_until and len(drop) < PRUNE_PER_WRITE:
        drop[bucket_graph(pruned)] = Graph()
        pruned = (pruned // BUCKET_NS + 1) * BUCKET_NS
    head = Graph()
    head.add((GRAPH_CHANGES, CHANGES.last, change))
    head.add((GRAPH_CHANGES, CHANGES.prunedBefore, Literal(pruned, datatype=XSD.integer)))
    return ChangeRecord({bucket_graph(stamp): graph}, {GRAPH_CHANGES: head}, drop)


def is_change_graph(graph_iri: URIRef) -> bool:
    return graph_iri == GRAPH_CHANGES or str(graph_iri).startswith(str(GRAPH_CHANGE_NS))


def _changes_since(
    store: Store, since: int, until: int, follows: dict[str, str] | None = None
) -> list[tuple[str, int]]:
    """(change, stamp) of the changes stamped from `since`, read from the minutes' graphs up
    to `until` (the engine's TSV read here: a busy minute holds hundreds of changes); into
    `follows`, the change each names as its parent, where it names one."""
    query = _Q_CHANGES_SINCE % {"values": _values("g", _buckets(since, until)), "since": since}
    body = store.execute(
        query, select_format="text/tab-separated-values", graph_format="application/n-triples"
    ).body.decode("utf-8")
    found: list[tuple[str, int]] = []
    for line in body.split("\n")[1:]:
        if line:
            change, at, parent = line.split("\t")
            found.append((change[1:-1], int(at.split('"')[1] if at.startswith('"') else at)))
            if follows is not None and parent.startswith("<"):
                follows[change[1:-1]] = parent[1:-1]
    return found


def _leads_back(head: str, applied: str, follows: Mapping[str, str]) -> bool:
    """Whether the changes from `head`, each to the one it follows, reach `applied`: then
    every change written after `applied` is still in the log (a change written beside another,
    following the same parent, is read by the look-back)."""
    change, steps = head, 0
    while change != applied:
        parent = follows.get(change)
        if parent is None or steps > len(follows):
            return False
        change, steps = parent, steps + 1
    return True


def _changed(store: Store, changes: Mapping[str, int]) -> tuple[set[str], bool]:
    """The entries `changes` (change -> stamp) name, and whether one changed every entry."""
    entries: set[str] = set()
    every = False
    items = sorted(changes.items())
    for start in range(0, len(items), _BATCH):
        unions = " UNION ".join(
            _Q_CHANGED % (bucket_graph(at).n3(), *[URIRef(c).n3()] * 3)
            for c, at in items[start : start + _BATCH]
        )
        for row in store.select(f"SELECT ?entry ?every WHERE {{ {unions} }}"):
            if row.get("entry") is not None:
                entries.add(str(row["entry"]))
            every = every or _python(row.get("every")) is True
    return entries, every


# -- answers --------------------------------------------------------------------------


def _three(value: str | None) -> Verdict:
    """The reference's verdict filter ("true", "false", "unknown") as the index's."""
    return {"true": True, "false": False, "unknown": "unknown"}.get(value) if value is not None else None  # type: ignore[return-value]


@dataclass(frozen=True)
class IndexFilter:
    """The filters of GET /models as the index answers them: ModelFilter's, with verdicts
    three-valued ("unknown": neither class inferred) and `fast`."""

    kind: str | None = None
    portable: Verdict = None
    cheap_to_fine_tune: Verdict = None
    fast: Verdict = None
    developer: str | None = None
    capability: URIRef | None = None
    min_parameters: int | None = None
    max_parameters: int | None = None
    open_weights: bool | None = None
    search: str | None = None

    @classmethod
    def of(cls, filters: ModelFilter) -> IndexFilter:
        return cls(
            kind=filters.kind,
            portable=_three(filters.portable),
            cheap_to_fine_tune=_three(filters.cheap_to_fine_tune),
            fast=_three(filters.fast),
            developer=filters.developer,
            capability=filters.capability,
            min_parameters=filters.min_parameters,
            max_parameters=filters.max_parameters,
            open_weights=filters.open_weights,
            search=filters.search,
        )


@dataclass(frozen=True)
class Charts:
    """The charts page's data: points (all, or an even sample), size-by-year bins, counts per year."""

    points: str  # a JSON array of {id, label, kind, parameterCount, releaseDate}, by date then IRI
    points_total: int
    bins: list[tuple[int, int, str, int]]  # year, floor(log10(size)), kind, models
    per_year: list[tuple[int, str, int]]  # year, kind, models


@dataclass(frozen=True)
class IndexedPage:
    total: int
    models: list[ModelSummary]  # the same summaries as the SPARQL reference gives
    facets: dict[str, dict[str, int]] | None = None


FACET_LIMIT = 50
"""The most values a developer or licence facet lists (the most frequent first)."""


def _where(filters: IndexFilter) -> tuple[str, list[str], list[Any]]:
    """The FROM/JOIN text, WHERE clauses and parameters that select the filtered models."""
    source = "model m"
    clauses: list[str] = []
    params: list[Any] = []
    if filters.kind is not None:
        clauses.append("m.kind = ?")
        params.append(filters.kind)
    for name, value in (
        ("portable", filters.portable),
        ("cheap", filters.cheap_to_fine_tune),
        ("fast", filters.fast),
    ):
        if value == "unknown":
            clauses.append(f"m.{name} IS NULL")
        elif value is not None:
            clauses.append(f"m.{name} = ?")
            params.append(int(value))
    if filters.developer:
        name = filters.developer.strip()
        # A set of row ids from the developer index, not a probe per model (82 ms to 1 ms at 10k).
        clauses.append(
            "m.rowid IN (SELECT model FROM developer WHERE org = ? OR org IN "
            "(SELECT org FROM org_label WHERE label_key = ?))"
        )
        params += [str(ORG[slugify(name)]), name.lower()]
    if filters.capability is not None:
        clauses.append("m.rowid IN (SELECT model FROM model_class WHERE class = ?)")
        params.append(str(filters.capability))
    if filters.min_parameters is not None:
        clauses.append("m.parameter_count >= ?")
        params.append(filters.min_parameters)
    if filters.max_parameters is not None:
        clauses.append("m.parameter_count <= ?")
        params.append(filters.max_parameters)
    if filters.open_weights is not None:
        clauses.append("m.open_weights = ?")
        params.append(int(filters.open_weights))
    text = (filters.search or "").strip().lower()
    if text:
        if len(text) >= 3:
            # The trigram tokenizer matches a phrase anywhere in a word, as CONTAINS does.
            source = "model_text t JOIN model m ON m.rowid = t.rowid"
            clauses.append("model_text MATCH ?")
            params.append('"' + text.replace('"', '""') + '"')
        else:  # shorter than a trigram: a scan
            clauses.append(
                "m.rowid IN (SELECT rowid FROM model_text WHERE instr(lower(label), ?) > 0 "
                "OR instr(lower(description), ?) > 0)"
            )
            params += [text, text]
    return source, clauses, params


def _verdict_filters(filters: IndexFilter) -> list[tuple[str, int]]:
    """The verdict and open-weights filters as (column, code) pairs of lmkg.readcolumns."""
    return [
        (column, UNKNOWN if value == "unknown" else int(value))
        for column, value in (
            ("portable", filters.portable),
            ("cheap", filters.cheap_to_fine_tune),
            ("fast", filters.fast),
            ("open_weights", filters.open_weights),
        )
        if value is not None
    ]


_POWERS_OF_TEN = 10 ** np.arange(19, dtype=np.int64)


Hits = tuple[npt.NDArray[np.int64], tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None]
"""Row ids a search found, and for each whether the text is in its label and in its
description (None: a scan, unranked)."""

LABEL_WEIGHT = 10.0
"""How much more a hit in the label counts than one in the description."""
BM25_K1, BM25_B = 1.2, 0.75
"""BM25's usual parameters (term-frequency saturation, length normalisation)."""


def _searched(db: sqlite3.Connection, filters: IndexFilter) -> Hits | None:
    """The rows whose name or description hold the search text (None: no search), from
    SQLite's FTS5 table, with the fields it is in (see `_relevance`). Read before the columns'
    lock is taken, in the caller's snapshot: other readers' filters and pages go on meanwhile.

    The hits come back as one row of a comma-separated list: Python's sqlite3 lets the GIL go
    around each step of a query and takes it back for each row, so a search with 5,544 hits
    (`kestrel` at 100k) waited for the GIL 5,544 times behind the other requests' threads (235
    ms p50 with four clients, against 31 ms with one). Each field is matched on its own, and
    FTS5's bm25() is not asked for: it cost 20-30 ms of a 24-38 ms search at 100k, where the
    two matches cost 2-6 ms."""
    text = (filters.search or "").strip().lower()
    if not text:
        return None
    if len(text) >= 3:
        # The trigram tokenizer matches a phrase anywhere in a word, as CONTAINS does.
        phrase = '"' + text.replace('"', '""') + '"'
        # The descriptions from a table of their own: matched in model_text's description
        # column, FTS5 read the trigrams' lists of both columns (2.3 ms for none of 100,000
        # descriptions holding "kestrel", against 0.04 ms so).
        fields = []
        for table, match in (("model_text", f"label : {phrase}"), ("description_text", phrase)):
            (found,) = db.execute(
                f"SELECT group_concat(rowid) FROM {table} WHERE {table} MATCH ?", (match,)
            ).fetchone()
            fields.append(_numbers(found, np.int64))
        in_label, in_description = fields  # each in rowid order, as FTS5 gives them
        if not len(in_description):
            return in_label, (np.ones(len(in_label), dtype=bool), np.zeros(len(in_label), dtype=bool))
        hits = np.union1d(in_label, in_description)
        return hits, (_members(hits, in_label), _members(hits, in_description))
    # Shorter than a trigram: a scan.
    (found,) = db.execute(
        "SELECT group_concat(rowid) FROM model_text "
        "WHERE instr(lower(label), ?) > 0 OR instr(lower(description), ?) > 0",
        (text, text),
    ).fetchone()
    return _numbers(found, np.int64), None


def _members(rows: npt.NDArray[np.int64], of: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which of the sorted `rows` are in the sorted `of` (a binary search, not a hash)."""
    at = np.searchsorted(of, rows)
    return (at < len(of)) & (of[np.minimum(at, len(of) - 1)] == rows) if len(of) else np.zeros(len(rows), dtype=bool)


def _relevance(
    columns: Columns, hits: npt.NDArray[np.int64], in_label: npt.NDArray[np.bool_], in_description: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Each hit's score, lower first (as FTS5's bm25()): BM25 for a phrase that occurs once in
    each field it is in. A hit in the label weighs LABEL_WEIGHT times one in the description,
    a shorter label ranks higher than a longer one (the label's length against the average of
    every label); the description is taken at its average length. The phrase's rarity, the
    same for every hit, changes no order and is left out."""
    alive_lengths = columns.label_length[columns.alive]
    average = float(alive_lengths.mean()) if len(alive_lengths) else 1.0
    length = columns.label_length[hits].astype(np.float64)
    in_label_score = (BM25_K1 + 1) / (1 + BM25_K1 * (1 - BM25_B + BM25_B * length / max(average, 1.0)))
    return -(LABEL_WEIGHT * in_label_score * in_label + 1.0 * in_description)


def _numbers(listed: str | None, dtype: type[Any]) -> Any:
    """A comma-separated list from group_concat (None when nothing was found) as an array,
    parsed by numpy: a list of strings converted took 0.8 ms of a search with 5,544 hits."""
    return np.fromstring(listed, dtype=dtype, sep=",") if listed else np.zeros(0, dtype=dtype)


def _snapshot_version(db: sqlite3.Connection) -> tuple[str, int]:
    """The epoch and version of the index that `db`'s read snapshot sees."""
    meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('epoch', 'version')"))
    return str(meta.get("epoch") or ""), int(meta.get("version") or 0)


def _selected(
    columns: Columns, filters: IndexFilter, among: npt.NDArray[np.int64] | None
) -> npt.NDArray[np.bool_]:
    """The rows of `columns` that pass `filters` (`among`: the rows search or developer chose)."""
    return columns.mask(
        kind=filters.kind,
        verdicts=_verdict_filters(filters),
        capability=str(filters.capability) if filters.capability is not None else None,
        min_size=filters.min_parameters,
        max_size=filters.max_parameters,
        among=among,
    )


def _chosen(
    db: sqlite3.Connection, columns: Columns, filters: IndexFilter, hits: Hits | None
) -> tuple[npt.NDArray[np.int64] | None, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None]:
    """The row ids that the developer and search filters allow (None: no such filter), and the
    search's scores: organisations named so from SQLite, their models from the columns; the
    search's `hits` from `_searched`."""
    among: npt.NDArray[np.int64] | None = None
    if filters.developer:
        name = filters.developer.strip()
        orgs = {str(ORG[slugify(name)])} | {
            r[0] for r in db.execute("SELECT org FROM org_label WHERE label_key = ?", (name.lower(),))
        }
        among = columns.developed_by(orgs)
    if hits is None:
        return among, None
    found, fields = hits
    among = found if among is None else np.intersect1d(among, found)
    if fields is None:
        return among, None
    found = found[found < len(columns.alive)]  # rows written after these columns' version
    in_label, in_description = fields[0][: len(found)], fields[1][: len(found)]
    return among, (found, _relevance(columns, found, in_label, in_description))


_ORDER = {
    "label": ("m.label_missing", "m.label_key"),
    "parameterCount": ("m.parameters_missing", "m.parameter_count"),
    "releaseDate": ("m.release_missing", "m.release_date"),
}


def _summary(r: Sequence[Any], names: Mapping[int, list[str]]) -> ModelSummary:
    """A listed model from its `model` row (rowid, id, iri, label, kind, parameter_count,
    release_date, licence, open_weights, portable, cheap, fast, and the three bases)."""
    return ModelSummary(
        id=r[1],
        iri=r[2],
        label=r[3] if r[3] is not None else r[1],
        kind=r[4],
        parameter_count=r[5],
        developer=names.get(r[0], []),
        release_date=r[6],
        license=r[7],
        open_weights=None if r[8] is None else bool(r[8]),
        portable=None if r[9] is None else bool(r[9]),
        cheap_to_fine_tune=None if r[10] is None else bool(r[10]),
        fast=None if r[11] is None else bool(r[11]),
        bases={"portable": r[12] or "none", "cheapToFineTune": r[13] or "none", "fast": r[14] or "none"},
    )


class ReadIndex:
    """The SQLite read index of one store (see the module docstring)."""

    def __init__(self, path: Path, store: Store) -> None:
        self.path = path
        self.store = store
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._sync_lock = threading.Lock()
        self._confirmed_generation: int | None = None
        self._acknowledging = 0  # writes of this process committed or committing, not yet taken in
        self._owed: int | None = None  # a change count with acknowledged writes the index may not have
        self._acknowledging_lock = threading.Lock()
        self._version = 0  # the version the open write transaction stamps its rows with
        self._columns = Columns()
        self._columns_lock = threading.Lock()
        self._checkpointer: threading.Thread | None = None
        self.checkpoints = 0  # turns of the background checkpointer that found frames to copy back
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                listed = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
                virtual = [name for name, sql in listed if (sql or "").upper().startswith("CREATE VIRTUAL")]
                for table, _ in listed:  # a full-text table's own tables go with it
                    if table in virtual or not any(table.startswith(f"{v}_") for v in virtual):
                        db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.executescript(_SCHEMA)

    # -- connections --------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # One connection a thread: SQLite in WAL mode reads in parallel across them.
            db = sqlite3.connect(self.path, timeout=300, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous=NORMAL")
            if self._checkpointer is not None:
                db.execute("PRAGMA wal_autocheckpoint=0")  # see checkpoint_in_background
            # 512 KB of pages each (SQLite's default is 2 MB): a worker has a connection for
            # each of its request threads (up to 40), and the OS caches the file for all.
            db.execute("PRAGMA cache_size=-512")
            self._local.db = db
        return db

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        yield self._db()

    def checkpoint_in_background(self, every: float = 1.0) -> None:
        """Copy the write-ahead log back into the index file from a thread of its own, every
        `every` seconds, instead of in the write that fills it past 1,000 pages (SQLite's
        default): at 100,000 entries that write took 0.6-0.8 s instead of 60 ms, one POST in
        ten (bench/RESULTS.md, "The fourth pass"). For a long-running service; a command's
        own connections keep SQLite's default. Connections opened from now on leave the log to
        this thread, and so does this thread's (the one that opened the index, at start-up)."""
        if self._checkpointer is not None:
            return
        self._checkpointer = threading.Thread(
            target=self._checkpoint_every, args=(every,), name="lmkg-index-checkpoint", daemon=True
        )
        self._db().execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer.start()

    def _checkpoint_every(self, every: float) -> None:
        while True:
            time.sleep(every)
            try:
                # PASSIVE: as far as readers and writers allow, waiting for neither.
                _, _, copied = self._db().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.checkpoints += int(copied) > 0
            except sqlite3.Error as exc:  # another worker's checkpoint, say: the next turn
                log.debug("the read index's checkpoint waits: %s", exc)

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once: one process at a time changes the index."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._version = int(self._meta(db, "version") or 0) + 1
            self._set_meta(db, "version", str(self._version))
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def _meta(self, db: sqlite3.Connection, key: str) -> str | None:
        found = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(found[0]) if found is not None else None

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- keeping it current -------------------------------------------------------

    def head(self) -> tuple[str, int | None]:
        """The change log's head: the last change ("" when none) and its `prunedBefore`."""
        rows = self.store.select(_Q_HEAD)
        if not rows:
            return "", None
        pruned = _python(rows[0].get("pruned"))
        return str(rows[0]["last"]), int(pruned) if isinstance(pruned, int) else None

    def sync(self, *, taking_in: bool = False) -> None:
        """Bring the index up to the store's last change (see the module docstring).
        `taking_in`: for a write of this process before it is acknowledged, which waits for any
        catch-up under way and then takes itself in; a read may go on without (`acknowledging`)."""
        # Every write completed by now (the one in progress, not acknowledged, may wait): the
        # store's change count when the last of them let the store's lock go.
        generation = self.store.completed_generation()
        if self._current_at(generation):
            return  # nothing was written since this process last saw the index current
        if (
            not taking_in
            and generation is not None
            and self._acknowledging
            and self._sync_lock.locked()
            and not self._owing()
        ):
            # Another thread is bringing the index up to date while a write of this process
            # waits for it before it is acknowledged: a read that began meanwhile is concurrent
            # with that write and need not see it, and what the other workers sharing this file
            # acknowledged is in the file already. It reads the index as it stands instead of
            # queueing behind the catch-up: under the mixed workload at 100,000 entries every
            # write stopped all reads for as long (bench/RESULTS.md, "The fifth pass").
            return
        with self._sync_lock:
            if self._current_at(generation):
                return  # another thread of this process synced while this one waited
            head, pruned_before = self.head()  # read before the changes: a later one moves it
            db = self._db()
            if self._meta(db, "head") != head or self._meta(db, "built") is None:
                with self._writing() as db:
                    if self._meta(db, "built") is None:
                        self._rebuild_in(db, head)
                    elif self._meta(db, "head") != head:
                        self._catch_up(db, head, pruned_before)
            self._confirmed_generation = generation

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around a write of this process, from before it commits until the index has taken it
        in (it is acknowledged after): while one is under way, `sync` lets a read go on
        without waiting for another thread's catch-up. Only on a store with a change count:
        another service on a remote store keeps an index of its own, which a read must still
        ask for the writes that service acknowledged."""
        with self._acknowledging_lock:
            self._acknowledging += 1
        try:
            yield
        finally:
            with self._acknowledging_lock:
                self._acknowledging -= 1

    def owe(self, generation: int | None) -> None:
        """Writes up to the change count `generation` were acknowledged without this index
        taking them in (a bulk import's batches, or a catch-up the store refused): until a sync
        passes that count, every read syncs, whatever else is under way (None: a count not
        known, and every read syncs from now on)."""
        with self._acknowledging_lock:
            self._owed = max(self._owed or 0, generation) if generation is not None else -1

    def _owing(self) -> bool:
        owed, confirmed = self._owed, self._confirmed_generation
        return owed is not None and (owed < 0 or confirmed is None or confirmed < owed)

    def _current_at(self, generation: int | None) -> bool:
        """Whether the index holds every write completed by the change count `generation`:
        a sync that began at that count or later has ended (the count only grows). Compared
        for equality only, a read that came during a write, or saw the count of an older
        write than the last sync's, read the change log's head again, one request after
        another behind the lock: 4% of the mixed workload's reads at 100k waited 0.2-1 s."""
        confirmed = self._confirmed_generation
        return generation is not None and confirmed is not None and generation <= confirmed

    def rebuild(self) -> int:
        """Project every entry afresh (`lmkg reindex`); the number of models indexed."""
        with self._sync_lock:
            head = self.head()[0]
            with self._writing() as db:
                count = self._rebuild_in(db, head)
            self._confirmed_generation = None
        return count

    def _rebuild_in(self, db: sqlite3.Connection, head: str) -> int:
        now = time.time_ns()
        since = now - LOOKBACK_NS  # a later catch-up reads these again; older ones are in the rows
        changes = _changes_since(self.store, since, now + LOOKBACK_NS)
        rows, orgs = project(self.store, None)
        self.fill(db, rows, orgs)
        self._write_documents(db, list(rows), partial(select_tsv, self.store))
        db.executemany(
            "INSERT OR IGNORE INTO applied_change (change, at) VALUES (?, ?)",
            changes,
        )
        self._set_meta(db, "head", head)
        self._set_meta(db, "built", str(now))
        self._set_meta(db, "synced", str(now))
        return len(rows)

    def fill(
        self, db: sqlite3.Connection, rows: Mapping[str, ModelRow], orgs: Mapping[str, set[str]]
    ) -> None:
        """Replace the whole index with `rows` (in a write transaction): a new epoch, sort ranks
        numbered afresh."""
        for table in (
            "model",
            "developer",
            "org_label",
            "model_class",
            "lineage",
            "applied_change",
            "model_text",
            "description_text",
            "removed",
            "document",
        ):
            db.execute(f"DELETE FROM {table}")
        values = [row.values() for row in rows.values()]
        for column, (_, key) in _RANKED.items():
            distinct = sorted({v[key] for v in values if v[key] is not None})
            ranks = {value: number * RANK_STEP for number, value in enumerate(distinct)}
            for v in values:
                v[column] = ranks.get(v[key])
        for number, v in enumerate(values, start=1):
            v["rowid"] = number  # given, so that every table is written in one executemany
        self._insert(db, rows.values(), values)
        self._set_meta(db, "epoch", uuid.uuid4().hex)
        self._set_meta(db, "floor", "0")
        self._replace_org_labels(db, orgs)

    def _catch_up(self, db: sqlite3.Connection, head: str, pruned_before: int | None) -> None:
        now = time.time_ns()
        since = max(0, _latest(db) - LOOKBACK_NS)
        last = self._meta(db, "head") or ""
        follows: dict[str, str] = {}
        # Minutes before `pruned_before` are gone; the changes after them are read.
        found = _changes_since(self.store, max(since, pruned_before or 0), now + LOOKBACK_NS, follows)
        if pruned_before is not None and since < pruned_before:
            # The log was pruned past this index's last sync. Unless the head leads back to
            # the change it last applied (an index current when the writes stopped, then a
            # write an hour later), changes it has not read may be gone: 95 s at 100,000.
            if not _leads_back(head, last, follows):
                self._rebuild_in(db, head)
                return
        else:
            last_stamp = _stamp_of(last)
            if last and (
                last_stamp is None
                or not self.store.ask(_Q_CHANGE_EXISTS % (bucket_graph(last_stamp).n3(), URIRef(last).n3()))
            ):
                # The change the index last applied is gone, though not pruned: the store was
                # emptied or replaced beside the change log (or wrote it before minutes' graphs).
                self._rebuild_in(db, head)
                return
        applied = {r[0] for r in db.execute("SELECT change FROM applied_change WHERE at >= ?", (since,))}
        new = {c: at for c, at in found if c not in applied}
        entries, every = _changed(self.store, new)
        if every or (len(entries) > REBUILD_PAST and len(entries) > self.model_count() // 10):
            # After a bulk import: a rebuild reads every entry in batches of TSV, several
            # times faster than re-projecting that many one batch of terms at a time.
            self._rebuild_in(db, head)
            return
        self.refresh(db, sorted(entries))
        db.executemany("INSERT OR IGNORE INTO applied_change (change, at) VALUES (?, ?)", new.items())
        db.execute("DELETE FROM applied_change WHERE at < ?", (now - RETENTION_NS,))
        # Removals are kept as long as changes; a worker's columns older than that reload.
        pruned = db.execute(
            "SELECT max(version) FROM removed WHERE at < ?", (now - RETENTION_NS,)
        ).fetchone()[0]
        if pruned is not None:
            db.execute("DELETE FROM removed WHERE version <= ?", (pruned,))
            self._set_meta(db, "floor", str(pruned))
        self._set_meta(db, "head", head)
        self._set_meta(db, "synced", str(now))

    def refresh(self, db: sqlite3.Connection, iris: Sequence[str]) -> None:
        """Re-project the entries `iris` from the store (those without an entry are removed)."""
        if not iris:
            return
        # Organisations' labels from the rows' own graphs: the labels of one an entry named
        # before (re-projected or removed) are read afresh from the store below; for the
        # others, new entries can only add labels to those the index has.
        rows, orgs = project(self.store, [URIRef(i) for i in iris], org_labels=False)
        old_orgs: set[str] = set()
        kept: dict[str, int] = {}  # a re-projected entry keeps its row id (the columns' slot)
        for start in range(0, len(iris), _BATCH):
            part = list(iris[start : start + _BATCH])
            marks = ",".join("?" * len(part))
            found = db.execute(f"SELECT rowid, iri FROM model WHERE iri IN ({marks})", part).fetchall()
            ids = [r[0] for r in found]
            if not ids:
                continue
            kept.update((iri, rowid) for rowid, iri in found)
            row_marks = ",".join("?" * len(ids))
            old_orgs |= {
                r[0] for r in db.execute(f"SELECT org FROM developer WHERE model IN ({row_marks})", ids)
            }
            for table, column in (("developer", "model"), ("model_class", "model"), ("lineage", "model")):
                db.execute(f"DELETE FROM {table} WHERE {column} IN ({row_marks})", ids)
            db.execute(f"DELETE FROM model_text WHERE rowid IN ({row_marks})", ids)
            db.execute(f"DELETE FROM description_text WHERE rowid IN ({row_marks})", ids)
            db.execute(f"DELETE FROM document WHERE model IN ({row_marks})", ids)
            db.execute(f"DELETE FROM model WHERE rowid IN ({row_marks})", ids)
        now = time.time_ns()
        db.executemany(
            "INSERT INTO removed (model, version, at) VALUES (?, ?, ?)",
            [(rowid, self._version, now) for iri, rowid in kept.items() if iri not in rows],
        )
        values = [row.values() for row in rows.values()]
        for v in values:
            v["rowid"] = kept.get(v["iri"])
        # Rows that keep their row id first: a new row's id is SQLite's max + 1, which may be the
        # id of a kept row deleted above and not yet inserted again.
        values.sort(key=lambda v: v["rowid"] is None)
        for v in values:
            for column in _RANKED:
                v[column] = place_rank(db, column, v[_RANKED[column][1]], self._version)
            self._insert(db, [rows[v["iri"]]], [v])
        self._write_documents(db, sorted(rows), self.store.select)
        # Labels of organisations no entry names any more go; the others are read afresh.
        for org in sorted(old_orgs | set(orgs)):
            if org not in old_orgs:
                orgs[org] |= {
                    r[0] for r in db.execute("SELECT label_key FROM org_label WHERE org = ?", (org,))
                }
            elif db.execute("SELECT 1 FROM developer WHERE org = ? LIMIT 1", (org,)).fetchone() is None:
                db.execute("DELETE FROM org_label WHERE org = ?", (org,))
                orgs.pop(org, None)
            else:
                orgs[org] = {
                    str(r["label"]).lower()
                    for r in self.store.select(_Q_ORG_LABELS % {"values": _values("org", [URIRef(org)])})
                }
        self._replace_org_labels(db, orgs)

    @staticmethod
    def _write_documents(db: sqlite3.Connection, iris: Sequence[str], select: Select) -> None:
        """Read the look-up documents of the indexed entries `iris` from the store
        (lmkg.lookup, with `select`) and keep each beside its row, compressed. Past one batch,
        the store is asked for the next batch in a thread while this one is built: the engine
        answers without holding the GIL (a rebuild at 100,000 entries: 301 s, 29% of it
        waiting for the engine)."""
        batches = [[URIRef(i) for i in iris[start : start + _BATCH]] for start in range(0, len(iris), _BATCH)]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lmkg-index-fetch") as pool:
            coming = pool.submit(fetch, select, batches[0]) if batches else None
            for number, batch in enumerate(batches):
                assert coming is not None
                fetched = coming.result()
                if number + 1 < len(batches):
                    coming = pool.submit(fetch, select, batches[number + 1])
                part = [str(m) for m in batch]
                marks = ",".join("?" * len(part))
                rowids = dict(db.execute(f"SELECT iri, rowid FROM model WHERE iri IN ({marks})", part))
                db.executemany(
                    "INSERT OR REPLACE INTO document (model, body) VALUES (?, ?)",
                    [(rowids[i], zlib.compress(body, 1)) for i, body in build(fetched).items() if i in rowids],
                )

    @staticmethod
    def _replace_org_labels(db: sqlite3.Connection, orgs: Mapping[str, set[str]]) -> None:
        for org, labels in orgs.items():
            db.execute("DELETE FROM org_label WHERE org = ?", (org,))
            db.executemany("INSERT INTO org_label (org, label_key) VALUES (?, ?)", [(org, k) for k in labels])

    def _insert(
        self, db: sqlite3.Connection, rows: Iterable[ModelRow], all_values: Iterable[dict[str, Any]]
    ) -> None:
        """Insert the rows (their values with ranks, and a row id to keep when given; SQLite
        picks one otherwise), each table in one executemany."""
        models: list[dict[str, Any]] = []  # rows whose row id is given
        children: list[ModelRow] = []
        texts: list[tuple[int, str | None, str | None]] = []
        for row, given in zip(rows, all_values, strict=True):
            values = dict(given, version=self._version)
            if values.get("rowid") is None:
                values.pop("rowid", None)
                columns = ", ".join(values)
                marks = ", ".join("?" * len(values))
                values["rowid"] = db.execute(
                    f"INSERT INTO model ({columns}) VALUES ({marks})", list(values.values())
                ).lastrowid
            else:
                models.append(values)
            children.append(row)
            texts.append((values["rowid"], values["label"], "\n".join(sorted(row.descriptions)) or None))
        if models:
            names = list(models[0])
            db.executemany(
                f"INSERT INTO model ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [[m[n] for n in names] for m in models],
            )
        ids = [t[0] for t in texts]
        db.executemany("INSERT INTO model_text (rowid, label, description) VALUES (?, ?, ?)", texts)
        db.executemany(
            "INSERT INTO description_text (rowid, description) VALUES (?, ?)",
            [(rowid, description) for rowid, _, description in texts if description is not None],
        )
        db.executemany(
            "INSERT INTO developer (model, org, name) VALUES (?, ?, ?)",
            [
                (rowid, org, name)
                for rowid, row in zip(ids, children, strict=True)
                for org, names in row.developers.items()
                for name in names
            ],
        )
        db.executemany(
            "INSERT INTO model_class (model, class, inferred) VALUES (?, ?, ?)",
            [
                (rowid, cls, int(inferred))
                for rowid, row in zip(ids, children, strict=True)
                for cls, inferred in row.classes.items()
            ],
        )
        db.executemany(
            "INSERT INTO lineage (model, relation, target) VALUES (?, ?, ?)",
            [
                (rowid, relation, target)
                for rowid, row in zip(ids, children, strict=True)
                for relation, target in sorted(row.lineage)
            ],
        )

    # -- reading ---------------------------------------------------------------------

    def _columns_at(self, db: sqlite3.Connection) -> tuple[Columns, bool]:
        """This process's columns at the version of `db`'s read snapshot, and whether the
        snapshot had to be begun again (it was older than the columns, which never go back a
        version). Called under `_columns_lock`; the columns returned are never changed after,
        so the caller answers from them, and from its snapshot, after letting the lock go.

        While one reader held the lock for its whole answer, 32 readers at 100,000 entries
        queued behind it: at 100 requests/s, reads waited 0.1-6 s (bench/RESULTS.md, "The
        third pass"). A write now costs the first reader after it a copy of the columns."""
        columns = self._columns
        renewed = False
        epoch, version = _snapshot_version(db)
        if (columns.epoch and epoch != columns.epoch) or version < columns.version:
            # The snapshot may be older than the columns (an older version, or a rebuild's
            # epoch it cannot tell apart from a newer one): begun again, it cannot be.
            db.execute("COMMIT")
            db.execute("BEGIN")
            renewed = True
            epoch, version = _snapshot_version(db)
        if (epoch, version) != (columns.epoch, columns.version):
            fresh = columns.copy() if epoch == columns.epoch else Columns()
            fresh.catch_up(db)
            self._columns = columns = fresh
        return columns, renewed

    def find(
        self,
        filters: IndexFilter,
        *,
        sort: str = "label",
        descending: bool = False,
        limit: int = 50,
        offset: int = 0,
        facets: bool = False,
    ) -> IndexedPage:
        """The models that pass `filters`, sorted and paged, with their total (and facet counts):
        filtered, ordered, counted and faceted in the columns (lmkg.readcolumns); searched and
        matched by developer in SQLite; the page's rows read from SQLite, in one snapshot."""
        if sort not in INDEX_SORT_KEYS:
            raise ValueError(f"cannot sort by {sort!r}; sort by one of {', '.join(INDEX_SORT_KEYS)}")
        if limit < 1 or offset < 0:
            raise ValueError("limit must be at least 1 and offset at least 0")
        db = self._db()
        db.execute("BEGIN")  # one snapshot for the search, the columns, the page and the names
        try:
            hits = _searched(db, filters)
            with self._columns_lock:
                columns, renewed = self._columns_at(db)
            if renewed:
                # Another reader took the columns past this snapshot while this one searched:
                # search again in the snapshot begun under the lock.
                hits = _searched(db, filters)
            among, scores = _chosen(db, columns, filters, hits)
            selected = _selected(columns, filters, among)
            rows = np.flatnonzero(selected)
            ranked = sort == "relevance" and scores is not None
            if not ranked and (among is None or len(among) * 16 > len(selected)):
                # Many rows pass: the kept order, read through the mask.
                key = ("label", False) if sort == "relevance" else (sort, descending)
                window = ordered_page(columns.ordered(*key), selected, offset, limit)
            else:  # a few (a search's hits, a developer's models): their keys, partitioned
                if ranked:
                    assert scores is not None
                    score = np.full(len(selected), np.inf)
                    score[scores[0]] = scores[1]
                    primary: Any = -score[rows] if descending else score[rows]
                    secondary = columns.iri_rank[rows]
                elif sort == "relevance":  # nothing to rank by: by label
                    primary, secondary = columns.sort_keys("label", False, rows)
                else:
                    primary, secondary = columns.sort_keys(sort, descending, rows)
                window = page(rows, primary, secondary, offset, limit)
            chosen = [int(r) for r in window]
            found: dict[int, tuple[Any, ...]] = {}
            names: dict[int, list[str]] = defaultdict(list)
            if chosen:
                marks = ",".join("?" * len(chosen))
                for r in db.execute(
                    "SELECT rowid, id, iri, label, kind, parameter_count, release_date, licence, "
                    "open_weights, portable, cheap, fast, portable_basis, cheap_basis, fast_basis "
                    f"FROM model WHERE rowid IN ({marks})",
                    chosen,
                ):
                    found[r[0]] = r
                for model, name in db.execute(
                    f"SELECT DISTINCT model, name FROM developer WHERE model IN ({marks}) ORDER BY name",
                    chosen,
                ):
                    names[model].append(name)
            counted = columns.facets(rows, FACET_LIMIT) if facets else None
        finally:
            db.execute("COMMIT")
        models = [_summary(found[c], names) for c in chosen]
        return IndexedPage(len(rows), models, counted)

    def warm(self) -> None:
        """Load this process's columns now (a worker's first request would wait for them)."""
        db = self._db()
        db.execute("BEGIN")
        try:
            with self._columns_lock:
                self._columns_at(db)
        finally:
            db.execute("COMMIT")

    def window(
        self, filters: IndexFilter, *, sort: str, descending: bool, offset: int, limit: int
    ) -> tuple[int, int, list[str]]:
        """For an answer ordered by a sort key of the index and then by something it does not
        hold (a named query's ORDER BY): the number of models that pass `filters`, how many of
        them come wholly before [offset, offset + limit) by the key, and the IRIs of the models
        in that window together with every model tied by the key with its first or last."""
        db = self._db()
        db.execute("BEGIN")
        try:
            with self._columns_lock:
                columns, _ = self._columns_at(db)
            among, _ = _chosen(db, columns, filters, _searched(db, filters))
            rows = np.flatnonzero(_selected(columns, filters, among))
            end = min(offset + limit, len(rows))
            if offset >= end:
                return len(rows), len(rows), []
            primary, _ = columns.sort_keys(sort, descending, rows)
            parted = np.partition(primary, sorted({offset, end - 1}))
            low, high = parted[offset], parted[end - 1]
            before = int(np.count_nonzero(primary < low))
            chosen = [int(r) for r in rows[(primary >= low) & (primary <= high)]]
            iris: list[str] = []
            for start in range(0, len(chosen), _BATCH):
                part = chosen[start : start + _BATCH]
                marks = ",".join("?" * len(part))
                iris += [
                    r[0] for r in db.execute(f"SELECT iri FROM model WHERE rowid IN ({marks})", part)
                ]
        finally:
            db.execute("COMMIT")
        return len(rows), before, iris

    def per_year(self, cls: str) -> list[tuple[int, int]]:
        """(year, models) for the models of class `cls` with a release date, by year."""
        db = self._db()
        db.execute("BEGIN")
        try:
            with self._columns_lock:
                columns, _ = self._columns_at(db)
        finally:
            db.execute("COMMIT")
        member = columns.classes.get(cls)
        if member is None:
            return []
        years = columns.year[columns.alive & member & (columns.year != 0)]
        return [(year, n) for year, n in group_counts([years])]

    def charts(self, *, max_points: int) -> Charts:
        """Models with a size and a release date (every one, or every n-th by date past
        `max_points`), their counts per year and power of ten of size, and per kind and year."""
        db = self._db()
        db.execute("BEGIN")
        try:
            with self._columns_lock:
                columns, _ = self._columns_at(db)
            alive = columns.alive
            plotted = np.flatnonzero(
                alive & (columns.size != MISSING) & (columns.release_rank != MISSING)
            )
            total = len(plotted)
            step = max(1, -(-total // max_points))
            # The sample depends on the columns' version only: sorted once a version.
            if columns.chart_order[0] != (columns.epoch, columns.version, step):
                order = np.lexsort((columns.iri_rank[plotted], columns.release_rank[plotted]))
                columns.chart_order = ((columns.epoch, columns.version, step), plotted[order][::step])
            # The points as JSON written by SQLite, in the sample's order: json_each walks the
            # sample, CROSS JOIN keeps it the outer loop, and the aggregate takes the rows as they
            # come. Read as rows, made into objects and encoded again, they were a third of
            # the answer (bench/RESULTS.md, "The fifth pass").
            (points,) = db.execute(
                "SELECT json_group_array(json_object('id', m.id, 'label', coalesce(m.label, m.id), "
                "'kind', m.kind, 'parameterCount', m.parameter_count, 'releaseDate', m.release_date)) "
                "FROM json_each(?) AS j CROSS JOIN model AS m ON m.rowid = j.value",
                (json.dumps(columns.chart_order[1].tolist()),),
            ).fetchone()
        finally:
            db.execute("COMMIT")
        kinds = columns.kinds.values
        binned = plotted[(columns.year[plotted] != 0) & (columns.size[plotted] > 0)]
        decade = np.searchsorted(_POWERS_OF_TEN, columns.size[binned], side="right") - 1
        bins = sorted(
            (year, tens, str(kinds[kind]), n)
            for year, tens, kind, n in group_counts([columns.year[binned], decade, columns.kind[binned]])
        )
        dated = np.flatnonzero(alive & (columns.year != 0))
        per_year = sorted(
            (year, str(kinds[kind]), n)
            for year, kind, n in group_counts([columns.year[dated], columns.kind[dated]])
        )
        return Charts(points, total, bins, per_year)

    def find_in_sqlite(
        self,
        filters: IndexFilter,
        *,
        sort: str = "label",
        descending: bool = False,
        limit: int = 50,
        offset: int = 0,
        facets: bool = False,
    ) -> IndexedPage:
        """`find` answered by SQLite alone (the index before its columns): kept for
        bench.readindex, which measures both on one file."""
        if sort not in INDEX_SORT_KEYS:
            raise ValueError(f"cannot sort by {sort!r}; sort by one of {', '.join(INDEX_SORT_KEYS)}")
        if limit < 1 or offset < 0:
            raise ValueError("limit must be at least 1 and offset at least 0")
        source, clauses, params = _where(filters)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        direction = "DESC" if descending else "ASC"
        if sort == "relevance":
            if "model_text" not in source:
                order = "m.label_missing, m.label_key, m.iri"  # nothing to rank by
            else:
                # bm25: lower is better; a hit in the label weighs ten times one in the description.
                order = f"bm25(model_text, 10.0, 1.0) {'ASC' if not descending else 'DESC'}, m.iri"
        elif sort == "id":
            order = f"m.iri {direction}"
        else:
            missing, key = _ORDER[sort]
            # Models without a value come last either way; ties by IRI, as the reference orders.
            order = f"{missing}, {key} {direction}, m.iri"
        db = self._db()
        db.execute("BEGIN")  # one snapshot for the count, the page and the facets
        try:
            total = int(db.execute(f"SELECT count(*) FROM {source}{where}", params).fetchone()[0])
            found = db.execute(
                "SELECT m.rowid, m.id, m.iri, m.label, m.kind, m.parameter_count, m.release_date, m.licence, "
                f"m.open_weights, m.portable, m.cheap, m.fast, m.portable_basis, m.cheap_basis, m.fast_basis "
                f"FROM {source}{where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, int(limit), int(offset)],
            ).fetchall()
            names: dict[int, list[str]] = defaultdict(list)
            if found:
                marks = ",".join("?" * len(found))
                for model, name in db.execute(
                    f"SELECT DISTINCT model, name FROM developer WHERE model IN ({marks}) ORDER BY name",
                    [r[0] for r in found],
                ):
                    names[model].append(name)
            counted = self._facets(db, source, where, params) if facets else None
        finally:
            db.execute("COMMIT")
        models = [_summary(r, names) for r in found]
        return IndexedPage(total, models, counted)

    @staticmethod
    def _facets(
        db: sqlite3.Connection, source: str, where: str, params: list[Any]
    ) -> dict[str, dict[str, int]]:
        """Counts per value of each facet among the filtered models: one scan grouped by every
        facet of the model table at once (a few thousand groups), summed here, and one join for
        developers. Seven GROUP BY scans took 257 ms at 10k; this one takes a seventh."""
        columns = {
            "kind": "m.kind",
            "license": "m.licence",
            "year": "m.release_year",
            "portable": "m.portable",
            "cheapToFineTune": "m.cheap",
            "fast": "m.fast",
            "openWeights": "m.open_weights",
        }
        verdicts = {"portable", "cheapToFineTune", "fast", "openWeights"}
        sums: dict[str, dict[str, int]] = {name: defaultdict(int) for name in columns}
        query = f"SELECT {', '.join(columns.values())}, count(*) FROM {source}{where} GROUP BY {', '.join(columns.values())}"
        for row in db.execute(query, params):
            count = int(row[-1])
            for name, value in zip(columns, row[:-1], strict=False):
                key = (
                    ("true" if value else "false")
                    if name in verdicts and value is not None
                    else _facet_key(value)
                )
                sums[name][key] += count
        developers = db.execute(
            f"SELECT d.name, count(DISTINCT m.rowid) AS n FROM {source} JOIN developer d ON d.model = m.rowid"
            f"{where} GROUP BY d.name ORDER BY n DESC, d.name LIMIT {FACET_LIMIT}",
            params,
        )
        facets: dict[str, dict[str, int]] = {"developer": {str(name): int(n) for name, n in developers}}
        for name, counted in sums.items():
            ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
            if name in ("license",):
                ordered = ordered[:FACET_LIMIT]
            elif name in ("year", "kind"):
                ordered = sorted(counted.items())
            facets[name] = dict(ordered)
        return {key: facets[key] for key in ("kind", "developer", "license", "year", *sorted(verdicts))}

    def document(self, model_id: str) -> bytes | None:
        """The JSON of GET /models/{id} as this index keeps it for the entry `model_id` (None:
        it keeps none under that id); read in one statement, so from one snapshot."""
        found = self._db().execute(
            "SELECT d.body FROM model m JOIN document d ON d.model = m.rowid WHERE m.iri = ?",
            (str(model_iri(model_id)),),
        ).fetchone()
        return zlib.decompress(found[0]) if found is not None else None

    def model_count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM model").fetchone()[0])


def _facet_key(value: Any) -> str:
    return "unknown" if value is None else str(value)


def _latest(db: sqlite3.Connection) -> int:
    found = db.execute("SELECT max(at) FROM applied_change").fetchone()[0]
    return (
        int(found)
        if found is not None
        else int(db.execute("SELECT value FROM meta WHERE key = 'synced'").fetchone()[0])
    )
