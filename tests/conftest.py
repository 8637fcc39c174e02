"""Shared fixtures: settings on a temporary store, a seeded knowledge graph, an app, a live server."""

from __future__ import annotations

import socket
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
from lmkg.store import OxigraphStore

TOKEN = "test-token-for-writes"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test: an embedded store in a fresh directory, writes enabled by TOKEN."""
    return replace(Settings(), store=str(tmp_path / "store"), token=TOKEN)


@pytest.fixture
def store() -> Iterator[OxigraphStore]:
    """An empty in-memory Oxigraph store."""
    opened = OxigraphStore()
    yield opened
    opened.close()


@pytest.fixture
def kg(store: OxigraphStore, settings: Settings) -> KnowledgeGraph:
    """A knowledge graph seeded with the ontology and the examples, in memory."""
    graph = KnowledgeGraph(store, settings)
    graph.ensure_seeded()
    return graph


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process client of an app on its own embedded store (seeded at start-up)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    """The header that authorises writes."""
    return {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real uvicorn server on a loopback port, in a thread of the test process."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
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
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """A real HTTP server over a seeded embedded store; `live_server.url` is its base URL."""
    with LiveServer(settings) as server:
        yield server
