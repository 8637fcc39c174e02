"""The requests of each workload, for each target, built from the data set's model ids."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

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
            "headline-rest-query",
            "GET /queries/portable-and-cheap-to-fine-tune",
            {"lmkg": [Request("GET", "/queries/portable-and-cheap-to-fine-tune")]},
            baseline="headline-sparql",
        ),
        Workload(
            "headline-rest-models",
            "GET /models?portable=true&cheapToFineTune=true",
            {"lmkg": [Request("GET", "/models?portable=true&cheapToFineTune=true")]},
            baseline="headline-sparql",
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
        Workload(
            "list-rest",
            "GET /models?kind=slm&openWeights=true&sort=parameterCount&direction=desc&limit=20&offset=40",
            {
                "lmkg": [
                    Request(
                        "GET",
                        "/models?kind=slm&openWeights=true&sort=parameterCount&direction=desc&limit=20&offset=40",
                    )
                ]
            },
            baseline="list-sparql",
        ),
        Workload("aggregate-sparql", "models per kind per release year", everywhere([AGGREGATE])),
    ]


def write_requests(documents: list[dict[str, object]], path: str) -> list[Request]:
    headers = (("Content-Type", "application/json"), ("Authorization", f"Bearer {TOKEN}"))
    return [Request("POST", path, headers, json.dumps(d).encode()) for d in documents]
