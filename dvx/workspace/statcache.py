"""Stat cache: (size, mtime_ns, inode) of a file -> its FileManifest id.

Like git's index and DVC's state database: a path whose stat is unchanged is
not read again, which makes ``status`` and re-``add`` of unchanged data cost
one ``stat`` per file. Stored in ``.dvx/tmp/statcache`` with marshal (loads
20k entries in a few ms); it is only a cache: a missing or unreadable file is
an empty cache.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

from dvx._fsutil import atomic_write

_VERSION = 2

Key = tuple[int, int, int]  # size, mtime_ns, inode


def stat_key(st: os.stat_result) -> Key:
    """The part of a stat that says whether a file may have changed."""
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class StatCache:
    """Repo-relative path (bytes) -> (stat key, oid bytes, chunk count)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._entries: dict[bytes, tuple[Key, bytes, int]] | None = None
        self._dirty = False

    @property
    def entries(self) -> dict[bytes, tuple[Key, bytes, int]]:
        if self._entries is None:
            self._entries = {}
            try:
                version, data = marshal.loads(self.path.read_bytes())
                if version == _VERSION and isinstance(data, dict):
                    self._entries = data
            except (OSError, EOFError, ValueError, TypeError):
                pass
        return self._entries

    def get(self, relpath: bytes, key: Key) -> tuple[bytes, int] | None:
        """(oid, chunk count) recorded for ``relpath`` if its stat key is unchanged."""
        hit = self.entries.get(relpath)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        return None

    def put(self, relpath: bytes, key: Key, oid: bytes, chunks: int) -> None:
        """Record that ``relpath`` with stat ``key`` has content ``oid`` in ``chunks`` chunks."""
        self.entries[relpath] = (key, oid, chunks)
        self._dirty = True

    # Trees: the signature of all their files' stats (workspace/_files.py)
    # and the tree id it produced, under a key no file path can take.
    def get_tree(self, relpath: bytes, sig: bytes) -> bytes | None:
        """The tree id recorded for ``relpath`` if its stat signature is unchanged."""
        hit = self.entries.get(b"\0tree\0" + relpath)
        if hit is not None and hit[0] == (0, 0, 0) and hit[1][:16] == sig:
            return hit[1][16:]
        return None

    def put_tree(self, relpath: bytes, sig: bytes, oid: bytes) -> None:
        self.entries[b"\0tree\0" + relpath] = ((0, 0, 0), sig + oid, 0)
        self._dirty = True

    def drop(self, relpath: bytes) -> None:
        if self.entries.pop(relpath, None) is not None:
            self._dirty = True

    def save(self) -> None:
        """Write back if anything changed (atomic; no fsync: it is a cache)."""
        if self._dirty and self._entries is not None:
            atomic_write(self.path, marshal.dumps((_VERSION, self._entries)), fsync=False)
            self._dirty = False
