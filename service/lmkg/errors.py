"""One base exception for lmkg, with a subclass per kind of failure.

Each class carries the HTTP status it is answered with (`status`, and `headers` such as
Retry-After); the app has one handler that reads them (lmkg.api.app). A fault of the client's
input is a 4xx; a fault of this server or its store is a 5xx, so the base class, raised when
nothing more specific applies, is a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class LmkgError(Exception):
    """Base of every error lmkg raises on purpose; its message says what failed and where."""

    status: ClassVar[int] = 500
    headers: ClassVar[Mapping[str, str]] = {}

    def problems_json(self) -> list[dict[str, str]] | None:
        """The fields at fault, for an answer's `problems` (None: the message says it all)."""
        return None

    @property
    def detail(self) -> str:
        """The message an HTTP answer carries."""
        return str(self)


class InputError(LmkgError):
    """What a request or command was given is not what it must be (a file of the wrong kind,
    a missing column); the message names what is wrong."""

    status = 400


class EntryError(InputError):
    """A model entry cannot be read: malformed JSON, wrong field types, a bad identifier."""

    status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))

    def problems_json(self) -> list[dict[str, str]]:
        return [{"where": field, "message": message} for field, message in self.problems]

    @property
    def detail(self) -> str:
        return f"The model entry cannot be read: {self}"


class QuerySyntaxError(InputError):
    """A SPARQL query or update does not parse; the message carries the line and column."""

    status = 400


class ForbiddenQueryError(InputError):
    """A query asks for something this server does not do for its users, e.g. SERVICE to an
    endpoint outside the allow-list."""

    status = 400


class NotFoundError(LmkgError):
    """A model, class or named query does not exist."""

    status = 404


class ConflictError(LmkgError):
    """A model entry with this identifier already exists."""

    status = 409


class StoreError(LmkgError):
    """The store failed or cannot be reached."""

    status = 503


class StoreUnavailableError(StoreError):
    """The store cannot be reached now; a retry later may succeed."""

    headers: ClassVar[Mapping[str, str]] = {"Retry-After": "5"}


class StoreFailedError(StoreError):
    """The store answered with an error of its own, or refused a query lmkg wrote (HTTP 502):
    a fault of the store or of lmkg with it, which retrying will not mend."""

    status = 502


class QueryTimeoutError(LmkgError):
    """A query or update ran past LMKG_QUERY_TIMEOUT and was stopped."""

    status = 503


class StoreBusyError(LmkgError):
    """More queries are running than LMKG_MAX_CONCURRENT_QUERIES allows; try again shortly."""

    status = 503
    headers: ClassVar[Mapping[str, str]] = {"Retry-After": "1"}


class ReasoningError(LmkgError):
    """The reasoner found the knowledge graph inconsistent, or could not run (a server fault)."""

    status = 500
