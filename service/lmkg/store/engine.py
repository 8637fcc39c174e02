"""The embedded store run in an engine process, so that a query past its time limit can be stopped.

pyoxigraph evaluates a query in Rust with no way to cancel it from Python: a query that runs
for an hour keeps a core busy for an hour, whatever the HTTP side does. So the service does
not open the on-disk store itself. An *engine process* opens it (RocksDB allows one writer)
and serves requests on a Unix socket, each in a thread (the engine releases the GIL while it
evaluates). Every HTTP worker process is a client of that one engine (`EngineStore`), which
is what lets `lmkg serve --workers N` run on the embedded store.

When a request outlives its limit, its client asks the engine to restart: the engine lets
writes in flight finish (they are short), then exits at once, which stops the query;
RocksDB commits a transaction whole or not at all, so nothing half-written remains. The
supervisor (`EngineProcess`, in the process that started the engine) starts a new engine on
the same socket; clients reconnect, reads that were in flight are run again there, and the
request that ran too long gets QueryTimeoutError (HTTP 503).

The engine watches its supervisor: if the service dies (even by SIGKILL), the engine exits
within half a second and frees the store's lock for the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import logging
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.term import Identifier

from lmkg.errors import LmkgError, QueryTimeoutError, StoreError, StoreUnavailableError
from lmkg.store.base import GraphWrite, QueryGate, RawResult, Row
from lmkg.store.generation import Generation
from lmkg.store.prepared import prepare_write

log = logging.getLogger("lmkg.engine")

_READS = frozenset({"select", "ask", "construct", "execute", "graph", "graph_names", "triple_count"})
"""Operations that change nothing: safe to run again on a new engine after a restart."""

_INTERNAL_TIMEOUT = 600.0
"""The limit for the service's own bulk operations (writes of a batch, reading a graph)."""

_RESTART_EXIT = 75
"""The engine's exit code when it stops on a client's request (a query ran too long)."""


def changes_path(socket_path: str) -> str:
    """The file beside the engine's socket that holds the store's change count."""
    return socket_path + ".changes"


# -- the supervisor: starts the engine and starts it again whenever it exits --------------


class EngineProcess:
    """Starts the engine process on a store and keeps one running until `stop()`."""

    def __init__(self, store_path: str | Path, *, socket_path: str | None = None) -> None:
        self.store_path = str(store_path)
        if socket_path is None:
            self._socket_dir: str | None = tempfile.mkdtemp(prefix="lmkg-engine-")
            socket_path = os.path.join(self._socket_dir, "engine.sock")
        else:
            self._socket_dir = None
        self.socket_path = socket_path
        self.restarts = 0
        self._stopped = False
        self._process: subprocess.Popen[str] | None = None
        Path(self.store_path).mkdir(parents=True, exist_ok=True)
        self._start()
        self._monitor = threading.Thread(target=self._watch, name="lmkg-engine-supervisor", daemon=True)
        self._monitor.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "lmkg.store.engine",
            self.socket_path,
            self.store_path,
            str(os.getpid()),
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, close_fds=True)
        assert process.stdout is not None
        # The engine prints "ready" once the store is open and it listens, or why it cannot.
        readable, _, _ = select.select([process.stdout], [], [], 120)
        if not readable:
            process.kill()
            process.wait()
            raise StoreError(f"the engine process did not open the store at {self.store_path} within 120 s")
        line = process.stdout.readline().strip()
        if line != "ready":
            code = process.wait()
            raise StoreError(
                f"cannot open the embedded store at {self.store_path}: "
                f"{line or f'the engine process exited with code {code}'}"
            )
        self._process = process

    def _watch(self) -> None:
        while True:
            process = self._process
            assert process is not None
            code = process.wait()
            # An engine killed after a commit and before its bump would leave kept answers
            # looking valid until the next engine starts: the supervisor bumps at once.
            with contextlib.suppress(OSError):
                changes = Generation(changes_path(self.socket_path), create=False)
                changes.bump()
                changes.close()
            if process.stdout is not None:
                process.stdout.close()
            if self._stopped:
                return
            if code == _RESTART_EXIT:
                log.warning("the engine stopped a request that ran past its time limit; starting it again")
            else:
                log.error("the engine process exited with code %s; starting it again", code)
            while not self._stopped:
                try:
                    self._start()
                    self.restarts += 1
                    if self._stopped:  # stop() came while this engine was starting
                        self.stop()
                    break
                except StoreError as exc:
                    log.error("%s; retrying in 1 s", exc)
                    time.sleep(1)

    def stop(self) -> None:
        """Let running requests finish, flush the store and end the engine."""
        self._stopped = True
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None and not process.stdout.closed:
            process.stdout.close()
        if self._socket_dir is not None:
            for leftover in (self.socket_path, changes_path(self.socket_path)):
                with contextlib.suppress(OSError):
                    os.unlink(leftover)
            with contextlib.suppress(OSError):
                os.rmdir(self._socket_dir)


