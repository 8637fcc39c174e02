"""Many writers on one entry: it is always exactly one of the versions written, never a mix.

Every version of the entry is complete and internally consistent: each field derives from
its version number (`version_entry`), so an entry with the label of one version and the
size, developer or inferred classes of another shows. Threads race to create the entry
(exactly one POST wins, the others get 409), then replace it with PUT, then PUT, DELETE
and POST at random, while readers check that every GET answers one whole version with the
inferred classes of that version. Afterwards the stored entry (its graph and its inferred
triples, read over SPARQL) equals a fresh write of one version, or is absent with nothing
inferred left. Run on one worker and on `--workers 2` (two processes writing one store).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib.namespace import RDF

from tests.reliability.conftest import ReferenceService
from tests.reliability.harness import (
    AUTH,
    PLACEHOLDER,
    EntryState,
    Service,
    env_number,
    snapshot,
    version_entry,
)

MODEL_ID = "contested"
THREADS = int(env_number("LMKG_CONTENTION_THREADS", 12))
ROUNDS_PER_THREAD = int(env_number("LMKG_CONTENTION_ROUNDS", 6))
VERSIONS = 12

pytestmark = pytest.mark.slow


@pytest.fixture(
    params=[
        pytest.param(1, id="one-worker"),
        pytest.param(2, id="two-workers"),
    ]
)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    with Service(tmp_path / "store", workers=int(request.param)) as running:
        yield running


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` for i in range(count) on threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _version_of(document: dict[str, Any]) -> int | None:
    """The version a GET answered, if each of its fields is that version's; None for a mix."""
    version = int(str(document["label"]).rsplit(" ", 1)[-1])
    expected = version_entry(MODEL_ID, version)
    for name, value in expected.items():
        got = document.get(name)
        if isinstance(value, list) or name == "developer":
            value = sorted(value if isinstance(value, list) else [value])
        if got != value:
            return None
    return version


class Readers:
    """Threads reading the entry while it is written: every answer must be one whole version."""

    def __init__(self, url: str, inferred: dict[int, list[str]]) -> None:
        self.url = url
        self.inferred = inferred
        self.stop = threading.Event()
        self.reads = 0
        self.problems: list[str] = []
        self.threads = [threading.Thread(target=self.read) for _ in range(2)]

    def read(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while not self.stop.is_set():
                response = client.get(f"/models/{MODEL_ID}")
                self.reads += 1
                if response.status_code == 404:
                    continue
                if response.status_code != 200:
                    self.problems.append(f"GET: {response.status_code} {response.text[:200]}")
                    continue
                document = response.json()
                version = _version_of(document)
                if version is None:
                    self.problems.append(f"GET answered a mix of versions: {document}")
                elif document["inferred"]["classes"] != self.inferred[version]:
                    self.problems.append(
                        f"GET answered version {version} with the inferred classes "
                        f"{document['inferred']['classes']}, not {self.inferred[version]}"
                    )

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def _stored(url: str) -> EntryState | None:
    found = snapshot(url)
    assert MODEL_ID not in found.orphans, (
        f"inferred triples left without the entry: {found.orphans[MODEL_ID]}"
    )
    return found.entries.get(MODEL_ID)


def test_writers_of_one_entry_leave_exactly_one_whole_version(
    service: Service, reference: ReferenceService
) -> None:
    states = {v: reference.versions.of(v) for v in range(VERSIONS)}
    # The model's own inferred classes (its verdict nodes are typed too, as lmkg:Verdict).
    inferred = {
        v: sorted(str(o) for s, p, o in states[v].inferred if s == PLACEHOLDER and p == RDF.type) for v in states
    }
    auth = httpx.Client(base_url=service.url, headers=AUTH, timeout=120)
    with auth, Readers(service.url, inferred) as readers:
        # Creation: one POST wins.
        created = _race(
            THREADS, lambda i: auth.post("/models", json=version_entry(MODEL_ID, i % VERSIONS)).status_code
        )
        assert sorted(created) == [201] + [409] * (THREADS - 1), created
        winner = created.index(201) % VERSIONS
        assert _stored(service.url) == states[winner], "the stored entry is not the version that won the POST"

        # Replacement: whichever PUT lands last, the entry is that version whole.
        def put(index: int) -> list[int]:
            codes = []
            for round_ in range(ROUNDS_PER_THREAD):
                version = (index * ROUNDS_PER_THREAD + round_) % VERSIONS
                codes.append(
                    auth.put(f"/models/{MODEL_ID}", json=version_entry(MODEL_ID, version)).status_code
                )
            return codes

        codes = [c for batch in _race(THREADS, put) for c in batch]
        assert set(codes) == {200}, codes
        stored = _stored(service.url)
        assert stored in states.values(), f"after concurrent PUTs the entry is a mix: {stored}"

        # PUT, DELETE and POST at random: each answers as the entry was at that moment.
        def mixed(index: int) -> list[str]:
            rng = random.Random(index)
            unexpected = []
            for _ in range(ROUNDS_PER_THREAD * 2):
                version = rng.randrange(VERSIONS)
                action = rng.choice(["put", "delete", "post"])
                if action == "put":
                    response = auth.put(f"/models/{MODEL_ID}", json=version_entry(MODEL_ID, version))
                    allowed = {200, 404}
                elif action == "delete":
                    response = auth.delete(f"/models/{MODEL_ID}")
                    allowed = {204, 404}
                else:
                    response = auth.post("/models", json=version_entry(MODEL_ID, version))
                    allowed = {201, 409}
                if response.status_code not in allowed:
                    unexpected.append(f"{action}: {response.status_code} {response.text[:200]}")
            return unexpected

        unexpected = [u for batch in _race(THREADS, mixed) for u in batch]
        assert not unexpected, unexpected
        stored = _stored(service.url)
        assert stored is None or stored in states.values(), (
            f"after PUT/DELETE/POST the entry is a mix: {stored}"
        )
    assert readers.reads > 0
    assert not readers.problems, readers.problems[:5]
