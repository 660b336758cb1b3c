"""Finding, reading and verifying a store's index files, with an optional local copy of a remote's.

An index file is trusted only when its bytes hash to its name (ids are
content hashes) and its header and length parse: a torn or tampered file
is ignored with a warning, so its objects look missing and are written
again. For a remote, the verified files can be kept under a local folder
(``.dvx/cache/remote-index/<remote key>/``): a later command downloads only
the files it has not seen, and a kept file is verified again on every load.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

from dvx._fsutil import atomic_write
from dvx.errors import FormatVersionError
from dvx.hashing import hash_bytes, is_oid
from dvx.store.index import check_index, newer_format
from dvx.store.iostats import IoStats
from dvx.store.limits import MAX_INDEX
from dvx.store.marker import check_marker, write_marker

log = logging.getLogger("dvx.store")


def read_local_file(path: str, name: str, where: str) -> bytes | None:
    """A local index file's bytes, or None (with a warning) when it is gone, a directory,
    unreadable or over MAX_INDEX; nothing beyond the cap is read."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_INDEX:
                log.warning("ignoring index %s in %s: %d bytes is over the %d-byte limit", name, where, size, MAX_INDEX)
                return None
            return f.read(MAX_INDEX + 1)
    except FileNotFoundError:
        return None
    except OSError as e:  # a directory named like an index, no permission
        log.warning("ignoring index %s in %s: %s", name, where, e.strerror or e)
        return None


def problem(name: str, data: bytes) -> str | None:
    """Why index file ``name`` must not be trusted, or None."""
    if hash_bytes(data).hex() != name:
        return "content does not match its name"
    try:
        check_index(data)
    except ValueError as e:
        return str(e)
    return None


class IndexFiles:
    """The ``index/`` folder of one store: list, read, verify; keep copies in ``cache_dir`` if given."""

    def __init__(self, fs: Any, root: str, local: bool, where: str, io: IoStats, cache_dir: str | None = None) -> None:
        self.fs = fs
        self.root = root
        self.local = local
        self.where = where
        self.io = io
        self.cache_dir = cache_dir
        self.marked: bool | None = None  # the store's dvx-store marker: None until read

    def check_format(self) -> None:
        """Read the store's ``dvx-store`` marker once (FormatVersionError for another format)."""
        if self.marked is None:
            self.io.add()
            self.marked = check_marker(self.fs, self.local, self.root, self.where)

    def ensure_marker(self) -> None:
        """Check the marker, and write it when the store has none (before its first index)."""
        self.check_format()
        if not self.marked:
            write_marker(self.fs, self.local, self.root)
            self.io.add()
            self.marked = True

    def names(self) -> list[str]:
        """Sorted ids of the index files present (temp files, folders and oversized files left out)."""
        self.check_format()
        d = f"{self.root}/index"
        self.io.add()
        if self.local:
            try:
                return sorted(n for n in os.listdir(d) if is_oid(n))
            except (FileNotFoundError, NotADirectoryError):
                return []
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache(d)
        try:
            infos = self.fs.ls(d, detail=True)
        except FileNotFoundError:
            return []
        names = []
        for info in infos:
            name = info["name"].rstrip("/").rsplit("/", 1)[-1]
            if is_oid(name) and not self._unusable(name, info.get("type"), info.get("size")):
                names.append(name)
        return sorted(names)

    def _unusable(self, name: str, kind: Any, size: Any) -> bool:
        """True (with a warning) for a listed index that is a directory or too big to read."""
        if kind == "directory":
            log.warning("ignoring index %s in %s: it is a directory", name, self.where)
            return True
        if isinstance(size, int) and size > MAX_INDEX:
            log.warning("ignoring index %s in %s: %d bytes is over the %d-byte limit", name, self.where, size, MAX_INDEX)
            return True
        return False

    def read(self, names: list[str]) -> dict[str, bytes]:
        """The stored bytes of index files ``names`` (unverified; missing ones left out)."""
        paths = {f"{self.root}/index/{n}": n for n in names}
        out: dict[str, bytes] = {}
        if self.local:
            for p, n in paths.items():
                data = read_local_file(p, n, self.where)
                if data is not None:
                    out[n] = data
        elif paths:
            got = self.fs.cat(list(paths), on_error="omit")
            strip = self.fs._strip_protocol
            out = {paths[p if p in paths else strip(p)]: v for p, v in got.items()}
        self.io.add(len(paths), received=sum(len(v) for v in out.values()))
        return out

    def load(self, names: list[str]) -> list[tuple[str, bytes]]:
        """``(name, bytes)`` of the files of ``names`` that verify, in the order given."""
        kept = self._kept(names)
        fetched = self.read([n for n in names if n not in kept])
        out = []
        for name in names:
            data = kept.get(name)
            if data is None:
                data = fetched.get(name)
                if data is None:
                    continue
                why = problem(name, data)
                if why is not None and hash_bytes(data).hex() == name and (newer := newer_format(data)):
                    # Written that way (it hashes to its name): a newer dvx, not damage.
                    path = f"{self.root}/index/{name}"
                    shown = path if self.local and self.where == self.root else f"{self.where}: {path}"
                    raise FormatVersionError(f"{shown}: {newer}", "upgrade dvx")
                if why is not None:
                    log.warning("ignoring index %s in %s: %s", name, self.where, why)
                    continue
                self.keep(name, data)
            out.append((name, data))
        return out

    def _kept(self, names: list[str]) -> dict[str, bytes]:
        """Verified local copies of ``names``; copies of files no longer listed are removed."""
        d = self.cache_dir
        if d is None:
            return {}
        try:
            present = {n for n in os.listdir(d) if is_oid(n)}
        except OSError:
            return {}
        wanted = set(names)
        out = {}
        for n in present:
            path = os.path.join(d, n)
            if n not in wanted:  # deleted on the remote (by a gc): the copy goes too
                with contextlib.suppress(OSError):
                    os.unlink(path)
                continue
            data = read_local_file(path, n, d)
            if data is not None and problem(n, data) is None:
                out[n] = data
            else:  # a damaged copy: read the remote's file again
                with contextlib.suppress(OSError):
                    os.unlink(path)
        return out

    def keep(self, name: str, data: bytes) -> None:
        """Keep a verified copy of index ``name`` in the cache folder (skipped on a full or read-only disk)."""
        if self.cache_dir is None:
            return
        with contextlib.suppress(OSError):
            os.makedirs(self.cache_dir, exist_ok=True)
            # No fsync: a copy is verified (hash equals name) on every load, and
            # a lost or torn one is downloaded again from the remote.
            atomic_write(os.path.join(self.cache_dir, name), data, fsync=False)
