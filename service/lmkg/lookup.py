"""The JSON of GET /models/{id}: an entry, what was inferred about it, and the source's claims.

Built from the store's triples in one of two ways that give the same document:
- `entry_inferred_claims` reads one model (its entry graph, inferred classes, verdicts and
  claims) in one query, for a write's answer and for a model the read index does not hold;
- `documents` reads many at once (two queries a batch), for the read index, which keeps each
  entry's document beside its row, so that a look-up is one row read instead of a query to
  the engine and rdflib's graph of the entry (bench/RESULTS.md, "The fifth pass").

A document depends on the entry's own graph (entry_to_json reads nothing else: a developer's
name is repeated in each entry's graph), its types and verdicts in the inferred graph, and
the claims in the source graphs about the model or the family it is a variant of. The first
two change only with a write of that entry, or with reasoning over every entry; the source
graphs only with seeding. Each of these records its change in the change log, which is how
the read index knows which documents to read again (lmkg.readindex).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Identifier

from lmkg.entries import entry_to_json
from lmkg.evidence import Verdict, verdicts_from_inferred
from lmkg.models_query import CLAIMS_PATTERN, claims_from_rows
from lmkg.store import Store
from lmkg.store.sparqltext import iri, values_clause
from lmkg.vocab import GRAPH_INFERRED, GRAPH_SOURCE_NS, LMKG, model_graph, model_id_of, model_iri

Row = dict[str, Identifier]


def _verdict_of(member: set[URIRef], yes: URIRef, no: URIRef) -> bool | None:
    return True if yes in member else False if no in member else None


def inferred_summary(classes: Iterable[URIRef], *, members_of: set[URIRef] | None = None) -> dict[str, Any]:
    """The `inferred` object: the inferred classes, and the flags read from every class the model is in."""
    classes = list(classes)
    member = set(classes) | (members_of or set())
    size = (
        "under-threshold"
        if LMKG.ModelUnderSizeThreshold in member
        else "over-threshold"
        if LMKG.ModelOverSizeThreshold in member
        else None
    )
    return {
        "classes": [str(c) for c in sorted(classes)],
        "portable": _verdict_of(member, LMKG.PortableModel, LMKG.NonPortableModel),
        "cheapToFineTune": _verdict_of(member, LMKG.CheapToFineTuneModel, LMKG.CostlyToFineTuneModel),
        "fast": _verdict_of(member, LMKG.RealTimeCapableModel, LMKG.NotRealTimeCapableModel),
        "sizeClass": size,
    }


def model_json(
    model_id: str,
    graph: Graph,
    classes: Iterable[URIRef],
    verdicts: Mapping[str, Verdict],
    claims: list[dict[str, Any]],
) -> dict[str, Any]:
    """The document of one model from its entry graph, its inferred classes, its verdicts and
    the source's claims about it."""
    subject = model_iri(model_id)
    document = entry_to_json(graph, subject)
    asserted = {t for t in graph.objects(subject, RDF.type) if isinstance(t, URIRef)}
    document["inferred"] = inferred_summary(sorted(classes), members_of=asserted)
    document["verdicts"] = {name: verdict.as_json() for name, verdict in verdicts.items()}
    document["sourceClaims"] = claims
    return document


