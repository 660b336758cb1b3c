"""Item 3 on a real cluster: ``dvx add --external --scheduler`` chunks on ``dask worker`` processes.

Uses the ``dask_cluster`` fixture of tests/cluster/conftest.py (a scheduler and two workers on
127.0.0.1 with the S3 test credentials in their environment); skipped where that fixture is absent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from dvxtest import make_dvx_repo, run_dvx, write_files

from dvx.workspace import pointer as ptr

pytestmark = pytest.mark.s3


def _source_and_repo(s3_bucket, files: dict[str, bytes], tmp_path: Path):
    """(a bucket holding ``files`` under raw/, the remote's bucket, a repository whose default remote it is)."""
    src, remote = s3_bucket(), s3_bucket()
    client = src.client()
    for key, data in files.items():
        client.put_object(Bucket=src.name, Key=f"raw/{key}", Body=data)
    repo = make_dvx_repo(tmp_path / "repo")
    run_dvx(repo, "remote", "add", "-d", "store", f"{remote.url}/store")
    run_dvx(repo, "remote", "modify", "store", "endpoint_url", remote.endpoint)
    return src, remote, repo


def test_external_add_on_workers_matches_a_local_add(request, s3_bucket, tmp_path: Path) -> None:
    try:
        cluster = request.getfixturevalue("dask_cluster")
    except pytest.FixtureLookupError:
        pytest.skip("no dask_cluster fixture (tests/cluster/conftest.py)")
    cluster.ensure_workers(2)
    files = {f"part-{i}.bin": bytes([i]) * 50_000 + (b"%d" % i) * 70_000 for i in range(4)}
    files["sub/notes.txt"] = b"on the workers\n"
    src, remote, repo = _source_and_repo(s3_bucket, files, tmp_path)
    out = run_dvx(repo, "add", "--external", f"{src.url}/raw/", "--out", "data/raw",
                  "--scheduler", cluster.address).stdout
    assert out.startswith("added     data/raw  (5 files") and f"read on {cluster.address}" in out, out
    other = make_dvx_repo(tmp_path / "other")
    write_files(other / "data/raw", files)
    run_dvx(other, "add", "data/raw")
    assert ptr.load(repo / "data/raw.dvx").oid == ptr.load(other / "data/raw.dvx").oid
    run_dvx(repo, "pull", "data/raw")
    for key, data in files.items():
        assert (repo / "data/raw" / key).read_bytes() == data, key


def _index_records(read: dict[str, bytes]) -> Counter[bytes]:
    """Object id -> how many index records name it, over the index files ``read`` (name -> bytes)."""
    from dvx.store.index import decode_index

    return Counter(oid for data in read.values() for oid in decode_index(data))


def test_worker_lost_mid_add_leaves_the_remote_as_a_clean_add(dask_cluster, s3_bucket, tmp_path: Path) -> None:
    """A worker killed while it chunks: Dask re-runs the batch elsewhere; the pointer is a local add's and
    the remote holds each object once, every pack indexed."""
    import os
    import subprocess
    import sys

    from distributed import Client
    from dvxtest import env

    dask_cluster.ensure_workers(2)
    # a batch long enough to be caught running (a few MB), small enough for a fast suite
    files = {f"part-{i}.bin": os.urandom(2 << 20) for i in range(4)}
    src, remote, repo = _source_and_repo(s3_bucket, files, tmp_path)
    job = subprocess.Popen([sys.executable, "-m", "dvx", "add", "--external", f"{src.url}/raw/", "--out", "data/raw",
                            "--scheduler", dask_cluster.address], cwd=repo, env=env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)

    def chunking(c):
        names = {a: w["name"] for a, w in c.scheduler_info(n_workers=-1)["workers"].items()}
        for addr, keys in c.processing().items():
            task = next((str(k) for k in keys if str(k).startswith("dvx-external-")), None)
            if task is not None:
                return str(names[addr]), task  # the worker chunking the batch: lost mid-task
        return None

    task, out, err = dask_cluster.kill_worker_mid_job(job, chunking)
    assert task is not None, "the add ended before its worker could be killed"
    assert job.returncode == 0, err

    def scheduler_story(key: str, dask_scheduler=None) -> list[tuple]:  # by value: workers lack this module
        return [tuple(t) for t in dask_scheduler.story(key)]

    with Client(dask_cluster.address, set_as_default=False) as c:
        story = c.run_on_scheduler(scheduler_story, task)
    # (key, from, to, ...): processing on the killed worker, then once more on the other one
    assert [t[2] for t in story].count("processing") == 2, story
    assert out.startswith("added     data/raw  (4 files") and f"4 objects read on {dask_cluster.address}" in out, out

    other = make_dvx_repo(tmp_path / "other")  # the same files added on one machine
    write_files(other / "data/raw", files)
    run_dvx(other, "add", "data/raw")
    assert ptr.load(repo / "data/raw.dvx").oid == ptr.load(other / "data/raw.dvx").oid
    s3 = remote.client()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=remote.name, Prefix="store/index/").get("Contents", [])]
    on_remote = _index_records({k: s3.get_object(Bucket=remote.name, Key=k)["Body"].read() for k in keys})
    local = _index_records({p.name: p.read_bytes() for p in (other / ".dvx/cache/index").iterdir()})
    assert max(on_remote.values()) == 1, "an object indexed twice on the remote"
    assert set(on_remote) == set(local)  # the objects a local add makes: nothing lost, nothing extra
    cp = run_dvx(repo, "fsck", "--cloud", check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr  # every pack indexed and intact, everything reachable
    run_dvx(repo, "pull", "data/raw")
    for key, data in files.items():
        assert (repo / "data/raw" / key).read_bytes() == data, key
