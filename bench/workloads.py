"""The requests of each workload, for each target, built from the data set's model ids."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from rdflib import URIRef

from bench import data
from bench.client import Request
from bench.targets import TOKEN

REPO = Path(__file__).resolve().parent.parent
MODEL = "https://w3id.org/lmkg/model/"
SPARQL_JSON = (("Accept", "application/sparql-results+json"),)

HEADLINE = (REPO / "queries" / "portable-and-cheap-to-fine-tune.rq").read_text(encoding="utf-8")

LIST = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?model ?label ?parameterCount WHERE {
  ?model a lmkg:SmallLanguageModel ; rdfs:label ?label ; lmkg:openWeights true .
  OPTIONAL { ?model lmkg:parameterCount ?parameterCount }
}
ORDER BY DESC(?parameterCount) ?model
LIMIT 20 OFFSET 40"""

AGGREGATE = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
SELECT ?kind ?year (COUNT(DISTINCT ?model) AS ?models) WHERE {
  VALUES (?class ?kind) { (lmkg:LargeLanguageModel "llm") (lmkg:SmallLanguageModel "slm") }
  ?model a ?class ; lmkg:releaseDate ?date .
  BIND(YEAR(?date) AS ?year)
}
GROUP BY ?kind ?year
ORDER BY ?year ?kind"""


LIST_REST = "/models?kind=slm&openWeights=true&sort=parameterCount&direction=desc&limit=20&offset=40"
NO_CACHE = (("Cache-Control", "no-cache"),)


def list_reference_queries() -> list[str]:
    """The SPARQL that lmkg.models_query (the read index's reference) sends for LIST_REST: the
    count and the page, with the filters bound. The same question, asked of a SPARQL server."""
    from lmkg.models_query import ModelFilter, list_queries
    from lmkg.store import sparqltext

    count, page, bindings = list_queries(
        ModelFilter(kind="slm", open_weights=True),
        sort="parameterCount",
        descending=True,
        limit=20,
        offset=40,
    )
    return [sparqltext.read(count).with_values(bindings), sparqltext.read(page).with_values(bindings)]


def lookup_query(model_id: str) -> str:
    return f"SELECT ?p ?o WHERE {{ <{MODEL}{model_id}> ?p ?o }}"


def sparql_get(endpoint: str, query: str) -> Request:
    return Request("GET", f"{endpoint}?{urlencode({'query': query})}", SPARQL_JSON)


@dataclass(frozen=True)
class Workload:
    """A named workload: for each target that runs it, the requests its clients cycle through."""

    name: str
    description: str
    requests: dict[str, list[Request]]  # target name -> requests
    baseline: str | None = None  # the workload (on the Oxigraph server) its lmkg ratio is taken against


def query_workloads(model_ids: list[str], endpoints: dict[str, str], *, seed: int = 6) -> list[Workload]:
    """The read workloads; `endpoints` maps a target name to its SPARQL endpoint path."""
    rng = random.Random(seed)
    sample = rng.sample(model_ids, min(len(model_ids), 500))

    def everywhere(query_of: list[str]) -> dict[str, list[Request]]:
        return {name: [sparql_get(path, q) for q in query_of] for name, path in endpoints.items()}

    lookups = [lookup_query(m) for m in sample]
    return [
        Workload(
            "headline-sparql",
            "portable and cheap to fine-tune (queries/portable-and-cheap-to-fine-tune.rq) by GET /sparql",
            everywhere([HEADLINE]),
        ),
        Workload(
            "lookup-sparql",
            "one model's triples, SELECT ?p ?o WHERE { <model> ?p ?o }, 500 random models",
            everywhere(lookups),
        ),
        Workload(
            "lookup-rest",
            "GET /models/{id}, 500 random models (JSON with what was inferred)",
            {"lmkg": [Request("GET", f"/models/{m}") for m in sample]},
            baseline="lookup-sparql",
        ),
        Workload(
            "lookup-rest-uncached",
            "GET /models/{id} with Cache-Control: no-cache (rendered from the store every time)",
            {"lmkg": [Request("GET", f"/models/{m}", (("Cache-Control", "no-cache"),)) for m in sample]},
            baseline="lookup-sparql",
        ),
        Workload(
            "list-sparql",
            "small open-weights models, largest first, page 3 of 20, as SPARQL",
            everywhere([LIST]),
        ),
        Workload("aggregate-sparql", "models per kind per release year", everywhere([AGGREGATE])),
    ]


def write_requests(documents: list[dict[str, object]], path: str) -> list[Request]:
    headers = (("Content-Type", "application/json"), ("Authorization", f"Bearer {TOKEN}"))
    return [Request("POST", path, headers, json.dumps(d).encode()) for d in documents]


# -- what a user meets: the REST requests, each beside the SPARQL that answers the same question ----

# The Oxigraph side of /ui/charts: the two queries /ui/charts ran before the read index answered
# it (every model with a size and a date, by kind; models per kind and year).
CHART_POINTS = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?model (SAMPLE(?name) AS ?label) (SAMPLE(?kindClass) AS ?kind)
       (MAX(?count) AS ?parameterCount) (MIN(?date) AS ?releaseDate)
WHERE {
  VALUES ?kindClass { lmkg:LargeLanguageModel lmkg:SmallLanguageModel }
  GRAPH ?entryGraph { ?model a ?kindClass }
  ?model lmkg:parameterCount ?count ; lmkg:releaseDate ?date .
  OPTIONAL { ?model rdfs:label ?name }
}
GROUP BY ?model
ORDER BY ?releaseDate"""

CHART_PER_YEAR = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
SELECT ?year ?kind (COUNT(DISTINCT ?model) AS ?models)
WHERE {
  VALUES ?kind { lmkg:LargeLanguageModel lmkg:SmallLanguageModel }
  GRAPH ?entryGraph { ?model a ?kind }
  ?model lmkg:releaseDate ?date .
  BIND(YEAR(?date) AS ?year)
}
GROUP BY ?year ?kind
ORDER BY ?year ?kind"""

# The facet counts of GET /models?facets=true (no filter), one grouped query per facet, over the
# same match as lmkg.models_query's reference (a model is an entry asserting one of three kinds).
_FACET_MATCH = """PREFIX lmkg: <https://w3id.org/lmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?value (COUNT(DISTINCT ?model) AS ?n) WHERE {
  GRAPH ?entryGraph { ?model a ?kindClass }
  VALUES ?kindClass { lmkg:LargeLanguageModel lmkg:SmallLanguageModel lmkg:LanguageModelOfUnknownKind }
  %s
}
GROUP BY ?value
ORDER BY DESC(?n) ?value"""

FACET_QUERIES = [
    _FACET_MATCH % "BIND(?kindClass AS ?value)",
    _FACET_MATCH
    % "OPTIONAL { GRAPH ?entryGraph { ?model lmkg:developedBy ?org OPTIONAL { ?org rdfs:label ?orgLabel } } }\n"
    "  BIND(COALESCE(STR(?orgLabel), STR(?org)) AS ?value)",
    _FACET_MATCH % "OPTIONAL { ?model lmkg:licence ?value }",
    _FACET_MATCH % "OPTIONAL { ?model lmkg:releaseDate ?date } BIND(YEAR(?date) AS ?value)",
    _FACET_MATCH % "OPTIONAL { ?model lmkg:openWeights ?value }",
    *(
        _FACET_MATCH
        % f"OPTIONAL {{ ?model a ?class VALUES (?class ?value) {{ (lmkg:{yes} true) (lmkg:{no} false) }} }}"
        for yes, no in (
            ("PortableModel", "NonPortableModel"),
            ("CheapToFineTuneModel", "CostlyToFineTuneModel"),
            ("RealTimeCapableModel", "NotRealTimeCapableModel"),
        )
    ),
]


def entry_query(model_id: str) -> str:
    """The one query behind GET /models/{id}: the entry's graph, its inferred classes and
    verdicts, and the source's claims (lmkg.api.models), as the service sends it."""
    from lmkg.api.models import _ENTRY_INFERRED_CLAIMS
    from lmkg.models_query import CLAIMS_PATTERN
    from lmkg.store.sparqltext import iri, values_clause
    from lmkg.vocab import GRAPH_INFERRED, GRAPH_SOURCE_NS, LMKG, model_graph, model_iri

    model = model_iri(model_id)
    return _ENTRY_INFERRED_CLAIMS % {
        "lmkg": iri(str(LMKG)),
        "entry": values_clause({"entry": model_graph(model_id)}),
        "inferred": values_clause({"inferred": GRAPH_INFERRED, "model": model}),
        "claims": values_clause({"model": model, "sourceGraphs": URIRef(str(GRAPH_SOURCE_NS))}),
        "pattern": CLAIMS_PATTERN,
    }


