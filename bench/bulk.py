"""Bulk import through the KnowledgeGraph write path, timed (run in a process of its own).

`python3 -m bench.bulk STORE ENTRIES.json [--batch-size N]` opens the store as `lmkg load`
does (seeded on first use, the engine process by default), then validates, classifies and
writes the entries in transactions of N (KnowledgeGraph.write_batches: a batch is assessed
while the one before it is written), and prints a JSON line with the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from lmkg.collector import collector_paused
from lmkg.commands import opened
from lmkg.config import Settings
from lmkg.entries import entries_from_json
from lmkg.knowledge import WriteMode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.bulk")
    parser.add_argument("store", type=Path)
    parser.add_argument("entries", type=Path)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    settings = Settings.from_env({**os.environ, "LMKG_STORE": str(args.store)})
    started = time.perf_counter()
    documents = json.loads(args.entries.read_text(encoding="utf-8"))
    with collector_paused(), opened(settings) as kg:  # a batch import: see lmkg.collector
        opened_at = time.perf_counter()
        written = rejected = 0
        batches = (
            entries_from_json(documents[start : start + args.batch_size])
            for start in range(0, len(documents), args.batch_size)
        )
        for outcome in kg.write_batches(batches, mode=WriteMode.UPSERT):
            written += len(outcome.written)
            rejected += len(outcome.rejected)
        finished = time.perf_counter()
    result = {
        "entries": len(documents),
        "written": written,
        "rejected": rejected,
        "open_seconds": opened_at - started,
        "import_seconds": finished - opened_at,
        "entries_per_second": len(documents) / (finished - opened_at),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if rejected == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
