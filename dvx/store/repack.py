"""``apply_gc``: the sweep of a ``GcPlan`` (``dvx.store.gc``), in the order that keeps a store valid.

1. the live blobs of mostly-garbage packs are copied verbatim (no
   decompression, no recompression; each verified against its id first)
   into new packs, written and synced before anything names them; a pack
   holding a live blob that fails verification is kept whole instead;
2. the compacted index files are written (synced, then their folder);
3. the old index files are deleted (then the folder is synced);
4. the packs that no index names any more are deleted.

A crash after 1 leaves orphan packs (deleted by the next gc once older
than the grace period); after 2, objects listed twice (allowed); after 3,
orphan packs. A rerun plans again from what is there and completes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from dvx._fsutil import atomic_write, fsync_dir
from dvx.errors import DvxError
from dvx.store import pack as _pack
from dvx.store.blob import decode_blob
from dvx.store.gc import GcPlan, index_files
from dvx.store.index import Record
from dvx.store.layout import put_file
from dvx.store.objects import ObjectType
from dvx.store.ranges import GAP_LOCAL, GAP_REMOTE, coalesce
from dvx.store.store import ObjectStore

_RM_BATCH = 500  # remote deletes per request batch


@dataclass
class GcStats:
    """What ``apply_gc`` did."""

    where: str
    objects_removed: int = 0
    bytes_freed: int = 0
    packs_deleted: int = 0
    packs_repacked: int = 0
    packs_written: int = 0
    indexes_written: int = 0
    indexes_deleted: int = 0
    repack_refused: dict[bytes, str] = field(default_factory=dict)  # pack -> why it was kept whole

    def to_json(self) -> dict[str, object]:
        return {"where": self.where, "objects_removed": self.objects_removed, "bytes_freed": self.bytes_freed,
                "packs_deleted": self.packs_deleted, "packs_repacked": self.packs_repacked,
                "packs_written": self.packs_written, "indexes_written": self.indexes_written,
                "indexes_deleted": self.indexes_deleted,
                "repack_refused": {p.hex(): why for p, why in self.repack_refused.items()}}


@contextlib.contextmanager
def _cache_lock(store: ObjectStore) -> Iterator[None]:
    """The local store's fetch lock (``<root>/fetch.lock``): no fetch writes while gc deletes."""
    if not store.local:
        yield
        return
    fd = os.open(os.path.join(store.root, "fetch.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def apply_gc(store: ObjectStore, plan: GcPlan) -> GcStats:
    """Carry out ``plan`` on ``store`` (see the module docstring); the caller holds the store's lock."""
    st = GcStats(plan.where, objects_removed=plan.garbage_objects)
    if not plan.changes:
        return st
    with _cache_lock(store):
        store.close()
        keep = list(plan.keep_more)
        written, failed = _repack(store, plan, st)
        for pid in failed:
            keep.extend(r for r in plan.copy if r[1] == pid)
        st.packs_repacked = len(plan.repack_packs) - len(failed)
        new = index_files([*keep, *written], plan.keep_rows)
        new_names = {n for n, _d in new}
        if new_names != set(plan.old_indexes):
            store._files.ensure_marker()
            for name, data in new:
                _write_index(store, name, data)
                st.indexes_written += 1
            if store.local and new:
                fsync_dir(os.path.join(store.root, "index"))
            old = [n for n in plan.old_indexes if n not in new_names]
            _remove(store, [f"{store.root}/index/{n}" for n in old], "index")
            st.indexes_deleted = len(old)
        gone = {**plan.delete, **plan.orphans, **{p: s for p, s in plan.repack_packs.items() if p not in failed}}
        for r in written:  # a rerun after a crash rewrites a pack under the name it already had
            gone.pop(r[1], None)
        _remove(store, [_pack.pack_path(store.root, p) for p in gone], "packs")
        st.packs_deleted = len(gone)
        st.bytes_freed = sum(gone.values()) - sum(_pack_bytes(g) for g in _groups(written))
        store.forget_index()
    return st


def _groups(recs: list[Record]) -> list[list[Record]]:
    out: dict[bytes, list[Record]] = {}
    for r in recs:
        out.setdefault(r[1], []).append(r)
    return list(out.values())


def _pack_bytes(recs: list[Record]) -> int:
    return sum(r[3] for r in recs) + len(recs) * _pack.ENTRY_SIZE + _pack.TRAILER_SIZE


def _repack(store: ObjectStore, plan: GcPlan, st: GcStats) -> tuple[list[Record], set[bytes]]:
    """Copy the live blobs of ``plan.repack_packs`` into new packs: (their records, packs kept whole)."""
    out: list[Record] = []
    failed: set[bytes] = set()
    if not plan.copy:
        return out, failed
    # Chunks and metadata objects into packs of their own, cut as ``split_packs`` plans them.
    builders: dict[bool, _pack.PackBuilder] = {}
    by_pack: dict[bytes, list[Record]] = {}
    for r in plan.copy:
        by_pack.setdefault(r[1], []).append(r)
    try:
        for pid in sorted(by_pack):
            blobs = _verified(store, by_pack[pid])
            if isinstance(blobs, str):
                failed.add(pid)
                st.repack_refused[pid] = blobs
                continue
            for r, blob in blobs:
                meta = r[5] != ObjectType.CHUNK
                builder = builders.get(meta)
                if builder is None:
                    builder = builders[meta] = (_pack.LocalPackBuilder(None, store.root, fsync=True) if store.local
                                                else _pack.PackBuilder(store.fs, store.root))
                builder.add(r[0], r[5], r[6], r[4], blob)
                if builder.size >= plan.pack_size:
                    del builders[meta]
                    out.extend(_finish(builder, st))
        for meta in (False, True):
            if meta in builders:
                out.extend(_finish(builders.pop(meta), st))
    except BaseException:
        for builder in builders.values():
            with contextlib.suppress(OSError):
                builder.abort()
        raise
    return out, failed


def _finish(builder: _pack.PackBuilder, st: GcStats) -> list[Record]:
    fp = builder.finish()  # locally: fsync'ed, read back, renamed, folder synced
    st.packs_written += 1
    return fp.records


def _verified(store: ObjectStore, recs: list[Record]) -> list[tuple[Record, bytes]] | str:
    """The stored blobs of ``recs`` (one pack), each verified against its id; why not, as text."""
    out: list[tuple[Record, bytes]] = []
    gap = GAP_LOCAL if store.local else GAP_REMOTE
    ranges = list(coalesce(sorted(recs, key=lambda r: r[2]), gap))
    try:
        datas = store._read_ranges([(p, s, e) for p, s, e, _m in ranges])
    except DvxError as e:
        return e.message
    for (_p, s, _e, members), data in zip(ranges, datas, strict=True):
        for r in members:
            blob = bytes(data[r[2] - s : r[2] - s + r[3]])
            try:
                decode_blob(r, blob, store.where, store.max_chunk)
            except DvxError as e:
                return e.message
            out.append((r, blob))
    return out


def _write_index(store: ObjectStore, name: str, data: bytes) -> None:
    path = f"{store.root}/index/{name}"
    if store.local:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, data)  # temp file, fsync, rename
    else:
        put_file(store.fs, False, path, data)  # one PUT, size checked
        store.io.add(2, sent=len(data))


def _remove(store: ObjectStore, paths: list[str], folder: str) -> None:
    """Delete ``paths`` (gone already is fine); locally, sync the folders after."""
    if not paths:
        return
    if store.local:
        dirs = set()
        for p in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
            dirs.add(os.path.dirname(p))
        for d in sorted(dirs):
            with contextlib.suppress(FileNotFoundError):
                fsync_dir(d)
        return
    for k in range(0, len(paths), _RM_BATCH):
        batch = paths[k : k + _RM_BATCH]
        try:
            store.fs.rm(batch)
        except FileNotFoundError:
            for p in batch:
                with contextlib.suppress(FileNotFoundError):
                    store.fs.rm_file(p)
        store.io.add(1)
    with contextlib.suppress(Exception):
        store.fs.invalidate_cache(f"{store.root}/{folder}")

