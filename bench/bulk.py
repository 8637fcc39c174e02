"""Bulk import through the KnowledgeGraph write path, timed (run in a process of its own).

`python3 -m bench.bulk STORE ENTRIES.json [--batch-size N]` opens the store as `lmkg load`
does (seeded on first use, in this process), then validates, classifies and writes the
entries in transactions of N (KnowledgeGraph.write_batches: a batch is assessed while the one
before it is written), and prints a JSON line with the timings, the process's CPU time and
its peak resident memory. The file (a JSON array) is read as a stream, one batch at a time,
so that a million entries need not be in memory at once. `--first-read` then times the first
read of the read index, which catches up with the import from the store's change log.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lmkg.collector import collector_paused
from lmkg.commands import opened
from lmkg.config import Settings
from lmkg.entries import entries_from_json
from lmkg.knowledge import WriteMode

_BETWEEN = re.compile(r"[\s,]*")


def documents(path: Path, *, chunk: int = 1 << 20) -> Iterator[Any]:
    """The items of a JSON array in a file, one at a time, read in chunks of `chunk` bytes.
    A position moves through the buffer (cutting the buffer after each item copied it: 0.17 ms
    an entry of a 100k import)."""
    decoder = json.JSONDecoder()
    with path.open(encoding="utf-8") as stream:
        buffer = stream.read(chunk).lstrip()
        if not buffer.startswith("["):
            raise ValueError(f"{path}: not a JSON array")
        at = 1
        while True:
            at = _BETWEEN.match(buffer, at).end()  # type: ignore[union-attr]
            if len(buffer) - at < chunk // 4:
                buffer = buffer[at:] + stream.read(chunk)
                at = _BETWEEN.match(buffer, 0).end()  # type: ignore[union-attr]
            if buffer.startswith("]", at):
                return
            try:
                item, at = decoder.raw_decode(buffer, at)
            except json.JSONDecodeError:
                more = stream.read(chunk)
                if not more:
                    raise
                buffer = buffer[at:] + more
                at = 0
                continue
            yield item


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.bulk")
    parser.add_argument("store", type=Path)
    parser.add_argument("entries", type=Path)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--first-read", action="store_true", help="then time the read index's first read")
    args = parser.parse_args(argv)
    settings = Settings.from_env({**os.environ, "LMKG_STORE": str(args.store)})
    started = time.perf_counter()
    items = documents(args.entries)
    count = 0

    def counted(batch: list[Any]) -> list[Any]:
        nonlocal count
        count += len(batch)
        return batch

    with collector_paused(), opened(settings) as kg:  # a batch import: see lmkg.collector
        opened_at = time.perf_counter()
        cpu_at = time.process_time()
        written = rejected = 0
        batches = (
            entries_from_json(counted(batch))
            for batch in iter(lambda: list(itertools.islice(items, args.batch_size)), [])
        )
        for outcome in kg.write_batches(batches, mode=WriteMode.UPSERT):
            written += len(outcome.written)
            rejected += len(outcome.rejected)
        finished = time.perf_counter()
        cpu = time.process_time() - cpu_at
        result = {
            "entries": count,
            "written": written,
            "rejected": rejected,
            "open_seconds": opened_at - started,
            "import_seconds": finished - opened_at,
            "entries_per_second": count / (finished - opened_at),
            "cpu_seconds": cpu,  # this process: parsing, checks, classification, the engine (in-process)
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        if args.first_read:
            from lmkg.readindex import IndexFilter

            sys.stderr.write(json.dumps(result) + "\n")  # before a first read that may take long
            kg.read_index.find(IndexFilter(), limit=20)
            result["first_read_seconds"] = time.perf_counter() - finished
        # Written before the store is closed: closing flushes the engine's memory tables.
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0 if rejected == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
