"""The store's bytes pinned as hex (docs/format.md shows the same examples).

A change to any encoding (manifest, pack, index) fails here: bump the format
version and describe it in docs/format.md "Changes per version" instead.
Compression is off so the bytes do not depend on the zstd build.
"""

from __future__ import annotations

from pathlib import Path

from fsspec.implementations.local import LocalFileSystem

from dvx.hashing import hash_bytes
from dvx.store import ChunkRef, FileManifest, ObjectStore, ObjectType, TreeEntry, TreeManifest
from dvx.store.index import decode_index
from dvx.store.pack import records_from_pack

C1, C2 = b"hello, dvx\n", b"chunk two\n"
FILE = FileManifest((ChunkRef(hash_bytes(C1), len(C1)), ChunkRef(hash_bytes(C2), len(C2))))
TREE = TreeManifest(
    (
        TreeEntry(b"data/b\xff.bin", FILE.oid, FILE.size, True),
        TreeEntry(b"data/a.csv", FILE.oid, FILE.size, False),
    )
)

FILE_HEX = (
    "44565846" "0100" "0000" "0200000000000000" "1500000000000000"
    "4aa95dc70f12830fb31dec516748e077" "0b000000"
    "f5b74914380d8d2f5e2ea5cb24843605" "0a000000"
)
FILE_OID = "4eaf49f32f007bdb1fb3805796ffa4c7"
TREE_HEX = (
    "44565854" "0100" "0000" "0200000000000000" "2a00000000000000"
    "4eaf49f32f007bdb1fb3805796ffa4c7" "1500000000000000" "00" "0a000000" "646174612f612e637376"
    "4eaf49f32f007bdb1fb3805796ffa4c7" "1500000000000000" "01" "0b000000" "646174612f62ff2e62696e"
)
TREE_OID = "6741484722c4581c624fdcd82e2f0236"
PACK_ID = "942408c3b1b68412b18cd0290fb6e4b4"  # xxh3-128 of the tail (header + trailer)
PACK_HEX = (
    "68656c6c6f2c206476780a" "6368756e6b2074776f0a" + FILE_HEX + TREE_HEX
    + "00" "00" "0b000000" "0b000000" "4aa95dc70f12830fb31dec516748e077"
    + "00" "00" "0a000000" "0a000000" "f5b74914380d8d2f5e2ea5cb24843605"
    + "01" "00" "40000000" "40000000" "4eaf49f32f007bdb1fb3805796ffa4c7"
    + "02" "00" "67000000" "67000000" "6741484722c4581c624fdcd82e2f0236"
    + "68000000" "4456585041434b31"
)
INDEX_ID = "df7d4655e045fecbcfd49c544396b981"
INDEX_HEX = (
    "445658494e444558" "01000000" "04000000"
    "4aa95dc70f12830fb31dec516748e077" + PACK_ID + "0000000000000000" "0b000000" "0b000000" "00" "00"
    "4eaf49f32f007bdb1fb3805796ffa4c7" + PACK_ID + "1500000000000000" "40000000" "40000000" "01" "00"
    "6741484722c4581c624fdcd82e2f0236" + PACK_ID + "5500000000000000" "67000000" "67000000" "02" "00"
    "f5b74914380d8d2f5e2ea5cb24843605" + PACK_ID + "0b00000000000000" "0a000000" "0a000000" "00" "00"
)


def test_manifest_encodings_are_pinned() -> None:
    assert FILE.encode().hex() == FILE_HEX and FILE.oid.hex() == FILE_OID
    assert TREE.encode().hex() == TREE_HEX and TREE.oid.hex() == TREE_OID
    assert FileManifest.decode(bytes.fromhex(FILE_HEX)) == FILE
    assert TreeManifest.decode(bytes.fromhex(TREE_HEX)) == TREE


