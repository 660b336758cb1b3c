"""The Arrow engine: common GX expectations evaluated with pyarrow.compute.

One streaming pass over the record batches feeds every planned expectation;
each keeps counters (map expectations, min/max/mean/stdev) or, where exactness
needs the whole column (uniqueness, median, distinct values), the column's
present values only: one column of 10M int64 is 80 MB.

Semantics follow great_expectations 1.x on the pandas frame ``tbl.to_pandas()``
would give (the agreement test checks this against GX itself):

- missing = null, or NaN in a float column (pandas treats NaN as missing);
  map expectations count unexpected values among the present ones, except
  ``not_be_null`` / ``be_null`` which count over all rows;
- ``mostly``: success when (present - unexpected) / present >= mostly, and
  vacuously when there are no rows or no present values;
- stdev is the sample standard deviation (ddof=1), median the midpoint median;
- types use pandas dtype names: an integer column holding nulls is ``float64``
  (as in pandas), strings are ``str`` (pandas 3), timestamps ``datetime64``.

``plan`` returns None for an expectation (or a column type, or a regex RE2
cannot compile) this engine does not handle; validate.py then runs it on the
slow path through great_expectations.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dvx.quality.suite import Expectation

if TYPE_CHECKING:
    import pyarrow as pa

PARTIAL = 20  # GX's default partial_unexpected_count (result_format SUMMARY)


def _pa() -> Any:
    import pyarrow as pa

    return pa


def _pc() -> Any:
    import pyarrow.compute as pc

    return pc


def _is_numeric(t: pa.DataType) -> bool:
    pa = _pa()
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _is_string(t: pa.DataType) -> bool:
    pa = _pa()
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# pyarrow imports pandas (~0.3 s) the first time it converts a Python object
# (pa.array, pa.scalar, or a Python number passed to a compute function). The
# engine builds its few literals from numpy buffers instead, so validating
# Parquet never imports pandas.
_NP = {"int64": "int64", "uint64": "uint64", "double": "float64", "float": "float32", "halffloat": "float16",
       "int8": "int8", "int16": "int16", "int32": "int32", "uint8": "uint8", "uint16": "uint16",
       "uint32": "uint32"}


def literal_array(values: list[Any], t: pa.DataType) -> Any:
    """An Arrow array of int/float/bool/string ``values`` built without pyarrow's Python conversion."""
    import numpy as np

    pa = _pa()
    n = len(values)
    if pa.types.is_boolean(t):
        bits = np.packbits(np.array(values, dtype=bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits.tobytes())])
    if _is_string(t):
        enc = [str(v).encode() for v in values]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum([len(e) for e in enc], out=offsets[1:])
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.tobytes()),
                                                      pa.py_buffer(b"".join(enc))])
    if pa.types.is_null(t):
        return pa.nulls(n)
    arr = np.array(values, dtype=_NP[str(t)])
    return pa.Array.from_buffers(t, n, [None, pa.py_buffer(arr.tobytes())])


def literal(v: Any, t: pa.DataType | None = None) -> Any:
    """An Arrow scalar for a Python bool/int/float/str (type inferred when ``t`` is None)."""
    pa = _pa()
    if t is None:
        if isinstance(v, bool):
            t = pa.bool_()
        elif isinstance(v, int):
            t = pa.int64() if -(2 ** 63) <= v < 2 ** 63 else pa.float64()
        elif isinstance(v, float):
            t = pa.float64()
        else:
            t = pa.string()
    return literal_array([v], t)[0]


def _is_dict(t: pa.DataType) -> bool:
    return bool(_pa().types.is_dictionary(t))


class BatchView:
    """One record batch with per-column "present" masks computed once for all evaluators.

    String columns may arrive as dictionary arrays (low-cardinality Parquet
    columns, see tables.dictionary_columns): ``raw`` gives them as read,
    ``col`` decoded (once per batch, only when an evaluator needs the values).
    """

    def __init__(self, batch: pa.RecordBatch, offset: int) -> None:
        self.batch = batch
        self.num_rows = batch.num_rows
        self.offset = offset
        self._valid: dict[str, Any] = {}
        self._decoded: dict[str, Any] = {}

    def raw(self, name: str) -> Any:
        return self.batch.column(name)

    def col(self, name: str) -> Any:
        a = self.batch.column(name)
        if not _is_dict(a.type):
            return a
        if name not in self._decoded:
            self._decoded[name] = a.dictionary_decode()
        return self._decoded[name]

    def valid(self, name: str) -> Any:
        """Boolean mask of present values, or None when every value is present."""
        if name not in self._valid:
            pa, pc = _pa(), _pc()
            a = self.raw(name)
            if pa.types.is_floating(a.type):
                m = pc.invert(pc.is_null(a, nan_is_null=True))
                self._valid[name] = None if pc.all(m).as_py() in (True, None) else m
            else:
                self._valid[name] = None if a.null_count == 0 else pc.is_valid(a)
        return self._valid[name]

    def present(self, name: str) -> Any:
        a = self.col(name)
        m = self.valid(name)
        return a if m is None else a.filter(m)


