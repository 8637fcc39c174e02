"""Reading /sparql responses with real parsers: SPARQL results (JSON, XML, CSV, TSV) and RDF."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import httpx
from rdflib import Dataset, Graph

RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"

RDF_FORMATS = {
    # media type -> rdflib parser
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-quads": "nquads",
}


@dataclass
class Results:
    """A parsed SELECT or ASK result: variables and rows of strings, or a boolean."""

    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    boolean: bool | None = None


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def parse_results(response: httpx.Response) -> Results:
    """A SPARQL results document, read by the parser its Content-Type names."""
    kind = media_type(response)
    if kind in ("application/sparql-results+json", "application/json"):
        document = json.loads(response.content)
        if "boolean" in document:
            assert isinstance(document["boolean"], bool)
            return Results(boolean=document["boolean"])
        return Results(
            variables=list(document["head"]["vars"]),
            rows=[
                {name: value["value"] for name, value in binding.items()}
                for binding in document["results"]["bindings"]
            ],
        )
    if kind == "application/sparql-results+xml":
        root = ET.fromstring(response.content)
        assert root.tag == f"{RESULTS_NS}sparql"
        boolean = root.find(f"{RESULTS_NS}boolean")
        if boolean is not None:
            assert boolean.text in ("true", "false")
            return Results(boolean=boolean.text == "true")
        head = root.find(f"{RESULTS_NS}head")
        results = root.find(f"{RESULTS_NS}results")
        assert head is not None and results is not None
        rows = []
        for result in results.findall(f"{RESULTS_NS}result"):
            rows.append(
                {
                    binding.attrib["name"]: "".join(binding[0].itertext())
                    for binding in result.findall(f"{RESULTS_NS}binding")
                }
            )
        return Results(
            variables=[v.attrib["name"] for v in head.findall(f"{RESULTS_NS}variable")],
            rows=rows,
        )
    if kind in ("text/csv", "text/tab-separated-values"):
        if kind == "text/csv":
            table = list(csv.reader(io.StringIO(response.text)))
        else:  # TSV cells are terms in Turtle syntax, quotes included
            table = list(csv.reader(io.StringIO(response.text), delimiter="\t", quoting=csv.QUOTE_NONE))
        header = [name.removeprefix("?") for name in table[0]]
        return Results(variables=header, rows=[dict(zip(header, row, strict=True)) for row in table[1:]])
    raise AssertionError(f"not a SPARQL results media type: {kind!r}")


def parse_rdf(response: httpx.Response) -> Graph:
    """An RDF document, read by rdflib with the parser its Content-Type names."""
    kind = media_type(response)
    assert kind in RDF_FORMATS, f"not an RDF media type: {kind!r}"
    if kind == "application/n-quads":
        dataset = Dataset()
        dataset.parse(data=response.content, format="nquads")
        graph = Graph()
        for s, p, o, _ in dataset.quads():
            graph.add((s, p, o))
        return graph
    return Graph().parse(data=response.content, format=RDF_FORMATS[kind])
