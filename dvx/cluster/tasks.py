"""The functions Dask workers run: one partition of one version, a small partial result back.

Each takes one picklable tuple (what ``run_tasks`` maps over) and opens the
version through ``dvx://`` semantics on the worker (:meth:`WorkerSource.open`:
the git URL cloned once per worker process, chunks fetched from the remote as
reads need them). A DvxError raised here (bad credentials, a missing object)
pickles back to the client with its message and hint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dvx.cluster.source import WorkerSource
    from dvx.quality.partitions import PartialValidation, Partition
    from dvx.quality.profile import Profile
    from dvx.quality.suite import Suite


def profile_task(item: tuple[WorkerSource, Partition]) -> Profile:
    """The profile of one partition (sketch-sized)."""
    from dvx.quality.partitions import profile_partition

    src, part = item
    with src.open() as ref:
        return profile_partition(ref, part)


def validate_task(item: tuple[WorkerSource, Suite, Any, Partition]) -> PartialValidation:
    """The Arrow engine's partial validation of one partition (``Any``: the dataset's pyarrow schema)."""
    from dvx.quality.partitions import validate_partition

    src, suite, schema, part = item
    with src.open() as ref:
        return validate_partition(ref, part, suite, schema=schema)
