"""The read index's engines side by side, on one projection: the in-memory columns (numpy,
the service's path), SQLite alone (FTS5 trigram, the index before its columns), and DuckDB.

`python3 -m bench.readindex INDEX.sqlite [--rounds N] [--duckdb]` reads the projection that
`lmkg reindex` built (lmkg.readindex), answers the same GET /models questions from it through
ReadIndex.find (columns), ReadIndex.find_in_sqlite, and (with --duckdb) a DuckDB copy of the
same tables (search as a case-insensitive substring scan: DuckDB's FTS extension is a download,
and it ranks words, not substrings), and prints the median and worst time of each question, in
milliseconds, as JSON. All are in-process and uncached: no kept answers, no HTTP. It also times
the columns' first load, and a write to the index followed by the next read (the catch-up).

`python3 -m bench.readindex INDEX.sqlite --synthetic N` first writes N synthetic rows into a new
INDEX.sqlite (random kinds, verdicts, sizes, dates, developers and labels, through the schema
of lmkg.readindex): the index alone at sizes the store is not built at (1M).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lmkg.readindex import IndexFilter, ReadIndex

QUESTIONS: dict[str, tuple[IndexFilter, dict[str, Any]]] = {
    "list first page": (IndexFilter(), {"limit": 20}),
    "portable and cheap": (IndexFilter(portable=True, cheap_to_fine_tune=True), {"limit": 20}),
    "portable and cheap, largest first": (
        IndexFilter(portable=True, cheap_to_fine_tune=True),
        {"limit": 20, "sort": "parameterCount", "descending": True},
    ),
    "search llama (ranked)": (IndexFilter(search="llama"), {"limit": 20, "sort": "relevance"}),
    "developer Meta AI": (IndexFilter(developer="Meta AI"), {"limit": 20}),
    "offset 90000": (IndexFilter(), {"limit": 20, "offset": 90000}),
    "slm open weights by size, page 3": (
        IndexFilter(kind="slm", open_weights=True),
        {"limit": 20, "offset": 40, "sort": "parameterCount", "descending": True},
    ),
    "facets, no filter": (IndexFilter(), {"limit": 20, "facets": True}),
    "facets, slm": (IndexFilter(kind="slm"), {"limit": 20, "facets": True}),
    "facets, portable and open weights, by release desc": (
        IndexFilter(portable=True, open_weights=True),
        {"limit": 20, "facets": True, "sort": "releaseDate", "descending": True},
    ),
    "fast unknown, min 1B, by id desc": (
        IndexFilter(fast="unknown", min_parameters=1_000_000_000),
        {"limit": 20, "sort": "id", "descending": True},
    ),
    "search llama, facets": (IndexFilter(search="llama"), {"limit": 20, "facets": True}),
}


class _NoStore:
    """ReadIndex.find reads SQLite only; the store is never asked."""

    def generation(self) -> int | None:
        return None


def _timed(run: Callable[[], object], rounds: int) -> dict[str, float]:
    run()  # warm the page cache
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def _duckdb_copy(path: Path) -> Any:
    """The index's tables in an in-memory DuckDB, copied through CSV files."""
    import duckdb

    source = sqlite3.connect(path)
    db = duckdb.connect()
    tables = {
        "model": "rowid BIGINT, iri VARCHAR, id VARCHAR, label VARCHAR, label_key VARCHAR, description VARCHAR, "
        "kind VARCHAR, parameter_count BIGINT, licence VARCHAR, open_weights INTEGER, release_date VARCHAR, "
        "release_year INTEGER, portable INTEGER, cheap INTEGER, fast INTEGER",
        "developer": "model BIGINT, org VARCHAR, name VARCHAR",
        "org_label": "org VARCHAR, label_key VARCHAR",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for table, columns in tables.items():
            names = [c.split()[0] for c in columns.split(", ")]
            db.execute(f"CREATE TABLE {table} ({columns})")
            target = Path(tmp) / f"{table}.csv"
            with target.open("w", newline="", encoding="utf-8") as out:
                select = f"SELECT {', '.join(names)} FROM {table}"
                if table == "model":  # the description lives in the FTS table only
                    select = (
                        f"SELECT {', '.join('t.description' if n == 'description' else 'm.' + n for n in names)} "
                        "FROM model m JOIN model_text t ON t.rowid = m.rowid"
                    )
                csv.writer(out).writerows(source.execute(select))
            db.execute(
                f"INSERT INTO {table} SELECT * FROM read_csv(?, header = false, delim = ',', quote = '\"', escape = '\"', columns = {{"
                + ", ".join(f"'{c.split()[0]}': '{c.split()[1]}'" for c in columns.split(", "))
                + "})",
                [str(target)],
            )
    return db


def _duckdb_question(db: Any, name: str) -> Callable[[], object]:
    filters, options = QUESTIONS[name]
    where: list[str] = []
    params: list[Any] = []
    if filters.kind:
        where.append("kind = ?")
        params.append(filters.kind)
    if filters.portable is True:
        where.append("portable = 1")
    if filters.cheap_to_fine_tune is True:
        where.append("cheap = 1")
    if filters.open_weights is not None:
        where.append("open_weights = ?")
        params.append(int(filters.open_weights))
    if filters.developer:
        where.append(
            "rowid IN (SELECT d.model FROM developer d WHERE d.org IN "
            "(SELECT org FROM org_label WHERE label_key = ?))"
        )
        params.append(filters.developer.lower())
    if filters.search:
        where.append("(contains(label_key, ?) OR contains(lower(description), ?))")
        params += [filters.search.lower()] * 2
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sort = options.get("sort", "label")
    key = {"label": "label_key", "parameterCount": "parameter_count", "relevance": "label_key"}[sort]
    direction = "DESC" if options.get("descending") else "ASC"
    page = (
        f"SELECT id, iri, label, kind, parameter_count, release_date, licence, open_weights, portable, cheap "
        f"FROM model{clause} ORDER BY {key} {direction} NULLS LAST, iri LIMIT ? OFFSET ?"
    )

    def run() -> object:
        db.execute(f"SELECT count(*) FROM model{clause}", params).fetchall()
        found = db.execute(page, [*params, options.get("limit", 20), options.get("offset", 0)]).fetchall()
        if options.get("facets"):
            for column in ("kind", "licence", "release_year", "portable", "cheap", "fast"):
                db.execute(f"SELECT {column}, count(*) FROM model{clause} GROUP BY 1", params).fetchall()
            db.execute(
                f"SELECT d.name, count(*) AS n FROM model m JOIN developer d ON d.model = m.rowid"
                f"{clause.replace(' WHERE ', ' WHERE m.') if clause else ''} GROUP BY 1 ORDER BY n DESC LIMIT 50",
                params,
            ).fetchall()
        return found

    return run


_DUCKDB_QUESTIONS = tuple(list(QUESTIONS)[:9])
"""The questions the DuckDB copy answers (the first nine)."""


def synthetic(path: Path, size: int, *, seed: int = 14) -> None:
    """Write `size` synthetic rows into a new index file at `path` (see the module docstring)."""
    from lmkg.readindex import _VERDICTS, ModelRow
    from lmkg.vocab import LMKG, ORG

    rng = random.Random(seed)
    names = ["Kestrel", "Marlin", "Heron", "Llama", "Falcon", "Otter", "Lynx", "Ibis", "Wren", "Puffin"]
    developers = [f"Lab {n}" for n in range(300)] + ["Meta AI"] * 30
    licences = ["MIT", "Apache-2.0", "LicenseRef-OpenRAIL", "CC-BY-4.0", "LicenseRef-Llama-3", None]
    rows: dict[str, ModelRow] = {}
    orgs: dict[str, set[str]] = {}
    for number in range(size):
        billions = round(rng.lognormvariate(1.5, 1.6), 1)
        kind = "llm" if billions > 10 else "slm"
        iri = f"https://w3id.org/lmkg/model/{names[number % 10].lower()}-{billions}b-{number:07d}"
        row = ModelRow(iri, kind)
        row.labels.add(f"{names[rng.randrange(10)]} {billions}B #{number}")
        if rng.random() < 0.3:
            row.descriptions.add(
                rng.choice(["Runs on a phone.", "A chat model for laptops", "Llama-style code model"])
            )
        if rng.random() < 0.9:
            row.parameter_counts.add(int(billions * 1e9))
        if rng.random() < 0.85:
            row.release_dates.add(
                f"{rng.randrange(2018, 2027)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            )
        licence = rng.choice(licences)
        if licence:
            row.licences.add(licence)
        row.open_weights.add(rng.random() < 0.7)
        row.classes[str(LMKG.LanguageModel)] = True
        for yes, no in _VERDICTS.values():
            draw = rng.random()
            if draw < 0.35:
                row.classes[str(yes)] = True
            elif draw < 0.8 and no is not None:
                row.classes[str(no)] = True
        developer = rng.choice(developers)
        org = str(ORG[developer.lower().replace(" ", "-")])
        row.developers[org] = {developer}
        orgs.setdefault(org, set()).add(developer.lower())
        rows[iri] = row
    index = ReadIndex(path, _NoStore())  # type: ignore[arg-type]
    with index._writing() as db:
        index.fill(db, rows, orgs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.readindex")
    parser.add_argument("index", type=Path)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--duckdb", action="store_true", help="also answer from a DuckDB copy")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite-alone answers")
    parser.add_argument("--synthetic", type=int, default=0, help="first write this many synthetic rows")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {"models": {}}
    if args.synthetic:
        started = time.perf_counter()
        synthetic(args.index, args.synthetic)
        results["models"]["synthetic_build_s"] = round(time.perf_counter() - started, 1)
    index = ReadIndex(args.index, _NoStore())  # type: ignore[arg-type]
    results["models"]["count"] = index.model_count()
    started = time.perf_counter()
    index.find(IndexFilter(), limit=1)
    results["models"]["columns_load_s"] = round(time.perf_counter() - started, 2)
    for name, (filters, options) in QUESTIONS.items():
        results[name] = {"columns": _timed(lambda f=filters, o=options: index.find(f, **o), args.rounds)}
    results["charts (1,500 points)"] = {"columns": _timed(lambda: index.charts(max_points=1500), args.rounds)}
    results["write one row, then the next read"] = {"columns": _after_write(index, args.rounds)}
    if not args.no_sqlite:
        for name, (filters, options) in QUESTIONS.items():
            results[name]["sqlite"] = _timed(
                lambda f=filters, o=options: index.find_in_sqlite(f, **o), max(3, args.rounds // 3)
            )
    if args.duckdb:
        started = time.perf_counter()
        duck = _duckdb_copy(args.index)
        results["models"]["duckdb_load_s"] = round(time.perf_counter() - started, 1)
        for name in _DUCKDB_QUESTIONS:
            results[name]["duckdb"] = _timed(_duckdb_question(duck, name), args.rounds)
    sys.stdout.write(json.dumps(results, indent=1) + "\n")
    return 0


def _after_write(index: ReadIndex, rounds: int) -> dict[str, float]:
    """Re-stamp one row as a write of the index does (a new version), then read: the
    columns catch up with that row before answering."""
    times = []
    for _ in range(rounds):
        with index._writing() as db:
            db.execute(
                "UPDATE model SET version = ? WHERE rowid = (SELECT min(rowid) FROM model)", (index._version,)
            )
        started = time.perf_counter()
        index.find(IndexFilter(portable=True), limit=20, facets=True)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


if __name__ == "__main__":
    raise SystemExit(main())
