"""The change log that read indexes follow (lmkg.readindex): one graph per minute of stamps,
pruned by writes after RETENTION_NS, with the head saying how far; an index reads only the
minutes since its last sync, and rebuilds only when changes it has not read were pruned.
"""

from __future__ import annotations

import time

import pytest
from bench import data
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from lmkg import readindex
from lmkg.entries import entries_from_json
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.readindex import BUCKET_NS, RETENTION_NS, IndexFilter, bucket_graph, change_record
from lmkg.store import GraphWrite
from lmkg.vocab import CHANGES, GRAPH_CHANGE_NS, GRAPH_CHANGES, model_iri


def _document(number: int) -> dict[str, object]:
    document = data.entries(1)[0]
    document["id"] = f"change-log-{number}"
    return document


def _minutes(kg: KnowledgeGraph) -> set[URIRef]:
    return {g for g in kg.store.graph_names() if str(g).startswith(str(GRAPH_CHANGE_NS) + "minute/")}


def test_a_write_adds_its_change_to_the_minute_and_moves_the_head(kg: KnowledgeGraph) -> None:
    before = time.time_ns()
    kg.write(entries_from_json([_document(1)]), mode=WriteMode.CREATE)
    kg.write(entries_from_json([_document(2)]), mode=WriteMode.CREATE)
    last, pruned_before = kg.read_index.head()
    stamp = readindex._stamp_of(last)
    assert stamp is not None and stamp >= before
    minute = kg.store.graph(bucket_graph(stamp))
    # The minute keeps the earlier write's change beside the last one (added, not replaced).
    named = {o for o in minute.objects(None, CHANGES.entry)}
    assert model_iri("change-log-2") in named
    assert model_iri("change-log-1") in named or len(_minutes(kg)) > 1
    assert pruned_before is not None and pruned_before <= time.time_ns() - RETENTION_NS


def test_change_record_drops_expired_minutes_at_most_a_bound_per_write() -> None:
    now = time.time_ns()
    expired_until = (now - RETENTION_NS) // BUCKET_NS * BUCKET_NS
    record = change_record([], pruned_before=expired_until - 3 * BUCKET_NS)
    assert set(record.drop) == {bucket_graph(expired_until - n * BUCKET_NS) for n in (1, 2, 3)}
    assert all(len(g) == 0 for g in record.drop.values())
    head = record.head[GRAPH_CHANGES]
    assert head.value(GRAPH_CHANGES, CHANGES.prunedBefore) == Literal(expired_until, datatype=XSD.integer)
    long_idle = change_record([], pruned_before=expired_until - 1000 * BUCKET_NS)
    assert len(long_idle.drop) == readindex.PRUNE_PER_WRITE
    moved = long_idle.head[GRAPH_CHANGES].value(GRAPH_CHANGES, CHANGES.prunedBefore)
    assert moved == Literal(expired_until - (1000 - readindex.PRUNE_PER_WRITE) * BUCKET_NS, datatype=XSD.integer)
    assert not change_record([], pruned_before=expired_until).drop


def test_a_write_prunes_an_expired_minute_from_the_store(kg: KnowledgeGraph) -> None:
    old = time.time_ns() - RETENTION_NS - 10 * BUCKET_NS
    stale = Graph()
    stale.add((GRAPH_CHANGE_NS["00000000000000000001-old"], CHANGES.at, Literal(old, datatype=XSD.integer)))
    head = Graph()
    last, _ = kg.read_index.head()
    head.add((GRAPH_CHANGES, CHANGES.last, URIRef(last)))
    head.add((GRAPH_CHANGES, CHANGES.prunedBefore, Literal(old - BUCKET_NS, datatype=XSD.integer)))
    kg.store.write(GraphWrite(add={bucket_graph(old): stale}, replace={GRAPH_CHANGES: head}))
    assert bucket_graph(old) in _minutes(kg)
    kg.write(entries_from_json([_document(3)]), mode=WriteMode.CREATE)
    assert bucket_graph(old) not in _minutes(kg)
    _, pruned_before = kg.read_index.head()
    assert pruned_before is not None and pruned_before > old


