"""bench/RESULTS.md: the measured part is rewritten between markers; the analysis around it is kept."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:begin (written by python3 -m bench; edit outside these markers) -->"
END = "<!-- bench:end -->"


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _ratio(result: dict[str, Any], workload: str, against: str, baseline: str | None = None) -> float:
    """lmkg's throughput over the other target's; NaN when either timed out or did not run."""
    if against not in result["workloads"][baseline or workload]["targets"]:
        return float("nan")
    timed_out = result.get("timed_out", {})
    if "lmkg" in timed_out.get(workload, {}) or against in timed_out.get(baseline or workload, {}):
        return float("nan")
    mine = result["workloads"][workload]["targets"]["lmkg"]["throughput"]
    theirs = result["workloads"][baseline or workload]["targets"][against]["throughput"]
    return mine / theirs if theirs else float("nan")


def _shown(r: float, digits: int) -> str:
    return "n/a (timed out or not run)" if math.isnan(r) else f"{r:.{digits}f}x"


def targets(results: list[dict[str, Any]]) -> list[tuple[str, str, str, bool]]:
    """(target, required, measured, met) on the largest synthetic data set of the run."""
    numeric = [r for r in results if r["size"].isdigit()]
    if not numeric:
        return []
    big = max(numeric, key=lambda r: int(r["size"]))
    small = min(numeric, key=lambda r: int(r["size"]))
    rows: list[tuple[str, str, str, bool]] = []
    r = _ratio(big, "headline-sparql", "oxigraph")
    rows.append(("/sparql headline throughput vs Oxigraph server", ">= 0.7x", _shown(r, 2), r >= 0.7))
    r = _ratio(big, "headline-sparql", "rdflib-endpoint")
    rows.append(("/sparql headline throughput vs rdflib-endpoint", ">= 50x", _shown(r, 1), r >= 50))
    r = _ratio(big, "lookup-rest", "oxigraph", "lookup-sparql")
    rows.append(("GET /models/{id} vs Oxigraph raw SPARQL look-up", ">= 0.25x", _shown(r, 2), r >= 0.25))
    if "lookup-rest-uncached" in big["workloads"]:
        r = _ratio(big, "lookup-rest-uncached", "oxigraph", "lookup-sparql")
        rows.append(
            ("the same, rendered afresh (Cache-Control: no-cache)", ">= 0.25x", _shown(r, 2), r >= 0.25)
        )
    if big is not small:
        r = big["post"]["p50_ms"] / small["post"]["p50_ms"]
        rows.append(
            (
                f"POST /models p50 at {int(big['size']):,} vs at {int(small['size']):,}",
                "<= 1.5x",
                f"{r:.2f}x ({_fmt(big['post']['p50_ms'])} vs {_fmt(small['post']['p50_ms'])} ms)",
                r <= 1.5,
            )
        )
    v = big["validate"]["p50_ms"]
    rows.append(("validation of one entry, POST /validate p50", "<= 20 ms", f"{_fmt(v)} ms", v <= 20))
    rate = big["import"]["entries_per_second"]
    rows.append(
        (f"bulk import of {int(big['size']):,} entries", ">= 2,000/s", f"{rate:,.0f}/s", rate >= 2000)
    )
    s = max(big["startup_seconds"]["lmkg_first"], big["startup_seconds"]["lmkg_restart"])
    rows.append(("start-up to a ready /health (worst of two starts)", "<= 3 s", f"{s:.2f} s", s <= 3))
    m = max(big["rss_mb"]["lmkg"], big["rss_mb"]["lmkg_after_restart"])
    rows.append(("resident memory of lmkg (service + engine)", "<= 400 MB", f"{m:.0f} MB", m <= 400))
    return rows


def render(
    results: list[dict[str, Any]],
    machine: dict[str, Any],
    command: str,
    *,
    clients: int,
    rounds: int,
    duration: float,
    request_timeout: float,
) -> str:
    lines = [BEGIN, "", "## Run", "", "```sh", command, "```", ""]
    lines.append(
        f"Machine: {machine['cores']} cores, {machine['ram_gb']} GB RAM, {machine['cpu']}; {machine['os']}; "
        f"Python {machine['python']}, pyoxigraph {machine['pyoxigraph']}, Oxigraph server "
        f"{machine['oxigraph_server']}, rdflib {machine['rdflib']}, rdflib-endpoint "
        f"{machine['rdflib_endpoint']}, pySHACL {machine['pyshacl']}."
    )
    lines.append(
        f"Clients: {clients} concurrent (keep-alive, in worker processes), {rounds} rounds of "
        f"{duration:g} s bursts per workload and target, the targets' order rotated every round. "
        f"A target whose first request of a workload takes more than five bursts is measured by that "
        f"one request. A target that gives no answer to a workload's first request within {request_timeout:g} s is "
        "recorded as timed out for that workload (lmkg runs with LMKG_QUERY_TIMEOUT and the Oxigraph "
        "server with --timeout-s at that limit; rdflib-endpoint, which cannot stop a query, is restarted)."
    )
    lines.append("")
    rows = targets(results)
    if rows:
        lines += ["## Targets", "", "| target | required | measured | met |", "| --- | --- | --- | --- |"]
        lines += [f"| {t} | {req} | {got} | {'yes' if ok else '**no**'} |" for t, req, got, ok in rows]
        lines.append("")
    for result in results:
        label = f"{int(result['size']):,} synthetic entries" if result["size"].isdigit() else "Epoch AI data"
        lines += [f"## {label}: {result['models']:,} models, {result['quads']:,} quads", ""]
        lines += [
            "| workload | target | req/s | p50 ms | p99 ms | errors | lmkg / Oxigraph | lmkg / rdflib-endpoint |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        timed_out = result.get("timed_out", {})
        for name, workload in result["workloads"].items():
            for target, m in workload["targets"].items():
                if target in timed_out.get(name, {}):
                    limit = timed_out[name][target]
                    lines.append(
                        f"| {name} | {target} | timed out (no answer within {limit:g} s) | | | | | |"
                    )
                    continue
                ox = rd = ""
                shown = target
                if target in result.get("one_request", {}).get(name, {}):
                    shown = f"{target} (one request: too slow for bursts)"
                if target == "lmkg":
                    base = workload["baseline"] or name
                    others = result["workloads"][base]["targets"]
                    base_out = timed_out.get(base, {})
                    if "oxigraph" in others and others["oxigraph"]["throughput"]:
                        ox = f"{m['throughput'] / others['oxigraph']['throughput']:.2f}x"
                    elif "oxigraph" in base_out:
                        ox = "Oxigraph timed out"
                    if "rdflib-endpoint" in others and others["rdflib-endpoint"]["throughput"]:
                        rd = f"{m['throughput'] / others['rdflib-endpoint']['throughput']:.1f}x"
                    elif "rdflib-endpoint" in base_out:
                        rd = f">= {m['throughput'] * base_out['rdflib-endpoint']:.0f}x (rdflib-endpoint timed out)"
                rate = _fmt(m["throughput"], 1 if m["throughput"] >= 1 else 3)
                lines.append(
                    f"| {name} | {shown} | {rate} | {_fmt(m['p50_ms'], 2)} | "
                    f"{_fmt(m['p99_ms'], 2)} | {m['errors']} | {ox} | {rd} |"
                )
        lines.append("")
        imp = result["import"]
        if "entries_per_second" in imp:
            lines.append(
                f"- Bulk import (KnowledgeGraph write path, batches of 1,000): {imp['entries']:,} entries in "
                f"{imp['import_seconds']:.1f} s, **{imp['entries_per_second']:,.0f} entries/s** "
                f"({imp['rejected']} rejected); opening and seeding the store {imp['open_seconds']:.1f} s."
            )
        else:
            lines.append(
                f"- `lmkg import epoch`: {' '.join(imp['report'])} Wall time {imp['wall_seconds']:.1f} s."
            )
        p, v = result["post"], result["validate"]
        lines.append(
            f"- `POST /models` (validate, classify, write; one client, {p['requests']} entries): p50 "
            f"{_fmt(p['p50_ms'])} ms, p99 {_fmt(p['p99_ms'])} ms, {p['errors']} errors. `POST /validate`: p50 "
            f"{_fmt(v['p50_ms'])} ms, p99 {_fmt(v['p99_ms'])} ms."
        )
        s = result["startup_seconds"]
        rdflib_start = (
            f"rdflib-endpoint {s['rdflib-endpoint']:.1f} s (parsing the dump into memory)"
            if "rdflib-endpoint" in s
            else "rdflib-endpoint not run"
        )
        lines.append(
            f"- Start-up to a ready `/health`: lmkg {s['lmkg_first']:.2f} s (first), {s['lmkg_restart']:.2f} s "
            f"(restart); Oxigraph server {s['oxigraph']:.2f} s after `oxigraph load` ({s['oxigraph_load']:.1f} s); "
            f"{rdflib_start}."
        )
        rss = result["rss_mb"]
        rdflib_rss = f"{rss['rdflib-endpoint']:.0f} MB" if "rdflib-endpoint" in rss else "not run"
        lines.append(
            f"- Resident memory after the workloads: lmkg {rss['lmkg']:.0f} MB (service + engine process; "
            f"{rss['lmkg_after_restart']:.0f} MB just after a restart), Oxigraph server {rss['oxigraph']:.0f} MB, "
            f"rdflib-endpoint {rdflib_rss}."
        )
        lines += [
            f"- {entry}" for entry in result.get("log", []) if entry.startswith("rdflib-endpoint not run")
        ]
        checks = {w: v for w, v in result["row_checks"].items() if len(v) > 1}
        same = all(len(set(v.values())) == 1 for v in checks.values())
        detail = "; ".join(f"{w}: " + ", ".join(f"{t} {n}" for t, n in v.items()) for w, v in checks.items())
        lines.append(
            f"- Same answers everywhere (rows per SPARQL workload): {'yes' if same else '**no**'} ({detail})."
        )
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_results(
    path: Path,
    results: list[dict[str, Any]],
    machine: dict[str, Any],
    command: str,
    *,
    clients: int,
    rounds: int,
    duration: float,
    request_timeout: float,
) -> None:
    measured = render(
        results,
        machine,
        command,
        clients=clients,
        rounds=rounds,
        duration=duration,
        request_timeout=request_timeout,
    )
    if path.exists() and BEGIN in (text := path.read_text(encoding="utf-8")) and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        path.write_text(before + measured + after, encoding="utf-8")
    else:
        path.write_text(
            "# Benchmarks: lmkg, the Oxigraph server and rdflib-endpoint\n\n" + measured + "\n",
            encoding="utf-8",
        )
