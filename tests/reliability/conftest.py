"""Fixtures of the fault and load tests: a reference service, for what fresh writes store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.reliability.harness import Reference, Service, Snapshot, snapshot


@dataclass
class ReferenceService:
    """A service on a fresh store: what a seeded store holds, and what writing a version gives."""

    service: Service
    seeded: Snapshot
    versions: Reference


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceService]:
    service = Service(tmp_path_factory.mktemp("reference") / "store").start()
    try:
        yield ReferenceService(service, snapshot(service.url), Reference(service.url))
    finally:
        service.stop()
