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

    def burst(
        self,
        base: str,
        requests: Sequence[Request],
        *,
        duration: float,
        seed: int = 0,
        threads: int | None = None,
    ) -> Burst:
        """All clients send `requests` (cycling, from different offsets) for `duration` seconds;
        `threads` a process instead of the pool's own (the mixed workload's 32 readers)."""
        jobs = [
            (base, list(requests), threads or self.threads, seed + p * 104729, duration)
            for p in range(self.processes)
        ]
        parts = self._pool.starmap(_process_burst, jobs)
        return _merged(parts, seconds=max(p.seconds for p in parts))

    def sequential(self, base: str, requests: Sequence[Request]) -> Burst:
        """Each request once, one after the other, from one client (write latency)."""
        return self._pool.apply(_sequential, (base, list(requests)))

    def after_writes(self, base: str, writes: Sequence[Request], read: Request) -> Burst:
        """Each write, then at once `read`, from one client: the reads' latencies (a write that
        fails counts as an error of the burst, as does its read)."""
        return self._pool.apply(_after_writes, (base, list(writes), read))

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


def _after_writes(base: str, writes: Sequence[Request], read: Request) -> Burst:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    out = Burst()
    started = time.perf_counter()
    for write in writes:
        connection.request(write.method, write.path, body=write.body, headers=dict(write.headers))
        response = connection.getresponse()
        response.read()
        if not 200 <= response.status < 300:
            out.errors += 1
            out.statuses[response.status] = out.statuses.get(response.status, 0) + 1
            continue
        begun = time.perf_counter()
        connection.request(read.method, read.path, body=read.body, headers=dict(read.headers))
        answer = connection.getresponse()
        answer.read()
        elapsed = time.perf_counter() - begun
        out.statuses[answer.status] = out.statuses.get(answer.status, 0) + 1
        if 200 <= answer.status < 300:
            out.latencies.append(elapsed)
        else:
            out.errors += 1
    out.seconds = time.perf_counter() - started
    return out


@dataclass
class WriterLog:
    """What the mixed workload's writer did: each write's latency, and how many of its entries
    the next read did not show (by search, by look-up)."""

    write_latencies: list[float] = field(default_factory=list)
    write_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    search_misses: int = 0
    lookup_misses: int = 0
    readback_latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0


def paced_writer(
    base: str,
    documents: Sequence[dict[str, object]],
    words: Sequence[str],
    headers: dict[str, str],
    *,
    per_second: float,
    stop: threading.Event,
    out: WriterLog,
) -> None:
    """POST /models at `per_second` (one client, paced from the start, never two at once); after
    each 201, GET /models?search=WORD and GET /models/{id} at once: a miss is a read that does not
    show the entry just written. Stops at `stop` or when the documents run out."""
    import json
    from urllib.parse import quote

    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    started = time.perf_counter()
    for i, (document, word) in enumerate(zip(documents, words, strict=True)):
        due = started + i / per_second
        if stop.wait(max(0.0, due - time.perf_counter())):
            break
        begun = time.perf_counter()
        try:
            connection.request("POST", "/models", body=json.dumps(document).encode(), headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
            out.write_errors += 1
            continue
        out.statuses[response.status] = out.statuses.get(response.status, 0) + 1
        if response.status != 201:
            out.write_errors += 1
            continue
        out.write_latencies.append(time.perf_counter() - begun)
        read_begun = time.perf_counter()
        connection.request("GET", f"/models?search={quote(word)}&limit=20")
        found = connection.getresponse()
        body = found.read()
        ids = {m.get("id") for m in json.loads(body).get("models", [])} if found.status == 200 else set()
        if document["id"] not in ids:
            out.search_misses += 1
        connection.request("GET", f"/models/{document['id']}")
        looked = connection.getresponse()
        looked.read()
        if looked.status != 200:
            out.lookup_misses += 1
        out.readback_latencies.append(time.perf_counter() - read_begun)
    out.seconds = time.perf_counter() - started
    connection.close()
