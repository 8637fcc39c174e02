"""The Ecosystem Graphs importer: size parsing, cards in the real format (tests/data), merging
with the curated Mistral 7B, datasets and applications, the CLI and the HTTP route."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS

from lmkg.entries import entry_to_json
from lmkg.errors import LmkgError
from lmkg.importers.ecosystem_graphs import (
    Size,
    import_ecosystem_graphs,
    modalities,
    parse_size,
    read_cards,
    read_source_info,
    select_cards,
)
from lmkg.knowledge import KnowledgeGraph
from lmkg.vocab import LMKG, ORG, PRODUCT, model_iri, source_graph

DATA = Path(__file__).parent.parent / "data" / "ecosystem-graphs"


@pytest.mark.parametrize(
    ("text", "size"),
    [
        pytest.param("7B parameters (dense)", Size(7_000_000_000), id="dense"),
        pytest.param("7.3B parameters (dense)", Size(7_300_000_000), id="decimal"),
        pytest.param(
            "61B parameters (sparse); 6.6B active parameters",
            Size(61_000_000_000, 6_600_000_000),
            id="sparse",
        ),
        pytest.param(
            "14B parameters with 2.7B parameters for activation (MoE)",
            Size(14_000_000_000, 2_700_000_000),
            id="moe-for-activation",
        ),
        pytest.param("710M parameters (dense)", Size(710_000_000), id="millions"),
        pytest.param("1.75T parameters (dense)", Size(1_750_000_000_000), id="trillions"),
        pytest.param("306M", Size(306_000_000), id="bare"),
        pytest.param("unknown", Size(None), id="unknown"),
        pytest.param("unknkown", Size(None), id="misspelt-unknown"),
        pytest.param("5.5B (text, image) pairs", Size(None), id="not-parameters"),
        pytest.param(None, Size(None), id="none"),
    ],
)
def test_sizes_from_free_text(text: str | None, size: Size) -> None:
    assert parse_size(text) == size


def test_modalities() -> None:
    assert modalities("image, text; text") == (["image", "text"], ["text"])
    assert modalities("text") == (["text"], ["text"])
    assert modalities("unknown") == ([], [])


def test_cards_read_with_their_line_and_commit() -> None:
    cards = read_cards(DATA)
    info = read_source_info(DATA)
    assert info.commit == "1" * 40 and info.retrieved == "2026-11-28"
    assert [(c.file, c.line, c.name) for c in cards[:2]] == [
        ("mistral.yaml", 1, "Mistral"),
        ("mistral.yaml", 23, "Mistral Large"),
    ]
    selection = select_cards(cards, info=info, threshold=10**10, retrieved="2026-11-28")
    records = {r.name: r for r in selection.records}
    assert set(records) == {"Mistral", "Mistral Large", "BioMistral", "Sparse Model"}
    assert selection.rejected == [(6, "Picture Maker", "not a language model: its output modality is image")]
    bio = records["BioMistral"]
    assert (bio.bases, bio.datasets, bio.derivation) == (["Mistral"], ["PubMed Central"], "fine-tune")
    assert bio.organisations == ["Avignon University", "Nantes University"]
    size_note = next(s for s in bio.entry["statements"] if s["field"] == "parameterCount")
    assert size_note["note"] == "As the paper reports."
    assert size_note["source"].endswith(f"/blob/{'1' * 40}/assets/others.yaml#L1")
    sparse = records["Sparse Model"].entry
    assert (sparse["parameterCount"], sparse["activeParameterCount"]) == (61_000_000_000, 6_600_000_000)
    assert records["Mistral Large"].entry["license"] == "proprietary"  # limited, no licence named


def test_not_a_folder_of_cards(tmp_path: Path) -> None:
    with pytest.raises(LmkgError, match="no assets/ directory"):
        read_cards(tmp_path)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "bad.yaml").write_text("name: not a list\n")
    with pytest.raises(LmkgError, match=r"bad\.yaml: a card file is a list of assets"):
        read_cards(tmp_path)


def _entry(kg: KnowledgeGraph, model_id: str) -> dict:
    return entry_to_json(kg.entry_graph(model_id), model_iri(model_id))


def test_import_merges_mistral_and_links_lineage(kg: KnowledgeGraph) -> None:
    report = import_ecosystem_graphs(kg, DATA)
    counts = report.counts()
    assert counts["rows"] == 7 == sum(counts[k] for k in ("kept", "merged", "rejected", "ambiguous"))
    assert [(r.name, r.entity) for r in report.of("merged")] == [("Mistral", "mistral-7b")]
    mistral = _entry(kg, "mistral-7b")
    sizes = {(s["sourceKind"], s["value"]) for s in mistral["statements"] if s["field"] == "parameterCount"}
    assert sizes == {("curated", 7_300_000_000), ("ecosystem-graphs", 7_300_000_000)}
    assert mistral["parameterCount"] == 7_300_000_000
    bio = _entry(kg, "biomistral")
    assert bio["fineTunedFrom"] == "mistral-7b" and bio["derivation"] == "fine-tune"
    assert bio["trainingDatasets"] == ["PubMed Central"]
    graph = kg.store.graph(source_graph("ecosystem-graphs"))
    le_chat = PRODUCT["le-chat"]
    assert {o for o in graph.objects(le_chat, LMKG.builtOn)} == {
        model_iri("mistral-7b"),
        model_iri("mistral-large"),
    }
    assert (URIRef("https://w3id.org/lmkg/dataset/pubmed-central"), None, None) in graph
    rights = str(graph.value(URIRef("https://w3id.org/lmkg/source/ecosystem-graphs"), DCTERMS.rights))
    assert rights.startswith("No licence declared") and "citation" in rights
    assert graph.value(le_chat, DCTERMS.description) == Literal("A chat assistant built on the two models.")
    hierarchy = kg.store.graph(source_graph("organisation-hierarchy"))
    assert (ORG["google-deepmind"], LMKG.partOf, ORG["google"]) in hierarchy
    triples = kg.store.triple_count()
    again = import_ecosystem_graphs(kg, DATA)
    assert (again.written, kg.store.triple_count()) == (0, triples)


def test_cli_and_http(kg: KnowledgeGraph, client, auth, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(DATA / "SOURCE.md", "eg/SOURCE.md")
        for card in (DATA / "assets").glob("*.yaml"):
            archive.write(card, f"eg/assets/{card.name}")
        archive.writestr("eg/../../escape.yaml", "- name: x\n")
    body = buffer.getvalue()
    assert client.post("/imports/ecosystem-graphs", content=body).status_code == 401
    response = client.post("/imports/ecosystem-graphs", content=body, headers=auth)
    assert response.status_code == 200, response.text
    assert (response.json()["rows"], response.json()["merged"]) == (7, 1)
    assert client.post("/imports/ecosystem-graphs", content=b"not a zip", headers=auth).status_code == 422
    store = tmp_path / "cli-store"
    result = subprocess.run(
        [sys.executable, "-m", "lmkg.cli", "import", "ecosystem-graphs", str(DATA)],
        capture_output=True,
        text=True,
        env={**os.environ, "LMKG_STORE": str(store)},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ecosystem-graphs: read 7 rows" in result.stdout and result.stderr == ""
