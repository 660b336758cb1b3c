"""``walk``: an object and everything it references (tree -> file manifests -> chunks)."""

from __future__ import annotations

from collections.abc import Iterator

from dvx.store.objects import FileManifest, ObjectType
from dvx.store.store import ObjectStore


def walk(store: ObjectStore, oid: bytes, otype: ObjectType) -> Iterator[tuple[bytes, ObjectType]]:
    """``oid`` and every object it references (tree -> file manifests -> chunks), each once."""
    seen: set[bytes] = {oid}
    yield oid, otype
    if otype == ObjectType.TREE:
        files = []
        for e in store.get_tree_manifest(oid).entries:
            if e.file_oid not in seen:
                seen.add(e.file_oid)
                files.append(e.file_oid)
        for foid, data in store.get_many(files):
            yield foid, ObjectType.FILE
            yield from _chunks(store, foid, data, seen)
    elif otype == ObjectType.FILE:
        yield from _chunks(store, oid, store.get(oid), seen)


def _chunks(store: ObjectStore, foid: bytes, data: bytes, seen: set[bytes]) -> Iterator[tuple[bytes, ObjectType]]:
    for c in store.decode_manifest(foid, data, FileManifest).chunks:
        if c.oid not in seen:
            seen.add(c.oid)
            yield c.oid, ObjectType.CHUNK
