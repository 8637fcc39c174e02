"""GET /health: is the store reachable, what is it, and how much does it hold."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from lmkg.api.deps import KGDep
from lmkg.knowledge import KnowledgeGraph
from lmkg.store.checks import DefaultGraphCheck, store_kind

router = APIRouter(tags=["operations"])

COUNT_WAIT_SECONDS = 1.0
"""How long /health waits for counts it started; past that it answers with the last ones."""

UNTRACKED_RECOUNT_SECONDS = 60.0
"""How old the counts of a store that cannot tell when it changed (a remote one) may get."""


class DefaultGraph(BaseModel):
    union: bool = Field(description="Whether the store's default graph showed its named graphs' triples")
    detail: str


class Health(BaseModel):
    status: str
    store: str
    storeKind: str = Field(
        description="oxigraph-served-by-lmkg, oxigraph-in-process, oxigraph, virtuoso, fuseki, graphdb or sparql"
    )
    defaultGraph: DefaultGraph = Field(description="The start-up check of the store's default graph")
    triples: int | None = Field(
        description="The triples in lmkg's graphs when last counted (null until the first count ends)"
    )
    models: int | None = Field(
        description="The model entries when last counted (null until the first count ends)"
    )
    countedAt: datetime | None = Field(
        default=None,
        description=(
            "When the counts were made. Counting scans every triple (seconds at 100,000 entries): it runs "
            "beside the requests after each change, and /health waits for it at most a second"
        ),
    )


@dataclass(frozen=True)
class _Counted:
    mark: object  # what _mark gave when the counting began
    triples: int
    models: int
    at: datetime
    monotonic: float


class StoreCounts:
    """The store's triple and model counts, made in a thread of their own after each change
    (Store.generation) so that a monitor polling /health never waits a whole scan; a request
    waits for a count it started for at most COUNT_WAIT_SECONDS."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self._lock = threading.Lock()
        self._counted: _Counted | None = None
        self._running: threading.Thread | None = None
        self._error: BaseException | None = None

    def _mark(self) -> tuple[object, bool]:
        """What moves when the store changes, and whether it sees every change: the store's
        change count, else (a remote store) the head of lmkg's change log, which other
        clients of the server writing beside lmkg do not move."""
        generation = self.kg.store.generation()
        if generation is not None:
            return generation, True
        return self.kg.last_change(), False

    def _fresh(self, mark: object, complete: bool) -> bool:
        counted = self._counted
        if counted is None or counted.mark != mark:
            return False
        return complete or time.monotonic() - counted.monotonic < UNTRACKED_RECOUNT_SECONDS

    def _count(self, mark: object) -> None:
        try:
            triples = self.kg.store.triple_count()
            models = self.kg.count_models()
        except BaseException as exc:  # reported to the request that waits for it
            with self._lock:
                self._error = exc
            return
        with self._lock:
            self._counted = _Counted(mark, triples, models, datetime.now(UTC), time.monotonic())
            self._error = None

    def read(self, wait: float = COUNT_WAIT_SECONDS) -> _Counted | None:
        mark, complete = self._mark()
        with self._lock:
            if self._fresh(mark, complete):
                return self._counted
            running = self._running
            if running is None or not running.is_alive():
                self._error = None
                running = self._running = threading.Thread(
                    target=self._count, args=(mark,), name="lmkg-health-count", daemon=True
                )
                running.start()
        running.join(wait)
        with self._lock:
            if self._error is not None and not running.is_alive():
                raise self._error
            return self._counted


@router.get("/health", response_model=Health)
def read_health(kg: KGDep, request: Request) -> Health:
    """Report whether the store answers (one ASK each time), what it is, and its triple and
    model counts as last made."""
    checked: DefaultGraphCheck = request.app.state.default_graph
    counts: StoreCounts = request.app.state.store_counts
    kg.store.ask("ASK { }")  # the store answers now, whatever the counts kept (503 when down)
    counted = counts.read()
    return Health(
        status="ok",
        store=kg.store_description,
        storeKind=store_kind(kg.store),
        defaultGraph=DefaultGraph(union=checked.union, detail=checked.detail),
        triples=counted.triples if counted else None,
        models=counted.models if counted else None,
        countedAt=counted.at if counted else None,
    )
