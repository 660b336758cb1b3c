"""Categorical columns (string, dictionary, bool): value counts, min, max and HLL.

Value counts are exact while a column has at most :data:`TOPK_CAP` distinct
values, then a Misra-Gries summary (error <= rows / 1001).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dvx.quality.profile.builder import ColumnBuilder
from dvx.quality.profile.model import CATEGORICAL, ColumnProfile
from dvx.quality.profile.numeric import numpy_view
from dvx.quality.sketches import DistinctSketch, FrequentItems, arrow_int64, arrow_strings, hash_strings

if TYPE_CHECKING:
    import pyarrow as pa

# Distinct values counted exactly per categorical column before the counts
# become a Misra-Gries summary (error <= rows / 1001).
TOPK_CAP = 1000
# Rows a plain string column is counted in at once (see _count_strings).
_STRING_CHUNK = 131072
# log2 of hash buckets per row in that count (see _count_strings)
_BUCKET_BITS = 3


class CategoricalBuilder(ColumnBuilder):
    """Value counts, lexicographic min and max, and a distinct count of a
    string, dictionary or bool column."""

    def __init__(self, name: str, type_name: str, arrow_type: pa.DataType) -> None:
        import pyarrow.types as pt

        super().__init__(ColumnProfile(name, type_name, CATEGORICAL))
        t = arrow_type.value_type if pt.is_dictionary(arrow_type) else arrow_type
        self.is_bool = pt.is_boolean(t)
        self.top = self.col.top = FrequentItems(TOPK_CAP)
        self.distinct = self.col.distinct = DistinctSketch()
        # a dictionary whose counts are still being summed (add_values)
        self._dict: pa.Array | None = None
        self._dict_counts: np.ndarray | None = None

    def add_values(self, arr: pa.Array) -> None:
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
            counts = np.bincount(numpy_view(idx).astype(np.intp, copy=False), minlength=len(arr.dictionary))
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
        """Count the values of the pending dictionary (see add_values)."""
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
        if len(values) == 0:
            return
        self.top.update_counts(values, counts)
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset: values.offset + len(values) + 1]
        data_buf = values.buffers()[2]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
        self.distinct.update_hashes(hash_strings(offsets, data))
        self._update_bounds(values)

    def _update_bounds(self, values: pa.Array) -> None:
        """Lexicographic min and max over non-null strings."""
        import pyarrow.compute as pc

        c = self.col
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
        self.distinct.update_hashes(hashes)
        self._update_bounds(arr)
        for start in range(0, n, _STRING_CHUNK):
            self._count_strings(arr.slice(start, _STRING_CHUNK), hashes[start: start + _STRING_CHUNK])

    def _count_strings(self, arr: pa.Array, hashes: np.ndarray) -> None:
        """Top-k counts of one chunk of non-null strings (see _add_strings)."""
        import pyarrow.compute as pc

        top = self.top
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
        return self.col
