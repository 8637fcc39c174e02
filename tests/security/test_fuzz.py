"""Fuzzing: Schemathesis over the service's own OpenAPI document, and Hypothesis properties of
the JSON-to-RDF mapping and of named-query parameter binding.

CI runs a few examples per operation; `LMKG_FUZZ_EXAMPLES=500 python3 -m pytest
tests/security/test_fuzz.py` is the full run (the same tests, more examples each).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rdflib import Graph, Literal
from rdflib.compare import isomorphic
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lmkg.config import Settings
from lmkg.entries import entry_from_json, entry_to_json, parse_json
from lmkg.errors import EntryError
from lmkg.store import Store
from tests.conftest import TOKEN, LiveServer

FULL_RUN = os.environ.get("LMKG_FUZZ_EXAMPLES")
EXAMPLES = int(FULL_RUN or "3")
"""Examples per API operation: a few in CI, hundreds for the full run."""
PROPERTY_EXAMPLES = int(FULL_RUN or "100")
"""Examples per property (each costs a millisecond or so): a hundred in CI."""

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _fuzz(examples: int) -> hypothesis_settings:
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        derandomize=FULL_RUN is None,  # CI: the same examples every run
        suppress_health_check=list(HealthCheck),
        database=None,
    )


FUZZ = _fuzz(EXAMPLES)
PROPERTY = _fuzz(PROPERTY_EXAMPLES)


# -- Schemathesis: the API against its own OpenAPI document --------------------------------


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server on an embedded store of its own, writes enabled by the test token."""
    settings = replace(Settings(), store=str(tmp_path_factory.mktemp("fuzz") / "store"), token=TOKEN)
    with LiveServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: LiveServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@FUZZ
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    """No generated request gets a 500; every answer has a documented status, type and shape."""
    case.call_and_validate(
        headers=AUTH,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        timeout=60,
    )


# -- Hypothesis: the JSON-to-RDF mapping ------------------------------------------------------

# Any code point, lone surrogates and control characters included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
# Text with the characters that break hand-made RDF or SPARQL.
HOSTILE_PARTS = [
    *['"', "'", '"""', "}", "{", ">", "<", "\\", "\n", "\r", "\t", "#", " . ", ";", "@en", "^^"],
    *["UNION", "DROP ALL", "INSERT DATA", "} ; DROP ALL ; #", "\\u0022", "&lt;", "]]>", "_:b0", "?s"],
    *["\u00e9", "\U0001d518", "\u2028", "\u0000", "\ud800", "\ufffe"],
]
HOSTILE = st.lists(st.sampled_from(HOSTILE_PARTS), max_size=8).map("".join)
TEXT = st.one_of(ANY_TEXT, HOSTILE)
_XML_CHAR = set(range(0x20, 0xD800)) | set(range(0xE000, 0xFFFE)) | {0x9, 0xA, 0xD}


def _clean(text: str) -> bool:
    """Text every RDF serialisation can carry (XML 1.0's Char production)."""
    return all(ord(c) in _XML_CHAR or ord(c) >= 0x10000 for c in text)


ENTRY = st.fixed_dictionaries(
    {
        "id": st.one_of(st.from_regex(r"[a-z0-9](?:[a-z0-9._-]{0,20}[a-z0-9])?", fullmatch=True), TEXT),
        "label": TEXT,
        "kind": st.sampled_from(["llm", "slm"]),
        "developer": st.one_of(
            TEXT.map(lambda t: "Lab " + t), st.lists(TEXT.map(lambda t: "Lab " + t), max_size=3)
        ),
        "sources": st.lists(TEXT.map(lambda t: "https://example.org/" + t), max_size=3),
    },
    optional={
        "description": TEXT,
        "tasks": st.lists(TEXT, max_size=3),
        "parameterCount": st.integers(min_value=-(10**20), max_value=10**20),
    },
)


def _strings(document: dict[str, object]) -> list[str]:
    found: list[str] = []
    for value in document.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                found.append(item)
    return found


