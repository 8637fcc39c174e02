"""Model entries: JSON <-> RDF, identifiers and provenance.

JSON values map to RDF by their JSON type (an integer to xsd:integer, a
number with a fraction to xsd:double, text to xsd:string), so that a wrong
type reaches the SHACL shapes and is reported there, in the same report as
every other defect. Only what cannot become RDF at all (a document that is
not an object, an unknown field, an identifier that cannot be an IRI, an
unknown kind) is refused here, as an EntryError naming the field.

Submitted documents are read defensively: nothing is fetched (remote JSON-LD contexts,
XML external entities and owl:imports are refused), entity expansion and nesting are
bounded, and text that no RDF serialisation can carry (control characters, lone
surrogates, values of megabytes) is refused with the field that holds it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
import xml.parsers.expat
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pyoxigraph import NamedNode
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from lmkg.errors import EntryError
from lmkg.graphindex import Index, Triples, TripleSet, index_of
from lmkg.store.sparqltext import is_absolute_iri, nesting_depth
from lmkg.vocab import DATASET, LMKG, MODEL, OBSERVATION, ORG, STATEMENT, model_id_of, model_iri

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
"""Model and organisation ids: lowercase letters, digits, '.', '_' and '-', 1 to 100 characters."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_TEXT_CHARS = 10_000
"""The longest text value an entry may hold (the shapes set tighter limits per field)."""
MAX_IRI_CHARS = 2_000
"""The longest IRI an entry may hold."""
MAX_JSON_DEPTH = 32
"""How deep objects and arrays may nest in a JSON or JSON-LD body (an entry needs 3 or 4)."""
MAX_RDF_NESTING = 64
"""How deep blank nodes and collections may nest in Turtle (rdflib's parser recurses a level each)."""

# What XML 1.0 allows in a document (its Char production): text outside it cannot be written
# as RDF/XML, and lone surrogates cannot be written as UTF-8 at all.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


def is_iri(text: str) -> bool:
    """Whether `text` is an absolute IRI that every store accepts (RFC 3987, as Oxigraph reads it:
    no spaces or brackets, '%' only before two hex digits, no code points outside IRIs).

    Unicode spaces (U+00A0, U+2000 to U+200A, U+3000...) are refused too: RFC 3987 allows them,
    Oxigraph stores them, but rdflib's N-Triples parser refuses them, so such an entry could
    be written and not read back; in a source URL they are a paste error."""
    if not is_absolute_iri(text) or any(c.isspace() for c in text):
        return False
    try:
        NamedNode(text)
    except ValueError:
        return False
    return True


