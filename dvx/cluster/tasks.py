"""The functions Dask workers run: one partition of one version, a small partial result back.

Each takes one picklable tuple (what ``run_tasks`` maps over) and opens the
version through ``dvx://`` semantics on the worker (:meth:`WorkerSource.open`:
the git URL cloned once per worker process, chunks fetched from the remote as
reads need them). A DvxError raised here (bad credentials, a missing object)
pickles back to the client with its message and hint.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dvx.cluster.source import WorkerSource
    from dvx.quality.partitions import PartialValidation, Partition
    from dvx.quality.profile import Profile
    from dvx.quality.suite import Suite


def _one_arrow_thread() -> None:
    """On a Dask worker, Arrow computes on one thread per task.

    Dask's parallelism is its worker threads; its nanny sets OMP_NUM_THREADS=1
    (which Arrow's pool reads) for the same reason, but a worker started with
    ``--no-nanny`` keeps a pool as large as the machine. Two such workers of one
    thread each on 2 cores ran 4 busy threads: 0.74 s a partition against 0.62 s
    with one Arrow thread each (timed by hand on bench_cluster's data). In this
    process (no scheduler: ``distributed`` not imported) the pool is left as it is."""
    if "distributed" not in sys.modules:
        return
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:  # not on a worker
        return
    import pyarrow as pa

    if pa.cpu_count() != 1:
        pa.set_cpu_count(1)


def profile_task(item: tuple[WorkerSource, Partition]) -> Profile:
    """The profile of one partition (sketch-sized)."""
    from dvx.quality.partitions import profile_partition

    src, part = item
    _one_arrow_thread()
    with src.open() as ref:
        return profile_partition(ref, part)


def validate_task(item: tuple[WorkerSource, Suite, Any, Partition]) -> PartialValidation:
    """The Arrow engine's partial validation of one partition (``Any``: the dataset's pyarrow schema)."""
    from dvx.quality.partitions import validate_partition

    src, suite, schema, part = item
    _one_arrow_thread()
    with src.open() as ref:
        return validate_partition(ref, part, suite, schema=schema)
