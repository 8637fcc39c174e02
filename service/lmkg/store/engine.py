"""The embedded store run in a child process, so that a query past its time limit can be stopped.

pyoxigraph evaluates a query in Rust with no way to cancel it from Python: a query that runs
for an hour keeps a core busy for an hour, whatever the HTTP side does. So `lmkg serve` does
not open the on-disk store itself. It starts one *engine process* that opens it (RocksDB
allows a single writer) and answers requests over a socket pair, each in its own thread (the
engine releases the GIL while it evaluates). When a request outlives its limit:

1. new requests wait, and writes already in flight are let finish (they are short);
2. the engine process is killed (SIGKILL), which stops the query at once; RocksDB commits
   a transaction whole or not at all, so nothing half-written remains;
3. a new engine process opens the store, and reads that were in flight on the old one are
   run again there; the request that ran too long gets QueryTimeoutError (HTTP 503).

The engine process watches its parent: if the service dies (even by SIGKILL), the engine
exits within half a second and frees the store's lock for the next start.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.term import Identifier

from lmkg.errors import LmkgError, QueryTimeoutError, StoreError, StoreUnavailableError
from lmkg.store.base import GraphWrite, QueryGate, RawResult, Row

log = logging.getLogger("lmkg.engine")

_READS = frozenset({"select", "ask", "construct", "execute"})
"""Operations that change nothing: safe to run again on a new engine after a restart."""

_INTERNAL_TIMEOUT = 600.0
"""The limit for the service's own bulk operations (writes of a batch, reading a graph)."""


class _Restarted(Exception):
    """The engine was restarted (another request ran too long) while this request was in it."""