def models_reference(**options: object) -> list[str]:
    """The count and the page that lmkg.models_query (GET /models's reference) sends for a
    question, with the filters bound: keyword arguments of ModelFilter, plus sort, descending,
    limit and offset."""
    from lmkg.models_query import ModelFilter, list_queries
    from lmkg.store import sparqltext

    paging = {k: options.pop(k) for k in ("sort", "descending", "limit", "offset") if k in options}
    count, page, bindings = list_queries(ModelFilter(**options), **paging)  # type: ignore[arg-type]
    return [sparqltext.read(count).with_values(bindings), sparqltext.read(page).with_values(bindings)]


@dataclass(frozen=True)
class UserWorkload:
    """A request a user makes of lmkg's REST API, and the SPARQL the Oxigraph server runs to
    answer the same question. `requests` are the variants the clients cycle through (one, or a
    look-up of many models); `sparql[i]` answers `requests[i]`: one answer, several queries."""

    name: str
    description: str
    requests: list[Request]
    sparql: list[list[str]]
    sparql_note: str = ""

    def uncached(self) -> list[Request]:
        return [Request(r.method, r.path, (*r.headers, *NO_CACHE), r.body) for r in self.requests]


SEARCH_WORD = "kestrel"  # a family name of bench.data: about one entry in 18


