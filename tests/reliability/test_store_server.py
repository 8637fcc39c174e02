"""`lmkg serve` on the embedded store runs the Oxigraph server and supervises it.

Through the user's path (the `lmkg` command, HTTP): a server that dies is started again and
the next request is served with everything acknowledged before; a query past the time limit
is answered 503 at the limit while queries and a write beside it succeed, once each.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import psutil

from tests.reliability.harness import AUTH, Service, snapshot, version_entry

# Six copies of the store's triples joined with nothing in common, counted: minutes of work.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o . ?p ?q ?r }"
COUNT_MODELS = (
    "PREFIX lmkg: <https://w3id.org/lmkg/ontology#> "
    "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a lmkg:LanguageModel }"
)
JSON = {"Accept": "application/sparql-results+json"}


def store_servers(service: Service) -> list[psutil.Process]:
    """The `oxigraph serve` processes below the service."""
    found = []
    for process in service.tree()[1:]:
        try:
            command = process.cmdline()
        except psutil.Error:
            continue
        if command[:2] and command[0].endswith("oxigraph") and command[1:2] == ["serve"]:
            found.append(process)
    return found


def test_a_killed_store_server_is_started_again_and_keeps_what_was_acknowledged(tmp_path: Path) -> None:
    with Service(tmp_path / "store") as service:
        entry = version_entry("server-restart", 1)
        assert httpx.post(f"{service.url}/models", json=entry, headers=AUTH, timeout=60).status_code == 201
        before = httpx.get(f"{service.url}/models/server-restart", timeout=30).json()
        [server] = store_servers(service)
        server.kill()
        server.wait(timeout=10)
        # The next request may meet the server still starting: 503 then 200, never anything else.
        # (no-cache: an answer kept from before would not reach the store at all.)
        deadline = time.monotonic() + 30
        while True:
            response = httpx.get(
                f"{service.url}/models/server-restart", headers={"Cache-Control": "no-cache"}, timeout=30
            )
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            assert response.status_code == 503, response.text
            time.sleep(0.1)
        assert response.status_code == 200, response.text
        assert response.json() == before
        [restarted] = store_servers(service)
        assert restarted.pid != server.pid
        second = version_entry("server-restart-2", 2)
        assert httpx.post(f"{service.url}/models", json=second, headers=AUTH, timeout=60).status_code == 201


def test_the_store_server_dies_with_the_service(tmp_path: Path) -> None:
    """SIGKILL to `lmkg serve` alone (as the OOM killer would): its store server goes too, and
    frees the store for the next start."""
    service = Service(tmp_path / "store").start()
    left = service.kill(group=False)
    assert left == [], f"still running after the service was killed: {left}"
    with Service(tmp_path / "store") as again:
        assert httpx.get(f"{again.url}/health", timeout=30).status_code == 200


def test_a_query_past_the_limit_stops_alone(tmp_path: Path) -> None:
    limit = 2.0
    with Service(tmp_path / "store", env={"LMKG_QUERY_TIMEOUT": str(limit)}) as service:
        [server] = store_servers(service)
        outcomes: dict[str, list[int]] = {"reads": [], "counts": [], "write": []}
        long: dict[str, float | int] = {}

        def endless() -> None:
            started = time.monotonic()
            response = httpx.get(f"{service.url}/sparql", params={"query": ENDLESS}, headers=JSON, timeout=60)
            long["status"] = response.status_code
            long["took"] = time.monotonic() - started

        def reads() -> None:
            deadline = time.monotonic() + limit + 1.5
            with httpx.Client(timeout=30) as client:
                while time.monotonic() < deadline:
                    outcomes["reads"].append(client.get(f"{service.url}/models/phi-3-mini").status_code)
                    counted = client.get(f"{service.url}/sparql", params={"query": COUNT_MODELS}, headers=JSON)
                    outcomes["counts"].append(counted.status_code)

        def write() -> None:
            time.sleep(0.5)  # while the long query runs
            entry = version_entry("beside-a-long-query", 3)
            response = httpx.post(f"{service.url}/models", json=entry, headers=AUTH, timeout=60)
            outcomes["write"].append(response.status_code)

        threads = [threading.Thread(target=f) for f in (endless, reads, write)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert long["status"] == 503
        assert long["took"] < limit + 1.0, long
        assert outcomes["reads"] and set(outcomes["reads"]) == {200}
        assert outcomes["counts"] and set(outcomes["counts"]) == {200}
        assert outcomes["write"] == [201]
        # Nothing was run twice: the store's server never restarted (which would have lost the
        # requests in it), and the write stored its entry once, with one time stamp.
        assert [p.pid for p in store_servers(service)] == [server.pid]
        stored = snapshot(service.url)
        assert stored.stamps["beside-a-long-query"] == 1
