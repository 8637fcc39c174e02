"""The read index's columns: the SQLite projection (lmkg.readindex) held in memory as arrays.

DERIVED STATE of derived state. SQLite answers a page or a search in a millisecond, but a
filter over verdicts, a sort over a filtered set or a facet count walks every row there (1 to 2 s
at 100k entries). Here each worker process holds the columns those questions read, one numpy
array a column indexed by the SQLite row id, and answers with whole-array operations: a filter
is a boolean mask, a page is a partition of the filtered rows by their sort key (no full sort),
a facet is a bincount. What is shown (labels, ids, developers' names) is still read from SQLite,
for the page only.

Kept current from SQLite, not from the store: every write transaction of the index bumps
`meta.version` and stamps the rows it writes with it; removed rows are listed in `removed`.
Before answering, `Columns.catch_up` reads the rows stamped after the version it holds (in
the reader's snapshot, so that the page read from SQLite is of the same version), so a write
acknowledged by any worker is in the next read of every worker. A rebuild changes
`meta.epoch`; a worker holding another epoch, or one behind the removals kept, loads afresh.

Sort keys are integers kept by the writer in SQLite: `label_rank` and `release_rank` (equal
for equal keys, in the order of the text) and `iri_rank` (the tie-break); see
lmkg.readindex.place_rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

MISSING = np.iinfo(np.int64).max
"""The sort key of a row without a value: last in both directions."""

UNKNOWN = 2
"""A verdict or the open-weights flag when neither yes nor no is known."""

_SELECT = (
    "SELECT m.rowid, m.kind, m.licence, m.release_year, m.portable, m.cheap, m.fast, m.open_weights, "
    "m.parameter_count, m.label_rank, m.release_rank, m.iri_rank, length(m.label) FROM model m"
)
_CHUNK = 50_000
_MOVED_AT_MOST = 1000
"""The most rows a catch-up moves in the kept orders; past it they are made again when asked for."""


def _flag(value: int | None) -> int:
    return UNKNOWN if value is None else int(value)


@dataclass
class Codes:
    """Text values of a categorical column and their codes (the arrays hold codes)."""

    values: list[str | None] = field(default_factory=list)
    codes: dict[str | None, int] = field(default_factory=dict)

    def code(self, value: str | None) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found


@dataclass(frozen=True)
class Order:
    """Row ids in a sort's order, with their primary and tie-break keys (ascending, aligned)."""

    rows: Ints
    primary: Ints
    secondary: Ints


