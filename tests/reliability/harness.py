"""What the fault and load tests share: `lmkg serve` as a real subprocess, SIGKILL, and a
snapshot of what the store holds, read back over HTTP and compared with fresh writes.

Everything goes through the user's path (the `lmkg` command, HTTP with the token), so the
tests hold whatever runs behind it: an engine process, workers, or the store in-process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS
from rdflib.term import Identifier

from lmkg.vocab import GRAPH_INFERRED, GRAPH_MODEL, GRAPH_ONTOLOGY, LMKG, MODEL, VERDICT
from tests.conftest import TOKEN, free_port

AUTH = {"Authorization": f"Bearer {TOKEN}"}
READY_TIMEOUT = 90.0


def env_number(name: str, default: float) -> float:
    """A knob of the full form (e.g. LMKG_KILL_ROUNDS=10), or the reduced form's default."""
    text = os.environ.get(name, "").strip()
    return float(text) if text else default


def lmkg_env(store: Path, **extra: str) -> dict[str, str]:
    """The environment of an `lmkg` subprocess on `store`, writes enabled by TOKEN."""
    env = {**os.environ, "LMKG_STORE": str(store), "LMKG_TOKEN": TOKEN, **extra}
    for name in ("LMKG_STORE_CHANGES", "LMKG_SERVED_STORE", "LMKG_WORKER_OF"):
        env.pop(name, None)  # each service supervises its own store server
    env.pop("LMKG_READ_TOKEN", None)
    return env


# -- processes ------------------------------------------------------------------------------


def alive(process: psutil.Process) -> bool:
    """Running (a zombie has finished: only its parent has not collected it yet)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def survivors(processes: Iterable[psutil.Process], *, within: float) -> list[str]:
    """The processes still running after `within` seconds, described for a failure message."""
    waiting = list(processes)
    deadline = time.monotonic() + within
    while True:
        waiting = [p for p in waiting if alive(p)]
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    described = []
    for process in waiting:
        try:
            described.append(f"{process.pid}: {' '.join(process.cmdline())}")
        except psutil.Error:
            continue
    return described


class Service:
    """`lmkg serve` on an on-disk store, in a session of its own so that its whole process
    group can be killed at once; its log goes to a file beside the store."""

    def __init__(self, store: Path, *, workers: int = 1, env: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = lmkg_env(store, LMKG_MAX_ROWS="10000000", **(env or {}))
        self.log = store.parent / f"{store.name}-serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["lmkg", "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()
        return self

    def wait_ready(self, *, timeout: float = READY_TIMEOUT) -> dict[str, Any]:
        """Wait for `/health` to answer 200 with status ok; its body."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"lmkg serve exited with {self.process.returncode} before it was ready:\n{self.log_text()}"
                )
            try:
                response = httpx.get(f"{self.url}/health", timeout=10)
                if response.status_code == 200 and response.json().get("status") == "ok":
                    return dict(response.json())
                last = f"{response.status_code} {response.text[:300]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.05)
        raise AssertionError(f"lmkg serve not ready after {timeout} s ({last}):\n{self.log_text()}")

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def tree(self) -> list[psutil.Process]:
        """The service process and every process below it."""
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]

    def rss_bytes(self) -> int:
        """Resident memory of the service and all its descendants."""
        total = 0
        for process in self.tree():
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        return total

    def kill(self, *, group: bool = True) -> list[str]:
        """SIGKILL the service (its whole process group, or the `lmkg serve` process alone, as
        the kernel's OOM killer would); the descendants still running 5 s later."""
        assert self.process is not None
        descendants = self.tree()[1:]
        if group:
            os.killpg(self.pid, signal.SIGKILL)
        else:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        left = survivors(descendants, within=5.0)
        self._kill_leftovers()
        self.process = None
        return left

    def stop(self) -> None:
        """End the service as Ctrl-C would, then anything left of its group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._kill_leftovers()
        self.process = None

    def _kill_leftovers(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- what the store holds ----------------------------------------------------------------------

Triple = tuple[Identifier, Identifier, Identifier]


def term(binding: Mapping[str, str]) -> Identifier:
    """An rdflib term from a SPARQL JSON results binding."""
    if binding["type"] == "uri":
        return URIRef(binding["value"])
    if binding["type"] in ("literal", "typed-literal"):
        datatype = binding.get("datatype")
        return Literal(
            binding["value"], lang=binding.get("xml:lang"), datatype=URIRef(datatype) if datatype else None
        )
    raise AssertionError(f"a blank node in an entry graph: {binding}")


def select(client: httpx.Client, url: str, query: str) -> list[dict[str, Identifier]]:
    response = client.post(
        f"{url}/sparql",
        content=query,
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    assert "X-SPARQL-MaxRows" not in response.headers, "the snapshot was cut by LMKG_MAX_ROWS"
    return [
        {name: term(value) for name, value in row.items()} for row in response.json()["results"]["bindings"]
    ]


@dataclass(frozen=True)
class EntryState:
    """One stored entry: its graph's triples (without the time stamp, which differs on every
    write) with the entry's own IRI as `MODEL["__id__"]`, and its inferred triples."""

    triples: frozenset[Triple]
    inferred: frozenset[Triple]

    def describe(self) -> str:
        labels = [str(o) for s, p, o in self.triples if s == PLACEHOLDER and p == RDFS.label]
        return f"{len(self.triples)} triples, {len(self.inferred)} inferred, label {labels}"


