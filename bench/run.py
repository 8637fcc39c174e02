"""One benchmark run: build each data set, start the three services on it, drive them, report."""

from __future__ import annotations

import json
import math
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

from bench import data
from bench.client import Burst, ClientPool, Request, WriterLog, paced_writer
from bench.targets import REPO, TOKEN, Target, start_lmkg, start_oxigraph, start_rdflib
from bench.workloads import (
    UserWorkload,
    fresh_entries,
    mixed_reads,
    query_workloads,
    user_workloads,
    write_requests,
)

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
class RunOptions:
    """What the REST, mixed and memory parts of a run do (see `python3 -m bench run --help`)."""

    sparql_workloads: bool = True
    after_writes: int = 8
    oxigraph_tries: int = 3
    mixed_clients: int = 32
    mixed_seconds: float = 20.0
    mixed_writes: float = 10.0
    lmkg_workers: int = 1
    lmkg_env: dict[str, str] = field(default_factory=dict)
    prebuilt: dict[str, Path] = field(default_factory=dict)
    workdir: Path | None = None


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


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


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
        "pyoxigraph": _version("pyoxigraph"),
        "oxigraph_server": _version("oxigraph"),
        "rdflib": _version("rdflib"),
        "rdflib_endpoint": _version("rdflib-endpoint"),
        "pyshacl": _version("pyshacl"),
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


def build_store(
    size: str, workdir: Path, log: list[str], *, prebuilt: Path | None = None
) -> tuple[Path, list[str], dict[str, Any]]:
    """The lmkg store of a data set (the bulk import timed), and its model ids. A `prebuilt`
    store (and its read index beside it) is copied, never opened in place."""
    store = workdir / "lmkg-store"
    env = {**os.environ, "LMKG_STORE": str(store)}
    if prebuilt is not None:
        started = time.perf_counter()
        shutil.copytree(prebuilt, store)
        index = prebuilt.with_name(prebuilt.name + ".readindex.sqlite")
        if index.exists():
            shutil.copy2(index, store.with_name(store.name + ".readindex.sqlite"))
        log.append(
            f"store copied from {prebuilt} in {time.perf_counter() - started:.0f} s (import not timed)"
        )
        imported: dict[str, Any] = {"prebuilt": str(prebuilt)}
    elif size == "epoch":
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


