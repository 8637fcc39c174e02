"""Licences read from free text: Epoch's "Accessibility notes" and Ecosystem Graphs' `license`.

Free text names several licences at once ("Apache 2.0 for code, CC-BY-NC 4.0 for weights",
"MIT and deepseek license"), so the rules do not take the first pattern that matches:

1. Every licence the text names is found, with where it is named.
2. A licence said to cover the code or the repository, and not the weights ("Apache 2.0 for
   code", "code is apache", "This repository is released under the Apache-2.0 License"), is
   set aside: lmkg records the licence of the model's weights.
3. What the access level allows decides among the rest. For "Open weights (non-commercial)"
   a permissive licence (Apache, MIT, BSD, CC-BY, ...) is never the answer: a non-commercial
   licence the text names is, else "LicenseRef-Non-Commercial" (a non-commercial licence
   the text does not name). For "Open weights (restricted use)" a model-specific licence
   (Llama, Gemma, Qwen, DeepSeek, RAIL...) wins over a permissive one named beside it.
   Otherwise the first licence named for the weights wins.
4. Text saying there is no licence, or that it is unclear, gives no licence; the reading
   says why.

Identifiers are SPDX where SPDX has one, `LicenseRef-...` otherwise; model families'
licences keep their version (Llama 2, 3, 3.1, 3.2, 3.3 and 4 are six licences).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERMISSIVE = frozenset(
    {
        "Apache-2.0",
        "MIT",
        "BSD-3-Clause",
        "BSD-2-Clause",
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
        "ODC-By-1.0",
        "WTFPL",
        "GPL-3.0-only",
        "AFL-3.0",
    }
)
"""Licences that allow commercial use of the weights without conditions on who uses them."""

NON_COMMERCIAL = "LicenseRef-Non-Commercial"
RESTRICTED = "LicenseRef-Custom-Restricted"

_V = r"(?:\s*(?:v(?:ersion)?\.?\s*)?)"
# (pattern, identifier, non-commercial?) — tried at every position; more specific first.
_RULES: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(r"cc[ -]?by[ -:]?nc[ -]?nd", re.I), "CC-BY-NC-ND-4.0", True),
    (
        re.compile(r"cc[ -]?by[ -:]?nc[ -]?sa|attribution-noncommercial-sharealike", re.I),
        "CC-BY-NC-SA-4.0",
        True,
    ),
    (
        re.compile(
            r"cc[ -]?by[ -:]?nc|creative commons attribution:?[ -]non[ -]?commercial|"
            r"non-commercial creative commons|creative commons non-commercial|attribution-noncommercial",
            re.I,
        ),
        "CC-BY-NC-4.0",
        True,
    ),
    (re.compile(r"cc[ -]?by[ -]?sa|creativecommons\.org/licenses/by-sa", re.I), "CC-BY-SA-4.0", False),
    (
        re.compile(
            r"cc[ -]?by(?:[ -]?4\.0)?\b|creative commons attribution 4\.0|creativecommons\.org/licenses/by/",
            re.I,
        ),
        "CC-BY-4.0",
        False,
    ),
    (
        re.compile(r"llama[ -]?4\b[ \w-]{0,25}?(?:licen[cs]e|community|for (?:the )?weights)", re.I),
        "LicenseRef-Llama-4-Community",
        False,
    ),
    (
        re.compile(r"llama[ -]?3\.3\b[ \w-]{0,25}?(?:licen[cs]e|community|for (?:the )?weights)", re.I),
        "LicenseRef-Llama-3.3-Community",
        False,
    ),
    (
        re.compile(r"llama[ -]?3\.2\b[ \w-]{0,25}?(?:licen[cs]e|community|for (?:the )?weights)", re.I),
        "LicenseRef-Llama-3.2-Community",
        False,
    ),
    (
        re.compile(r"llama[ -]?3\.1\b[ \w-]{0,25}?(?:licen[cs]e|community|for (?:the )?weights)", re.I),
        "LicenseRef-Llama-3.1-Community",
        False,
    ),
    (
        re.compile(
            r"llama[ -]?3\b[ \w-]{0,25}?(?:licen[cs]e|community|for (?:the )?weights)|llama\.meta\.com/llama3/license",
            re.I,
        ),
        "LicenseRef-Llama-3-Community",
        False,
    ),
    (
        re.compile(
            r"(?:llama[ -]?2\b[ \w-]{0,25}?(?:licen[cs]e|for (?:the )?weights)|licen[cs]e:?\s*llama[ -]?2)",
            re.I,
        ),
        "LicenseRef-Llama-2-Community",
        False,
    ),
    (re.compile(r"^\s*llama[ -]?2\s*$", re.I), "LicenseRef-Llama-2-Community", False),
    (re.compile(r"^\s*llama[ -]?3\s*$", re.I), "LicenseRef-Llama-3-Community", False),
    (
        re.compile(r"llama(?:[ -]?1)?(?:'s)?\s+licen[cs]e|licen[cs]e of meta llama|llama/vicuna licen", re.I),
        "LicenseRef-Llama",
        False,
    ),
    (
        re.compile(
            r"gemma[^.\n]{0,25}?(?:licen[cs]e|terms)|ai\.google\.dev/gemma/terms|licen[cs]e:?\s*gemma|^\s*gemma\b",
            re.I,
        ),
        "LicenseRef-Gemma-Terms-of-Use",
        False,
    ),
    (re.compile(r"health ai developer foundations terms", re.I), "LicenseRef-HAI-DEF-Terms", False),
    (
        re.compile(
            r"tongyi[ %20]*qianwen[^.\n]{0,20}?licen[cs]e|qwen licen[cs]e|qwen/qwen[^ ]*/blob/main/licen[cs]e",
            re.I,
        ),
        "LicenseRef-Qwen",
        False,
    ),
    (
        re.compile(r"deepseek[^.\n]{0,15}?licen[cs]e|deepseek-ai/[^ ]+/licen[cs]e-model", re.I),
        "LicenseRef-DeepSeek",
        False,
    ),
    (
        re.compile(r"bigcode[- ]?(?:model[- ]license|open ?rail)", re.I),
        "LicenseRef-BigCode-OpenRAIL-M",
        False,
    ),
    (
        re.compile(r"bigscience[- ]?(?:rail|openrail)|the-bigscience-rail|responsible ai license", re.I),
        "LicenseRef-BigScience-RAIL-1.0",
        False,
    ),
    (re.compile(r"open ?rail\+\+", re.I), "LicenseRef-OpenRAIL++", False),
    (re.compile(r"open ?rail(?:-m)?", re.I), "LicenseRef-OpenRAIL-M", False),
    (re.compile(r"mistral research licen[cs]e", re.I), "LicenseRef-Mistral-Research", True),
    (re.compile(r"mistral ai non-production licen[cs]e", re.I), "LicenseRef-Mistral-Non-Production", True),
    (
        re.compile(r"nvidia open model licen[cs]e|nvidia-open-model-license", re.I),
        "LicenseRef-NVIDIA-Open-Model",
        False,
    ),
    (re.compile(r"nvidia-internal-scientific-research", re.I), "LicenseRef-NVIDIA-Internal-Research", True),
    (
        re.compile(r"nvidia-ai-foundation-models-license", re.I),
        "LicenseRef-NVIDIA-AI-Foundation-Models",
        False,
    ),
    (re.compile(r"exaone licen[cs]e", re.I), "LicenseRef-EXAONE", True),
    (re.compile(r"apple research licen[cs]e", re.I), "LicenseRef-Apple-Research", True),
    (re.compile(r"apple sample code licen[cs]e", re.I), "LicenseRef-Apple-Sample-Code", False),
    (re.compile(r"nexus(?:flow)? research licen[cs]e", re.I), "LicenseRef-Nexusflow-Research", True),
    (re.compile(r"nexusflow community licen[cs]e", re.I), "LicenseRef-Nexusflow-Community", False),
    (re.compile(r"falcon[- ]?mamba licen[cs]e|tii falcon|falcon-180b", re.I), "LicenseRef-TII-Falcon", False),
    (
        re.compile(r"baichuan[^.\n]{0,25}?(?:licen[cs]e|许可)|community license for baichuan", re.I),
        "LicenseRef-Baichuan-Community",
        False,
    ),
    (re.compile(r"minicpm[^.\n]{0,10}?model licen[cs]e", re.I), "LicenseRef-MiniCPM", False),
    (re.compile(r"telechat model community licen[cs]e", re.I), "LicenseRef-TeleChat-Community", False),
    (re.compile(r"bluelm model|community license for bluelm", re.I), "LicenseRef-BlueLM-Community", False),
    (
        re.compile(r"stability ai community licen[cs]e|stability community licen[cs]e", re.I),
        "LicenseRef-Stability-Community",
        False,
    ),
    (
        re.compile(r"databricks\.com/legal/open-model-license|databricks open model licen[cs]e", re.I),
        "LicenseRef-Databricks-Open-Model",
        False,
    ),
    (re.compile(r"jamba open model licen[cs]e", re.I), "LicenseRef-Jamba-Open-Model", False),
    (re.compile(r"tencent-hunyuan-community", re.I), "LicenseRef-Tencent-Hunyuan-Community", False),
    (re.compile(r"microsoft research licen[cs]e agreement", re.I), "LicenseRef-Microsoft-Research", True),
    (re.compile(r"opt-(?:iml-)?175b licen[cs]e|opt/model_license", re.I), "LicenseRef-OPT-175B", True),
    (re.compile(r"ai2 impact", re.I), "LicenseRef-AI2-ImpACT", False),
    (re.compile(r"gnu general public licen[cs]e v?3|\bgplv?-?3|gpl-3\.0", re.I), "GPL-3.0-only", False),
    (re.compile(r"polyform noncommercial", re.I), "PolyForm-Noncommercial-1.0.0", True),
    (re.compile(r"academic free licen[cs]e (?:v(?:ersion)?\s*)?3", re.I), "AFL-3.0", False),
    (re.compile(r"bsd[ -]?3|bsd licen[cs]e", re.I), "BSD-3-Clause", False),
    (re.compile(r"odc[ -]?by", re.I), "ODC-By-1.0", False),
    (re.compile(r"\bwtfpl\b", re.I), "WTFPL", False),
    (
        re.compile(r"apache(?:[ -]?licen[cs]e)?[ -]?(?:v(?:ersion)?\.?\s*)?(?:2(?:[ .,]0)?)?(?![a-z])", re.I),
        "Apache-2.0",
        False,
    ),
    (re.compile(r"(?<![A-Za-z])MIT(?![A-Za-z])|\bmit licen[cs]e", re.I), "MIT", False),
]
_CODE_ONLY = re.compile(
    r"^[\s,:(]*(?:licen[cs]e\s*)?(?:(?:for|of)\s+(?:the\s+)?(?:training\s+|inference\s+|instruction\s+)?"
    r"(?:code|software|repo)\b|\(software\)|code\b)(?!\s*(?:and|\+|/)\s*(?:weights|model))",
    re.I,
)
_CODE_BEFORE = re.compile(
    r"(?:\bcode\s*(?:is|:)?\s*(?:licensed under\s+)?(?:the\s+)?|repository is released under the\s+|"
    r"(?:use|usage) of the source code in this repository must follow the\s+|"
    r"this code repository is licensed under the\s+|our code is licensed under the\s+|"
    r"the code is licensed under\s+|code is open-source under the\s+|training code is\s+|"
    r"code\s+(?:is\s+)?)$",
    re.I,
)
_NO_LICENCE = re.compile(
    r"\bno (?:clear )?licen[cs]e\b|\bunclear licen[cs]e|licen[cs]e (?:isn't|is not) clear|"
    r"unclear lisense|license unclear|no license (?:noted|provided)",
    re.I,
)
_NON_COMMERCIAL_WORDS = re.compile(
    r"non[ -]?comm|research (?:use|purposes) only|for research and development only", re.I
)


@dataclass(frozen=True)
class LicenceReading:
    """What a text says of a model's licence: the identifier (None when it names none usable)
    and, when rules decided between several, why."""

    licence: str | None
    named: tuple[str, ...] = ()
    note: str = ""


def _mentions(text: str) -> list[tuple[int, int, str, bool]]:
    found: list[tuple[int, int, str, bool]] = []
    taken: list[tuple[int, int]] = []
    for pattern, identifier, non_commercial in _RULES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if end == start or any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            found.append((start, end, identifier, non_commercial))
    return sorted(found)


def _covers_code_only(text: str, start: int, end: int) -> bool:
    after = text[end : end + 40]
    before = text[max(0, start - 80) : start]
    if _CODE_ONLY.match(after):
        return True
    return bool(_CODE_BEFORE.search(before))


def read_licence(text: str, *, access: str = "") -> LicenceReading:
    """The licence of a model's weights from free text, given Epoch's accessibility level
    ("Open weights (unrestricted)", "... (restricted use)", "... (non-commercial)"; "" when unknown)."""
    text = " ".join(text.split())
    mentions = _mentions(text)
    named = tuple(dict.fromkeys(m[2] for m in mentions))
    weights = [m for m in mentions if not _covers_code_only(text, m[0], m[1])]
    non_commercial_access = "non-commercial" in access
    restricted_access = "(restricted use)" in access
    if non_commercial_access:
        candidates = [m for m in weights if m[3] or m[2] not in PERMISSIVE]
        # A model-family licence ("Llama license") on a non-commercial row is that family's
        # non-commercial licence (LLaMA 1's); the identifier says only that it is non-commercial.
        chosen = next((m[2] for m in candidates if m[3]), None)
        if chosen is None:
            family = next((m[2] for m in candidates), None)
            note = "Epoch: open weights, non-commercial"
            if family is not None:
                note += f"; the text names {family}"
            if any(m[2] in PERMISSIVE for m in mentions):
                note += (
                    "; the permissive licence it names covers something else (code, data) or another version"
                )
            return LicenceReading(NON_COMMERCIAL, named, note)
        return LicenceReading(chosen, named)
    if not weights:
        if _NO_LICENCE.search(text):
            return LicenceReading(None, named, "the source says the weights have no clear licence")
        if restricted_access:
            return LicenceReading(
                RESTRICTED, named, "Epoch: open weights with use restrictions; licence not named"
            )
        return LicenceReading(
            None, named, "no licence named" if not mentions else "only the code's licence is named"
        )
    if restricted_access:
        specific = [m for m in weights if m[2] not in PERMISSIVE]
        if specific:
            note = "a model licence named beside a permissive one" if len(specific) < len(weights) else ""
            return LicenceReading(specific[0][2], named, note)
    chosen = weights[0][2]
    if chosen in PERMISSIVE and _NON_COMMERCIAL_WORDS.search(text) and not non_commercial_access:
        return LicenceReading(
            chosen, named, "the text also mentions non-commercial terms (another version or the data)"
        )
    return LicenceReading(chosen, named)
