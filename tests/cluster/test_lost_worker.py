"""Item 4: a worker killed mid-job; Dask re-runs its partitions, keyed by partition, counted once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from clusterkit import MANY, held_results
from dvxtest import env, run_dvx

pytestmark = pytest.mark.s3


def test_killed_worker_leaves_the_profile_byte_identical(dask_cluster, cluster_repo, tmp_path) -> None:
    from dvx.quality.stores import QualityStores

    local = cluster_repo.root  # one machine: its workspace copy, read in this process
    one = json.loads(run_dvx(local, "stats", "data/many", "--rev", "v1", "--json").stdout)
    remote = cluster_repo.clone(tmp_path / "remote")
    job = subprocess.Popen([sys.executable, "-m", "dvx", "stats", "data/many", "--rev", "v1", "--json",
                            "--scheduler", dask_cluster.address], cwd=remote, env=env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def busiest_mid_job(c):
        held = held_results(c)
        name, most = max(held.items(), key=lambda kv: kv[1], default=("", 0))
        if most >= 2 and sum(held.values()) <= MANY - 6:  # mid-job: results held, tasks still to run
            return name, True  # the worker holding the most results: they are lost and must be recomputed
        return None

    killed, out, err = dask_cluster.kill_worker_mid_job(job, busiest_mid_job)
    assert killed, "the job ended before a worker could be killed"
    assert job.returncode == 0, err
    assert json.loads(out) == one
    stores = [QualityStores.at(r / ".dvx" / "cache").profiles.path(one["data_id"]).read_bytes() for r in (local, remote)]
    assert stores[0] == stores[1]