@given(document=ENTRY)
@PROPERTY
def test_json_entry_becomes_rdf_that_round_trips_or_is_refused(document: dict[str, object]) -> None:
    """Any JSON entry, whatever its text, is refused with the fields at fault, or becomes RDF that
    every serialisation writes and reads back unchanged, and that one SPARQL Update stores whole:
    no text can end a literal or an IRI early."""
    from pyoxigraph import Store as OxStore

    from lmkg.entries import ID_PATTERN, INPUT_FIELDS
    from lmkg.store.base import GraphWrite
    from lmkg.store.sparqltext import update_for_write as write_as_update
    from lmkg.vocab import model_graph

    clean = all(_clean(t) for t in _strings(document)) and bool(ID_PATTERN.match(str(document["id"])))
    try:
        entry = entry_from_json(document)
    except EntryError as refused:
        assert not clean or any(
            field == "sources" or field.startswith("sources[") for field, _ in refused.problems
        ), refused.problems
        for field, _ in refused.problems:
            assert field.split("[")[0] in INPUT_FIELDS | {"(document)"}, field
        return
    assert clean, f"accepted text RDF cannot carry: {document!r}"
    graph = entry.graph
    for rdf_format in ("nt", "turtle", "xml", "json-ld"):
        written = graph.serialize(format=rdf_format)
        assert isomorphic(Graph().parse(data=written, format=rdf_format), graph), rdf_format
    back = entry_to_json(graph, entry.iri)
    assert back["id"] == document["id"] and back["kind"] == document["kind"]
    assert back["label"] == document["label"]
    assert Literal(document["label"]) in set(graph.objects(entry.iri, None))
    update = write_as_update(GraphWrite(replace={model_graph(entry.id): graph}))
    store = OxStore()
    store.update(update)
    assert len(store) == len(graph)


@given(document=ENTRY)
@PROPERTY
def test_json_entry_is_stored_whole_by_the_embedded_store(document: dict[str, object]) -> None:
    """Any entry that is accepted, whatever its text, is written by the embedded store (as
    N-Quads, loaded in one transaction) and read back unchanged."""
    from lmkg.store import GraphWrite, OxigraphStore
    from lmkg.vocab import model_graph

    try:
        entry = entry_from_json(document)
    except EntryError:
        return
    store = OxigraphStore()
    store.write(GraphWrite(replace={model_graph(entry.id): entry.graph}))
    assert isomorphic(store.graph(model_graph(entry.id)), entry.graph)


@given(body=st.binary(max_size=200))
@PROPERTY
def test_any_bytes_are_read_or_refused(body: bytes) -> None:
    """Any body is a JSON document or an EntryError (never another exception)."""
    try:
        parse_json(body)
    except EntryError as refused:
        assert refused.problems and refused.problems[0][0] == "(body)"


# -- Hypothesis: query parameter binding ------------------------------------------------------

LABELS = ["plain", 'with "quotes"', "with } brace", "with > angle", "line\nbreak", "UNION", "x' ; DROP ALL #"]


@pytest.fixture(scope="module")
def labelled() -> Iterator[Store]:
    """An in-memory store in which each of LABELS names one thing."""
    from lmkg.store import OxigraphStore

    store = OxigraphStore()
    lines = "\n".join(
        f"<https://example.org/thing/{i}> <http://www.w3.org/2000/01/rdf-schema#label> {Literal(label).n3()} ."
        for i, label in enumerate(LABELS)
    )
    store.update(f"INSERT DATA {{ GRAPH <https://example.org/g> {{ {lines} }} }}")
    yield store
    store.close()


BY_LABEL = """
SELECT ?thing WHERE {
  ?thing <http://www.w3.org/2000/01/rdf-schema#label> ?label .
} ORDER BY ?thing
"""


@given(value=st.one_of(TEXT.filter(_clean), st.sampled_from(LABELS)))
@PROPERTY
def test_a_bound_value_matches_only_itself(labelled: Store, value: str) -> None:
    """A value bound to ?label finds exactly the things with that label: quotes, braces, `>`,
    newlines and SPARQL keywords in it change nothing about the query's meaning."""
    rows = labelled.select(BY_LABEL, bindings={"label": Literal(value)})
    expected = [f"https://example.org/thing/{i}" for i, label in enumerate(LABELS) if label == value]
    assert [str(row["thing"]) for row in rows] == expected


@pytest.mark.parametrize("store_kind", ["embedded"])
@given(value=TEXT.filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)))  # a URL is UTF-8
@PROPERTY
def test_named_query_parameters_cannot_inject(client: TestClient, value: str) -> None:
    """Through the named-query routes any text is refused (422) or bound as a value: the result
    is what an equivalent safe value gives, never a 500 and never an extra row."""
    by_kind = client.get("/queries/models-by-kind", params={"kind": value})
    if value == "" or value.strip() in ("llm", "slm"):  # empty: the parameter's default
        safe = client.get("/queries/models-by-kind", params={"kind": value.strip() or "slm"})
        assert by_kind.status_code == 200 and by_kind.json()["rows"] == safe.json()["rows"]
    else:
        assert by_kind.status_code == 422, by_kind.text
    details = client.get("/queries/model-details", params={"model": value})
    if details.status_code == 200:
        assert (
            details.json()["rows"] == []
            or value in ("phi-3-mini",)
            or client.get(f"/models/{value}").status_code == 200
        )
    else:
        assert details.status_code == 422, details.text
