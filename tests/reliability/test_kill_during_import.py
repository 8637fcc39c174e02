"""SIGKILL during a bulk import: the store opens again, and holds whole entries only.

Each round starts an import on a fresh on-disk store (Epoch AI's real CSV through
`lmkg import epoch` or `POST /imports/epoch`, or generated entries through `lmkg load`),
kills the whole process group at a random moment, starts `lmkg serve` on the store again
and reads back everything it holds. Every entry present must equal what a fresh write of
the same entry stores (its graph and its inferred triples); no inferred triples may be
left for an absent entry; an import reported finished must be there whole; `lmkg load`
(all or nothing) leaves all of its entries or none. Then the interrupted import is run
again, and must complete the store.

The reduced form runs two rounds of each on the file's first 1,000 rows; the full form:

    LMKG_KILL_ROUNDS=10 LMKG_IMPORT_ROWS=0 python3 -m pytest tests/reliability/test_kill_during_import.py

(LMKG_IMPORT_ROWS=0 imports the whole file; LMKG_KILL_SEED repeats a run's kill moments.)
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lmkg.config import shared_dir
from tests.reliability.conftest import ReferenceService
from tests.reliability.harness import (
    AUTH,
    EntryState,
    Service,
    env_number,
    lmkg_env,
    problems_after_restart,
    snapshot,
    version_entry,
)

EPOCH = shared_dir() / "data" / "epoch-ai-models" / "all-ml-systems.csv"
ROUNDS = int(env_number("LMKG_KILL_ROUNDS", 2))
IMPORT_ROWS = int(env_number("LMKG_IMPORT_ROWS", 1000))
SEED = int(env_number("LMKG_KILL_SEED", time.time_ns() % 1_000_000))
CLI_START = 1.8  # about what `lmkg` takes to start and open the store; kills land there too

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not EPOCH.is_file(), reason=f"the Epoch data is not at {EPOCH}"),
]


@dataclass
class EpochReference:
    csv: Path
    entries: dict[str, EntryState]  # what an import run to the end stores
    seconds: float  # how long that import took over HTTP


@pytest.fixture(scope="module")
def epoch(reference: ReferenceService, tmp_path_factory: pytest.TempPathFactory) -> EpochReference:
    """The first IMPORT_ROWS rows of the real file, imported whole on the reference service."""
    path = tmp_path_factory.mktemp("epoch") / "epoch.csv"
    with EPOCH.open(encoding="utf-8-sig", newline="") as source, path.open("w", newline="") as target:
        reader = csv.reader(source)
        writer = csv.writer(target)
        for number, row in enumerate(reader):
            if IMPORT_ROWS and number > IMPORT_ROWS:
                break
            writer.writerow(row)
    before = set(snapshot(reference.service.url).entries)
    started = time.monotonic()
    response = httpx.post(
        f"{reference.service.url}/imports/epoch", content=path.read_bytes(), headers=AUTH, timeout=600
    )
    seconds = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["kept"] > 100, response.json()
    after = snapshot(reference.service.url).entries
    return EpochReference(path, {i: s for i, s in after.items() if i not in before}, seconds)


def _rounds() -> Iterator[tuple[int, random.Random]]:
    for number in range(ROUNDS):
        yield number, random.Random(SEED * 1000 + number)


def _run_killed(command: list[str], env: dict[str, str], delay: float, log: Path) -> bool:
    """Run an `lmkg` command in a session of its own and SIGKILL its process group after
    `delay` seconds; whether it had finished (exit 0) before that."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return False
    assert process.returncode == 0, log.read_text()
    return True


