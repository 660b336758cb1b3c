"""What earlier ``dvx add --external`` runs made of each source object, so a rerun need not read it again.

A side file of the work tree's cache (``.dvx/cache/external/<16 hex>.json``, one per source URL, remote
and chunker; docs/format.md "Side folders of the cache") maps an object's path to its ETag, size, file
manifest id and chunk count. An object is skipped only when the listing gives the same ETag and size
*and* the remote's index names that file manifest (a manifest is indexed only with or after its
chunks): S3 gives a new ETag to every write that changes the bytes, so equal ETags mean equal bytes,
and the ETag recorded is the one every read of the object was pinned to (s3fs sends ``If-Match``), not
the listing's, so an object rewritten between the listing and the read is never recorded wrongly.
Without a pinned ETag (a local folder, other filesystems) the object is read and chunked again; chunks the
remote has are not sent again either way. Like every side file it may be deleted at any time, and a
file that is missing, damaged or of another version is a miss.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dvx._fsutil import atomic_write
from dvx.chunking import ChunkerParams
from dvx.hashing import from_hex, hash_hex, is_oid
from dvx.remote.external import ChunkedObject, SourceObject

FOLDER = "external"
VERSION = 1
_MAX_BYTES = 1 << 30


@dataclass
class SeenObjects:
    """ETag, size, file manifest id and chunks of each object a run chunked (by object path)."""

    path: Path
    url: str
    by_path: dict[str, tuple[str, int, str, int]] = field(default_factory=dict)
    _paths: dict[str, str] = field(default_factory=dict)  # key -> object path, for save()

    @classmethod
    def load(cls, side_dir: Path, url: str, remote_key: str, params: ChunkerParams) -> SeenObjects:
        """The record for ``url`` into the remote ``remote_key`` with these chunker sizes (empty on a miss)."""
        name = hash_hex(f"{url}\n{remote_key}\n{params.min_size}/{params.avg_size}/{params.max_size}".encode(
            "utf-8", "surrogateescape"))[:16]
        seen = cls(side_dir / FOLDER / f"{name}.json", url)
        try:
            with open(seen.path, "rb") as f:
                doc = json.loads(f.read(_MAX_BYTES))
            if doc.get("version") == VERSION and doc.get("url") == url:
                for p, (etag, size, oid, chunks) in doc["objects"].items():
                    if isinstance(etag, str) and isinstance(size, int) and is_oid(oid) and isinstance(chunks, int):
                        seen.by_path[p] = (etag, size, oid, chunks)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            seen.by_path = {}  # a miss: every object is read again
        return seen

    def get(self, obj: SourceObject, remote_has: Callable[[bytes], bool]) -> ChunkedObject | None:
        """What ``obj`` became last time, when it is certainly unchanged and on the remote; else None."""
        self._paths[obj.key] = obj.path
        got = self.by_path.get(obj.path)
        if obj.etag is None or got is None or got[0] != obj.etag or got[1] != obj.size:
            return None
        oid = from_hex(got[2])
        if not remote_has(oid):
            return None
        return ChunkedObject(obj.key, oid, obj.size, got[3], obj.etag)

    def save(self, chunked: Iterable[ChunkedObject]) -> None:
        """Record this run's objects (those with an ETag); a write that fails is only a lost shortcut."""
        objects = {self._paths[c.key]: [c.etag, c.size, c.file_oid.hex(), c.chunks]
                   for c in chunked if c.etag is not None and c.key in self._paths}
        data = json.dumps({"version": VERSION, "url": self.url, "objects": objects}, sort_keys=True).encode()
        try:
            os.makedirs(self.path.parent, exist_ok=True)
            atomic_write(self.path, data, fsync=False)
        except OSError:
            pass