class Columns:
    """The columns of one index version (see the module docstring). `catch_up` changes them in
    place, so the owner (ReadIndex) catches up a `copy` under its lock and publishes that:
    readers answer from the version they took, outside the lock."""

    def __init__(self) -> None:
        self.epoch = ""
        self.version = -1
        self.alive: Mask = np.zeros(0, dtype=bool)
        self.kind: Ints = np.zeros(0, dtype=np.int64)
        self.licence: Ints = np.zeros(0, dtype=np.int64)
        self.year: Ints = np.zeros(0, dtype=np.int64)  # 0: no release date
        self.verdicts: dict[str, npt.NDArray[np.int8]] = {}
        self.size: Ints = np.zeros(0, dtype=np.int64)  # MISSING: no parameter count
        self.label_rank: Ints = np.zeros(0, dtype=np.int64)
        self.release_rank: Ints = np.zeros(0, dtype=np.int64)
        self.iri_rank: Ints = np.zeros(0, dtype=np.int64)
        self.label_length: Ints = np.zeros(0, dtype=np.int64)  # a search's relevance (lmkg.readindex)
        self.classes: dict[str, Mask] = {}
        self.dev_model: Ints = np.zeros(0, dtype=np.int64)
        self.dev_name: Ints = np.zeros(0, dtype=np.int64)
        self.org_model: Ints = np.zeros(0, dtype=np.int64)  # (model, organisation) pairs
        self.org: Ints = np.zeros(0, dtype=np.int64)
        self.orgs = Codes()
        self.kinds = Codes()
        self.licences = Codes()
        self.names = Codes()
        self.class_names = Codes()
        # The charts' sample of this version: ((epoch, version, step), row ids), see ReadIndex.charts.
        self.chart_order: tuple[tuple[str, int, int], Ints] = (("", -1, 0), np.zeros(0, dtype=np.int64))
        # Every live row in a sort's order, made by the first reader that asks (see `ordered`).
        self.orders: dict[tuple[str, bool], Order] = {}

    def copy(self) -> Columns:
        """Columns that `catch_up` may change while readers keep answering from these."""
        other = Columns.__new__(Columns)
        other.__dict__.update(self.__dict__)
        for name in (
            "alive", "kind", "licence", "year", "size", "label_rank", "release_rank", "iri_rank",
            "label_length", "dev_model", "dev_name", "org_model", "org",
        ):  # fmt: skip
            setattr(other, name, getattr(self, name).copy())
        other.verdicts = {name: array.copy() for name, array in self.verdicts.items()}
        other.classes = {name: member.copy() for name, member in self.classes.items()}
        for name in ("orgs", "kinds", "licences", "names", "class_names"):
            codes: Codes = getattr(self, name)
            setattr(other, name, Codes(list(codes.values), dict(codes.codes)))
        other.orders = dict(self.orders)  # moved along by catch_up, or dropped
        return other

    # -- loading ----------------------------------------------------------------------

    def _grow(self, capacity: int) -> None:
        old = len(self.alive)
        if capacity <= old:
            return
        capacity = max(capacity, old + old // 2 + 16)

        def grown(array: npt.NDArray[Any], fill: Any) -> npt.NDArray[Any]:
            bigger = np.full(capacity, fill, dtype=array.dtype)
            bigger[:old] = array
            return bigger

        self.alive = grown(self.alive, False)
        self.kind = grown(self.kind, 0)
        self.licence = grown(self.licence, 0)
        self.year = grown(self.year, 0)
        self.size = grown(self.size, MISSING)
        self.label_rank = grown(self.label_rank, MISSING)
        self.release_rank = grown(self.release_rank, MISSING)
        self.iri_rank = grown(self.iri_rank, MISSING)
        self.label_length = grown(self.label_length, 0)
        for name in ("portable", "cheap", "fast", "open_weights"):
            self.verdicts[name] = grown(self.verdicts.get(name, np.zeros(0, dtype=np.int8)), UNKNOWN)
        for cls, member in self.classes.items():
            self.classes[cls] = grown(member, False)

    def catch_up(self, db: Any) -> None:
        """Bring the columns to the version of `db`'s snapshot (a read transaction is open)."""
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('epoch', 'version', 'floor')"))
        epoch = str(meta.get("epoch") or "")
        version = int(meta.get("version") or 0)
        floor = int(meta.get("floor") or 0)
        if epoch != self.epoch or self.version < floor:
            self._load(db, epoch, version)
            return
        if version == self.version:
            return
        changed = db.execute("SELECT count(*) FROM model WHERE version > ?", (self.version,)).fetchone()[0]
        if changed > max(1000, len(self.alive) // 4):
            self._load(db, epoch, version)  # a renumbering or a large import: all at once
            return
        gone = [r[0] for r in db.execute("SELECT model FROM removed WHERE version > ?", (self.version,))]
        where = f" WHERE m.version > {int(self.version)}"
        changed_rows = f" WHERE model IN (SELECT rowid FROM model WHERE version > {int(self.version)})"
        rows = db.execute(_SELECT + where).fetchall()
        changed_ids = np.array(sorted({*gone, *(r[0] for r in rows)}), dtype=np.int64)
        touched = changed_ids[changed_ids < len(self.alive)]
        self.alive[touched] = False
        for member in self.classes.values():
            member[touched] = False
        if len(touched) and len(self.dev_model):
            keep = ~np.isin(self.dev_model, touched)
            self.dev_model, self.dev_name = self.dev_model[keep], self.dev_name[keep]
        if len(touched) and len(self.org_model):
            keep = ~np.isin(self.org_model, touched)
            self.org_model, self.org = self.org_model[keep], self.org[keep]
        self._put(rows)
        self._put_children(db, changed_rows)
        self.version = version
        self._move_orders(changed_ids[changed_ids < len(self.alive)])  # new rows too

    def _load(self, db: Any, epoch: str, version: int) -> None:
        fresh = Columns()
        top = db.execute("SELECT max(rowid) FROM model").fetchone()[0] or 0
        fresh._grow(int(top) + 1)
        cursor = db.execute(_SELECT)
        while True:
            rows = cursor.fetchmany(_CHUNK)
            if not rows:
                break
            fresh._put(rows)
        fresh._put_children(db, "")
        fresh.epoch, fresh.version = epoch, version
        self.__dict__.update(fresh.__dict__)  # with no orders kept

    def _put(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        self._grow(int(ids.max()) + 1)
        self.alive[ids] = True
        self.kind[ids] = [self.kinds.code(r[1]) for r in rows]
        self.licence[ids] = [self.licences.code(r[2]) for r in rows]
        self.year[ids] = [r[3] or 0 for r in rows]
        for column, name in ((4, "portable"), (5, "cheap"), (6, "fast"), (7, "open_weights")):
            self.verdicts[name][ids] = [_flag(r[column]) for r in rows]
        for column, target in (
            (8, self.size),
            (9, self.label_rank),
            (10, self.release_rank),
            (11, self.iri_rank),
        ):
            target[ids] = [MISSING if r[column] is None else r[column] for r in rows]
        self.label_length[ids] = [r[12] or 0 for r in rows]

    def _put_children(self, db: Any, where: str) -> None:
        """Class memberships, organisations and developers' names of the rows `where` selects
        (a WHERE clause on `model`; all rows when empty)."""
        if where:
            classes: dict[str, list[int]] = {}
            for model, cls in db.execute(f"SELECT model, class FROM model_class{where}"):
                classes.setdefault(cls, []).append(model)
            members = {cls: np.array(models, dtype=np.int64) for cls, models in classes.items()}
        else:  # everything: one index range per class
            members = {
                cls: np.fromiter(
                    (r[0] for r in db.execute("SELECT model FROM model_class WHERE class = ?", (cls,))),
                    dtype=np.int64,
                )
                for (cls,) in db.execute("SELECT DISTINCT class FROM model_class").fetchall()
            }
        for column, codes, target in (("name", self.names, "dev"), ("org", self.orgs, "org")):
            models_list: list[int] = []
            values: list[int] = []
            code = codes.code
            for model, value in db.execute(f"SELECT DISTINCT model, {column} FROM developer{where}"):
                models_list.append(model)
                values.append(code(value))
            if models_list:
                if target == "dev":
                    self.dev_model = np.concatenate([self.dev_model, np.array(models_list, dtype=np.int64)])
                    self.dev_name = np.concatenate([self.dev_name, np.array(values, dtype=np.int64)])
                else:
                    self.org_model = np.concatenate([self.org_model, np.array(models_list, dtype=np.int64)])
                    self.org = np.concatenate([self.org, np.array(values, dtype=np.int64)])
        for cls, rows in members.items():
            member = self.classes.get(cls)
            if member is None:
                self.class_names.code(cls)
                member = self.classes[cls] = np.zeros(len(self.alive), dtype=bool)
            member[rows] = True

    def developed_by(self, orgs: Iterable[str]) -> Ints:
        """The rows of models developed by any of `orgs` (organisation IRIs)."""
        codes = [self.orgs.codes[o] for o in orgs if o in self.orgs.codes]
        if not codes or not len(self.org_model):
            return np.zeros(0, dtype=np.int64)
        by = self.org == codes[0] if len(codes) == 1 else np.isin(self.org, codes)
        chosen = np.zeros(len(self.alive), dtype=bool)  # a mask, not np.unique's sort or hash
        chosen[self.org_model[by]] = True
        return np.flatnonzero(chosen)

    # -- answering ----------------------------------------------------------------------

    def mask(
        self,
        *,
        kind: str | None = None,
        verdicts: Iterable[tuple[str, int]] = (),
        capability: str | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        among: Ints | None = None,
    ) -> Mask:
        """The rows that pass every filter given (`among`: row ids another index chose)."""
        selected = self.alive.copy()
        if kind is not None:
            code = self.kinds.codes.get(kind)
            selected &= self.kind == code if code is not None else False
        for name, value in verdicts:
            selected &= self.verdicts[name] == value
        if capability is not None:
            member = self.classes.get(capability)
            if member is None:
                selected[:] = False
            else:
                selected &= member
        if min_size is not None:
            selected &= (self.size != MISSING) & (self.size >= min_size)
        if max_size is not None:
            selected &= self.size <= max_size  # MISSING is above any bound
        if among is not None:
            chosen = np.zeros(len(selected), dtype=bool)
            among = among[(among >= 0) & (among < len(selected))]
            chosen[among] = True
            selected &= chosen
        return selected

    def sort_keys(self, sort: str, descending: bool, rows: Ints) -> tuple[Ints, Ints]:
        """The primary and tie-break keys of `rows` for a sort, both ascending: missing values
        last either way, ties by IRI (as the reference orders)."""
        if sort == "id":
            ranks = self.iri_rank[rows]
            return (-ranks if descending else ranks), np.zeros(len(rows), dtype=np.int64)
        column = {"label": self.label_rank, "parameterCount": self.size, "releaseDate": self.release_rank}[
            sort
        ]
        key = column[rows]
        if descending:
            key = np.where(key == MISSING, MISSING, -key)
        return key, self.iri_rank[rows]

    def ordered(self, sort: str, descending: bool) -> Ints:
        """Every live row in the order of a sort (`sort_keys`), kept with these columns: a page
        is then the filter's mask read in this order and sliced, where a partition of the
        filtered rows by their keys cost 2 ms of a 3 ms answer at 100,000 entries. Made by the
        first reader that asks for the sort (a full sort: 10 ms at 100,000), then moved along
        by each catch-up (`_move_orders`)."""
        kept = self.orders.get((sort, descending))
        if kept is None:
            rows = np.flatnonzero(self.alive)
            primary, secondary = self.sort_keys(sort, descending, rows)
            at = np.lexsort((secondary, primary))
            kept = self.orders[(sort, descending)] = Order(rows[at], primary[at], secondary[at])
        return kept.rows

    def _move_orders(self, touched: Ints) -> None:
        """Each kept order without the rows a catch-up touched, and with those of them now
        alive put back where their keys say: a few binary searches and one copy, not a sort.
        Past `_MOVED_AT_MOST` rows, the orders are dropped and made again when asked for."""
        if not self.orders or not len(touched):
            return
        if len(touched) > _MOVED_AT_MOST:
            self.orders = {}
            return
        back = touched[self.alive[touched]]
        for (sort, descending), order in list(self.orders.items()):
            keep = ~np.isin(order.rows, touched)
            rows, primary, secondary = order.rows[keep], order.primary[keep], order.secondary[keep]
            if len(back):
                new_primary, new_secondary = self.sort_keys(sort, descending, back)
                # In their own order: rows that fall in the same gap go in as they are given.
                own = np.lexsort((new_secondary, new_primary))
                new_rows, new_primary, new_secondary = back[own], new_primary[own], new_secondary[own]
                at = np.empty(len(back), dtype=np.int64)
                for i in range(len(back)):
                    low = int(np.searchsorted(primary, new_primary[i], side="left"))
                    high = int(np.searchsorted(primary, new_primary[i], side="right"))
                    at[i] = low + int(np.searchsorted(secondary[low:high], new_secondary[i], side="left"))
                rows = np.insert(rows, at, new_rows)
                primary = np.insert(primary, at, new_primary)
                secondary = np.insert(secondary, at, new_secondary)
            self.orders[(sort, descending)] = Order(rows, primary, secondary)

    def facets(self, rows: Ints, limit: int) -> dict[str, dict[str, int]]:
        """Counts per value of each facet among `rows`, as the SQLite answer had them."""
        out: dict[str, dict[str, int]] = {}

        selected = np.zeros(len(self.alive), dtype=bool)
        selected[rows] = True

        def counted(column: Ints, codes: Codes) -> dict[str | None, int]:
            counts = _counts(column, selected, rows, len(codes.values))
            return {codes.values[i]: int(n) for i in np.flatnonzero(counts) for n in (counts[i],)}

        kinds = counted(self.kind, self.kinds)
        out["kind"] = dict(sorted((str(k), n) for k, n in kinds.items()))
        on = selected[self.dev_model] if len(self.dev_model) else np.zeros(0, dtype=bool)
        by_name = np.bincount(self.dev_name[on], minlength=len(self.names.values))
        developers = {self.names.values[i]: int(by_name[i]) for i in np.flatnonzero(by_name)}
        out["developer"] = dict(
            sorted(((str(k), n) for k, n in developers.items()), key=lambda i: (-i[1], i[0]))[:limit]
        )
        licences = counted(self.licence, self.licences)
        out["license"] = dict(
            sorted(
                (("unknown" if k is None else k, n) for k, n in licences.items()), key=lambda i: (-i[1], i[0])
            )[:limit]
        )
        years = self.year[rows]
        low = int(years.min()) if len(years) else 0
        by_year = np.bincount(years - low) if len(years) else np.zeros(0, dtype=np.int64)
        out["year"] = dict(
            sorted(
                ("unknown" if low + i == 0 else str(low + i), int(by_year[i]))
                for i in np.flatnonzero(by_year)
            )
        )
        words = {0: "false", 1: "true", UNKNOWN: "unknown"}
        for name, column in (
            ("cheapToFineTune", "cheap"),
            ("fast", "fast"),
            ("openWeights", "open_weights"),
            ("portable", "portable"),
        ):
            counts = _counts(self.verdicts[column], selected, rows, 3)
            out[name] = dict(
                sorted(
                    ((words[i], int(counts[i])) for i in range(3) if counts[i]), key=lambda i: (-i[1], i[0])
                )
            )
        return out


FEW_CODES = 8
"""Codes up to which a facet is counted by comparing each code, not by np.bincount."""


def _counts(column: npt.NDArray[Any], selected: Mask, rows: Ints, codes: int) -> Ints:
    """How many of the `selected` rows (`rows`, the same as ids) hold each code 0..codes-1 of
    `column`. Few codes: a comparison each over the mask, 0.03 ms at 100,000 rows; np.bincount
    of the rows' codes casts each to a machine integer first (0.6 ms a facet, and a page with
    facets counts seven)."""
    if codes <= FEW_CODES:
        return np.array([np.count_nonzero((column == code) & selected) for code in range(codes)], dtype=np.int64)
    return np.bincount(column[rows], minlength=codes)


def ordered_page(order: Ints, selected: Mask, offset: int, limit: int) -> Ints:
    """The row ids at [offset, offset + limit) of the `selected` rows, in `order`'s order."""
    return order[selected[order]][offset : offset + limit]


def page(
    rows: Ints, primary: Ints | npt.NDArray[np.float64], secondary: Ints, offset: int, limit: int
) -> Ints:
    """The row ids at [offset, offset + limit) of `rows` ordered by (primary, secondary) (keys
    aligned with `rows`), without sorting them all: two partitions cut the window, and only
    the window (with the ties at its edges) is sorted."""
    end = min(offset + limit, len(rows))
    if offset >= end:
        return np.zeros(0, dtype=np.int64)
    if end - offset < len(rows):
        kth = sorted({offset, end - 1})
        parted = np.partition(primary, kth)
        low, high = parted[offset], parted[end - 1]
        before = int(np.count_nonzero(primary < low))
        keep = (primary >= low) & (primary <= high)
        rows, primary, secondary = rows[keep], primary[keep], secondary[keep]
        offset, end = offset - before, end - before
    order = np.lexsort((secondary, primary))
    return rows[order[offset:end]]


def group_counts(keys: Sequence[Ints]) -> list[tuple[int, ...]]:
    """(key values..., count) for each distinct combination of the aligned integer `keys`,
    ordered: the keys folded into one integer (mixed radix), then one bincount."""
    if not len(keys[0]):
        return []
    lows = [int(k.min()) for k in keys]
    spans = [int(k.max()) - low + 1 for k, low in zip(keys, lows, strict=True)]
    folded = np.zeros(len(keys[0]), dtype=np.int64)
    for key, low, span in zip(keys, lows, spans, strict=True):
        folded = folded * span + (key - low)
    counts = np.bincount(folded)
    codes = np.flatnonzero(counts)
    digits = []  # each key's values, unfolded for every code at once
    rest = codes
    for low, span in zip(reversed(lows), reversed(spans), strict=True):
        rest, digit = np.divmod(rest, span)
        digits.append((digit + low).tolist())
    return list(zip(*reversed(digits), counts[codes].tolist(), strict=True))
