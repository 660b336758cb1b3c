"""Index files and pack headers: encoding, parsing, errors, the merged index."""

from __future__ import annotations

import os

import pytest

from dvx.store import pack as _pack
from dvx.store.index import (
    HEAD_SIZE,
    RECORD_SIZE,
    IndexEntry,
    MergedIndex,
    Record,
    decode_index,
    encode_index,
    entry_of,
)
from dvx.store.objects import ObjectType


def _rec(i: int, pack: bytes = b"P" * 16) -> Record:
    return Record(i.to_bytes(16, "big"), pack, i * 100, 100, 150 + i, i % 5, i % 2)


def test_index_round_trip_sorted_fixed_size() -> None:
    recs = [_rec(i) for i in (5, 1, 3)]
    data = encode_index(recs)
    assert data[:8] == b"DVXINDEX" and len(data) == HEAD_SIZE + 3 * RECORD_SIZE == 16 + 150
    ids = [data[HEAD_SIZE + k * RECORD_SIZE : HEAD_SIZE + k * RECORD_SIZE + 16] for k in range(3)]
    assert ids == sorted(ids)
    assert decode_index(data) == {r[0]: r for r in recs}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"NOTINDEX" + d[8:], "bad magic"),
        (lambda d: d[:8] + b"\x09\x00\x00\x00" + d[12:], "version 9"),
        (lambda d: d[:-1], "need"),
        (lambda d: d[:5], "shorter"),
    ],
)
def test_index_decode_errors(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = encode_index([_rec(1), _rec(2)])
    with pytest.raises(ValueError, match=message):
        decode_index(mutate(data))
    with pytest.raises(ValueError, match=message):
        MergedIndex().add_file(mutate(data))


def test_merged_index_first_file_wins_and_builds_entries_lazily() -> None:
    m = MergedIndex()
    assert len(m) == 0 and m.record(b"x" * 16) is None
    assert m.add_file(encode_index([_rec(1, b"A" * 16), _rec(2, b"A" * 16)])) == 2
    m.add_file(encode_index([_rec(2, b"B" * 16), _rec(3, b"B" * 16)]))
    big = encode_index([_rec(i, b"C" * 16) for i in range(1, 10)])  # larger than the merged one
    m.add_file(big)
    assert len(m) == 9
    assert m.record(_rec(2)[0])[1] == b"A" * 16  # type: ignore[index]
    assert m.record(_rec(3)[0])[1] == b"B" * 16  # type: ignore[index]
    assert m.pack_ids() == {b"A" * 16, b"B" * 16, b"C" * 16}
    e = m[_rec(3)[0]]
    assert e == IndexEntry(b"B" * 16, 300, 100, 153, ObjectType.PROFILE, True)
    assert e == entry_of(_rec(3, b"B" * 16))
    with pytest.raises(KeyError):
        m[b"\x00" * 16]
    assert set(m) == {_rec(i)[0] for i in range(1, 10)}


def test_pack_trailer_and_header_errors() -> None:
    recs = [(os.urandom(16), b"", 0, 10, 10, 0, 0), (os.urandom(16), b"", 10, 5, 9, 1, 1)]
    tail = _pack.encode_header(recs)
    pack = b"a" * 15 + tail
    assert pack.endswith(b"DVXPACK1") and len(tail) == 2 * 26 + 12
    got = _pack.records_from_pack(pack, b"I" * 16)
    assert got == [(r[0], b"I" * 16, *r[2:]) for r in recs]
    with pytest.raises(ValueError, match="bad pack magic"):
        _pack.records_from_pack(pack[:-1], b"I" * 16)
    with pytest.raises(ValueError, match="blobs sum to"):
        _pack.records_from_pack(b"a" + pack, b"I" * 16)
    with pytest.raises(ValueError, match="too short"):
        _pack.parse_trailer(b"abc", 3)
    with pytest.raises(ValueError, match="does not fit"):
        _pack.parse_trailer((10**6).to_bytes(4, "little") + b"DVXPACK1", 100)


def test_merged_index_batch_add_keeps_first_file_and_existing_entries() -> None:
    m = MergedIndex()
    m.add_file(encode_index([_rec(1, b"A" * 16)]))
    m.add_files([encode_index([_rec(1, b"B" * 16), _rec(2, b"B" * 16)]), encode_index([_rec(2, b"C" * 16)])])
    assert m.record(_rec(1)[0])[1] == b"A" * 16  # type: ignore[index]
    assert m.record(_rec(2)[0])[1] == b"B" * 16  # type: ignore[index]
    with pytest.raises(ValueError):
        m.add_files([encode_index([_rec(3)]), b"garbage"])
    assert len(m) == 2  # nothing of a failed batch is added


def test_loading_many_index_files_finds_every_record() -> None:
    # The merge's speed (it must stay linear) is measured by bench/bench_core.py.
    recs = [[(os.urandom(16), b"P" * 16, i, 1, 1, 0, 0) for i in range(5000)] for _ in range(20)]
    files = [encode_index(r) for r in recs]
    m = MergedIndex()
    m.add_files(files[:10])
    for f in files[10:]:
        m.add_file(f)
    assert len(m) == 100_000
    for r in (recs[0][0], recs[9][4999], recs[10][0], recs[19][2500]):
        found = m.record(r[0])
        assert found is not None and found[1:3] == r[1:3]
