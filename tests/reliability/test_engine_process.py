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


def _children_of(pid: int) -> set[int]:
    """Every descendant of a process, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_serve_with_workers_shares_one_engine_and_leaves_nothing_behind(tmp_path: Path) -> None:
    import subprocess

    import httpx

    from tests.conftest import free_port, wait_for_port

    port = free_port()
    env = {
        **os.environ,
        "LMKG_STORE": str(tmp_path / "store"),
        "LMKG_TOKEN": TOKEN,
        "LMKG_QUERY_TIMEOUT": "2",
    }
    env.pop("LMKG_ENGINE_SOCKET", None)
    service = subprocess.Popen(
        ["lmkg", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=60)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/health").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        engines = [p for p in _children_of(service.pid) if "lmkg.store.engine" in _cmdline(p)]
        assert len(engines) == 1
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(f"{url}/models", json=ENTRY, headers=auth).status_code == 201
        # Every worker reads what any worker wrote: they share the engine.
        for _ in range(8):
            assert httpx.get(f"{url}/models/{ENTRY['id']}").status_code == 200
        # A query past the limit in one worker restarts the shared engine; all keep serving.
        endless = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o }"
        assert httpx.get(f"{url}/sparql", params={"query": endless}, timeout=30).status_code == 503
        for _ in range(8):
            assert httpx.get(f"{url}/models/{ENTRY['id']}", timeout=30).status_code == 200
        descendants = _children_of(service.pid)
        service.send_signal(signal.SIGKILL)  # the supervisor only, not its process group
        service.wait()
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in descendants) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in descendants if _alive(p)], "processes outlived `lmkg serve`"
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGKILL)
            service.wait()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