def sparql_answer(target: Target, queries: list[str], timeout: float) -> tuple[float | None, Any]:
    """One answer of the Oxigraph server: its queries one after another, from one client. The
    seconds they took together, or None when one gives no 2xx answer within `timeout`; and the
    first query's JSON result (the count, for a GET /models question)."""
    started = time.perf_counter()
    first: Any = None
    for query in queries:
        body = urllib.parse.urlencode({"query": query}).encode()
        request = urllib.request.Request(
            target.base + target.sparql_path,
            data=body,
            headers={
                "Accept": "application/sparql-results+json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            method="POST",
        )
        left = timeout - (time.perf_counter() - started)
        if left <= 0:
            return None, first
        try:
            with urllib.request.urlopen(request, timeout=left) as response:
                answer = response.read()
        except (OSError, ValueError):
            return None, first
        if first is None:
            try:
                first = json.loads(answer)
            except ValueError:
                first = {}
    return time.perf_counter() - started, first


def count_of(result: Any) -> int | None:
    try:
        return int(result["results"]["bindings"][0]["n"]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def total_of(target: Target, request: Request) -> tuple[int, int | None, int]:
    """One uncached request: its status, its `total` (for a list) and its size in bytes."""
    req = urllib.request.Request(
        target.base + request.path, headers={**dict(request.headers), "Cache-Control": "no-cache"}
    )
    try:
        # The first request of a run may bring the read index up to date (or rebuild an index
        # of an older schema): waited for, however long.
        with urllib.request.urlopen(req, timeout=3600) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, None, 0
    except OSError:
        return 0, None, 0
    try:
        total = json.loads(body).get("total")
    except (ValueError, AttributeError):
        total = None
    return status, total if isinstance(total, int) else None, len(body)


def run_user_workloads(
    workloads: list[UserWorkload],
    lmkg: Target,
    oxigraph: Target,
    pool: ClientPool,
    *,
    rounds: int,
    duration: float,
    request_timeout: float,
    after_writes: int,
    oxigraph_tries: int,
    label: str,
) -> dict[str, Any]:
    """Every REST workload: uncached bursts (the primary figure), reads right after a write,
    kept answers (secondary), and one client each on lmkg (uncached) and on the Oxigraph server
    (the SPARQL that answers the same question) for the ratio, in one run."""
    out: dict[str, dict[str, Any]] = {}
    # 1. One client each, for the ratio and the check that both count the same models.
    for workload in workloads:
        status, total, size = total_of(lmkg, workload.requests[0])
        ours = pool.sequential(
            lmkg.base, (workload.uncached() * 10)[: max(10, min(len(workload.requests), 20))]
        )
        theirs: list[float] = []
        over_limit = False
        count: int | None = None
        for attempt in range(oxigraph_tries):
            seconds, first = sparql_answer(
                oxigraph, workload.sparql[attempt % len(workload.sparql)], request_timeout
            )
            if seconds is None:
                over_limit = True
                print(
                    f"[{label}] {workload.name}: the Oxigraph server passed {request_timeout:g} s", flush=True
                )
                oxigraph.restart()  # it may go on computing the query: that would load the machine
                break
            if attempt == 0:
                count = count_of(first)
            theirs.append(seconds)
            if seconds > request_timeout / 4:
                break  # one slow answer is enough; three would take the run's time
        ordered = sorted(ours.latencies)
        out[workload.name] = {
            "description": workload.description,
            "sparql_note": workload.sparql_note,
            "status": status,
            "bytes": size,
            "total": total,
            "oxigraph_count": count if workload.name.startswith("models-") else None,
            "one_client_ms": percentile(ordered, 0.5) * 1e3,
            "one_client_errors": ours.errors,
            "oxigraph_ms": percentile(sorted(theirs), 0.5) * 1e3 if theirs else None,
            "oxigraph_tries": len(theirs),
            "oxigraph_over_limit_s": request_timeout if over_limit else None,
        }
        print(
            f"[{label}] {workload.name}: lmkg {out[workload.name]['one_client_ms']:.1f} ms, "
            f"Oxigraph {out[workload.name]['oxigraph_ms'] or 'over the limit'}",
            flush=True,
        )
    # 2. Uncached bursts (rounds of them) and one burst of kept answers, every workload in turn.
    uncached = {w.name: Measure() for w in workloads}
    kept = {w.name: Measure() for w in workloads}
    # A request of several seconds (the named query's every row at 100k) is measured by one
    # round and two reads after a write: more would take the run's time and tell nothing new.
    slow = {w.name for w in workloads if out[w.name]["one_client_ms"] > 5000}
    for round_number in range(rounds):
        for workload in workloads:
            if round_number and workload.name in slow:
                continue
            uncached[workload.name].add(
                pool.burst(lmkg.base, workload.uncached(), duration=duration, seed=round_number)
            )
    for workload in workloads:
        pool.sequential(lmkg.base, list(dict.fromkeys(workload.requests))[:200])  # keep the answers
        kept[workload.name].add(pool.burst(lmkg.base, workload.requests, duration=duration / 2))
    # 3. Right after a write: POST /models, then at once the read (no Cache-Control: the write
    # made every kept answer stale and the read index catches up on this request).
    for number, workload in enumerate(workloads):
        count = min(after_writes, 2) if workload.name in slow else after_writes
        documents = fresh_entries(count, tag=f"aw{number}", seed=100 + number)
        read = workload.requests[number % len(workload.requests)]
        after = pool.after_writes(lmkg.base, write_requests(documents, "/models"), read)
        out[workload.name]["after_write"] = Measure(
            len(after.latencies), after.errors, after.seconds, after.latencies
        ).summary()
        out[workload.name]["uncached"] = uncached[workload.name].summary()
        out[workload.name]["kept"] = kept[workload.name].summary()
    print(f"[{label}] REST workloads done", flush=True)
    return out


def run_mixed(
    lmkg: Target,
    pool: ClientPool,
    ids: list[str],
    *,
    clients: int,
    seconds: float,
    writes_per_second: float,
) -> dict[str, Any]:
    """`clients` readers (lists, filters, searches, look-ups) for `seconds` while one client
    writes `writes_per_second` entries through POST /models, reading each back at once."""
    count = math.ceil(seconds * writes_per_second) + 5
    documents = fresh_entries(count, tag="mx", seed=77)
    words = [str(d["label"]).rsplit(" ", 1)[1] for d in documents]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    stop = threading.Event()
    writer = WriterLog()
    thread = threading.Thread(
        target=paced_writer,
        args=(lmkg.base, documents, words, headers),
        kwargs={"per_second": writes_per_second, "stop": stop, "out": writer},
        daemon=True,
    )
    thread.start()
    try:
        reads = pool.burst(
            lmkg.base, mixed_reads(ids), duration=seconds, threads=max(1, clients // pool.processes)
        )
    finally:
        stop.set()
        thread.join(timeout=120)
    written = len(writer.write_latencies)
    return {
        "clients": max(1, clients // pool.processes) * pool.processes,
        "seconds": reads.seconds,
        "reads": Measure(len(reads.latencies), reads.errors, reads.seconds, reads.latencies).summary(),
        "read_statuses": {str(k): v for k, v in reads.statuses.items()},
        "writes": written,
        "writes_per_second": written / writer.seconds if writer.seconds else 0.0,
        "write_errors": writer.write_errors,
        "write_statuses": {str(k): v for k, v in writer.statuses.items()},
        "write_p50_ms": percentile(sorted(writer.write_latencies), 0.5) * 1e3,
        "write_p99_ms": percentile(sorted(writer.write_latencies), 0.99) * 1e3,
        "readback_p50_ms": percentile(sorted(writer.readback_latencies), 0.5) * 1e3,
        "search_misses": writer.search_misses,
        "lookup_misses": writer.lookup_misses,
    }


def memory(target: Target) -> list[dict[str, Any]]:
    return [{"role": role, "pid": pid, "mb": rss / 2**20} for role, pid, rss in target.processes()]


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
    options: RunOptions,
) -> dict[str, Any]:
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"lmkg-bench-{size}-", dir=options.workdir) as tmp:
        workdir = Path(tmp)
        store, ids, imported = build_store(size, workdir, log, prebuilt=options.prebuilt.get(size))
        nquads = dump(store, workdir)
        quads = sum(1 for _ in nquads.open("rb"))
        print(f"[{size}] {len(ids)} models, {quads} quads; starting the services", flush=True)
        targets: dict[str, Target] = {}
        try:
            targets["lmkg"] = start_lmkg(
                store,
                workdir,
                query_timeout=request_timeout,
                workers=options.lmkg_workers,
                env_extra=options.lmkg_env,
            )
            targets["oxigraph"] = start_oxigraph(nquads, workdir, query_timeout=request_timeout)
            if not options.sparql_workloads:
                log.append("SPARQL endpoint workloads not run (--skip-sparql)")
            elif size.isdigit() and int(size) > rdflib_max_entries:
                log.append(RDFLIB_SKIPPED)
            elif _version("rdflib-endpoint") == "not installed":
                log.append("rdflib-endpoint not run: not installed (pip install -e '.[bench]')")
            else:
                targets["rdflib-endpoint"] = start_rdflib(nquads, workdir)
            endpoints = {name: t.sparql_path for name, t in targets.items()}
            workloads = query_workloads(ids, endpoints) if options.sparql_workloads else []
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
                if workloads:
                    print(f"[{size}] round {round_number + 1}/{rounds} done", flush=True)
            user = run_user_workloads(
                user_workloads(ids, deep_offset=max(0, (len(ids) * 9 // 10) // 20 * 20)),
                targets["lmkg"],
                targets["oxigraph"],
                pool,
                rounds=rounds,
                duration=duration,
                request_timeout=request_timeout,
                after_writes=options.after_writes,
                oxigraph_tries=options.oxigraph_tries,
                label=size,
            )
            # The comparison servers may still be at queries their clients gave up on: the
            # mixed workload gets the cores to lmkg (the first runs at 100k had a p99 of 5-6 s
            # with the Oxigraph server still working beside it).
            settled = {name: t.wait_idle() for name, t in targets.items() if name != "lmkg"}
            others_cpu = {name: t.cpu_seconds() for name, t in targets.items() if name != "lmkg"}
            mixed = run_mixed(
                targets["lmkg"],
                pool,
                ids,
                clients=options.mixed_clients,
                seconds=options.mixed_seconds,
                writes_per_second=options.mixed_writes,
            )
            mixed["others_settled_seconds"] = settled
            mixed["others_cpu_seconds_during"] = {
                name: targets[name].cpu_seconds() - used for name, used in others_cpu.items()
            }
            print(
                f"[{size}] mixed: read p50 {mixed['reads']['p50_ms']:.1f} ms, p99 {mixed['reads']['p99_ms']:.1f} ms, "
                f"{mixed['reads']['errors']} errors, {mixed['writes']} writes, "
                f"{mixed['search_misses']}+{mixed['lookup_misses']} misses",
                flush=True,
            )
            rng = random.Random(int(size) if size.isdigit() else 7)
            fresh = [data.entry(10_000_000 + i, rng) for i in range(writes)]
            for i, document in enumerate(fresh):
                document["id"] = f"bench-write-{i:04d}"
                document.pop("fineTunedFrom", None)
            lmkg = targets["lmkg"]
            validate = pool.sequential(lmkg.base, write_requests(fresh, "/validate"))
            post = pool.sequential(lmkg.base, write_requests(fresh, "/models"))
            rss = {name: t.rss_bytes() for name, t in targets.items()}
            processes = memory(lmkg)
            health = _get_json(lmkg.base + "/health")
            lmkg.stop()
            restarted = start_lmkg(
                store,
                workdir,
                query_timeout=request_timeout,
                workers=options.lmkg_workers,
                env_extra=options.lmkg_env,
            )
            targets["lmkg"] = restarted
            rss_restart = restarted.rss_bytes()
            processes_restart = memory(restarted)
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
            "lmkg_processes": processes,
            "lmkg_processes_after_restart": processes_restart,
            "lmkg_workers": options.lmkg_workers,
            "lmkg_env": options.lmkg_env,
            "user": user,
            "mixed": mixed,
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
    options: RunOptions | None = None,
) -> None:
    options = options or RunOptions()
    pool = ClientPool(processes, threads)
    meta = {
        "machine": machine(),
        "command": command,
        "clients": pool.clients,
        "rounds": rounds,
        "duration": duration,
        "request_timeout": request_timeout,
    }
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
                    options=options,
                )
            )
            (output.parent / "results.json").write_text(
                json.dumps({"meta": meta, "results": results}, indent=1), encoding="utf-8"
            )
    finally:
        pool.close()
    report([output.parent / "results.json"], output)


def report(results_files: list[Path], output: Path) -> None:
    """bench/RESULTS.md's measured part, written again from the results.json of one run or of
    several (their sizes in the order given, each run's command shown; the first's settings)."""
    from bench.report import write_results

    saved = [json.loads(f.read_text(encoding="utf-8")) for f in results_files]
    meta = saved[0]["meta"]
    write_results(
        output,
        [result for run in saved for result in run["results"]],
        meta["machine"],
        "\n".join(run["meta"]["command"] for run in saved),
        clients=meta["clients"],
        rounds=meta["rounds"],
        duration=meta["duration"],
        request_timeout=meta["request_timeout"],
    )


def default_command(argv: list[str]) -> str:
    return "python3 -m bench " + " ".join(shlex.quote(a) for a in argv)
