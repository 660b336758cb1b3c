"""Store format versions: the ``dvx-store`` marker and unknown index versions and flag bits
(docs/format.md, "Format versions")."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem
from storekit import memory_root  # noqa: F401 - pytest fixture

from dvx.errors import FormatVersionError
from dvx.hashing import hash_bytes
from dvx.store import ObjectStore, ObjectType, StoreWriter
from dvx.store import pack as _pack
from dvx.store.index import Record, encode_index
from dvx.store.marker import MARKER_BYTES

CHUNK = b"some bytes of a chunk\n"


def _write(store: ObjectStore, data: bytes = CHUNK) -> bytes:
    oid = hash_bytes(data)
    with StoreWriter(store) as w:
        w.put(oid, ObjectType.CHUNK, data)
    return oid


def _open(root: Path) -> ObjectStore:
    return ObjectStore(LocalFileSystem(), str(root))


def test_first_write_writes_the_marker_bytes(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    _write(_open(root))
    assert (root / "dvx-store").read_bytes() == MARKER_BYTES == b"dvx-store 1\n"
    assert not [n for n in os.listdir(root / "tmp")]  # written by rename, no temp file left


def test_store_without_marker_is_read_and_gets_one_on_next_write(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    oid = _write(_open(root))
    (root / "dvx-store").unlink()  # a cache made before markers existed
    s = _open(root)
    assert s.get(oid) == CHUNK
    assert not (root / "dvx-store").exists()  # reading does not write
    _write(s, b"another chunk")
    assert (root / "dvx-store").read_bytes() == MARKER_BYTES


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        (b"dvx-store 2\n", "store format 2, this dvx reads store format 1"),
        (b"dvx-store 99\n", "store format 99, this dvx reads store format 1"),
        (b"DVX-STORE 1", "not a dvx store marker"),
        (b"dvx-store 1\n" + b"x" * 100, "not a dvx store marker"),
    ],
)
def test_other_marker_is_refused_on_open(tmp_path: Path, marker: bytes, expected: str) -> None:
    root = tmp_path / "cache"
    oid = _write(_open(root))
    (root / "dvx-store").write_bytes(marker)
    s = _open(root)
    with pytest.raises(FormatVersionError) as ei:
        s.get(oid)
    msg = ei.value.format_message()
    assert expected in msg and str(root / "dvx-store") in msg and "\n" not in msg
    assert ei.value.exit_code == 2
    with pytest.raises(FormatVersionError):
        _write(_open(root), b"a new chunk")  # nor written to
    assert (root / "dvx-store").read_bytes() == marker


def test_remote_store_marker_written_and_checked(memory_root: str) -> None:  # noqa: F811
    fs = MemoryFileSystem()
    oid = _write(ObjectStore(fs, memory_root))
    assert fs.cat_file(f"{memory_root}/dvx-store") == MARKER_BYTES
    fs.pipe_file(f"{memory_root}/dvx-store", b"dvx-store 3\n")
    with pytest.raises(FormatVersionError, match=r"dvx-store: store format 3, this dvx reads store format 1") as ei:
        ObjectStore(fs, memory_root, where="remote 'origin'").has(oid)
    assert "remote 'origin'" in str(ei.value)


def _put_index(root: Path, data: bytes) -> str:
    name = hash_bytes(data).hex()
    (root / "index").mkdir(parents=True, exist_ok=True)
    (root / "index" / name).write_bytes(data)
    return name


def _record(flags: int) -> Record:
    return Record(hash_bytes(CHUNK), b"P" * 16, 0, len(CHUNK), len(CHUNK), int(ObjectType.CHUNK), flags)


@pytest.mark.parametrize("flags", [0x02, 0x80, 0x03])
def test_index_record_with_unknown_flag_bits_is_refused(tmp_path: Path, flags: int) -> None:
    root = tmp_path / "cache"
    name = _put_index(root, encode_index([_record(flags)]))
    with pytest.raises(FormatVersionError) as ei:
        _open(root).has(hash_bytes(CHUNK))
    msg = str(ei.value)
    assert f"index/{name}" in msg and f"object {hash_bytes(CHUNK).hex()} has flags {flags:#04x}" in msg
    assert f"unknown flag bits {flags & ~1:#04x}" in msg
    assert ei.value.hint == "upgrade dvx"


def test_index_of_newer_version_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    data = bytearray(encode_index([_record(0)]))
    data[8:12] = (2).to_bytes(4, "little")
    name = _put_index(root, bytes(data))
    with pytest.raises(FormatVersionError, match=f"index/{name}: index format version 2, this dvx reads version 1"):
        _open(root).has(hash_bytes(CHUNK))


def test_damaged_index_with_odd_flags_is_ignored_not_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Bytes that do not hash to their name are damage, not a newer writer: ignored with a warning.
    root = tmp_path / "cache"
    name = _put_index(root, encode_index([_record(0)]))
    path = root / "index" / name
    data = bytearray(path.read_bytes())
    data[-1] = 0x04
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="dvx.store"):
        assert not _open(root).has(hash_bytes(CHUNK))
    assert "content does not match its name" in caplog.text


def test_pack_header_entry_with_unknown_flag_bits_is_refused() -> None:
    header = _pack.encode_header([_record(0x02)._replace(pack=b"")])
    hlen = _pack.parse_trailer(header[-_pack.TRAILER_SIZE:], len(CHUNK) + len(header))
    with pytest.raises(ValueError, match="unknown flag bits 0x02"):
        _pack.parse_header(header[:hlen], b"P" * 16, len(CHUNK) + len(header))
