"""Statistical profiles of tabular datasets: one streaming pass, mergeable.

A :class:`Profile` holds the row count and, per column, a
:class:`ColumnProfile`: type, null/NaN/infinity counts, min, max, mean and the
sum of squared deviations ``m2`` (merged with Chan et al.'s parallel formula),
a KLL quantile sketch (numeric columns), a HyperLogLog distinct count and,
for string, dictionary and bool columns, value counts (exact while a column
has at most 1000 distinct values). Nested and binary columns are listed in
``skipped`` with the reason.

Profiles merge (``a.merge(b)`` is the profile of both tables' rows) and
serialise to canonical JSON (sorted keys, sketches in base64): the same data
always gives the same bytes, so ``profile.oid`` (xxh3-128) can name it in the
object store. Histograms are not stored: drift derives common bins for two
profiles from their quantile sketches at comparison time.

The pass uses pyarrow.compute and numpy on whole record batches; memory is one
batch plus the sketches (about 30 KiB a column).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from dvx import hashing
from dvx.errors import DataFormatError
from dvx.quality.sketches import (
    DistinctSketch,
    FrequentItems,
    QuantileSketch,
    arrow_int64,
    arrow_strings,
    hash_float64,
    hash_int64,
    hash_strings,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from dvx.quality.sources import TableRef

FORMAT = "dvx-profile"
FORMAT_VERSION = 1

NUMERIC = "numeric"
CATEGORICAL = "categorical"
NULL = "null"

# Distinct values counted exactly per categorical column before the counts
# become a Misra-Gries summary (error <= rows / 1001).
TOPK_CAP = 1000
# Rows a plain string column is counted in at once (see _count_strings).
_STRING_CHUNK = 131072
# log2 of hash buckets per row in that count (see _count_strings)
_BUCKET_BITS = 3


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
        exact, else the HyperLogLog estimate."""
        if self.top is not None and self.top.exact:
            return len(self.top.counts)
        if self.distinct is None:
            return None
        return int(round(self.distinct.estimate()))

    def quantile(self, q: float) -> float | None:
        """The value at normalised rank q (numeric columns), None when empty."""
        if self.quantiles is None or self.quantiles.n == 0:
            return None
        return float(self.quantiles.quantiles(np.array([q]))[0])

    # -- merge --------------------------------------------------------------

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
        out.finite_count, out.mean, out.m2 = _chan(
            self.finite_count, self.mean, self.m2, other.finite_count, other.mean, other.m2)
        out.quantiles = _merge_opt(self.quantiles, other.quantiles)
        out.distinct = _merge_opt(self.distinct, other.distinct)
        out.top = _merge_opt(self.top, other.top)
        return out

    def with_extra_nulls(self, rows: int) -> ColumnProfile:
        """This column as if ``rows`` more all-null rows were appended (a part
        of a merged dataset that lacks the column)."""
        out = dataclasses.replace(self)
        out.count += rows
        out.null_count += rows
        return out

    # -- serialisation ------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (no NaN or infinity anywhere)."""
        d: dict[str, Any] = {
            "name": self.name, "type": self.type, "kind": self.kind, "count": self.count,
            "null_count": self.null_count, "nan_count": self.nan_count,
            "posinf_count": self.posinf_count, "neginf_count": self.neginf_count,
            "min": _finite_or_none(self.min), "max": _finite_or_none(self.max),
            "mean": _finite_or_none(self.mean), "m2": _finite_or_none(self.m2) or 0.0,
            "finite_count": self.finite_count,
        }
        if self.quantiles is not None:
            d["quantiles"] = self.quantiles.to_dict()
        if self.distinct is not None:
            d["distinct"] = self.distinct.to_dict()
        if self.top is not None:
            d["top"] = self.top.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnProfile:
        """Inverse of :meth:`to_dict`."""
        c = cls(str(d["name"]), str(d["type"]), str(d["kind"]))
        for f in ("count", "null_count", "nan_count", "posinf_count", "neginf_count", "finite_count"):
            setattr(c, f, int(d[f]))
        c.min, c.max, c.mean, c.m2 = d["min"], d["max"], d["mean"], float(d["m2"])
        if "quantiles" in d:
            lo = float(c.min) if isinstance(c.min, (int, float)) else math.inf
            hi = float(c.max) if isinstance(c.max, (int, float)) else -math.inf
            c.quantiles = QuantileSketch.from_dict(d["quantiles"], lo, hi)
        if "distinct" in d:
            c.distinct = DistinctSketch.from_dict(d["distinct"])
        if "top" in d:
            c.top = FrequentItems.from_dict(d["top"])
        return c


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
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "row_count": self.row_count,
            "columns": [c.to_dict() for c in self.columns.values()],
            "skipped": [dataclasses.asdict(s) for s in self.skipped.values()],
        }

    def to_bytes(self) -> bytes:
        """Canonical UTF-8 JSON: sorted keys, no spaces, no NaN; the same
        profile always gives the same bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          allow_nan=False, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`; ValueError on another format or version."""
        if d.get("format") != FORMAT:
            raise ValueError("not a dvx profile")
        if int(d.get("version", -1)) != FORMAT_VERSION:
            raise ValueError(f"profile format version {d.get('version')} is not {FORMAT_VERSION}")
        p = cls(int(d["row_count"]))
        for cd in d["columns"]:
            c = ColumnProfile.from_dict(cd)
            p.columns[c.name] = c
        for sd in d["skipped"]:
            p.skipped[sd["name"]] = SkippedColumn(sd["name"], sd["type"], sd["reason"])
        return p

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Parse :meth:`to_bytes` output; ValueError when it is not a profile."""
        # A profile object can come from a hostile remote: every way the JSON or
        # its fields can be wrong ends as ValueError (a stored copy is then unused).
        try:
            d = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError) as e:  # not UTF-8, not JSON, nested too deeply, huge int
            raise ValueError(f"not a dvx profile: {str(e)[:120]}") from e
        if not isinstance(d, dict):
            raise ValueError("not a dvx profile: not a JSON object")
        try:
            return cls.from_dict(d)
        except (KeyError, TypeError, AttributeError, IndexError, OverflowError, RecursionError) as e:
            raise ValueError(f"malformed dvx profile: missing or bad {str(e)[:120]}") from e

    @property
    def oid(self) -> str:
        """xxh3-128 id of :meth:`to_bytes` (the profile's name in the store)."""
        return hashing.hash_hex(self.to_bytes())


# --------------------------------------------------------------------------
# building


def _classify(t: pa.DataType) -> tuple[str | None, str, str]:
    """(kind or None when skipped, normalised type string, skip reason)."""
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_dictionary(t):
        kind, name, reason = _classify(t.value_type)
        return kind, name, reason
    if pt.is_string(t) or pt.is_large_string(t) or pt.is_string_view(t):
        return CATEGORICAL, "string", ""
    if pt.is_boolean(t):
        return CATEGORICAL, "bool", ""
    if pt.is_integer(t) or pt.is_floating(t) or pt.is_decimal(t):
        return NUMERIC, str(t), ""
    if pt.is_temporal(t):
        return NUMERIC, str(t), ""
    if pt.is_null(t):
        return NULL, "null", ""
    if pt.is_binary(t) or pt.is_large_binary(t) or pt.is_fixed_size_binary(t) or pt.is_binary_view(t):
        return None, str(t), "binary values have no profile"
    if pt.is_nested(t) or isinstance(t, pa.ExtensionType):
        return None, str(t), "nested values have no profile"
    return None, str(t), f"type {t} has no profile"


class _ColumnBuilder:
    """Accumulates one column's profile batch by batch."""

    def __init__(self, name: str, kind: str, type_name: str, arrow_type: pa.DataType) -> None:
        import pyarrow.types as pt

        self.col = ColumnProfile(name, type_name, kind)
        t = arrow_type.value_type if pt.is_dictionary(arrow_type) else arrow_type
        self.is_float = pt.is_floating(t) or pt.is_decimal(t)
        self.is_temporal = pt.is_temporal(t)
        self.is_bool = pt.is_boolean(t)
        if kind == NUMERIC:
            self.col.quantiles = QuantileSketch()
            self.col.distinct = DistinctSketch()
        elif kind == CATEGORICAL:
            self.col.top = FrequentItems(TOPK_CAP)
            self.col.distinct = DistinctSketch()
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0
        # a dictionary whose counts are still being summed (_add_categorical)
        self._dict: pa.Array | None = None
        self._dict_counts: np.ndarray | None = None

    def add(self, arr: pa.Array) -> None:
        import pyarrow.types as pt

        c = self.col
        c.count += len(arr)
        c.null_count += arr.null_count
        if c.kind == NULL or len(arr) == arr.null_count:
            return
        if pt.is_dictionary(arr.type) and c.kind == NUMERIC:
            arr = arr.dictionary_decode()
        if c.kind == NUMERIC:
            self._add_numeric(arr)
        else:
            self._add_categorical(arr)

    def _add_numeric(self, arr: pa.Array) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        c = self.col
        if arr.null_count:
            arr = pc.drop_null(arr)
        if self.is_temporal:
            arr = arr.view(pa.int64()) if arr.type.bit_width == 64 else arr.cast(pa.int32()).cast(pa.int64())
        elif pa.types.is_decimal(arr.type):
            arr = arr.cast(pa.float64())
        v = _numpy_view(arr)
        if self.is_float:
            vf = v.astype(np.float64, copy=False)
            finite = np.isfinite(vf)
            if not finite.all():
                nan = np.isnan(vf)
                c.nan_count += int(nan.sum())
                c.posinf_count += int(np.count_nonzero(vf == np.inf))
                c.neginf_count += int(np.count_nonzero(vf == -np.inf))
                vf = vf[finite]
            hashes = hash_float64(vf)
        else:
            hashes = hash_int64(v)
            vf = v.astype(np.float64)
        n = len(vf)
        if n == 0:
            return
        lo, hi = float(vf.min()), float(vf.max())
        c.min = lo if c.min is None else min(float(c.min), lo)
        c.max = hi if c.max is None else max(float(c.max), hi)
        mean = float(vf.mean())
        d = vf - mean
        # einsum, not d @ d: BLAS dot spawns threads and took 116 ns a value
        # on a loaded 2-core machine against 1.4 for einsum.
        m2 = float(np.einsum("i,i->", d, d))
        self._n, new_mean, self._m2 = _chan(self._n, self._mean if self._n else None, self._m2, n, mean, m2)
        self._mean = mean if new_mean is None else new_mean
        assert c.quantiles is not None and c.distinct is not None
        c.quantiles.update(vf)
        c.distinct.update_hashes(hashes)

    def _add_categorical(self, arr: pa.Array) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.is_bool:
            valid = len(arr) - arr.null_count
            trues = int(pc.sum(arr).as_py() or 0)
            pairs = [(v, n) for v, n in (("false", valid - trues), ("true", trues)) if n]
            self._add_value_counts(arrow_strings([p[0] for p in pairs]), np.array([p[1] for p in pairs], np.int64))
        elif pa.types.is_dictionary(arr.type):
            idx = arr.indices
            if idx.null_count:
                idx = pc.drop_null(idx)
            counts = np.bincount(_numpy_view(idx).astype(np.intp, copy=False), minlength=len(arr.dictionary))
            # Parquet gives every batch of a row group its own copy of the
            # row group's dictionary: sum the counts while it stays equal
            # (a memcmp) and look at its distinct values once a row group.
            d = arr.dictionary
            if self._dict is not None and self._dict_counts is not None and len(d) == len(self._dict) and d.equals(self._dict):
                self._dict_counts += counts
                return
            self._flush_dictionary()
            self._dict, self._dict_counts = d, counts.astype(np.int64, copy=False)
        else:
            self._add_strings(arr)

    def _flush_dictionary(self) -> None:
        """Count the values of the pending dictionary (see _add_categorical)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        d, counts = self._dict, self._dict_counts
        self._dict = self._dict_counts = None
        if d is None or counts is None:
            return
        nz = np.flatnonzero(counts)
        values = d.take(arrow_int64(nz)).cast(pa.large_string())
        counts = counts[nz]
        if values.null_count:  # a null inside the dictionary itself
            keep = pc.is_valid(values)
            counts = counts[keep.to_numpy(zero_copy_only=False)]
            values = values.filter(keep)
        self._add_value_counts(values, counts)

    def _add_value_counts(self, values: pa.Array, counts: np.ndarray) -> None:
        """Distinct non-null large_string values and their counts."""
        import pyarrow.compute as pc

        c = self.col
        if len(values) == 0:
            return
        assert c.top is not None and c.distinct is not None
        c.top.update_counts(values, counts)
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset: values.offset + len(values) + 1]
        data_buf = values.buffers()[2]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
        c.distinct.update_hashes(hash_strings(offsets, data))
        mm = pc.min_max(values)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        c.min = lo if c.min is None else min(str(c.min), lo)
        c.max = hi if c.max is None else max(str(c.max), hi)

    def _add_strings(self, arr: pa.Array) -> None:
        """Plain (not dictionary) string values: hash every row once for the
        HLL, then count values only where the counts can matter.

        A batch with more than TOPK_CAP distinct values enters the top-k as
        its own Misra-Gries summary: every count minus the (cap+1)-th largest,
        so a value seen once in the batch never survives. A value seen twice
        shares its hash bucket with itself, so only rows in buckets (of at
        least 8 per row) holding two or more rows need an exact count; the
        rest are known singletons. On a column of 16-byte tokens that counts
        about 1 row in 8 instead of all (value_counts costs 90 ns a row). The
        result is the same summary as counting every row.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        c = self.col
        assert c.top is not None and c.distinct is not None
        if arr.null_count:
            arr = pc.drop_null(arr)
        off_type: type[np.signedinteger]
        if pa.types.is_string(arr.type):
            off_type = np.int32
        else:
            if not pa.types.is_large_string(arr.type):
                arr = arr.cast(pa.large_string())
            off_type = np.int64
        n = len(arr)
        if n == 0:
            return
        bufs = arr.buffers()
        offsets = np.frombuffer(bufs[1], dtype=off_type)[arr.offset: arr.offset + n + 1]
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0, np.uint8)
        hashes = hash_strings(offsets, data)
        c.distinct.update_hashes(hashes)
        mm = pc.min_max(arr)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        c.min = lo if c.min is None else min(str(c.min), lo)
        c.max = hi if c.max is None else max(str(c.max), hi)
        for start in range(0, n, _STRING_CHUNK):
            self._count_strings(arr.slice(start, _STRING_CHUNK), hashes[start: start + _STRING_CHUNK])

    def _count_strings(self, arr: pa.Array, hashes: np.ndarray) -> None:
        """Top-k counts of one chunk of non-null strings (see _add_strings)."""
        import pyarrow.compute as pc

        top = self.col.top
        assert top is not None
        n, cap = len(arr), top.cap
        if n > 4 * cap:
            # 8 to 16 buckets a row: 2**20 counters (8 MiB) for 131072 rows
            # cost 12 ns a row here, 2**21 counters 20 ns, and 2**23 counters
            # for a 2**20-row batch 42 ns; 2**19 counters left 22 % of the rows
            # to value_counts instead of 12 %, for no net gain.
            bits = max(12, (n - 1).bit_length() + _BUCKET_BITS)
            bucket = (hashes >> np.uint32(32 - bits)).astype(np.intp)
            cand = np.flatnonzero(np.bincount(bucket, minlength=1 << bits)[bucket] > 1)
            singles = n - len(cand)
            # only worth it when most rows are singletons (IDs, tokens)
            if singles >= n // 2:
                vc = pc.value_counts(arr.take(arrow_int64(cand)))
                values = vc.field("values")
                counts = vc.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
                if singles + len(counts) > cap:
                    # (cap+1)-th largest of all counts; the singletons are 1s
                    kth = int(np.partition(counts, len(counts) - cap - 1)[len(counts) - cap - 1]) \
                        if len(counts) > cap else 1
                    keep = np.flatnonzero(counts > kth)
                    top.update_reduced(values.take(arrow_int64(keep)), counts[keep] - kth)
                    return
        vc = pc.value_counts(arr)
        counts = vc.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
        top.update_counts(vc.field("values"), counts)

    def finish(self) -> ColumnProfile:
        self._flush_dictionary()
        c = self.col
        c.finite_count = self._n
        c.mean = self._mean if self._n else None
        c.m2 = self._m2
        return c


