"""bench/RESULTS.md's measured part: the REST figures a user meets first, ratios that are lower
bounds said so, the targets of issue 14 judged on the largest size, the text outside the markers
kept. Fast: rendered from a result as `python3 -m bench run` saves it, no services started."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.report import BEGIN, END
from bench.run import report

MACHINE = {
    "cores": 2,
    "ram_gb": 8.0,
    "cpu": "test",
    "os": "test",
    "python": "3.11",
    "pyoxigraph": "0",
    "oxigraph_server": "0",
    "rdflib": "0",
    "rdflib_endpoint": "not installed",
    "pyshacl": "0",
}


def _summary(p50: float, p99: float, errors: int = 0) -> dict[str, float]:
    return {"requests": 100, "errors": errors, "throughput": 50.0, "p50_ms": p50, "p99_ms": p99}


def _user(
    name: str, description: str, *, lmkg_ms: float, oxigraph_ms: float | None, over: float | None
) -> dict[str, Any]:
    return {
        "description": description,
        "sparql_note": "",
        "status": 200,
        "bytes": 6000,
        "total": 100013,
        "oxigraph_count": 100013 if name.startswith("models-") and over is None else None,
        "one_client_ms": lmkg_ms,
        "one_client_errors": 0,
        "oxigraph_ms": oxigraph_ms,
        "oxigraph_tries": 1,
        "oxigraph_over_limit_s": over,
        "uncached": _summary(lmkg_ms * 2, lmkg_ms * 5),
        "kept": _summary(0.5, 1.5),
        "after_write": _summary(lmkg_ms * 3, lmkg_ms * 4),
    }


def _result() -> dict[str, Any]:
    return {
        "size": "100000",
        "models": 100013,
        "quads": 1947150,
        "import": {"prebuilt": "/tmp/store"},
        "row_checks": {},
        "timed_out": {},
        "one_request": {},
        "startup_seconds": {"lmkg_first": 2.0, "lmkg_restart": 1.5, "oxigraph": 0.1, "oxigraph_load": 20.0},
        "rss_mb": {"lmkg": 450.0, "oxigraph": 800.0, "lmkg_after_restart": 200.0},
        "lmkg_processes": [
            {"role": "service (lmkg serve)", "pid": 1, "mb": 150.0},
            {"role": "Oxigraph server (store)", "pid": 2, "mb": 300.0},
        ],
        "lmkg_processes_after_restart": [{"role": "service (lmkg serve)", "pid": 3, "mb": 200.0}],
        "lmkg_workers": 1,
        "lmkg_env": {},
        "health": {},
        "workloads": {},
        "validate": _summary(1.5, 3.0),
        "post": _summary(3.0, 6.0),
        "log": ["SPARQL endpoint workloads not run (--skip-sparql)"],
        "user": {
            "models-first-page": _user(
                "models-first-page", "GET /models?limit=20", lmkg_ms=10.0, oxigraph_ms=None, over=30.0
            ),
            "models-filters": _user(
                "models-filters", "GET /models?portable=true", lmkg_ms=12.0, oxigraph_ms=240.0, over=None
            ),
            "ui-charts": _user(
                "ui-charts", "GET /ui/charts (sampled)", lmkg_ms=40.0, oxigraph_ms=900.0, over=None
            ),
        },
        "mixed": {
            "clients": 32,
            "seconds": 20.0,
            "reads": _summary(40.0, 180.0),
            "read_statuses": {"200": 100},
            "writes": 150,
            "writes_per_second": 7.5,
            "write_errors": 0,
            "write_statuses": {"201": 150},
            "write_p50_ms": 30.0,
            "write_p99_ms": 90.0,
            "readback_p50_ms": 20.0,
            "search_misses": 1,
            "lookup_misses": 0,
        },
    }


def test_report_puts_uncached_and_after_write_first_and_judges_issue_14(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    meta = {"machine": MACHINE, "command": "python3 -m bench run --sizes 100000", "clients": 4}
    results.write_text(
        json.dumps(
            {"meta": {**meta, "rounds": 2, "duration": 2.0, "request_timeout": 30}, "results": [_result()]}
        )
    )
    output = tmp_path / "RESULTS.md"
    output.write_text(f"# Mine\n\nbefore\n\n{BEGIN}\nold\n{END}\n\n## Findings\n\nafter\n", encoding="utf-8")
    report([results], output)
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Mine\n\nbefore\n") and text.endswith("## Findings\n\nafter\n")
    assert "\nold\n" not in text
    header = next(line for line in text.splitlines() if line.startswith("| request |"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[1:6] == [
        "uncached p50 ms",
        "uncached p99 ms",
        "uncached req/s",
        "after a write p50 ms",
        "kept p50 ms",
    ]
    first_page = next(line for line in text.splitlines() if line.startswith("| GET /models?limit=20 |"))
    assert "over 30 s" in first_page and ">= 3,000x" in first_page  # 30 s / 10 ms: a lower bound
    filters = next(line for line in text.splitlines() if line.startswith("| GET /models?portable=true |"))
    assert "| 20x |" in filters and "100,013 / 100,013" in filters
    targets = {
        line.split("|")[1].strip(): line.split("|")[3:5]
        for line in text.splitlines()
        if line.startswith("| ") and "at 100,000" in line
    }
    slowest = targets["GET /models uncached p50, slowest question at 100,000"]
    assert slowest[0].strip() == "24.0 ms (models-filters)" and slowest[1].strip() == "yes"
    ratio = targets["GET /models vs the Oxigraph server's SPARQL, one client each, lowest at 100,000"]
    assert ratio[0].strip() == "20x (models-filters)" and ratio[1].strip() == "**no**"
    mixed = next(v for k, v in targets.items() if k.startswith("mixed workload"))
    assert mixed[0].strip() == "180.0 ms, 0, 1 of 150" and mixed[1].strip() == "**no**"
    memory = next(v for k, v in targets.items() if k.startswith("resident memory"))
    assert memory[0].strip() == "450 MB" and memory[1].strip() == "**no**"
    assert "| **all of lmkg** | **450** (just after a restart: 200) |" in text


def test_side_by_side_ratios_say_how_many_times_better_the_new_code_is() -> None:
    """bench.ab's table: a time that halves and a rate that grows by half are both better
    (2.00x and 1.50x); a time that doubles is worse (0.50x). Medians of each version's runs."""
    from bench.ab import table

    text = table(
        {
            "old": [{"page": 10.0, "mixed_rps": 100.0, "charts": 30.0}, {"page": 12.0, "mixed_rps": 90.0, "charts": 30.0}],
            "new": [{"page": 5.0, "mixed_rps": 150.0, "charts": 60.0}, {"page": 6.0, "mixed_rps": 142.5, "charts": 60.0}],
        }
    )
    assert "| page | 11.0 | 5.5 | 2.00x |" in text
    assert "| mixed_rps | 95.0 | 146.2 | 1.54x |" in text
    assert "| charts | 30.0 | 60.0 | 0.50x |" in text
