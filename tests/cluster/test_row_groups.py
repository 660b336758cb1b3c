"""Row-group partitions on real workers: a Parquet file cut into runs of row groups (a small
partition target, set in this process: the client plans, workers compute what they are sent)."""

from __future__ import annotations

import pytest
from dvxtest import git

from dvx import cluster, versions
from dvx.quality import partitions
from dvx.quality.sources import TableSource

pytestmark = pytest.mark.s3


def test_row_group_runs_on_workers_merge_to_the_local_bytes(dask_cluster, cluster_repo, tmp_path, monkeypatch) -> None:
    from dvx.quality.profile import profile_path
    from dvx.quality.suite import load_suite
    from dvx.quality.validate import run_suite

    monkeypatch.setattr(partitions, "DEFAULT_TARGET_BYTES", 400_000)  # ~10 row groups of ~300 KB: runs of one or two
    clone = cluster_repo.clone(tmp_path / "c")
    sha = git(clone, "rev-parse", "v1").stdout.strip()
    view = versions.open_view(clone, sha)
    fs = versions.arrow_filesystem(view)
    try:
        ref = TableSource(fs, "data/big.parquet", view.describe("data/big.parquet"))
        plan = partitions.plan_partitions(ref, target_bytes=partitions.DEFAULT_TARGET_BYTES)
        assert len(plan) >= 5 and all(p.row_groups is not None for p in plan)
        src = cluster.WorkerSource(cluster_repo.url, sha, "data/big.parquet", view.resolve("data/big.parquet").oid.hex())
        compute = cluster.Compute(dask_cluster.address)
        many = cluster.profile_on_cluster(ref, src, compute)
        local = cluster_repo.root / "data" / "big.parquet"
        assert many.to_bytes() == profile_path(local).to_bytes()  # profile_path plans with the same target

        suite = load_suite(cluster_repo.root / "expectations" / "train.json")
        dv = cluster.validate_on_cluster(ref, [suite], src, compute)
        one = run_suite(local, suite)  # one pass (a single partition at the default target)
        assert [r.to_gx() for r in dv.results] == [r.to_gx() for r in one.results]
        assert any(r.unexpected_count for r in dv.results)  # failures across partition boundaries
    finally:
        versions.release_arrow(fs)
