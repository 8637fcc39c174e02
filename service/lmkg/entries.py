"""Model entries: JSON <-> RDF, identifiers and provenance.

JSON values map to RDF by their JSON type (an integer to xsd:integer, a
number with a fraction to xsd:double, text to xsd:string), so that a wrong
type reaches the SHACL shapes and is reported there, in the same report as
every other defect. Only what cannot become RDF at all (a document that is
not an object, an unknown field, an identifier that cannot be an IRI, an
unknown kind) is refused here, as an EntryError naming the field.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, XSD

from lmkg.errors import EntryError
from lmkg.vocab import LMKG, MODEL, ORG, model_id_of, model_iri

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
"""Model and organisation ids: lowercase letters, digits, '.', '_' and '-', 1 to 100 characters."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

KINDS: dict[str, URIRef] = {"llm": LMKG.LargeLanguageModel, "slm": LMKG.SmallLanguageModel}

SCALARS: dict[str, URIRef] = {
    "label": RDFS.label,
    "parameterCount": LMKG.parameterCount,
    "license": LMKG.license,
    "openWeights": LMKG.openWeights,
    "description": DCTERMS.description,
    "trainingTokens": LMKG.trainingTokens,
    "trainingCompute": LMKG.trainingCompute,
    "kindBasis": LMKG.kindBasis,
}
TEXT_LISTS: dict[str, URIRef] = {
    "specializesIn": LMKG.specializesIn,
    "tasks": LMKG.task,
    "domains": LMKG.domain,
}
IRI_LISTS: dict[str, URIRef] = {"sources": DCTERMS.source, "derivedFrom": PROV.wasDerivedFrom}
MODEL_LINKS: dict[str, URIRef] = {"variantOf": LMKG.variantOf, "fineTunedFrom": LMKG.fineTunedFrom}

INPUT_FIELDS = (
    {"id", "kind", "developer", "releaseDate"}
    | set(SCALARS)
    | set(TEXT_LISTS)
    | set(IRI_LISTS)
    | set(MODEL_LINKS)
)
OUTPUT_ONLY_FIELDS = {"iri", "recordedAt", "inferred", "sourceClaims", "organisations"}
"""Fields a response adds; accepted and ignored on input so that GET -> PUT round-trips."""


@dataclass
class Entry:
    """One model entry as RDF: its id and the triples of its graph."""

    id: str
    graph: Graph

    @property
    def iri(self) -> URIRef:
        return model_iri(self.id)