class EngineStore:
    """A Store whose engine runs in a child process that can be killed and restarted."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0, threads: int = 8) -> None:
        self.location = str(path)
        self.timeout = timeout
        self.threads = threads
        self.restarts = 0
        self._ids = itertools.count()
        self._lifecycle = threading.RLock()  # held while the engine is (re)started or stopped
        self._send_lock = threading.Lock()
        self._pending: dict[int, tuple[Future[Any], str]] = {}
        self._pending_lock = threading.Condition()
        self._closed = False
        self._gate = QueryGate(threads)
        self._generation = 0
        self._stopping = 0  # the generation being killed on purpose (its exit is expected)
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        with self._lifecycle:
            self._start()

    # -- the engine process ------------------------------------------------------------------

    def _start(self) -> None:
        Path(self.location).mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair()
        command = [
            sys.executable,
            "-m",
            "lmkg.store.engine",
            str(theirs.fileno()),
            self.location,
            str(self.threads),
            str(os.getpid()),
        ]
        self._process = subprocess.Popen(command, pass_fds=(theirs.fileno(),), close_fds=True)
        theirs.close()
        conn = Connection(ours.detach())
        # The engine says "ready" once the store is open, or why it could not open it.
        if not conn.poll(60):
            self._process.kill()
            raise StoreError(f"the engine process did not open the store at {self.location} within 60 s")
        try:
            status, detail = conn.recv()
        except EOFError:
            status, detail = "failed", f"the engine process exited with code {self._process.wait()}"
        if status != "ready":
            self._process.wait()
            raise StoreError(f"cannot open the embedded store at {self.location}: {detail}")
        self._conn = conn
        self._generation += 1
        reader = threading.Thread(
            target=self._read_replies, args=(conn, self._generation), name="lmkg-engine-reader", daemon=True
        )
        reader.start()

    def _read_replies(self, conn: Connection, generation: int) -> None:
        while True:
            try:
                request_id, ok, payload = conn.recv()
            except (EOFError, OSError):
                break
            with self._pending_lock:
                entry = self._pending.pop(request_id, None)
                self._pending_lock.notify_all()
            if entry is None:
                continue
            future = entry[0]
            if ok:
                future.set_result(payload)
            else:
                future.set_exception(payload)
        # The engine is gone: whatever was waiting on this generation will not be answered.
        if generation != self._stopping and not self._closed:
            log.error("the engine process exited unexpectedly; it is restarted on the next request")
        with self._pending_lock:
            for request_id, (future, _) in list(self._pending.items()):
                if getattr(future, "generation", None) == generation:
                    self._pending.pop(request_id)
                    future.set_exception(_Restarted())
            self._pending_lock.notify_all()

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _restart(self, generation: int, waiting: Future[Any]) -> None:
        """Kill the engine of `generation` (if still current) once in-flight writes are done."""
        with self._lifecycle:
            if generation != self._generation or self._closed:
                return
            deadline = time.monotonic() + self.timeout
            with self._pending_lock:
                while (
                    any(op not in _READS and future is not waiting for future, op in self._pending.values())
                    and time.monotonic() < deadline
                ):
                    self._pending_lock.wait(0.05)
            log.warning("a request ran past %.1f s: restarting the engine process", self.timeout)
            self._stopping = generation
            self._kill()
            self.restarts += 1
            self._start()

    def _ensure_running(self) -> None:
        with self._lifecycle:
            if self._closed:
                raise StoreError("the store is closed")
            if self._process is None or self._process.poll() is not None:
                self._kill()
                self.restarts += 1
                self._start()

    # -- requests --------------------------------------------------------------------------

    def _call(self, op: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        if op in _READS:
            with self._gate.enter():
                return self._call_engine(op, args, kwargs, timeout)
        return self._call_engine(op, args, kwargs, timeout)

    def _call_engine(
        self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float | None
    ) -> Any:
        limit = self.timeout if timeout is None else timeout
        for attempt in range(2):
            with self._lifecycle:  # waits while a restart is under way
                self._ensure_running()
                generation, conn = self._generation, self._conn
            assert conn is not None
            request_id = next(self._ids)
            future: Future[Any] = Future()
            future.generation = generation  # type: ignore[attr-defined]
            with self._pending_lock:
                self._pending[request_id] = (future, op)
            try:
                with self._send_lock:
                    conn.send((request_id, op, args, kwargs))
            except (OSError, ValueError):
                with self._pending_lock:
                    self._pending.pop(request_id, None)
                if attempt == 0:
                    continue
                raise StoreUnavailableError("the engine process is not answering; retry shortly") from None
            try:
                return future.result(timeout=limit)
            except FutureTimeout:
                self._restart(generation, future)
                with self._pending_lock:
                    self._pending.pop(request_id, None)
                raise QueryTimeoutError(
                    f"The {'update' if op == 'update' else 'query'} ran longer than the time limit "
                    f"({limit:g} s, LMKG_QUERY_TIMEOUT) and was stopped"
                    + ("; nothing of it was applied." if op == "update" else ".")
                ) from None
            except _Restarted:
                if op in _READS and attempt == 0:
                    continue  # a read changes nothing: run it again on the new engine
                raise StoreUnavailableError(
                    "the engine restarted while this write was in flight; it was not acknowledged, "
                    "check and retry"
                ) from None
        raise StoreUnavailableError("the engine process restarted twice during this request; retry")

    def select(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        rows: list[Row] = self._call("select", query, bindings=bindings)
        return rows

    def ask(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> bool:
        return bool(self._call("ask", query, bindings=bindings))

    def construct(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        return _graph_of(self._call("construct", query, bindings=bindings))

    def execute(
        self,
        query: str,
        *,
        select_format: str,
        graph_format: str,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        base_iri: str | None = None,
        max_rows: int | None = None,
    ) -> RawResult:
        result: RawResult = self._call(
            "execute",
            query,
            select_format=select_format,
            graph_format=graph_format,
            default_graph_uris=tuple(default_graph_uris),
            named_graph_uris=tuple(named_graph_uris),
            base_iri=base_iri,
            max_rows=max_rows,
        )
        return result

    def update(
        self,
        update: str,
        *,
        base_iri: str | None = None,
        using_graph_uris: Sequence[str] = (),
        using_named_graph_uris: Sequence[str] = (),
    ) -> None:
        self._call(
            "update",
            update,
            base_iri=base_iri,
            using_graph_uris=tuple(using_graph_uris),
            using_named_graph_uris=tuple(using_named_graph_uris),
        )

    def write(self, change: GraphWrite) -> None:
        payload = (
            {iri: list(graph) for iri, graph in change.replace.items()},
            set(change.inferred_subjects),
            list(change.inferred),
        )
        self._call("write_triples", *payload, timeout=max(self.timeout, _INTERNAL_TIMEOUT))

    def graph(self, graph_iri: URIRef) -> Graph:
        return _graph_of(self._call("graph", graph_iri, timeout=max(self.timeout, _INTERNAL_TIMEOUT)))

    def load_graph(self, graph_iri: URIRef, data: Graph) -> None:
        self.write(GraphWrite(replace={graph_iri: data}))

    def graph_names(self) -> list[URIRef]:
        names: list[URIRef] = self._call("graph_names", timeout=max(self.timeout, _INTERNAL_TIMEOUT))
        return names

    def triple_count(self) -> int:
        return int(self._call("triple_count", timeout=max(self.timeout, _INTERNAL_TIMEOUT)))

    @property
    def engine_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        with self._lifecycle:
            if self._closed:
                return
            self._closed = True
            self._stopping = self._generation
            conn, process = self._conn, self._process
            if conn is not None:
                try:
                    with self._send_lock:
                        conn.send(None)  # finish what is running, flush, exit
                except OSError:
                    pass
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if conn is not None:
                conn.close()
            self._conn = None


def _graph_of(triples: list[tuple[Any, Any, Any]]) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


# -- the engine process's side ----------------------------------------------------------------


def _watch_parent(parent: int) -> None:
    """Exit as soon as the service that started this engine is gone (even if it was SIGKILLed)."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def _open_store(path: str) -> Any:
    from lmkg.store.oxigraph import OxigraphStore

    # A previous engine that has not yet noticed its service died may still hold the lock.
    deadline = time.monotonic() + 10
    while True:
        try:
            return OxigraphStore(path)
        except StoreError as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _handle(store: Any, request: tuple[int, str, tuple[Any, ...], dict[str, Any]]) -> tuple[int, bool, Any]:
    request_id, op, args, kwargs = request
    try:
        if op == "write_triples":
            replace, subjects, inferred = args
            change = GraphWrite(
                replace={iri: _graph_of(triples) for iri, triples in replace.items()},
                inferred_subjects=subjects,
                inferred=_graph_of(inferred),
            )
            store.write(change)
            return request_id, True, None
        method: Callable[..., Any] = getattr(store, op)
        result = method(*args, **kwargs)
        if isinstance(result, Graph):
            result = list(result)
        return request_id, True, result
    except (LmkgError, ValueError) as exc:
        return request_id, False, exc
    except Exception as exc:  # an engine bug must reach the service as an error, not a hang
        return request_id, False, StoreError(f"the engine failed on {op}: {type(exc).__name__}: {exc}")


def _serve(fd: int, path: str, threads: int, parent: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    conn = Connection(fd)
    try:
        store = _open_store(path)
    except Exception as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", None))
    send_lock = threading.Lock()

    def run(request: tuple[int, str, tuple[Any, ...], dict[str, Any]]) -> None:
        reply = _handle(store, request)
        try:
            payload = pickle.dumps(reply)
        except Exception as exc:
            payload = pickle.dumps((reply[0], False, StoreError(f"cannot return the result: {exc}")))
        with send_lock:
            conn.send_bytes(payload)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lmkg-engine") as pool:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                break
            if request is None:
                break
            pool.submit(run, request)
    store.close()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
