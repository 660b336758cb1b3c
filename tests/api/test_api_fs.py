"""``dvx://`` through fsspec, pandas, pyarrow, polars and duckdb; listing, stat and ranged reads."""

from __future__ import annotations

import io

import fsspec
import pyarrow.parquet as pq
import pytest

import dvx
from dvx.fs import DvxFileSystem

pytestmark = pytest.mark.s3


def test_registered_for_the_dvx_protocol(history) -> None:
    fs = fsspec.filesystem("dvx", repo=str(history.root), rev="v1.0")
    assert isinstance(fs, DvxFileSystem)
    fs2, path = fsspec.core.url_to_fs("dvx://data/train.csv", repo=str(history.root), rev="v1.0")
    assert isinstance(fs2, DvxFileSystem) and path == "data/train.csv"
    with fsspec.open("dvx://data/train.csv", "rb", repo=str(history.root), rev="v1.0") as f:
        assert f.read() == history.files["v1.0"]["data/train.csv"]


def test_ls_info_find_at_a_revision(history) -> None:
    fs = DvxFileSystem(repo=history.root, rev="v1.0")
    names = fs.ls("data", detail=False)
    # pointer files are not listed; their tracked paths are (git's own files too)
    assert names == ["data/.gitignore", "data/blob.bin", "data/events.jsonl", "data/notes.txt", "data/parts",
                     "data/table.feather", "data/train.csv", "data/train.parquet"]
    info = fs.info("data/train.parquet")
    assert info["type"] == "file" and info["size"] == len(history.files["v1.0"]["data/train.parquet"])
    assert info["source"] == "dvx" and len(info["oid"]) == 32
    assert fs.info("data/parts")["type"] == "directory"
    assert fs.info("data/parts/sub")["type"] == "directory"
    assert fs.info("README.md")["source"] == "git"
    assert fs.find("data/parts") == ["data/parts/a.parquet", "data/parts/sub/b.parquet"]
    assert fs.isdir("data/parts/sub") and fs.isfile("data/parts/sub/b.parquet")
    assert not fs.exists("data/new.parquet") and DvxFileSystem(repo=history.root, rev="HEAD").exists("data/new.parquet")
    assert "data/notes.txt" not in DvxFileSystem(repo=history.root).ls("data", detail=False)
    assert fs.ls("dvx://data/train.csv", detail=False) == ["data/train.csv"]
    assert fs.ukey("data/train.parquet") == info["oid"]


def test_cat_file_ranges(history) -> None:
    fs = DvxFileSystem(repo=history.root, rev="release")
    data = history.files["v2"]["data/train.parquet"]
    assert fs.cat_file("data/train.parquet") == data
    assert fs.cat_file("data/train.parquet", 100, 20_000) == data[100:20_000]
    assert fs.cat_file("data/train.parquet", -8) == data[-8:]
    assert fs.cat_file("data/train.parquet", 10, -10) == data[10:-10]
    assert fs.cat_file("data/train.parquet", len(data) + 5, len(data) + 10) == b""
    assert fs.cat_file("README.md", 2, 6) == b"demo"
    with fs.open("data/train.parquet", block_size=4096) as f:
        f.seek(5000)
        assert f.read(10_000) == data[5000:15_000]
    with fs.open("data/notes.txt", "r", encoding="utf-8") as f:
        assert f.readline() == "première ligne\n"


def test_read_only(history) -> None:
    fs = DvxFileSystem(repo=history.root, rev="v1.0")
    with pytest.raises(PermissionError):
        fs.open("data/x.csv", "wb")
    with pytest.raises(IsADirectoryError):
        fs.cat_file("data/parts")


def test_pandas_read_parquet_and_csv(history) -> None:
    import pandas as pd

    opts = {"rev": "v1.0", "repo": str(history.root)}
    df = pd.read_parquet("dvx://data/train.parquet", storage_options=opts, columns=["c00", "c03"])
    want = pq.read_table(io.BytesIO(history.files["v1.0"]["data/train.parquet"]), columns=["c00", "c03"]).to_pandas()
    pd.testing.assert_frame_equal(df, want)
    csv = pd.read_csv("dvx://data/train.csv", storage_options={"rev": "release", "repo": str(history.root)})
    assert len(csv) == 301


def test_pyarrow_dataset_over_fsspec(history) -> None:
    import pyarrow.dataset as ds
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs = PyFileSystem(FSSpecHandler(DvxFileSystem(repo=history.root, rev="v1.0")))
    d = ds.dataset("data/parts", filesystem=fs, format="parquet")
    assert d.count_rows() == 500
    t = pq.read_table("data/train.parquet", filesystem=fs, columns=["c05"])
    assert t.column("c05").equals(
        pq.read_table(io.BytesIO(history.files["v1.0"]["data/train.parquet"]), columns=["c05"]).column("c05"))


def test_polars(history) -> None:
    pl = pytest.importorskip("polars")
    with fsspec.open("dvx://data/train.parquet", "rb", repo=str(history.root), rev="release") as f:
        df = pl.read_parquet(f, columns=["c00"])
    assert df["c00"][0] == 2000.0
    lazy = pl.scan_pyarrow_dataset(dvx.dataset("data/parts", rev="v1.0", repo=history.root))
    assert lazy.select(pl.len()).collect().item() == 500


def test_duckdb(history) -> None:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.register_filesystem(DvxFileSystem(repo=history.root, rev="v1.0"))
    n, first = con.sql("select count(*), min(c00) from read_parquet('dvx://data/train.parquet')").fetchall()[0]
    assert (n, first) == (4000, 1000.0)
    assert con.sql("select count(*) from read_parquet('dvx://data/parts/**/*.parquet')").fetchall()[0][0] == 500
    assert con.sql("select count(*) from read_csv('dvx://data/train.csv')").fetchall()[0][0] == 300
