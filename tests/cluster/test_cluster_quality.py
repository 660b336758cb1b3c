"""Item 1: dvx stats / validate / drift / check on a real Dask cluster give what one machine gives."""

from __future__ import annotations

import json

import pytest
from dvxtest import git, run_dvx

from dvx.hashing import hash_hex

pytestmark = pytest.mark.s3


def _stored_profile(repo, data_id: str) -> bytes:
    from dvx.quality.stores import QualityStores

    return QualityStores.at(repo / ".dvx" / "cache").profiles.path(data_id).read_bytes()


def _without_timings(doc: dict) -> dict:
    for d in doc["datasets"]:
        d.pop("elapsed", None)
        d["notes"] = [n for n in d["notes"] if "great_expectations: " not in n]
        for s in d["suites"]:
            s.pop("cached", None)
    return doc


@pytest.mark.parametrize("path", ["data/train", "data/big.parquet"])
def test_profile_is_byte_identical(dask_cluster, cluster_repo, tmp_path, path) -> None:
    local = cluster_repo.clone(tmp_path / "local")
    remote = cluster_repo.clone(tmp_path / "remote")
    one = json.loads(run_dvx(local, "stats", path, "--rev", "v1", "--json").stdout)
    many = json.loads(run_dvx(remote, "stats", path, "--rev", "v1", "--json", "--scheduler",
                              dask_cluster.address).stdout)
    assert one == many
    data_id = one["data_id"]
    a, b = _stored_profile(local, data_id), _stored_profile(remote, data_id)
    assert a == b and hash_hex(a) == hash_hex(b)
    if path == "data/big.parquet":
        # The client read metadata only (the footer, and what the remote reads coalesce around it:
        # small files come whole): a fraction of the data came to its cache.
        packs = remote / ".dvx" / "cache" / "packs"
        cached = sum(p.stat().st_size for p in packs.rglob("*") if p.is_file()) if packs.exists() else 0
        assert cached < 0.3 * len(cluster_repo.files[path]), (cached, len(cluster_repo.files[path]))
    # A second run answers from the stored profile: no client, even with an unreachable scheduler.
    again = run_dvx(remote, "stats", path, "--rev", "v1", "--json", "--scheduler", "127.0.0.1:9")
    assert json.loads(again.stdout) == one


def test_workers_run_arrow_on_one_thread(dask_cluster, cluster_repo, tmp_path) -> None:
    """Workers started without a nanny keep a machine-sized Arrow pool; a dvx task sets it to
    one thread (Dask's own rule), while the client's process keeps its pool."""
    import os

    import pyarrow as pa
    from distributed import Client

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: Arrow's default pool is one thread already")
    remote = cluster_repo.clone(tmp_path / "remote")
    run_dvx(remote, "stats", "data/train", "--rev", "v1", "--json", "--scheduler", dask_cluster.address)
    with Client(dask_cluster.address, set_as_default=False) as c:
        threads = c.run(lambda: __import__("pyarrow").cpu_count())
    # the workers that ran the job's tasks (a worker another test restarted may have run none)
    assert 1 in threads.values(), threads
    assert pa.cpu_count() > 1  # this process (the in-process path) is left alone
