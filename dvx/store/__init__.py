"""The dvx object store: chunks and manifests in packs with pack indexes (docs/format.md).

One class, ``ObjectStore(fs, root)``, serves the local cache and every remote,
and is the only code that reads or writes pack and index bytes.
"""

from dvx.store.copy import CopyStats, copy_objects
from dvx.store.index import IndexEntry, Record
from dvx.store.objects import ChunkRef, FileManifest, ObjectType, TreeEntry, TreeManifest
from dvx.store.store import ObjectStore
from dvx.store.types import BlobSource, ObjectId
from dvx.store.walk import walk
from dvx.store.writer import StoreWriter, WriterStats

__all__ = [
    "BlobSource",
    "ChunkRef",
    "CopyStats",
    "FileManifest",
    "IndexEntry",
    "ObjectId",
    "ObjectStore",
    "ObjectType",
    "Record",
    "StoreWriter",
    "TreeEntry",
    "TreeManifest",
    "WriterStats",
    "copy_objects",
    "walk",
]
