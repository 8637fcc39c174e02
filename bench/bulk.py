"""Bulk import as a user runs it (`lmkg load --batch-size N`), timed, in a process of its own.

`python3 -m bench.bulk STORE ENTRIES.json [--batch-size N]` runs lmkg.commands.load_in_batches,
what `lmkg load --batch-size N` runs: the store opened (seeded on first use) in this process,
the JSON array read as a stream, entries validated, classified and written in batches of N
(KnowledgeGraph.write_batches: a batch is assessed while the one before it is written), and
prints a JSON line with the timings, the process's CPU time and its peak resident memory.
`--first-read` then times the first read of the read index, which catches up with the import
from the store's change log (or rebuilds, past 5,000 entries).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from lmkg.collector import collector_paused
from lmkg.commands import load_in_batches, opened
from lmkg.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.bulk")
    parser.add_argument("store", type=Path)
    parser.add_argument("entries", type=Path)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--first-read", action="store_true", help="then time the read index's first read")
    parser.add_argument("--bulk-loader", action="store_true", help="as `lmkg load --bulk-loader`")
    args = parser.parse_args(argv)
    settings = Settings.from_env({**os.environ, "LMKG_STORE": str(args.store)})
    started = time.perf_counter()
    cpu_at = time.process_time()
    with collector_paused():  # a batch import: see lmkg.collector (as `lmkg load` does)
        outcome = load_in_batches(settings, [args.entries], args.batch_size, bulk_loader=args.bulk_loader)
    finished = time.perf_counter()
    entries = outcome.stored + len(outcome.rejected) + len(outcome.problems)
    result = {
        "entries": entries,
        "written": outcome.stored,
        "rejected": entries - outcome.stored,
        # opening and seeding the store before the batches, and closing it after
        "open_seconds": finished - started - outcome.seconds,
        "import_seconds": outcome.seconds,
        "entries_per_second": entries / outcome.seconds if outcome.seconds else 0.0,
        "cpu_seconds": time.process_time() - cpu_at,  # parsing, checks, classification, the engine
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.first_read:
        from lmkg.readindex import IndexFilter

        sys.stderr.write(json.dumps(result) + "\n")  # before a first read that may take long
        with opened(settings) as kg:
            at = time.perf_counter()
            kg.read_index.find(IndexFilter(), limit=20)
            result["first_read_seconds"] = time.perf_counter() - at
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if outcome.conforms else 1  # bench.run stops on an import that left entries out, as before


if __name__ == "__main__":
    raise SystemExit(main())
