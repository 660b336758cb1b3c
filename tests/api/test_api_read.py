"""dvx.open / read_table / read_pandas / read_polars / dataset / stats at HEAD, an older revision, a tag and a branch."""

from __future__ import annotations

import io
import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import dvx

pytestmark = pytest.mark.s3

REVS = [None, "v1.0", "release", "HEAD~1", "main"]


def _name(h, rev):  # fixture rev name for a user-facing rev
    return {None: "head", "main": "head", "HEAD": "head", "v1.0": "v1.0", "release": "v2", "HEAD~1": "v2"}[rev]


def _parquet(data: bytes, columns=None) -> pa.Table:
    return pq.read_table(io.BytesIO(data), columns=columns)


@pytest.mark.parametrize("rev", REVS)
def test_read_table_parquet_at_each_revision(history, rev) -> None:
    want = _parquet(history.files[_name(history, rev)]["data/train.parquet"])
    got = dvx.read_table("data/train.parquet", rev=rev, repo=history.root)
    assert got.equals(want)


def test_read_table_columns_and_filter(history) -> None:
    want = _parquet(history.files["v1.0"]["data/train.parquet"], ["c00", "c07"])
    want = want.filter(pc.field("c00") >= 4990)
    got = dvx.read_table("data/train.parquet", rev="v1.0", columns=["c00", "c07"],
                         filter=pc.field("c00") >= 4990, repo=history.root)
    assert got.column_names == ["c00", "c07"]
    assert got.num_rows == 10
    assert got.equals(want)


def test_read_table_unknown_column_is_a_usage_error(history) -> None:
    from dvx.errors import UsageError

    with pytest.raises(UsageError, match="no column 'nope'"):
        dvx.read_table("data/train.parquet", rev="v1.0", columns=["nope"], repo=history.root)


@pytest.mark.parametrize("rev", ["v1.0", "HEAD"])
def test_read_table_text_formats_and_feather(history, rev) -> None:
    files = history.files[_name(history, rev)]
    csv = dvx.read_table("data/train.csv", rev=rev, repo=history.root)
    assert csv.num_rows == files["data/train.csv"].count(b"\n") - 1
    assert csv.column("name")[0].as_py() == "n0"
    js = dvx.read_table("data/events.jsonl", rev=rev, repo=history.root, columns=["kind"])
    assert js.num_rows == 200 and js.column("kind")[4].as_py() == "k1"
    ft = dvx.read_table("data/table.feather", rev=rev, repo=history.root)
    assert ft.equals(pa.ipc.open_file(io.BytesIO(files["data/table.feather"])).read_all())


def test_read_table_directory_as_one_dataset(history) -> None:
    files = history.files["v1.0"]
    want = pa.concat_tables([_parquet(files["data/parts/a.parquet"]), _parquet(files["data/parts/sub/b.parquet"])])
    got = dvx.read_table("data/parts", rev="v1.0", repo=history.root)
    assert got.num_rows == 500
    assert sorted(got.column("c00").to_pylist()) == sorted(want.column("c00").to_pylist())
    # a file inside a tracked directory is addressable on its own
    sub = dvx.read_table("data/parts/sub/b.parquet", rev="v1.0", repo=history.root)
    assert sub.equals(_parquet(files["data/parts/sub/b.parquet"]))


def test_read_pandas_and_polars(history) -> None:
    df = dvx.read_pandas("data/train.csv", rev="release", repo=history.root)
    assert len(df) == 301 and list(df.columns) == ["id", "name", "score"]
    pl = pytest.importorskip("polars")
    pdf = dvx.read_polars("data/train.parquet", rev="v1.0", columns=["c00"], repo=history.root)
    assert isinstance(pdf, pl.DataFrame)
    assert pdf["c00"].to_list()[:3] == [1000.0, 1001.0, 1002.0]


def test_read_polars_without_polars_names_the_package(history, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # import polars -> ImportError
    with pytest.raises(ImportError, match="pip install polars"):
        dvx.read_polars("data/train.parquet", repo=history.root)


@pytest.mark.parametrize("rev", ["v1.0", "release", None])
def test_open_binary_is_seekable_and_exact(history, rev) -> None:
    want = history.files[_name(history, rev)]["data/train.parquet"]
    with dvx.open("data/train.parquet", rev=rev, repo=history.root) as f:
        assert f.read() == want
        f.seek(len(want) - 100)
        assert f.read(50) == want[-100:-50]
        f.seek(1234)
        assert f.read(7000) == want[1234:8234]


def test_open_text_mode_and_git_files(history) -> None:
    with dvx.open("data/notes.txt", rev="v1.0", repo=history.root, mode="r") as f:
        assert f.readline() == "première ligne\n"
        assert sum(1 for _ in f) == 799
    with dvx.open("README.md", rev="v1.0", repo=history.root, mode="r") as f:
        assert f.read() == "# demo v1\n"
    with dvx.open("README.md", repo=history.root, mode="rb") as f:
        assert f.read() == b"# demo v2\n"
    with pytest.raises(ValueError, match="reads only"):
        dvx.open("README.md", repo=history.root, mode="w")


def test_dataset_is_lazy_and_reads_the_revision(history) -> None:
    import pyarrow.dataset as ds

    d = dvx.dataset("data/parts", rev="v1.0", repo=history.root)
    assert isinstance(d, ds.Dataset)
    assert sorted(d.files) == ["data/parts/a.parquet", "data/parts/sub/b.parquet"]
    assert d.count_rows() == 500
    t = dvx.dataset("data/train.parquet", rev="release", repo=history.root).to_table(columns=["c00"])
    assert t.column("c00")[0].as_py() == 2000.0


def test_stats_stored_profile_and_computed(history) -> None:
    from dvx.quality.profile import Profile

    stored = dvx.stats("data/train.parquet", rev="release", repo=history.root)
    assert isinstance(stored, Profile)
    assert stored.oid == history.profile_oid and stored.row_count == 4000
    # no profile in the pointer at v1.0: computed from the data at that revision
    computed = dvx.stats("data/train.parquet", rev="v1.0", repo=history.root)
    assert computed.row_count == 4000 and computed.columns["c00"].min == 1000.0
    part = dvx.stats("data/parts", rev="v1.0", repo=history.root)
    assert part.row_count == 500


def test_repo_from_another_working_directory(history, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert dvx.read_table("data/new.parquet", repo=str(history.root)).num_rows == 100
    sub = history.root / "data"
    assert dvx.read_table("data/new.parquet", repo=sub).num_rows == 100  # any folder inside the repository


def test_import_dvx_is_cheap() -> None:
    code = ("import sys, dvx; heavy = [m for m in ('pyarrow', 'fsspec', 'pandas', 'polars') if m in sys.modules];"
            "assert not heavy, heavy; assert callable(dvx.read_table); assert 'pyarrow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lazy_exports() -> None:
    from dvx.fs import DvxFileSystem

    assert dvx.DvxFileSystem is DvxFileSystem
    assert {"open", "read_table", "read_pandas", "read_polars", "dataset", "stats", "DvxFileSystem"} <= set(dir(dvx))
    with pytest.raises(AttributeError):
        dvx.no_such_thing  # noqa: B018
