"""Item 4 and the refusals: versions workers cannot read, remote errors on workers, no scheduler."""

from __future__ import annotations

import json
import pickle

import pytest
from clusterkit import parquet_bytes
from dvxtest import git, make_dvx_repo, run_dvx, write_files
from hintkit import commands, follow
from s3kit import free_port

from dvx.errors import ClusterError, DataFormatError, DvxError, ObjectMissingError, PointerError

pytestmark = pytest.mark.s3


def _error_lines(cp) -> list[str]:
    return [ln for ln in cp.stderr.splitlines() if ln.startswith("error: ")]


def test_each_refusal_names_the_command_that_fixes_it(dask_cluster, cluster_repo, tmp_path) -> None:
    repo = cluster_repo.clone(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", f"work-{tmp_path.name}")  # pushes go to a branch of its own
    git(repo, "config", "push.default", "current")
    run_dvx(repo, "pull", "data/small.parquet")
    (repo / "data" / "small.parquet").write_bytes(parquet_bytes(7, 900, 300))
    args = ("stats", "data/small.parquet", "--json", "--scheduler", dask_cluster.address)

    cp = run_dvx(repo, *args, check=False)  # modified on disk: not committed
    assert cp.returncode == 1 and len(_error_lines(cp)) == 1, cp.stderr
    assert "is not committed" in cp.stderr
    steps = commands(cp)
    assert steps == ["dvx add data/small.parquet", "git commit -am MESSAGE", "git push", "dvx push"]
    for step in steps[:2]:
        follow(repo, step, MESSAGE="v3")

    cp = run_dvx(repo, *args, check=False)  # committed, not on origin
    assert cp.returncode == 1 and "is not on origin" in cp.stderr, cp.stderr
    assert commands(cp) == ["git push"]
    follow(repo, "git push")

    cp = run_dvx(repo, *args, check=False)  # on origin, data not on the remote
    assert cp.returncode == 1 and "is not on the remote" in cp.stderr, cp.stderr
    assert commands(cp) == ["dvx push"]
    cp = run_dvx(repo, *args, "--rev", "HEAD", check=False)  # the same version, named by a revision
    assert cp.returncode == 1 and commands(cp) == ["dvx push --rev HEAD"], cp.stderr
    follow(repo, "dvx push --rev HEAD")  # pushes what HEAD names: the workspace version too

    cp = run_dvx(repo, *args)  # workers read it: the profile one machine computes
    from dvx.quality.profile import profile_path

    want = profile_path(repo / "data" / "small.parquet")
    got = json.loads(cp.stdout)
    assert got["rows"] == want.row_count if "rows" in got else got["row_count"] == want.row_count


def test_unreachable_scheduler_is_one_line(cluster_repo, tmp_path) -> None:
    repo = cluster_repo.clone(tmp_path / "repo")
    cp = run_dvx(repo, "stats", "data/small.parquet", "--rev", "v1", "--scheduler", f"127.0.0.1:{free_port()}",
                 check=False)
    assert cp.returncode == 1
    lines = _error_lines(cp)
    assert len(lines) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:" in lines[0], cp.stderr
    assert "Traceback" not in cp.stderr


def test_missing_object_on_the_workers_is_one_line(dask_cluster, s3_bucket, tmp_path) -> None:
    """The client plans from its workspace copy; the workers find the remote's packs gone."""
    bucket = s3_bucket()
    root = make_dvx_repo(tmp_path / "repo")
    run_dvx(root, "remote", "add", "-d", "s3", f"{bucket.url}/store")
    run_dvx(root, "remote", "modify", "s3", "endpoint_url", bucket.endpoint)
    write_files(root, {"data/t.parquet": parquet_bytes(5, 800, 200)})
    run_dvx(root, "add", "data/t.parquet")
    git(root, "add", "-A")
    git(root, "commit", "--no-verify", "-qm", "t")
    bare = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(root, "remote", "add", "origin", f"file://{bare}")
    git(root, "push", "-q", "-u", "origin", "main")
    run_dvx(root, "push")
    s3 = bucket.client()
    packs = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket.name)["Contents"] if "/packs/" in o["Key"]]
    assert packs
    for key in packs:
        s3.delete_object(Bucket=bucket.name, Key=key)
    cp = run_dvx(root, "stats", "data/t.parquet", "--scheduler", dask_cluster.address, check=False)
    assert cp.returncode == 1, cp.stderr
    lines = _error_lines(cp)
    assert len(lines) == 1 and "Traceback" not in cp.stderr, cp.stderr
    # raised on a worker, pickled back whole: it names the remote and what is missing there
    assert "missing from remote 's3'" in lines[0] and bucket.name in lines[0], lines[0]


@pytest.mark.parametrize("err", [
    DvxError("m", "run `dvx push`"),
    ClusterError("c", "h"),
    ObjectMissingError("data/x: version 1234 is not in the cache", "run `dvx fetch`"),
    DataFormatError("data/x.parquet", "not a table"),
    PointerError("data/x.dvx", 3, "bad key", "fix it"),
])
def test_errors_pickle_back_whole(err) -> None:
    got = pickle.loads(pickle.dumps(err))
    assert type(got) is type(err)
    assert got.format_message() == err.format_message() and got.exit_code == err.exit_code
    assert str(got) == str(err)


def test_no_git_url_names_the_config_key(dask_cluster, cluster_repo, tmp_path) -> None:
    repo = cluster_repo.clone(tmp_path / "repo")
    git(repo, "remote", "remove", "origin")
    args = ("stats", "data/small.parquet", "--rev", "v1", "--json", "--scheduler", dask_cluster.address)
    cp = run_dvx(repo, *args, check=False)
    assert cp.returncode == 2 and "no git URL for the Dask workers" in cp.stderr, cp.stderr
    assert commands(cp) == ["dvx config compute.repo_url URL"]
    follow(repo, commands(cp)[0], URL=cluster_repo.url)
    assert json.loads(run_dvx(repo, *args).stdout)["path"] == "data/small.parquet"


def test_an_oserror_a_task_raises_is_not_a_lost_scheduler(dask_cluster, tmp_path) -> None:
    """A task's own OSError comes back as raised; only a lost connection is "lost the Dask scheduler"."""
    import os
    import uuid

    from dvx.cluster import run_tasks

    missing = str(tmp_path / "no-such-file")
    with pytest.raises(FileNotFoundError) as got:
        run_tasks(os.stat, [missing], [f"dvx-test-stat-{uuid.uuid4().hex}"], dask_cluster.address)
    assert missing in str(got.value)
