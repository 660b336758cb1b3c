"""Data-heavy work on a Dask cluster: partitions out, partial results back, merged on the client.

``scheduler_address`` says where the cluster is (``--scheduler``, ``DVX_SCHEDULER``,
``[compute] scheduler``); ``run_tasks`` runs one picklable function over a list of
inputs there, or in this process when no scheduler is given, and returns the
results in input order. Tasks are keyed by what they compute (``keys``), so a
task Dask re-runs after losing a worker replaces its result instead of adding a
second one. ``distributed`` is imported only when a scheduler is used.
"""

from dvx.cluster.runner import SCHEDULER_ENV, run_tasks, scheduler_address

__all__ = ["SCHEDULER_ENV", "run_tasks", "scheduler_address"]
