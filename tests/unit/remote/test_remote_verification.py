"""No reader returns unverified bytes and no index file is trusted unless it hashes to its name:
the cache, a folder remote and moto, including the local copies of a remote's index files."""

from __future__ import annotations

import io
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dvxtest import make_dvx_repo, run_dvx
from fsspec.implementations.local import LocalFileSystem
from unit.remote.remotekit import build_tree, local_store

from dvx.errors import CorruptObjectError, ObjectMissingError
from dvx.hashing import from_hex, hash_bytes
from dvx.remote import fetch, fetch_objects, open_url, push
from dvx.store import FileManifest, ObjectStore, ObjectType
from dvx.store import pack as _pack
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

TEXT = b"".join(b"%d,row %d\n" % (i, i * 3) for i in range(3000))
NOISE = random.Random(4).randbytes(6000)


def _one_file_store(root: Path, data: bytes, compression: str | None) -> tuple[ObjectStore, bytes, bytes]:
    s = local_store(root, compression=compression)
    tree = build_tree(s, {"f.bin": data})
    (entry,) = s.get_tree_manifest(tree).entries
    return s, tree, entry.file_oid


def _flip_chunk_byte(store: ObjectStore, oid: bytes, write: Callable[[str, bytes], None], read: Callable[[str], bytes]) -> None:
    """Flip one byte in the middle of ``oid``'s stored blob, in place."""
    e = store.locate(oid)
    assert e is not None
    path = _pack.pack_path(store.root, e.pack)
    data = bytearray(read(path))
    data[e.offset + e.length // 2] ^= 0x10
    write(path, bytes(data))


def _readers(store: ObjectStore, oid: bytes, m: FileManifest) -> list[Callable[[], object]]:
    return [
        lambda: store.get(oid),
        lambda: list(store.get_many([oid])),
        lambda: list(store.get_many([oid], jobs=2)),
        lambda: store.read_range(oid, 0, 1),
        lambda: store.write_file(m, io.BytesIO(), "f.bin"),
    ]


@pytest.mark.parametrize("compression", ["zstd", None])
def test_cache_readers_and_push_refuse_a_flipped_byte(tmp_path: Path, compression: str | None) -> None:
    s, tree, foid = _one_file_store(tmp_path / "a", TEXT + NOISE, compression)
    m = s.get_file_manifest(foid)
    victim = m.chunks[len(m.chunks) // 2].oid
    _flip_chunk_byte(s, victim, lambda p, d: Path(p).write_bytes(d), lambda p: Path(p).read_bytes())
    fresh = local_store(tmp_path / "a")
    for read in _readers(fresh, victim, m):
        with pytest.raises(CorruptObjectError):
            read()
    with pytest.raises(CorruptObjectError):
        push(fresh, open_url(str(tmp_path / "remote")), [(tree, ObjectType.TREE)])
    # nothing that names the damaged chunk reached the remote
    assert not open_url(str(tmp_path / "remote")).store.has(foid)


@pytest.fixture(params=["folder", "moto"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any], Any]:
    if request.param == "folder":
        return str(tmp_path / "remote"), {}, LocalFileSystem()
    b = request.getfixturevalue("s3_bucket")()
    return f"{b.url}/v", dict(b.options), b.fs()


def test_remote_readers_and_fetch_refuse_a_flipped_byte(tmp_path: Path, remote: Any) -> None:
    url, opts, fs = remote
    a, tree, foid = _one_file_store(tmp_path / "a", TEXT + NOISE, "zstd")
    push(a, open_url(url, opts), [(tree, ObjectType.TREE)])
    m = a.get_file_manifest(foid)
    victim = m.chunks[len(m.chunks) // 2].oid
    rstore = open_url(url, opts).store
    _flip_chunk_byte(rstore, victim, fs.pipe_file, fs.cat_file)
    rstore = open_url(url, opts).store
    for read in _readers(rstore, victim, m):
        with pytest.raises(CorruptObjectError):
            read()
    b = local_store(tmp_path / "b")
    with pytest.raises(CorruptObjectError):
        fetch(open_url(url, opts), b, [(tree, ObjectType.TREE)])
    with pytest.raises(CorruptObjectError):
        fetch_objects(b, open_url(url, opts), [victim])
    b.refresh()
    assert not b.has(victim) and not b.has(foid) and not b.has(tree)


def _misname_every_index(fs: Any, root: str) -> None:
    """Move each index file to a valid-looking name that is not the hash of its content."""
    for p in fs.ls(f"{root}/index", detail=False):
        data = fs.cat_file(p)
        fs.pipe_file(f"{root}/index/{hash_bytes(data + b'x').hex()}", data)
        fs.rm_file(p)


def test_misnamed_index_files_are_not_trusted_in_the_cache(tmp_path: Path) -> None:
    s, tree, _foid = _one_file_store(tmp_path / "a", TEXT, "zstd")
    _misname_every_index(s.fs, s.root)
    fresh = local_store(tmp_path / "a")
    assert not fresh.has(tree) and not fresh.entries()
    with pytest.raises(ObjectMissingError):
        fresh.get(tree)


def test_misnamed_index_files_are_not_trusted_on_a_remote(tmp_path: Path, remote: Any) -> None:
    url, opts, fs = remote
    a, tree, _foid = _one_file_store(tmp_path / "a", TEXT, "zstd")
    push(a, open_url(url, opts), [(tree, ObjectType.TREE)])
    root = open_url(url, opts).store.root
    _misname_every_index(fs, root)
    assert not open_url(url, opts).store.has(tree)
    res = fetch(open_url(url, opts), local_store(tmp_path / "b"), [(tree, ObjectType.TREE)])
    assert res.missing == [tree]


def test_a_tampered_local_copy_of_a_remote_index_is_not_trusted(tmp_path: Path, remote: Any) -> None:
    url, opts, _fs = remote
    a, tree, _foid = _one_file_store(tmp_path / "a", TEXT, "zstd")
    push(a, open_url(url, opts), [(tree, ObjectType.TREE)])
    b = local_store(tmp_path / "b")
    fetch(open_url(url, opts), b, [(tree, ObjectType.TREE)])
    copies = list((tmp_path / "b" / "remote-index").rglob("*"))
    kept = [p for p in copies if p.is_file()]
    assert kept, "fetch keeps verified copies of the remote's index files"
    # Replace each kept copy by another store's valid index: right format, wrong content for its name.
    other, _t, _f = _one_file_store(tmp_path / "other", NOISE, "zstd")
    (other_index,) = (tmp_path / "other" / "index").iterdir()
    for p in kept:
        shutil.copyfile(other_index, p)
    r = open_url(url, opts)
    r.use_index_cache(str(tmp_path / "b"))
    assert r.store.has(tree)  # the remote's real index was read again
    assert not any(r.store.has(o) for o in other.entries())
    for p in kept:  # and the copy was replaced by the verified file
        assert hash_bytes(p.read_bytes()).hex() == p.name


def test_workspace_cache_has_trusts_only_index_files_named_by_their_content(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / "t.csv").write_bytes(TEXT)
    run_dvx(repo, "add", "t.csv")
    oid = from_hex(ptr.load(str(repo / "t.csv.dvx"), "t.csv.dvx").oid)
    assert Workspace(repo).cache_has(oid)
    _misname_every_index(LocalFileSystem(), str(repo / ".dvx" / "cache"))
    assert not Workspace(repo).cache_has(oid)
