"""KnowledgeGraph.write_batches: each batch its own transaction, assessed while the one before
it is written, with the same outcomes as writing the batches one by one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lmkg.entries import Entry, entry_from_json
from lmkg.errors import ConflictError
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.vocab import GRAPH_INFERRED, LMKG, model_graph, model_iri


def document(index: int, **extra: object) -> dict[str, object]:
    return {
        "id": f"batched-{index}",
        "label": f"Batched {index}",
        "kind": "slm",
        "parameterCount": 1_000_000_000 + index,
        "developer": "Batch Lab",
        "sources": [f"https://example.org/batched/{index}"],
        **extra,
    }


def batches(count: int, size: int) -> list[list[Entry]]:
    return [[entry_from_json(document(b * size + i)) for i in range(size)] for b in range(count)]


def test_every_batch_is_written_and_classified(kg: KnowledgeGraph) -> None:
    outcomes = list(kg.write_batches(batches(4, 5), mode=WriteMode.UPSERT))
    assert [len(o.written) for o in outcomes] == [5, 5, 5, 5]
    assert all(o.committed and not o.rejected for o in outcomes)
    assert [a.entry.id for a in outcomes[2].written] == [f"batched-{i}" for i in range(10, 15)]
    for index in (0, 19):
        assert len(kg.store.graph(model_graph(f"batched-{index}")))
        assert LMKG.PortableModel in kg.inferred_types(f"batched-{index}")
    inferred = kg.store.graph(GRAPH_INFERRED)
    assert (model_iri("batched-7"), None, None) in inferred


def test_a_link_may_name_an_entry_of_the_batch_being_written(kg: KnowledgeGraph) -> None:
    first = [entry_from_json(document(0))]
    second = [entry_from_json(document(1, fineTunedFrom="batched-0"))]
    third = [entry_from_json(document(2, fineTunedFrom="no-such-model"))]
    outcomes = list(kg.write_batches(iter([first, second, third]), mode=WriteMode.UPSERT))
    assert [len(o.written) for o in outcomes] == [1, 1, 0]
    assert "no-such-model" in outcomes[2].rejected[0].report.as_text()


def test_a_failed_write_stops_the_batches_after_it(kg: KnowledgeGraph) -> None:
    kg.write([entry_from_json(document(5))], mode=WriteMode.UPSERT)

    def produced() -> Iterator[list[Entry]]:
        yield [entry_from_json(document(0))]
        yield [entry_from_json(document(5))]  # exists: CREATE refuses it
        yield [entry_from_json(document(9))]

    seen = []
    with pytest.raises(ConflictError):
        for outcome in kg.write_batches(produced(), mode=WriteMode.CREATE):
            seen.append(outcome)
    assert len(seen) == 1 and seen[0].committed
    assert kg.exists("batched-0")
    assert not kg.exists("batched-9")
