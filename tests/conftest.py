"""Shared fixtures: settings on a temporary store, a seeded knowledge graph, an app, a live server.

Every test that uses `settings` (and so `store`, `kg`, `client`, `live_server`) runs three times:
on the embedded Oxigraph store (in the test's process) and on a real Oxigraph server process,
reached through the SPARQL 1.1 protocols (the client `lmkg serve` uses on the embedded store),
and on Virtuoso 7, reached the same way with HTTP Digest credentials.
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

import httpx
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


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
; lmkg's /sparql asks for LMKG_MAX_ROWS + 1 rows (100,001): the default is 10,000
MaxSortedTopRows = 1000000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 10
MaxClientConnections = 10

[SPARQL]
; at least LMKG_MAX_ROWS + 1 (the default, 10,000, cuts results silently)
ResultSetMaxRows = 1000000
; the store's own limit, as LMKG_QUERY_TIMEOUT
MaxQueryExecutionTime = 30
; 0: no query is refused on its estimated cost before it runs
MaxQueryCostEstimationTime = 0
"""
"""The server settings lmkg needs from Virtuoso 7 (see the README's "Virtuoso" section)."""


class VirtuosoServer:
    """A real Virtuoso 7 (Debian's virtuoso-opensource) on loopback ports, in a database
    directory of its own; lmkg writes through /sparql-auth with HTTP Digest (user dba)."""

    def __init__(self, location: Path, ini: str = VIRTUOSO_INI) -> None:
        binary = shutil.which("virtuoso-t")
        if binary is None:
            raise RuntimeError("Virtuoso is missing: apt-get install virtuoso-opensource")
        location.mkdir(parents=True, exist_ok=True)
        self.location = location
        self.port = free_port()
        ini_path = location / "virtuoso.ini"
        ini_path.write_text(ini.format(dir=location, sql_port=free_port(), http_port=self.port))
        self.query_url = f"http://127.0.0.1:{self.port}/sparql-auth"
        self.graphs_url = f"http://127.0.0.1:{self.port}/sparql-graph-crud-auth"
        self.command = [binary, "+foreground", "+configfile", str(ini_path)]
        self.process: subprocess.Popen[bytes] | None = None
        self.system_graphs: frozenset[str] = frozenset()

    def settings(self, base: Settings) -> Settings:
        return replace(
            base, store=self.query_url, store_graphs=self.graphs_url, store_user="dba", store_password="dba"
        )

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Virtuoso exited with {self.process.returncode}; see {self.location}/virtuoso.log")
            try:
                answer = httpx.get(f"http://127.0.0.1:{self.port}/sparql", params={"query": "ASK {}"}, timeout=5)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"Virtuoso did not answer within 120 s; see {self.location}/virtuoso.log")
        store = open_store(self.settings(Settings()))
        self.system_graphs = frozenset(str(g) for g in store.graph_names())
        store.close()

    def empty(self, store: Store) -> None:
        """Drop every graph but Virtuoso's own (DROP ALL would drop those too), in one request."""
        drops = [f"DROP SILENT GRAPH <{g}>" for g in store.graph_names() if str(g) not in self.system_graphs]
        if drops:
            store.update(" ;\n".join(drops))

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """One Virtuoso for the session; each test starts from its system graphs alone."""
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """One Oxigraph server process for the session; each test starts it from an empty dataset."""
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-server"))
    server.start()
    yield server
    server.stop()


DEFAULT_STORE_KINDS = ("embedded", "remote")
"""The stores every store-touching test runs on: the embedded store and a real Oxigraph server.
A module that also runs on Virtuoso says so with `STORE_KINDS = ALL_STORE_KINDS`, a test with
`@ON_EVERY_STORE` (where the rest of its module tests lmkg's request handling alone, which
would only add Virtuoso's start-up and seeding to CI); what Virtuoso itself cannot do is an
explicit `xfail(strict=True)` for that kind, with the reason."""
ALL_STORE_KINDS = (*DEFAULT_STORE_KINDS, "virtuoso")
ON_EVERY_STORE = pytest.mark.parametrize("store_kind", ALL_STORE_KINDS, indirect=True)
"""For one test of a module that is not all on Virtuoso: it runs on the three stores."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`store_kind` for every test that needs a store: the module's STORE_KINDS, or the default;
    a test that parametrizes `store_kind` itself keeps its own."""
    if "store_kind" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if "store_kind" in (names if isinstance(names, list | tuple) else [n.strip() for n in str(names).split(",")]):
            return
    kinds = getattr(metafunc.module, "STORE_KINDS", DEFAULT_STORE_KINDS)
    metafunc.parametrize("store_kind", kinds, indirect=True)


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, store_kind: str, request: pytest.FixtureRequest) -> Settings:
    """Settings for one test, writes enabled by TOKEN: an embedded store in a fresh directory,
    or the session's Oxigraph server emptied for this test."""
    base = replace(Settings(), token=TOKEN)
    if store_kind == "embedded":
        return replace(base, store=str(tmp_path / "store"))
    if store_kind == "virtuoso":
        virtuoso: VirtuosoServer = request.getfixturevalue("virtuoso_server")
        configured = virtuoso.settings(base)
        emptied = open_store(configured)
        virtuoso.empty(emptied)
        emptied.close()
        return configured
    server: OxigraphServer = request.getfixturevalue("oxigraph_server")
    if server.process is None or server.process.poll() is not None:
        server.start()  # a test killed it
    remote = replace(base, store=server.query_url, read_index=str(tmp_path / "readindex.sqlite"))
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
