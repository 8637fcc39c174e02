"""The embedded store served by the Oxigraph server, which `lmkg serve` starts and supervises.

The store's directory is opened by one `oxigraph serve` process (RocksDB allows one writer),
bound to a free loopback port, with the union of all graphs as the default graph and
LMKG_QUERY_TIMEOUT as its own query timeout. Every HTTP worker reaches it through the remote
store's client (`lmkg.store.remote.RemoteStore`), exactly as a remote SPARQL server is reached:
one client, one protocol. If the server dies it is started again on the same port; a request
in flight then fails with 503 and the next one is served.

Two things a SPARQL server cannot give its clients are kept beside it, in a directory of its
own (see `lmkg.store.generation`): the store's change count, so that kept answers are never
served after a write, and a write lock shared by every worker, so that two writes replacing
one entry never both land (Oxigraph isolates reads from writes, not writes from writes).
Both hold because this server is lmkg's own: nothing but lmkg knows its port.

The server is a child of the process that supervises it and dies with it (Linux
PR_SET_PDEATHSIG), even when that process is SIGKILLed, so the store's lock is freed.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from pathlib import Path

from lmkg.config import Settings
from lmkg.errors import StoreError
from lmkg.store.generation import Generation
from lmkg.store.remote import Endpoints, RemoteStore

log = logging.getLogger("lmkg.store.server")

READY_TIMEOUT = 60.0
"""How long the server may take to open the store and listen."""


def oxigraph_binary() -> str:
    """The `oxigraph` server installed with lmkg (PyPI package `oxigraph`, a dependency)."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise StoreError(
            "the Oxigraph server is missing: `pip install oxigraph` (a dependency of lmkg) "
            "provides the `oxigraph` command that serves the embedded store"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: receive SIGKILL when the supervising thread ends."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


OWN_ARENAS = "2"
"""glibc malloc arenas (MALLOC_ARENA_MAX) of `lmkg serve` itself, unless the environment sets
them: its thread pool of request threads otherwise keeps an arena each (bench/RESULTS.md)."""

SERVER_ARENAS = "4"
"""glibc malloc arenas of the Oxigraph server, unless the environment sets them. The default (8 a
core) let each of its request threads keep the memory its queries had freed: 238 MB at 100k
after the bench's workloads, against 131 MB with 2 arenas. But with 2 arenas and a query time
limit (`--timeout-s`, which lmkg always gives), two concurrent queries fell, in about half of
the 2-second bursts, into a state where both burned a core and finished at a quarter of their
speed: the headline query went from 12 to 3 a second with two clients, on one 1k store, the
same server binary, the limit and the arenas the only change. With 4 arenas (45 bursts of 2
and 4 clients), 8 (20) or the default (20), no burst fell into it (bench/RESULTS.md, "The
third pass")."""

_SET_BY_LMKG = "LMKG_SET_MALLOC_ARENA_MAX"
"""Marks a MALLOC_ARENA_MAX that lmkg set for itself, so that its Oxigraph server does not take
it as the user's."""


