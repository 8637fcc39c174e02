"""SHACL validation: the examples conform; each invalid entry is rejected with its message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmkg.commands import validate_files
from lmkg.config import Settings
from lmkg.knowledge import KnowledgeGraph
from lmkg.ontology import split_examples
from lmkg.validation import Severity

INVALID = Path(__file__).parent / "data" / "invalid-entries"
VALID = Path(__file__).parent / "data" / "valid-entries"
EXPECTED: dict[str, list[str | None]] = json.loads((INVALID / "expected.json").read_text())


def test_examples_conform(kg: KnowledgeGraph) -> None:
    graphs = split_examples(kg.settings.ontology_dir)
    report = kg.validator.validate(graphs.values())
    assert report.conforms, report.as_text()


def test_every_invalid_file_has_an_expectation() -> None:
    files = {p.name for p in INVALID.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in sorted(EXPECTED)])
def test_invalid_entry_rejected_with_its_message(name: str) -> None:
    path_expected, message = EXPECTED[name]
    outcome = validate_files(Settings(), [INVALID / name])
    assert not outcome.conforms
    file_problems = outcome.files[0].problems
    results = [r for a in outcome.assessments for r in a.report.results]
    if file_problems:
        # Refused before SHACL: the JSON cannot become RDF.
        assert any(w == path_expected and message in m for w, m in file_problems), file_problems
        return
    assert results, "the entry was rejected without a reason"
    assert all(r.severity is Severity.VIOLATION for r in results)
    assert any(
        (path_expected is None or r.path == path_expected) and message in r.message for r in results
    ), [r.as_text() for r in results]


@pytest.mark.parametrize("name", [pytest.param(p.name, id=p.name) for p in sorted(VALID.iterdir())])
def test_valid_entries_conform(name: str) -> None:
    outcome = validate_files(Settings(), [VALID / name])
    assert outcome.conforms, outcome.render("text")
    assert outcome.assessments


def test_report_results_link_the_shacl_spec() -> None:
    outcome = validate_files(Settings(), [INVALID / "parameter-count-negative.json"])
    result = outcome.assessments[0].report.results[0]
    assert result.spec.startswith("https://www.w3.org/TR/shacl/#")
    assert result.as_json()["focusNode"] == "https://w3id.org/lmkg/model/bad-model"


def test_validation_does_not_use_rdfs_inference(kg: KnowledgeGraph) -> None:
    """A subclass instance is targeted through the hierarchy the validator adds, not by inference."""
    outcome = validate_files(kg.settings, [INVALID / "missing-label.json"])
    # SmallLanguageModel is only a *subclass* of the shapes' target lmkg:LanguageModel.
    assert not outcome.conforms
