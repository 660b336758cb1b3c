"""ObjectStore / StoreWriter on a real local folder and on fsspec's memory filesystem."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from storekit import local_store, make_store, memory_root  # noqa: F401 - pytest fixtures

from dvx.errors import CorruptObjectError, ObjectMissingError, StoreWriteError
from dvx.hashing import hash_bytes
from dvx.store import ChunkRef, FileManifest, ObjectStore, ObjectType, TreeEntry, TreeManifest, walk
from dvx.store import pack as _pack
from dvx.store import writer as _writer
from dvx.store.index import decode_index


def blob(i: int, n: int = 1000) -> bytes:
    """Deterministic incompressible bytes."""
    return random.Random(i).randbytes(n)


def put_all(store: ObjectStore, blobs: list[bytes], **kw: object) -> list[bytes]:
    oids = [hash_bytes(b) for b in blobs]
    with store.writer() as w:
        for o, b in zip(oids, blobs, strict=True):
            w.put(o, ObjectType.CHUNK, b, **kw)  # type: ignore[arg-type]
    return oids


def files_under(root: Path, sub: str) -> list[Path]:
    d = root / sub
    return sorted(p for p in d.rglob("*") if p.is_file()) if d.exists() else []


def test_put_get_round_trip_and_layout(local_store: ObjectStore, tmp_path: Path) -> None:
    blobs = [os.urandom(3000) for _ in range(20)] + [b"text " * 2000]
    oids = put_all(local_store, blobs)
    for o, b in zip(oids, blobs, strict=True):
        assert local_store.get(o) == b
    root = tmp_path / "cache"
    packs = files_under(root, "packs")
    indexes = files_under(root, "index")
    assert len(packs) == 1 and len(indexes) == 1
    p = packs[0]
    # packs/<first 2 hex>/<pack id>, pack id = xxh3-128 of the pack's tail (header + trailer)
    data = p.read_bytes()
    tail = data[-(_pack.TRAILER_SIZE + _pack.parse_trailer(data[-_pack.TRAILER_SIZE :], len(data))) :]
    assert p.parent.name == p.name[:2] and _pack.pack_id_of(tail).hex() == p.name
    assert hash_bytes(indexes[0].read_bytes()).hex() == indexes[0].name
    assert local_store.pack_ids() == {bytes.fromhex(p.name)}
    assert files_under(root, "tmp") == []
    # A fresh store sees the same objects through the index file.
    again = ObjectStore(local_store.fs, str(root))
    assert set(again.entries()) == set(oids)
    e = again.locate(oids[0])
    assert e is not None and e.pack == bytes.fromhex(p.name) and e.otype is ObjectType.CHUNK
    assert again.locate(b"\x00" * 16) is None


def test_stats_and_dedup(local_store: ObjectStore) -> None:
    b1, b2 = blob(1), blob(2)
    o1, o2 = hash_bytes(b1), hash_bytes(b2)
    with local_store.writer() as w:
        assert w.put(o1, ObjectType.CHUNK, b1) is True
        assert w.put(o1, ObjectType.CHUNK, b1) is False  # this writer has it
        assert w.put(o2, ObjectType.CHUNK, memoryview(b2)) is True
    assert w.stats.objects_added == 2 and w.stats.objects_deduped == 1
    assert w.stats.bytes_in == 2000 and w.stats.packs_written == 1 and w.stats.indexes_written == 1
    with local_store.writer() as w2:
        assert w2.put(o1, ObjectType.CHUNK, b1) is False  # the store has it
    assert w2.stats.packs_written == 0 and w2.stats.indexes_written == 0
    assert local_store.missing([o1, o2, b"\x01" * 16]) == {b"\x01" * 16}


def test_pack_is_absent_until_complete(local_store: ObjectStore, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    w = local_store.writer()
    with w:
        w.put(hash_bytes(blob(1)), ObjectType.CHUNK, blob(1))
        assert files_under(root, "packs") == [] and files_under(root, "index") == []
        assert len(files_under(root, "tmp")) == 1  # streamed to tmp/ first
        assert not ObjectStore(local_store.fs, str(root)).has(hash_bytes(blob(1)))
        w.flush()
        assert len(files_under(root, "packs")) == 1 and len(files_under(root, "index")) == 1
        assert local_store.has(hash_bytes(blob(1)))
    assert files_under(root, "tmp") == []


def test_exception_in_writer_leaves_no_index_and_earlier_data_reads(local_store: ObjectStore, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    first = put_all(local_store, [blob(1), blob(2)])
    with pytest.raises(RuntimeError), local_store.writer() as w:
        w.put(hash_bytes(blob(3)), ObjectType.CHUNK, blob(3))
        raise RuntimeError("boom")
    assert len(files_under(root, "index")) == 1 and len(files_under(root, "packs")) == 1
    assert files_under(root, "tmp") == []
    fresh = ObjectStore(local_store.fs, str(root))
    assert [fresh.get(o) for o in first] == [blob(1), blob(2)]
    assert not fresh.has(hash_bytes(blob(3)))
    with pytest.raises(StoreWriteError, match="closed"):
        w.put(hash_bytes(blob(4)), ObjectType.CHUNK, blob(4))


def test_completed_packs_are_indexed_even_when_the_writer_fails(make_store: Callable[..., ObjectStore]) -> None:
    store = make_store(pack_size=1500)
    with pytest.raises(KeyError), store.writer() as w:
        for i in range(5):  # each 1000-byte blob fills... one pack per two blobs
            w.put(hash_bytes(blob(i)), ObjectType.CHUNK, blob(i))
        raise KeyError("interrupted")
    fresh = make_store()
    # Blobs 0-3 are in two complete packs; blob 4 was in the unfinished one.
    assert sorted(fresh.entries()) == sorted(hash_bytes(blob(i)) for i in range(4))
    assert len(fresh.pack_ids()) == 2


def test_write_error_breaks_the_writer(local_store: ObjectStore, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    (root / "packs").write_bytes(b"not a directory")  # renaming a pack into packs/xx/ fails
    w = local_store.writer()
    w.put(hash_bytes(blob(1)), ObjectType.CHUNK, blob(1))
    with pytest.raises(StoreWriteError, match="cannot write to"):
        w.flush()
    with pytest.raises(StoreWriteError, match="unusable after an earlier write error"):
        w.put(hash_bytes(blob(2)), ObjectType.CHUNK, blob(2))
    with pytest.raises(StoreWriteError):
        w.flush()
    assert files_under(root, "index") == [] and files_under(root, "tmp") == []


def test_put_validates_arguments_without_breaking(local_store: ObjectStore) -> None:
    with local_store.writer() as w:
        with pytest.raises(ValueError, match="16 bytes"):
            w.put(b"short", ObjectType.CHUNK, b"x")
        assert w.put(hash_bytes(b"ok"), ObjectType.CHUNK, b"ok")
    assert local_store.get(hash_bytes(b"ok")) == b"ok"


def _only_pack(tmp_path: Path) -> Path:
    (p,) = files_under(tmp_path / "cache", "packs")
    return p


@pytest.mark.parametrize("compressible", [False, True])
def test_corrupt_pack_byte_raises_corrupt_object_error(
    local_store: ObjectStore, tmp_path: Path, compressible: bool
) -> None:
    data = b"abc, def, 1234\n" * 400 if compressible else blob(7, 4000)
    (oid,) = put_all(local_store, [data], compress=compressible)
    e = local_store.locate(oid)
    assert e is not None and e.compressed is compressible
    p = _only_pack(tmp_path)
    raw = bytearray(p.read_bytes())
    raw[e.offset + e.length // 2] ^= 0x40
    p.write_bytes(bytes(raw))
    fresh = ObjectStore(local_store.fs, str(tmp_path / "cache"))
    with pytest.raises(CorruptObjectError) as ei:
        fresh.get(oid)
    msg = ei.value.format_message()
    assert oid.hex() in msg and p.name in msg and str(tmp_path / "cache") in msg
    # the store states the fact; which command helps is the application's call
    assert "corrupt" in msg and ei.value.hint is None
    for read in (lambda: list(fresh.get_many([oid])), lambda: fresh.read_range(oid, 0, 10),
                 lambda: list(fresh.get_many([oid], jobs=2))):
        with pytest.raises(CorruptObjectError):
            read()


def test_truncated_and_missing_pack_raise_clear_errors(local_store: ObjectStore, tmp_path: Path) -> None:
    oids = put_all(local_store, [blob(1), blob(2)])
    p = _only_pack(tmp_path)
    p.write_bytes(p.read_bytes()[:1500])  # cuts into the second blob
    fresh = ObjectStore(local_store.fs, str(tmp_path / "cache"))
    assert fresh.get(oids[0]) == blob(1)
    with pytest.raises(CorruptObjectError, match="truncated"):
        fresh.get(oids[1])
    p.unlink()
    fresh2 = ObjectStore(local_store.fs, str(tmp_path / "cache"))
    with pytest.raises(CorruptObjectError, match="missing"):
        fresh2.get(oids[0])
    with pytest.raises(ObjectMissingError, match="not in"):
        fresh2.get(b"\x02" * 16)


def test_damaged_index_is_ignored_with_a_warning(
    local_store: ObjectStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    oids = put_all(local_store, [blob(1)])
    (idx,) = files_under(tmp_path / "cache", "index")
    idx.write_bytes(idx.read_bytes()[:-3])
    with caplog.at_level(logging.WARNING, logger="dvx.store"):
        fresh = ObjectStore(local_store.fs, str(tmp_path / "cache"))
        assert not fresh.has(oids[0])
    assert "ignoring index" in caplog.text
    # A rerun of the same add repairs the store (the orphan pack is harmless).
    assert put_all(fresh, [blob(1)]) == oids
    assert fresh.get(oids[0]) == blob(1)


def test_index_can_be_rebuilt_from_pack_headers(make_store: Callable[..., ObjectStore], tmp_path: Path) -> None:
    store = make_store(pack_size=2500)
    blobs = [blob(i, 1000 + i) for i in range(7)] + [b"compress me " * 300]
    put_all(store, blobs)
    from_index = {tuple(r) for r in store._index.records()}
    from_packs = set()
    for p in files_under(tmp_path / "cache", "packs"):
        from_packs |= set(_pack.records_from_pack(p.read_bytes(), bytes.fromhex(p.name)))
    assert from_packs == from_index and len(from_index) == 8
    (idx,) = files_under(tmp_path / "cache", "index")
    assert set(decode_index(idx.read_bytes()).values()) == from_index


def test_pack_size_splits_packs_and_refresh_sees_other_writers(make_store: Callable[..., ObjectStore]) -> None:
    a = make_store(pack_size=4096)
    reader = make_store()
    assert len(reader.entries()) == 0
    oids = put_all(a, [blob(i) for i in range(10)])
    assert len(a.pack_ids()) == 2  # a pack closes once it holds >= 4096 bytes: 5 + 5 blobs
    assert not reader.has(oids[0])
    reader.refresh()
    assert all(reader.has(o) for o in oids)


def test_intermediate_index_bounds_lost_work(
    make_store: Callable[..., ObjectStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_writer, "_INDEX_EVERY", 3)
    s = make_store(pack_size=2000)
    with s.writer() as w:
        for i in range(8):
            w.put(hash_bytes(blob(i)), ObjectType.CHUNK, blob(i))
        # 3 packs of 2 finished -> an index was written without flush()
        assert w.stats.indexes_written >= 1
        assert make_store().has(hash_bytes(blob(0)))
    assert len(make_store().entries()) == 8


def test_get_many_groups_by_pack_and_yields_each_once(make_store: Callable[..., ObjectStore]) -> None:
    s = make_store(pack_size=5000)
    blobs = [blob(i) for i in range(12)]
    oids = put_all(s, blobs)
    want = [oids[9], oids[0], oids[5], oids[0], oids[1]]
    got = list(s.get_many(want))
    assert sorted(o for o, _ in got) == sorted(set(want))
    assert all(data == blobs[oids.index(o)] for o, data in got)
    # storage order: by pack id, then offset
    keys = [(s.locate(o).pack, s.locate(o).offset) for o, _ in got]  # type: ignore[union-attr]
    assert keys == sorted(keys)
    with pytest.raises(ObjectMissingError):
        list(s.get_many([oids[0], b"\x03" * 16]))


class CountingMemoryFS(MemoryFileSystem):
    """fsspec's memory filesystem, recording each cat_ranges call (a real fs, not a mock)."""

    calls: list[list[tuple[str, int, int]]] = []

    def cat_ranges(self, paths, starts, ends, **kw):  # type: ignore[no-untyped-def, override]
        type(self).calls.append(list(zip(paths, starts, ends, strict=True)))
        return super().cat_ranges(paths, starts, ends, **kw)


