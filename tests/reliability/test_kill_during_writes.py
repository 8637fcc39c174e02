"""SIGKILL during concurrent writes: every acknowledged write survives, whole, and no process
of the service outlives it.

Client threads POST, PUT and DELETE entries of their own ids against `lmkg serve` and keep
a ledger: the state each id was last acknowledged in (a 2xx came back) and the state a
write in flight may have left. The service is killed at a random moment: its whole
process group, or (every other round) the `lmkg serve` process alone, as the kernel's OOM
killer would, after which the processes it started must end by themselves. Rounds
alternate between one worker and `--workers 2` (two processes sharing the store). After
a restart every id must be in its acknowledged state or its in-flight one, whole: equal
to what a fresh write of that version stores, with its inferred triples, and none left
for an absent entry.

The reduced form runs two rounds; the full form:

    LMKG_KILL_ROUNDS=10 python3 -m pytest tests/reliability/test_kill_during_writes.py
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import ReferenceService
from tests.reliability.harness import (
    AUTH,
    EntryState,
    Service,
    env_number,
    problems_after_restart,
    snapshot,
    version_entry,
)

ROUNDS = int(env_number("LMKG_KILL_ROUNDS", 2))
SEED = int(env_number("LMKG_KILL_SEED", time.time_ns() % 1_000_000))
WRITERS = int(env_number("LMKG_KILL_WRITERS", 8))
VERSIONS = 12  # versions of an entry a writer chooses from (each is written once to the reference)

pytestmark = pytest.mark.slow


@dataclass
class Ledger:
    """What the clients were told: per id, the acknowledged state and a state in flight."""

    acknowledged: dict[str, int | None] = field(default_factory=dict)  # version, or None: no entry
    in_flight: dict[str, int | None] = field(default_factory=dict)
    acknowledgements: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allowed(self) -> dict[str, set[int | None]]:
        ids = set(self.acknowledged) | set(self.in_flight)
        return {
            i: {self.acknowledged.get(i)} | ({self.in_flight[i]} if i in self.in_flight else set())
            for i in ids
        }


def _writer(url: str, number: int, ledger: Ledger, rng: random.Random, stop: threading.Event) -> None:
    """Write entries w{number}-{k}: create, replace with other versions, sometimes delete."""
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
        model = 0
        current: int | None = None  # this id's state as far as this writer knows
        while not stop.is_set():
            model_id = f"w{number}-{model}"
            if current is None:
                version = rng.randrange(VERSIONS)
                request = ("POST", "/models", version_entry(model_id, version), 201)
            elif rng.random() < 0.15:
                version = None
                request = ("DELETE", f"/models/{model_id}", None, 204)
            else:
                version = (current + rng.randrange(1, VERSIONS)) % VERSIONS
                request = ("PUT", f"/models/{model_id}", version_entry(model_id, version), 200)
            method, path, body, success = request
            with ledger.lock:
                ledger.acknowledged.setdefault(model_id, None)
                ledger.in_flight[model_id] = version
            try:
                response = client.request(method, path, json=body)
            except httpx.HTTPError:
                return  # the service is gone: this write stays in flight
            if response.status_code != success:
                # A 503 (the store restarting) leaves the write in doubt: go on with a new id.
                if response.status_code != 503:
                    with ledger.lock:
                        ledger.unexpected.append(
                            f"{method} {path}: {response.status_code} {response.text[:300]}"
                        )
                model, current = model + 1, None
                continue
            with ledger.lock:
                ledger.acknowledged[model_id] = version
                del ledger.in_flight[model_id]
                ledger.acknowledgements += 1
            current = version
            if version is None or rng.random() < 0.3:
                model, current = model + 1, None


def test_concurrent_writes_killed_at_random_keep_every_acknowledged_write(
    reference: ReferenceService, tmp_path: Path
) -> None:
    print(f"LMKG_KILL_SEED={SEED}")
    states: dict[int | None, EntryState | None] = {v: reference.versions.of(v) for v in range(VERSIONS)}
    states[None] = None
    outcomes = []
    for number in range(ROUNDS):
        rng = random.Random(SEED * 1000 + number)
        workers = 1 + number % 2
        whole_group = number % 4 in (0, 3)
        store = tmp_path / f"store-{number}"
        service = Service(store, workers=workers).start()
        ledger = Ledger()
        stop = threading.Event()
        threads = [
            threading.Thread(target=_writer, args=(service.url, t, ledger, random.Random(rng.random()), stop))
            for t in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        delay = rng.uniform(0.5, 2.0)
        time.sleep(delay)
        processes = len(service.tree())
        left = service.kill(group=whole_group)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        outcome = (
            f"seed {SEED} round {number}: {workers} worker(s), killed {'the process group' if whole_group else 'lmkg serve'} "
            f"({processes} processes) after {delay:.2f} s, {ledger.acknowledgements} writes acknowledged, "
            f"{len(ledger.in_flight)} in flight"
        )
        outcomes.append(outcome)
        assert not left, f"{outcome}: processes of the service outlived it by 5 s: {left}"
        assert not ledger.unexpected, f"{outcome}: unexpected answers: {ledger.unexpected[:5]}"
        assert ledger.acknowledgements > 0, outcome
        with Service(store) as restarted:
            found = snapshot(restarted.url)
        allowed = {i: [states[v] for v in versions] for i, versions in ledger.allowed().items()}
        problems = problems_after_restart(found, allowed, seeded=reference.seeded)
        assert not problems, f"{outcome}:\n" + "\n".join(problems)
    print("\n".join(outcomes))
