"""The ObjectStore contract, run against every kind of store.

``StoreContract`` holds the tests; each ``Test*`` subclass supplies a
``store_factory`` fixture: a callable that opens (or reopens) one and the
same store, passing keyword options (``pack_size``, ``compression``) to
``ObjectStore``. Add a subclass per backend (moto, SeaweedFS, ...).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from dvx.errors import CorruptObjectError, ObjectMissingError
from dvx.hashing import hash_bytes
from dvx.store import ChunkRef, FileManifest, ObjectStore, ObjectType, TreeEntry, TreeManifest, walk
from dvx.store import pack as _pack

StoreFactory = Callable[..., ObjectStore]
TEXT = b"id,value,label\n" + b"".join(b"%d,%d,label_%d\n" % (i, i * 3, i % 7) for i in range(2000))


def _blobs(seed: int, n: int, size: int = 2000) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randrange(1, size)) for _ in range(n)]


def _put(store: ObjectStore, blobs: list[bytes]) -> list[bytes]:
    with store.writer() as w:
        for b in blobs:
            w.put(hash_bytes(b), ObjectType.CHUNK, b)
    return [hash_bytes(b) for b in blobs]


class StoreContract:
    """Behaviour every ObjectStore backend must show."""

    def test_round_trip_and_reopen(self, store_factory: StoreFactory) -> None:
        blobs = [*_blobs(1, 30), TEXT]  # compression is decided per blob: text after random data still compresses
        oids = _put(store_factory(pack_size=8000), blobs)
        fresh = store_factory()
        assert set(fresh.entries()) == set(oids)
        assert [fresh.get(o) for o in oids] == blobs
        assert dict(fresh.get_many(reversed(oids))) == dict(zip(oids, blobs, strict=True))
        assert fresh.locate(hash_bytes(TEXT)).compressed  # type: ignore[union-attr]

    def test_layout_names_are_content_ids(self, store_factory: StoreFactory) -> None:
        s = store_factory()
        _put(s, _blobs(2, 5))
        fs, root = s.fs, s.root
        (pid,) = s.pack_ids()
        path = _pack.pack_path(root, pid)
        data = fs.cat_file(path)
        tail = data[-(_pack.TRAILER_SIZE + _pack.parse_trailer(data[-_pack.TRAILER_SIZE :], len(data))) :]
        assert _pack.pack_id_of(tail) == pid
        (idx,) = fs.ls(f"{root}/index", detail=False)
        assert hash_bytes(fs.cat_file(idx)).hex() == idx.rstrip("/").rsplit("/", 1)[-1]

    def test_dedup_across_writers_and_instances(self, store_factory: StoreFactory) -> None:
        blobs = _blobs(3, 10)
        _put(store_factory(), blobs)
        s = store_factory()
        with s.writer() as w:
            assert [w.put(hash_bytes(b), ObjectType.CHUNK, b) for b in blobs] == [False] * 10
        assert w.stats.packs_written == 0 and w.stats.objects_deduped == 10

    def test_failed_writer_adds_nothing_and_keeps_earlier_data(self, store_factory: StoreFactory) -> None:
        first = _blobs(4, 5)
        oids = _put(store_factory(), first)
        with pytest.raises(RuntimeError), store_factory().writer() as w:
            w.put(hash_bytes(b"late"), ObjectType.CHUNK, b"late")
            raise RuntimeError("interrupted")
        fresh = store_factory()
        assert not fresh.has(hash_bytes(b"late"))
        assert [fresh.get(o) for o in oids] == first
        assert len(fresh.fs.ls(f"{fresh.root}/index", detail=False)) == 1

    def test_refresh_sees_another_instance(self, store_factory: StoreFactory) -> None:
        reader = store_factory()
        assert len(reader.entries()) == 0
        oids = _put(store_factory(), _blobs(5, 4))
        assert not reader.has(oids[0])
        reader.refresh()
        assert all(reader.has(o) for o in oids)

    def test_missing_and_corrupt_objects(self, store_factory: StoreFactory) -> None:
        s = store_factory(compression=None)
        blobs = _blobs(6, 3, 500)
        oids = _put(s, blobs)
        with pytest.raises(ObjectMissingError):
            s.get(b"\x07" * 16)
        e = s.locate(oids[1])
        assert e is not None
        path = _pack.pack_path(s.root, e.pack)
        data = bytearray(s.fs.cat_file(path))
        data[e.offset] ^= 0xFF
        s.fs.pipe_file(path, bytes(data))
        fresh = store_factory()
        assert fresh.get(oids[0]) == blobs[0]
        with pytest.raises(CorruptObjectError, match=e.pack.hex()):
            fresh.get(oids[1])
        s.fs.pipe_file(path, bytes(data[: e.offset + 1]))
        with pytest.raises(CorruptObjectError, match="truncated"):
            store_factory().get(oids[2])

    def test_manifests_walk_and_ranges(self, store_factory: StoreFactory) -> None:
        s = store_factory()
        chunks = _blobs(7, 3)
        fm = FileManifest(tuple(ChunkRef(hash_bytes(c), len(c)) for c in chunks))
        with s.writer() as w:
            for c in chunks:
                w.put(hash_bytes(c), ObjectType.CHUNK, c)
            foid = w.put_manifest(fm)
            toid = w.put_manifest(TreeManifest((TreeEntry(b"x/\xe9t\xe9.csv", foid, fm.size, False),)))
        fresh = store_factory()
        assert fresh.get_file_manifest(foid) == fm
        assert fresh.get_tree_manifest(toid).entries[0].path == b"x/\xe9t\xe9.csv"
        assert {o for o, _ in walk(fresh, toid, ObjectType.TREE)} == {toid, foid} | {hash_bytes(c) for c in chunks}
        assert fresh.read_range(hash_bytes(chunks[0]), 1, 5) == chunks[0][1:5]


class TestLocalFolderStore(StoreContract):
    """A store in a local folder (the cache, or a ``file://`` remote)."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        def make(**kw: object) -> ObjectStore:
            return ObjectStore(LocalFileSystem(), str(tmp_path / "store"), **kw)  # type: ignore[arg-type]

        return make


class TestMemoryStore(StoreContract):
    """fsspec's memory filesystem: the in-memory pack path used for every non-local remote."""

    @pytest.fixture
    def store_factory(self) -> Iterator[StoreFactory]:
        root = f"/contract-{random.getrandbits(48):012x}"

        def make(**kw: object) -> ObjectStore:
            return ObjectStore(MemoryFileSystem(), root, **kw)  # type: ignore[arg-type]

        yield make
        fs = MemoryFileSystem()
        if fs.exists(root):
            fs.rm(root, recursive=True)
