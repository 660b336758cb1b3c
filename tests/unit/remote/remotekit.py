"""Helpers for remote tests: build trees of objects in a store and read them back."""

from __future__ import annotations

from typing import Any

from fsspec.implementations.local import LocalFileSystem

from dvx.chunking import ChunkerParams, cut_points
from dvx.hashing import hash_bytes
from dvx.store import ChunkRef, FileManifest, ObjectStore, ObjectType, TreeEntry, TreeManifest

# Small chunks so a few KiB of test data make many chunks and several packs.
SMALL = ChunkerParams(64, 256, 1024)


def local_store(path: Any, **kw: Any) -> ObjectStore:
    """An ObjectStore in a local folder."""
    return ObjectStore(LocalFileSystem(), str(path), **kw)


def put_file(w: Any, data: bytes, params: ChunkerParams = SMALL) -> bytes:
    """Chunk ``data`` into the writer ``w``; return the file manifest id."""
    refs = []
    start = 0
    for end in cut_points(data, params) if data else []:
        piece = data[start:end]
        oid = hash_bytes(piece)
        w.put(oid, ObjectType.CHUNK, piece)
        refs.append(ChunkRef(oid, len(piece)))
        start = end
    return w.put_manifest(FileManifest(tuple(refs)))


def build_tree(store: ObjectStore, files: dict[str, bytes], params: ChunkerParams = SMALL) -> bytes:
    """Store every file and a tree manifest naming them; return the tree id."""
    with store.writer() as w:
        entries = [TreeEntry(p.encode(), put_file(w, d, params), len(d), False) for p, d in files.items()]
        return w.put_manifest(TreeManifest(tuple(entries)))


def read_tree(store: ObjectStore, tree: bytes) -> dict[str, bytes]:
    """{path: content} of a tree, read (and verified) from ``store``."""
    out = {}
    for e in store.get_tree_manifest(tree).entries:
        fm = store.get_file_manifest(e.file_oid)
        out[e.path.decode()] = b"".join(data for _o, data in _ordered(store, [c.oid for c in fm.chunks]))
    return out


def _ordered(store: ObjectStore, oids: list[bytes]) -> list[tuple[bytes, bytes]]:
    got = dict(store.get_many(oids))
    return [(o, got[o]) for o in oids]
