"""POST /models paused Python's cyclic garbage collector for the whole serving process.

KnowledgeGraph.write disabled the collector around every write, and the collector is one per
process: while a write was assessed, or waited for the store, no request served meanwhile had
its cycles collected, and overlapping writes could keep it off. The pause belongs to processes
that are a batch import and nothing else (`lmkg import`, `lmkg load`; see lmkg.collector).

The test holds the knowledge graph's write lock, so that a POST stops inside the write (in
KnowledgeGraph._commit, after its entry was assessed), and looks at the collector then.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from lmkg.knowledge import KnowledgeGraph
from tests.conftest import DATA

ENTRY = json.loads((DATA / "valid-entries" / "minimal.json").read_text(encoding="utf-8"))


def _a_thread_is_in(function_name: str) -> bool:
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_name == function_name and "knowledge" in frame.f_code.co_filename:
                return True
            frame = frame.f_back  # type: ignore[assignment]
    return False


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_a_write_in_progress_leaves_the_collector_running(client: TestClient, auth: dict[str, str]) -> None:
    assert gc.isenabled()
    kg: KnowledgeGraph = client.app.state.kg  # type: ignore[attr-defined]
    answers: list[httpx.Response] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            answers.append(client.post("/models", json=ENTRY, headers=auth))
        except BaseException as exc:  # reported below, with the collector's state
            errors.append(exc)

    writer = threading.Thread(target=post)
    seen: dict[str, Any] = {}
    with kg._write_lock:
        writer.start()
        deadline = time.monotonic() + 60
        while not _a_thread_is_in("_commit"):
            assert writer.is_alive() and time.monotonic() < deadline, (answers, errors)
            time.sleep(0.01)
        seen["enabled"] = gc.isenabled()  # the write is under way, waiting for the lock
    writer.join(60)
    assert not errors and len(answers) == 1 and answers[0].status_code == 201, (answers, errors)
    assert seen["enabled"], "the collector was paused in the serving process while a write was in progress"
    assert gc.isenabled()
