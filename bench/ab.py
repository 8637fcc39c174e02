"""`python3 -m bench.ab --old REV --store DIR`: this checkout's code against an older
revision's, side by side on copies of one store, in one run.

Runs from different hours do not compare on a shared machine (bench/RESULTS.md, "The fourth
pass": the same Oxigraph server on the same store took 35-40% longer one evening). This
alternates the two versions of `lmkg serve`, each on a fresh copy of the store (with its read
index), and measures each the same way: one client, uncached, for a few seconds per request;
then the mixed workload (bench.run.run_mixed) after one warm-up pass of its reads. It prints
the median of each figure for both and their ratio, and writes them as JSON.

The older revision runs from a git worktree (put on sys.path ahead of the installed package)
with this environment's packages; `--old-without httptools,uvloop` hides packages from it,
as when it shipped without them; `--old-index FILE` gives it a read index of its own schema
(an index of another schema is emptied and rebuilt at start, minutes at 100k).
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.client import ClientPool
from bench.run import run_mixed
from bench.targets import Target, start_lmkg
from bench.workloads import mixed_reads

REQUESTS: dict[str, list[str]] = {
    "page": ["/models?limit=20", "/models?limit=20&offset=90000"],
    "filter-sorted": ["/models?portable=true&cheapToFineTune=true&sort=parameterCount&direction=desc&limit=20"],
    "search": ["/models?search=kestrel&limit=20"],
    "developer": ["/models?developer=Meta%20AI&limit=20"],
    "facets": ["/models?limit=20&facets=true"],
    "named-query": ["/queries/portable-and-cheap-to-fine-tune"],
    "charts": ["/ui/charts"],
}
"""What one client asks, uncached (a look-up of stored models is added to these)."""

LOWER_IS_BETTER = {"mixed_rps": False, "writes": False}


def one_client(base: str, paths: list[str], seconds: float) -> float:
    """The p50 in ms of `paths` asked in turn, uncached, by one keep-alive client."""
    host, port = base.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    latencies: list[float] = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        path = paths[len(latencies) % len(paths)]
        began = time.perf_counter()
        connection.request("GET", path, headers={"Cache-Control": "no-cache"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        latencies.append(time.perf_counter() - began)
    return statistics.median(latencies) * 1e3


def model_ids(store: Path, count: int = 5000) -> list[str]:
    index = Path(f"{store}.readindex.sqlite")  # the model table is the same in every schema
    with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
        return [r[0] for r in db.execute("SELECT id FROM model ORDER BY rowid LIMIT ?", (count,))]


def measure(target: Target, ids: list[str], *, seconds: float, mixed_seconds: float) -> dict[str, float]:
    pool = ClientPool(processes=2, threads=2)
    pool.sequential(target.base, mixed_reads(ids))  # the columns loaded, the kept orders made
    out: dict[str, float] = {}
    lookups = [f"/models/{m}" for m in ids[:3000:15]]
    for name, paths in {**REQUESTS, "lookup": lookups}.items():
        one_client(target.base, paths, 1.0)
        out[name] = one_client(target.base, paths, seconds)
    mixed = run_mixed(target, pool, ids, clients=32, seconds=mixed_seconds, writes_per_second=10)
    out.update(
        mixed_p50=mixed["reads"]["p50_ms"],
        mixed_p99=mixed["reads"]["p99_ms"],
        mixed_rps=mixed["reads"]["throughput"],
        writes=float(mixed["writes"]),
        errors=float(mixed["reads"]["errors"] + mixed["write_errors"]),
        misses=float(mixed["search_misses"] + mixed["lookup_misses"]),
        memory_mb=sum(rss for _, _, rss in target.processes()) / 2**20,
    )
    return out


def run_one(
    store: Path,
    index: Path,
    workdir: Path,
    env: dict[str, str],
    *,
    workers: int,
    seconds: float,
    mixed_seconds: float,
) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="ab-", dir=workdir))
    try:
        shutil.copytree(store, work / "s")
        shutil.copy(index, f"{work / 's'}.readindex.sqlite")
        target = start_lmkg(work / "s", work, workers=workers, env_extra=env)
        try:
            return measure(target, model_ids(store), seconds=seconds, mixed_seconds=mixed_seconds)
        finally:
            target.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def old_environment(revision: str, workdir: Path, hidden: list[str]) -> dict[str, str]:
    repo = Path(__file__).resolve().parent.parent
    tree = workdir / "old-tree"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(tree), revision], check=True)
    path = [str(tree / "service")]
    if hidden:
        hook = workdir / "old-hook"
        hook.mkdir()
        lines = ["import sys"] + [f"sys.modules[{name!r}] = None" for name in hidden]
        (hook / "sitecustomize.py").write_text("\n".join(lines) + "\n")
        path.append(str(hook))
    return {"PYTHONPATH": ":".join(path)}


def table(results: dict[str, list[dict[str, float]]]) -> str:
    rows = ["| figure | old | new | old / new |", "| --- | ---: | ---: | ---: |"]
    for name in results["new"][0]:
        old = statistics.median(r[name] for r in results["old"])
        new = statistics.median(r[name] for r in results["new"])
        better = (old / new if LOWER_IS_BETTER.get(name, True) else new / old) if old and new else None
        rows.append(f"| {name} | {old:,.1f} | {new:,.1f} | {'' if better is None else f'{better:.2f}x'} |")
    return "\n".join(rows) + "\n\nratio: how many times better the new code is (above 1: better).\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.ab", description=__doc__)
    parser.add_argument("--old", required=True, help="the git revision to compare with")
    parser.add_argument("--store", type=Path, required=True, help="a store with its read index beside it")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each version, alternating")
    parser.add_argument("--workers", type=int, default=1, help="`lmkg serve --workers` for both")
    parser.add_argument("--seconds", type=float, default=3.0, help="per request, one client")
    parser.add_argument("--mixed-seconds", type=float, default=20.0)
    parser.add_argument(
        "--old-index",
        type=Path,
        default=None,
        help="the old code's read index file, when its schema differs (default: the store's)",
    )
    parser.add_argument("--old-without", default="", help="comma-separated packages hidden from the old code")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=Path("ab-results.json"))
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ab-", dir=args.workdir))
    hidden = [name for name in args.old_without.split(",") if name.strip()]
    envs = {"old": old_environment(args.old, workdir, hidden), "new": {}}
    results: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    try:
        for number in range(args.rounds):
            for version in ("old", "new") if number % 2 == 0 else ("new", "old"):
                own = Path(f"{args.store}.readindex.sqlite")
                figures = run_one(
                    args.store,
                    args.old_index if version == "old" and args.old_index else own,
                    workdir,
                    envs[version],
                    workers=args.workers,
                    seconds=args.seconds,
                    mixed_seconds=args.mixed_seconds,
                )
                results[version].append(figures)
                print(version, json.dumps({k: round(v, 1) for k, v in figures.items()}), flush=True)
    finally:
        repo = Path(__file__).resolve().parent.parent
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(workdir / "old-tree")], check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    args.output.write_text(json.dumps({"old": args.old, "results": results}, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
