"""Partitions of a dataset: the units a profile or a validation is computed in, then merged.

A dataset (one file, or a directory of files) is cut into :class:`Partition`\\ s:
one per file, and a Parquet file whose row groups hold more than
``target_bytes`` of compressed column chunks into runs of consecutive row
groups of about ``target_bytes``. The plan is a function of the data alone
(the file list in path order and the Parquet footers), so a client and its
workers agree on it without talking.

Each partition is computed alone (:func:`profile_partition`,
:func:`validate_partition`), on this machine or on a Dask worker, into a small
picklable partial result; the partials merge in plan order
(:func:`merge_profiles`, :func:`merge_validation`). The one-machine path is
the same plan, computed in process and merged the same way, so the two give
identical results by construction.

Merge order of profiles: the partitions of one file merge first (left to
right), then the files' profiles (left to right, in path order). Sketch merges
are deterministic but not associative (a KLL merge compacts), so the order is
part of the result; this one keeps a file's profile the same whether it stands
alone or inside a directory (dvx caches profiles per file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dvx.errors import DataFormatError, UsageError
from dvx.quality.partvalidate import (
    PartialValidation,
    SlowValidation,
    SuitePlan,
    is_partitionable,
    merge_validation,
    plan_suite,
    validate_partition,
    validate_slow,
)
from dvx.quality.sources import TableRef, child, exists, is_dir, label_of, relative_name

if TYPE_CHECKING:
    from dvx.quality.profile.model import Profile

__all__ = [
    "DEFAULT_TARGET_BYTES", "PartialValidation", "Partition", "SlowValidation", "SuitePlan", "is_partitionable",
    "merge_profiles", "merge_validation", "partition_ref", "plan_partitions", "plan_suite", "profile_partition",
    "validate_partition", "validate_slow",
]

# 128 MiB of compressed column chunks a partition: a few seconds of decoding
# (about 0.5-1 GiB of Arrow data), so a Dask task's fixed costs (a round trip
# to the scheduler, a footer read, merging ~30 KiB of sketches a column) stay
# under a percent; small enough that a 1 GiB file keeps 8 workers busy and a
# lost worker redoes little. Dask's own chunk sizes are of the same order.
DEFAULT_TARGET_BYTES = 128 << 20


@dataclass(frozen=True)
class Partition:
    """One unit of work: a file of the dataset, or a run of its row groups."""

    index: int  # position in the plan = merge order
    file: str  # path of the file relative to the dataset root ("" = the dataset is one file)
    row_groups: tuple[int, int] | None  # [start, end) row groups of a Parquet file; None = the whole file
    rows: int | None  # rows when known from metadata (Parquet), else None


def _row_group_bytes(ref: TableRef) -> list[tuple[int, int]]:
    """(compressed bytes, rows) of each row group of a Parquet file, from its footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dvx.quality import sources, tables

    try:
        src = ref if isinstance(ref, sources.TableSource) else os.fspath(ref)
        md = pq.ParquetFile(sources.open_input(src)).metadata
    except (pa.ArrowException, OSError, ValueError) as e:
        raise tables._wrap(label_of(ref), e) from e  # noqa: SLF001 - the one wording of unreadable data
    out = []
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        out.append((sum(rg.column(j).total_compressed_size for j in range(rg.num_columns)), rg.num_rows))
    return out


def _cut(sizes: list[tuple[int, int]], target_bytes: int) -> list[tuple[tuple[int, int] | None, int]]:
    """Runs of consecutive row groups of about ``target_bytes``: a run ends once it
    reaches the target (a row group larger than the target is a run of its own)."""
    if sum(b for b, _ in sizes) <= target_bytes:
        return [(None, sum(r for _, r in sizes))]
    runs: list[tuple[tuple[int, int] | None, int]] = []
    start, acc, rows = 0, 0, 0
    for g, (b, r) in enumerate(sizes):
        if acc and acc + b > target_bytes:
            runs.append(((start, g), rows))
            start, acc, rows = g, 0, 0
        acc += b
        rows += r
    runs.append(((start, len(sizes)), rows))
    return runs


def plan_partitions(ref: TableRef, *, target_bytes: int = DEFAULT_TARGET_BYTES) -> list[Partition]:
    """The partitions of a dataset in merge order (reads only Parquet footers).

    Raises UsageError when ``ref`` does not exist, DataFormatError when it is
    not a table, a directory holds no table file, or a Parquet footer is unreadable.
    """
    from dvx.quality import tables

    if target_bytes <= 0:
        raise ValueError("target_bytes must be positive")
    if not exists(ref):
        raise UsageError(f"{label_of(ref)}: no such file or directory")
    if is_dir(ref):
        files = [(relative_name(ref, f), f) for f in tables.data_files(ref)]
        if not files:
            raise DataFormatError(label_of(ref), "directory holds no Parquet, CSV, JSON Lines or Arrow files")
    else:
        if tables.table_format(ref) is None:
            raise DataFormatError(label_of(ref), "not a tabular file (expected .parquet, .csv, .jsonl, .arrow/.feather)")
        files = [("", ref)]
    out: list[Partition] = []
    for rel, f in files:
        if tables.table_format(f) != "parquet":
            out.append(Partition(len(out), rel, None, None))
            continue
        for groups, rows in _cut(_row_group_bytes(f), target_bytes):
            out.append(Partition(len(out), rel, groups, rows))
    return out


def partition_ref(ref: TableRef, part: Partition) -> TableRef:
    """The file a partition reads (a local path or a TableSource), below the dataset ``ref``."""
    return child(ref, part.file)


def profile_partition(ref: TableRef, part: Partition, columns: list[str] | None = None) -> Profile:
    """The profile of one partition of the dataset ``ref`` (picklable, sketch-sized)."""
    from dvx.quality.profile.compute import profile_file

    return profile_file(partition_ref(ref, part), columns, row_groups=part.row_groups)


def merge_profiles(parts: Iterable[Profile], partitions: Sequence[Partition] | None = None) -> Profile:
    """Merge partial profiles in the given order, folding as they come (an
    iterator is consumed one profile at a time: memory holds two, not the plan).

    With ``partitions`` (the plan the profiles were computed from, same length
    and order), the partitions of one file merge first, then the files: the
    order :func:`dvx.quality.profile.profile_path` uses. Without, a left fold.
    """
    total: Profile | None = None  # the files before the current one
    current: Profile | None = None  # the current file's partitions so far
    last: str | None = None
    count = 0
    for prof in parts:
        if partitions is not None:
            if count >= len(partitions):
                raise ValueError(f"more profiles than the {len(partitions)} partitions")
            file = partitions[count].file
            if current is not None and file != last:
                total = current if total is None else total.merge(current)
                current = None
            last = file
        current = prof if current is None else current.merge(prof)
        count += 1
    if partitions is not None and count != len(partitions):
        raise ValueError(f"{count} profiles for {len(partitions)} partitions")
    if current is None:
        raise ValueError("no profiles to merge")
    return current if total is None else total.merge(current)
