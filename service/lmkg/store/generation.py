"""A store's change count: a number that moves whenever the store's content may have changed.

A reader that remembers the count it saw before a query knows, by comparing it with the
count now, whether anything could have changed since: if the count is the same, a result
built from that query still holds. That is what lets the service keep rendered answers
(`lmkg.api.cache`) without ever serving one a write has made stale.

Every write makes the count odd when it takes the store's write lock and even when it lets
it go, so a reader that ran its query while a write was in progress never sees an unchanged
count afterwards, and an odd count means "a write is in progress": nothing read then is kept
(`stable()` is None). A writer that died between the two (a worker SIGKILLed mid-write)
leaves the count odd, so nothing is kept until the next write completes.

The count lives in eight bytes of a file mapped into memory and shared by every worker of
`lmkg serve` (the file of the Oxigraph server it supervises, `lmkg.store.server`), whose
writes also take the file's lock (`SharedWriteLock`); for a store opened in-process, in memory.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
import time
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

    def stable(self) -> int | None:
        """The count when no write is in progress, else None (nothing read now may be kept)."""
        value = self.value()
        return None if value % 2 else value

    def completed(self) -> int:
        """The count when the last write that completed let the lock go: the count now, or
        while a write is in progress (odd), the count before it took the lock. (After a writer
        that died left the count odd, one more than that: later than any completed write, so a
        reader that compares with it asks for more, never less.)"""
        value = self.value()
        return value - 1 if value % 2 else value

    def bump(self) -> None:
        with self._lock:
            if self._map is None:
                self._memory += 1
            else:
                struct.pack_into(_FORMAT, self._map, 0, self.value() + 1)

    def set(self, number: int) -> None:
        with self._lock:
            if self._map is None:
                self._memory = number
            else:
                struct.pack_into(_FORMAT, self._map, 0, number)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class SharedWriteLock:
    """The write lock of every process that shares a Generation file: the file's own lock.

    Taking it makes the count odd (a write is in progress) and letting it go makes it even;
    a count left odd by a writer that died is moved on to the next odd number.
    """

    def __init__(self, generation: Generation, *, wait: float) -> None:
        if generation.path is None:
            raise ValueError("a shared write lock needs a Generation kept in a file")
        self.generation = generation
        self.wait = wait
        self._descriptor = os.open(generation.path, os.O_RDWR)
        self._threads = threading.Lock()

    def acquire(self) -> bool:
        """Take the lock within `wait` seconds; False when another write held it all that time."""
        deadline = time.monotonic() + self.wait
        if not self._threads.acquire(timeout=self.wait):
            return False
        while True:
            try:
                fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._threads.release()
                    return False
                time.sleep(0.005)
        value = self.generation.value()
        self.generation.set(value + (2 if value % 2 else 1))
        return True

    def release(self) -> None:
        value = self.generation.value()
        self.generation.set(value + 1)
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        os.close(self._descriptor)


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