def json_bytes(document: Any) -> bytes:
    """A document as GET /models/{id} sends it: the bytes of Starlette's JSONResponse."""
    return json.dumps(
        document, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


_ENTRY_INFERRED_CLAIMS = """PREFIX lmkg: %(lmkg)s
SELECT ?s ?p ?o ?class ?vs ?vp ?vo ?about ?text ?claimedKind ?curatorNote WHERE {
  { %(entry)s GRAPH ?entry { ?s ?p ?o } }
  UNION { %(inferred)s GRAPH ?inferred { ?model a ?class } }
  UNION { %(inferred)s GRAPH ?inferred { ?model lmkg:hasVerdict ?vs . ?vs ?vp ?vo } }
  UNION { %(claims)s %(pattern)s }
}
"""


def entry_inferred_claims(
    store: Store, model_id: str
) -> tuple[Graph, list[URIRef], list[dict[str, Any]], dict[str, Verdict]]:
    """An entry's graph (empty: no such entry), its inferred classes, the source's claims
    about it and its verdicts, read by one query (one snapshot of the store, and one round
    trip to the engine): read apart, a write in between paired one version's facts with
    another's classes.

    The bindings sit inside each branch of the UNION: bound once at the start of WHERE,
    Oxigraph evaluated the branches unbound and joined: 15 ms a look-up at 1,000 entries,
    against 0.1 ms.
    """
    model = model_iri(model_id)
    query = _ENTRY_INFERRED_CLAIMS % {
        "lmkg": iri(str(LMKG)),
        "entry": values_clause({"entry": model_graph(model_id)}),
        "inferred": values_clause({"inferred": GRAPH_INFERRED, "model": model}),
        "claims": values_clause({"model": model, "sourceGraphs": URIRef(str(GRAPH_SOURCE_NS))}),
        "pattern": CLAIMS_PATTERN,
    }
    rows = store.select(query)
    graph, verdict_graph, classes = _read(model, rows)
    claims = [claim.as_json() for claim in claims_from_rows(rows)]
    return graph, sorted(classes), claims, verdicts_from_inferred(verdict_graph, model)


def _read(model: URIRef, rows: Iterable[Row]) -> tuple[Graph, Graph, set[URIRef]]:
    """The entry graph, the verdicts' triples and the inferred classes among `rows`."""
    # A small graph read once: rdflib's SimpleMemory store adds triples at twice the speed of
    # the default one, which also indexes contexts.
    graph = Graph(store="SimpleMemory")
    verdict_graph = Graph(store="SimpleMemory")
    classes: set[URIRef] = set()
    for row in rows:  # a row is one fact of the entry, one inferred class, a verdict's, or one claim
        if "s" in row:
            graph.add((row["s"], row["p"], row["o"]))
        elif "vs" in row:
            verdict_graph.add((model, LMKG.hasVerdict, row["vs"]))
            verdict_graph.add((row["vs"], row["vp"], row["vo"]))
        found = row.get("class")
        if isinstance(found, URIRef):
            classes.add(found)
    return graph, verdict_graph, classes


# Many models at once: the same branches, each with the batch's VALUES inside it (see above).
_DOCUMENTS = """PREFIX lmkg: %(lmkg)s
SELECT ?model ?s ?p ?o ?class ?vs ?vp ?vo WHERE {
  { %(entries)s GRAPH ?entry { ?s ?p ?o } }
  UNION { %(models)s GRAPH %(inferred)s { ?model a ?class } }
  UNION { %(models)s GRAPH %(inferred)s { ?model lmkg:hasVerdict ?vs . ?vs ?vp ?vo } }
}
"""
_CLAIMS_OF = """PREFIX lmkg: %(lmkg)s
SELECT DISTINCT ?model ?about ?text ?claimedKind ?curatorNote WHERE {
  %(models)s
  %(pattern)s
}
"""

Select = Callable[[str], Iterable[Row]]


@dataclass(frozen=True)
class Fetched:
    """What the store answered for a batch of models' documents (`fetch`), to build them from."""

    models: Sequence[URIRef]
    rows: dict[str, list[Row]]  # by model IRI: its entry's triples, classes and verdicts
    claims: dict[str, list[Row]]  # by model IRI: the claims about it or its family


def documents(select: Select, models: Sequence[URIRef]) -> dict[str, bytes]:
    """The documents (as json_bytes) of the entries among `models`, by their IRIs, read with
    `select` (a store's select, or the read index's TSV reader) in two queries; an IRI without
    an entry graph has none. Callers keep a batch to a few hundred models."""
    return build(fetch(select, models))


def fetch(select: Select, models: Sequence[URIRef]) -> Fetched:
    """The store's part of `documents`: two queries, and nothing built (a rebuild asks for the
    next batch while it builds this one)."""
    if not models:
        return Fetched(models, {}, {})
    ids = {m: model_id_of(str(m)) for m in models}
    entries = " ".join(f"({m.n3()} {model_graph(i).n3()})" for m, i in ids.items() if i is not None)
    named = " ".join(m.n3() for m in models)
    by_model: dict[str, list[Row]] = defaultdict(list)
    if entries:
        for row in select(
            _DOCUMENTS
            % {
                "lmkg": iri(str(LMKG)),
                "entries": f"VALUES (?model ?entry) {{ {entries} }}",
                "models": f"VALUES ?model {{ {named} }}",
                "inferred": GRAPH_INFERRED.n3(),
            }
        ):
            by_model[str(row["model"])].append(row)
    sources = URIRef(str(GRAPH_SOURCE_NS)).n3()
    claim_rows: dict[str, list[Row]] = defaultdict(list)
    for row in select(
        _CLAIMS_OF
        % {
            "lmkg": iri(str(LMKG)),
            "models": "VALUES (?model ?sourceGraphs) { %s }" % " ".join(f"({m.n3()} {sources})" for m in models),
            "pattern": CLAIMS_PATTERN,
        }
    ):
        claim_rows[str(row["model"])].append(row)
    return Fetched(models, by_model, claim_rows)


def build(fetched: Fetched) -> dict[str, bytes]:
    """The documents of a fetched batch (see `documents`)."""
    found: dict[str, bytes] = {}
    for model in fetched.models:
        model_id = model_id_of(str(model))
        if model_id is None:
            continue
        graph, verdict_graph, classes = _read(model, fetched.rows.get(str(model), ()))
        if not len(graph):
            continue
        claims = [claim.as_json() for claim in claims_from_rows(fetched.claims.get(str(model), ()))]
        document = model_json(model_id, graph, classes, verdicts_from_inferred(verdict_graph, model), claims)
        found[str(model)] = json_bytes(document)
    return found