class Evaluator:
    """Accumulates over batches, then produces ``(success, result)`` in GX vocabulary."""

    columns: list[str] = []

    def update(self, view: BatchView) -> None:  # pragma: no cover - overridden
        pass

    def finish(self) -> tuple[bool, dict[str, Any]]:  # pragma: no cover - overridden
        raise NotImplementedError


def _between(v: Any, lo: Any, hi: Any, strict_lo: bool, strict_hi: bool) -> bool:
    if lo is not None and not (v > lo if strict_lo else v >= lo):
        return False
    return not (hi is not None and not (v < hi if strict_hi else v <= hi))


def _agg_result(v: Any, kw: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """GX's _validate_metric_value_between: None or NaN observed fails."""
    if v is None or (isinstance(v, float) and v != v):
        return False, {"observed_value": None}
    ok = _between(v, kw.get("min_value"), kw.get("max_value"), bool(kw.get("strict_min")),
                  bool(kw.get("strict_max")))
    return ok, {"observed_value": v}


# ------------------------------------------------------------ map expectations


class MapEval(Evaluator):
    """Column map expectation: count unexpected present values, keep the first few."""

    def __init__(self, column: str, mostly: float, bad: Callable[[Any, Any], Any], over_all_rows: bool = False,
                 elementwise: bool = True) -> None:
        self.columns = [column]
        # elementwise: bad(values) depends on each value alone, so on a dictionary
        # array it runs on the (small) dictionary and is spread by the indices.
        self.elementwise = elementwise
        self.column = column
        self.mostly = mostly
        self.bad = bad  # (array, present mask or None) -> mask of unexpected values, or None
        self.over_all = over_all_rows  # not_be_null / be_null: no "missing" notion
        self.n = 0
        self.missing = 0
        self.unexpected = 0
        self.values: list[Any] = []
        self.index: list[int] = []

    def update(self, view: BatchView) -> None:
        pc = _pc()
        a = view.raw(self.column)
        valid = view.valid(self.column)
        self.n += view.num_rows
        if valid is not None:
            self.missing += view.num_rows - (pc.sum(valid).as_py() or 0)
        if not _is_dict(a.type) or not self.elementwise:
            mask = self.bad(a, valid)
        else:
            on_dict = self.bad(a.dictionary, None)
            mask = None if on_dict is None else _and_valid(on_dict.take(a.indices), valid)
        if mask is None:
            return
        k = pc.sum(mask).as_py() or 0
        if not k:
            return
        self.unexpected += k
        room = PARTIAL - len(self.values)
        if room > 0:
            idx = pc.indices_nonzero(mask)[:room]
            if self.over_all and self.bad is _bad_not_null:
                self.values.extend([None] * len(idx))  # GX lists NaN and null alike as null
            else:
                self.values.extend(a.take(idx).to_pylist())
            self.index.extend(i + view.offset for i in idx.to_pylist())

    def finish(self) -> tuple[bool, dict[str, Any]]:
        return map_result(self.n, None if self.over_all else self.n - self.missing, self.unexpected,
                          self.mostly, self.values, self.index)


def map_result(n: int, nonnull: int | None, unexpected: int, mostly: float, values: list[Any],
               index: list[int] | None) -> tuple[bool, dict[str, Any]]:
    """GX's map-expectation success and ``_format_map_output`` (SUMMARY)."""
    considered = n if nonnull is None else nonnull
    ok = True if n == 0 or considered == 0 else (considered - unexpected) / considered >= mostly
    res: dict[str, Any] = {"element_count": n, "unexpected_count": unexpected}
    pct_total = unexpected / n * 100 if n else None
    if nonnull is None:
        res["unexpected_percent"] = pct_total
    else:
        pct_nm = unexpected / nonnull * 100 if n and nonnull else None
        res["unexpected_percent"] = pct_nm
    res["partial_unexpected_list"] = values[:PARTIAL]
    if nonnull is not None:
        res["missing_count"] = n - nonnull
        res["missing_percent"] = (n - nonnull) / n * 100 if n else None
        res["unexpected_percent_total"] = pct_total
        res["unexpected_percent_nonmissing"] = res["unexpected_percent"]
    try:
        counts = Counter(values[:PARTIAL]).most_common(PARTIAL)
        res["partial_unexpected_counts"] = [{"value": v, "count": c} for v, c in counts]
    except TypeError:  # unhashable values
        pass
    if index is not None:
        res["partial_unexpected_index_list"] = index[:PARTIAL]
    return ok, res


def _and_valid(mask: Any, valid: Any) -> Any:
    pc = _pc()
    mask = pc.fill_null(mask, literal(False))
    return mask if valid is None else pc.and_(mask, valid)


def _value_set(values: Iterable[Any], t: pa.DataType) -> Any | None:
    """The value set as an array of the column type; None when pandas would compare
    values this engine cannot reproduce (mixed types), so the slow path decides."""
    pa = _pa()
    vals = [v for v in values if v is not None]
    if _is_numeric(t):
        if not all(_is_number(v) for v in vals):
            return None
        if pa.types.is_integer(t):
            # 1.5 can never equal an integer; 2.0 equals 2 in pandas.
            vals = [int(v) for v in vals if float(v).is_integer()]
            lo, hi = (-(2 ** 63), 2 ** 63 - 1) if pa.types.is_signed_integer(t) else (0, 2 ** 64 - 1)
            vals = [v for v in vals if lo <= v <= hi]
            return literal_array(vals, pa.int64() if pa.types.is_signed_integer(t) else pa.uint64())
        return literal_array([float(v) for v in vals], pa.float64())
    if _is_string(t):
        if not all(isinstance(v, str) for v in vals):
            return None
        return literal_array(vals, pa.string())
    return None


def _set_column(a: Any) -> Any:
    """Cast a column to the type _value_set uses, so is_in compares like pandas."""
    pa, pc = _pa(), _pc()
    if pa.types.is_signed_integer(a.type):
        return pc.cast(a, pa.int64())
    if pa.types.is_unsigned_integer(a.type):
        return pc.cast(a, pa.uint64())
    if pa.types.is_floating(a.type):
        return pc.add(pc.cast(a, pa.float64()), literal(0.0))  # -0.0 -> 0.0, as pandas compares
    if _is_string(a.type):
        return pc.cast(a, pa.string())
    return a


def _bad_not_null(a: Any, valid: Any) -> Any:
    return None if valid is None else _pc().invert(valid)


# ------------------------------------------------------------ aggregates


class StatsEval(Evaluator):
    """min / max / mean / stdev / sum of a numeric column, merged across batches."""

    def __init__(self, column: str, stat: str, kw: dict[str, Any]) -> None:
        self.columns = [column]
        self.column = column
        self.stat = stat
        self.kw = kw
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.total: float | int = 0
        self.lo: Any = None
        self.hi: Any = None
        self.is_int = False

    def update(self, view: BatchView) -> None:
        pa, pc = _pa(), _pc()
        v = view.present(self.column)
        self.is_int = pa.types.is_integer(v.type)
        n = len(v)
        if n == 0:
            return
        if self.stat in ("min", "max"):
            mm = pc.min_max(v)
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            self.lo = lo if self.lo is None or lo < self.lo else self.lo
            self.hi = hi if self.hi is None or hi > self.hi else self.hi
        elif self.stat == "sum":
            self.total += pc.sum(v).as_py()
        else:
            f = pc.cast(v, pa.float64())
            m = pc.mean(f).as_py()
            m2 = pc.variance(f, ddof=0).as_py() * n
            # Chan et al. pairwise merge of (count, mean, M2).
            tot = self.count + n
            d = m - self.mean
            self.mean += d * n / tot
            self.m2 += m2 + d * d * self.count * n / tot
            self.count = tot
        if self.stat in ("min", "max", "sum"):
            self.count += n

    def finish(self) -> tuple[bool, dict[str, Any]]:
        if self.stat == "min":
            v = self.lo
        elif self.stat == "max":
            v = self.hi
        elif self.stat == "sum":
            v = self.total if self.count else 0
        elif self.stat == "mean":
            v = self.mean if self.count else None
        else:
            v = (self.m2 / (self.count - 1)) ** 0.5 if self.count > 1 else None
        if v is not None and self.stat in ("min", "max") and not self.is_int:
            v = float(v)
        return _agg_result(v, self.kw)


class CollectEval(Evaluator):
    """Keeps a column's present values (one column) for exact whole-dataset answers."""

    def __init__(self, column: str, mode: str, kw: dict[str, Any], mostly: float = 1.0,
                 value_set: Any = None) -> None:
        self.columns = [column]
        self.column = column
        self.mode = mode  # unique | median | proportion_unique | distinct_in_set | unique_value_count
        self.kw = kw
        self.mostly = mostly
        self.value_set = value_set
        self.chunks: list[Any] = []
        self.n = 0
        self.missing = 0
        # A strictly increasing (or decreasing) column has no repeats: ids usually are,
        # and checking it costs one vectorised comparison per batch (10M rows: ~20 ms).
        self.increasing = self.decreasing = mode == "unique"
        self.last: Any = None
        self._dict_key: tuple[int, ...] | None = None
        self._dict: Any = None
        self._dict_idx: list[Any] = []

    def _flush_dict(self) -> None:
        if self._dict_idx:
            pa, pc = _pa(), _pc()
            used = pc.unique(pa.concat_arrays(self._dict_idx))
            self.chunks.append(self._dict.take(used))
        self._dict_idx = []

    def update(self, view: BatchView) -> None:
        pa, pc = _pa(), _pc()
        raw = view.raw(self.column)
        if _is_dict(raw.type) and self.mode in ("distinct_in_set", "proportion_unique", "unique_value_count"):
            # distinct values of a dictionary batch: the entries its indices use
            idx = raw.indices
            valid = view.valid(self.column)
            if valid is not None:
                idx = idx.filter(valid)
            self.n += view.num_rows
            self.missing += view.num_rows - len(idx)
            if len(idx):
                # Batches of one Parquet row group share its dictionary: gather the
                # used indices and look the strings up once per dictionary.
                key = tuple(b.address if b is not None else 0 for b in raw.dictionary.buffers())
                if key != self._dict_key:
                    self._flush_dict()
                    self._dict_key, self._dict = key, raw.dictionary
                self._dict_idx.append(pc.unique(idx))
            return
        v = view.present(self.column)
        self.n += view.num_rows
        self.missing += view.num_rows - len(v)
        if pa.types.is_floating(v.type):
            v = pc.add(v, literal(0.0, v.type))  # -0.0 -> 0.0: pandas hashes them as one value
        if self.mode in ("distinct_in_set", "proportion_unique", "unique_value_count"):
            v = pc.unique(v)  # only distinct values matter: keep memory small
        if not len(v):
            return
        if self.increasing or self.decreasing:
            w = v if self.last is None else pa.concat_arrays([self.last, v])
            head, tail = w.slice(0, len(w) - 1), w.slice(1)
            if self.increasing:
                self.increasing = bool(pc.all(pc.greater(tail, head)).as_py() in (True, None))
            if self.decreasing:
                self.decreasing = bool(pc.all(pc.less(tail, head)).as_py() in (True, None))
            self.last = v.slice(len(v) - 1, 1)
        self.chunks.append(v)

    def _chunked(self) -> Any:
        pa = _pa()
        if not self.chunks:
            return None
        return pa.chunked_array(self.chunks)

    def finish(self) -> tuple[bool, dict[str, Any]]:
        pa, pc = _pa(), _pc()
        self._flush_dict()
        col = self._chunked()
        if self.mode == "median":
            if col is None:
                return _agg_result(None, self.kw)
            q = pc.quantile(col, q=0.5, interpolation="midpoint")
            return _agg_result(q[0].as_py(), self.kw)
        if self.mode in ("proportion_unique", "unique_value_count"):
            distinct = 0 if col is None else _distinct_count(col)
            present = self.n - self.missing
            if self.mode == "unique_value_count":
                return _agg_result(distinct, self.kw)
            return _agg_result(distinct / present if present else 0, self.kw)
        if self.mode == "distinct_in_set":
            distinct = pa.nulls(0) if col is None else pc.unique(col)
            if len(distinct) and self.value_set is not None:
                outside = distinct.filter(pc.invert(pc.is_in(_set_column(distinct), value_set=self.value_set)))
            else:
                outside = distinct
            vals = sorted(outside.to_pylist())
            return len(vals) == 0, {"observed_value": None, "unexpected_count": len(vals),
                                    "partial_unexpected_list": vals[:PARTIAL]}
        # unique: every occurrence of a value seen more than once is unexpected (pandas
        # duplicated(keep=False)).
        unexpected = 0
        values: list[Any] = []
        if col is not None and (self.increasing or self.decreasing):
            pass  # strictly monotonic: no repeats
        elif col is not None and _sortable(col.type):
            unexpected, dups = _sorted_duplicates(col)
            if unexpected:
                for chunk in col.chunks:
                    idx = pc.indices_nonzero(pc.is_in(chunk, value_set=dups))[: PARTIAL - len(values)]
                    values.extend(chunk.take(idx).to_pylist())
                    if len(values) >= PARTIAL:
                        break
        elif col is not None:
            vc = pc.value_counts(col)
            counts = vc.field("counts")
            dup = pc.greater(counts, literal(1))
            unexpected = pc.sum(counts.filter(dup)).as_py() or 0
            if unexpected:
                dups = vc.field("values").filter(dup)
                for chunk in col.chunks:
                    m = pc.is_in(chunk, value_set=dups)
                    idx = pc.indices_nonzero(m)[: PARTIAL - len(values)]
                    values.extend(chunk.take(idx).to_pylist())
                    if len(values) >= PARTIAL:
                        break
        # Row positions would need a second kept column: reported as absent, not empty.
        return map_result(self.n, self.n - self.missing, unexpected, self.mostly, values, None)


def _sortable(t: pa.DataType) -> bool:
    """Integer and float columns: numpy's sort beats Arrow's hash table 2-3x at 10M distinct."""
    return _is_numeric(t) and str(t) in _NP


def _sorted_duplicates(col: Any) -> tuple[int, Any]:
    """(count of values that repeat, counting every occurrence; array of the repeated values)."""
    import numpy as np

    pa = _pa()
    s = np.sort(col.to_numpy())
    eq = s[1:] == s[:-1]
    if not eq.any():
        return 0, None
    rep = np.zeros(len(s), dtype=bool)
    rep[1:] |= eq
    rep[:-1] |= eq
    dups = np.unique(s[1:][eq])
    arr = pa.Array.from_buffers(col.type, len(dups), [None, pa.py_buffer(dups.tobytes())])
    return int(rep.sum()), arr


def _distinct_count(col: Any) -> int:
    pc = _pc()
    if _sortable(col.type):
        import numpy as np

        s = np.sort(col.to_numpy())
        return int((s[1:] != s[:-1]).sum()) + 1 if len(s) else 0
    return len(pc.unique(col))


class CompoundUniqueEval(Evaluator):
    """expect_compound_columns_to_be_unique: nulls compare equal, all-null rows ignored."""

    def __init__(self, columns: list[str], mostly: float, ignore: str) -> None:
        self.columns = list(columns)
        self.mostly = mostly
        self.ignore = ignore
        self.parts: list[Any] = []
        self.n = 0
        self.considered = 0

    def update(self, view: BatchView) -> None:
        pa, pc = _pa(), _pc()
        t = pa.Table.from_arrays([view.col(c) for c in self.columns], names=self.columns)
        self.n += t.num_rows
        if self.ignore != "never":
            masks = [pc.is_null(t.column(c), nan_is_null=True) for c in self.columns]
            if self.ignore == "any_value_is_missing":
                drop = masks[0]
                for m in masks[1:]:
                    drop = pc.or_(drop, m)
            else:
                drop = masks[0]
                for m in masks[1:]:
                    drop = pc.and_(drop, m)
            t = t.filter(pc.invert(drop))
        self.considered += t.num_rows
        if t.num_rows:
            self.parts.append(t)

    def finish(self) -> tuple[bool, dict[str, Any]]:
        pa, pc = _pa(), _pc()
        unexpected = 0
        values: list[Any] = []
        if self.parts:
            t = pa.concat_tables(self.parts)
            g = t.group_by(self.columns, use_threads=False).aggregate([([], "count_all")])
            counts = g.column("count_all")
            dup = pc.greater(counts, literal(1))
            unexpected = pc.sum(counts.filter(dup)).as_py() or 0
            if unexpected:
                keys = g.filter(dup).select(self.columns)
                hits = t.join(keys, keys=self.columns, join_type="left semi")
                values = hits.slice(0, PARTIAL).to_pylist()
        return map_result(self.n, self.considered, unexpected, self.mostly, values, None)


class RowCountEval(Evaluator):
    def __init__(self, kw: dict[str, Any], equal: bool = False) -> None:
        self.columns = []
        self.kw = kw
        self.equal = equal
        self.n = 0

    def update(self, view: BatchView) -> None:
        self.n += view.num_rows

    def finish(self) -> tuple[bool, dict[str, Any]]:
        if self.equal:
            return self.n == self.kw.get("value"), {"observed_value": self.n}
        return _agg_result(self.n, self.kw)


class TypeEval(Evaluator):
    """expect_column_values_to_be_of_type against the pandas dtype to_pandas() gives."""

    def __init__(self, column: str, arrow_type: pa.DataType, expected: str | None,
                 type_list: list[str] | None = None, mostly: float = 1.0) -> None:
        self.columns = [column]
        self.column = column
        self.type = arrow_type
        self.expected = expected
        self.type_list = type_list
        self.mostly = mostly
        self.n = 0
        self.nulls = 0

    def update(self, view: BatchView) -> None:
        self.n += view.num_rows
        self.nulls += view.raw(self.column).null_count

    def finish(self) -> tuple[bool, dict[str, Any]]:
        observed, actual = pandas_type(self.type, self.nulls > 0)
        names = self.type_list if self.type_list is not None else [self.expected]
        if observed == "object_":
            # pandas object column (bool with nulls): GX checks each present value.
            ok_type = any(n is None or isinstance(True, comparison_types(n)) for n in names)
            present = self.n - self.nulls
            unexpected = 0 if ok_type else present
            return map_result(self.n, present, unexpected, self.mostly, [True] * min(unexpected, PARTIAL) if unexpected else [], [])
        if self.type_list is not None:
            ok = any(n is not None and actual in comparison_types(n) for n in names)
        else:
            ok = self.expected is None or actual in comparison_types(self.expected)
        return ok, {"observed_value": observed}


def pandas_type(t: pa.DataType, has_nulls: bool) -> tuple[str, Any]:
    """(GX observed name, pandas dtype.type) for an Arrow type, as tbl.to_pandas() gives it."""
    import numpy as np

    pa = _pa()
    if pa.types.is_integer(t):
        if has_nulls:
            return "float64", np.float64
        nt = np.dtype(_NP[str(t)]).type
        return nt.__name__, nt
    if pa.types.is_floating(t):
        nt = np.dtype(_NP[str(t)]).type
        return nt.__name__, nt
    if pa.types.is_boolean(t):
        return ("object_", np.object_) if has_nulls else ("bool", np.bool_)
    if _is_string(t):
        return "str", str
    if pa.types.is_timestamp(t) and t.tz is None:
        return "datetime64", np.datetime64
    raise ValueError(f"no pandas mapping for {t}")


def arrow_type_supported(t: pa.DataType) -> bool:
    try:
        pandas_type(t, False)
        return True
    except ValueError:
        return False


def comparison_types(expected: str) -> tuple[type, ...]:
    """The types GX's pandas path accepts for a type name (numpy dtype + native names)."""
    import numpy as np

    out: list[type] = []
    try:
        out.append(np.dtype(expected).type)
    except TypeError:
        pass
    natives: dict[str, tuple[type, ...]] = {"none": (type(None),), "bool": (bool,), "int": (int,), "long": (int,), "float": (float,),
              "bytes": (bytes,), "complex": (complex,), "str": (str,), "string_types": (str,),
              "list": (list,), "dict": (dict,)}
    native = natives.get(expected.lower())
    if native:
        out.extend(native)
    return tuple(out)


# ------------------------------------------------------------ schema-only


def schema_result(exp: Expectation, names: list[str]) -> tuple[bool, dict[str, Any]] | None:
    """Table-level expectations answered from the column names alone."""
    kw = exp.kwargs
    t = exp.type
    if t == "expect_column_to_exist":
        col = kw.get("column")
        idx = kw.get("column_index")
        if idx:  # GX tests truthiness: column_index 0 means "anywhere"
            try:
                return names[idx] == col, {}
            except (IndexError, TypeError):
                return False, {}
        return col in names, {}
    if t == "expect_table_columns_to_match_ordered_list":
        want = kw.get("column_list")
        if want is None or names == list(want):
            return True, {"observed_value": names}
        want = list(want)
        details = [{"Expected Column Position": i, "Expected": want[i] if i < len(want) else None,
                    "Found": names[i] if i < len(names) else None}
                   for i in range(max(len(names), len(want)))
                   if (want[i] if i < len(want) else None) != (names[i] if i < len(names) else None)]
        return False, {"observed_value": names, "details": {"mismatched": details}}
    if t == "expect_table_columns_to_match_set":
        want_s = set(kw.get("column_set") or [])
        got_s = set(names)
        observed = sorted(names)
        if got_s == want_s:
            return True, {"observed_value": observed}
        mism: dict[str, Any] = {}
        if got_s - want_s:
            mism["unexpected"] = sorted(got_s - want_s)
        if want_s - got_s:
            mism["missing"] = sorted(want_s - got_s)
        res: dict[str, Any] = {"observed_value": observed, "details": {"mismatched": mism}}
        exact = kw.get("exact_match", True)
        ok = False if exact else not (want_s - got_s)
        return ok, res
    if t == "expect_table_column_count_to_equal":
        return len(names) == kw.get("value"), {"observed_value": len(names)}
    if t == "expect_table_column_count_to_be_between":
        return _agg_result(len(names), kw)
    return None


# ------------------------------------------------------------ planning

_COLUMN_TYPES = {
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set", "expect_column_values_to_be_unique",
    "expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex",
    "expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list",
    "expect_column_min_to_be_between", "expect_column_max_to_be_between",
    "expect_column_mean_to_be_between", "expect_column_median_to_be_between",
    "expect_column_stdev_to_be_between", "expect_column_sum_to_be_between",
    "expect_column_proportion_of_unique_values_to_be_between",
    "expect_column_unique_value_count_to_be_between", "expect_column_distinct_values_to_be_in_set",
}
_TABLE_TYPES = {
    "expect_column_to_exist", "expect_table_columns_to_match_ordered_list", "expect_table_columns_to_match_set",
    "expect_table_column_count_to_equal", "expect_table_column_count_to_be_between",
    "expect_table_row_count_to_be_between", "expect_table_row_count_to_equal",
    "expect_compound_columns_to_be_unique",
}
SUPPORTED: frozenset[str] = frozenset(_COLUMN_TYPES | _TABLE_TYPES)

# kwargs that change the meaning of an expectation in ways this engine does not
# implement: such expectations go to the slow path.
_UNSUPPORTED_KWARGS = {"row_condition", "condition_parser", "parse_strings_as_datetimes", "output_strftime_format",
                       "allow_cross_type_comparisons", "result_format"}


def _regex_ok(pattern: Any) -> bool:
    """True when RE2 (Arrow) and Python re both accept the pattern."""
    if not isinstance(pattern, str):
        return False
    try:
        re.compile(pattern)
        _pc().match_substring_regex(literal_array([""], _pa().string()), pattern=pattern)
    except Exception:  # noqa: BLE001 - any failure means: let GX decide
        return False
    return True


class Missing:
    """Plan outcome: the expectation names a column the data lacks (GX fails it)."""

    def __init__(self, column: str) -> None:
        self.column = column


def plan(exp: Expectation, schema: pa.Schema) -> Evaluator | tuple[bool, dict[str, Any]] | Missing | None:
    """An evaluator, an immediate (success, result), Missing, or None for the slow path."""
    pa, pc = _pa(), _pc()
    t = exp.type
    kw = exp.kwargs
    if t not in SUPPORTED or _UNSUPPORTED_KWARGS & set(kw):
        return None
    names = list(schema.names)
    mostly = kw.get("mostly", 1.0)
    if not _is_number(mostly) or not 0 <= mostly <= 1:
        return None
    if t in _TABLE_TYPES:
        if t == "expect_table_row_count_to_be_between":
            return RowCountEval(kw)
        if t == "expect_table_row_count_to_equal":
            return RowCountEval(kw, equal=True)
        if t == "expect_compound_columns_to_be_unique":
            cols = kw.get("column_list")
            if not isinstance(cols, list) or not cols:
                return None
            for c in cols:
                if c not in names:
                    return Missing(c)
            if not all(_is_numeric(schema.field(c).type) or _is_string(schema.field(c).type) or
                       pa.types.is_boolean(schema.field(c).type) or pa.types.is_timestamp(schema.field(c).type)
                       for c in cols):
                return None
            return CompoundUniqueEval(cols, mostly, kw.get("ignore_row_if", "all_values_are_missing"))
        return schema_result(exp, names)
    col = kw.get("column")
    if not isinstance(col, str):
        return None
    if col not in names:
        return Missing(col)
    ctype = schema.field(col).type
    if not arrow_type_supported(ctype):
        return None
    numeric = _is_numeric(ctype)
    if t == "expect_column_values_to_not_be_null":
        return MapEval(col, mostly, _bad_not_null, over_all_rows=True, elementwise=False)
    if t == "expect_column_values_to_be_null":
        return MapEval(col, mostly, lambda a, v: pc.is_valid(a) if v is None else v, over_all_rows=True,
                       elementwise=False)
    if t in ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list"):
        if t.endswith("type_list"):
            tl = kw.get("type_list")
            if tl is not None and not (isinstance(tl, list) and all(isinstance(x, str) for x in tl)):
                return None
            if tl is None:
                return TypeEval(col, ctype, None, None, mostly)
            return TypeEval(col, ctype, None, tl, mostly)
        tp = kw.get("type_")
        if tp is not None and not isinstance(tp, str):
            return None
        return TypeEval(col, ctype, tp, None, mostly)
    if t == "expect_column_values_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if not numeric or (lo is None and hi is None) or not all(x is None or _is_number(x) for x in (lo, hi)):
            return None
        smin, smax = bool(kw.get("strict_min")), bool(kw.get("strict_max"))
        lo_s = None if lo is None else literal(lo if isinstance(lo, int) and pa.types.is_integer(ctype) else float(lo))
        hi_s = None if hi is None else literal(hi if isinstance(hi, int) and pa.types.is_integer(ctype) else float(hi))

        def bad_between(a: Any, v: Any) -> Any:
            ok = None
            if lo is not None:
                ok = pc.greater(a, lo_s) if smin else pc.greater_equal(a, lo_s)
            if hi is not None:
                up = pc.less(a, hi_s) if smax else pc.less_equal(a, hi_s)
                ok = up if ok is None else pc.and_(ok, up)
            return _and_valid(pc.invert(ok), v)

        return MapEval(col, mostly, bad_between)
    if t in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
             "expect_column_distinct_values_to_be_in_set"):
        vs_raw = kw.get("value_set")
        if not isinstance(vs_raw, (list, tuple, set)):
            return None
        vs = _value_set(vs_raw, ctype)
        if vs is None:
            return None
        if t == "expect_column_distinct_values_to_be_in_set":
            return CollectEval(col, "distinct_in_set", kw, value_set=vs)
        inside = t.endswith("to_be_in_set")

        def bad_set(a: Any, v: Any) -> Any:
            hit = pc.is_in(_set_column(a), value_set=vs)
            return _and_valid(pc.invert(hit) if inside else hit, v)

        return MapEval(col, mostly, bad_set)
    if t in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        rx = kw.get("regex")
        if not _is_string(ctype) or not _regex_ok(rx):
            return None
        match = t == "expect_column_values_to_match_regex"

        def bad_regex(a: Any, v: Any) -> Any:
            hit = pc.match_substring_regex(a, pattern=rx)
            return _and_valid(pc.invert(hit) if match else hit, v)

        return MapEval(col, mostly, bad_regex)
    if t == "expect_column_values_to_be_unique":
        return CollectEval(col, "unique", kw, mostly=mostly)
    bounds = (kw.get("min_value"), kw.get("max_value"))
    if not all(x is None or _is_number(x) for x in bounds):
        return None
    if t == "expect_column_proportion_of_unique_values_to_be_between":
        return CollectEval(col, "proportion_unique", kw)
    if t == "expect_column_unique_value_count_to_be_between":
        return CollectEval(col, "unique_value_count", kw)
    if not numeric:
        return None  # min/max/mean/... of strings or dates: GX's rules, slow path
    if t == "expect_column_median_to_be_between":
        return CollectEval(col, "median", kw)
    stat = {"expect_column_min_to_be_between": "min", "expect_column_max_to_be_between": "max",
            "expect_column_mean_to_be_between": "mean", "expect_column_stdev_to_be_between": "stdev",
            "expect_column_sum_to_be_between": "sum"}[t]
    return StatsEval(col, stat, kw)


