"""FileManifest / TreeManifest: canonical encoding, round trips, validation."""

from __future__ import annotations

import pytest

from dvx.hashing import hash_bytes
from dvx.store.objects import ChunkRef, FileManifest, ObjectType, TreeEntry, TreeManifest


def _oid(n: int) -> bytes:
    return hash_bytes(n.to_bytes(8, "little"))


def test_object_type_values_are_part_of_the_format() -> None:
    assert [int(t) for t in ObjectType] == [0, 1, 2, 3, 4]
    assert ObjectType.TREE.name == "TREE"


def test_file_manifest_round_trip_and_size() -> None:
    m = FileManifest(tuple(ChunkRef(_oid(i), 1000 + i) for i in range(5)))
    data = m.encode()
    assert data[:4] == b"DVXF"
    assert len(data) == 24 + 5 * 20
    back = FileManifest.decode(data)
    assert back == m
    assert back.size == sum(1000 + i for i in range(5))
    assert m.oid == hash_bytes(data)


def test_file_manifest_accepts_list_and_empty() -> None:
    m = FileManifest([ChunkRef(_oid(1), 3)])  # type: ignore[arg-type]
    assert isinstance(m.chunks, tuple)
    empty = FileManifest(())
    assert empty.size == 0
    assert FileManifest.decode(empty.encode()) == empty


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"XXXX" + d[4:], "bad magic"),
        (lambda d: d[:4] + b"\x02\x00" + d[6:], "version 2"),
        (lambda d: d[:-1], "need"),
        (lambda d: d + b"\x00", "need"),
        (lambda d: d[:10], "shorter than"),
        (lambda d: d[:16] + (999).to_bytes(8, "little") + d[24:], "size field"),
    ],
)
def test_file_manifest_decode_errors_say_what_is_wrong(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = FileManifest((ChunkRef(_oid(1), 10), ChunkRef(_oid(2), 20))).encode()
    with pytest.raises(ValueError, match=message):
        FileManifest.decode(mutate(data))


def test_file_manifest_rejects_bad_chunk_refs() -> None:
    with pytest.raises(ValueError, match="invalid chunk"):
        FileManifest((ChunkRef(b"short", 1),)).encode()
    with pytest.raises(ValueError, match="invalid chunk"):
        FileManifest((ChunkRef(_oid(1), 1 << 32),)).encode()


def test_tree_manifest_is_sorted_by_path_bytes() -> None:
    entries = [
        TreeEntry(b"b/x", _oid(1), 5, False),
        TreeEntry(b"a-b", _oid(2), 6, True),
        TreeEntry(b"a/c", _oid(3), 7, False),
        TreeEntry(b"\xff\xfe", _oid(4), 8, False),  # not UTF-8: must round-trip
    ]
    t = TreeManifest(tuple(entries))
    assert [e.path for e in t.entries] == [b"a-b", b"a/c", b"b/x", b"\xff\xfe"]
    assert t == TreeManifest(tuple(reversed(entries)))
    assert t.oid == TreeManifest(tuple(reversed(entries))).oid
    assert t.size == 26 and t.nfiles == 4
    data = t.encode()
    assert data[:4] == b"DVXT"
    back = TreeManifest.decode(data)
    assert back == t
    assert back.entries[0].executable is True and back.entries[1].executable is False


@pytest.mark.parametrize("path", [b"", b"/abs", b"a//b", b"a/./b", b"../x", b"a/", b"a\x00b", "str"])
def test_tree_manifest_rejects_bad_paths(path: bytes) -> None:
    with pytest.raises(ValueError):
        TreeManifest((TreeEntry(path, _oid(1), 1, False),))


def test_tree_manifest_rejects_duplicates_and_file_dir_clash() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        TreeManifest((TreeEntry(b"a", _oid(1), 1, False), TreeEntry(b"a", _oid(2), 1, False)))
    with pytest.raises(ValueError, match="both a file and a directory"):
        TreeManifest((TreeEntry(b"a", _oid(1), 1, False), TreeEntry(b"a-x", _oid(2), 1, False),
                      TreeEntry(b"a/b/c", _oid(3), 1, False)))


def test_tree_manifest_decode_rejects_non_canonical_and_damaged() -> None:
    t = TreeManifest((TreeEntry(b"a", _oid(1), 1, False), TreeEntry(b"b", _oid(2), 2, True)))
    data = t.encode()
    # Swap the two records: same content, wrong order -> not canonical.
    rec = 16 + 8 + 1 + 4 + 1
    swapped = data[:24] + data[24 + rec :] + data[24 : 24 + rec]
    with pytest.raises(ValueError, match="not sorted"):
        TreeManifest.decode(swapped)
    with pytest.raises(ValueError, match="truncated"):
        TreeManifest.decode(data[:-1])
    with pytest.raises(ValueError, match="trailing"):
        TreeManifest.decode(data + b"z")
    with pytest.raises(ValueError, match="bad magic"):
        TreeManifest.decode(FileManifest(()).encode())
    bad_mode = bytearray(data)
    bad_mode[24 + 24] = 0x80
    with pytest.raises(ValueError, match="mode bits"):
        TreeManifest.decode(bytes(bad_mode))


def test_tree_manifest_sizes_must_fit_64_bits() -> None:
    with pytest.raises(ValueError, match="invalid tree entry"):
        TreeManifest((TreeEntry(b"a", _oid(1), 1 << 64, False),))
    two = TreeManifest((TreeEntry(b"a", _oid(1), 1 << 63, False), TreeEntry(b"b", _oid(1), 1 << 63, False)))
    with pytest.raises(ValueError, match="does not fit"):
        two.encode()