def test_an_epoch_import_killed_at_random_leaves_whole_entries(
    reference: ReferenceService, epoch: EpochReference, tmp_path: Path
) -> None:
    print(f"LMKG_KILL_SEED={SEED}")
    outcomes = []
    for number, rng in _rounds():
        store = tmp_path / f"store-{number}"
        over_http = number % 2 == 1
        finished = False
        if over_http:
            # `lmkg serve` runs the import; its client waits for the report.
            service = Service(store).start()
            delay = rng.uniform(0.0, epoch.seconds * 1.1)
            answer: list[int] = []

            def post(url: str = service.url, into: list[int] = answer) -> None:
                try:
                    response = httpx.post(
                        f"{url}/imports/epoch", content=epoch.csv.read_bytes(), headers=AUTH, timeout=600
                    )
                    into.append(response.status_code)
                except httpx.HTTPError:
                    pass

            client = threading.Thread(target=post)
            client.start()
            time.sleep(delay)
            service.kill()
            client.join()
            finished = answer == [200]
        else:
            delay = rng.uniform(0.1, CLI_START + epoch.seconds * 1.1)
            finished = _run_killed(
                ["lmkg", "import", "epoch", str(epoch.csv), "--batch-size", "20"],
                lmkg_env(store),
                delay,
                tmp_path / f"import-{number}.log",
            )
        with Service(store) as restarted:
            found = snapshot(restarted.url)
            allowed = {i: [state] if finished else [None, state] for i, state in epoch.entries.items()}
            problems = problems_after_restart(found, allowed, seeded=reference.seeded)
            present = len(set(found.entries) & set(epoch.entries))
            outcomes.append(
                f"seed {SEED} round {number} ({'http' if over_http else 'cli'}): killed at {delay:.2f} s, "
                f"{present}/{len(epoch.entries)} entries present, finished {finished}"
            )
            assert not problems, f"{outcomes[-1]}:\n" + "\n".join(problems)
            # Run again, the import completes the store.
            response = httpx.post(
                f"{restarted.url}/imports/epoch", content=epoch.csv.read_bytes(), headers=AUTH, timeout=600
            )
            assert response.status_code == 200, response.text
            # Every entity the killed run wrote whole is left as it is (curated entities the
            # import merges into count as unchanged too, once merged).
            assert response.json()["unchanged"] >= present, response.json()
            completed = snapshot(restarted.url)
            whole = {i: [state] for i, state in epoch.entries.items()}
            problems = problems_after_restart(completed, whole, seeded=reference.seeded)
            assert not problems, "after the import was run again:\n" + "\n".join(problems)
    print("\n".join(outcomes))


LOAD_ENTRIES = int(env_number("LMKG_LOAD_ENTRIES", 150))


def test_lmkg_load_killed_at_random_stores_all_or_nothing(
    reference: ReferenceService, tmp_path: Path
) -> None:
    """`lmkg load` writes a batch in one transaction: after a kill, all of it or none of it."""
    print(f"LMKG_KILL_SEED={SEED}")
    entries = [version_entry(f"bulk-{i}", i % 12) for i in range(LOAD_ENTRIES)]
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(entries))
    states = {e["id"]: reference.versions.of(i % 12) for i, e in enumerate(entries)}
    # How long a run to the end takes, on a store of its own: the kills land within it.
    started = time.monotonic()
    assert _run_killed(
        ["lmkg", "load", str(batch)], lmkg_env(tmp_path / "whole"), 600, tmp_path / "whole.log"
    )
    seconds = time.monotonic() - started
    outcomes = []
    for number, rng in _rounds():
        store = tmp_path / f"store-{number}"
        delay = seconds * rng.uniform(0.6, 1.2)  # the one transaction commits near the end
        finished = _run_killed(
            ["lmkg", "load", str(batch)], lmkg_env(store), delay, tmp_path / f"{number}.log"
        )
        with Service(store) as restarted:
            found = snapshot(restarted.url)
        present = len(set(found.entries) & set(states))
        outcomes.append(
            f"seed {SEED} round {number}: killed at {delay:.2f} s of {seconds:.2f}, {present} present"
        )
        allowed = {i: [state] if finished else [None, state] for i, state in states.items()}
        problems = problems_after_restart(found, allowed, seeded=reference.seeded)
        if present not in (0, len(states)):
            problems.append(f"{present} of the batch's {len(states)} entries are stored: not all or nothing")
        assert not problems, f"{outcomes[-1]}:\n" + "\n".join(problems)
    print("\n".join(outcomes))
