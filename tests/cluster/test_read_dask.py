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