def user_workloads(model_ids: list[str], *, deep_offset: int, seed: int = 6) -> list[UserWorkload]:
    """The REST workloads of issue 14 (point 4), each with its SPARQL counterpart."""
    rng = random.Random(seed)
    sample = rng.sample(model_ids, min(len(model_ids), 200))
    headline_page = HEADLINE  # the named query's .rq: every row, from which lmkg takes a page
    return [
        UserWorkload(
            "models-first-page",
            "GET /models?limit=20 (the UI's first page)",
            [Request("GET", "/models?limit=20")],
            [models_reference(limit=20)],
        ),
        UserWorkload(
            "models-filters",
            "GET /models?portable=true&cheapToFineTune=true&limit=20",
            [Request("GET", "/models?portable=true&cheapToFineTune=true&limit=20")],
            [models_reference(portable="true", cheap_to_fine_tune="true", limit=20)],
        ),
        UserWorkload(
            "models-filters-sorted",
            "the same, sort=parameterCount&direction=desc",
            [
                Request(
                    "GET",
                    "/models?portable=true&cheapToFineTune=true&sort=parameterCount&direction=desc&limit=20",
                )
            ],
            [
                models_reference(
                    portable="true",
                    cheap_to_fine_tune="true",
                    sort="parameterCount",
                    descending=True,
                    limit=20,
                )
            ],
        ),
        UserWorkload(
            "models-search",
            f"GET /models?search={SEARCH_WORD}&limit=20 (ranked by relevance)",
            [Request("GET", f"/models?search={SEARCH_WORD}&limit=20")],
            [models_reference(search=SEARCH_WORD, limit=20)],
            "the reference SPARQL sorts by label: SPARQL has no ranking",
        ),
        UserWorkload(
            "models-developer",
            "GET /models?developer=Meta%20AI&limit=20",
            [Request("GET", "/models?developer=Meta%20AI&limit=20")],
            [models_reference(developer="Meta AI", limit=20)],
        ),
        UserWorkload(
            "models-deep-offset",
            f"GET /models?limit=20&offset={deep_offset}",
            [Request("GET", f"/models?limit=20&offset={deep_offset}")],
            [models_reference(limit=20, offset=deep_offset)],
        ),
        UserWorkload(
            "models-facets",
            "GET /models?limit=20&facets=true (counts per kind, developer, licence, year, verdict)",
            [Request("GET", "/models?limit=20&facets=true")],
            [[*models_reference(limit=20), *FACET_QUERIES]],
            "the count, the page and one grouped query per facet",
        ),
        UserWorkload(
            "named-query-page",
            "GET /queries/portable-and-cheap-to-fine-tune (its default first page, with the total)",
            [Request("GET", "/queries/portable-and-cheap-to-fine-tune")],
            [[headline_page]],
            "the named query's .rq, every row (the total needs them)",
        ),
        UserWorkload(
            "ui-charts",
            "GET /ui/charts (points sampled past 1,500, bins, counts per kind and year)",
            [Request("GET", "/ui/charts")],
            [[CHART_POINTS, CHART_PER_YEAR]],
            "every point and the per-year counts, as /ui/charts asked before the read index",
        ),
        UserWorkload(
            "model-lookup",
            f"GET /models/{{id}}, {len(sample)} random models (the entry, what was inferred, claims)",
            [Request("GET", f"/models/{m}") for m in sample],
            [[entry_query(m)] for m in sample],
            "the one query the service itself sends for the entry",
        ),
    ]


