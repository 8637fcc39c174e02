"""Concurrent HTTP clients: keep-alive connections in worker processes, timing every request.

Python's GIL would make one client process the bottleneck against a fast server, so the
clients are spread over processes, each with a few threads. Every request's latency is
recorded; a burst lasts a fixed time and each client finishes the request it is in.
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query string
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


@dataclass
class Burst:
    """What one burst against one target measured."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


def _client(
    host: str, port: int, requests: Sequence[Request], offset: int, deadline: float, out: Burst
) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=600)
    index = offset
    while time.perf_counter() < deadline or not (out.latencies or out.errors):
        request = requests[index % len(requests)]
        index += 1
        started = time.perf_counter()
        try:
            connection.request(request.method, request.path, body=request.body, headers=dict(request.headers))
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=600)
            status = 0
        elapsed = time.perf_counter() - started
        out.statuses[status] = out.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            out.latencies.append(elapsed)
        else:
            out.errors += 1
    connection.close()


def _process_burst(
    base: str, requests: Sequence[Request], threads: int, first: int, duration: float
) -> Burst:
    parts = urlsplit(base)
    deadline = time.perf_counter() + duration
    bursts = [Burst() for _ in range(threads)]
    workers = [
        threading.Thread(
            target=_client,
            args=(parts.hostname, parts.port, requests, first + i * 7919, deadline, bursts[i]),
        )
        for i in range(threads)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return _merged(bursts, seconds=time.perf_counter() - started)


def _merged(parts: Sequence[Burst], *, seconds: float) -> Burst:
    """One burst of the parts' requests, lasting `seconds`."""
    total = Burst(seconds=seconds)
    for part in parts:
        total.latencies += part.latencies
        total.errors += part.errors
        for status, count in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
    return total


class ClientPool:
    """Worker processes that run bursts together: `processes` x `threads` concurrent clients."""

    def __init__(self, processes: int = 2, threads: int = 2) -> None:
        self.processes = processes
        self.threads = threads
        self._pool = multiprocessing.get_context("spawn").Pool(processes)

    @property
    def clients(self) -> int:
        return self.processes * self.threads

    def burst(self, base: str, requests: Sequence[Request], *, duration: float, seed: int = 0) -> Burst:
        """All clients send `requests` (cycling, from different offsets) for `duration` seconds."""
        jobs = [
            (base, list(requests), self.threads, seed + p * 104729, duration) for p in range(self.processes)
        ]
        parts = self._pool.starmap(_process_burst, jobs)
        return _merged(parts, seconds=max(p.seconds for p in parts))

    def sequential(self, base: str, requests: Sequence[Request]) -> Burst:
        """Each request once, one after the other, from one client (write latency)."""
        return self._pool.apply(_sequential, (base, list(requests)))

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


def _sequential(base: str, requests: Sequence[Request]) -> Burst:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    out = Burst()
    started = time.perf_counter()
    for request in requests:
        begun = time.perf_counter()
        connection.request(request.method, request.path, body=request.body, headers=dict(request.headers))
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - begun
        out.statuses[response.status] = out.statuses.get(response.status, 0) + 1
        if 200 <= response.status < 300:
            out.latencies.append(elapsed)
        else:
            out.errors += 1
    out.seconds = time.perf_counter() - started
    return out
