"""Every named query gives the same rows on Oxigraph and on Virtuoso 7 (issue 15).

Both stores are seeded with the ontology and the examples through lmkg's own write path; each
query of the catalogue runs with its defaults, and a boolean parameter with its other value
too, on both. Rows are compared as multisets of RDF terms (ties of an ORDER BY may come in any
order). Regression: `source-claims-versus-facts` bound `BIND(EXISTS {...} AS ?isModel)` after
its OPTIONALs, and Virtuoso judged every model "disagrees: not a language model" there (moved
before them as IF(EXISTS ...), it then judged none so once `disagreementsOnly` was bound).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
from rdflib import Literal
from rdflib.namespace import PROV
from rdflib.term import Identifier

from lmkg.commands import execute
from lmkg.config import Settings
from lmkg.knowledge import KnowledgeGraph
from lmkg.queries import QueryCatalogue
from lmkg.store import Store, open_store
from tests.conftest import TOKEN, VirtuosoServer

CATALOGUE = QueryCatalogue(Settings().queries_dir)


def _cases() -> list[pytest.param]:
    cases = []
    for query in CATALOGUE:
        cases.append(pytest.param(query.name, {}, id=query.name))
        for parameter in query.parameters:
            if parameter.type == "boolean":
                other = "true" if (parameter.default or "false") == "false" else "false"
                cases.append(
                    pytest.param(
                        query.name, {parameter.name: other}, id=f"{query.name}-{parameter.name}={other}"
                    )
                )
    return cases


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory, virtuoso_server: VirtuosoServer
) -> Iterator[tuple[Store, Store]]:
    """The embedded Oxigraph store and Virtuoso, each seeded by lmkg."""
    base = replace(Settings(), token=TOKEN)
    oxigraph_settings = replace(base, store=str(tmp_path_factory.mktemp("agree") / "store"))
    virtuoso_settings = virtuoso_server.settings(base)
    oxigraph = open_store(oxigraph_settings, in_process=True)
    virtuoso = open_store(virtuoso_settings)
    virtuoso_server.empty(virtuoso)
    # Both seeded here, from nothing: a graph an earlier test left on the session's Virtuoso
    # would make it skip seeding and compare that test's data.
    assert KnowledgeGraph(oxigraph, oxigraph_settings).ensure_seeded()
    assert KnowledgeGraph(virtuoso, virtuoso_settings).ensure_seeded(), "Virtuoso was not emptied"
    yield oxigraph, virtuoso
    oxigraph.close()
    virtuoso.close()


def _rows(
    store: Store, name: str, values: dict[str, str]
) -> tuple[list[str], Counter[tuple[Identifier | None, ...]]]:
    query = CATALOGUE.get(name)
    output = execute(store, query.text, query.bindings(values))
    if output.graph is not None:
        return [], Counter((s, p, o) for s, p, o in output.graph)
    if output.boolean is not None:
        return [], Counter([(Literal(output.boolean),)])
    rows = [tuple(row.get(c) for c in output.columns) for row in output.rows]
    # When each store wrote an entry differs by a second or so: the one value that may.
    return list(output.columns), Counter(row for row in rows if PROV.generatedAtTime not in row)


@pytest.mark.parametrize(("name", "values"), _cases())
def test_the_rows_are_the_same_on_both_engines(
    stores: tuple[Store, Store], name: str, values: dict[str, str]
) -> None:
    oxigraph, virtuoso = stores
    columns, expected = _rows(oxigraph, name, values)
    virtuoso_columns, found = _rows(virtuoso, name, values)
    assert virtuoso_columns == columns
    assert found == expected, (
        f"only on Oxigraph: {list((expected - found).elements())[:5]}; "
        f"only on Virtuoso: {list((found - expected).elements())[:5]}"
    )


def test_source_claims_name_language_models_as_such_on_virtuoso(stores: tuple[Store, Store]) -> None:
    _, virtuoso = stores
    columns, rows = _rows(virtuoso, "source-claims-versus-facts", {})
    verdicts = {str(row[columns.index("verdict")]) for row in rows}
    assert "agrees" in verdicts and verdicts != {"disagrees: not a language model"}