def test_pack_and_index_bytes_are_pinned(tmp_path: Path) -> None:
    # Built with the low-level pack builder: the format lets one pack mix chunks and
    # manifests (readers must not assume otherwise), though dvx's writer puts them
    # in separate packs (test_writer_keeps_manifests_in_packs_of_their_own).
    from dvx.store.index import encode_index
    from dvx.store.pack import PackBuilder

    b = PackBuilder(None, str(tmp_path), local=True)
    for oid, otype, data in ((hash_bytes(C1), ObjectType.CHUNK, C1), (hash_bytes(C2), ObjectType.CHUNK, C2),
                             (FILE.oid, ObjectType.FILE, FILE.encode()), (TREE.oid, ObjectType.TREE, TREE.encode())):
        b.add(oid, otype, 0, len(data), data)
    fp = b.finish()
    assert fp.pack_id.hex() == PACK_ID and (FILE.oid.hex(), TREE.oid.hex()) == (FILE_OID, TREE_OID)
    pack = tmp_path / "packs" / PACK_ID[:2] / PACK_ID
    assert pack.read_bytes().hex() == PACK_HEX
    index = encode_index(fp.records)
    assert hash_bytes(index).hex() == INDEX_ID and index.hex() == INDEX_HEX
    assert sorted(decode_index(bytes.fromhex(INDEX_HEX)).values()) == sorted(
        records_from_pack(bytes.fromhex(PACK_HEX), bytes.fromhex(PACK_ID))
    )
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / INDEX_ID).write_bytes(index)
    store = ObjectStore(LocalFileSystem(), str(tmp_path), compression=None)
    assert store.get_tree_manifest(bytes.fromhex(TREE_OID)) == TREE and store.get(hash_bytes(C2)) == C2


def test_writer_keeps_manifests_in_packs_of_their_own(tmp_path: Path) -> None:
    """The same four objects through the writer: a chunk pack, then a manifest pack, one index naming both."""
    store = ObjectStore(LocalFileSystem(), str(tmp_path), compression=None)
    with store.writer() as w:
        w.put(hash_bytes(C1), ObjectType.CHUNK, C1)
        assert w.put_manifest(FILE).hex() == FILE_OID
        w.put(hash_bytes(C2), ObjectType.CHUNK, C2)
        assert w.put_manifest(TREE).hex() == TREE_OID
    packs = [p.read_bytes() for p in sorted((tmp_path / "packs").rglob("*")) if p.is_file()]
    recs = [records_from_pack(data, hash_bytes(b"any")) for data in packs]
    assert sorted([r.otype for r in rs] for rs in recs) == [[0, 0], [1, 2]]
    [index] = list((tmp_path / "index").iterdir())
    assert {r.otype for r in decode_index(index.read_bytes()).values()} == {0, 1, 2}
    assert store.get_tree_manifest(bytes.fromhex(TREE_OID)) == TREE


# docs/format.md, "Example of a compressed blob": a pack dvx wrote with zstd 1.
# Readers must read it whatever zstd now writes for the same chunk.
ZCHUNK = b"".join(b"%d,ok\n" % i for i in range(40))
ZPACK_ID = "043ac92edd586fed62ffc37c953dc75b"
ZPACK_HEX = (
    "28b52ffd20e6ed020002450c0de02d06807016d9dd3bf3360687f277dab66d5b"
    "922449d214324419c0913f237f45fe88fc0df913f257f9a3fc05f903011e0402"
    "40c00106041c6040c00106041c6040c00106041c6040be027080010107181070"
    "80a508435506" + "00" "01" "e6000000" "66000000" "ebee8aaaac778dc0fd26ef71aabed5e0"
    + "1a000000" "4456585041434b31"
)


def test_documented_compressed_blob_reads_back(tmp_path: Path) -> None:
    from dvx.store.index import encode_index

    data = bytes.fromhex(ZPACK_HEX)
    assert len(data) == 140 and hash_bytes(data[102:]).hex() == ZPACK_ID  # pack id = hash of its tail
    recs = records_from_pack(data, bytes.fromhex(ZPACK_ID))
    assert [(r.oid.hex(), r.flags, r.raw, r.stored) for r in recs] == [(hash_bytes(ZCHUNK).hex(), 1, 230, 102)]
    (tmp_path / "packs" / ZPACK_ID[:2]).mkdir(parents=True)
    (tmp_path / "packs" / ZPACK_ID[:2] / ZPACK_ID).write_bytes(data)
    idx = encode_index(recs)
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / hash_bytes(idx).hex()).write_bytes(idx)
    store = ObjectStore(LocalFileSystem(), str(tmp_path))
    assert store.get(hash_bytes(ZCHUNK)) == ZCHUNK


def test_documented_profile_example_id() -> None:
    import pyarrow as pa

    from dvx.quality.profile import profile_table

    t = pa.table({"age": pa.array([31, 45, None, 27], pa.int64()), "city": ["Oslo", "Lima", "Oslo", None]})
    b = profile_table(t).to_bytes()
    assert (len(b), hash_bytes(b).hex()) == (11647, "a9dc9cece8fdd44d855c26fea32eeb3e")
