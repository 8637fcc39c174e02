"""Shared fixtures: settings on a temporary store, a seeded knowledge graph, an app, a live server.

Every test that uses `settings` (and so `store`, `kg`, `client`, `live_server`) runs twice:
on the embedded Oxigraph store (in the test's process) and on a real Oxigraph server process,
reached through the SPARQL 1.1 protocols (the client `lmkg serve` uses on the embedded store).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from lmkg.api import create_app
from lmkg.config import Settings
from lmkg.knowledge import KnowledgeGraph
from lmkg.store import Store, open_store

TOKEN = "test-token-for-writes"
DATA = Path(__file__).parent / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


class OxigraphServer:
    """A real `oxigraph serve` process on a loopback port, answering over the union of its graphs
    (unless told not to: Oxigraph's own default, which lmkg refuses)."""

    def __init__(self, location: Path, *, union_default_graph: bool = True) -> None:
        binary = shutil.which("oxigraph")
        if binary is None:
            raise RuntimeError("the Oxigraph server is missing: pip install oxigraph (a dependency of lmkg)")
        self.location = location
        self.port = free_port()
        self.query_url = f"http://127.0.0.1:{self.port}/query"
        self.command = [
            binary,
            "serve",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{self.port}",
            *(["--union-default-graph"] if union_default_graph else []),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """One Oxigraph server process for the session; each test starts it from an empty dataset."""
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "remote"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, store_kind: str, request: pytest.FixtureRequest) -> Settings:
    """Settings for one test, writes enabled by TOKEN: an embedded store in a fresh directory,
    or the session's Oxigraph server emptied for this test."""
    base = replace(Settings(), token=TOKEN)
    if store_kind == "embedded":
        return replace(base, store=str(tmp_path / "store"))
    server: OxigraphServer = request.getfixturevalue("oxigraph_server")
    if server.process is None or server.process.poll() is not None:
        server.start()  # a test killed it
    remote = replace(base, store=server.query_url)
    emptied = open_store(remote)
    emptied.update("DROP ALL")
    emptied.close()
    return remote


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """The test's store, empty; shared with `kg`, `client` and `live_server`. The embedded kind
    is opened in the test's process (pyoxigraph, as the CLI opens it); the path `lmkg serve`
    takes, the Oxigraph server on the directory, is what the remote kind runs, and tests that
    build an app from settings alone (tests/security, tests/reliability) run it as served."""
    opened = open_store(settings, in_process=True)
    yield opened
    opened.close()


@pytest.fixture
def kg(store: Store, settings: Settings) -> KnowledgeGraph:
    """A knowledge graph seeded with the ontology and the examples."""
    graph = KnowledgeGraph(store, settings)
    graph.ensure_seeded()
    return graph


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    """An in-process client of an app on the test's store (seeded at start-up)."""
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    """The header that authorises writes."""
    return {"Authorization": f"Bearer {TOKEN}"}


class LiveServer:
    """A real uvicorn server on a loopback port, in a thread of the test process."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, store=store), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings, store: Store) -> Iterator[LiveServer]:
    """A real HTTP server over the test's store (seeded at start-up); `.url` is its base URL."""
    with LiveServer(settings, store) as server:
        yield server
