import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

import httpx

code, label = sys.argv[1], sys.argv[2]
store = f"/tmp/oxt/lat-{label}"
shutil.rmtree(store, ignore_errors=True)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
env = {**os.environ, "PYTHONPATH": code, "LMKG_STORE": store}
p = subprocess.Popen(
    [sys.executable, "-m", "lmkg.cli", "serve", "--port", str(port)],
    env=env,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
    start_new_session=True,
)
url = f"http://127.0.0.1:{port}"
for _ in range(600):
    try:
        if httpx.get(url + "/health").status_code == 200:
            break
    except httpx.HTTPError:
        pass
    time.sleep(0.1)
q = "PREFIX lmkg: <https://w3id.org/lmkg/ontology#> SELECT ?m ?l WHERE { ?m a lmkg:LanguageModel ; <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 20"
with httpx.Client() as c:

    def run(path, **kw):
        t = []
        for _ in range(300):
            s = time.perf_counter()
            r = c.get(url + path, **kw)
            t.append((time.perf_counter() - s) * 1000)
            assert r.status_code == 200, r.text
        t.sort()
        return f"median {statistics.median(t):.2f} ms, p95 {t[int(len(t) * 0.95)]:.2f} ms"

    print(
        label,
        "/sparql",
        run("/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}),
    )
    print(
        label,
        "/models?limit=20 (no-cache)",
        run("/models", params={"limit": 20}, headers={"Cache-Control": "no-cache"}),
    )
os.killpg(p.pid, 2)
p.wait(timeout=30)