def mixed_reads(model_ids: list[str], *, seed: int = 9) -> list[Request]:
    """What the readers of the mixed workload cycle through: lists (pages, sorts), filters,
    searches and look-ups, in a shuffled order; no Cache-Control (what a browser sends)."""
    rng = random.Random(seed)
    total = len(model_ids)
    reads: list[Request] = []
    for page in range(20):
        offset = rng.randrange(max(1, total - 20))
        reads.append(Request("GET", f"/models?limit=20&offset={offset if page % 2 else page * 20}"))
    filters = [
        "portable=true&cheapToFineTune=true",
        "portable=true&cheapToFineTune=true&sort=parameterCount&direction=desc",
        "kind=slm&openWeights=true&sort=parameterCount&direction=desc",
        "kind=llm&sort=releaseDate&direction=desc",
        "developer=Meta%20AI",
        "developer=OpenAI&kind=llm",
        "fast=true",
        "minParameters=1000000000&maxParameters=8000000000",
    ]
    reads += [Request("GET", f"/models?{f}&limit=20") for f in filters]
    words = ["kestrel", "orca", "nimbus 7", "sparrow", "quill", "zephyr 1", "atlas", "#12"]
    reads += [
        Request("GET", f"/models?search={w.replace(' ', '%20').replace('#', '%23')}&limit=20") for w in words
    ]
    reads += [Request("GET", f"/models/{m}") for m in rng.sample(model_ids, min(total, 40))]
    rng.shuffle(reads)
    return reads


def fresh_entries(count: int, *, tag: str, seed: int) -> list[dict[str, object]]:
    """`count` new synthetic entries (ids `bench-{tag}-NNNN`), each with a word of its own in
    its label (`zq{tag}wNNNN`), so that a search finds it and nothing else."""
    rng = random.Random(seed)
    documents: list[dict[str, object]] = []
    for i in range(count):
        document = data.entry(10_000_000 + i, rng)
        document["id"] = f"bench-{tag}-{i:04d}"
        document["label"] = f"{document['label']} zq{tag}w{i:04d}"
        document.pop("fineTunedFrom", None)
        documents.append(document)
    return documents
