"""One base exception for lmkg, with a subclass per kind of failure."""

from __future__ import annotations


class LmkgError(Exception):
    """Base of every error lmkg raises on purpose; its message says what failed and where."""


class EntryError(LmkgError):
    """A model entry cannot be read: malformed JSON, wrong field types, a bad identifier."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


class StoreError(LmkgError):
    """The store failed or cannot be reached."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached now; a retry later may succeed."""


class StoreFailedError(StoreError):
    """The store answered with an error of its own, or refused a query lmkg wrote (HTTP 502):
    a fault of the store or of lmkg with it, which retrying will not mend."""


class QuerySyntaxError(LmkgError):
    """A SPARQL query or update does not parse; the message carries the line and column."""


class NotFoundError(LmkgError):
    """A model, class or named query does not exist."""


class ConflictError(LmkgError):
    """A model entry with this identifier already exists."""


class ReasoningError(LmkgError):
    """The reasoner found the knowledge graph inconsistent, or could not run."""


class QueryTimeoutError(LmkgError):
    """A query or update ran past LMKG_QUERY_TIMEOUT and was stopped (HTTP 503)."""


class StoreBusyError(LmkgError):
    """More queries are running than LMKG_MAX_CONCURRENT_QUERIES allows (HTTP 503, Retry-After)."""


class ForbiddenQueryError(LmkgError):
    """A query asks for something this server does not do for its users, e.g. SERVICE to an
    endpoint outside the allow-list (HTTP 400)."""
