"""Hostile text in every kind of RDF term, written and bound through the one writer
(lmkg.store.sparqltext), on the embedded store and on an Oxigraph server.

Each example writes a graph whose IRIs, literals (text, language tag, datatype) and blank-node
labels are drawn from text built to break out of SPARQL or N-Quads (`}`, `"`, `>`, `\\`,
line breaks, comments, `\\u0022`, whole update operations). The write either stores exactly
that graph (compared with `rdflib.compare.isomorphic`, blank nodes up to renaming) or is
refused with ValueError before anything is sent; every other graph is untouched either way.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from lmkg.store import GraphWrite, Store
from tests.conftest import ALL_STORE_KINDS

STORE_KINDS = ALL_STORE_KINDS
"""Runs on Virtuoso too (issue 15)."""

FRAGMENTS = [
    "} } ; DROP ALL ; INSERT DATA { GRAPH <urn:lmkg:injected> { <urn:a> <urn:b> <urn:c> } }",
    "} DROP ALL ; INSERT DATA {",
    '"',
    "'''",
    '"""',
    "\\",
    "\\u0022",
    "\\u003E",
    ">",
    "<",
    "\n",
    "\r",
    "# comment",
    "_:x",
    "?x",
    "$y",
    "@en",
    "^^<urn:x>",
    " . ",
    "{",
    "}",
    "\u00a0",
    "\u2028",
    "\x00",
]

hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=6).map("".join)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_counter = itertools.count()


def _fresh(name: str) -> URIRef:
    return URIRef(f"urn:lmkg:test:{name}:{next(_counter)}")


def _hostile_graph(label: str, text: str, lang: str, datatype: str, iri_tail: str) -> Graph:
    graph = Graph()
    node, other = BNode(label), BNode(label + "2")
    subject = URIRef("urn:lmkg:s")
    graph.add((subject, URIRef("urn:lmkg:p"), node))
    graph.add((node, URIRef("urn:lmkg:text"), Literal(text)))
    graph.add((node, URIRef("urn:lmkg:next"), other))
    graph.add((other, URIRef("urn:lmkg:lang"), Literal(text, lang=lang)))
    graph.add((other, URIRef("urn:lmkg:typed"), Literal(text, datatype=URIRef("urn:dt:" + datatype))))
    graph.add((subject, URIRef("urn:lmkg:iri"), URIRef("urn:lmkg:o:" + iri_tail)))
    return graph


KEPT = URIRef("urn:lmkg:kept")


def _snapshot(store: Store) -> tuple[set[URIRef], Graph]:
    return set(store.graph_names()), store.graph(KEPT)


@SETTINGS
@given(label=hostile, text=hostile, lang=hostile, datatype=hostile, iri_tail=hostile)
def test_a_write_stores_exactly_its_terms(
    store: Store, label: str, text: str, lang: str, datatype: str, iri_tail: str
) -> None:
    store.load_graph(KEPT, _hostile_graph("kept", "kept", "en", "kept", "kept"))
    try:
        graph = _hostile_graph(label, text, lang, datatype, iri_tail)
    except ValueError:
        return  # rdflib refused the term itself (a language tag it cannot hold)
    target = _fresh("graph")
    before = _snapshot(store)
    try:
        store.write(GraphWrite(replace={target: graph}))
    except ValueError:
        names, kept = _snapshot(store)
        assert names == before[0] and isomorphic(kept, before[1])
        return
    names, kept = _snapshot(store)
    assert isomorphic(store.graph(target), graph)
    assert names == before[0] | {target} and isomorphic(kept, before[1])


@SETTINGS
@given(text=hostile, iri_tail=hostile)
def test_bindings_bind_exactly_the_term(store: Store, store_kind: str, text: str, iri_tail: str) -> None:
    """Projected (the embedded engine's substitutions) and not projected (the VALUES block)."""
    # Virtuoso 7.2.5 gives back a bound literal cut at its first U+0000 ("\xa0\x00" comes back
    # "\xa0", though lmkg sends it escaped as \u0000): an engine limit, in the README.
    assume(store_kind != "virtuoso" or "\x00" not in text)
    for term in (Literal(text), Literal(text, datatype=URIRef("urn:dt:x")), URIRef("urn:lmkg:o:" + iri_tail)):
        try:
            projected = store.select("SELECT ?v WHERE { }", bindings={"v": term})
        except ValueError:
            assert isinstance(term, URIRef)  # not an IRI once the hostile tail is added
            continue
        assert projected == [{"v": term}]
        hidden = store.select("SELECT ?x WHERE { BIND(?v AS ?x) }", bindings={"v": term})
        assert hidden == [{"x": term}]
        assert store.ask("ASK { FILTER(?v = ?w) }", bindings={"v": term, "w": term})