def text_problem(value: str, *, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Why `value` cannot be stored as RDF text, or None when it can."""
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit} are accepted"
    bad = _NOT_XML_CHAR.search(value)
    if bad is not None:
        return (
            f"contains the character U+{ord(bad.group(0)):04X} at position {bad.start()}, which RDF "
            "text cannot hold (control characters other than tab and line breaks, lone surrogates, "
            "U+FFFE and U+FFFF)"
        )
    return None


def _text_problems(field_name: str, value: object) -> list[tuple[str, str]]:
    """The problems of the text in one JSON field: a string, or a list of strings."""
    items = value if isinstance(value, list) else [value]
    found: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            where = f"{field_name}[{i}]" if isinstance(value, list) else field_name
            problem = text_problem(item, limit=MAX_IRI_CHARS if field_name in IRI_FIELDS else MAX_TEXT_CHARS)
            if problem is not None:
                found.append((where, problem))
    return found


KINDS: dict[str, URIRef] = {"llm": LMKG.LargeLanguageModel, "slm": LMKG.SmallLanguageModel}
LISTED_KINDS: dict[str, URIRef] = {**KINDS, "unknown": LMKG.LanguageModelOfUnknownKind}
"""What GET /models lists and filters by `kind`: the two categories, and the models whose sources
give neither a category nor a size (Epoch's undisclosed frontier models), listed as "unknown"."""

SCALARS: dict[str, URIRef] = {
    "label": RDFS.label,
    "parameterCount": LMKG.parameterCount,
    "license": LMKG.licence,
    "openWeights": LMKG.openWeights,
    "description": DCTERMS.description,
    "trainingTokens": LMKG.trainingTokens,
    "trainingCompute": LMKG.trainingCompute,
    "kindBasis": LMKG.kindBasis,
    "activeParameterCount": LMKG.activeParameterCount,
    "contextLength": LMKG.contextLength,
    "architecture": LMKG.architecture,
    "weightsPrecision": LMKG.weightsPrecision,
    "trainingDatapoints": LMKG.trainingDatapoints,
    "trainingDatapointsUnit": LMKG.trainingDatapointsUnit,
    "derivation": LMKG.derivation,
    "status": LMKG.status,
}
TEXT_LISTS: dict[str, URIRef] = {
    "specialisesIn": LMKG.specialisesIn,
    "tasks": LMKG.task,
    "domains": LMKG.domain,
    "inputModalities": LMKG.inputModality,
    "outputModalities": LMKG.outputModality,
}
IRI_LISTS: dict[str, URIRef] = {"sources": DCTERMS.source, "derivedFrom": PROV.wasDerivedFrom}
IRI_FIELDS = set(IRI_LISTS)
MODEL_LINKS: dict[str, URIRef] = {"variantOf": LMKG.variantOf, "fineTunedFrom": LMKG.fineTunedFrom}
MULTI_LINKS = {"fineTunedFrom"}
"""Links that may name several models (a merge of two bases); the others name one."""

STATED_FIELDS: dict[str, URIRef] = {
    "parameterCount": LMKG.parameterCount,
    "activeParameterCount": LMKG.activeParameterCount,
    "releaseDate": LMKG.releaseDate,
    "license": LMKG.licence,
    "developer": LMKG.developedBy,
    "kind": RDF.type,
    "openWeights": LMKG.openWeights,
    "contextLength": LMKG.contextLength,
    "trainingTokens": LMKG.trainingTokens,
    "trainingDatapoints": LMKG.trainingDatapoints,
}
"""The fields a statement may give a value for, and the property each value is stated for."""
SOURCE_KINDS = ("curated", "paper-or-card", "epoch", "ecosystem-graphs", "source-document")
"""Kinds of source, best first: the rank rule's first key (see preferred_statement)."""
CONFIDENCES = ("confident", "likely", "speculative")
"""A source's confidence in a value, best first (Epoch AI's terms): the rank rule's second key."""
DEVICES: dict[str, URIRef] = {
    "phone": LMKG.PhoneDevice,
    "laptop": LMKG.LaptopDevice,
    "consumer-gpu": LMKG.ConsumerGPUDevice,
    "datacentre-gpu": LMKG.DataCentreGPUDevice,
    "multi-gpu-node": LMKG.MultiGPUNodeDevice,
}
OBSERVATION_KINDS: dict[str, URIRef] = {
    "runs-on": LMKG.DeploymentObservation,
    "fine-tuned": LMKG.FineTuningObservation,
}

INPUT_FIELDS = (
    {"id", "kind", "developer", "releaseDate", "statements", "observations", "trainingDatasets", "family", "specializesIn"}
    | set(SCALARS)
    | set(TEXT_LISTS)
    | set(IRI_LISTS)
    | set(MODEL_LINKS)
)
OUTPUT_ONLY_FIELDS = {
    "iri",
    "recordedAt",
    "inferred",
    "sourceClaims",
    "organisations",
    "verdicts",
    "memoryFootprint",
}
"""Fields a response adds; accepted and ignored on input so that GET -> PUT round-trips."""


class Entry:
    """One model entry as RDF: its id and the triples of its graph.

    An entry read from JSON holds its triples in a TripleSet and becomes an rdflib Graph only
    when `graph` is read (pySHACL, a response, an importer): the write path indexes, checks,
    classifies and writes the triples themselves (lmkg.graphindex). Once `graph` has been
    read, the Graph is the entry's triples, and changes made to it are the entry's.
    """

    __slots__ = ("_graph", "_index", "_triples", "id")

    def __init__(self, id: str, graph: Graph | None = None, *, triples: TripleSet | None = None) -> None:
        if (graph is None) == (triples is None):
            raise ValueError("an Entry is made from a graph or from triples")
        self.id = id
        self._graph = graph
        self._triples = triples
        self._index: Index | None = None

    def __repr__(self) -> str:
        return f"Entry({self.id!r}, {len(self.triples)} triples)"

    @property
    def iri(self) -> URIRef:
        return model_iri(self.id)

    @property
    def graph(self) -> Graph:
        """The entry as an rdflib Graph (built once, when first read)."""
        if self._graph is None:
            assert self._triples is not None
            self._graph = self._triples.graph()
            self._triples = None
        self._index = None  # the caller may change the graph
        return self._graph

    @property
    def triples(self) -> Triples:
        """The entry's triples: its TripleSet, or its Graph once one was built."""
        if self._graph is not None:
            return self._graph
        assert self._triples is not None
        return self._triples

    @property
    def index(self) -> Index:
        """The triples read into dicts (lmkg.graphindex), kept until the entry changes."""
        if self._index is None or self._graph is not None:
            self._index = index_of(self.triples)
        return self._index

    def add(self, triple: tuple[Node, Node, Node]) -> None:
        self._index = None
        self.triples.add(triple)

    def set(self, triple: tuple[Node, Node, Node]) -> None:
        """Replace the values of (subject, predicate) with the one object (Graph.set)."""
        self._index = None
        if self._graph is not None:
            self._graph.set(triple)
        else:
            assert self._triples is not None
            self._triples.remove_values(triple[0], triple[1])
            self._triples.add(triple)


def slugify(name: str) -> str:
    """An id from a name: 'Hugging Face' -> 'hugging-face', 'GPT-Neo 1.3B' -> 'gpt-neo-1.3b'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9._]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-._")
    return text[:100].rstrip("-._")


ID_RULE = (
    "use 1 to 100 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit"
)


def check_id(value: object, where: str = "id") -> str:
    if not isinstance(value, str):
        raise EntryError([(where, f"must be text, not {type(value).__name__}")])
    if not ID_PATTERN.match(value):
        raise EntryError([(where, f"{_shown(value)} is not a valid id: {ID_RULE}")])
    return value


def valid_model_id(value: str) -> str:
    """A model id from a URL path, or ValueError saying what a model id is."""
    if not ID_PATTERN.match(value):
        raise ValueError(f"{_shown(value)} is not a model id: {ID_RULE} (no '/')")
    return value


# Read once: a DefinedNamespace attribute costs a microsecond, and an entry uses a dozen.
_TYPE = RDF.type
_NAMED_INDIVIDUAL = OWL.NamedIndividual
_LABEL = RDFS.label
_ORGANISATION = LMKG.Organisation
_DEVELOPED_BY = LMKG.developedBy
_RELEASE_DATE = LMKG.releaseDate
_INTEGER = XSD.integer
_DOUBLE = XSD.double
_DATE_TIME = XSD.dateTime


def _new_literal(value: object) -> Literal:
    # bool before int: True is an int in Python.
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=_INTEGER)
    if isinstance(value, float):
        return Literal(value, datatype=_DOUBLE)
    return Literal(str(value))


# Literals are immutable, and entries repeat values (developers, licences, tasks, dates,
# booleans): each is built once (rdflib parses and normalises every one it builds). Typed,
# so that True, 1 and 1.0 stay three literals.
_cached_literal = functools.lru_cache(maxsize=8192, typed=True)(_new_literal)


def _literal(value: object) -> Literal:
    if type(value) in (str, int, float, bool):
        return _cached_literal(value)
    return _new_literal(value)


@functools.lru_cache(maxsize=8192)
def _day_literal(day: str) -> Literal:
    return Literal(f"{day}T00:00:00Z", datatype=_DATE_TIME)


def _date_literal(value: object) -> Literal:
    if isinstance(value, str) and _DATE.match(value):
        return _day_literal(value)
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


def organisation(graph: Triples, name: str) -> URIRef | None:
    """Add an organisation by name to `graph`; its id is the slug of the name."""
    org_id = slugify(name)
    if not org_id:
        return None
    iri = ORG[org_id]
    graph.add((iri, _TYPE, _ORGANISATION))
    graph.add((iri, _TYPE, _NAMED_INDIVIDUAL))
    graph.add((iri, _LABEL, _literal(name.strip())))
    return iri


def dataset(graph: Triples, name: str) -> URIRef | None:
    """Add a training dataset by name to `graph`; its id is the slug of the name."""
    dataset_id = slugify(name)
    if not dataset_id:
        return None
    iri = DATASET[dataset_id]
    graph.add((iri, _TYPE, LMKG.Dataset))
    graph.add((iri, _TYPE, _NAMED_INDIVIDUAL))
    graph.add((iri, _LABEL, _literal(name.strip())))
    return iri


def entry_from_json(data: object, *, expected_id: str | None = None) -> Entry:
    """Map a JSON model entry to RDF; raise EntryError for what cannot be mapped.

    A field the entry leaves out but its `statements` give is filled from the preferred
    statement (the rank rule of `statement_sort_key`)."""
    if not isinstance(data, Mapping):
        raise EntryError([("(document)", "a model entry must be a JSON object")])
    data = with_preferred_values(data)
    if "specializesIn" in data and "specialisesIn" not in data:
        # The spelling of lmkg 0.1, still read: names follow British spelling since 0.2.
        data["specialisesIn"] = data.pop("specializesIn")
    problems: list[tuple[str, str]] = []
    unknown = sorted(set(data) - INPUT_FIELDS - OUTPUT_ONLY_FIELDS)
    for field_name in unknown:
        problems.append((field_name, f"unknown field; known fields are {', '.join(sorted(INPUT_FIELDS))}"))
    for field_name in sorted(INPUT_FIELDS & set(data)):
        problems.extend(_text_problems(field_name, data[field_name]))
    if problems:
        raise EntryError(problems)
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
    graph = TripleSet()  # no rdflib Graph unless one is needed: see Entry
    graph.add((subject, _TYPE, _NAMED_INDIVIDUAL))

    kind = data.get("kind")
    if kind is None and data.get("kindBasis") == "unknown":
        # An imported row whose source gives neither a category nor a size (issue 13).
        graph.add((subject, _TYPE, LMKG.LanguageModelOfUnknownKind))
    elif kind is None:
        problems.append(
            (
                "kind",
                "is required: 'llm' or 'slm', as the entry's source classifies it "
                "(or no kind with kindBasis 'unknown' when no source gives it or a size)",
            )
        )
    elif not isinstance(kind, str) or kind not in KINDS:
        problems.append(("kind", f"must be 'llm' or 'slm', not {_shown(kind)}"))
    else:
        graph.add((subject, _TYPE, KINDS[str(kind)]))

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
            graph.add((subject, _RELEASE_DATE, _date_literal(value)))

    if data.get("developer") is not None:
        for name in _as_list(data["developer"], "developer", problems):
            if isinstance(name, str) and re.match(r"^https?://", name) and is_iri(name):
                # An IRI names a stored organisation: the knowledge graph adds its name.
                graph.add((subject, _DEVELOPED_BY, URIRef(name)))
                continue
            org = organisation(graph, str(name))
            if org is None:
                problems.append(("developer", f"{name!r} is not a usable organisation name"))
            else:
                graph.add((subject, _DEVELOPED_BY, org))

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
                ok = re.match(r"^https?://", text) and is_iri(text)
                graph.add((subject, prop, URIRef(text) if ok else Literal(text)))

    for field_name, prop in MODEL_LINKS.items():
        value = data.get(field_name)
        if value is None:
            continue
        targets = value if isinstance(value, list) and field_name in MULTI_LINKS else [value]
        for i, target in enumerate(targets):
            where = f"{field_name}[{i}]" if isinstance(value, list) else field_name
            try:
                graph.add((subject, prop, model_iri(check_id(target, where))))
            except EntryError as exc:
                problems.extend(exc.problems)

    if data.get("family") is not None:
        if not isinstance(data["family"], bool):
            problems.append(("family", f"must be true or false, not {_shown(data['family'])}"))
        elif data["family"]:
            graph.add((subject, _TYPE, LMKG.ModelFamily))

    if data.get("trainingDatasets") is not None:
        for name in _as_list(data["trainingDatasets"], "trainingDatasets", problems):
            found = dataset(graph, str(name))
            if found is None:
                problems.append(("trainingDatasets", f"{name!r} is not a usable dataset name"))
            else:
                graph.add((subject, LMKG.trainedOn, found))

    _add_statements(graph, subject, model_id, data.get("statements"), problems)
    _add_observations(graph, subject, model_id, data.get("observations"), problems)

    if problems:
        raise EntryError(problems)
    return Entry(model_id, triples=graph)


# -- statements: one source's value for one fact --------------------------------------------


def _sources_of(item: Mapping[str, Any], where: str, problems: list[tuple[str, str]]) -> list[URIRef]:
    """The source IRIs of a statement or an observation ("source": one URL, "sources": a list)."""
    raw = item.get("sources", item.get("source"))
    if raw is None:
        problems.append((where + ".source", "is required: the URL of a page a reader can open"))
        return []
    found: list[URIRef] = []
    for i, text in enumerate(raw if isinstance(raw, list) else [raw]):
        if not isinstance(text, str) or not re.match(r"^https?://", text) or not is_iri(text):
            problems.append((f"{where}.source" + (f"[{i}]" if isinstance(raw, list) else ""),
                             f"{_shown(text)} is not an http(s) URL"))
        else:
            found.append(URIRef(text))
    return found


def _stated_value(
    graph: Triples, field_name: str, value: object, where: str, problems: list[tuple[str, str]]
) -> URIRef | Literal | None:
    """The RDF value of one statement, or None (with a problem) when the value cannot be one."""
    if field_name == "developer":
        if isinstance(value, str) and value.strip():
            return organisation(graph, value)
    elif field_name == "kind":
        if isinstance(value, str) and value in KINDS:
            return _literal(value)
    elif field_name == "releaseDate":
        if isinstance(value, str) and _DATE.match(value):
            return _day_literal(value)
    elif field_name == "openWeights":
        if isinstance(value, bool):
            return _literal(value)
    elif field_name == "license":
        if isinstance(value, str) and value.strip() and text_problem(value) is None:
            return _literal(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return _literal(value)
    expected = {
        "developer": "an organisation's name",
        "kind": "'llm' or 'slm'",
        "releaseDate": "a date, YYYY-MM-DD",
        "openWeights": "true or false",
        "license": "text",
    }.get(field_name, "a positive integer")
    problems.append((where + ".value", f"must be {expected}, not {_shown(value)}"))
    return None


def _statement_iri(model_id: str, item: Mapping[str, Any]) -> URIRef:
    """A statement's IRI from what it says, so that the same statement read twice is one node."""
    # "source": x and "sources": [x] are one statement (a response gives "sources").
    raw = item.get("sources", item.get("source"))
    sources = sorted(str(s) for s in (raw if isinstance(raw, list) else [raw]))
    key = json.dumps(
        [item.get("field"), item.get("value"), sources, item.get("sourceKind")],
        sort_keys=True,
        default=str,
    )
    return STATEMENT[f"{model_id}/{hashlib.sha256(key.encode()).hexdigest()[:16]}"]


def _add_statements(
    graph: Triples, subject: URIRef, model_id: str, raw: object, problems: list[tuple[str, str]]
) -> None:
    if raw is None:
        return
    if not isinstance(raw, list):
        problems.append(("statements", "must be a list of statements"))
        return
    for i, item in enumerate(raw):
        where = f"statements[{i}]"
        if not isinstance(item, Mapping):
            problems.append((where, "must be an object with field, value, source and sourceKind"))
            continue
        unknown = sorted(set(item) - STATEMENT_KEYS)
        if unknown:
            problems.append((where, f"has unknown keys {', '.join(unknown)}; known: {', '.join(sorted(STATEMENT_KEYS))}"))
            continue
        field_name = item.get("field")
        if field_name not in STATED_FIELDS:
            problems.append((where + ".field", f"must be one of {', '.join(STATED_FIELDS)}, not {_shown(field_name)}"))
            continue
        kind = item.get("sourceKind")
        if kind not in SOURCE_KINDS:
            problems.append((where + ".sourceKind", f"must be one of {', '.join(SOURCE_KINDS)}, not {_shown(kind)}"))
            continue
        confidence = item.get("confidence")
        if confidence is not None and confidence not in CONFIDENCES:
            problems.append((where + ".confidence", f"must be one of {', '.join(CONFIDENCES)}, not {_shown(confidence)}"))
            continue
        retrieved = item.get("retrieved")
        if retrieved is not None and not (isinstance(retrieved, str) and _DATE.match(retrieved)):
            problems.append((where + ".retrieved", f"must be a date, YYYY-MM-DD, not {_shown(retrieved)}"))
            continue
        note = item.get("note")
        if note is not None and (not isinstance(note, str) or text_problem(note) is not None):
            problems.append((where + ".note", "must be text of at most 10,000 characters"))
            continue
        sources = _sources_of(item, where, problems)
        value = _stated_value(graph, str(field_name), item.get("value"), where, problems)
        if value is None or not sources:
            continue
        node = _statement_iri(model_id, item)
        graph.add((subject, LMKG.hasStatement, node))
        graph.add((node, _TYPE, LMKG.Statement))
        graph.add((node, LMKG.statedProperty, STATED_FIELDS[str(field_name)]))
        graph.add((node, LMKG.statedValue, value))
        graph.add((node, LMKG.sourceKind, _literal(kind)))
        for source in sources:
            graph.add((node, DCTERMS.source, source))
        if confidence is not None:
            graph.add((node, LMKG.confidence, _literal(confidence)))
        if retrieved is not None:
            graph.add((node, LMKG.retrievedOn, _day_literal(retrieved)))
        if note:
            graph.add((node, SKOS.note, _literal(note)))


STATEMENT_KEYS = {"field", "value", "source", "sources", "sourceKind", "retrieved", "confidence", "note", "rank"}
OBSERVATION_KEYS = {"kind", "device", "precision", "method", "source", "sources", "note", "id"}


def _add_observations(
    graph: Triples, subject: URIRef, model_id: str, raw: object, problems: list[tuple[str, str]]
) -> None:
    if raw is None:
        return
    if not isinstance(raw, list):
        problems.append(("observations", "must be a list of observations"))
        return
    for i, item in enumerate(raw):
        where = f"observations[{i}]"
        if not isinstance(item, Mapping):
            problems.append((where, "must be an object with kind, device and source"))
            continue
        unknown = sorted(set(item) - OBSERVATION_KEYS)
        if unknown:
            problems.append((where, f"has unknown keys {', '.join(unknown)}; known: {', '.join(sorted(OBSERVATION_KEYS))}"))
            continue
        kind, device = item.get("kind"), item.get("device")
        if kind not in OBSERVATION_KINDS:
            problems.append((where + ".kind", f"must be one of {', '.join(OBSERVATION_KINDS)}, not {_shown(kind)}"))
            continue
        if device not in DEVICES:
            problems.append((where + ".device", f"must be one of {', '.join(DEVICES)}, not {_shown(device)}"))
            continue
        texts = {key: item.get(key) for key in ("precision", "method", "note")}
        bad = [key for key, text in texts.items() if text is not None and (not isinstance(text, str) or text_problem(text, limit=2000))]
        if bad:
            problems.append((f"{where}.{bad[0]}", "must be text of at most 2,000 characters"))
            continue
        sources = _sources_of(item, where, problems)
        if not sources:
            continue
        key = json.dumps([kind, device, texts, [str(s) for s in sources]], sort_keys=True)
        node = OBSERVATION[f"{model_id}/{hashlib.sha256(key.encode()).hexdigest()[:16]}"]
        graph.add((subject, LMKG.hasObservation, node))
        graph.add((node, _TYPE, OBSERVATION_KINDS[str(kind)]))
        graph.add((node, LMKG.onDevice, DEVICES[str(device)]))
        if texts["precision"]:
            graph.add((node, LMKG.atPrecision, _literal(texts["precision"])))
        if texts["method"]:
            graph.add((node, LMKG.fineTuningMethod, _literal(texts["method"])))
        if texts["note"]:
            graph.add((node, DCTERMS.description, _literal(texts["note"])))
        for source in sources:
            graph.add((node, DCTERMS.source, source))


def statement_sort_key(statement: Mapping[str, Any]) -> tuple[int, int, str]:
    """The rank rule, as a sort key (smallest first = preferred): the kind of source (curated >
    paper-or-card > epoch > ecosystem-graphs > source-document), then the source's confidence
    (confident > likely > speculative > none given), then the later retrieval."""
    kind = statement.get("sourceKind")
    confidence = statement.get("confidence")
    retrieved = str(statement.get("retrieved") or "")
    inverted = "".join(chr(0x10FFFF - ord(c)) for c in retrieved)  # later dates sort first
    return (
        SOURCE_KINDS.index(kind) if kind in SOURCE_KINDS else len(SOURCE_KINDS),
        CONFIDENCES.index(confidence) if confidence in CONFIDENCES else len(CONFIDENCES),
        inverted,
    )


def preferred_statement(statements: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The statement whose value becomes the fact's own (preferred) value, by the rank rule."""
    ranked = sorted(statements, key=statement_sort_key)
    return ranked[0] if ranked else None


def with_preferred_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with each field that it leaves out but its statements give filled in from the
    preferred statement. A field the entry gives itself is the curators' value and stays."""
    result = dict(data)
    statements = data.get("statements")
    if not isinstance(statements, list):
        return result
    by_field: dict[str, list[Mapping[str, Any]]] = {}
    for item in statements:
        if isinstance(item, Mapping) and item.get("field") in STATED_FIELDS:
            by_field.setdefault(str(item["field"]), []).append(item)
    for field_name, items in by_field.items():
        if result.get(field_name) is None:
            best = preferred_statement(items)
            if best is not None and best.get("value") is not None:
                if field_name == "developer":
                    result[field_name] = [i.get("value") for i in items if statement_sort_key(i) == statement_sort_key(best)]
                else:
                    result[field_name] = best.get("value")
    return result


def entries_from_json(documents: Iterable[object]) -> list[Entry]:
    """Map a batch of JSON model entries to RDF (the first that cannot be mapped raises EntryError)."""
    return [entry_from_json(document) for document in documents]


def _shown(value: object) -> str:
    """A JSON value as a message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not a JSON number")


def _json_depth(document: object) -> int:
    """How deep objects and arrays nest in a decoded JSON document (counted without recursion)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(body: bytes) -> object:
    """Decode a JSON request body, saying where it is malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError([("(body)", f"is not UTF-8: byte {exc.start} cannot be decoded")]) from exc
    if not text.strip():
        raise EntryError([("(body)", "is empty; send a JSON object describing the model")])
    try:
        document = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise EntryError(
            [("(body)", f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from exc
    except RecursionError:
        raise EntryError(
            [("(body)", f"nests arrays or objects too deeply; at most {MAX_JSON_DEPTH} levels are accepted")]
        ) from None
    except ValueError as exc:  # NaN and Infinity, or an integer of thousands of digits
        raise EntryError([("(body)", f"is not valid JSON: {exc}")]) from exc
    depth = _json_depth(document)
    if depth > MAX_JSON_DEPTH:
        raise EntryError(
            [
                (
                    "(body)",
                    f"nests arrays or objects {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted",
                )
            ]
        )
    return document


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


_FORMAT_NAMES = {"turtle": "Turtle", "json-ld": "JSON-LD", "nt": "N-Triples", "xml": "RDF/XML"}


class _Refused(Exception):
    pass


def _refuse_entity(
    name: str,
    is_parameter: bool,
    value: str | None,
    base: str | None,
    system_id: str | None,
    public_id: str | None,
    notation: str | None,
) -> None:
    if system_id or public_id:
        raise _Refused(
            f"declares the external entity '{name}' ({system_id or public_id}); lmkg never fetches "
            "documents on a client's behalf: put the text in the document itself"
        )
    if is_parameter:
        raise _Refused(f"declares the parameter entity '%{name};'; RDF/XML needs none: remove the DTD")
    if value is not None and "&" in value:
        raise _Refused(
            f"declares the entity '{name}' in terms of other entities; such entities can expand to "
            "gigabytes ('billion laughs'), so they are refused: declare each entity as plain text"
        )


def _refuse_external_reference(*args: object) -> int:
    raise _Refused("refers to an external entity; lmkg never fetches documents on a client's behalf")


def _xml_refusal(body: bytes) -> str | None:
    """Why an RDF/XML body is refused before parsing (external or nested entities), or None.

    Plain internal entities, as Protégé writes them for namespaces, are accepted; syntax
    errors are left to the RDF/XML parser, which reports them with line and column.
    """
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external_reference
    try:
        parser.Parse(body, True)
    except _Refused as refused:
        return str(refused)
    except xml.parsers.expat.ExpatError:
        return None
    return None


def _syntax_error(exc: Exception, rdf_format: str) -> str:
    """What is wrong with a document rdflib could not parse, and where."""
    name = _FORMAT_NAMES.get(rdf_format, rdf_format)
    if isinstance(exc, BadSyntax):
        text = exc._str.decode("utf-8", "replace")
        at = min(exc._i, len(text))
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        near = text[max(0, at - 30) : at + 30]
        return f"is not valid {name}: line {line}, column {column}: {exc._why} (near {near!r})"
    if hasattr(exc, "getLineNumber") and hasattr(exc, "getColumnNumber"):  # SAXParseException
        return (
            f"is not valid {name}: line {exc.getLineNumber()}, column {exc.getColumnNumber()}: "
            f"{getattr(exc, 'getMessage', lambda: exc)()}"
        )
    return f"is not valid {name}: {exc}"


def parse_rdf(body: bytes, rdf_format: str) -> Graph:
    """Parse submitted RDF without fetching anything: remote JSON-LD contexts, XML external
    entities and nested entity declarations are refused; relative IRIs resolve against the
    model namespace, never the server's working directory."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError([("(body)", f"is not UTF-8: byte {exc.start} cannot be decoded")]) from exc
    if not text.strip():
        raise EntryError([("(body)", "is empty; send RDF describing one model")])
    if rdf_format == "xml":
        refusal = _xml_refusal(body)
        if refusal is not None:
            raise EntryError([("(body)", refusal)])
    if rdf_format in ("turtle", "nt"):
        depth = nesting_depth(text)
        if depth > MAX_RDF_NESTING:
            raise EntryError(
                [
                    (
                        "(body)",
                        f"nests blank nodes or collections {depth} levels deep; at most "
                        f"{MAX_RDF_NESTING} are accepted",
                    )
                ]
            )
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
        graph.parse(data=text, format=rdf_format, publicID=str(MODEL))
    except RecursionError:
        raise EntryError(
            [("(body)", f"nests too deeply to be read as {_FORMAT_NAMES.get(rdf_format, rdf_format)}")]
        ) from None
    except Exception as exc:  # rdflib's parsers raise many unrelated types
        raise EntryError([("(body)", _syntax_error(exc, rdf_format))]) from exc
    return graph


def _term_problem(term: object) -> str | None:
    """Why a parsed RDF term cannot be stored and written back in every serialisation, or None."""
    if isinstance(term, URIRef):
        text = str(term)
        if len(text) > MAX_IRI_CHARS:
            return f"has an IRI of {len(text)} characters; at most {MAX_IRI_CHARS} are accepted"
        if not is_iri(text):
            return (
                f"has <{text[:80]}>, which is not an absolute IRI (RFC 3987: a scheme; no spaces, "
                "no <>\"{}|^`\\; '%' only before two hex digits)"
            )
        return None
    if isinstance(term, Literal):
        problem = text_problem(str(term))
        if problem is not None:
            return f"has a literal that {problem}"
        if term.language is not None and not _LANGUAGE_TAG.match(term.language):
            return f"has the language tag {term.language!r}, which is not a BCP 47 tag"
        if term.datatype is not None:
            return _term_problem(term.datatype)
    return None


OWL_IMPORTS_REFUSED = (
    "imports <{target}> (owl:imports); lmkg never fetches documents on a client's behalf and an "
    "entry cannot extend the ontology: remove the owl:imports triple"
)


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
    problems: list[tuple[str, str]] = []
    for triple in graph:
        if triple[1] == OWL.imports:
            problems.append(("owl:imports", OWL_IMPORTS_REFUSED.format(target=triple[2])))
            continue
        for position, term in zip(("subject", "predicate", "object"), triple, strict=True):
            problem = _term_problem(term)
            if problem is not None:
                where = str(triple[1]) if position == "object" else "(document)"
                problems.append((where, f"the {position} of a triple {problem}"))
                break
        if len(problems) >= 10:  # enough to act on; the rest follow once these are fixed
            break
    if problems:
        raise EntryError(problems)
    entry = Graph()
    for triple in graph:
        entry.add(triple)
    entry.add((subject, RDF.type, OWL.NamedIndividual))
    return Entry(model_id, entry)


def with_provenance(entry: Entry, *, recorded_at: datetime | None = None) -> Entry:
    """Stamp the entry with the time it was recorded (prov:generatedAtTime)."""
    moment = (recorded_at or datetime.now(UTC)).replace(microsecond=0)
    entry.set((entry.iri, _GENERATED_AT, _moment_literal(moment)))
    return entry


_GENERATED_AT = PROV.generatedAtTime


@functools.lru_cache(maxsize=16)
def _moment_literal(moment: datetime) -> Literal:
    # A batch stamps its entries with one moment: one literal, not one per entry.
    return Literal(moment.isoformat().replace("+00:00", "Z"), datatype=_DATE_TIME)


def _text(graph: Graph, subject: Node, prop: URIRef) -> Any:
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
        targets = sorted(model_id_of(str(t)) or str(t) for t in graph.objects(subject, prop))
        if targets:
            result[field_name] = targets[0] if len(targets) == 1 else targets
    if (subject, RDF.type, LMKG.ModelFamily) in graph:
        result["family"] = True
    datasets = sorted(str(graph.value(d, RDFS.label) or d) for d in graph.objects(subject, LMKG.trainedOn))
    if datasets:
        result["trainingDatasets"] = datasets
    statements = statements_of(graph, subject, result)
    if statements:
        result["statements"] = statements
    observations = observations_of(graph, subject)
    if observations:
        result["observations"] = observations
    footprint = memory_footprint(result.get("parameterCount"))
    if footprint:
        result["memoryFootprint"] = footprint
    recorded = _date_text(_text(graph, subject, PROV.generatedAtTime))
    if recorded:
        result["recordedAt"] = recorded
    return result


def memory_footprint(parameters: object) -> dict[str, int]:
    """The bytes a model's weights take at 16 and at 4 bits: parameters x bits / 8 (the weights
    alone; running them takes about 1.2 times that, see lmkg:FitsLaptopAt4Bit)."""
    if not isinstance(parameters, int) or isinstance(parameters, bool) or parameters <= 0:
        return {}
    return {"16-bit": parameters * 2, "4-bit": parameters // 2}


_FIELD_OF = {prop: name for name, prop in STATED_FIELDS.items()}
_DEVICE_NAME = {iri: name for name, iri in DEVICES.items()}
_OBSERVATION_NAME = {iri: name for name, iri in OBSERVATION_KINDS.items()}


def _json_value(graph: Graph, field_name: str, value: object) -> Any:
    if field_name == "developer" and isinstance(value, URIRef):
        return str(graph.value(value, RDFS.label) or value)
    if field_name == "releaseDate":
        return _date_text(value.toPython() if isinstance(value, Literal) else value)
    return value.toPython() if isinstance(value, Literal) else str(value)


def statements_of(graph: Graph, subject: URIRef, entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The statements behind an entry's facts, each with its rank: "preferred" where its value
    is the entry's own value for the fact, "normal" otherwise."""
    found: list[dict[str, Any]] = []
    for node in graph.objects(subject, LMKG.hasStatement):
        prop = graph.value(node, LMKG.statedProperty)
        field_name = _FIELD_OF.get(prop) if isinstance(prop, URIRef) else None
        value = graph.value(node, LMKG.statedValue)
        if field_name is None or value is None:
            continue
        item: dict[str, Any] = {"field": field_name, "value": _json_value(graph, field_name, value)}
        item["sources"] = sorted(str(s) for s in graph.objects(node, DCTERMS.source))
        item["sourceKind"] = _text(graph, node, LMKG.sourceKind)
        retrieved = _date_text(_text(graph, node, LMKG.retrievedOn))
        if retrieved:
            item["retrieved"] = retrieved
        for key, prop_of in (("confidence", LMKG.confidence), ("note", SKOS.note)):
            text = _text(graph, node, prop_of)
            if text is not None:
                item[key] = text
        own = entry.get(field_name)
        item["rank"] = "preferred" if own == item["value"] or (isinstance(own, list) and item["value"] in own) else "normal"
        found.append(item)
    return sorted(found, key=lambda i: (i["field"], i["rank"] != "preferred", statement_sort_key(i)))


def observations_of(graph: Graph, subject: URIRef) -> list[dict[str, Any]]:
    """What sources saw the model do: run on a device, be fine-tuned on some hardware."""
    found: list[dict[str, Any]] = []
    for node in graph.objects(subject, LMKG.hasObservation):
        kind = next(
            (_OBSERVATION_NAME[t] for t in graph.objects(node, RDF.type) if isinstance(t, URIRef) and t in _OBSERVATION_NAME),
            None,
        )
        device = graph.value(node, LMKG.onDevice)
        if kind is None or not isinstance(device, URIRef) or device not in _DEVICE_NAME:
            continue
        item: dict[str, Any] = {"kind": kind, "device": _DEVICE_NAME[device]}
        for key, prop in (("precision", LMKG.atPrecision), ("method", LMKG.fineTuningMethod), ("note", DCTERMS.description)):
            text = _text(graph, node, prop)
            if text is not None:
                item[key] = text
        item["sources"] = sorted(str(s) for s in graph.objects(node, DCTERMS.source))
        found.append(item)
    return sorted(found, key=lambda i: (i["kind"], i["device"], i["sources"]))