def test_get_many_coalesces_near_ranges_on_remote(memory_root: str) -> None:
    fs = CountingMemoryFS()
    s = ObjectStore(fs, memory_root, pack_size=1 << 20)
    blobs = [blob(i, 10_000) for i in range(20)]
    oids = put_all(s, blobs)
    CountingMemoryFS.calls.clear()
    picked = [oids[i] for i in (0, 2, 3, 19)]  # gaps of 10 KB: well under the coalescing gap
    assert dict(s.get_many(picked)) == {o: blobs[oids.index(o)] for o in picked}
    assert len(CountingMemoryFS.calls) == 1 and len(CountingMemoryFS.calls[0]) == 1
    (_, start, end) = CountingMemoryFS.calls[0][0]
    assert start == 0 and end == 20 * 10_000


def test_memory_filesystem_store_round_trip(memory_root: str) -> None:
    fs = MemoryFileSystem()
    s = ObjectStore(fs, memory_root, pack_size=3000)
    blobs = [blob(i) for i in range(7)]
    oids = put_all(s, blobs)
    again = ObjectStore(fs, "memory://" + memory_root)
    assert [again.get(o) for o in oids] == blobs
    assert again.display_root.startswith("memory://")
    assert len(fs.ls(memory_root + "/index")) == 1


