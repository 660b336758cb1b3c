"""rev=None reads the workspace version; missing paths name path and revision."""

from __future__ import annotations

import io
import os

import pyarrow.parquet as pq
import pytest
from dvxtest import run_dvx

import dvx
from dvx import versions
from dvx.errors import UsageError

pytestmark = pytest.mark.s3


def test_unchanged_workspace_file_is_read_directly(history) -> None:
    view = versions.open_view(history.root)
    node = view.resolve("data/train.parquet")
    assert node.local == str(history.root / "data" / "train.parquet")
    assert view.local_path(node) == node.local
    inside = view.resolve("data/parts/sub/b.parquet")
    assert inside.local == str(history.root / "data" / "parts" / "sub" / "b.parquet")


def test_modified_or_deleted_workspace_data_reads_the_pointer_version(history, tmp_path) -> None:
    repo = history.copy(tmp_path / "ws")
    want = history.files["head"]["data/train.parquet"]
    (repo / "data" / "train.parquet").write_bytes(b"not the tracked version")
    (repo / "data" / "parts" / "a.parquet").write_bytes(b"junk")
    os.unlink(repo / "data" / "train.csv")
    assert versions.open_view(repo).resolve("data/train.parquet").local is None
    with dvx.open("data/train.parquet", repo=repo) as f:
        assert f.read() == want
    assert dvx.read_table("data/train.parquet", repo=repo).equals(pq.read_table(io.BytesIO(want)))
    assert dvx.read_table("data/parts", repo=repo).num_rows == 500
    with dvx.open("data/train.csv", repo=repo) as f:
        assert f.read() == history.files["head"]["data/train.csv"]


def test_uncommitted_add_is_the_workspace_version(history, tmp_path) -> None:
    repo = history.copy(tmp_path / "ws")
    (repo / "data" / "train.csv").write_bytes(b"id\n1\n2\n3\n")
    run_dvx(repo, "add", "data/train.csv")
    assert dvx.read_table("data/train.csv", repo=repo).num_rows == 3
    assert dvx.read_table("data/train.csv", rev="HEAD", repo=repo).num_rows == 301
    (repo / "scratch.txt").write_text("local only\n")
    with dvx.open("scratch.txt", repo=repo, mode="r") as f:
        assert f.read() == "local only\n"
    with pytest.raises(FileNotFoundError, match="scratch.txt"):
        dvx.open("scratch.txt", rev="HEAD", repo=repo)


@pytest.mark.parametrize(
    ("path", "rev", "where"),
    [
        ("data/new.parquet", "v1.0", "v1.0"),  # added later
        ("data/notes.txt", "HEAD", "HEAD"),  # removed at HEAD
        ("data/notes.txt", None, "workspace"),
        ("data/parts/nope.parquet", "v1.0", "v1.0"),  # inside a tracked directory
        ("data/train.parquet/x", "release", "release"),  # below a tracked file
        ("no/such/file.csv", None, "workspace"),
    ],
)
def test_missing_path_names_path_and_revision(history, path, rev, where) -> None:
    for call in (
        lambda: dvx.read_table(path, rev=rev, repo=history.root),
        lambda: dvx.open(path, rev=rev, repo=history.root),
        lambda: dvx.stats(path, rev=rev, repo=history.root),
        lambda: dvx.DvxFileSystem(repo=history.root, rev=rev).cat_file(path),
    ):
        with pytest.raises(FileNotFoundError) as ei:
            call()
        msg = str(ei.value)
        assert path in msg and where in msg and str(history.root) in msg


def test_bad_revision_and_path_outside_the_repository(history) -> None:
    with pytest.raises(UsageError, match="unknown revision"):
        dvx.read_table("data/train.parquet", rev="no-such-tag", repo=history.root)
    with pytest.raises(UsageError, match="outside the repository"):
        dvx.open("../etc/passwd", repo=history.root)


