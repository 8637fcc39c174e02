"""What lmkg checks about a store before it serves from it.

lmkg keeps everything in named graphs and its queries read the default graph, so a store
whose default graph is not the union of its named graphs answers every query wrongly without
an error (no models, every size null, every verdict false). That is checked at start-up by
reading only: a triple lmkg seeds into the ontology graph must be visible in the default
graph too. The check's outcome, and the kind of store, are reported by /health.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib.namespace import OWL, RDF

from lmkg.errors import StoreError
from lmkg.store.base import Store
from lmkg.vocab import GRAPH_ONTOLOGY, ONTOLOGY_IRI

UNION_SETTINGS = (
    "Oxigraph: start the server with `oxigraph serve --union-default-graph`; "
    "Fuseki: `tdb2:unionDefaultGraph true` (TDB1: `tdb:unionDefaultGraph true`) on the dataset; "
    "GraphDB: queries see every graph unless a default graph is imposed, so remove any "
    "`default-graph-uri` set in front of the repository's endpoint; "
    "Virtuoso: queries without FROM see every graph unless virtuoso.ini's [SPARQL] section sets "
    "`DefaultGraph`, so remove that line"
)
"""The setting that makes each known server's default graph the union of its named graphs."""

_IN_NAMED_GRAPH = "ASK { GRAPH ?g { ?s ?p ?o } }"
_IN_DEFAULT_GRAPH = "ASK { ?s ?p ?o }"


@dataclass(frozen=True)
class DefaultGraphCheck:
    """Whether the store's default graph showed a triple of one of its named graphs."""

    union: bool
    detail: str


def check_default_graph(store: Store) -> DefaultGraphCheck:
    """Read whether the ontology's own triple, stored in the ontology graph, is in the default graph."""
    bindings = {"g": GRAPH_ONTOLOGY, "s": ONTOLOGY_IRI, "p": RDF.type, "o": OWL.Ontology}
    if not store.ask(_IN_NAMED_GRAPH, bindings=bindings):
        return DefaultGraphCheck(False, f"the ontology graph <{GRAPH_ONTOLOGY}> has not been seeded")
    if store.ask(_IN_DEFAULT_GRAPH, bindings={k: v for k, v in bindings.items() if k != "g"}):
        return DefaultGraphCheck(True, "a triple of a named graph is seen in the default graph")
    return DefaultGraphCheck(False, "a triple of a named graph is not seen in the default graph")


def require_union_default_graph(store: Store) -> DefaultGraphCheck:
    """The check, or StoreError naming the setting that fixes the store."""
    location = getattr(store, "location", type(store).__name__)
    found = check_default_graph(store)
    if not found.union:
        raise StoreError(
            f"The SPARQL store at {location} does not answer queries over the union of its named "
            f"graphs ({found.detail}); lmkg keeps every entry in a named graph, so its answers "
            f"would be wrong. Make the default graph the union of the named graphs: {UNION_SETTINGS}."
        )
    return found


def store_kind(store: Store) -> str:
    """What serves the store, as /health reports it."""
    from lmkg.store.oxigraph import OxigraphStore
    from lmkg.store.remote import RemoteStore

    if isinstance(store, OxigraphStore):
        return "oxigraph-in-process"
    if isinstance(store, RemoteStore):
        software = (store.server_software or "").lower()
        for name in ("oxigraph", "virtuoso", "fuseki", "graphdb"):
            if name in software:
                return f"{name}-served-by-lmkg" if store.served and name == "oxigraph" else name
        return "sparql"
    return type(store).__name__
