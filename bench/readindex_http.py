"""Uncached GET /models through `lmkg serve`, against the Oxigraph server running the reference SPARQL.

`python3 -m bench.readindex_http STORE WORKDIR [OFFSET]`: STORE is an lmkg store (with its read
index beside it), WORKDIR takes the dump and the Oxigraph server's copy. Prints one JSON line per
question (lmkg's p50 of 9 tries with Cache-Control: no-cache; the Oxigraph server's p50 of 3
tries of the count and the page that lmkg.models_query sends), then five writes each followed by
the read that must show it, and writes WORKDIR/results.json.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import psutil

from bench.run import dump
from bench.targets import TOKEN, start_lmkg, start_oxigraph
from bench.workloads import sparql_get
from lmkg.config import package_data
from lmkg.models_query import ModelFilter, list_queries
from lmkg.store import sparqltext

store = Path(sys.argv[1])
work = Path(sys.argv[2])
work.mkdir(parents=True, exist_ok=True)
DEEP = int(sys.argv[3]) if len(sys.argv) > 3 else 9000
QUESTIONS = {
    "list first page": ("/models?limit=20", ModelFilter(), {}),
    "portable&cheap": (
        "/models?portable=true&cheapToFineTune=true&limit=20",
        ModelFilter(portable="true", cheap_to_fine_tune="true"),
        {},
    ),
    "portable&cheap by size desc": (
        "/models?portable=true&cheapToFineTune=true&sort=parameterCount&direction=desc&limit=20",
        ModelFilter(portable="true", cheap_to_fine_tune="true"),
        {"sort": "parameterCount", "descending": True},
    ),
    "search llama": ("/models?search=llama&limit=20&sort=label", ModelFilter(search="llama"), {}),
    "developer Meta AI": ("/models?developer=Meta%20AI&limit=20", ModelFilter(developer="Meta AI"), {}),
    "deep offset": (f"/models?limit=20&offset={DEEP}", ModelFilter(), {"offset": DEEP}),
    "facets": ("/models?limit=20&facets=true", ModelFilter(), {}),
    "facets, slm and portable": (
        "/models?kind=slm&portable=true&limit=20&facets=true",
        ModelFilter(kind="slm", portable="true"),
        {},
    ),
    "portable unknown, by release desc": (
        "/models?portable=unknown&sort=releaseDate&direction=desc&limit=20",
        ModelFilter(portable="unknown"),
        {"sort": "releaseDate", "descending": True},
    ),
    "charts": ("/ui/charts", None, {}),
    "named query page": ("/queries/portable-and-cheap-to-fine-tune", "portable-and-cheap-to-fine-tune", {}),
    "named query, per year": (
        "/queries/small-language-models-per-year",
        "small-language-models-per-year",
        {},
    ),
}
NAMED = package_data("queries")
nq = work / "dump.nq" if (work / "dump.nq").exists() else dump(store, work)
lmkg = start_lmkg(store, work, timeout=900, query_timeout=120, ready_path="/models?limit=1")
ox = start_oxigraph(nq, work, query_timeout=120)
results = {}
try:
    with httpx.Client(base_url=lmkg.base, timeout=300) as c, httpx.Client(base_url=ox.base, timeout=300) as o:
        for name, (path, filt, opts) in QUESTIONS.items():
            times = []
            for _ in range(9):
                t = time.perf_counter()
                r = c.get(path, headers={"Cache-Control": "no-cache"})
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
            entry = {"lmkg_p50_ms": round(statistics.median(times), 1), "bytes": len(r.content)}
            if filt is not None and not os.environ.get("NO_OXIGRAPH"):
                if isinstance(filt, str):  # a named query: its default first page
                    text, _ = sparqltext.read((NAMED / f"{filt}.rq").read_text()).with_limit(100)
                    queries, b = [text], None
                else:
                    count, page, b = list_queries(filt, limit=20, **{k: v for k, v in opts.items()})
                    queries = [count, page]
                ot = []
                for _ in range(3):
                    t = time.perf_counter()
                    for q in queries:
                        req = sparql_get(ox.sparql_path, sparqltext.read(q).with_values(b))
                        rr = o.get(req.path, headers=dict(req.headers))
                        assert rr.status_code == 200, rr.text
                    ot.append((time.perf_counter() - t) * 1000)
                entry["oxigraph_p50_ms"] = round(statistics.median(ot), 1)
                entry["ratio"] = round(entry["oxigraph_p50_ms"] / entry["lmkg_p50_ms"], 1)
            results[name] = entry
            print(name, entry, flush=True)
        # right after a write: POST, then the next read must show it
        doc = {
            "id": "bench-written-000",
            "label": "Zzyzx Written Now",
            "kind": "slm",
            "parameterCount": 1000000000,
            "developer": "Bench Lab",
            "releaseDate": "2025-01-01",
            "license": "MIT",
            "openWeights": True,
            "sources": ["https://example.org/x"],
        }
        lat = []
        for i in range(5):
            doc["id"] = f"bench-written-{i:03d}"
            p = c.post("/models", json=doc, headers={"Authorization": f"Bearer {TOKEN}"})
            assert p.status_code == 201, p.text
            t = time.perf_counter()
            r = c.get("/models?search=zzyzx&limit=50")
            lat.append((time.perf_counter() - t) * 1000)
            assert doc["id"] in {m["id"] for m in r.json()["models"]}
        results["read right after a write"] = {
            "lmkg_p50_ms": round(statistics.median(lat), 1),
            "visible": True,
        }
        print(results["read right after a write"])
        # right after a write, the questions that read the columns (they catch up first)
        for path in ("/models?portable=true&cheapToFineTune=true&limit=20&facets=true", "/ui/charts"):
            lat = []
            for i in range(5):
                doc["id"] = f"bench-written-again-{path[1:4]}-{i:03d}"
                p = c.post("/models", json=doc, headers={"Authorization": f"Bearer {TOKEN}"})
                assert p.status_code == 201, p.text
                t = time.perf_counter()
                r = c.get(path, headers={"Cache-Control": "no-cache"})
                lat.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
            results[f"{path} right after a write"] = {"lmkg_p50_ms": round(statistics.median(lat), 1)}
            print(path, results[f"{path} right after a write"], flush=True)
        server = psutil.Process(lmkg.process.pid)
        rss = sum(p.memory_info().rss for p in [server, *server.children(recursive=True)])
        results["memory"] = {"lmkg_and_store_rss_mb": round(rss / 2**20)}
        print(results["memory"], flush=True)
finally:
    lmkg.stop()
    ox.stop()
(work / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
