"""Item 2: dask.dataframe.read_parquet("dvx://...") and dvx.to_dask on real workers."""

from __future__ import annotations

import io
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.s3


def _expected(repo, prefix: str) -> pa.Table:
    parts = [pq.read_table(io.BytesIO(b)) for p, b in sorted(repo.files.items(), key=lambda kv: kv[0].split("/"))
             if p.startswith(prefix)]
    return pa.concat_tables(parts)


def test_read_parquet_on_workers(dask_cluster, cluster_repo) -> None:
    import dask.dataframe as dd
    from distributed import Client

    with Client(dask_cluster.address, set_as_default=False) as client:
        ddf = dd.read_parquet("dvx://data/train", storage_options={"rev": "v1", "repo": cluster_repo.url})
        got = client.compute(ddf.x.sum()).result()
        n = client.compute(ddf.shape[0]).result()
    want = _expected(cluster_repo, "data/train/")
    assert n == want.num_rows
    assert got == pytest.approx(pa.compute.sum(want.column("x")).as_py())


def test_filesystem_pickles_as_its_arguments(cluster_repo, tmp_path) -> None:
    from dvx.fs import DvxFileSystem

    fs = DvxFileSystem(repo=cluster_repo.url, rev="v1")
    data = pickle.dumps(fs)
    assert b"RepoView" not in data and b"testing" not in data and len(data) < 400, data
    again = pickle.loads(data)
    assert (again.repo, again.rev, again.remote) == (cluster_repo.url, "v1", None)
    assert again.view is fs.view  # views of a commit are shared in a process: no second clone
    assert again.cat_file("data/train/part-0.parquet", 0, 4) == b"PAR1"
    # a local path travels absolute (workers run in other folders)
    local = cluster_repo.clone(tmp_path / "c")
    import os

    cwd = os.getcwd()
    os.chdir(local)
    try:
        rel = pickle.loads(pickle.dumps(DvxFileSystem(repo=".", rev="v1")))
    finally:
        os.chdir(cwd)
    assert rel.repo == str(local)


def test_to_dask_and_one_clone_per_worker(dask_cluster, cluster_repo, tmp_path) -> None:
    from distributed import Client

    import dvx

    clone = cluster_repo.clone(tmp_path / "c")
    url = cluster_repo.url

    def clone_of_url() -> str | None:  # sent by value (cloudpickle): this module is not importable on workers
        from dvx.versions import clone as clones

        hit = clones._clones.get(url)
        return None if hit is None else str(hit)

    with Client(dask_cluster.address) as client:  # the default client: .compute() runs on the workers
        v1 = dvx.to_dask("data/train", rev="v1", repo=clone, columns=["id", "x"]).compute()
        want = _expected(cluster_repo, "data/train/")
        assert sorted(v1["id"]) == sorted(want.column("id").to_pylist())
        assert v1["x"].sum() == pytest.approx(pa.compute.sum(want.column("x")).as_py())
        first = client.run(clone_of_url)
        assert any(first.values()), first
        # rev=None: the commit at HEAD (v2: one more file), read by the URL of origin
        head = dvx.to_dask("data/train", repo=clone)
        assert len(head) == want.num_rows + 1000
        # a git URL as repo
        assert len(dvx.to_dask("data/train", rev="v1", repo=url)) == want.num_rows
        # each worker process cloned the URL once, whatever the revisions read
        after = client.run(clone_of_url)
        assert all(after[w] == p for w, p in first.items() if p is not None), (first, after)
