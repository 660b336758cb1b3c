"""Evaluators: one per planned expectation, fed every record batch once.

Each keeps counters (map expectations, row count, type) or running moments
(min/max/mean/stdev/sum) across batches and answers in GX's vocabulary at the
end. Expectations that need a whole column (uniqueness, median, distinct
values) are in :mod:`dvx.quality.arrow.collect`.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dvx.quality.arrow.compute import and_valid, is_dictionary, literal
from dvx.quality.arrow.dtypes import comparison_types, pandas_type
from dvx.quality.gx_results import PARTIAL, Outcome, agg_result, map_result

if TYPE_CHECKING:
    import pyarrow as pa

# (column as read, its present-values mask or None) -> mask of unexpected values, or None for none
BadValues = Callable[["pa.Array", "pa.Array | None"], "pa.Array | None"]


class BatchView:
    """One record batch with per-column "present" masks computed once for all evaluators.

    String columns may arrive as dictionary arrays (low-cardinality Parquet
    columns, see tables.dictionary_columns): ``raw`` gives them as read,
    ``col`` decoded (once per batch, only when an evaluator needs the values).
    """

    def __init__(self, batch: pa.RecordBatch, offset: int) -> None:
        self.batch = batch
        self.num_rows: int = batch.num_rows
        self.offset = offset  # row number of the batch's first row in the dataset
        self._valid: dict[str, pa.Array | None] = {}
        self._decoded: dict[str, pa.Array] = {}

    def raw(self, name: str) -> pa.Array:
        """The column as read (possibly dictionary-encoded)."""
        return self.batch.column(name)

    def col(self, name: str) -> pa.Array:
        """The column with dictionaries decoded."""
        a = self.batch.column(name)
        if not is_dictionary(a.type):
            return a
        if name not in self._decoded:
            self._decoded[name] = a.dictionary_decode()
        return self._decoded[name]

    def valid(self, name: str) -> pa.Array | None:
        """Boolean mask of present values (not null, not NaN), or None when every value is present."""
        if name not in self._valid:
            import pyarrow as pa
            import pyarrow.compute as pc

            a = self.raw(name)
            if pa.types.is_floating(a.type):
                m = pc.invert(pc.is_null(a, nan_is_null=True))
                self._valid[name] = None if pc.all(m).as_py() in (True, None) else m
            else:
                self._valid[name] = None if a.null_count == 0 else pc.is_valid(a)
        return self._valid[name]

    def present(self, name: str) -> pa.Array:
        """The column's present values, decoded."""
        a = self.col(name)
        m = self.valid(name)
        return a if m is None else a.filter(m)


class Evaluator(abc.ABC):
    """Accumulates over batches, then produces ``(success, result)`` in GX vocabulary."""

    columns: list[str]  # the columns ``update`` reads

    @abc.abstractmethod
    def update(self, view: BatchView) -> None:
        """Take in one batch."""

    @abc.abstractmethod
    def finish(self) -> Outcome:
        """The result over every batch seen."""


def bad_not_null(a: pa.Array, valid: pa.Array | None) -> pa.Array | None:
    """Unexpected for not_be_null: the missing values."""
    import pyarrow.compute as pc

    return None if valid is None else pc.invert(valid)


def bad_present(a: pa.Array, valid: pa.Array | None) -> pa.Array:
    """Unexpected for be_null: the present values."""
    import pyarrow.compute as pc

    return pc.is_valid(a) if valid is None else valid


