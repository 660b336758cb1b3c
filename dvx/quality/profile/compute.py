"""Building a profile: one streaming pass over record batches, or over a file or directory.

The pass uses pyarrow.compute and numpy on whole record batches; memory is one
batch plus the sketches (about 30 KiB a column).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dvx.quality.profile.builder import ColumnBuilder
from dvx.quality.profile.categorical import CategoricalBuilder
from dvx.quality.profile.model import CATEGORICAL, NULL, NUMERIC, ColumnProfile, Profile, SkippedColumn
from dvx.quality.profile.numeric import NumericBuilder

if TYPE_CHECKING:
    import pyarrow as pa

    from dvx.quality.sources import TableRef


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



def _builder(name: str, kind: str, type_name: str, arrow_type: pa.DataType) -> ColumnBuilder:
    if kind == NUMERIC:
        return NumericBuilder(name, type_name, arrow_type)
    if kind == CATEGORICAL:
        return CategoricalBuilder(name, type_name, arrow_type)
    return ColumnBuilder(ColumnProfile(name, type_name, kind))


def profile_batches(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Profile:
    """Profile a stream of record batches with the given schema in one pass."""
    builders: dict[str, ColumnBuilder] = {}
    prof = Profile()
    positions: list[tuple[int, str]] = []
    for i, field in enumerate(schema):
        kind, type_name, reason = _classify(field.type)
        if kind is None:
            prof.skipped[field.name] = SkippedColumn(field.name, type_name, reason)
        elif field.name in builders:
            prof.skipped[field.name] = SkippedColumn(field.name, type_name, "duplicate column name")
        else:
            builders[field.name] = _builder(field.name, kind, type_name, field.type)
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


def profile_path(path: TableRef, columns: list[str] | None = None, *, target_bytes: int | None = None) -> Profile:
    """Profile a tabular file or directory: the merge of the profiles of its
    partitions (:mod:`dvx.quality.partitions`: one per file, in path order, and
    runs of row groups of a large Parquet file), computed in process. A Dask
    cluster computing the same partitions gives the same bytes. ``path`` is a
    local path or a :class:`~dvx.quality.sources.TableSource`. Raises
    DataFormatError/UsageError when the data cannot be read."""
    from dvx.quality import partitions

    plan = partitions.plan_partitions(path, target_bytes=target_bytes or partitions.DEFAULT_TARGET_BYTES)
    return partitions.merge_profiles((partitions.profile_partition(path, p, columns) for p in plan), plan)


def profile_file(path: TableRef, columns: list[str] | None = None, *, row_groups: tuple[int, int] | None = None
                 ) -> Profile:
    """Profile one tabular file, or the row groups [start, end) of a Parquet file."""
    from dvx.quality import tables

    # Low-cardinality Parquet string columns come as dictionary arrays: their
    # value counts are then a bincount of the indices, not a hash of strings.
    dictionary = None
    if tables.table_format(path) == "parquet":
        import pyarrow.types as pt

        schema = tables.read_schema(path)
        strings = [f.name for f in schema if (pt.is_string(f.type) or pt.is_large_string(f.type))
                   and (columns is None or f.name in columns)]
        dictionary = tables.dictionary_columns(path, strings) if strings else None
    schema, batches = tables.open_batches(path, columns=columns, dictionary=dictionary or None, row_groups=row_groups)
    return profile_batches(schema, batches)
