"""The profile model: per-column statistics and sketches, and how two profiles merge.

A :class:`Profile` holds the row count and, per column, a
:class:`ColumnProfile`: type, null/NaN/infinity counts, min, max, mean and the
sum of squared deviations ``m2`` (merged with Chan et al.'s parallel formula),
a KLL quantile sketch (numeric columns), a HyperLogLog distinct count and,
for string, dictionary and bool columns, value counts. Nested and binary
columns are listed in ``skipped`` with the reason. ``a.merge(b)`` is the
profile of both tables' rows. The canonical bytes are :mod:`.codec`'s job.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Protocol, TypeVar

import numpy as np

from dvx import hashing
from dvx.quality.sketches import DistinctSketch, FrequentItems, QuantileSketch

NUMERIC = "numeric"
CATEGORICAL = "categorical"
NULL = "null"


@dataclasses.dataclass
class ColumnProfile:
    """Profile of one column. ``count`` is the row count; ``valid`` values are
    neither null nor NaN; moments, min and max cover finite values only."""

    name: str
    type: str
    kind: str
    count: int = 0
    null_count: int = 0
    nan_count: int = 0
    posinf_count: int = 0
    neginf_count: int = 0
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    m2: float = 0.0
    finite_count: int = 0
    quantiles: QuantileSketch | None = None
    distinct: DistinctSketch | None = None
    top: FrequentItems | None = None

    @property
    def valid_count(self) -> int:
        """Values that are neither null nor NaN."""
        return self.count - self.null_count - self.nan_count

    @property
    def missing_rate(self) -> float | None:
        """(nulls + NaN) / rows; None for an empty table."""
        return (self.null_count + self.nan_count) / self.count if self.count else None

    @property
    def variance(self) -> float | None:
        """Population variance of the finite values."""
        return self.m2 / self.finite_count if self.finite_count else None

    @property
    def std(self) -> float | None:
        """Population standard deviation of the finite values."""
        v = self.variance
        return math.sqrt(v) if v is not None else None

    @property
    def distinct_count(self) -> int | None:
        """Distinct non-null values: exact from the value counts when those are
        exact, else the HyperLogLog estimate (:attr:`distinct_approximate`),
        clamped to the non-null values (an estimate never exceeds what it counts)."""
        if self.top is not None and self.top.exact:
            return len(self.top.counts)
        if self.distinct is None:
            return None
        return max(0, min(int(round(self.distinct.estimate())), self.valid_count))

    @property
    def distinct_approximate(self) -> bool:
        """Whether :attr:`distinct_count` is an estimate (HyperLogLog) rather than counted."""
        return not (self.top is not None and self.top.exact) and self.distinct is not None

    def quantile(self, q: float) -> float | None:
        """The value at normalised rank q (numeric columns), None when empty."""
        if self.quantiles is None or self.quantiles.n == 0:
            return None
        return float(self.quantiles.quantiles(np.array([q]))[0])

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """Profile of both columns' values (same name and kind)."""
        out = ColumnProfile(self.name, self.type if self.type == other.type else f"{self.type}|{other.type}",
                            self.kind)
        out.count = self.count + other.count
        out.null_count = self.null_count + other.null_count
        out.nan_count = self.nan_count + other.nan_count
        out.posinf_count = self.posinf_count + other.posinf_count
        out.neginf_count = self.neginf_count + other.neginf_count
        out.min = _pick(min, self.min, other.min)
        out.max = _pick(max, self.max, other.max)
        out.finite_count, out.mean, out.m2 = chan_merge(
            self.finite_count, self.mean, self.m2, other.finite_count, other.mean, other.m2)
        out.quantiles = _merge_optional(self.quantiles, other.quantiles)
        out.distinct = _merge_optional(self.distinct, other.distinct)
        out.top = _merge_optional(self.top, other.top)
        return out

    def with_extra_nulls(self, rows: int) -> ColumnProfile:
        """This column as if ``rows`` more all-null rows were appended (a part
        of a merged dataset that lacks the column)."""
        out = dataclasses.replace(self)
        out.count += rows
        out.null_count += rows
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (no NaN or infinity anywhere)."""
        from dvx.quality.profile.codec import column_to_dict  # the codec builds model objects

        return column_to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnProfile:
        """Inverse of :meth:`to_dict`."""
        from dvx.quality.profile.codec import column_from_dict

        return column_from_dict(d)


@dataclasses.dataclass(frozen=True)
class SkippedColumn:
    """A column without a profile (nested or binary type)."""

    name: str
    type: str
    reason: str


@dataclasses.dataclass
class Profile:
    """Row count, per-column profiles (schema order) and skipped columns."""

    row_count: int = 0
    columns: dict[str, ColumnProfile] = dataclasses.field(default_factory=dict)
    skipped: dict[str, SkippedColumn] = dataclasses.field(default_factory=dict)

    def merge(self, other: Profile) -> Profile:
        """Profile of the rows of both (e.g. two files of one directory).

        A column present in one part only counts as null in the other's rows;
        a column whose kind differs between the parts becomes skipped.
        """
        out = Profile(self.row_count + other.row_count)
        out.skipped = {**self.skipped, **other.skipped}
        names = list(self.columns) + [n for n in other.columns if n not in self.columns]
        for name in names:
            if name in out.skipped:
                continue
            a, b = self.columns.get(name), other.columns.get(name)
            if a is None and b is not None:
                out.columns[name] = b.with_extra_nulls(self.row_count)
            elif b is None and a is not None:
                out.columns[name] = a.with_extra_nulls(other.row_count)
            elif a is not None and b is not None:
                if a.kind == b.kind or NULL in (a.kind, b.kind):
                    out.columns[name] = _merge_kinds(a, b)
                else:
                    out.skipped[name] = SkippedColumn(
                        name, f"{a.type}|{b.type}", "type differs between the merged parts")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (see :meth:`to_bytes`)."""
        from dvx.quality.profile.codec import profile_to_dict  # the codec builds model objects

        return profile_to_dict(self)

    def to_bytes(self) -> bytes:
        """Canonical UTF-8 JSON: sorted keys, no spaces, no NaN; the same
        profile always gives the same bytes."""
        from dvx.quality.profile.codec import encode

        return encode(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`; ValueError on another format or version."""
        from dvx.quality.profile.codec import profile_from_dict

        return profile_from_dict(d)

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Parse :meth:`to_bytes` output; ValueError when it is not a profile."""
        from dvx.quality.profile.codec import decode

        return decode(data)

    @property
    def oid(self) -> str:
        """xxh3-128 id of :meth:`to_bytes` (the profile's name in the store)."""
        return hashing.hash_hex(self.to_bytes())


def chan_merge(na: int, ma: float | None, m2a: float, nb: int, mb: float | None, m2b: float
               ) -> tuple[int, float | None, float]:
    """Chan et al.'s pairwise update of (count, mean, M2)."""
    if na == 0 or ma is None:
        return nb, mb, m2b
    if nb == 0 or mb is None:
        return na, ma, m2a
    n = na + nb
    delta = mb - ma
    mean = ma + delta * nb / n
    m2 = m2a + m2b + delta * delta * na * nb / n
    return n, mean, m2


def _pick(f: Any, a: Any, b: Any) -> Any:
    """f(a, b) of two optional bounds; a number and a string (merged kinds) keep ``a``."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, str) != isinstance(b, str):
        return a
    return f(a, b)


class _Mergeable(Protocol):
    def merge(self, other: Any, /) -> Any: ...


_S = TypeVar("_S", bound=_Mergeable)


def _merge_optional(a: _S | None, b: _S | None) -> _S | None:
    if a is None:
        return b
    if b is None:
        return a
    merged: _S = a.merge(b)
    return merged


def _merge_kinds(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    """Merge two parts of a column where one part may be all-null (kind null)."""
    if a.kind == NULL and b.kind != NULL:
        return b.with_extra_nulls(a.count)
    if b.kind == NULL and a.kind != NULL:
        return a.with_extra_nulls(b.count)
    return a.merge(b)