def limit_own_arenas(environ: MutableMapping[str, str]) -> bool:
    """Limit `lmkg serve`'s own arenas: glibc reads MALLOC_ARENA_MAX only when a process starts,
    so this process sets it with mallopt(M_ARENA_MAX) and puts it in `environ` for the workers
    it starts (each a new process). False where there is no glibc, or the environment set it."""
    if environ.get("MALLOC_ARENA_MAX"):
        return False
    environ["MALLOC_ARENA_MAX"] = OWN_ARENAS
    environ[_SET_BY_LMKG] = OWN_ARENAS
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, int(OWN_ARENAS)))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The Oxigraph server's environment: lmkg's, with MALLOC_ARENA_MAX at SERVER_ARENAS unless
    the user set it (lmkg's own setting for itself is not the user's)."""
    server = {k: v for k, v in environ.items() if k != _SET_BY_LMKG}
    given = environ.get("MALLOC_ARENA_MAX")
    if not given or environ.get(_SET_BY_LMKG) == given:
        server["MALLOC_ARENA_MAX"] = SERVER_ARENAS
    return server


class OxigraphServer:
    """One `oxigraph serve` on a store directory, started again whenever it exits, until `stop()`.

    Every start and restart runs in one thread that lives as long as the supervision, because
    the kernel's parent-death signal follows the thread that started the child.
    """

    def __init__(self, location: str | Path, *, query_timeout: float, port: int | None = None) -> None:
        self.location = Path(location)
        self.location.mkdir(parents=True, exist_ok=True)
        self.port = port or _free_port()
        self.query_url = f"http://127.0.0.1:{self.port}/query"
        # Oxigraph takes whole seconds; rounding up keeps lmkg's own limit the one that speaks.
        self.command = [
            oxigraph_binary(),
            "serve",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--union-default-graph",
            "--timeout-s",
            str(max(1, math.ceil(query_timeout))),
        ]
        self.state_dir = tempfile.mkdtemp(prefix="lmkg-store-")
        self.changes_path = os.path.join(self.state_dir, "changes")
        Generation(self.changes_path).close()  # created here, shared by every worker
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._failure: str | None = None
        self._last_lines: deque[str] = deque(maxlen=20)
        self._thread = threading.Thread(target=self._supervise, name="lmkg-oxigraph-supervisor", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self.stop()
            raise StoreError(self._failure)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            self.command,
            env=server_environment(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
            close_fds=True,
        )
        threading.Thread(target=self._relay, args=(process,), name="lmkg-oxigraph-log", daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                said = " | ".join(self._last_lines) or f"exit code {process.returncode}"
                raise StoreError(f"the Oxigraph server could not serve the store at {self.location}: {said}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return process
            time.sleep(0.02)
        process.kill()
        process.wait()
        raise StoreError(f"the Oxigraph server did not open the store at {self.location} within {READY_TIMEOUT:g} s")

    def _relay(self, process: subprocess.Popen[bytes]) -> None:
        """The server's own messages go to lmkg's log; the last few explain a failed start."""
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._last_lines.append(line)
                if not line.startswith("Listening for requests"):
                    log.warning("oxigraph: %s", line)
        process.stderr.close()

    def _supervise(self) -> None:
        try:
            self._process = self._start()
        except StoreError as exc:
            self._failure = str(exc)
            self._ready.set()
            return
        self._ready.set()
        while True:
            code = self._process.wait()
            if self._stopping.is_set():
                return
            log.error("the Oxigraph server exited with code %s; starting it again", code)
            while not self._stopping.is_set():
                try:
                    # A server killed a moment ago may still hold the store's lock: retried.
                    self._process = self._start()
                    self.restarts += 1
                    break
                except StoreError as exc:
                    log.error("%s; retrying in 0.5 s", exc)
                    self._stopping.wait(0.5)
            if self._stopping.is_set():
                process = self._process
                if process is not None and process.poll() is None:
                    process.terminate()
                return

    def stop(self) -> None:
        """End the server (it flushes the store) and stop supervising it."""
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._thread.join(timeout=10)
        shutil.rmtree(self.state_dir, ignore_errors=True)


def served_settings(settings: Settings, server: OxigraphServer) -> Settings:
    """The settings of a client of `server`: its URL, its change count, its directory."""
    return replace(
        settings,
        store=server.query_url,
        store_update=None,
        store_graphs=None,
        store_user=None,
        store_password=None,
        store_token=None,
        store_changes=server.changes_path,
        served_store=str(server.location),
    )


class ServedStore(RemoteStore):
    """The embedded store, served by an Oxigraph server of its own that closing it stops."""

    def __init__(self, settings: Settings) -> None:
        self.server = OxigraphServer(settings.store, query_timeout=settings.query_timeout)
        try:
            super().__init__(
                Endpoints.derive(self.server.query_url),
                timeout=settings.query_timeout,
                max_concurrent_queries=settings.max_concurrent_queries,
                changes_path=self.server.changes_path,
                location=str(self.server.location),
            )
        except BaseException:
            self.server.stop()
            raise

    def close(self) -> None:
        super().close()
        self.server.stop()
