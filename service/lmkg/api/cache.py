"""Answers of the read routes, kept while the store's change count says they still hold.

Model pages, lists and named queries are read far more often than the store is written. The
`KeptAnswers` middleware keeps the bytes a GET answered (status, headers, body), keyed by
what was asked (path, query string and Accept), with the store's change count
(`Store.generation()`) read *before* the route ran its queries. An answer is sent again only
while the count is unchanged, so a write anywhere in the store (this worker's, another
worker's, a SPARQL Update, an import) makes every kept answer stale at once; nothing is
invalidated by hand. A store that cannot tell (a remote one, written by others unseen) keeps
nothing. Least recently used answers go first past LMKG_CACHE_ENTRIES answers or 64 MiB
(CACHE_BYTES) a worker; LMKG_CACHE_ENTRIES=0 turns the cache off.

Only the routes in CACHED_ROUTES are kept: not /sparql (the engine's own path), not /health
(it must show a dead store), not the UI's files. A kept answer skips routing, validation and
the worker thread pool.

Every answer of those routes carries a strong ETag, a hash of its bytes, and a request whose
If-None-Match names it gets 304 Not Modified, kept or not. `Cache-Control: no-cache` on a
request makes the route answer afresh (the fresh answer is kept).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHED_ROUTES = re.compile(r"^/(models(/[^/]+(/explain)?)?|model/[^/]+|queries/[^/]+|classes(/[^/]+)?)$")
"""The GET routes whose answers are kept: pure functions of the store and the request."""

MAX_KEPT_BYTES = 2 * 1024 * 1024
"""An answer streamed in parts past this size is sent as it comes, neither kept nor tagged.
An answer in one part (every JSON answer) is kept whole, up to the cache's byte budget."""

CACHE_BYTES = 64 * 1024 * 1024
"""What the kept answers of one worker may hold at most, whatever their number."""


@dataclass(frozen=True)
class Kept:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # with the ETag
    body: bytes
    etag: bytes


class ResponseCache:
    """At most `max_entries` answers and `max_bytes` of bodies, each valid for one store generation."""

    def __init__(self, max_entries: int, *, max_bytes: int = CACHE_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[int, Kept]] = OrderedDict()
        self._lock = threading.Lock()
        self._newest = -1  # the newest generation an answer was kept for
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, generation: int) -> Kept | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != generation:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, generation: int, answer: Kept) -> None:
        if self.max_entries <= 0 or len(answer.body) > self.max_bytes:
            return
        with self._lock:
            if generation < self._newest:
                return  # computed before a write that has since landed: stale already
            if generation > self._newest:
                # Generations only grow: what was kept for older ones is never sent again, and
                # held on (up to max_bytes of it) it made the memory of a service under writes.
                self._entries.clear()
                self.bytes = 0
                self._newest = generation
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self.bytes -= len(replaced[1].body)
            self._entries[key] = (generation, answer)
            self.bytes += len(answer.body)
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._entries)


class KeptAnswers:
    """ASGI middleware: answers GETs of CACHED_ROUTES from the cache, keeps and tags new answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not CACHED_ROUTES.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        cache: ResponseCache = state.response_cache
        headers = dict(scope["headers"])
        # Read before the route runs its queries: an answer is kept under the count it was built at.
        generation: int | None = state.kg.store.generation()
        key = (scope["path"], scope["query_string"], headers.get(b"accept", b""))
        fresh = b"no-cache" in headers.get(b"cache-control", b"").lower()
        kept = cache.get(key, generation) if generation is not None and not fresh else None
        if kept is None:
            kept = await self._answer(scope, receive, send)
            if kept is None:
                return  # already sent as it came: not a 200, too large, or streamed
            if generation is not None:
                cache.put(key, generation, kept)
        await _send_kept(kept, headers.get(b"if-none-match"), send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> Kept | None:
        """Run the route; a complete 200 answer is held back and returned, anything else sent."""
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False  # the answer is being sent as it comes

        async def hold(message: Message) -> None:
            nonlocal start, size, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200:
                    passing = True
                    await send(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > MAX_KEPT_BYTES and message.get("more_body", False):
                    passing = True
                    assert start is not None
                    await send(start)
                    await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                    chunks.clear()
                return
            await send(message)

        await self.app(scope, receive, hold)
        if passing or start is None:
            return None
        body = b"".join(chunks)
        etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        own = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"etag"]
        return Kept(start["status"], (*own, (b"etag", etag)), body, etag)


async def _send_kept(kept: Kept, if_none_match: bytes | None, send: Send) -> None:
    if if_none_match is not None and _matches(if_none_match, kept.etag):
        headers = [(k, v) for k, v in kept.headers if k.lower() in (b"etag", b"vary", b"cache-control")]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": kept.status, "headers": list(kept.headers)})
    await send({"type": "http.response.body", "body": kept.body})


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match.strip() == b"*":
        return True
    # Weak comparison, as RFC 9110 asks for If-None-Match: W/"x" matches "x".
    return etag in [t.strip().removeprefix(b"W/") for t in if_none_match.split(b",")]