# -- the client: a Store whose requests the engine answers -------------------------------


class _Link:
    """One connection to the engine, used by one thread at a time (request, then answer)."""

    def __init__(self, conn: Connection, number: int, pid: int) -> None:
        self.conn = conn
        self.number = number  # the engine's name for this connection
        self.pid = pid


class EngineStore:
    """A Store answered by an engine process: its own (given a store path) or a shared one
    (given the socket of an engine another process supervises, as each `--workers` worker is).

    Each calling thread has a connection of its own and waits on it for its answer; the
    engine answers each connection in a thread of its own. No thread hands work to another
    on either side, which keeps a round trip near a tenth of a millisecond.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        socket_path: str | None = None,
        timeout: float = 30.0,
        threads: int = 8,
    ) -> None:
        if (path is None) == (socket_path is None):
            raise ValueError("give either a store path (an engine of its own) or an engine's socket path")
        self._owned = EngineProcess(path) if path is not None else None
        self.socket_path = self._owned.socket_path if self._owned is not None else str(socket_path)
        self.location = str(path) if path is not None else f"engine at {socket_path}"
        self.timeout = timeout
        self._gate = QueryGate(threads)
        self._local = threading.local()
        self._engine_pid: int | None = None
        self._closed = False
        self._changes: Generation | None = None
        self._link()

    @property
    def engine_pid(self) -> int | None:
        """The engine process this client talked to last."""
        return self._engine_pid

    @property
    def restarts(self) -> int:
        """How often this store's own engine was started again (0 for a shared engine)."""
        return self._owned.restarts if self._owned is not None else 0

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> _Link:
        deadline = time.monotonic() + 60
        while True:
            if self._closed:
                raise StoreError("the store is closed")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.socket_path)
                conn = Connection(sock.detach())
                hello, pid, number = conn.recv()
                break
            except (OSError, EOFError):
                sock.close()
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        f"the engine process ({self.socket_path}) is not answering; retry shortly"
                    ) from None
                time.sleep(0.02)
        assert hello == "hello"
        self._engine_pid = pid
        return _Link(conn, number, pid)

    def _link(self) -> _Link:
        link: _Link | None = getattr(self._local, "link", None)
        if link is None or link.conn.closed:
            link = self._connect()
            self._local.link = link
        return link

    def _drop(self, link: _Link) -> None:
        link.conn.close()
        if getattr(self._local, "link", None) is link:
            self._local.link = None

    def _restart_engine(self, link: _Link, wait: float) -> None:
        """Ask the engine to stop everything once writes in flight (but `link`'s) are done."""
        try:
            control = self._connect()
        except StoreUnavailableError:
            return
        try:
            if control.pid == link.pid:  # still the engine that runs the slow request
                control.conn.send(("restart", (link.number, wait), {}))
                control.conn.poll(wait + 5)  # answered by the engine going away
        except OSError:
            pass
        finally:
            control.conn.close()

    # -- requests --------------------------------------------------------------------------

    def _call(self, op: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        if op in ("select", "ask", "construct", "execute"):
            with self._gate.enter():
                return self._call_engine(op, args, kwargs, timeout)
        return self._call_engine(op, args, kwargs, timeout)

    def _call_engine(
        self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float | None
    ) -> Any:
        limit = self.timeout if timeout is None else timeout
        engine_lost = False  # the engine went away with this request in it
        for _attempt in range(3):
            link = self._link()
            try:
                link.conn.send((op, args, kwargs))
            except OSError:
                self._drop(link)  # the engine went away before it read the request
                continue
            try:
                if not link.conn.poll(limit):
                    self._restart_engine(link, limit)
                    self._drop(link)
                    what = "update" if op == "update" else "query"
                    raise QueryTimeoutError(
                        f"The {what} ran longer than the time limit ({limit:g} s, LMKG_QUERY_TIMEOUT) "
                        "and was stopped" + ("; nothing of it was applied." if op == "update" else ".")
                    )
                ok, payload = link.conn.recv()
            except (EOFError, OSError):
                self._drop(link)
                if op in _READS and not engine_lost:
                    engine_lost = True
                    continue  # a read changes nothing: run it once more on the new engine
                if op in _READS:
                    raise StoreUnavailableError(
                        "the engine process stopped twice while this query ran; the query itself may "
                        "be what stops it, so it is not run again"
                    ) from None
                raise StoreUnavailableError(
                    "the engine restarted while this write was in flight, so it was not acknowledged: "
                    "check whether it was applied, then retry"
                ) from None
            if ok:
                return payload
            raise payload
        raise StoreUnavailableError("the engine process restarted during this request more than once; retry")

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
        # Sent as N-Quads text: one string pickles far faster than rdflib triples.
        self._call("apply", prepare_write(change), timeout=max(self.timeout, _INTERNAL_TIMEOUT))

    def graph(self, graph_iri: URIRef) -> Graph:
        return _graph_of(self._call("graph", graph_iri, timeout=max(self.timeout, _INTERNAL_TIMEOUT)))

    def load_graph(self, graph_iri: URIRef, data: Graph) -> None:
        self.write(GraphWrite(replace={graph_iri: data}))

    def graph_names(self) -> list[URIRef]:
        names: list[URIRef] = self._call("graph_names", timeout=max(self.timeout, _INTERNAL_TIMEOUT))
        return names

    def triple_count(self) -> int:
        return int(self._call("triple_count", timeout=max(self.timeout, _INTERNAL_TIMEOUT)))

    def generation(self) -> int | None:
        # Read from the file the engine keeps it in: no round trip.
        if self._changes is None:
            try:
                self._changes = Generation(changes_path(self.socket_path), create=False)
            except OSError:
                return None
        return self._changes.value()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._changes is not None:
            self._changes.close()
        link: _Link | None = getattr(self._local, "link", None)
        if link is not None:
            link.conn.close()
        if self._owned is not None:
            self._owned.stop()


def _graph_of(triples: list[tuple[Any, Any, Any]]) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


# -- the engine process's side ----------------------------------------------------------------

_WRITES = frozenset({"update", "apply"})


class _Engine:
    """The store, and the writes in flight (which a restart waits for)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.writes: set[int] = set()  # the connections whose write is in flight
        self.writes_changed = threading.Condition()
        self.connections = itertools.count()
        self.running = 0
        self.idle = threading.Condition()
        self.memory = _Memory()

    def serve_connection(self, conn: Connection) -> None:
        number = next(self.connections)
        conn.send(("hello", os.getpid(), number))
        while True:
            try:
                op, args, kwargs = conn.recv()
            except (EOFError, OSError):
                break
            if op == "restart":
                exclude, wait = args
                self.restart(exclude=exclude, wait=float(wait))
            write = op in _WRITES
            if write:
                with self.writes_changed:
                    self.writes.add(number)
            with self.idle:
                self.running += 1
            started = time.monotonic()
            try:
                reply = _handle(self.store, op, args, kwargs)
                try:
                    payload = pickle.dumps(reply)
                except Exception as exc:  # an unpicklable result is reported, not lost
                    payload = pickle.dumps((False, StoreError(f"cannot return the result: {exc}")))
                try:
                    conn.send_bytes(payload)
                except OSError:
                    break  # the client has gone
            finally:
                with self.idle:
                    self.running -= 1
                    self.idle.notify_all()
                # Only once its answer is on its way may a restart end the engine under a write.
                if write:
                    with self.writes_changed:
                        self.writes.discard(number)
                        self.writes_changed.notify_all()
            if time.monotonic() - started >= _HEAVY_SECONDS:
                self.memory.release()
        conn.close()

    def restart(self, *, exclude: int, wait: float) -> None:
        """Stop every request now, once the writes in flight (but `exclude`'s) are done."""
        deadline = time.monotonic() + wait
        with self.writes_changed:
            while self.writes - {exclude} and time.monotonic() < deadline:
                self.writes_changed.wait(0.05)
        os._exit(_RESTART_EXIT)

    def drain(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        with self.idle:
            while self.running and time.monotonic() < deadline:
                self.idle.wait(0.05)


_HEAVY_SECONDS = 0.1
"""A request that ran this long may have left much freed memory behind (see _Memory)."""


class _Memory:
    """Hands memory freed by heavy queries back to the system.

    Oxigraph's hash joins and groupings allocate a lot and free it all when the query ends,
    but glibc's allocator keeps the freed pages: four headline queries at once on 100,000
    entries left the engine at 515 MB, against 180 MB after `malloc_trim` (which took 20 to
    35 ms). So a request that ran at least _HEAVY_SECONDS asks, once its answer is sent, for
    a trim; a thread of its own trims a moment later, once for all the requests that asked
    meanwhile. Nothing happens where glibc is not the allocator.
    """

    def __init__(self) -> None:
        self._asked = threading.Event()
        try:
            self._trim: Callable[[int], int] | None = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            self._trim = None
        else:
            threading.Thread(target=self._trimmer, name="lmkg-engine-trim", daemon=True).start()

    def release(self) -> None:
        self._asked.set()

    def _trimmer(self) -> None:
        assert self._trim is not None
        while True:
            self._asked.wait()
            time.sleep(0.2)  # let requests ending together ask once
            self._asked.clear()
            self._trim(0)


def _handle(store: Any, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
    try:
        method: Callable[..., Any] = getattr(store, op)
        result = method(*args, **kwargs)
        if isinstance(result, Graph):
            result = list(result)
        return True, result
    except (LmkgError, ValueError) as exc:
        return False, exc
    except Exception as exc:  # an engine bug must reach the client as an error, not a hang
        return False, StoreError(f"the engine failed on {op}: {type(exc).__name__}: {exc}")


def _watch_parent(parent: int) -> None:
    """Exit as soon as the process that started this engine is gone (even if SIGKILLed)."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def _open_store(path: str, generation: Generation) -> Any:
    from lmkg.store.oxigraph import OxigraphStore

    # A previous engine that has not yet noticed its service died may still hold the lock.
    deadline = time.monotonic() + 10
    while True:
        try:
            return OxigraphStore(path, generation=generation)
        except StoreError as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _serve(socket_path: str, path: str, parent: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # A new engine bumps the change count: the engine before it may have committed a write
    # and been killed before its own bump, so nothing read before now may be trusted.
    generation = Generation(changes_path(socket_path))
    generation.bump()
    try:
        store = _open_store(path, generation)
    except Exception as exc:
        print(f"{exc}", flush=True)
        sys.exit(1)
    engine = _Engine(store)

    def stop(signum: int, frame: object) -> None:
        engine.drain(30)
        store.close()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C reaches the whole process group: the supervisor decides when the engine ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)
    listener.bind(socket_path)
    listener.listen(128)
    print("ready", flush=True)
    while True:
        sock, _ = listener.accept()
        conn = Connection(sock.detach())
        threading.Thread(target=engine.serve_connection, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
