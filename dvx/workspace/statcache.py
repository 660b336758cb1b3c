"""Stat cache: (size, mtime_ns, ctime_ns, inode) of a file -> its FileManifest id.

Like git's index and DVC's state database: a path whose stat is unchanged is
not read again, which makes ``status`` and re-``add`` of unchanged data cost
one ``stat`` per file. It is only a cache: a missing file is an empty cache,
and a damaged one is discarded with one warning and rebuilt.

Why ctime: ``cp -p``, ``rsync -t --inplace``, ``tar x`` and ``os.utime``
put the old mtime back on new bytes (same size, same inode); nothing but the
kernel can set ctime, so it changes with every write and every utime.

Racy entries (git's "racy git", Documentation/technical/racy-git.txt): a
file changed twice within one tick of the file system's clock keeps the same
stat, so a stat taken between the two writes cannot vouch for the second.

* Files dvx hashes are recorded only when their newest timestamp (max of
  mtime and ctime) is older than ``clock()``, a timestamp the file system
  gave a probe file before the first file was read: any later write gets a
  timestamp at least that new and so a different stat.
* Every entry read back from disk is trusted only when its newest timestamp
  is older than the cache file's own mtime (git's rule); checkout's entries
  for files it has just written depend on this one.

File format (version 3), in ``.dvx/tmp/statcache``::

    b"DVXSTAT3" | xxh3-128 of body (16 bytes) | body = marshal of {bytes: bytes}

Keys are repo-relative paths (trees: ``b"\\0tree\\0" + path``); values are
``_FILE`` or ``_TREE`` records, checked for shape before use.
"""

from __future__ import annotations

import marshal
import os
import stat as stat_mod
import struct
import sys
from pathlib import Path
from typing import Any

import xxhash

from dvx._fsutil import atomic_write

MAGIC = b"DVXSTAT3"
_HEAD = len(MAGIC) + 16
# size u64 | mtime_ns i64 | ctime_ns i64 | inode u64 | newest i64 | oid 16s | chunks u32
_FILE = struct.Struct("<QqqQq16sI")
# tree signature 16s | newest timestamp i64 | tree oid 16s
_TREE = struct.Struct("<16sq16s")
_TREE_KEY = b"\0tree\0"
# A cache this big is not one dvx wrote for a work tree (~60 bytes per file).
MAX_BYTES = 1 << 30
# File systems that store whole milliseconds or coarser (FAT: 2 s, HFS+ and
# ext3: 1 s, exFAT: 10 ms) truncate: a later write in the same unit keeps the
# stamps, and the truncated stamp is older than the write. Such stamps get
# this much slack before they count as older than a reference time.
_COARSE_SLACK = 2_000_000_000

