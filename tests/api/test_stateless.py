"""The service as users start it: `lmkg serve` processes, two of them sharing one remote store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.conftest import TOKEN, free_port, wait_for_port


@contextmanager
def lmkg_serve(store: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "LMKG_STORE": store, "LMKG_TOKEN": TOKEN, "LMKG_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "lmkg.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


ENTRY = {
    "id": "shared-write",
    "label": "Shared write",
    "kind": "slm",
    "parameterCount": 42_000_000,
    "developer": "Acme",
    "sources": ["https://example.org/shared-write"],
}


@pytest.mark.parametrize("store_kind", ["remote"], indirect=True)
def test_a_write_through_one_process_is_read_through_the_other(settings) -> None:
    with lmkg_serve(settings.store) as first, lmkg_serve(settings.store) as second:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(f"{first}/models", json=ENTRY, headers=auth, timeout=30).status_code == 201
        read = httpx.get(f"{second}/models/shared-write", timeout=30)
        assert read.status_code == 200 and read.json()["inferred"]["portable"] is True
        assert httpx.delete(f"{second}/models/shared-write", headers=auth, timeout=30).status_code == 204
        assert httpx.get(f"{first}/models/shared-write", timeout=30).status_code == 404


def test_lmkg_serve_on_the_embedded_store(tmp_path) -> None:
    with lmkg_serve(str(tmp_path / "store")) as url:
        health = httpx.get(f"{url}/health", timeout=30).json()
        assert health["models"] == 15
        answer = httpx.get(f"{url}/queries/portable-and-cheap-to-fine-tune", timeout=30).json()
        assert answer["count"] == 10  # portable and cheap by their own evidence
