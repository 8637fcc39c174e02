"""Explanations: each verdict with the evidence and rule that decided it; the source's
generalisations quoted as its view, never as a reason."""

from __future__ import annotations

import pytest

from lmkg.entries import entry_from_json
from lmkg.errors import NotFoundError
from lmkg.explain import explain
from lmkg.knowledge import KnowledgeGraph, WriteMode
from lmkg.vocab import LMKG


def test_observation_decides_portability_and_the_source_is_only_quoted(kg: KnowledgeGraph) -> None:
    explanation = explain(kg, "phi-3-mini")
    portable = explanation.verdicts["portable"]
    assert (portable.value, str(portable.basis)) == (True, "observation")
    assert "phone" in portable.detail and "https://arxiv.org/abs/2404.14219" in portable.detail
    text = explanation.as_text()
    # The source's hedged sentence is shown, as its view, not as a reason.
    assert "SLMs, with their leaner architectures, generally offer faster processing" in text
    assert "[hedge: generally]" in text
    assert "every small language model has" not in text
    assert "because its source" not in text
    assert str(LMKG.PortableModel) not in explanation.conclusions  # a verdict, not an axiom's conclusion


def test_size_rule_is_explained_with_its_figures(kg: KnowledgeGraph) -> None:
    explanation = explain(kg, "mistral-7b")
    portable = explanation.verdicts["portable"]
    assert (portable.value, str(portable.basis)) == (True, "size-rule")
    assert "7.3 billion parameters" in portable.detail and "16 GB laptop" in portable.detail
    fits = explanation.conclusions[str(LMKG.FitsLaptopAt4Bit)]
    assert "7.3B" in "\n".join(fits.lines())
    # The source calls it an LLM; the disagreement is reported, not used.
    assert any("under the 10B threshold" in d for d in explanation.disagreements)
    assert any('"Mistral 7b"' in d for d in explanation.disagreements)


def test_unknown_size_means_unknown_verdicts(kg: KnowledgeGraph) -> None:
    explanation = explain(kg, "gpt-4")
    assert {name: v.value for name, v in explanation.verdicts.items()} == {
        "portable": None,
        "cheapToFineTune": None,
        "fast": None,
    }
    assert "portable: unknown" in explanation.as_text()


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
    assert "portable: yes (size-rule)" in text


def test_unknown_model(kg: KnowledgeGraph) -> None:
    with pytest.raises(NotFoundError):
        explain(kg, "no-such-model")
