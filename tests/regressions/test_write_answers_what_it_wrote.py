"""Regression: a write's answer was read back from the store, so another writer could change it.

POST and PUT stored the entry, then built their answer by reading it again. When another
client's DELETE landed in between (found by tests/reliability/test_one_entry_writers.py),
a POST that had created the entry answered 404 "There is no model"; after another PUT, a
PUT answered the other client's version. The answer is now the entry as the request wrote
it. Here the store applies "another client's" write right after each of the request's.

Under load (tests/reliability/test_load.py) a PUT that had been applied answered 503 with
Retry-After: the query cap was reached when it read the source's claims for its answer,
after the commit. A write now reads them before it writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.term import Identifier

from lmkg.api import create_app
from lmkg.config import Settings
from lmkg.errors import StoreBusyError
from lmkg.store import GraphWrite, OxigraphStore, Row
from lmkg.vocab import model_graph, model_iri
from tests.conftest import TOKEN
from tests.reliability.harness import version_entry

AUTH = {"Authorization": f"Bearer {TOKEN}"}


class InterleavingStore(OxigraphStore):
    """A store where, once armed, another writer's change follows a write at once, or the
    query cap is reached right after it."""

    other_write: GraphWrite | None = None
    busy_after_write = False
    busy = False

    def write(self, change: GraphWrite) -> None:
        super().write(change)
        if self.other_write is not None:
            other, self.other_write = self.other_write, None
            super().write(other)
        self.busy, self.busy_after_write = self.busy_after_write, False

    def select(self, query: str, *, bindings: Mapping[str, Identifier] | None = None) -> list[Row]:
        if self.busy:
            raise StoreBusyError("the most queries this server runs at once are running")
        return super().select(query, bindings=bindings)


def test_post_and_put_answer_the_entry_they_wrote(tmp_path: Path) -> None:
    store = InterleavingStore(tmp_path / "store")
    settings = replace(Settings(), store=str(tmp_path / "store"), token=TOKEN)
    with TestClient(create_app(settings, store=store)) as client:
        deleted = GraphWrite(replace={model_graph("raced"): Graph()}, inferred_subjects={model_iri("raced")})
        store.other_write = deleted
        created = client.post("/models", json=version_entry("raced", 1), headers=AUTH)
        assert created.status_code == 201, created.text
        assert created.json()["label"] == version_entry("raced", 1)["label"]

        assert client.post("/models", json=version_entry("raced", 2), headers=AUTH).status_code == 201
        other = Graph()
        other.add((model_iri("raced"), model_iri("p"), model_iri("o")))
        store.other_write = GraphWrite(replace={model_graph("raced"): other})
        replaced = client.put("/models/raced", json=version_entry("raced", 3), headers=AUTH)
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["label"] == version_entry("raced", 3)["label"]
        assert replaced.json()["inferred"]["sizeClass"] == "over-threshold"


def test_a_write_applied_is_not_answered_503_when_the_query_cap_is_reached_after_it(tmp_path: Path) -> None:
    store = InterleavingStore(tmp_path / "store")
    settings = replace(Settings(), store=str(tmp_path / "store"), token=TOKEN)
    with TestClient(create_app(settings, store=store)) as client:
        store.busy_after_write = True
        assert client.post("/models", json=version_entry("capped", 1), headers=AUTH).status_code == 201
        store.busy = False
        store.busy_after_write = True
        assert client.put("/models/capped", json=version_entry("capped", 2), headers=AUTH).status_code == 200