def test_manifests_walk_and_read_range(local_store: ObjectStore) -> None:
    chunks = [blob(i, 500 + i) for i in range(4)]
    refs = [ChunkRef(hash_bytes(c), len(c)) for c in chunks]
    f1 = FileManifest(tuple(refs[:3]))
    f2 = FileManifest((refs[2], refs[3], refs[0]))
    with local_store.writer() as w:
        for c, r in zip(chunks, refs, strict=True):
            w.put(r.oid, ObjectType.CHUNK, c)
        o1, o2 = w.put_manifest(f1), w.put_manifest(f2)
        tree = TreeManifest((TreeEntry(b"d/one", o1, f1.size, False), TreeEntry(b"two\xff", o2, f2.size, True),
                             TreeEntry(b"same", o1, f1.size, False)))
        to = w.put_manifest(tree)
    assert o1 == f1.oid and to == tree.oid
    assert local_store.get_file_manifest(o1) == f1
    assert local_store.get_tree_manifest(to) == tree
    assert local_store.locate(to).otype is ObjectType.TREE  # type: ignore[union-attr]
    walked = list(walk(local_store, to, ObjectType.TREE))
    assert walked[0] == (to, ObjectType.TREE)
    assert len(walked) == len({o for o, _ in walked}) == 1 + 2 + 4
    assert {o for o, t in walked if t is ObjectType.CHUNK} == {r.oid for r in refs}
    assert list(walk(local_store, refs[0].oid, ObjectType.CHUNK)) == [(refs[0].oid, ObjectType.CHUNK)]
    assert len(list(walk(local_store, o2, ObjectType.FILE))) == 4
    assert local_store.read_range(refs[1].oid, 10, 20) == chunks[1][10:20]
    assert local_store.read_range(refs[1].oid, 500, 9999) == chunks[1][500:]
    with pytest.raises(CorruptObjectError, match="not a valid TreeManifest"):
        local_store.get_tree_manifest(o1)
