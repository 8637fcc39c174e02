"""Python's cyclic garbage collector, paused while a batch of entries is built and written.

An entry graph is a few dozen rdflib objects and dicts; a batch of 1,000 entries allocates
hundreds of thousands of container objects, and the collector runs a young collection
every 700 of them and, every so often, a full one that walks every object the process
holds (in an import, the whole data set read into memory). Measured on 10,000 entries,
that was half of the import's time. A batch's objects live until the batch is written, so
collecting while it is built finds nothing to free; once the batch is done, the collector
runs again as before and frees whatever cycles the batch left.

The collector is one per process, so a pause is for a process that is a batch import and
nothing else: `lmkg import` and `lmkg load` (lmkg.cli) and bench/bulk.py pause it around their
whole run. The serving process never does, not even for POST /models or /imports/epoch: there
a pause would stop collection for every request served meanwhile, and overlapping writes could
keep it stopped (tests/regressions/test_serving_keeps_the_collector.py).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # batches in progress, in every thread
_was_enabled = False  # the collector's state before the first of them


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (nor in other threads meanwhile); the collector's
    own state is restored when the last block running in any thread ends."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
