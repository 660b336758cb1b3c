"""gc's id-only manifest decoders agree with the full decoders on valid and damaged manifests."""

from __future__ import annotations

import random

import pytest

from dvx.hashing import hash_bytes
from dvx.store import ChunkRef, FileManifest, TreeEntry, TreeManifest
from dvx.store.objects import file_chunk_ids, tree_file_ids


def _file(rnd: random.Random, n: int) -> FileManifest:
    return FileManifest(tuple(ChunkRef(rnd.randbytes(16), rnd.randint(1, 1 << 18)) for _ in range(n)))


def _tree(rnd: random.Random, n: int) -> TreeManifest:
    return TreeManifest(tuple(TreeEntry(b"d/f%d" % k, rnd.randbytes(16), rnd.randint(0, 1 << 30), k % 2 == 0)
                              for k in range(n)))


def _mutants(rnd: random.Random, data: bytes, count: int = 300) -> list[bytes]:
    out = []
    for _ in range(count):
        b = bytearray(data)
        op = rnd.randrange(4)
        if op == 0 and b:
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        elif op == 1:
            del b[rnd.randrange(len(b) + 1):]
        elif op == 2:
            b += rnd.randbytes(rnd.randint(1, 30))
        else:  # a header field (count, total, flags, version) set to something else
            at = rnd.choice([4, 6, 8, 16])
            b[at : at + 2] = rnd.randbytes(2)
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_file_chunk_ids_agrees_with_the_full_decoder(n: int) -> None:
    rnd = random.Random(n)
    m = _file(rnd, n)
    assert file_chunk_ids(m.encode()) == [c.oid for c in m.chunks]
    assert file_chunk_ids(memoryview(m.encode())) == [c.oid for c in m.chunks]
    for data in _mutants(rnd, m.encode()):
        try:
            want = [c.oid for c in FileManifest.decode(data).chunks]
        except ValueError as e:
            with pytest.raises(ValueError) as got:
                file_chunk_ids(data)
            assert str(got.value) == str(e)  # the same message, whichever path found it
            continue
        assert file_chunk_ids(data) == want


@pytest.mark.parametrize("n", [0, 1, 5])
def test_tree_file_ids_checks_the_framing_but_not_the_paths(n: int) -> None:
    rnd = random.Random(10 + n)
    t = _tree(rnd, n)
    assert tree_file_ids(t.encode()) == [e.file_oid for e in t.entries]
    for data in _mutants(rnd, t.encode()):
        try:
            want = [e.file_oid for e in TreeManifest.decode(data).entries]
        except ValueError:
            continue  # the light decoder may accept a tree whose paths the full one refuses
        assert tree_file_ids(data) == want
    # Paths are not its business: an unsafe, unsorted tree still gives its ids; a bad size field does not.
    oid = hash_bytes(b"x")
    raw = (b"DVXT" + (1).to_bytes(2, "little") + bytes(2) + (2).to_bytes(8, "little") + (3).to_bytes(8, "little")
           + oid + (1).to_bytes(8, "little") + b"\x00" + (5).to_bytes(4, "little") + b"../zz"
           + oid + (2).to_bytes(8, "little") + b"\x00" + (1).to_bytes(4, "little") + b"a")
    with pytest.raises(ValueError):
        TreeManifest.decode(raw)
    assert tree_file_ids(raw) == [oid, oid]
    with pytest.raises(ValueError, match="size field 4 != sum of entry sizes 3"):
        tree_file_ids(raw[:16] + (4).to_bytes(8, "little") + raw[24:])
    with pytest.raises(ValueError, match="trailing bytes"):
        tree_file_ids(raw + b"\x00")
