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


def test_validation_results_are_identical(dask_cluster, cluster_repo, tmp_path) -> None:
    local = cluster_repo.clone(tmp_path / "local")
    remote = cluster_repo.clone(tmp_path / "remote")
    run_dvx(local, "fetch", "--rev", "v1")  # one machine validates from its cache; the cluster client needs none
    one = run_dvx(local, "validate", "--rev", "v1", "--json", check=False)
    many = run_dvx(remote, "validate", "--rev", "v1", "--json", "--scheduler", dask_cluster.address, check=False)
    assert one.returncode == many.returncode == 1, (one.stdout, one.stderr, many.stderr)
    # the suites' paths name each clone's folder
    a = _without_timings(json.loads(one.stdout.replace(str(local), "REPO")))
    b = _without_timings(json.loads(many.stdout.replace(str(remote), "REPO")))
    assert json.dumps(a, indent=1, sort_keys=True) == json.dumps(b, indent=1, sort_keys=True)
    train = next(d for d in a["datasets"] if d["dataset"] == "data/train@v1")
    results = {r["expectation_config"]["type"]: r for r in train["results"]}
    between = results["expect_column_values_to_be_between"]["result"]
    assert between["unexpected_count"] >= 7  # unexpected values in each of the three files (partitions)
    assert not results["expect_column_values_to_be_in_set"]["success"]


def test_drift_and_check_through_the_cluster(dask_cluster, cluster_repo, tmp_path) -> None:
    local = cluster_repo.clone(tmp_path / "local")
    remote = cluster_repo.clone(tmp_path / "remote")
    run_dvx(local, "fetch", "--rev", "v1", "--rev", "v2")
    one = run_dvx(local, "drift", "data/train", "--rev", "v2", "--baseline", "v1", "--json", check=False)
    many = run_dvx(remote, "drift", "data/train", "--rev", "v2", "--baseline", "v1", "--json", "--scheduler",
                   dask_cluster.address, check=False)
    assert one.returncode == many.returncode == 1, (one.stderr, many.stderr)
    assert json.loads(one.stdout) == json.loads(many.stdout)
    assert "x" in json.loads(many.stdout)["drifted_columns"] or json.loads(many.stdout)["drifted"]

    one = run_dvx(local, "check", "data/train", "--rev", "v2", "--json", check=False)
    many = run_dvx(remote, "check", "data/train", "--rev", "v2", "--json", "--scheduler", dask_cluster.address,
                   check=False)
    assert one.returncode == many.returncode == 1, (one.stderr, many.stderr)
    a, b = json.loads(one.stdout), json.loads(many.stdout)
    for d in (a, b):
        for ds in d["datasets"]:
            ds.pop("cached", None)
    assert a == b
    assert {f["check"] for f in b["datasets"][0]["failures"]} == {"validation", "drift"}


SLOW = {"expectation_suite_name": "slow", "expectations": [
    {"expectation_type": "expect_column_value_lengths_to_be_between",  # the slow path: GX on the client
     "kwargs": {"column": "label", "min_value": 3, "max_value": 3}},
    {"expectation_type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "max_value": 5}},
]}
SCHEMA = """schema_type: dataframe
version: 0.35.0
columns:
  id:
    dtype: int64
    nullable: false
    checks:
      greater_than_or_equal_to:
        value: 0
  x:
    dtype: float64
    nullable: false
    checks:
      in_range:
        min_value: -10
        max_value: 10
"""


def test_slow_path_and_pandera_run_on_the_client(dask_cluster, cluster_repo, tmp_path) -> None:
    """Suites are the client's (workers get them in the tasks): bound here, uncommitted."""
    docs = []
    for name in ("local", "remote"):
        repo = cluster_repo.clone(tmp_path / name)
        (repo / "expectations" / "slow.json").write_text(json.dumps(SLOW))
        (repo / "expectations" / "schema.yaml").write_text(SCHEMA)
        with open(repo / "expectations" / "dvx.toml", "a") as f:
            f.write('\n[[bind]]\npath = "data/small.parquet"\nsuites = ["slow.json", "schema.yaml"]\n')
        extra = ("--scheduler", dask_cluster.address) if name == "remote" else ()
        if not extra:
            run_dvx(repo, "fetch", "--rev", "v1")
        cp = run_dvx(repo, "validate", "data/small.parquet", "--rev", "v1", "--json", *extra, check=False)
        assert cp.returncode == 1, cp.stderr
        docs.append(_without_timings(json.loads(cp.stdout.replace(str(repo), "REPO"))))
    assert json.dumps(docs[0], indent=1, sort_keys=True) == json.dumps(docs[1], indent=1, sort_keys=True)
    results = docs[1]["datasets"][0]["results"]
    engines = {r["expectation_type"]: r["meta"]["engine"] for r in results}
    assert engines["expect_column_value_lengths_to_be_between"] == "gx"
    assert len(docs[1]["datasets"][0]["suites"]) == 3  # train.json, slow.json, the pandera schema


def test_python_api_on_the_cluster(dask_cluster, cluster_repo, tmp_path) -> None:
    import dvx

    local, remote = cluster_repo.clone(tmp_path / "local"), cluster_repo.clone(tmp_path / "remote")
    one = dvx.stats("data/train", rev="v2", repo=local)
    many = dvx.stats("data/train", rev="v2", repo=remote, scheduler=dask_cluster.address)
    assert one.to_bytes() == many.to_bytes()
    r = dvx.drift("data/train", baseline="v1", rev="v2", repo=remote, scheduler=dask_cluster.address)
    assert r.drifted and r.current.to_bytes() == one.to_bytes()