def test_corrupt_chunk_in_the_cache_is_detected(history, tmp_path) -> None:
    from dvx.errors import CorruptObjectError
    from dvx.store.pack import pack_path
    from dvx.workspace import Workspace

    repo = history.copy(tmp_path / "ws")
    view = versions.open_view(repo, "v1.0")
    m = view.cache.get_file_manifest(view.resolve("data/train.parquet").oid)
    victim = m.chunks[len(m.chunks) // 2]
    e = Workspace(repo).cache.locate(victim.oid)
    assert e is not None and not e.compressed  # the local cache is raw by default
    with open(pack_path(str(repo / ".dvx" / "cache"), e.pack), "r+b") as f:
        f.seek(e.offset + 10)
        b = f.read(1)
        f.seek(e.offset + 10)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(CorruptObjectError, match="data/train.parquet.*do not match its id"):
        dvx.read_table("data/train.parquet", rev="v1.0", repo=repo)
    with pytest.raises(CorruptObjectError), dvx.open("data/train.parquet", rev="v1.0", repo=repo) as f:
        f.read()


def test_zstd_compressed_cache_reads(tmp_path) -> None:
    from dvxtest import git, make_dvx_repo

    repo = make_dvx_repo(tmp_path / "z")
    cfg = repo / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace('compression = "none"', 'compression = "zstd"')
                   .replace("min_size = 16384", "min_size = 1024").replace("avg_size = 65536", "avg_size = 4096")
                   .replace("max_size = 262144", "max_size = 16384"))
    data = b"id,text\n" + b"".join(b"%d,row number %d of a compressible file\n" % (i, i) for i in range(20_000))
    (repo / "t.csv").write_bytes(data)
    run_dvx(repo, "add", "t.csv")
    git(repo, "add", "-A")
    git(repo, "commit", "--no-verify", "-qm", "z")
    view = versions.open_view(repo, "HEAD")
    m = view.cache.get_file_manifest(view.resolve("t.csv").oid)
    assert all(view.cache.locate(c.oid).compressed for c in m.chunks[:3])  # type: ignore[union-attr]
    with dvx.open("t.csv", rev="HEAD", repo=repo) as f:
        f.seek(12_345)
        assert f.read(50_000) == data[12_345:62_345]
    t = dvx.read_table("t.csv", rev="HEAD", repo=repo)
    assert t.num_rows == 20_000 and t.column("id")[-1].as_py() == 19_999


def test_pyarrow_file_reads_in_parallel_pieces_are_exact(history) -> None:
    import pyarrow as pa

    want = history.files["v1.0"]["data/blob.bin"]
    view = versions.open_view(history.root, "v1.0")
    with pa.PythonFile(view.open(view.resolve("data/blob.bin"), arrow=True), mode="r") as f:
        assert f.size() == len(want)
        n = len(want) - 3_000_000
        assert f.read_at(n, 1_000_001) == want[1_000_001 : 1_000_001 + n]
        f.seek(0)
        assert f.read() == want
        assert f.read_buffer(10).size == 0  # at the end of the file


def test_tsv_gzipped_csv_and_ipc_stream(tmp_path) -> None:
    import gzip

    import pyarrow as pa
    import pyarrow.compute as pc
    from dvxtest import git, make_dvx_repo

    repo = make_dvx_repo(tmp_path / "f")
    (repo / "t.tsv").write_bytes(b"a\tb\n1\tx\n2\ty\n")
    (repo / "c.csv.gz").write_bytes(gzip.compress(b"a,b\n1,x\n2,y\n3,z\n"))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, pa.schema([("a", pa.int64()), ("b", pa.string())])) as w:
        w.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    (repo / "s.arrows").write_bytes(sink.getvalue().to_pybytes())
    run_dvx(repo, "add", "t.tsv", "c.csv.gz", "s.arrows")
    git(repo, "add", "-A")
    git(repo, "commit", "--no-verify", "-qm", "formats")
    assert dvx.read_table("t.tsv", rev="HEAD", repo=repo).column("b").to_pylist() == ["x", "y"]
    assert dvx.read_table("c.csv.gz", rev="HEAD", repo=repo).num_rows == 3
    s = dvx.read_table("s.arrows", rev="HEAD", repo=repo, columns=["b"], filter=pc.field("a") > 1)
    assert s.to_pydict() == {"b": ["y", "z"]}
    from dvx.errors import DataFormatError

    with pytest.raises(DataFormatError, match="IPC streams"):
        dvx.dataset("s.arrows", rev="HEAD", repo=repo)


def test_reads_return_only_verified_bytes_every_time(history, tmp_path) -> None:
    """A chunk damaged after this process read it cleanly is refused on every later read
    (no once-per-process verification: docs/format.md, reader rule 2)."""
    from dvx.errors import CorruptObjectError
    from dvx.store.pack import pack_path
    from dvx.workspace import Workspace

    repo = history.copy(tmp_path / "ws")
    want = history.files["v1.0"]["data/train.parquet"]
    assert dvx.read_table("data/train.parquet", rev="v1.0", repo=repo).num_rows == 4000
    with dvx.open("data/train.parquet", rev="v1.0", repo=repo) as f:
        assert f.read() == want
    view = versions.open_view(repo, "v1.0")
    m = view.cache.get_file_manifest(view.resolve("data/train.parquet").oid)
    victim = m.chunks[-1]  # the Parquet footer: every table read needs it
    e = Workspace(repo).cache.locate(victim.oid)
    assert e is not None and not e.compressed
    with open(pack_path(str(repo / ".dvx" / "cache"), e.pack), "r+b") as f:
        f.seek(e.offset + e.length // 2)
        b = f.read(1)
        f.seek(e.offset + e.length // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    for _ in range(3):
        with pytest.raises(CorruptObjectError, match="data/train.parquet.*do not match its id"):
            dvx.read_table("data/train.parquet", rev="v1.0", repo=repo)
        with pytest.raises(CorruptObjectError), dvx.open("data/train.parquet", rev="v1.0", repo=repo) as f:
            f.read()
        # A range without the damaged chunk still reads: only the chunks covering it are read.
        assert view.read(view.resolve("data/train.parquet"), 0, 100) == want[:100]
