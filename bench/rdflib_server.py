"""rdflib-endpoint on an N-Quads dump: `python3 -m bench.rdflib_server DUMP.nq PORT`.

The dataset's default graph is the union of its named graphs, as lmkg and
`oxigraph serve --union-default-graph` answer queries. rdflib cannot stop a query
that runs too long, so the benchmark ends the serving process after a timeout; to
avoid parsing the data again (minutes at 100k entries), this process parses it once
and serves from forked children, forking a fresh one whenever the last one ends.
"""

from __future__ import annotations

import os
import signal
import sys

from rdflib import Dataset


def _serve(dataset: Dataset, port: int) -> None:
    import uvicorn
    from rdflib_endpoint import SparqlEndpoint

    app = SparqlEndpoint(graph=dataset, path="/", cors_enabled=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> None:
    dump, port = sys.argv[1], int(sys.argv[2])
    dataset = Dataset(default_union=True)
    dataset.parse(dump, format="nquads")
    child = 0

    def stop(signum: int, frame: object) -> None:
        if child:
            os.kill(child, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        child = os.fork()
        if child == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _serve(dataset, port)
            os._exit(0)
        os.waitpid(child, 0)


if __name__ == "__main__":
    main()
