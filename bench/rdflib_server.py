"""rdflib-endpoint on an N-Quads dump: `python3 -m bench.rdflib_server DUMP.nq PORT`.

The dataset's default graph is the union of its named graphs, as lmkg and
`oxigraph serve --union-default-graph` answer queries.
"""

from __future__ import annotations

import sys

import uvicorn
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint


def main() -> None:
    dump, port = sys.argv[1], int(sys.argv[2])
    dataset = Dataset(default_union=True)
    dataset.parse(dump, format="nquads")
    app = SparqlEndpoint(graph=dataset, path="/", cors_enabled=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