PLACEHOLDER = MODEL["__id__"]


def _generic(node: Identifier, iri: URIRef) -> Identifier:
    if node == iri:
        return PLACEHOLDER
    # The entry's verdict nodes in the inferred graph are named after it (lmkg.evidence).
    own_verdicts = str(VERDICT) + str(iri)[len(str(MODEL)) :] + "/"
    if isinstance(node, URIRef) and str(node).startswith(own_verdicts):
        return VERDICT["__id__/" + str(node)[len(own_verdicts) :]]
    return node


def _generic_triples(triples: Iterable[Triple], iri: URIRef) -> frozenset[Triple]:
    return frozenset((_generic(s, iri), _generic(p, iri), _generic(o, iri)) for s, p, o in triples)


@dataclass
class Snapshot:
    """Every entry graph, the inferred triples about entries, and the seeded graphs' sizes."""

    entries: dict[str, EntryState]
    stamps: dict[str, int]  # id -> how many prov:generatedAtTime its graph has
    orphans: dict[str, frozenset[Triple]]  # inferred triples about a model without an entry graph
    ontology_triples: int
    tbox_triples: int  # inferred triples about anything but a model: the class hierarchy

    @property
    def ids(self) -> set[str]:
        return set(self.entries)


def snapshot(url: str) -> Snapshot:
    """Read back what the service's store holds, over /sparql."""
    with httpx.Client() as client:
        graphs = select(
            client,
            url,
            f'SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{GRAPH_MODEL}")) }}',
        )
        inferred = select(
            client,
            url,
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{GRAPH_INFERRED}> {{ ?s ?p ?o }} "
            f'FILTER(STRSTARTS(STR(?s), "{MODEL}") || STRSTARTS(STR(?s), "{VERDICT}")) }}',
        )
        ontology = select(
            client, url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH_ONTOLOGY}> {{ ?s ?p ?o }} }}"
        )
        tbox = select(
            client,
            url,
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH_INFERRED}> {{ ?s ?p ?o }} "
            f'FILTER(!STRSTARTS(STR(?s), "{MODEL}") && !STRSTARTS(STR(?s), "{VERDICT}")) }}',
        )
    by_graph: dict[str, set[Triple]] = {}
    stamps: dict[str, int] = {}
    for row in graphs:
        model_id = str(row["g"])[len(str(GRAPH_MODEL)) :]
        stamps.setdefault(model_id, 0)
        if row["p"] == PROV.generatedAtTime:
            stamps[model_id] += 1
            continue
        by_graph.setdefault(model_id, set()).add((row["s"], row["p"], row["o"]))
    inferred_by_id: dict[str, set[Triple]] = {}
    for row in inferred:
        subject = str(row["s"])
        if subject.startswith(str(VERDICT)):  # VERDICT[f"{id}/{trait}"]: one of the entry's verdicts
            model_id = subject[len(str(VERDICT)) :].rsplit("/", 1)[0]
        else:
            model_id = subject[len(str(MODEL)) :]
        inferred_by_id.setdefault(model_id, set()).add((row["s"], row["p"], row["o"]))
    entries = {
        model_id: EntryState(
            _generic_triples(triples, MODEL[model_id]),
            _generic_triples(inferred_by_id.get(model_id, ()), MODEL[model_id]),
        )
        for model_id, triples in by_graph.items()
    }
    orphans = {
        model_id: frozenset(triples)
        for model_id, triples in inferred_by_id.items()
        if model_id not in entries
    }
    return Snapshot(
        entries,
        stamps,
        orphans,
        int(ontology[0]["n"].toPython()),  # type: ignore[attr-defined]
        int(tbox[0]["n"].toPython()),  # type: ignore[attr-defined]
    )


