"""Synthetic model entries with the distributions of real model catalogues, in lmkg's JSON format.

Parameter counts are log-normal between 100 million and 1 trillion (most models are
small, a long tail is huge); the kind follows the 10-billion threshold with a few
entries whose source disagrees with it; developers follow a Zipf law (a few labs
publish most models); release dates cluster in recent years; small models have open
weights more often than large ones. The generator is seeded, so a size always gives
the same entries.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import Any

THRESHOLD = 10_000_000_000
MIN_PARAMETERS = 100_000_000
MAX_PARAMETERS = 1_000_000_000_000

_DEVELOPERS = [
    "Google DeepMind",
    "Meta AI",
    "OpenAI",
    "Microsoft Research",
    "Alibaba Cloud",
    "Mistral AI",
    "Anthropic",
    "Hugging Face",
    "TII",
    "Allen Institute for AI",
    "EleutherAI",
    "DeepSeek",
    "Stability AI",
    "NVIDIA",
    "Apple",
    "Baidu",
    "Tencent",
    "Zhipu AI",
    "01.AI",
    "Cohere",
    "IBM Research",
    "Salesforce Research",
    "Amazon",
    "Samsung Research",
    "Naver",
    "LG AI Research",
    "StatNLP Research Group, SUTD",
    "BigScience",
    "Databricks",
    "Snowflake",
    "xAI",
    "Reka AI",
    "AI21 Labs",
    "Moonshot AI",
    "MiniMax",
    "Shanghai AI Laboratory",
    "Tsinghua University",
    "Stanford University",
    "University of Washington",
    "Carnegie Mellon University",
]
_LICENCES_OPEN = [
    "Apache-2.0",
    "MIT",
    "LicenseRef-Llama-3-Community",
    "CC-BY-NC-4.0",
    "LicenseRef-Gemma-Terms-of-Use",
    "CC-BY-SA-4.0",
    "LicenseRef-OpenRAIL",
]
_FAMILIES = [
    "Nimbus",
    "Orca",
    "Kestrel",
    "Atlas",
    "Lumen",
    "Sparrow",
    "Quill",
    "Vega",
    "Corvid",
    "Tern",
    "Basalt",
    "Juniper",
    "Ember",
    "Solace",
    "Marlin",
    "Halcyon",
    "Pico",
    "Zephyr",
]
_SPECIALITIES = [
    "code",
    "mathematics",
    "medicine",
    "law",
    "finance",
    "customer support",
    "chemistry",
    "education",
    "multilingual translation",
    "on-device assistants",
]
_TASKS = [
    "Language modeling",
    "Chat",
    "Code generation",
    "Question answering",
    "Translation",
    "Summarization",
    "Reasoning",
    "Instruction following",
]


def _parameter_count(rng: random.Random) -> int:
    # log10(parameters) ~ Normal(9.7, 0.9), clipped to [8, 12]: median ~5B.
    exponent = min(max(rng.gauss(9.7, 0.9), math.log10(MIN_PARAMETERS)), math.log10(MAX_PARAMETERS))
    return int(10**exponent)


def _developer(rng: random.Random) -> str:
    # Zipf-like: weight 1/rank.
    weights = [1 / (rank + 1) for rank in range(len(_DEVELOPERS))]
    return rng.choices(_DEVELOPERS, weights)[0]


def _release(rng: random.Random) -> str:
    # Most models are recent: years back from 2025 are exponential with a mean of 1.5 years.
    days = min(int(rng.expovariate(1 / 550)), 3000)
    return (date(2025, 10, 1) - timedelta(days=days)).isoformat()


def entry(index: int, rng: random.Random) -> dict[str, Any]:
    """The synthetic entry number `index` (ids are unique and stable)."""
    parameters = _parameter_count(rng)
    small = parameters <= THRESHOLD
    kind = "slm" if small else "llm"
    if rng.random() < 0.03:  # the source's category and the size disagree (as for Mistral 7B)
        kind = "llm" if small else "slm"
    family = rng.choice(_FAMILIES)
    size = f"{parameters / 1e9:.1f}b" if parameters >= 1e9 else f"{parameters // 1_000_000}m"
    model_id = f"{family.lower()}-{size}-{index:06d}"
    document: dict[str, Any] = {
        "id": model_id,
        "label": f"{family} {size.upper()} #{index}",
        "kind": kind,
        "developer": [_developer(rng)],
        "releaseDate": _release(rng),
        "sources": [f"https://example.org/models/{model_id}"],
    }
    if rng.random() < 0.92:  # some sizes are undisclosed
        document["parameterCount"] = parameters
    open_weights = rng.random() < (0.75 if small else 0.35)
    document["openWeights"] = open_weights
    document["license"] = rng.choice(_LICENCES_OPEN) if open_weights else "proprietary"
    if rng.random() < 0.1:
        document["developer"].append(_developer(rng))
    if rng.random() < 0.3:
        document["specialisesIn"] = [rng.choice(_SPECIALITIES)]
    document["tasks"] = rng.sample(_TASKS, rng.randint(1, 3))
    if rng.random() < 0.5:
        document["trainingTokens"] = int(parameters * rng.uniform(10, 200))
    if index > 0 and rng.random() < 0.08:
        document["fineTunedFrom"] = f"base-{rng.randrange(index)}"  # resolved by entries()
    return document


def entries(count: int, *, seed: int = 6) -> list[dict[str, Any]]:
    """`count` synthetic entries; a fine-tuned entry names an earlier entry as its base."""
    rng = random.Random(seed)
    result: list[dict[str, Any]] = []
    for index in range(count):
        document = entry(index, rng)
        base = document.pop("fineTunedFrom", None)
        if base is not None:
            document["fineTunedFrom"] = result[int(base.removeprefix("base-"))]["id"]
        result.append(document)
    return result
