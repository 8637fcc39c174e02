"""The browser UI at scale: Debian's Chromium on `lmkg serve`, each step timed right after a write.

`python3 -m bench.ui STORE [--rounds N] [--workdir DIR]` starts `lmkg serve` on STORE (as a user
does), opens the UI in headless Chromium (Playwright, the same browser as tests/ui), and for
each round times, inside the page, from the navigation to the moment the answer is on screen:

- the model list (`#/models`, first page),
- the filters portable and cheap to fine-tune, then the same sorted by size, largest first,
- a search,
- the charts page (both charts drawn).

Before every step one new entry is written through `POST /models`, so no answer kept by the
service is fresh: each figure is what a user meets right after someone else's write. The
time is the page's own (`performance.now()` around the hash change, polled every 2 ms until
the new table or chart is there), so it includes the API request, the JSON parsing and the
rendering, not Playwright's round trips. Prints one JSON line per step and the p50/p90.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from bench.targets import TOKEN, start_lmkg

CHROMIUM = "/usr/bin/chromium"

STEPS: list[tuple[str, str, str]] = [
    # (name, hash to navigate to, what must be on screen: "models" or "charts")
    ("model list, first page", "#/models", "models"),
    ("portable and cheap", "#/models?portable=true&cheapToFineTune=true", "models"),
    ("the same, largest first", "#/models?portable=true&cheapToFineTune=true&sort=parameterCount&direction=desc", "models"),
    ("search", "#/models?search=llama", "models"),
    ("charts", "#/charts", "charts"),
]

# Runs in the page: marks what is on screen now as stale, changes the hash, and resolves with the
# milliseconds until a fresh answer replaced it (or an error box appeared).
_TIMED_NAVIGATION = """
async ([target, wanted]) => {
  for (const node of document.querySelectorAll('#model-count, #size-chart, .error'))
    node.dataset.stale = '1';
  const ready = () => {
    if (document.querySelector('main .error:not([data-stale])')) return 'error';
    if (wanted === 'models') {
      const count = document.querySelector('#model-count:not([data-stale])');
      return count && document.querySelector('#model-results tbody') ? 'ok' : null;
    }
    const canvas = document.querySelector('#size-chart:not([data-stale])');
    const years = document.getElementById('year-chart');
    return canvas && years && window.Chart && Chart.getChart(canvas) && Chart.getChart(years) ? 'ok' : null;
  };
  const started = performance.now();
  location.hash = target;
  return await new Promise((resolve) => {
    const poll = () => {
      const state = ready();
      if (state) resolve({ ms: performance.now() - started, state });
      else if (performance.now() - started > 120000) resolve({ ms: null, state: 'timeout' });
      else setTimeout(poll, 2);
    };
    poll();
  });
}
"""


def _entry(round_no: int, step: int) -> dict[str, Any]:
    model_id = f"bench-ui-{int(time.time())}-{round_no:03d}-{step}"
    return {
        "id": model_id,
        "label": f"Bench UI write {round_no}.{step}",
        "kind": "slm",
        "parameterCount": 1_300_000_000 + round_no,
        "developer": "Bench UI Lab",
        "releaseDate": "2025-06-01",
        "license": "MIT",
        "openWeights": True,
        "sources": [f"https://example.org/bench-ui/{model_id}"],
    }


def _navigate(page: Page, target: str, wanted: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(_TIMED_NAVIGATION, [target, wanted])
    return result


def run(base: str, rounds: int) -> dict[str, dict[str, Any]]:
    times: dict[str, list[float]] = {name: [] for name, _, _ in STEPS}
    failures: dict[str, list[str]] = {name: [] for name, _, _ in STEPS}
    with httpx.Client(base_url=base, timeout=120) as client, sync_playwright() as playwright:
        # A store imported in bulk has its read index built when the service starts (minutes
        # at 100k, loaded): the rounds measure the service after that, not that build.
        client.get("/models", params={"limit": 1}, timeout=1800).raise_for_status()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/#/validate")
        page.wait_for_load_state("networkidle")
        for round_no in range(rounds):
            # From another page each round, so that the list is drawn afresh, not updated.
            page.evaluate("location.hash = '#/validate'")
            page.wait_for_timeout(50)
            for step, (name, target, wanted) in enumerate(STEPS):
                written = client.post(
                    "/models", json=_entry(round_no, step), headers={"Authorization": f"Bearer {TOKEN}"}
                )
                if written.status_code != 201:
                    raise SystemExit(f"the write before {name!r} failed: {written.status_code} {written.text[:300]}")
                outcome = _navigate(page, target, wanted)
                if outcome["state"] == "ok":
                    times[name].append(float(outcome["ms"]))
                else:
                    failures[name].append(outcome["state"])
                print(json.dumps({"round": round_no, "step": name, **outcome}), flush=True)
        browser.close()
    summary: dict[str, dict[str, Any]] = {}
    for name, values in times.items():
        ordered = sorted(values)
        summary[name] = {
            "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
            "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1) if ordered else None,
            "rounds": len(ordered),
            "failures": failures[name],
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.ui")
    parser.add_argument("store", type=Path, help="an lmkg store directory (it is written to: use a copy)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lmkg-bench-ui-"))
    workdir.mkdir(parents=True, exist_ok=True)
    service = start_lmkg(args.store, workdir, timeout=600)
    try:
        summary = run(service.base, args.rounds)
    finally:
        service.stop()
    sys.stdout.write(json.dumps({"summary": summary}, indent=1) + "\n")
    return 0 if all(not s["failures"] for s in summary.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
