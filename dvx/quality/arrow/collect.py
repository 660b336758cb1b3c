"""CollectEval: expectations whose exact answer needs a whole column.

Uniqueness, median and distinct values keep the column's present values
only (one column of 10M int64 is 80 MB); the distinct-value modes keep each
batch's distinct values, and a dictionary batch only the entries its indices
use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dvx.quality.arrow.compute import distinct_count, is_dictionary, literal, set_column, sortable, sorted_duplicates
from dvx.quality.arrow.evaluators import BatchView, Evaluator
from dvx.quality.gx_results import PARTIAL, Outcome, agg_result, map_result

if TYPE_CHECKING:
    import pyarrow as pa

# modes that need only the distinct values, not every occurrence
DISTINCT_MODES = ("distinct_in_set", "proportion_unique", "unique_value_count")


class CollectEval(Evaluator):
    """Keeps a column's present values (one column) for exact whole-dataset answers.

    ``mode`` is unique, median, proportion_unique, distinct_in_set or unique_value_count.
    """

    def __init__(self, column: str, mode: str, kw: dict[str, Any], mostly: float = 1.0,
                 value_set: pa.Array | None = None) -> None:
        self.columns = [column]
        self.column = column
        self.mode = mode
        self.kw = kw
        self.mostly = mostly
        self.value_set = value_set
        self.chunks: list[pa.Array] = []
        self.n = 0
        self.missing = 0
        # A strictly increasing (or decreasing) column has no repeats: ids usually are,
        # and checking it costs one vectorised comparison per batch (10M rows: ~20 ms).
        self.increasing = self.decreasing = mode == "unique"
        self.last: pa.Array | None = None
        self._dict_key: tuple[int, ...] | None = None
        self._dict: pa.Array | None = None
        self._dict_idx: list[pa.Array] = []

    def _flush_dict(self) -> None:
        if self._dict_idx and self._dict is not None:
            import pyarrow as pa
            import pyarrow.compute as pc

            used = pc.unique(pa.concat_arrays(self._dict_idx))
            self.chunks.append(self._dict.take(used))
        self._dict_idx = []

    def update(self, view: BatchView) -> None:
        raw = view.raw(self.column)
        if is_dictionary(raw.type) and self.mode in DISTINCT_MODES:
            self._update_dictionary(view, raw)
        else:
            self._update_values(view)

    def _update_dictionary(self, view: BatchView, raw: pa.DictionaryArray) -> None:
        """Distinct values of a dictionary batch: the entries its indices use."""
        import pyarrow.compute as pc

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

    def _update_values(self, view: BatchView) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        v = view.present(self.column)
        self.n += view.num_rows
        self.missing += view.num_rows - len(v)
        if pa.types.is_floating(v.type):
            v = pc.add(v, literal(0.0, v.type))  # -0.0 -> 0.0: pandas hashes them as one value
        if self.mode in DISTINCT_MODES:
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

    def finish(self) -> Outcome:
        import pyarrow as pa
        import pyarrow.compute as pc

        self._flush_dict()
        col = pa.chunked_array(self.chunks) if self.chunks else None
        if self.mode == "median":
            if col is None:
                return agg_result(None, self.kw)
            q = pc.quantile(col, q=0.5, interpolation="midpoint")
            return agg_result(q[0].as_py(), self.kw)
        if self.mode in ("proportion_unique", "unique_value_count"):
            distinct = 0 if col is None else distinct_count(col)
            present = self.n - self.missing
            if self.mode == "unique_value_count":
                return agg_result(distinct, self.kw)
            return agg_result(distinct / present if present else 0, self.kw)
        if self.mode == "distinct_in_set":
            distinct = pa.nulls(0) if col is None else pc.unique(col)
            if len(distinct) and self.value_set is not None:
                outside = distinct.filter(pc.invert(pc.is_in(set_column(distinct), value_set=self.value_set)))
            else:
                outside = distinct
            vals = sorted(outside.to_pylist())
            return len(vals) == 0, {"observed_value": None, "unexpected_count": len(vals),
                                    "partial_unexpected_list": vals[:PARTIAL]}
        return self._finish_unique(col)

    def _finish_unique(self, col: pa.ChunkedArray | None) -> Outcome:
        """Every occurrence of a value seen more than once is unexpected (pandas
        ``duplicated(keep=False)``)."""
        import pyarrow.compute as pc

        unexpected = 0
        dups: pa.Array | None = None
        if col is not None and (self.increasing or self.decreasing):
            pass  # strictly monotonic: no repeats
        elif col is not None and sortable(col.type):
            unexpected, dups = sorted_duplicates(col)
        elif col is not None:
            vc = pc.value_counts(col)
            counts = vc.field("counts")
            dup = pc.greater(counts, literal(1))
            unexpected = pc.sum(counts.filter(dup)).as_py() or 0
            dups = vc.field("values").filter(dup)
        values: list[Any] = []
        if unexpected and col is not None:
            for chunk in col.chunks:
                idx = pc.indices_nonzero(pc.is_in(chunk, value_set=dups))[: PARTIAL - len(values)]
                values.extend(chunk.take(idx).to_pylist())
                if len(values) >= PARTIAL:
                    break
        # Row positions would need a second kept column: reported as absent, not empty.
        return map_result(self.n, self.n - self.missing, unexpected, self.mostly, values, None)
