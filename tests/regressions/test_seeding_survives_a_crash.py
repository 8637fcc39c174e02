"""Regression: a process killed while it seeded a new store left it without its examples, for good.

Seeding wrote the ontology graph first, then the class hierarchy, the source graph and
the examples, each in a transaction of its own; `ensure_seeded` takes the ontology graph
to mean "seeded". A `lmkg serve` or `lmkg import` SIGKILLed in between (found by
tests/reliability/test_kill_during_import.py) left a store with the ontology and no
examples, and no later start seeded it again. The ontology graph is now written last.
Here the first start fails after each of its writes in turn, the way a kill would stop it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import URIRef

from lmkg.config import Settings
from lmkg.knowledge import KnowledgeGraph
from lmkg.readindex import is_change_graph
from lmkg.store import GraphWrite, OxigraphStore
from lmkg.vocab import GRAPH_INFERRED, GRAPH_MODEL, GRAPH_ONTOLOGY, GRAPH_SOURCE


class Crash(Exception):
    """The process ends here."""


class CrashingStore(OxigraphStore):
    """An on-disk store whose process ends after `writes` transactions."""

    def __init__(self, path: Path, writes: int) -> None:
        super().__init__(path)
        self.writes_left = writes

    def write(self, change: GraphWrite) -> None:
        if self.writes_left == 0:
            raise Crash
        self.writes_left -= 1
        super().write(change)


def _contents(store: OxigraphStore) -> dict[URIRef, int]:
    # The read index's change log (a graph a write) records when, not what: left out.
    return {name: len(store.graph(name)) for name in store.graph_names() if not is_change_graph(name)}


@pytest.mark.parametrize("writes", [pytest.param(n, id=f"killed-after-{n}-writes") for n in range(4)])
def test_a_store_whose_seeding_was_cut_short_is_seeded_on_the_next_start(tmp_path: Path, writes: int) -> None:
    settings = replace(Settings(), store=str(tmp_path / "fresh"))
    fresh = OxigraphStore(tmp_path / "fresh")
    KnowledgeGraph(fresh, settings).ensure_seeded()
    expected = _contents(fresh)
    fresh.close()
    assert GRAPH_ONTOLOGY in expected and GRAPH_SOURCE in expected and GRAPH_INFERRED in expected
    assert any(str(name).startswith(str(GRAPH_MODEL)) for name in expected)

    crashing = CrashingStore(tmp_path / "store", writes)
    with pytest.raises(Crash):
        KnowledgeGraph(crashing, settings).ensure_seeded()
    crashing.close()

    store = OxigraphStore(tmp_path / "store")
    KnowledgeGraph(store, settings).ensure_seeded()
    assert _contents(store) == expected
    store.close()
