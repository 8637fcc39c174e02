"""Rendered answers of the look-up routes, kept while the store's change count says they hold.

A model's page is read far more often than it is written. The service keeps the bytes it
sent, keyed by what was asked (model id and media type), with the store's change count
(`Store.generation()`) read *before* the queries that built them. An answer is served again
only while the count is unchanged, so a write anywhere in the store (this worker's, another
worker's, a SPARQL Update, an import) makes every kept answer stale at once; nothing is
invalidated by hand. A store that cannot tell (a remote one, written by others unseen)
keeps nothing. Least recently used answers go first past LMKG_CACHE_ENTRIES; 0 turns the
cache off.

Every answer also carries a strong ETag, a hash of its bytes, and a request whose
If-None-Match names it gets 304 Not Modified, cached or not. A request with
`Cache-Control: no-cache` is rendered afresh from the store (and the fresh answer kept).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str
    etag: str


def rendered(body: bytes, media_type: str) -> Rendered:
    return Rendered(body, media_type, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


class ResponseCache:
    """At most `max_entries` rendered answers, each valid for one store generation."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[int, Rendered]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, generation: int) -> Rendered | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != generation:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, generation: int, answer: Rendered) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = (generation, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


async def cached_answer(
    request: Request,
    cache: ResponseCache,
    generation: int | None,
    key: Hashable,
    render: Callable[[], Rendered],
) -> Response:
    """The answer for `key`: kept if still valid, else rendered (and kept); 304 if the client has it.

    `generation` must be read before `render` runs its queries; `render` runs in a worker
    thread (it queries the store), the rest on the event loop.
    """
    fresh = "no-cache" in request.headers.get("cache-control", "").lower()
    answer = cache.get(key, generation) if generation is not None and not fresh else None
    if answer is None:
        answer = await run_in_threadpool(render)
        if generation is not None:
            cache.put(key, generation, answer)
    headers = {"ETag": answer.etag, "Vary": "Accept"}
    if _matches(request.headers.get("if-none-match"), answer.etag):
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type=answer.media_type, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    # Weak comparison, as RFC 9110 asks for If-None-Match: W/"x" matches "x".
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return etag in tags