# -- generated entries ----------------------------------------------------------------------------

_LICENCES = ["Apache-2.0", "MIT", "proprietary", "CC-BY-4.0"]


def version_entry(model_id: str, version: int) -> dict[str, Any]:
    """A complete, valid entry whose every field derives from `version`: two versions of one id
    share no label, size, developer, date, description, task or source, so a mix of two shows."""
    small = version % 3 != 0
    billions = 1 + version % 7 if small else 20 + version
    return {
        "id": model_id,
        "label": f"Reliability model, version {version}",
        "kind": "slm" if small else "llm",
        "parameterCount": billions * 1_000_000_000 + version,
        "developer": f"Reliability Lab {version}",
        "releaseDate": f"{2010 + version % 15}-{1 + version % 12:02d}-{1 + version % 28:02d}",
        "license": _LICENCES[version % len(_LICENCES)],
        "openWeights": version % 2 == 0,
        "description": f"Version {version} of a generated entry.",
        "tasks": [f"task {version}a", f"task {version}b"],
        "sources": [f"https://example.org/reliability/v{version}"],
    }


@dataclass
class Reference:
    """Fresh writes on a service of their own: what storing an entry of each version gives."""

    url: str
    states: dict[int, EntryState] = field(default_factory=dict)

    def of(self, version: int) -> EntryState:
        if version not in self.states:
            model_id = f"reliability-reference-v{version}"
            response = httpx.put(
                f"{self.url}/models/{model_id}",
                json=version_entry(model_id, version),
                headers=AUTH,
                timeout=60,
            )
            if response.status_code == 404:
                response = httpx.post(
                    f"{self.url}/models", json=version_entry(model_id, version), headers=AUTH, timeout=60
                )
            assert response.status_code in (200, 201), response.text
            self.states[version] = snapshot(self.url).entries[model_id]
        return self.states[version]


# -- checks ------------------------------------------------------------------------------------------


_CURATED = {RDFS.label, RDF.type, LMKG.parameterCount, LMKG.releaseDate, LMKG.licence, LMKG.developedBy}


def _curated_facts(state: EntryState) -> frozenset[Triple]:
    """The seeded entry's own facts (name, kind, size, date, licence, developer), which an import
    that merges its statements into the entity must leave as they are (lmkg.importers.matching)."""
    return frozenset(t for t in state.triples if t[0] == PLACEHOLDER and t[1] in _CURATED)


def problems_after_restart(
    found: Snapshot, allowed: Mapping[str, Collection[EntryState | None]], *, seeded: Snapshot
) -> list[str]:
    """Everything wrong with a store after a crash, as sentences.

    `allowed` gives, for every id written, the states it may be in (None: no entry): that of
    the last acknowledged write, and that of a write in flight when the service was killed.
    `seeded` is a fresh store's snapshot: the ontology, the class hierarchy the reasoner
    entails and the examples must all be there whole.
    """
    problems: list[str] = []
    if (found.ontology_triples, found.tbox_triples) != (seeded.ontology_triples, seeded.tbox_triples):
        problems.append(
            f"the ontology graph and its inferred hierarchy have {found.ontology_triples} and "
            f"{found.tbox_triples} triples; a fresh store {seeded.ontology_triples} and {seeded.tbox_triples}"
        )
    for model_id, state in seeded.entries.items():
        now = found.entries.get(model_id)
        if now is not None and _curated_facts(state) <= now.triples:
            continue  # whole, or an import merged its statements into the curated entry: its facts kept
        if now != state:
            problems.append(f"the seeded example '{model_id}' is missing or differs from a fresh store's")
    for model_id, triples in found.orphans.items():
        problems.append(
            f"'{model_id}' has no entry but {len(triples)} inferred triples: {sorted(triples)[:3]}"
        )
    for model_id, count in found.stamps.items():
        if count != 1:
            problems.append(f"'{model_id}' has {count} time stamps (prov:generatedAtTime), not 1")
    for model_id, states in allowed.items():
        state = found.entries.get(model_id)
        if state in states:
            continue
        if state is None:
            problems.append(f"'{model_id}' is missing, but an acknowledged write stored it")
        else:
            whole = "; ".join(s.describe() for s in states if s is not None) or "none"
            problems.append(
                f"'{model_id}' is stored as {state.describe()}: not a whole version it may be in "
                f"({whole}; absent allowed: {None in states})"
            )
    unexpected = found.ids - set(allowed) - set(seeded.entries)
    problems.extend(f"'{model_id}' is stored but was never written" for model_id in sorted(unexpected))
    return problems