def profile_batches(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Profile:
    """Profile a stream of record batches with the given schema in one pass."""
    builders: dict[str, _ColumnBuilder] = {}
    prof = Profile()
    positions: list[tuple[int, str]] = []
    for i, field in enumerate(schema):
        kind, type_name, reason = _classify(field.type)
        if kind is None:
            prof.skipped[field.name] = SkippedColumn(field.name, type_name, reason)
        elif field.name in builders:
            prof.skipped[field.name] = SkippedColumn(field.name, type_name, "duplicate column name")
        else:
            builders[field.name] = _ColumnBuilder(field.name, kind, type_name, field.type)
            positions.append((i, field.name))
    dupes = {n for n in builders if n in prof.skipped}
    for b in batches:
        prof.row_count += b.num_rows
        for i, name in positions:
            if name not in dupes:
                builders[name].add(b.column(i))
    for name, builder in builders.items():
        if name not in dupes:
            prof.columns[name] = builder.finish()
    return prof


def profile_table(table: pa.Table, batch_size: int = 131072) -> Profile:
    """Profile an in-memory Arrow table (batches of ``batch_size`` rows)."""
    return profile_batches(table.schema, table.to_batches(max_chunksize=batch_size))


def profile_path(path: TableRef, columns: list[str] | None = None) -> Profile:
    """Profile a tabular file, or a directory as the merge of its files'
    profiles (in path order). ``path`` is a local path or a
    :class:`~dvx.quality.sources.TableSource`. Raises DataFormatError/UsageError
    from :func:`dvx.quality.tables.open_batches` when the data cannot be read."""
    from dvx.quality import tables

    if tables.is_dir(path):
        files = tables.data_files(path)
        if not files:
            raise DataFormatError(tables.label_of(path), "directory holds no Parquet, CSV, JSON Lines or Arrow files")
        out: Profile | None = None
        for f in files:
            part = profile_path(f, columns)
            out = part if out is None else out.merge(part)
        assert out is not None
        return out
    # Low-cardinality Parquet string columns come as dictionary arrays: their
    # value counts are then a bincount of the indices, not a hash of strings.
    dictionary = None
    if tables.table_format(path) == "parquet":
        import pyarrow.types as pt

        schema = tables.read_schema(path)
        strings = [f.name for f in schema if (pt.is_string(f.type) or pt.is_large_string(f.type))
                   and (columns is None or f.name in columns)]
        dictionary = tables.dictionary_columns(path, strings) if strings else None
    schema, batches = tables.open_batches(path, columns=columns, dictionary=dictionary or None)
    return profile_batches(schema, batches)


# --------------------------------------------------------------------------
# helpers


def _numpy_view(arr: pa.Array) -> np.ndarray:
    """A numpy view of a null-free integer or float array's data buffer.

    ``to_numpy(zero_copy_only=False)`` copied here (22 ns a value at 2**20
    rows, more than every statistic of the column together); a view of the
    buffer is free. Other arrays fall back to that copy.
    """
    import pyarrow as pa

    t = arr.type
    if arr.null_count == 0 and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        dtype = np.dtype(t.to_pandas_dtype())
        return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)
    return arr.to_numpy(zero_copy_only=False)


def _chan(na: int, ma: float | None, m2a: float, nb: int, mb: float | None, m2b: float
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
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, str) != isinstance(b, str):
        return a
    return f(a, b)


def _merge_opt(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a.merge(b)


def _merge_kinds(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    """Merge two parts of a column where one part may be all-null (kind null)."""
    if a.kind == NULL and b.kind != NULL:
        return b.with_extra_nulls(a.count)
    if b.kind == NULL and a.kind != NULL:
        return a.with_extra_nulls(b.count)
    return a.merge(b)


def _finite_or_none(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
