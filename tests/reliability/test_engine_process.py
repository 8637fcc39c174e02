"""The engine process: if it dies, the service starts another and loses nothing acknowledged."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from lmkg.api import create_app
from lmkg.config import Settings
from lmkg.store.engine import EngineStore
from tests.conftest import TOKEN

ENTRY = {
    "id": "engine-test-1b",
    "label": "Engine Test 1B",
    "kind": "slm",
    "parameterCount": 1_000_000_000,
    "developer": "lmkg tests",
    "releaseDate": "2026-11-29",
    "sources": ["https://example.org/engine-test"],
}


def test_a_killed_engine_is_replaced_and_acknowledged_writes_are_kept(tmp_path: Path) -> None:
    settings = replace(Settings(), store=str(tmp_path / "store"), token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:
        store = client.app.state.kg.store  # type: ignore[attr-defined]
        assert isinstance(store, EngineStore)
        assert client.post("/models", json=ENTRY, headers=auth).status_code == 201
        before = client.get(f"/models/{ENTRY['id']}").json()
        first = store.engine_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        time.sleep(0.2)
        after = client.get(f"/models/{ENTRY['id']}")
        assert after.status_code == 200
        assert after.json() == before
        assert store.engine_pid not in (None, first)
        assert store.restarts == 1


def test_the_engine_exits_when_the_service_is_gone(tmp_path: Path) -> None:
    """An engine whose service died (here: a service process SIGKILLed) exits by itself and
    frees the store, so the next service opens it."""
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from lmkg.store.engine import EngineStore\n"
        "store = EngineStore(sys.argv[1])\n"
        "print(store.engine_pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    service = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "store")], stdout=subprocess.PIPE, text=True
    )
    assert service.stdout is not None
    engine = int(service.stdout.readline())
    service.send_signal(signal.SIGKILL)
    service.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(engine, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the engine process {engine} outlived its service")
    reopened = EngineStore(tmp_path / "store")
    assert reopened.triple_count() == 0
    reopened.close()
