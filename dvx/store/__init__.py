"""The dvx object store: chunks and manifests in packs with pack indexes (docs/format.md).

One class, ``ObjectStore(fs, root)``, serves the local cache and every remote.
"""

from dvx.store.index import IndexEntry
from dvx.store.objects import ChunkRef, FileManifest, ObjectType, TreeEntry, TreeManifest
from dvx.store.store import ObjectStore, StoreWriter, WriterStats, walk

__all__ = [
    "ChunkRef",
    "FileManifest",
    "IndexEntry",
    "ObjectStore",
    "ObjectType",
    "StoreWriter",
    "TreeEntry",
    "TreeManifest",
    "WriterStats",
    "walk",
]
