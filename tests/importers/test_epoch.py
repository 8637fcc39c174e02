"""The Epoch AI importer through the store: small CSVs of each case, updates, interruption, HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib.namespace import PROV

from lmkg.entries import entry_to_json
from lmkg.errors import LmkgError
from lmkg.explain import explain
from lmkg.importers.epoch import import_epoch, import_epoch_file
from lmkg.knowledge import KnowledgeGraph
from lmkg.readindex import is_change_graph
from lmkg.vocab import GRAPH_ONTOLOGY, LMKG, model_iri

DATA = Path(__file__).parent.parent / "data" / "epoch"
EXPECTED = json.loads((DATA / "expected.json").read_text())


def _entry(kg: KnowledgeGraph, model_id: str) -> dict:
    return entry_to_json(kg.entry_graph(model_id), model_iri(model_id))


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in EXPECTED])
def test_small_csvs_give_their_expected_outcome(kg: KnowledgeGraph, name: str) -> None:
    report = import_epoch_file(kg, DATA / name)
    expected = EXPECTED[name]
    counts = report.counts()
    for key in ("rows", "kept", "merged", "rejected", "ambiguous"):
        assert counts[key] == expected[key], (key, report.as_text())
    assert sum(counts[k] for k in ("kept", "merged", "rejected", "ambiguous")) == counts["rows"]
    for row, reason in expected.get("reasons", {}).items():
        assert any(r.row == int(row) and reason in r.reason for r in report.rejections), report.as_text()


def test_mapping_of_a_good_row(kg: KnowledgeGraph) -> None:
    import_epoch_file(kg, DATA / "good.csv")
    tiny = _entry(kg, "tiny-chat-2.6b")
    assert tiny["license"] == "Apache-2.0" and tiny["kindBasis"] == "size-threshold"
    assert sorted(tiny["developer"]) == ["Acme AI", "Open Lab"]
    assert tiny["derivedFrom"] == ["https://w3id.org/lmkg/source/epoch-ai-models#Tiny%20Chat%202.6B"]
    assert {(s["field"], s["sourceKind"]) for s in tiny["statements"]} >= {
        ("parameterCount", "epoch"),
        ("developer", "epoch"),
        ("license", "epoch"),
    }
    assert tiny["trainingDatapoints"] == 2_000_000_000_000 and "trainingTokens" not in tiny
    assert _entry(kg, "tiny-chat-2.6b-instruct")["fineTunedFrom"] == "tiny-chat-2.6b"
    assert _entry(kg, "big-model-70b")["license"] == "proprietary"
    assert LMKG.PortableModel in kg.inferred_types("tiny-chat-2.6b")
    assert LMKG.PortableModel not in kg.inferred_types("big-model-70b")
    text = explain(kg, "tiny-chat-2.6b").as_text()
    assert "parameter count 2.6B is at most 10B" in text and "portable: yes (size-rule)" in text


def test_missing_columns_are_named(kg: KnowledgeGraph) -> None:
    with pytest.raises(LmkgError, match=r"missing column.*Publication date.*Parameters"):
        import_epoch_file(kg, DATA / "missing-columns.csv")


def _quads(kg: KnowledgeGraph) -> set[tuple[str, ...]]:
    """Every quad outside the ontology graph (which has blank nodes), timestamps and the read
    index's change log (when, not what) aside."""
    rows = kg.store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {
        (str(r["g"]), str(r["s"]), str(r["p"]), r["o"].n3())
        for r in rows
        if r["p"] != PROV.generatedAtTime and r["g"] != GRAPH_ONTOLOGY and not is_change_graph(r["g"])  # type: ignore[arg-type]
    }


def test_a_newer_file_updates_what_changed_and_withdraws_what_is_gone(kg: KnowledgeGraph) -> None:
    import_epoch_file(kg, DATA / "good.csv")
    before = _quads(kg)
    again = import_epoch_file(kg, DATA / "good.csv")
    assert (again.written, again.unchanged) == (0, 3)
    assert _quads(kg) == before
    text = (DATA / "good.csv").read_text()
    newer = text.replace("70000000000.0", "71000000000.0").replace(
        "Tiny Chat 2.6B Instruct,", "Renamed Instruct,"
    )
    report = import_epoch(kg, newer)
    assert (
        report.written == 3
    )  # big-model-70b changed, renamed-instruct new, tiny-chat-2.6b-instruct withdrawn
    assert _entry(kg, "big-model-70b")["parameterCount"] == 71_000_000_000
    assert _entry(kg, "tiny-chat-2.6b-instruct")["status"] == "withdrawn"
    assert "status" not in _entry(kg, "tiny-chat-2.6b")
    assert report.withdrawn == ["tiny-chat-2.6b-instruct: no longer in epoch"]


def test_interrupted_import_run_again_equals_an_uninterrupted_one(kg: KnowledgeGraph) -> None:
    text = (DATA / "good.csv").read_text() + (DATA / "malformed.csv").read_text().split("\n", 1)[1]

    def stop(batch: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_epoch(kg, text, batch_size=1, after_batch=stop)
    import_epoch(kg, text, batch_size=1)
    interrupted = _quads(kg)
    kg.store.update("DROP ALL")
    kg.ensure_seeded()
    import_epoch(kg, text, batch_size=1)
    assert _quads(kg) == interrupted


def test_unknown_size_is_kept_with_an_unknown_kind(kg: KnowledgeGraph) -> None:
    import_epoch_file(kg, DATA / "malformed.csv")
    entry = _entry(kg, "no-count")
    assert entry["kindBasis"] == "unknown" and "parameterCount" not in entry
    assert LMKG.LanguageModelOfUnknownKind in set(
        kg.entry_graph("no-count").objects(model_iri("no-count"), None)
    )


def test_http_import_needs_the_token(client, auth) -> None:
    body = (DATA / "good.csv").read_bytes()
    assert (
        client.post("/imports/epoch", content=body, headers={"Content-Type": "text/csv"}).status_code == 401
    )
    response = client.post("/imports/epoch", content=body, headers={**auth, "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert (response.json()["kept"], response.json()["rows"]) == (3, 4)
    assert client.get("/models/tiny-chat-2.6b").status_code == 200
    assert client.post("/imports/nowhere", content=body, headers=auth).status_code == 404