def missing_column_result(column: str) -> tuple[bool, dict[str, Any], str]:
    """What GX reports for a column the data lacks: a failed result with an exception."""
    return False, {}, f'Error: The column "{column}" in BatchData does not exist.'


def prefetch(batches: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate ``batches`` in a background thread, ``depth`` batches ahead.

    Parquet decoding and pyarrow.compute both release the GIL, so reading the
    next batch overlaps with evaluating this one (two cores: up to 2x). Memory
    grows by ``depth`` batches. An exception in the reader is re-raised here;
    closing this generator early stops the reader.
    """
    import queue
    import threading

    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for b in batches:
                if not put(("batch", b)):
                    return
            put(("end", None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put(("error", e))

    t = threading.Thread(target=work, name="dvx-prefetch", daemon=True)
    t.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        t.join(timeout=5)


def run(evaluators: list[Evaluator], batches: Iterable[pa.RecordBatch], *, threaded: bool = True
        ) -> list[tuple[bool, dict[str, Any]]]:
    """Feed every batch to every evaluator once; return their results in order."""
    offset = 0
    for b in (prefetch(batches) if threaded else batches):
        view = BatchView(b, offset)
        for ev in evaluators:
            ev.update(view)
        offset += b.num_rows
    return [ev.finish() for ev in evaluators]