def test_an_index_rebuilds_only_when_changes_it_has_not_read_were_pruned(
    kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = kg.read_index
    built = index._meta(index._db(), "built")
    kg.write(entries_from_json([_document(4)]), mode=WriteMode.CREATE)
    assert index._meta(index._db(), "built") == built  # caught up, not rebuilt
    # The index stopped reading two hours ago; since then writes pruned the log past it.
    with index._writing() as db:
        db.execute("UPDATE applied_change SET at = at - ?", (2 * RETENTION_NS,))
        db.execute("DELETE FROM meta WHERE key = 'head'")
    kg.write(entries_from_json([_document(5)]), mode=WriteMode.CREATE)
    assert index._meta(index._db(), "built") != built
    assert index.model_count() == kg.count_models()
    assert "change-log-5" in {m.id for m in index.find(IndexFilter(), limit=1000).models}


def _stopped_reading_long_ago(kg: KnowledgeGraph, head: str) -> None:
    """The index last synced at `head`, more than a retention period ago."""
    index = kg.read_index
    with index._writing() as db:
        db.execute("UPDATE applied_change SET at = at - ?", (2 * RETENTION_NS,))
        db.execute("UPDATE meta SET value = ? WHERE key = 'synced'", (str(time.time_ns() - 2 * RETENTION_NS),))
        index._set_meta(db, "head", head)


def test_a_write_after_an_idle_hour_is_caught_up_not_rebuilt(kg: KnowledgeGraph) -> None:
    """An index current when the writes stopped: the next write, more than RETENTION_NS later,
    prunes the log past the index's last sync, but follows the change the index applied last,
    so the index reads that one write (a rebuild took 95 s at 100,000 entries)."""
    index = kg.read_index
    kg.write(entries_from_json([_document(6)]), mode=WriteMode.CREATE)
    last, _ = index.head()
    built = index._meta(index._db(), "built")
    _stopped_reading_long_ago(kg, last)
    kg.write(entries_from_json([_document(7)]), mode=WriteMode.CREATE)
    new_head, pruned_before = index.head()
    # The log was pruned past the index's last sync, which used to mean a rebuild.
    assert pruned_before is not None and pruned_before > time.time_ns() - 2 * RETENTION_NS
    follows = kg.store.graph(bucket_graph(readindex._stamp_of(new_head) or 0)).value(URIRef(new_head), CHANGES.follows)
    assert follows == URIRef(last)
    assert index._meta(index._db(), "built") == built  # caught up, not rebuilt
    assert index._meta(index._db(), "head") == new_head
    assert {"change-log-6", "change-log-7"} <= {m.id for m in index.find(IndexFilter(), limit=1000).models}


def test_a_pruned_change_between_the_index_and_the_head_makes_it_rebuild(kg: KnowledgeGraph) -> None:
    """The index last applied `applied`; a write it did not read followed it and was pruned
    (deleted here as pruning would); the next write follows that one: the chain breaks, and
    the index rebuilds rather than miss the pruned write's entry."""
    index = kg.read_index
    applied, _ = index.head()
    kg.write(entries_from_json([_document(8)]), mode=WriteMode.CREATE)
    unread, _ = index.head()
    kg.store.update(f"DELETE WHERE {{ GRAPH ?g {{ {URIRef(unread).n3()} ?p ?o }} }}")
    _stopped_reading_long_ago(kg, applied)
    with index._writing() as db:  # and the entry the unread write added is not in the index
        db.execute("DELETE FROM model WHERE iri = ?", (str(model_iri("change-log-8")),))
    built = index._meta(index._db(), "built")
    kg.write(entries_from_json([_document(9)]), mode=WriteMode.CREATE)
    assert index._meta(index._db(), "built") != built
    assert {"change-log-8", "change-log-9"} <= {m.id for m in index.find(IndexFilter(), limit=1000).models}
