"""A GraphWrite in the form the embedded store applies fastest: N-Quads, and what to remove.

A batch of 1,000 entries is about 15,000 quads. As one SPARQL Update (DROP GRAPH and DELETE
WHERE for each entry, then INSERT DATA) the engine parses a few megabytes of SPARQL and runs
2,000 operations; as N-Quads it parses the quads alone, several times faster, and loads them in
one transaction. The removals are needed only where the store holds something to remove, which
the store checks under its write lock, with the write: a batch of new entries (an import) is one
load; a batch that replaces entries is one SPARQL Update, as before.

The quads are written by lmkg.store.sparqltext, the one writer of terms (blank nodes
relabelled there). Text, not rdflib terms, crosses to the engine process: one string pickles
far faster than thousands of objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lmkg.store.base import GraphWrite
from lmkg.store.sparqltext import nquads


@dataclass(frozen=True)
class PreparedWrite:
    """One atomic change: remove `replace`'s graphs and the inferred triples of
    `inferred_subjects`, then add `nquads`; all of it or none of it, when the conditions hold."""

    nquads: str
    replace: tuple[str, ...] = ()  # graph IRIs
    inferred_subjects: tuple[str, ...] = ()  # subject IRIs
    require_absent: dict[str, str] = field(default_factory=dict)  # graph IRI -> ConflictError message
    require_present: dict[str, str] = field(default_factory=dict)  # graph IRI -> NotFoundError message
    bulk: bool = False  # GraphWrite.bulk


def prepare_write(change: GraphWrite) -> PreparedWrite:
    """The change as N-Quads to add and IRIs of what to remove first."""
    return PreparedWrite(
        nquads=nquads({**change.add, **change.replace}, change.inferred),
        replace=tuple(str(g) for g in change.replace),
        inferred_subjects=tuple(sorted(str(s) for s in change.inferred_subjects)),
        require_absent={str(g): message for g, message in change.require_absent.items()},
        require_present={str(g): message for g, message in change.require_present.items()},
        bulk=change.bulk,
    )
