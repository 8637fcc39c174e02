"""Explanations: the chain from an entry's facts to each inferred class."""

from __future__ import annotations

import pytest

from lmkg.entries import entry_from_json
from lmkg.errors import NotFoundError
from lmkg.explain import explain
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.vocab import LMKG


def test_example_small_model_chain_cites_the_source_axiom(kg: KnowledgeGraph) -> None:
    explanation = explain(kg, "phi-3-mini")
    portable = explanation.conclusions[str(LMKG.PortableModel)]
    text = "\n".join(portable.lines())
    assert "small language model SubClassOf has portability some high portability" in text
    assert "greater portability" in text  # the source's own sentence
    assert "its source classifies it as a small language model" in text
    assert str(LMKG.CheapToFineTuneModel) in explanation.conclusions
    assert explanation.disagreements == []


def test_disagreement_between_source_and_threshold(kg: KnowledgeGraph) -> None:
    explanation = explain(kg, "mistral-7b")
    assert any("under the 10B threshold" in d for d in explanation.disagreements)
    assert any('"Mistral 7b"' in d for d in explanation.disagreements)
    assert str(LMKG.PortableModel) not in explanation.conclusions


def test_threshold_based_kind_explains_the_count(kg: KnowledgeGraph) -> None:
    entry = entry_from_json(
        {
            "id": "gemma-2-2b",
            "label": "Gemma 2 2B",
            "kind": "slm",
            "kindBasis": "size-threshold",
            "parameterCount": 2_600_000_000,
            "developer": "Google DeepMind",
            "sources": ["https://arxiv.org/abs/2408.00118"],
        }
    )
    assert kg.write([entry], mode=WriteMode.CREATE).committed
    text = explain(kg, "gemma-2-2b").as_text()
    assert "parameter count 2.6B is at most 10B" in text
    assert "so lmkg applied its size threshold" in text
    assert "every small language model has" in text


def test_unknown_model(kg: KnowledgeGraph) -> None:
    with pytest.raises(NotFoundError):
        explain(kg, "no-such-model")
