"""The one reading of SPARQL text: form, guards, row cap and USING from one tokenisation.

Keywords inside IRIs, strings and comments are not keywords; the cases name what an earlier
regex reading (three of them, in three modules) got wrong or could."""

from __future__ import annotations

import pytest
from hypothesis import given
from rdflib import Literal

from lmkg.store import sparqltext
from lmkg.store.sparqltext import QueryForm
from tests.store.test_hostile_terms import hostile


@pytest.mark.parametrize(
    ("text", "form"),
    [
        pytest.param("SELECT * WHERE { ?s ?p ?o }", QueryForm.SELECT, id="select"),
        pytest.param("# CONSTRUCT\nASK { ?s ?p ?o }", QueryForm.ASK, id="keyword-in-comment"),
        pytest.param(
            "PREFIX x: <http://e/DESCRIBE#> CONSTRUCT WHERE { ?s ?p ?o }",
            QueryForm.CONSTRUCT,
            id="keyword-in-iri",
        ),
        pytest.param('SELECT ("INSERT" AS ?x) { }', QueryForm.SELECT, id="keyword-in-string"),
        pytest.param("BASE <http://e/> DESCRIBE <x>", QueryForm.DESCRIBE, id="describe"),
        pytest.param("PREFIX : <http://e/> INSERT DATA { :a :b :c }", QueryForm.UPDATE, id="update"),
        pytest.param("WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", QueryForm.UPDATE, id="with"),
    ],
)
def test_form_is_read_once_from_tokens(text: str, form: QueryForm) -> None:
    assert sparqltext.read(text).form is form


def test_guards_see_service_and_load_only_as_keywords() -> None:
    read = sparqltext.read('SELECT * WHERE { ?s ?p "SERVICE <http://internal/>" } # LOAD <http://x/>')
    assert read.service_endpoints == [] and read.load_sources == []
    read = sparqltext.read("LOAD SILENT <http://x/doc> ; SELECT * { SERVICE ?e { } }")
    assert read.load_sources == ["http://x/doc"] and read.service_endpoints == [None]


def test_limit_goes_before_a_trailing_values_block() -> None:
    text, imposed = sparqltext.read("SELECT ?x WHERE { ?x ?p ?o } VALUES ?x { <http://e/a> }").with_limit(10)
    assert imposed and text == "SELECT ?x WHERE { ?x ?p ?o } LIMIT 10 VALUES ?x { <http://e/a> }"
    assert sparqltext.read("SELECT * { } LIMIT 5").with_limit(10) == ("SELECT * { } LIMIT 5", False)
    assert sparqltext.read("SELECT * { } LIMIT 50").with_limit(10) == ("SELECT * { } LIMIT 10", True)


def test_using_goes_before_each_where_but_not_delete_where() -> None:
    update = "DELETE WHERE { ?a ?b ?c } ; INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert sparqltext.read(update).with_using(["http://e/g"], []) == (
        "DELETE WHERE { ?a ?b ?c } ; INSERT { ?s ?p ?o } USING <http://e/g> WHERE { ?s ?p ?o }"
    )
    with pytest.raises(ValueError, match="absolute IRI"):
        sparqltext.read(update).with_using(["http://e/g> } ; DROP ALL ; #"], [])


def test_terms_refuse_what_would_break_out() -> None:
    for bad in ("http://e/a> } DROP ALL", "no-scheme", "http://e/a b", "http://e/\u00a0"):
        with pytest.raises(ValueError):
            sparqltext.iri(bad)
    with pytest.raises(ValueError):
        sparqltext.variable("x } DROP ALL")
    assert sparqltext.literal(Literal('a"b\\c\nd')) == '"a\\"b\\\\c\\nd"'


@given(text=hostile)
def test_a_written_literal_is_one_string_token(text: str) -> None:
    written = sparqltext.literal(Literal(text))
    tokens = sparqltext.read(f"SELECT * {{ ?s ?p {written} }}").tokens
    assert [t.kind for t in tokens].count("string") == 1
    assert [t.text for t in tokens if t.kind == "punct"] == ["*", "{", "}"]