class MapEval(Evaluator):
    """Column map expectation: count unexpected present values, keep the first few."""

    def __init__(self, column: str, mostly: float, bad: BadValues, over_all_rows: bool = False,
                 elementwise: bool = True, missing_listed_as_null: bool = False) -> None:
        self.columns = [column]
        # elementwise: bad(values) depends on each value alone, so on a dictionary
        # array it runs on the (small) dictionary and is spread by the indices.
        self.elementwise = elementwise
        self.column = column
        self.mostly = mostly
        self.bad = bad
        self.over_all = over_all_rows  # not_be_null / be_null: no "missing" notion
        self.missing_listed_as_null = missing_listed_as_null  # GX lists NaN and null alike as null
        self.n = 0
        self.missing = 0
        self.unexpected = 0
        self.values: list[Any] = []
        self.index: list[int] = []

    def update(self, view: BatchView) -> None:
        import pyarrow.compute as pc

        a = view.raw(self.column)
        valid = view.valid(self.column)
        self.n += view.num_rows
        if valid is not None:
            self.missing += view.num_rows - (pc.sum(valid).as_py() or 0)
        if not is_dictionary(a.type) or not self.elementwise:
            mask = self.bad(a, valid)
        else:
            on_dict = self.bad(a.dictionary, None)
            mask = None if on_dict is None else and_valid(on_dict.take(a.indices), valid)
        if mask is None:
            return
        k = pc.sum(mask).as_py() or 0
        if not k:
            return
        self.unexpected += k
        room = PARTIAL - len(self.values)
        if room > 0:
            idx = pc.indices_nonzero(mask)[:room]
            if self.missing_listed_as_null:
                self.values.extend([None] * len(idx))
            else:
                self.values.extend(a.take(idx).to_pylist())
            self.index.extend(i + view.offset for i in idx.to_pylist())

    def finish(self) -> Outcome:
        return map_result(self.n, None if self.over_all else self.n - self.missing, self.unexpected,
                          self.mostly, self.values, self.index)


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
        # mean/stdev: infinities counted apart, moments over finite values, so the
        # answer (pandas': inf, -inf or NaN) does not depend on where batches end
        self.posinf = 0
        self.neginf = 0

    def update(self, view: BatchView) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

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
            if pa.types.is_floating(v.type):
                finite = pc.is_finite(f)
                if not pc.all(finite).as_py():
                    self.posinf += pc.sum(pc.equal(f, literal(float("inf")))).as_py() or 0
                    self.neginf += pc.sum(pc.equal(f, literal(float("-inf")))).as_py() or 0
                    f = f.filter(finite)
            if len(f):
                self.merge_moments(len(f), pc.mean(f).as_py(), pc.variance(f, ddof=0).as_py() * len(f))
        if self.stat in ("min", "max", "sum"):
            self.count += n

    def merge_moments(self, n: int, mean: float, m2: float) -> None:
        """Chan et al.'s pairwise merge of (count, mean, M2): a batch's, or a partition's
        (dvx.quality.arrow.merge), so every path adds moments the same way."""
        if n == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = n, mean, m2
            return
        tot = self.count + n
        d = mean - self.mean
        self.mean += d * n / tot
        self.m2 += m2 + d * d * self.count * n / tot
        self.count = tot

    def finish(self) -> Outcome:
        v: Any
        if self.stat == "min":
            v = self.lo
        elif self.stat == "max":
            v = self.hi
        elif self.stat == "sum":
            v = self.total if self.count else 0
        elif self.posinf or self.neginf:  # pandas: inf or -inf means, NaN when both; NaN stdev
            both = self.posinf and self.neginf
            v = math.nan if self.stat == "stdev" or both else math.inf if self.posinf else -math.inf
        elif self.stat == "mean":
            v = self.mean if self.count else None
        else:
            v = (self.m2 / (self.count - 1)) ** 0.5 if self.count > 1 else None
        if v is not None and self.stat in ("min", "max") and not self.is_int:
            v = float(v)
        return agg_result(v, self.kw)


class CompoundUniqueEval(Evaluator):
    """expect_compound_columns_to_be_unique: nulls compare equal, all-null rows ignored."""

    def __init__(self, columns: list[str], mostly: float, ignore: str) -> None:
        self.columns = list(columns)
        self.mostly = mostly
        self.ignore = ignore
        self.parts: list[pa.Table] = []
        self.n = 0
        self.considered = 0

    def update(self, view: BatchView) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        t = pa.Table.from_arrays([view.col(c) for c in self.columns], names=self.columns)
        self.n += t.num_rows
        if self.ignore != "never":
            masks = [pc.is_null(t.column(c), nan_is_null=True) for c in self.columns]
            combine = pc.or_ if self.ignore == "any_value_is_missing" else pc.and_
            drop = masks[0]
            for m in masks[1:]:
                drop = combine(drop, m)
            t = t.filter(pc.invert(drop))
        self.considered += t.num_rows
        if t.num_rows:
            self.parts.append(t)

    def finish(self) -> Outcome:
        import pyarrow as pa
        import pyarrow.compute as pc

        unexpected = 0
        values: list[Any] = []
        if self.parts:
            t = pa.concat_tables(self.parts)
            g = t.group_by(self.columns, use_threads=False).aggregate([([], "count_all")])
            counts = g.column("count_all")
            dup = pc.greater(counts, literal(1))
            unexpected = pc.sum(counts.filter(dup)).as_py() or 0
            if unexpected:
                # Examples in row order (a join's output order is not defined): the
                # same list however the rows were cut into batches or partitions.
                keys = g.filter(dup).select(self.columns)
                import numpy as np

                rows = t.append_column("__dvx_row", pa.array(np.arange(t.num_rows, dtype=np.int64)))
                hits = rows.join(keys, keys=self.columns, join_type="left semi", use_threads=False)
                values = hits.sort_by("__dvx_row").slice(0, PARTIAL).select(self.columns).to_pylist()
        return map_result(self.n, self.considered, unexpected, self.mostly, values, None)


class RowCountEval(Evaluator):
    """expect_table_row_count_to_be_between (or ``_to_equal``)."""

    def __init__(self, kw: dict[str, Any], equal: bool = False) -> None:
        self.columns = []
        self.kw = kw
        self.equal = equal
        self.n = 0

    def update(self, view: BatchView) -> None:
        self.n += view.num_rows

    def finish(self) -> Outcome:
        if self.equal:
            return self.n == self.kw.get("value"), {"observed_value": self.n}
        return agg_result(self.n, self.kw)


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

    def finish(self) -> Outcome:
        observed, actual = pandas_type(self.type, self.nulls > 0)
        names = self.type_list if self.type_list is not None else [self.expected]
        if observed == "object_":
            # pandas object column (bool with nulls): GX checks each present value.
            ok_type = any(n is None or isinstance(True, comparison_types(n)) for n in names)
            present = self.n - self.nulls
            unexpected = 0 if ok_type else present
            listed = [True] * min(unexpected, PARTIAL) if unexpected else []
            return map_result(self.n, present, unexpected, self.mostly, listed, [])
        if self.type_list is not None:
            ok = any(n is not None and actual in comparison_types(n) for n in names)
        else:
            ok = self.expected is None or actual in comparison_types(self.expected)
        return ok, {"observed_value": observed}
