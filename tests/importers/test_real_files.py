"""Both importers on the real data sets in /work/shared/data (never copied into the project):
one import of each per session, shared by the tests below, then a second import of both."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from lmkg.commands import execute
from lmkg.config import Settings, shared_dir
from lmkg.entries import entry_to_json
from lmkg.importers.ecosystem_graphs import import_ecosystem_graphs
from lmkg.importers.epoch import import_epoch_file
from lmkg.importers.records import ImportReport
from lmkg.knowledge import KnowledgeGraph
from lmkg.queries import QueryCatalogue
from lmkg.store import open_store
from lmkg.vocab import model_iri

EPOCH = shared_dir() / "data" / "epoch-ai-models" / "all-ml-systems.csv"
ECOSYSTEM = shared_dir() / "data" / "ecosystem-graphs"
pytestmark = pytest.mark.skipif(
    not (EPOCH.is_file() and (ECOSYSTEM / "assets").is_dir()),
    reason=f"the real data sets are not in {shared_dir()}",
)
CATALOGUE = QueryCatalogue(Settings().queries_dir)


@dataclass
class Imported:
    kg: KnowledgeGraph
    epoch: ImportReport
    ecosystem: ImportReport
    links_settled: ImportReport
    epoch_again: ImportReport
    ecosystem_again: ImportReport
    triples_before_again: int
    triples_after_again: int


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    """Epoch, then Ecosystem Graphs, then Epoch again: that re-import links the Epoch rows whose
    base models only Ecosystem Graphs names (a row's base is resolved when its file is
    imported). Then both again, which must change nothing."""
    settings = replace(Settings(), store=str(tmp_path_factory.mktemp("real") / "store"))
    store = open_store(settings)
    kg = KnowledgeGraph(store, settings)
    kg.ensure_seeded()
    epoch = import_epoch_file(kg, EPOCH, progress=False)
    ecosystem = import_ecosystem_graphs(kg, ECOSYSTEM, progress=False)
    settled = import_epoch_file(kg, EPOCH, progress=False)
    before = store.triple_count()
    ecosystem_again = import_ecosystem_graphs(kg, ECOSYSTEM, progress=False)
    epoch_again = import_epoch_file(kg, EPOCH, progress=False)
    yield Imported(kg, epoch, ecosystem, settled, epoch_again, ecosystem_again, before, store.triple_count())
    store.close()


def _entry(kg: KnowledgeGraph, model_id: str) -> dict:
    return entry_to_json(kg.entry_graph(model_id), model_iri(model_id))


def _ids(rows: list, column: str) -> set[str]:
    return {str(r[column]).rsplit("/", 1)[-1] for r in rows}


def test_every_row_has_an_outcome(imported: Imported) -> None:
    with EPOCH.open(encoding="utf-8-sig", newline="") as handle:
        epoch_rows = sum(1 for _ in csv.DictReader(handle))
    assert imported.epoch.rows == epoch_rows == 1892
    assert imported.ecosystem.rows == 639
    for report in (imported.epoch, imported.ecosystem):
        counts = report.counts()
        assert sum(counts[k] for k in ("kept", "merged", "rejected", "ambiguous")) == counts["rows"]
        assert all(r.reason for r in report.rejections)
        lines = report.csv_text().splitlines()
        assert len(lines) == counts["rows"] + 1
    types = {}
    for result in imported.ecosystem.results:
        types[result.reason] = types.get(result.reason, 0) + 1
    assert (types["dataset"], types["application"]) == (112, 98)
    assert imported.ecosystem.counts()["ambiguous"] == 0  # the alias table settles the three the rules cannot
    assert imported.epoch.counts()["ambiguous"] == 0


def test_reimporting_both_changes_no_triple(imported: Imported) -> None:
    # The only change of the first Epoch re-import: links to bases that Ecosystem Graphs added.
    assert imported.links_settled.written <= 5
    assert imported.triples_after_again == imported.triples_before_again
    assert imported.epoch_again.written == imported.ecosystem_again.written == 0
    assert imported.epoch_again.counts()["kept"] + imported.epoch_again.counts()["merged"] == (
        imported.epoch.counts()["kept"] + imported.epoch.counts()["merged"]
    )


def test_frontier_rows_are_entities_of_unknown_size(imported: Imported) -> None:
    for model_id in ("gpt-4", "o1", "o3", "claude-3.7-sonnet", "claude-opus-4", "gemini-2.0-pro", "grok-3"):
        entry = _entry(imported.kg, model_id)
        assert "parameterCount" not in entry, model_id
        assert any(s["sourceKind"] == "epoch" for s in entry["statements"]), model_id


def test_what_is_not_a_language_model_is_not_one(imported: Imported) -> None:
    dropped = {r.name: r.reason for r in imported.epoch.rejections}
    assert {"TransE", "GAIA-1", "PaLI-X"} <= set(dropped)
    assert all("its domains are" in dropped[name] for name in ("AlexNet", "ResNet-152 (ImageNet)"))
    for model_id in ("transe", "gaia-1", "alexnet"):
        assert not imported.kg.exists(model_id)


def test_identity_and_measures(imported: Imported) -> None:
    kg = imported.kg
    assert _entry(kg, "pangu-alpha")["parameterCount"] == 207_000_000_000
    assert _entry(kg, "pangu-sigma")["parameterCount"] == 1_085_000_000_000
    phi = _entry(kg, "phi-3.5-moe")
    assert (phi["parameterCount"], phi["activeParameterCount"]) == (60_800_000_000, 6_600_000_000)
    assert _entry(kg, "eagle-2")["license"] == "CC-BY-NC-4.0"
    pali = _entry(kg, "pali")
    assert pali["trainingDatapoints"] == 1_600_000_000 and "trainingTokens" not in pali
    mai = _entry(kg, "microsoft-mai-1")
    assert {s["confidence"] for s in mai["statements"] if s["field"] == "parameterCount"} == {"speculative"}


def test_mistral_7b_is_one_entity_with_every_source(imported: Imported) -> None:
    mistral = _entry(imported.kg, "mistral-7b")
    sizes = {(s["sourceKind"], s["value"]) for s in mistral["statements"] if s["field"] == "parameterCount"}
    assert sizes == {
        ("curated", 7_300_000_000),
        ("ecosystem-graphs", 7_300_000_000),
        ("epoch", 7_000_000_000),
    }
    dates = {s["value"] for s in mistral["statements"] if s["field"] == "releaseDate"}
    assert dates == {"2023-09-27", "2023-10-10"}
    assert mistral["parameterCount"] == 7_300_000_000  # the curated value is preferred
    rows = execute(imported.kg.store, CATALOGUE.get("fact-disagreements").text).rows
    facts = {
        (str(r["fact"]).rsplit("#", 1)[-1], str(r["value"])[:10], str(r["otherValue"])[:10])
        for r in rows
        if str(r["model"]).endswith("/mistral-7b")
    }
    assert any(f[0] == "parameterCount" and {f[1], f[2]} == {"7000000000", "7300000000"} for f in facts), (
        facts
    )
    assert any(f[0] == "releaseDate" and {f[1], f[2]} == {"2023-09-27", "2023-10-10"} for f in facts), facts


def test_descendants_of_mistral_and_llama_2(imported: Imported) -> None:
    query = CATALOGUE.get("descendants-of-model")
    mistral = _ids(
        execute(imported.kg.store, query.text, query.bindings({"model": "mistral-7b"})).rows, "descendant"
    )
    assert {
        "biomistral",
        "sciphi-mistral",
        "yarn-mistral",
        "openhermes-2.5-mistral",
        "hermes-2-pro-mistral",
        "mistral-7b-ovm",
    } <= mistral
    llama = set()
    for size in ("7b", "13b", "70b"):
        rows = execute(imported.kg.store, query.text, query.bindings({"model": f"llama-2-{size}"})).rows
        llama |= _ids(rows, "descendant")
    assert {"orca-2-13b", "yarn-llama-2", "openassistant-llama-2"} <= llama and len(llama) >= 20, llama
    chain = CATALOGUE.get("base-chain-of-model")
    bases = _ids(
        execute(imported.kg.store, chain.text, chain.bindings({"model": "biomistral"})).rows, "ancestor"
    )
    assert "mistral-7b" in bases


def test_training_data_both_ways(imported: Imported) -> None:
    of_model = CATALOGUE.get("datasets-of-model")
    datasets = _ids(
        execute(imported.kg.store, of_model.text, of_model.bindings({"model": "gpt-j-6b"})).rows, "dataset"
    )
    assert "the-pile" in datasets
    trained = CATALOGUE.get("models-trained-on-dataset")
    rows = execute(
        imported.kg.store,
        trained.text,
        trained.bindings({"dataset": "https://w3id.org/lmkg/dataset/the-pile"}),
    ).rows
    assert "gpt-j-6b" in _ids(rows, "model")