def slugify(name: str) -> str:
    """An id from a name: 'Hugging Face' -> 'hugging-face', 'GPT-Neo 1.3B' -> 'gpt-neo-1.3b'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9._]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-._")
    return text[:100].rstrip("-._")


def check_id(value: object, where: str = "id") -> str:
    if not isinstance(value, str):
        raise EntryError([(where, f"must be text, not {type(value).__name__}")])
    if not ID_PATTERN.match(value):
        raise EntryError(
            [
                (
                    where,
                    f"{value!r} is not a valid id: use 1 to 100 lowercase letters, digits, '.', '_' "
                    "or '-', starting and ending with a letter or digit",
                )
            ]
        )
    return value


def _literal(value: object) -> Literal:
    # bool before int: True is an int in Python.
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, float):
        return Literal(value, datatype=XSD.double)
    return Literal(str(value))


def _date_literal(value: object) -> Literal:
    if isinstance(value, str) and _DATE.match(value):
        return Literal(f"{value}T00:00:00Z", datatype=XSD.dateTime)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return Literal(value)  # reported by the shapes as a malformed date
        return Literal(parsed.isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)
    return _literal(value)


def _as_list(value: object, where: str, problems: list[tuple[str, str]]) -> list[object]:
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if isinstance(item, dict | list) or item is None:
            problems.append((f"{where}[{i}]" if isinstance(value, list) else where, "must be text"))
    return [item for item in items if not isinstance(item, dict | list) and item is not None]


def organisation(graph: Graph, name: str) -> URIRef | None:
    """Add an organisation by name to `graph`; its id is the slug of the name."""
    org_id = slugify(name)
    if not org_id:
        return None
    iri = ORG[org_id]
    graph.add((iri, RDF.type, LMKG.Organisation))
    graph.add((iri, RDF.type, OWL.NamedIndividual))
    graph.add((iri, RDFS.label, Literal(name.strip())))
    return iri


def entry_from_json(data: object, *, expected_id: str | None = None) -> Entry:
    """Map a JSON model entry to RDF; raise EntryError for what cannot be mapped."""
    if not isinstance(data, Mapping):
        raise EntryError([("(document)", "a model entry must be a JSON object")])
    problems: list[tuple[str, str]] = []
    unknown = sorted(set(data) - INPUT_FIELDS - OUTPUT_ONLY_FIELDS)
    for field_name in unknown:
        problems.append((field_name, f"unknown field; known fields are {', '.join(sorted(INPUT_FIELDS))}"))
    raw_id = data.get("id", expected_id)
    if raw_id is None:
        problems.append(("id", "is required"))
        raise EntryError(problems)
    try:
        model_id = check_id(raw_id)
    except EntryError as exc:
        raise EntryError(problems + exc.problems) from None
    if expected_id is not None and model_id != expected_id:
        problems.append(("id", f"is {model_id!r} but the URL names {expected_id!r}"))
    subject = model_iri(model_id)
    graph = Graph()
    graph.add((subject, RDF.type, OWL.NamedIndividual))

    kind = data.get("kind")
    if kind is None:
        problems.append(("kind", "is required: 'llm' or 'slm', as the entry's source classifies it"))
    elif kind not in KINDS:
        problems.append(("kind", f"must be 'llm' or 'slm', not {kind!r}"))
    else:
        graph.add((subject, RDF.type, KINDS[str(kind)]))

    for field_name, prop in SCALARS.items():
        value = data.get(field_name)
        if value is None:
            continue
        if isinstance(value, dict | list):
            problems.append((field_name, f"must be a single value, not a {type(value).__name__}"))
            continue
        graph.add((subject, prop, _literal(value)))

    if data.get("releaseDate") is not None:
        value = data["releaseDate"]
        if isinstance(value, dict | list):
            problems.append(("releaseDate", "must be a date, YYYY-MM-DD"))
        else:
            graph.add((subject, LMKG.releaseDate, _date_literal(value)))

    if data.get("developer") is not None:
        for name in _as_list(data["developer"], "developer", problems):
            org = organisation(graph, str(name))
            if org is None:
                problems.append(("developer", f"{name!r} is not a usable organisation name"))
            else:
                graph.add((subject, LMKG.developedBy, org))

    for field_name, prop in TEXT_LISTS.items():
        if data.get(field_name) is not None:
            for item in _as_list(data[field_name], field_name, problems):
                graph.add((subject, prop, _literal(item)))

    for field_name, prop in IRI_LISTS.items():
        if data.get(field_name) is not None:
            for item in _as_list(data[field_name], field_name, problems):
                text = str(item)
                # A value that is not an absolute http(s) IRI stays a literal, so that
                # the shapes report it ("must be an IRI") with the rest.
                ok = re.match(r"^https?://[^\s<>\"{}|\\^`]+$", text)
                graph.add((subject, prop, URIRef(text) if ok else Literal(text)))

    for field_name, prop in MODEL_LINKS.items():
        if data.get(field_name) is not None:
            try:
                graph.add((subject, prop, model_iri(check_id(data[field_name], field_name))))
            except EntryError as exc:
                problems.extend(exc.problems)

    if problems:
        raise EntryError(problems)
    return Entry(model_id, graph)


def parse_json(body: bytes) -> object:
    """Decode a JSON request body, saying where it is malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError([("(body)", f"is not UTF-8: byte {exc.start} cannot be decoded")]) from exc
    if not text.strip():
        raise EntryError([("(body)", "is empty; send a JSON object describing the model")])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EntryError(
            [("(body)", f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from exc


RDF_FORMATS: dict[str, str] = {
    # media type or file suffix -> rdflib parser
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    ".ttl": "turtle",
    ".jsonld": "json-ld",
    ".nt": "nt",
    ".rdf": "xml",
    ".owl": "xml",
}


def _remote_contexts(node: object) -> list[str]:
    """The remote @context references in a JSON-LD document (strings, at any depth), and the
    contexts an @import (JSON-LD 1.1) would fetch."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@import" and isinstance(value, str):
                found.append(value)
            elif key == "@context":
                contexts = value if isinstance(value, list) else [value]
                found.extend(c for c in contexts if isinstance(c, str))
                found.extend(r for c in contexts if isinstance(c, dict) for r in _remote_contexts(c))
            else:
                found.extend(_remote_contexts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_remote_contexts(item))
    return found


def parse_rdf(body: bytes, rdf_format: str) -> Graph:
    """Parse submitted RDF without fetching anything: remote JSON-LD contexts are refused."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError([("(body)", f"is not UTF-8: byte {exc.start} cannot be decoded")]) from exc
    if not text.strip():
        raise EntryError([("(body)", "is empty; send RDF describing one model")])
    if rdf_format == "json-ld":
        document = parse_json(body)
        remote = _remote_contexts(document)
        if remote:
            raise EntryError(
                [
                    (
                        "@context",
                        f"refers to a remote context ({remote[0]}); lmkg never fetches documents "
                        "on a client's behalf: inline the context as a JSON object",
                    )
                ]
            )
    graph = Graph()
    try:
        graph.parse(data=text, format=rdf_format)
    except Exception as exc:  # rdflib's parsers raise many unrelated types
        raise EntryError([("(body)", f"is not valid {rdf_format}: {exc}")]) from exc
    return graph


def entry_from_rdf(graph: Graph, *, expected_id: str | None = None) -> Entry:
    """An entry from submitted RDF (Turtle, JSON-LD): exactly one model IRI as subject."""
    subjects = sorted(
        {s for s in graph.subjects() if isinstance(s, URIRef) and model_id_of(str(s)) is not None}
    )
    if expected_id is not None and model_iri(expected_id) in subjects:
        subjects = [model_iri(expected_id)]
    if len(subjects) != 1:
        found = ", ".join(f"<{s}>" for s in subjects) or "none"
        raise EntryError(
            [
                (
                    "(document)",
                    f"an entry describes exactly one model <{MODEL}ID>; found {found}",
                )
            ]
        )
    subject = subjects[0]
    model_id = check_id(model_id_of(str(subject)), "id")
    if expected_id is not None and model_id != expected_id:
        raise EntryError([("id", f"the document describes {model_id!r} but the URL names {expected_id!r}")])
    entry = Graph()
    for triple in graph:
        entry.add(triple)
    entry.add((subject, RDF.type, OWL.NamedIndividual))
    return Entry(model_id, entry)


def with_provenance(entry: Entry, *, recorded_at: datetime | None = None) -> Entry:
    """Stamp the entry with the time it was recorded (prov:generatedAtTime)."""
    moment = (recorded_at or datetime.now(UTC)).replace(microsecond=0)
    entry.graph.set(
        (
            entry.iri,
            PROV.generatedAtTime,
            Literal(moment.isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime),
        )
    )
    return entry


def _text(graph: Graph, subject: URIRef, prop: URIRef) -> Any:
    value = graph.value(subject, prop)
    return value.toPython() if isinstance(value, Literal) else None


def _date_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def entry_to_json(graph: Graph, subject: URIRef) -> dict[str, Any]:
    """The JSON form of an entry graph (the fields of entry_from_json, plus iri and recordedAt)."""
    model_id = model_id_of(str(subject))
    kinds = [k for k, cls in KINDS.items() if (subject, RDF.type, cls) in graph]
    result: dict[str, Any] = {"id": model_id, "iri": str(subject)}
    result["label"] = _text(graph, subject, RDFS.label)
    result["kind"] = kinds[0] if len(kinds) == 1 else None
    for field_name, prop in SCALARS.items():
        if field_name != "label":
            value = _text(graph, subject, prop)
            if value is not None:
                result[field_name] = value
    developers = sorted(
        str(graph.value(org, RDFS.label) or org) for org in graph.objects(subject, LMKG.developedBy)
    )
    result["developer"] = developers
    release = _date_text(_text(graph, subject, LMKG.releaseDate))
    if release:
        result["releaseDate"] = release
    for field_name, prop in TEXT_LISTS.items():
        values = sorted(str(v) for v in graph.objects(subject, prop))
        if values:
            result[field_name] = values
    for field_name, prop in IRI_LISTS.items():
        values = sorted(str(v) for v in graph.objects(subject, prop))
        if values or field_name == "sources":
            result[field_name] = values
    for field_name, prop in MODEL_LINKS.items():
        target = graph.value(subject, prop)
        if target is not None:
            result[field_name] = model_id_of(str(target)) or str(target)
    recorded = _date_text(_text(graph, subject, PROV.generatedAtTime))
    if recorded:
        result["recordedAt"] = recorded
    return result