Key = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def stat_key(st: os.stat_result) -> Key:
    """The part of a stat that says whether a file may have changed."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def newest(st: os.stat_result) -> int:
    """The later of mtime and ctime (utime can set mtime into the future)."""
    return max(st.st_mtime_ns, st.st_ctime_ns)


def _slack(*stamps_ns: int) -> int:
    """Extra age a stamp needs when the file system looks coarse (every stamp whole milliseconds)."""
    return _COARSE_SLACK if all(t % 1_000_000 == 0 for t in stamps_ns) else 0


def _old_format(head: bytes) -> bool:
    # Versions 1-2 were a bare marshal of (version, dict): a small tuple.
    return head[:2] in (b")\x02", b"\xa9\x02")


class StatCache:
    """Repo-relative path (bytes) -> (stat, oid, chunk count); trees -> (signature, oid)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._entries: dict[bytes, bytes] | None = None
        self._saved_at = 0  # mtime_ns of the loaded cache file
        self._fresh: set[bytes] = set()  # keys put by this process
        self._clock: int | None = None
        self._dirty = False
        self._warned = False

    # ----------------------------------------------------------------- load
    @property
    def entries(self) -> dict[bytes, bytes]:
        if self._entries is None:
            self._entries = {}
            problem = self._load()
            if problem is not None:
                self._discard(problem)
        return self._entries

    def _load(self) -> str | None:
        """Fill ``_entries`` from disk; a reason when the file is damaged."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as e:
            return f"cannot open it ({e.strerror})"
        try:
            st = os.fstat(fd)
            if not stat_mod.S_ISREG(st.st_mode):
                return "not a regular file"
            if st.st_size > MAX_BYTES:
                return f"{st.st_size} bytes, more than the {MAX_BYTES} a stat cache may have"
            with open(fd, "rb", closefd=False) as f:
                raw = f.read(MAX_BYTES + 1)
        except OSError as e:
            return f"cannot read it ({e.strerror})"
        finally:
            os.close(fd)
        if raw[: len(MAGIC)] != MAGIC:
            return None if not raw or _old_format(raw) else "not a dvx stat cache (bad magic)"
        body = raw[_HEAD:]
        if len(raw) < _HEAD or xxhash.xxh3_128_digest(body) != raw[len(MAGIC) : _HEAD]:
            return "checksum mismatch (truncated or damaged)"
        try:
            data = marshal.loads(body)
        except Exception as e:  # noqa: BLE001 - hostile marshal bytes raise nearly anything
            return f"cannot decode it ({type(e).__name__})"
        if type(data) is not dict:
            return f"holds a {type(data).__name__}, not a table"
        self._entries = data
        self._saved_at = st.st_mtime_ns
        return None

    def _discard(self, problem: str) -> None:
        """Forget every entry; say so once on stderr; rewrite the file on save."""
        self._entries = {}
        self._fresh.clear()
        self._dirty = True
        if not self._warned:
            self._warned = True
            print(f"warning: {self.path}: stat cache discarded: {problem}; it is rebuilt as files are read", file=sys.stderr)

    def _record(self, key: bytes, rec: struct.Struct) -> tuple[Any, ...] | None:
        """The unpacked record under ``key``; None when absent or racy; the cache is dropped when malformed."""
        entries = self.entries
        v = entries.get(key)
        if v is None:
            return None
        if type(v) is not bytes or len(v) != rec.size:
            self._discard(f"entry {key[:80]!r} has the wrong shape")
            return None
        return rec.unpack(v)

    def _trusted(self, key: bytes, newest_ns: int, *stamps_ns: int) -> bool:
        # git's rule: an entry from disk whose file changed in the cache
        # file's own clock tick (or later) may have changed again unseen.
        return key in self._fresh or newest_ns + _slack(*stamps_ns) < self._saved_at

    # ---------------------------------------------------------------- clock
    def clock(self) -> int:
        """A file-system timestamp taken before this process read any file (memoised).

        Touching a probe file beside the cache gives the file system's own
        clock and granularity. -1 when it cannot be touched: then nothing
        hashed is recorded (correct, only slower).
        """
        if self._clock is None:
            probe = self.path.with_name(self.path.name + ".clock")
            try:
                probe.parent.mkdir(parents=True, exist_ok=True)  # absent in a fresh clone
                fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
                try:
                    os.utime(fd)
                    self._clock = os.fstat(fd).st_mtime_ns
                finally:
                    os.close(fd)
            except OSError:
                self._clock = -1
        return self._clock

    # ---------------------------------------------------------------- files
    def get(self, relpath: bytes, st: os.stat_result) -> tuple[bytes, int] | None:
        """(oid, chunk count) recorded for ``relpath`` if its stat is unchanged and not racy."""
        r = self._record(relpath, _FILE)
        if r is None or (r[0], r[1], r[2], r[3]) != stat_key(st) or not self._trusted(relpath, r[4], r[1], r[2]):
            return None
        return r[5], r[6]

    def put(self, relpath: bytes, st: os.stat_result, oid: bytes, chunks: int, written: bool = False) -> None:
        """Record that ``relpath`` with stat ``st`` has content ``oid`` in ``chunks`` chunks.

        A file hashed by this process is recorded only when it last changed
        before ``clock()`` (else it may change again within the same tick);
        ``written`` marks a file dvx itself just wrote (checkout), recorded
        as git records a checkout and left to the load-time rule.
        """
        n = newest(st)
        if not written and n + _slack(st.st_mtime_ns, st.st_ctime_ns) >= self.clock():
            self.drop(relpath)
            return
        self.entries[relpath] = _FILE.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, n, oid, chunks)
        self._fresh.add(relpath)
        self._dirty = True

    # ---------------------------------------------------------------- trees
    # The signature of all their files' stats (workspace/_files.py) and the
    # tree id it produced, under a key no file path can take.
    def get_tree(self, relpath: bytes, sig: bytes) -> bytes | None:
        """The tree id recorded for ``relpath`` if its stat signature is unchanged and not racy."""
        key = _TREE_KEY + relpath
        r = self._record(key, _TREE)
        if r is None or r[0] != sig or not self._trusted(key, r[1], r[1]):
            return None
        tree: bytes = r[2]
        return tree

    def put_tree(self, relpath: bytes, sig: bytes, newest_ns: int, oid: bytes, written: bool = False) -> None:
        """Record the tree id of ``relpath`` for signature ``sig`` (racy rules as ``put``)."""
        key = _TREE_KEY + relpath
        if not written and newest_ns + _slack(newest_ns) >= self.clock():
            self.drop(key)
            return
        self.entries[key] = _TREE.pack(sig, newest_ns, oid)
        self._fresh.add(key)
        self._dirty = True

    def drop(self, relpath: bytes) -> None:
        if self.entries.pop(relpath, None) is not None:
            self._dirty = True

    def drop_below(self, relpath: bytes) -> None:
        """Forget ``relpath``, every file below it and its tree record (``dvx rm``)."""
        self.move(relpath, None)

    def move(self, old: bytes, new: bytes | None) -> None:
        """Re-key the records of the folder ``old`` (its files and its tree) to ``new`` after a rename
        (``dvx mv``); None drops them. A file's inode, size, mtime and ctime do not change when a
        folder above it is renamed, nor does a tree's stat signature (paths in it are relative)."""
        entries = self.entries
        below = old + b"/"
        keys = [k for k in entries if k == old or k.startswith(below) or k == _TREE_KEY + old
                or k.startswith(_TREE_KEY + below)]
        for k in keys:
            v = entries.pop(k)
            if new is not None:
                tree = k.startswith(_TREE_KEY)
                rest = k[len(_TREE_KEY) + len(old):] if tree else k[len(old):]
                entries[(_TREE_KEY if tree else b"") + new + rest] = v
        if keys:
            self._dirty = True

    def _drop_racy(self) -> None:
        # As git smudges racy entries when it writes its index: an entry
        # that is racy now would look safe against the new file's mtime.
        entries = self._entries
        if not self._saved_at or entries is None:
            return
        m = self._saved_at
        fresh = self._fresh
        racy = []
        for k, v in entries.items():
            if k in fresh:
                continue
            if type(v) is not bytes or len(v) not in (_TREE.size, _FILE.size):
                racy.append(k)  # malformed: never written back
                continue
            if len(v) == _TREE.size:
                n = int.from_bytes(v[16:24], "little", signed=True)
                stamps: tuple[int, ...] = (n,)
            else:
                n = int.from_bytes(v[32:40], "little", signed=True)
                stamps = (int.from_bytes(v[8:16], "little", signed=True), int.from_bytes(v[16:24], "little", signed=True))
            if n + _slack(*stamps) >= m:
                racy.append(k)
        for k in racy:
            del entries[k]

    def save(self) -> None:
        """Write back if anything changed (atomic; a failed write is ignored).

        No fsync, unlike packs and index files: this file names no object that
        a reader trusts. ``add`` uses an entry only when the cache's index
        still names its manifest (``known``), and drops entries whose stamps
        differ, so after a power cut a lost, old or half-synced stat cache (the
        contents hash is checked on load) costs a re-hash, never a wrong id.
        """
        if not (self._dirty and self._entries is not None):
            return
        self._drop_racy()
        body = marshal.dumps(self._entries)
        try:
            atomic_write(self.path, MAGIC + xxhash.xxh3_128_digest(body) + body, fsync=False)
        except OSError:
            return  # full disk or read-only: the next command rebuilds what it needs
        self._dirty = False
