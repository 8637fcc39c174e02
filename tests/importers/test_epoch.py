"""The Epoch AI importer: small CSVs of each defect, the real file, idempotence, interruption."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rdflib.namespace import PROV

from lmkg.config import shared_dir
from lmkg.errors import LmkgError
from lmkg.explain import explain
from lmkg.importers.epoch import import_epoch, import_epoch_file
from lmkg.knowledge import KnowledgeGraph
from lmkg.vocab import GRAPH_ONTOLOGY, LMKG, model_iri

DATA = Path(__file__).parent.parent / "data" / "epoch"
EXPECTED = json.loads((DATA / "expected.json").read_text())
REAL = shared_dir() / "data" / "epoch-ai-models" / "all-ml-systems.csv"
needs_real = pytest.mark.skipif(not REAL.is_file(), reason=f"the Epoch data is not at {REAL}")


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in EXPECTED])
def test_small_csvs_give_their_expected_outcome(kg: KnowledgeGraph, name: str) -> None:
    report = import_epoch_file(kg, DATA / name)
    expected = EXPECTED[name]
    counts = report.counts()
    for key in ("languageRows", "withParameters", "imported", "rejected"):
        assert counts[key] == expected[key], (key, report.as_text())
    for row, reason in expected.get("reasons", {}).items():
        assert any(r.row == int(row) and reason in r.reason for r in report.rejections), report.as_text()


def test_mapping_of_a_good_row(kg: KnowledgeGraph) -> None:
    import_epoch_file(kg, DATA / "good.csv")
    graph = kg.entry_graph("tiny-chat-2.6b")
    subject = model_iri("tiny-chat-2.6b")
    assert (subject, LMKG.kindBasis, None) in graph
    assert graph.value(subject, LMKG.licence).toPython() == "Apache-2.0"
    assert len(set(graph.objects(subject, LMKG.developedBy))) == 2  # "Acme AI,Open Lab"
    assert any("#row-1" in str(o) for o in graph.objects(subject, PROV.wasDerivedFrom))
    assert LMKG.PortableModel in kg.inferred_types("tiny-chat-2.6b")
    assert LMKG.PortableModel not in kg.inferred_types("big-model-70b")
    instruct = kg.entry_graph("tiny-chat-2.6b-instruct")
    assert instruct.value(model_iri("tiny-chat-2.6b-instruct"), LMKG.fineTunedFrom) == subject
    text = explain(kg, "tiny-chat-2.6b").as_text()
    assert "parameter count 2.6B is at most 10B" in text and "portable: yes (size-rule)" in text


def test_missing_columns_are_named(kg: KnowledgeGraph) -> None:
    with pytest.raises(LmkgError, match=r"missing column.*Publication date.*Parameters"):
        import_epoch_file(kg, DATA / "missing-columns.csv")


def test_changed_row_is_updated_not_duplicated(kg: KnowledgeGraph, tmp_path: Path) -> None:
    import_epoch_file(kg, DATA / "good.csv")
    count = kg.count_models()
    changed = (DATA / "good.csv").read_text().replace("70000000000.0", "71000000000.0")
    report = import_epoch(kg, changed)
    assert (report.updated, report.unchanged) == (1, 2)
    assert kg.count_models() == count
    assert (
        kg.entry_graph("big-model-70b").value(model_iri("big-model-70b"), LMKG.parameterCount).toPython()
        == 71_000_000_000
    )


def _independent_counts() -> tuple[int, int]:
    with REAL.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if "Language" in r["Domain"].split(",")]
    return len(rows), sum(1 for r in rows if r["Parameters"].strip())


@needs_real
def test_real_file_counts_add_up_and_import_is_idempotent(kg: KnowledgeGraph) -> None:
    language, with_parameters = _independent_counts()
    report = import_epoch_file(kg, REAL)
    assert (report.language_rows, report.with_parameters) == (language, with_parameters) == (1023, 826)
    assert report.imported + report.rejected == language
    assert report.imported <= with_parameters
    assert all(r.reason for r in report.rejections)
    no_count = [r for r in report.rejections if r.reason.startswith("no parameter count")]
    assert len(no_count) == language - with_parameters
    triples = kg.store.triple_count()
    again = import_epoch_file(kg, REAL)
    assert (again.imported, again.unchanged) == (0, report.imported)
    assert kg.store.triple_count() == triples


def _quads(kg: KnowledgeGraph) -> set[tuple[str, ...]]:
    """Every quad outside the ontology graph (which has blank nodes), timestamps aside."""
    rows = kg.store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {
        (str(r["g"]), str(r["s"]), str(r["p"]), r["o"].n3())
        for r in rows
        if r["p"] != PROV.generatedAtTime and r["g"] != GRAPH_ONTOLOGY
    }


def test_interrupted_import_run_again_equals_an_uninterrupted_one(kg: KnowledgeGraph, tmp_path: Path) -> None:
    text = (DATA / "good.csv").read_text() + (DATA / "malformed.csv").read_text().split("\n", 1)[1]

    def stop(batch: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_epoch(kg, text, batch_size=1, after_batch=stop)
    assert kg.count_models() == 16  # the 15 examples and one imported entry
    import_epoch(kg, text, batch_size=1)
    interrupted = _quads(kg)
    kg.store.update("DROP ALL")
    kg.ensure_seeded()
    import_epoch(kg, text, batch_size=1)
    assert _quads(kg) == interrupted


def test_http_import_needs_the_token(client, auth) -> None:
    body = (DATA / "good.csv").read_bytes()
    assert (
        client.post("/imports/epoch", content=body, headers={"Content-Type": "text/csv"}).status_code == 401
    )
    response = client.post("/imports/epoch", content=body, headers={**auth, "Content-Type": "text/csv"})
    assert response.status_code == 200 and response.json()["imported"] == 3
    assert client.get("/models/tiny-chat-2.6b").json()["inferred"]["portable"] is True
