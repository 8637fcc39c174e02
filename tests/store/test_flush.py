"""The embedded store flushes its memory tables as writes add up (FLUSH_EVERY_BYTES), so that
a long import neither holds gigabytes of them nor ends in one huge flush when it closes (the
flush of a 100,000-entry import never returned); what was written is there after a reopen."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from lmkg.store import GraphWrite
from lmkg.store import oxigraph as embedded
from lmkg.store.oxigraph import OxigraphStore


def test_writes_past_the_threshold_are_flushed_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "FLUSH_EVERY_BYTES", 200)
    store = OxigraphStore(tmp_path / "store")
    graphs = {URIRef(f"https://w3id.org/lmkg/graph/model/flush-{n}"): Graph() for n in range(5)}
    for name, graph in graphs.items():
        graph.add((name, RDFS.label, Literal("x" * 150)))
        store.write(GraphWrite(replace={name: graph}))
        assert store._unflushed < 200  # flushed once past the threshold
    store.close()
    reopened = OxigraphStore(tmp_path / "store")
    try:
        assert set(graphs) <= set(reopened.graph_names())
    finally:
        reopened.close()
