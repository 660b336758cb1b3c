"""Caps on declared sizes (docs/format.md, "Limits"; issue 10 defects 4 and 6): one test per cap."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from dvx.chunking import MAX_CHUNK, ChunkerParams
from dvx.errors import CorruptObjectError, StoreWriteError
from dvx.hashing import hash_bytes
from dvx.store import ObjectStore
from dvx.store import blob as _blob
from dvx.store import pack as _pack
from dvx.store.blob import decode_blob
from dvx.store.index import FLAG_ZSTD, Record, encode_index, record_problem
from dvx.store.limits import MAX_MANIFEST, MAX_PACK, MAX_PACK_ENTRIES, zstd_bound
from dvx.store.objects import (
    MAX_FILE_CHUNKS,
    ChunkRef,
    FileManifest,
    ObjectType,
    TreeEntry,
    TreeManifest,
)

OID = b"\x01" * 16
PID = b"\x02" * 16


def rec(offset: int = 0, stored: int = 100, raw: int = 100, otype: int = 0, flags: int = 0) -> tuple:
    return Record(OID, PID, offset, stored, raw, otype, flags)


@pytest.mark.parametrize(("r", "message"), [
    (rec(otype=9), "unknown object type 9"),
    (rec(flags=0x80), "unknown flag bits 0x80"),
    (rec(raw=MAX_CHUNK + 1, stored=MAX_CHUNK + 1), "limit for a chunk"),
    (rec(raw=MAX_MANIFEST + 1, stored=MAX_MANIFEST + 1, otype=ObjectType.FILE), "limit for a file"),
    (rec(raw=0xFFFFFFFF, stored=100, flags=FLAG_ZSTD, otype=ObjectType.TREE), "limit for a tree"),
    (rec(stored=101), "101 stored bytes for 100 raw bytes"),
    (rec(raw=100, stored=zstd_bound(100) + 1, flags=FLAG_ZSTD), "compressed bytes"),
    (rec(offset=1 << 63), "beyond"),
    (rec(offset=MAX_PACK - 99), "beyond"),
])
def test_record_problem_names_each_broken_cap(r: tuple, message: str) -> None:
    problem = record_problem(r)
    assert problem is not None and message in problem


def test_record_within_caps_passes_and_chunk_cap_follows_the_repository() -> None:
    assert record_problem(rec()) is None
    assert record_problem(rec(raw=50, stored=40, flags=FLAG_ZSTD)) is None
    assert record_problem(rec(raw=300_000, stored=300_000)) is None
    assert "limit for a chunk" in (record_problem(rec(raw=300_000, stored=300_000), max_chunk=262_144) or "")
    # Manifests are capped by MAX_MANIFEST, not by the chunker.
    assert record_problem(rec(raw=300_000, stored=300_000, otype=ObjectType.FILE), max_chunk=262_144) is None


def _zstd(data: bytes) -> bytes:
    return _blob._zstd().compress(data, asbytes=True)


def test_decode_blob_bounds_decompression_by_the_declared_length() -> None:
    bomb = _zstd(bytes(64 << 20))  # 64 MiB of zeros, ~2 KB stored
    r = (hash_bytes(bytes(200_000)), PID, 0, len(bomb), 200_000, 0, FLAG_ZSTD)
    with pytest.raises(CorruptObjectError, match="does not decompress"):
        decode_blob(r, bomb, "here")
    r = (hash_bytes(bytes(1000)), PID, 0, len(bomb), 1000, 0, FLAG_ZSTD)
    with pytest.raises(CorruptObjectError, match="compressed bytes for 1000 raw bytes"):
        decode_blob(r, bomb, "here")
    short = _zstd(bytes(500))
    r = (hash_bytes(bytes(1000)), PID, 0, len(short), 1000, 0, FLAG_ZSTD)
    with pytest.raises(CorruptObjectError, match="does not decompress"):
        decode_blob(r, short, "here")


def test_decode_blob_refuses_over_cap_before_decompressing() -> None:
    blob = _zstd(bytes(1000))
    r = (hash_bytes(bytes(1000)), PID, 0, len(blob), 0xFFFFFFFF, 0, FLAG_ZSTD)
    with pytest.raises(CorruptObjectError, match=f"object {r[0].hex()} in pack {PID.hex()} of here has a bad index entry"):
        decode_blob(r, blob, "here")


def _store_with_index(root: Path, records: list[tuple], pack: bytes = b"") -> ObjectStore:
    (root / "index").mkdir(parents=True)
    data = encode_index(records)
    (root / "index" / hash_bytes(data).hex()).write_bytes(data)
    if pack:
        p = root / "packs" / PID.hex()[:2]
        p.mkdir(parents=True)
        (p / PID.hex()).write_bytes(pack)
    return ObjectStore(LocalFileSystem(), str(root))


def test_index_offset_2_63_is_corrupt_object_not_overflow(tmp_path: Path) -> None:
    raw = b"x" * 100
    store = _store_with_index(tmp_path, [(hash_bytes(raw), PID, 1 << 63, 100, 100, 0, 0)], raw)
    oid = hash_bytes(raw)
    for read in (store.get, store.locate, lambda o: list(store.get_many([o]))):
        with pytest.raises(CorruptObjectError, match=f"object {oid.hex()} in pack {PID.hex()}.*beyond"):
            read(oid)


def test_index_entry_past_the_end_of_its_pack_is_truncated(tmp_path: Path) -> None:
    raw = b"x" * 100
    store = _store_with_index(tmp_path, [(hash_bytes(raw), PID, 50, 100, 100, 0, 0)], raw)
    with pytest.raises(CorruptObjectError, match="truncated"):
        store.get(hash_bytes(raw))


def test_chunk_over_the_repository_max_is_refused_before_reading(tmp_path: Path) -> None:
    raw = b"x" * 5000
    store = _store_with_index(tmp_path, [(hash_bytes(raw), PID, 0, 5000, 5000, 0, 0)], raw)
    assert store.get(hash_bytes(raw)) == raw
    small = ObjectStore(LocalFileSystem(), str(tmp_path), max_chunk=4096)
    with pytest.raises(CorruptObjectError, match="over the 4096-byte limit for a chunk"):
        small.get(hash_bytes(raw))


def test_directory_named_like_an_index_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = b"y" * 100
    store = _store_with_index(tmp_path, [(hash_bytes(raw), PID, 0, 100, 100, 0, 0)], raw)
    (tmp_path / "index" / ("ab" * 16)).mkdir()
    with caplog.at_level(logging.WARNING, logger="dvx.store"):
        assert store.get(hash_bytes(raw)) == raw
    assert any("ab" * 16 in m and "directory" in m.lower() for m in caplog.messages), caplog.messages


def test_writer_refuses_objects_readers_would_refuse(tmp_path: Path) -> None:
    store = ObjectStore(LocalFileSystem(), str(tmp_path), max_chunk=4096)
    with store.writer() as w:
        with pytest.raises(StoreWriteError, match="over the 4096-byte limit"):
            w.put(hash_bytes(bytes(5000)), ObjectType.CHUNK, bytes(5000))
        assert w.put(hash_bytes(bytes(4096)), ObjectType.CHUNK, bytes(4096))


def test_file_manifest_decode_caps() -> None:
    head = struct.Struct("<4sHHQQ")
    # A count far beyond what 64 MiB can hold is refused from the header alone.
    with pytest.raises(ValueError, match="over the limit"):
        FileManifest.decode(head.pack(b"DVXF", 1, 0, MAX_FILE_CHUNKS + 1, 0))
    # Declared total differs from the sum of the refs.
    good = FileManifest((ChunkRef(OID, 10), ChunkRef(OID, 10))).encode()
    with pytest.raises(ValueError, match="size field 21"):
        FileManifest.decode(good[:16] + struct.pack("<Q", 21) + good[24:])
    # A chunk reference over the format's maximum chunk size.
    big = head.pack(b"DVXF", 1, 0, 1, MAX_CHUNK + 1) + OID + struct.pack("<I", MAX_CHUNK + 1)
    with pytest.raises(ValueError, match="chunk 0 is"):
        FileManifest.decode(big)
    with pytest.raises(ValueError, match="over the 67108864-byte limit"):
        FileManifest.decode(bytes(MAX_MANIFEST + 1))


def test_tree_manifest_count_beyond_its_bytes_is_refused_up_front() -> None:
    good = TreeManifest((TreeEntry(b"a", OID, 1, False),)).encode()
    forged = good[:8] + struct.pack("<Q", 1 << 60) + good[16:]
    with pytest.raises(ValueError, match="cannot fit"):
        TreeManifest.decode(forged)


def test_pack_header_caps() -> None:
    hlen = (MAX_PACK_ENTRIES + 1) * _pack.ENTRY_SIZE
    tail = struct.pack("<I8s", hlen, _pack.PACK_MAGIC)
    with pytest.raises(ValueError, match="over the limit"):
        _pack.parse_trailer(tail, hlen + 12 + 1)
    header = struct.pack("<BBII16s", 0, 0x40, 10, 10, OID)
    with pytest.raises(ValueError, match="unknown flag bits"):
        _pack.parse_header(header, PID, 10 + len(header) + 12)
    header = struct.pack("<BBII16s", 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, OID)
    with pytest.raises(ValueError, match="limit for a chunk"):
        _pack.parse_header(header, PID, 0xFFFFFFFF + len(header) + 12)


@pytest.mark.parametrize(("section", "message"), [
    ({"max_size": 4294967296}, "max_size = 4294967296 is outside 64..67108864"),
    ({"min_size": 32}, "min_size = 32 is outside"),
    ({"avg_size": "many"}, "avg_size = 'many' is not an integer"),
    ({"max_size": True}, "max_size = True is not an integer"),
    ({"min_size": 65536, "avg_size": 65536}, "min_size < avg_size < max_size"),
])
def test_chunker_bounds_from_config(section: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ChunkerParams.from_config(section)


def test_chunker_bounds_accept_the_extremes() -> None:
    assert ChunkerParams.from_config({"min_size": 64, "avg_size": 65, "max_size": MAX_CHUNK}).max_size == MAX_CHUNK
    assert ChunkerParams.from_config({"max_size": "262144"}).max_size == 262144


def test_file_manifest_encode_refuses_what_decode_would() -> None:
    with pytest.raises(ValueError, match="invalid chunk reference"):
        FileManifest((ChunkRef(OID, MAX_CHUNK + 1),)).encode()
    assert FileManifest.decode(FileManifest((ChunkRef(OID, MAX_CHUNK),)).encode()).size == MAX_CHUNK


def test_index_file_over_the_cap_is_skipped_unread(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from dvx.store.limits import MAX_INDEX

    raw = b"y" * 100
    store = _store_with_index(tmp_path, [(hash_bytes(raw), PID, 0, 100, 100, 0, 0)], raw)
    with open(tmp_path / "index" / ("cd" * 16), "wb") as f:
        f.truncate(MAX_INDEX + 1)  # sparse: costs no disk, and is never read
    with caplog.at_level(logging.WARNING, logger="dvx.store"):
        assert store.get(hash_bytes(raw)) == raw
    assert any("cd" * 16 in m and "over the" in m for m in caplog.messages), caplog.messages
