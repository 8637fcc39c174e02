"""The Epoch importer's rules, without a store: which rows are language models, what each row
becomes, licences on every distinct value of the real file, and matching to one entity."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lmkg.config import shared_dir
from lmkg.importers.epoch import NAMESPACE, active_parameters, read_rows, select_rows
from lmkg.importers.licences import NON_COMMERCIAL, PERMISSIVE, read_licence
from lmkg.importers.matching import EntityIndex, merge_record, organisations_agree
from lmkg.importers.pipeline import plan
from lmkg.importers.records import ImportReport, Outcome, preferred_values

DATA = Path(__file__).parent.parent / "data" / "epoch"
REAL = shared_dir() / "data" / "epoch-ai-models" / "all-ml-systems.csv"
needs_real = pytest.mark.skipif(not REAL.is_file(), reason=f"the Epoch data is not at {REAL}")
THRESHOLD = 10_000_000_000


@pytest.fixture(scope="module")
def selection():
    _, rows = read_rows((DATA / "filter.csv").read_text(encoding="utf-8"))
    return select_rows(rows, threshold=THRESHOLD, retrieved="2026-11-28")


def test_rows_kept_and_dropped(selection) -> None:
    kept = {r.name for r in selection.records}
    dropped = {name: reason for _, name, reason in selection.rejected}
    assert set(dropped) == {"TransE", "GAIA-1", "Sentiment Net", "ResNet-50"}
    assert "Entity embedding" in dropped["TransE"] and "Video generation" in dropped["GAIA-1"]
    assert "its domains are Vision" in dropped["ResNet-50"]
    assert {"PaLI", "GPT-4", "o1", "Eagle 2", "PanGu-\u03b1", "PanGu-\u03a3", "Mistral 7B"} <= kept


def test_what_a_row_becomes(selection) -> None:
    records = {r.name: r for r in selection.records}
    gpt4 = records["GPT-4"].entry
    assert "parameterCount" not in gpt4 and gpt4["kind"] == "llm" and gpt4["kindBasis"] == "size-threshold"
    assert any(s["field"] == "kind" and "6ND" in s["note"] for s in gpt4["statements"])
    assert "kind" not in records["o1"].entry and "parameterCount" not in records["o1"].entry
    assert records["o1"].entry["kindBasis"] == "unknown"
    assert all(s["confidence"] == "speculative" for s in gpt4["statements"])
    assert all("confidence" not in s for s in records["o1"].entry["statements"])  # Epoch: "Unknown"
    phi = records["Phi-3.5-MoE"].entry
    assert (phi["parameterCount"], phi["activeParameterCount"], phi["license"]) == (
        60_800_000_000,
        6_600_000_000,
        "MIT",
    )
    pali = records["PaLI"].entry
    assert (pali["trainingDatapoints"], pali["trainingDatapointsUnit"]) == (1_600_000_000, "datapoints")
    assert "trainingTokens" not in pali
    assert pali["openWeights"] is False and "license" not in pali  # Unreleased: no licence at all
    assert gpt4["license"] == "proprietary"
    assert records["Eagle 2"].entry["license"] == "CC-BY-NC-4.0"
    assert records["Fusion"].bases == ["Mistral 7B", "Qwen2.5-72B"]


def test_ids_never_collide(selection) -> None:
    report = ImportReport(source="epoch", rows=selection.rows)
    planned = plan([], selection.records, report, source="epoch", source_kind="epoch", namespace=NAMESPACE)
    ids = {planned.entries[e]["label"]: e for e in planned.entries}
    assert (ids["PanGu-\u03b1"], ids["PanGu-\u03a3"]) == ("pangu-alpha", "pangu-sigma")
    assert planned.entries[ids["Fusion"]]["fineTunedFrom"] == [ids["Mistral 7B"], ids["Qwen2.5-72B"]]
    assert len(ids) == len(selection.records)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Apache 2.0 for code, CC by NC for weights", "CC-BY-NC-4.0", id="nc-weights-apache-code"
        ),
        pytest.param("apache 2", None, id="apache-2-under-non-commercial"),
        pytest.param(
            "Creative Commons Attribution Non Commercial 4.0 https://x.org", "CC-BY-NC-4.0", id="spelled-out"
        ),
        pytest.param(
            "non commercial https://huggingface.co/microsoft/Orca-2-13b/blob/main/LICENSE",
            NON_COMMERCIAL,
            id="unnamed",
        ),
    ],
)
def test_non_commercial_is_never_permissive(text: str, expected: str | None) -> None:
    reading = read_licence(text, access="Open weights (non-commercial)")
    assert reading.licence not in PERMISSIVE
    if expected is not None:
        assert reading.licence == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("apache 2", "Apache-2.0", id="apache-2"),
        pytest.param("Apache 2,0 for weights", "Apache-2.0", id="apache-2-comma"),
        pytest.param("llama 3.1 license https://x.org", "LicenseRef-Llama-3.1-Community", id="llama-3.1"),
        pytest.param(
            "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT", "LicenseRef-Llama-3.2-Community", id="llama-3.2"
        ),
        pytest.param(
            "the Llama 3.3 Community License Agreement", "LicenseRef-Llama-3.3-Community", id="llama-3.3"
        ),
        pytest.param("Llama 3 license (branding requirements)", "LicenseRef-Llama-3-Community", id="llama-3"),
        pytest.param(
            "MIT and deepseek license https://x.org", "LicenseRef-DeepSeek", id="model-licence-beside-mit"
        ),
        pytest.param(
            "apache 2 for code https://x.org llama 2 for weights",
            "LicenseRef-Llama-2-Community",
            id="code-set-aside",
        ),
    ],
)
def test_named_licences(text: str, expected: str) -> None:
    access = (
        "Open weights (restricted use)"
        if "Llama" in expected or "DeepSeek" in expected
        else "Open weights (unrestricted)"
    )
    assert read_licence(text, access=access).licence == expected


@needs_real
def test_licence_rules_on_every_distinct_value_of_the_real_file() -> None:
    with REAL.open(encoding="utf-8-sig", newline="") as handle:
        values = {(r["Model accessibility"], r["Accessibility notes"]) for r in csv.DictReader(handle)}
    assert len(values) > 900
    by_licence: dict[str | None, int] = {}
    for access, notes in values:
        reading = read_licence(notes, access=access)
        if access.startswith("Open weights"):
            by_licence[reading.licence] = by_licence.get(reading.licence, 0) + 1
        if "non-commercial" in access:
            assert reading.licence not in PERMISSIVE, (access, notes)
            assert reading.licence is not None
        if "Llama 3.1" in notes and "license" in notes.lower() and "(restricted use)" in access:
            assert reading.licence in ("LicenseRef-Llama-3.1-Community", "LicenseRef-NVIDIA-Open-Model"), (
                notes
            )
        if not access.startswith("Open weights"):
            continue
        if reading.licence is None:
            assert reading.note, notes  # why there is none
    # The open-weights rows without any licence are those whose notes name none usable.
    assert by_licence.get(None, 0) < 80, by_licence.get(None)


def test_active_parameters() -> None:
    assert active_parameters('"16x3.8B parameters with 6.6B active parameters"') == 6_600_000_000
    assert (
        active_parameters("235 billion total parameters and 22 billion activated parameters")
        == 22_000_000_000
    )
    assert active_parameters("Total Parameters: 456B Activated Parameters per Token: 45.9B") == 45_900_000_000
    assert active_parameters("a 540-billion parameter, densely activated, Transformer") is None


def test_organisation_hierarchy() -> None:
    assert organisations_agree(["Google DeepMind"], ["Google"])
    assert organisations_agree(["Meta AI"], ["Facebook AI Research"])
    assert organisations_agree(["Microsoft Research"], ["Microsoft"])
    assert not organisations_agree(["OpenAI"], ["Google"])


CURATED = {
    "id": "mistral-7b",
    "label": "Mistral 7B",
    "kind": "llm",
    "kindBasis": "source",
    "parameterCount": 7_300_000_000,
    "developer": ["Mistral AI"],
    "releaseDate": "2023-09-27",
    "sources": ["https://mistral.ai/news/announcing-mistral-7b/"],
}


def test_mistral_is_one_entity_with_both_sizes(selection) -> None:
    mistral = next(r for r in selection.records if r.name == "Mistral 7B")
    index = EntityIndex([CURATED])
    match = index.match(mistral, source="epoch", namespace=NAMESPACE)
    assert (match.outcome, match.entity) == ("merge", "mistral-7b")
    merged = merge_record(CURATED, mistral, "mistral-7b", source_kind="epoch")
    sizes = {(s["sourceKind"], s["value"]) for s in merged["statements"] if s["field"] == "parameterCount"}
    assert sizes == {("curated", 7_300_000_000), ("epoch", 7_000_000_000)}
    dates = {s["value"] for s in merged["statements"] if s["field"] == "releaseDate"}
    assert dates == {"2023-09-27", "2023-10-10"}
    assert (merged["parameterCount"], merged["kind"]) == (7_300_000_000, "llm")  # curated is preferred
    again = merge_record(merged, mistral, "mistral-7b", source_kind="epoch")
    assert again == merged


def test_rank_rule() -> None:
    statements = [
        {"field": "parameterCount", "value": 1, "sourceKind": "ecosystem-graphs", "retrieved": "2026-01-01"},
        {
            "field": "parameterCount",
            "value": 2,
            "sourceKind": "epoch",
            "confidence": "speculative",
            "retrieved": "2026-01-01",
        },
        {
            "field": "parameterCount",
            "value": 3,
            "sourceKind": "epoch",
            "confidence": "likely",
            "retrieved": "2025-01-01",
        },
        {"field": "releaseDate", "value": "a", "sourceKind": "epoch", "retrieved": "2025-01-01"},
        {"field": "releaseDate", "value": "b", "sourceKind": "epoch", "retrieved": "2026-01-01"},
    ]
    assert preferred_values(statements) == {"parameterCount": 3, "releaseDate": "b"}


def test_ambiguous_is_listed_not_merged(selection) -> None:
    record = next(r for r in selection.records if r.name == "Mistral 7B")
    twins = [{**CURATED, "id": "mistral-7b"}, {**CURATED, "id": "mistral-7b-v0.1", "label": "Mistral-7B"}]
    report = ImportReport(source="epoch", rows=1)
    planned = plan(twins, [record], report, source="epoch", source_kind="epoch", namespace=NAMESPACE)
    assert planned.entries == {} and report.of(Outcome.AMBIGUOUS)[0].reason.startswith(
        "could be any of mistral-7b"
    )


@needs_real
def test_real_file_every_row_has_an_outcome() -> None:
    _, rows = read_rows(REAL.read_text(encoding="utf-8-sig"))
    chosen = select_rows(rows, threshold=THRESHOLD, retrieved="2026-11-28")
    assert len(chosen.records) + len(chosen.rejected) == len(rows) == 1892
    names = {r.name: r for r in chosen.records}
    for frontier in ("GPT-4", "o1", "Claude 3.7 Sonnet", "Gemini 2.0 Flash", "Grok-3"):
        assert "parameterCount" not in names[frontier].entry, frontier
    assert names["Eagle 2"].entry["license"] != "Apache-2.0"
    report = ImportReport(source="epoch", rows=len(rows))
    planned = plan([], chosen.records, report, source="epoch", source_kind="epoch", namespace=NAMESPACE)
    assert len(planned.entries) == len(chosen.records)
    assert {"pangu-alpha", "pangu-sigma"} <= set(planned.entries)
