"""A store's change count: a number that moves whenever the store's content may have changed.

A reader that remembers the count it saw before a query knows, by comparing it with the
count now, whether anything could have changed since: if the count is the same, a result
built from that query still holds. That is what lets the service keep rendered answers
(`lmkg.api.cache`) without ever serving one a write has made stale.

Every write bumps the count twice, when it takes the store's write lock and when it lets
it go, so a reader that ran its query while the write was in progress never sees an
unchanged count afterwards. An engine killed after a commit and before its second bump is
covered by its supervisor, which bumps the count as soon as the engine is gone, and by the
next engine, which bumps it when it starts.

The count lives in eight bytes of a file mapped into memory, written only by the engine
process (under its write lock) and read by every service worker without a round trip; or,
for a store opened in-process, in memory.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from types import TracebackType

_FORMAT = "<Q"
_SIZE = struct.calcsize(_FORMAT)


class Generation:
    """The change count, in memory (`path=None`) or in a file shared between processes."""

    def __init__(self, path: str | None = None, *, create: bool = True) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._map: mmap.mmap | None = None
        self._memory = 0
        if path is not None:
            flags = os.O_RDWR | (os.O_CREAT if create else 0)
            descriptor = os.open(path, flags, 0o600)
            try:
                if os.fstat(descriptor).st_size < _SIZE:
                    os.ftruncate(descriptor, _SIZE)
                self._map = mmap.mmap(descriptor, _SIZE)
            finally:
                os.close(descriptor)

    def value(self) -> int:
        if self._map is None:
            return self._memory
        number: int = struct.unpack_from(_FORMAT, self._map, 0)[0]
        return number

    def bump(self) -> None:
        with self._lock:
            if self._map is None:
                self._memory += 1
            else:
                struct.pack_into(_FORMAT, self._map, 0, self.value() + 1)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class ChangingLock:
    """A write lock that bumps a Generation as it is taken and as it is released."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self._lock = threading.Lock()

    def __enter__(self) -> ChangingLock:
        self._lock.acquire()
        self.generation.bump()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.generation.bump()
        finally:
            self._lock.release()
