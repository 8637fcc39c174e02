"""The three services under test, each a process of its own on the same data."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

TOKEN = "bench-token"
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], *, timeout: float) -> float:
    """Seconds until `url` answers 200; raises when the process dies or time runs out."""
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before {url} was ready")
        try:
            # One request at a time, waited for: a service that takes long on its first answer (a
            # count of the store's quads) would get a new one on top every few seconds otherwise.
            left = max(1.0, timeout - (time.perf_counter() - started))
            with urllib.request.urlopen(url, timeout=left) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{url} not ready after {timeout:.0f} s")
        time.sleep(0.02)


@dataclass
class Target:
    """A running service: its name, base URL, SPARQL endpoint path, and process."""

    name: str
    base: str
    sparql_path: str
    process: subprocess.Popen[bytes]
    ready_seconds: float
    log: Path
    extra: dict[str, float] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)

    def processes(self) -> list[tuple[str, int, int]]:
        """(role, pid, resident bytes) of the process and its children: for `lmkg serve`, the
        service (with one worker, uvicorn serves in it), each uvicorn worker, and the Oxigraph
        server it supervises on the embedded store."""
        try:
            root = psutil.Process(self.process.pid)
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        found: list[tuple[str, int, int]] = []
        for member in members:
            try:
                rss = member.memory_info().rss
                line = member.cmdline()
            except psutil.NoSuchProcess:
                continue
            found.append((_role(self.name, member.pid == root.pid, line), member.pid, rss))
        return found

    def rss_bytes(self) -> int:
        """Resident memory of the process and its children (lmkg's engine process)."""
        try:
            root = psutil.Process(self.process.pid)
            sizes: list[int] = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
            if self.name == "rdflib-endpoint":  # a forked child shares its parent's dataset
                return max(sizes)
            return sum(sizes)
        except psutil.NoSuchProcess:
            return 0

    def cpu_seconds(self) -> float:
        """CPU time (user and system) of the process and its children so far."""
        try:
            root = psutil.Process(self.process.pid)
            return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])
        except psutil.NoSuchProcess:
            return 0.0

    def wait_idle(self, *, quiet: float = 2.0, busy_below: float = 0.05, limit: float = 300.0) -> float:
        """Wait until the process uses under `busy_below` of a core over `quiet` seconds (at
        most `limit`); the seconds waited. The Oxigraph server goes on with a query its client
        gave up on at the time limit (`--timeout-s` did not stop sorted or grouped queries):
        the workloads after it must not share the cores with it."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            before = self.cpu_seconds()
            time.sleep(quiet)
            if self.cpu_seconds() - before < busy_below * quiet:
                break
        return time.monotonic() - started

    def restart_child(self, *, timeout: float = 120) -> None:
        """End the serving child (rdflib-endpoint's, stuck in a query); its parent forks a fresh one."""
        for child in psutil.Process(self.process.pid).children():
            child.kill()
            child.wait(timeout=30)
        wait_ready(f"{self.base}/?query=ASK%7B%7D", self.process, timeout=timeout)

    def restart(self, *, timeout: float = 600) -> None:
        """Stop the server and start it again on the same data and port (the Oxigraph server
        after a query past the limit, which it may go on computing)."""
        self.stop()
        log = self.log.open("ab")
        self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        wait_ready(f"{self.base}{self.sparql_path}?query=ASK%7B%7D", self.process, timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _role(target: str, root: bool, command: list[str]) -> str:
    text = " ".join(command)
    if "oxigraph" in (command[0] if command else "") and " serve" in text:
        return "Oxigraph server (store)" if target == "lmkg" else "Oxigraph server"
    if root:
        return "service (lmkg serve)" if target == "lmkg" else target
    if "multiprocessing" in text and "spawn" in text and "resource_tracker" not in text:
        return "uvicorn worker"
    return "child: " + (command[0].rsplit("/", 1)[-1] if command else "?")


def _spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=REPO)


def start_lmkg(
    store: Path,
    workdir: Path,
    *,
    timeout: float = 600,
    query_timeout: float = 60,
    workers: int = 1,
    env_extra: dict[str, str] | None = None,
    ready_path: str = "/health",
) -> Target:
    """`lmkg serve` on the store, as a user runs it; ready when `ready_path` answers 200 (at
    100k entries /health, which counts every triple, can take minutes on a loaded machine)."""
    port = free_port()
    env = {
        **os.environ,
        "LMKG_STORE": str(store),
        "LMKG_TOKEN": TOKEN,
        "LMKG_PORT": str(port),
        "LMKG_QUERY_TIMEOUT": str(query_timeout),
        **(env_extra or {}),
    }
    log = workdir / "lmkg.log"
    command = [shutil.which("lmkg") or "lmkg", "serve", "--port", str(port), "--workers", str(workers)]
    process = _spawn(command, log, env)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_ready(f"{base}{ready_path}", process, timeout=timeout)
    except BaseException:
        process.send_signal(signal.SIGINT)  # uvicorn's quick exit; its Oxigraph server dies with it
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    return Target("lmkg", base, "/sparql", process, ready, log, command=command)


def start_oxigraph(dump: Path, workdir: Path, *, timeout: float = 600, query_timeout: float = 60) -> Target:
    """The Oxigraph server on its own copy of the data, the union of named graphs as default graph."""
    location = workdir / "oxigraph-store"
    log = workdir / "oxigraph.log"
    started = time.perf_counter()
    subprocess.run(
        ["oxigraph", "load", "--location", str(location), "--file", str(dump)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    loaded = time.perf_counter() - started
    port = free_port()
    command = [
        shutil.which("oxigraph") or "oxigraph",
        "serve",
        "--location",
        str(location),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
        "--timeout-s",
        str(int(query_timeout)),
    ]
    process = _spawn(command, log)
    base = f"http://127.0.0.1:{port}"
    ready = wait_ready(f"{base}/query?query=ASK%7B%7D", process, timeout=timeout)
    return Target("oxigraph", base, "/query", process, ready, log, {"load_seconds": loaded}, command)


def start_rdflib(dump: Path, workdir: Path, *, timeout: float = 1800) -> Target:
    """rdflib-endpoint (rdflib's in-memory Dataset behind FastAPI) under uvicorn."""
    port = free_port()
    log = workdir / "rdflib.log"
    process = _spawn([sys.executable, "-m", "bench.rdflib_server", str(dump), str(port)], log)
    base = f"http://127.0.0.1:{port}"
    ready = wait_ready(f"{base}/?query=ASK%7B%7D", process, timeout=timeout)
    return Target("rdflib-endpoint", base, "/", process, ready, log)
