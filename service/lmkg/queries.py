"""The named-query catalogue, read from the `#+` headers of queries/*.rq.

A header is a block of lines at the top of a file:

    #+ summary: Models that are portable and cheap to fine-tune
    #+ description: Longer text; may span several description lines.
    #+ tags: portability, fine-tuning
    #+ param: kind: string = slm ; Which kind of model (llm or slm)
    #+ param: minParameters: integer ; The smallest parameter count

A parameter `name` is the SPARQL variable `?name`. Its value is parsed to the
declared type and bound as an RDF term written by lmkg.store.sparqltext (one
VALUES block at the start of WHERE: the result goes to the client serialised
by the engine through Store.execute, which takes no substitutions), never
pasted into the query text as given. A parameter with no default and no value stays unbound,
so a query tests it with BOUND().
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from lmkg.entries import ID_PATTERN
from lmkg.errors import InputError, NotFoundError
from lmkg.store import sparqltext
from lmkg.vocab import LMKG, PREFIXES, model_iri

PARAM_TYPES = ("string", "integer", "decimal", "boolean", "date", "iri", "model", "class")
_HEADER = re.compile(r"^#\+\s*(\w+)\s*:\s*(.*)$")
_PARAM = re.compile(r"^(\w+)\s*:\s*(\w+)\s*(?:=\s*([^;]*?))?\s*(?:;\s*(.*))?$")


class QueryParameterError(InputError):
    """A named query's parameter is missing, unknown or of the wrong type."""

    status = 422  # as FastAPI answers a query-string parameter that fails its declared type


@dataclass(frozen=True)
class Parameter:
    """One typed parameter of a named query."""

    name: str
    type: str
    default: str | None = None
    description: str = ""
    enum: tuple[str, ...] = ()

    def bind(self, raw: str) -> Identifier:
        """Parse a value given as text into the RDF term bound to ?name."""
        value = raw.strip()
        if self.enum and value not in self.enum:
            raise QueryParameterError(
                f"parameter '{self.name}' must be one of {', '.join(self.enum)}, not {raw!r}"
            )
        try:
            if self.type == "string":
                return Literal(value)
            if self.type == "integer":
                return Literal(int(value), datatype=XSD.integer)
            if self.type == "decimal":
                return (
                    Literal(value, datatype=XSD.decimal) if float(value) == float(value) else Literal(value)
                )
            if self.type == "boolean":
                lowered = value.lower()
                if lowered not in ("true", "false", "1", "0"):
                    raise ValueError("expected true or false")
                return Literal(lowered in ("true", "1"))
            if self.type == "date":
                day = date.fromisoformat(value)
                return Literal(
                    datetime(day.year, day.month, day.day).isoformat() + "Z", datatype=XSD.dateTime
                )
            if self.type == "model":
                if not ID_PATTERN.match(value):
                    raise ValueError("expected a model id such as phi-3-mini")
                return model_iri(value)
            if self.type == "class":
                if not re.match(r"^[A-Za-z][A-Za-z0-9]*$", value):
                    raise ValueError("expected an lmkg class name such as SmallLanguageModel")
                return LMKG._NS[value]
            if self.type == "iri":
                if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value):
                    raise ValueError("expected an absolute http(s) IRI")
                return URIRef(value)
        except ValueError as exc:
            raise QueryParameterError(
                f"parameter '{self.name}' must be of type {self.type}: {raw!r} is not ({exc})"
            ) from exc
        raise QueryParameterError(f"parameter '{self.name}' has an unknown type {self.type!r}")

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "description": self.description,
            "enum": list(self.enum) or None,
        }


@dataclass(frozen=True)
class NamedQuery:
    """One .rq file with its header."""

    name: str
    path: Path
    text: str
    summary: str
    description: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    @property
    def is_violation_check(self) -> bool:
        return self.name.endswith("-violation")

    @property
    def form(self) -> str:
        return self.read.form.value

    @cached_property
    def read(self) -> sparqltext.SparqlText:
        """The query's text read once (tokenised), for every run of it."""
        return sparqltext.read(self.text)

    def bindings(self, values: Mapping[str, str | None]) -> dict[str, Identifier]:
        """Typed bindings from text values; unknown names are refused."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise QueryParameterError(
                f"query '{self.name}' has no parameter {', '.join(unknown)}; "
                f"its parameters are {', '.join(known) or 'none'}"
            )
        bound: dict[str, Identifier] = {}
        for parameter in self.parameters:
            raw = values.get(parameter.name)
            if raw is None or raw == "":
                raw = parameter.default
            if raw is not None:
                bound[parameter.name] = parameter.bind(raw)
        return bound

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "form": self.form,
            "parameters": [p.as_json() for p in self.parameters],
        }


def parse_header(name: str, path: Path, text: str) -> NamedQuery:
    summary = ""
    description: list[str] = []
    tags: tuple[str, ...] = ()
    parameters: list[Parameter] = []
    for line in text.splitlines():
        if not line.startswith("#+"):
            if line.strip() and not line.startswith("#"):
                break
            continue
        match = _HEADER.match(line)
        if not match:
            raise ValueError(f"{path}: malformed header line {line!r}")
        key, value = match.group(1).lower(), match.group(2).strip()
        if key == "summary":
            summary = value
        elif key == "description":
            description.append(value)
        elif key == "tags":
            tags = tuple(t.strip() for t in value.split(",") if t.strip())
        elif key == "param":
            param = _PARAM.match(value)
            if not param:
                raise ValueError(f"{path}: malformed parameter {value!r}; use 'name: type = default ; text'")
            pname, ptype, default, pdesc = param.groups()
            enum: tuple[str, ...] = ()
            if ptype not in PARAM_TYPES:
                raise ValueError(
                    f"{path}: parameter {pname} has unknown type {ptype}; use one of {PARAM_TYPES}"
                )
            enum_match = re.search(r"\bone of ([\w, -]+)", pdesc or "")
            if enum_match:
                enum = tuple(v.strip() for v in enum_match.group(1).split(",") if v.strip())
            parameters.append(Parameter(pname, ptype, (default or None), (pdesc or "").strip(), enum))
        else:
            raise ValueError(f"{path}: unknown header key {key!r}")
    if not summary:
        raise ValueError(f"{path}: the header needs a '#+ summary:' line")
    return NamedQuery(name, path, text, summary, " ".join(description), tags, tuple(parameters))


class QueryCatalogue:
    """Every named query of a directory, by name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.queries: dict[str, NamedQuery] = {}
        for path in sorted(directory.glob("*.rq")):
            self.queries[path.stem] = parse_header(path.stem, path, path.read_text(encoding="utf-8"))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.queries.values())

    def get(self, name: str) -> NamedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise NotFoundError(
                f"There is no named query '{name}'; GET /queries lists them "
                f"({', '.join(sorted(self.queries))})."
            ) from None

    @staticmethod
    def prologue() -> str:
        return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
