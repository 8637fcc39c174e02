"""plain_value gives what JSON held of each term when a named query's rows were made into
rdflib terms first (term_from_json, then toPython kept when a bool, int, float or str, else
the term's text), for every kind of binding an engine sends."""

from __future__ import annotations

from typing import Any

import pytest
from rdflib import Literal

from lmkg.store.remote import plain_value, term_from_json

XSD = "http://www.w3.org/2001/XMLSchema#"


def _through_terms(binding: dict[str, str]) -> Any:
    term = term_from_json(binding)
    if isinstance(term, Literal):
        python = term.toPython()
        return python if isinstance(python, bool | int | float | str) else str(term)
    return str(term)


@pytest.mark.parametrize(
    "binding",
    [
        {"type": "uri", "value": "https://w3id.org/lmkg/model/mistral-7b"},
        {"type": "bnode", "value": "b0"},
        {"type": "literal", "value": "Mistral 7B"},
        {"type": "literal", "value": "Mistral", "xml:lang": "en"},
        {"type": "literal", "value": "plain", "datatype": XSD + "string"},
        {"type": "literal", "value": "7241732096", "datatype": XSD + "integer"},
        {"type": "literal", "value": "007", "datatype": XSD + "integer"},
        {"type": "literal", "value": "-3", "datatype": XSD + "long"},
        {"type": "literal", "value": "many", "datatype": XSD + "integer"},
        {"type": "literal", "value": "1.50", "datatype": XSD + "decimal"},
        {"type": "literal", "value": "1E3", "datatype": XSD + "double"},
        {"type": "literal", "value": "0.5", "datatype": XSD + "float"},
        {"type": "literal", "value": "true", "datatype": XSD + "boolean"},
        {"type": "literal", "value": "1", "datatype": XSD + "boolean"},
        {"type": "literal", "value": "2023-09-27", "datatype": XSD + "date"},
        {"type": "literal", "value": "2023-09-27T10:00:00Z", "datatype": XSD + "dateTime"},
        {"type": "literal", "value": "2023", "datatype": XSD + "gYear"},
        {"type": "literal", "value": "P1D", "datatype": XSD + "duration"},
        {"type": "literal", "value": "x", "datatype": "https://example.org/own-type"},
        {"type": "typed-literal", "value": "12", "datatype": XSD + "integer"},
    ],
)
def test_plain_values_are_those_the_terms_gave(binding: dict[str, str]) -> None:
    expected = _through_terms(binding)
    found = plain_value(binding)
    assert found == expected and type(found) is type(expected), (found, expected)
