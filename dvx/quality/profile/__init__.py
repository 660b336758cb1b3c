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

Modules: ``model`` (the dataclasses and merge), ``codec`` (canonical bytes),
``compute`` (the pass over batches, files and directories) with one builder
per kind of column (``numeric``, ``categorical``, ``builder``).
"""

from dvx.quality.profile.categorical import TOPK_CAP
from dvx.quality.profile.codec import FORMAT, FORMAT_VERSION
from dvx.quality.profile.compute import profile_batches, profile_path, profile_table
from dvx.quality.profile.model import CATEGORICAL, NULL, NUMERIC, ColumnProfile, Profile, SkippedColumn

__all__ = [
    "CATEGORICAL", "FORMAT", "FORMAT_VERSION", "NULL", "NUMERIC", "TOPK_CAP", "ColumnProfile", "Profile",
    "SkippedColumn", "profile_batches", "profile_path", "profile_table",
]
