"""Data-heavy work on a Dask cluster: partitions out, partial results back, merged on the client.

``scheduler_address`` says where the cluster is (``--scheduler``, ``DVX_SCHEDULER``,
``[compute] scheduler``); ``run_tasks`` runs one picklable function over a list of
inputs there, or in this process when no scheduler is given, and returns the
results in input order. Tasks are keyed by what they compute (``keys``), so a
task Dask re-runs after losing a worker replaces its result instead of adding a
second one. ``distributed`` is imported only when a scheduler is used.

``source`` says what workers read (a git URL and a commit; refuses versions
they could not read), ``tasks`` is what they run on one partition, ``jobs``
plans, runs and merges on the client. docs/cluster.md.
"""

from dvx.cluster.jobs import profile_on_cluster, validate_on_cluster
from dvx.cluster.runner import SCHEDULER_ENV, run_tasks, scheduler_address
from dvx.cluster.source import REPO_URL_ENV, Compute, WorkerSource, compute_settings, worker_source

__all__ = ["REPO_URL_ENV", "SCHEDULER_ENV", "Compute", "WorkerSource", "compute_settings", "profile_on_cluster",
           "run_tasks", "scheduler_address", "validate_on_cluster", "worker_source"]
