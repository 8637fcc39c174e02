"""One benchmark run: build each data set, start the three services on it, drive them, report."""

from __future__ import annotations

import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil

from bench import data
from bench.client import Burst, ClientPool, Request
from bench.targets import REPO, Target, start_lmkg, start_oxigraph, start_rdflib
from bench.workloads import query_workloads, write_requests

RDFLIB_SKIPPED = (
    "rdflib-endpoint not run at this size: rdflib-endpoint 0.6.3 builds a service description when "
    "its app is created, with a query over every graph of the Dataset; with 100,000 graphs it had not "
    "finished after 7 minutes (py-spy: SparqlRouter.prepare_sd_graph -> Memory.__get_context_for_triple)"
)

SLOW_FACTOR = 5
"""A target whose first request takes longer than this many bursts is measured by that request."""

EPOCH_CSV = (
    Path(os.environ.get("LMKG_SHARED_DIR", REPO.parent / "shared"))
    / "data/epoch-ai-models/all-ml-systems.csv"
)


@dataclass
class Measure:
    """Throughput and latency of one workload on one target, over all its bursts."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, burst: Burst) -> None:
        self.requests += len(burst.latencies)
        self.errors += burst.errors
        self.seconds += burst.seconds
        self.latencies += burst.latencies

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "throughput": self.requests / self.seconds if self.seconds else 0.0,
            "p50_ms": percentile(ordered, 0.5) * 1e3,
            "p99_ms": percentile(ordered, 0.99) * 1e3,
        }


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyoxigraph": version("pyoxigraph"),
        "oxigraph_server": version("oxigraph"),
        "rdflib": version("rdflib"),
        "rdflib_endpoint": version("rdflib-endpoint"),
        "pyshacl": version("pyshacl"),
    }


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=600) as response:
        return json.loads(response.read())


def preflight(target: Target, request: Request, timeout: float) -> tuple[int, float] | None:
    """One request: None when no 2xx answer comes within `timeout`, else its SPARQL result rows
    (-1 for an answer that is not SPARQL JSON results) and its seconds."""
    req = urllib.request.Request(
        target.base + request.path, headers=dict(request.headers), method=request.method
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            body = response.read()
    except (OSError, ValueError):
        return None
    seconds = time.perf_counter() - started
    try:
        return len(json.loads(body)["results"]["bindings"]), seconds
    except (ValueError, KeyError, TypeError):
        return -1, seconds


def build_store(size: str, workdir: Path, log: list[str]) -> tuple[Path, list[str], dict[str, Any]]:
    """The lmkg store of a data set (the bulk import timed), and its model ids."""
    store = workdir / "lmkg-store"
    env = {**os.environ, "LMKG_STORE": str(store)}
    if size == "epoch":
        started = time.perf_counter()
        done = subprocess.run(
            ["lmkg", "import", "epoch", str(EPOCH_CSV)], env=env, capture_output=True, text=True, cwd=REPO
        )
        seconds = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise RuntimeError(f"lmkg import epoch failed: {done.stderr[-2000:]}")
        first = done.stdout.splitlines()[:2]
        log.append(f"epoch import: {' '.join(first)} in {seconds:.1f} s (CLI wall time)")
        imported = {"command": "lmkg import epoch", "wall_seconds": seconds, "report": first}
    else:
        documents = data.entries(int(size))
        entries_file = workdir / "entries.json"
        entries_file.write_text(json.dumps(documents), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "bench.bulk", str(store), str(entries_file), "--batch-size", "1000"],
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bulk import failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        imported = json.loads(done.stdout.strip().splitlines()[-1])
        log.append(f"bulk import of {size}: {imported['entries_per_second']:.0f} entries/s")
    ids = [
        line.split("/model/", 1)[1].split(">", 1)[0]
        for line in subprocess.run(
            [
                "oxigraph",
                "query",
                "--location",
                str(store),
                "--results-format",
                "tsv",
                "--query",
                "SELECT DISTINCT ?m WHERE { GRAPH ?g { ?m a <https://w3id.org/lmkg/ontology#LanguageModel> } }",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
        if "/model/" in line
    ]
    return store, ids, imported


def dump(store: Path, workdir: Path) -> Path:
    target = workdir / "dump.nq"
    subprocess.run(["oxigraph", "dump", "--location", str(store), "--file", str(target)], check=True)
    return target


def run_size(
    size: str,
    pool: ClientPool,
    *,
    rounds: int,
    duration: float,
    writes: int,
    request_timeout: float,
    rdflib_max_entries: int,
) -> dict[str, Any]:
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"lmkg-bench-{size}-") as tmp:
        workdir = Path(tmp)
        store, ids, imported = build_store(size, workdir, log)
        nquads = dump(store, workdir)
        quads = sum(1 for _ in nquads.open("rb"))
        print(f"[{size}] {len(ids)} models, {quads} quads; starting the services", flush=True)
        targets: dict[str, Target] = {}
        try:
            targets["lmkg"] = start_lmkg(store, workdir, query_timeout=request_timeout)
            targets["oxigraph"] = start_oxigraph(nquads, workdir, query_timeout=request_timeout)
            if size.isdigit() and int(size) > rdflib_max_entries:
                log.append(RDFLIB_SKIPPED)
            else:
                targets["rdflib-endpoint"] = start_rdflib(nquads, workdir)
            endpoints = {name: t.sparql_path for name, t in targets.items()}
            workloads = query_workloads(ids, endpoints)
            measures: dict[str, dict[str, Measure]] = {
                w.name: {name: Measure() for name in w.requests} for w in workloads
            }
            # One request of each workload on each target first, which also shows that every
            # target gives the same number of rows. A target that cannot answer within the limit
            # is recorded as timed out and left out of that workload's bursts (rdflib-endpoint
            # cannot stop a query: it is restarted, so that the query does not eat the CPU).
            timed_out: dict[str, dict[str, float]] = {}
            one_request: dict[str, dict[str, float]] = {}
            checks: dict[str, dict[str, int]] = {}
            for workload in workloads:
                for name in list(workload.requests):
                    answer = preflight(targets[name], workload.requests[name][0], request_timeout)
                    if answer is None:
                        timed_out.setdefault(workload.name, {})[name] = request_timeout
                        print(
                            f"[{size}] {workload.name} on {name}: no answer within {request_timeout:g} s",
                            flush=True,
                        )
                        if name == "rdflib-endpoint":
                            targets[name].restart_child()
                        continue
                    rows, seconds = answer
                    if rows >= 0:
                        checks.setdefault(workload.name, {})[name] = rows
                    if seconds > SLOW_FACTOR * duration:
                        # Too slow for bursts: every client would wait for its one request. Its
                        # throughput is taken from this one request (a single-threaded engine, as
                        # rdflib's is under the GIL, serves no more with more clients).
                        one_request[workload.name] = {**one_request.get(workload.name, {}), name: seconds}
                        measures[workload.name][name].add(Burst(seconds=seconds, latencies=[seconds]))
            # Warm-up: every distinct request of a workload once, on every target that answers it
            # in time, so that the bursts measure a steady state on all three alike (the page
            # cache, RocksDB's block cache, lmkg's kept answers); the cold look-up is measured by
            # its own workload (lookup-rest-uncached).
            for workload in workloads:
                for name, requests in workload.requests.items():
                    if name in timed_out.get(workload.name, {}) or name in one_request.get(workload.name, {}):
                        continue
                    distinct = list(dict.fromkeys(requests))
                    if len(distinct) > 1:
                        pool.sequential(targets[name].base, distinct)
            names = list(targets)
            for round_number in range(rounds):
                for workload in workloads:
                    order = [
                        n
                        for n in names[round_number % 3 :] + names[: round_number % 3]
                        if n in workload.requests
                        and n not in timed_out.get(workload.name, {})
                        and n not in one_request.get(workload.name, {})
                    ]
                    for name in order:
                        burst = pool.burst(
                            targets[name].base, workload.requests[name], duration=duration, seed=round_number
                        )
                        measures[workload.name][name].add(burst)
                print(f"[{size}] round {round_number + 1}/{rounds} done", flush=True)
            rng = random.Random(int(size) if size.isdigit() else 7)
            fresh = [data.entry(10_000_000 + i, rng) for i in range(writes)]
            for i, document in enumerate(fresh):
                document["id"] = f"bench-write-{i:04d}"
                document.pop("fineTunedFrom", None)
            lmkg = targets["lmkg"]
            validate = pool.sequential(lmkg.base, write_requests(fresh, "/validate"))
            post = pool.sequential(lmkg.base, write_requests(fresh, "/models"))
            rss = {name: t.rss_bytes() for name, t in targets.items()}
            health = _get_json(lmkg.base + "/health")
            lmkg.stop()
            restarted = start_lmkg(store, workdir, query_timeout=request_timeout)
            targets["lmkg"] = restarted
            rss_restart = restarted.rss_bytes()
        finally:
            for t in targets.values():
                t.stop()
        result: dict[str, Any] = {
            "size": size,
            "models": len(ids),
            "quads": quads,
            "import": imported,
            "row_checks": checks,
            "timed_out": timed_out,
            "one_request": one_request,
            "startup_seconds": {
                "lmkg_first": lmkg.ready_seconds,
                "lmkg_restart": restarted.ready_seconds,
                "oxigraph": targets["oxigraph"].ready_seconds,
                "oxigraph_load": targets["oxigraph"].extra.get("load_seconds"),
                **(
                    {"rdflib-endpoint": targets["rdflib-endpoint"].ready_seconds}
                    if "rdflib-endpoint" in targets
                    else {}
                ),
            },
            "rss_mb": {**{k: v / 2**20 for k, v in rss.items()}, "lmkg_after_restart": rss_restart / 2**20},
            "health": health,
            "workloads": {
                w.name: {
                    "description": w.description,
                    "baseline": w.baseline,
                    "targets": {n: m.summary() for n, m in measures[w.name].items()},
                }
                for w in workloads
            },
            "validate": Measure(
                len(validate.latencies), validate.errors, validate.seconds, validate.latencies
            ).summary(),
            "post": Measure(len(post.latencies), post.errors, post.seconds, post.latencies).summary(),
            "log": log,
        }
        return result


def ratio(result: dict[str, Any], workload: str, against: str, *, baseline: str | None = None) -> float:
    targets = result["workloads"][workload]["targets"]
    other = result["workloads"][baseline or workload]["targets"]
    mine = targets["lmkg"]["throughput"]
    theirs = other[against]["throughput"]
    return mine / theirs if theirs else float("inf")


def main(
    sizes: list[str],
    *,
    rounds: int,
    duration: float,
    writes: int,
    processes: int,
    threads: int,
    request_timeout: float,
    rdflib_max_entries: int,
    output: Path,
    command: str,
) -> None:
    pool = ClientPool(processes, threads)
    results: list[dict[str, Any]] = []
    try:
        for size in sizes:
            results.append(
                run_size(
                    size,
                    pool,
                    rounds=rounds,
                    duration=duration,
                    writes=writes,
                    request_timeout=request_timeout,
                    rdflib_max_entries=rdflib_max_entries,
                )
            )
            (output.parent / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    finally:
        pool.close()
    from bench.report import write_results

    write_results(
        output,
        results,
        machine(),
        command,
        clients=pool.clients,
        rounds=rounds,
        duration=duration,
        request_timeout=request_timeout,
    )


def default_command(argv: list[str]) -> str:
    return "python3 -m bench " + " ".join(shlex.quote(a) for a in argv)
