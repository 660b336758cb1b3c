"""``StoreWriter``: adds objects to packs of any store, then an index naming them.

The same writer fills the local cache (``add``, ``fetch``) and a remote.
Each blob's encoding is decided on its own bytes (``dvx.store.blob.encode_blob``).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dvx._fsutil import create_tmp, fsync_dir, remove_stale_in
from dvx.errors import StoreWriteError
from dvx.hashing import hash_bytes
from dvx.store import pack as _pack
from dvx.store.blob import MIN_COMPRESS, stays_raw
from dvx.store.blob import compress as _compress
from dvx.store.clone import ALIGN_MAX_PACK, plan_file
from dvx.store.index import FLAG_ZSTD, check_id, encode_index, max_raw
from dvx.store.layout import index_path, pack_path, put_file
from dvx.store.objects import FileManifest, ObjectType, TreeManifest
from dvx.store.store import ObjectStore
from dvx.store.types import ObjectId

# Write an index after this many objects even before flush(), so a crash in a
# long add loses at most this much work (~4 GiB of 64 KiB chunks).
_INDEX_EVERY = 65536
# Local packs waiting for their fsync at once (bounds unsynced data to ~64 MiB).
_MAX_COMMITS = 2
# Objects at least this big are compressed on the pool (pyarrow releases the GIL).
_POOL_MIN = 16 << 10
_POOL_WORKERS = 2
_MAX_PENDING = 16


@dataclass
class WriterStats:
    """What a writer did: raw bytes and objects added, bytes written to packs, dedup hits, packs."""

    bytes_in: int = 0
    bytes_stored: int = 0
    objects_added: int = 0
    objects_deduped: int = 0
    packs_written: int = 0
    indexes_written: int = 0


class StoreWriter:
    """Adds objects to packs; ``flush`` writes the pack and then an index naming it.

    Use as a context manager: on success it flushes; on an exception the
    unfinished pack is dropped and gets no index (packs already completed get
    one). After a write error the writer refuses further use. One writer is
    used by one thread; several writers (threads or processes) may write one
    store at once.
    """

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.stats = WriterStats()
        # Chunks and metadata (manifests, profiles, results) go to packs of their own,
        # so reading every manifest (gc's mark, fsck) is a few sequential reads.
        self._builder: _pack.PackBuilder | None = None
        self._meta: _pack.PackBuilder | None = None
        self._written: set[bytes] = set()
        self._finished: list[_pack.FinishedPack] = []
        self._unindexed = 0
        self._pending: deque[tuple[bytes, int, bytes | memoryview, Future[bytes | None] | bytes | None]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._committer: ThreadPoolExecutor | None = None
        self._commits: deque[Future[_pack.FinishedPack]] = deque()
        self._broken: BaseException | None = None
        self._closed = False
        self._whole_file = False  # the open chunk pack is holding one file whole (begin_file)
        if store.local and not store._swept:
            # The next writer removes what killed writers left in tmp/
            # (temp files no live process holds: _fsutil.remove_if_stale).
            store._swept = True
            remove_stale_in([os.path.join(store.root, "tmp")])

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.flush()
            finally:
                self._close()
            return
        self._abort_current()
        self._collect_all()
        if self._finished:
            # Complete, verified packs (also after a write error such as a
            # full disk): index them so a rerun need not rewrite them; when
            # even the small index cannot be written, remove them, since
            # nothing would ever name them.
            try:
                self._write_index()
            except BaseException:  # noqa: BLE001 - the caller's exception is the one reported
                self._remove_unindexed()
        self._close()

    def _collect_all(self) -> None:
        """Take every commit in flight; a failed one already removed its temp file."""
        while self._commits:
            fut = self._commits.popleft()
            try:
                self._finished_pack(fut.result())
            except BaseException:  # noqa: BLE001, S110 - the first error is the one reported
                pass

    def _remove_unindexed(self) -> None:
        s = self.store
        with contextlib.suppress(Exception):
            s.refresh()
        named: set[bytes] = set()
        with contextlib.suppress(Exception):
            named = s.pack_ids()
        for fp in self._finished:
            if fp.pack_id in named:
                continue  # another writer wrote the same pack and indexed it
            path = pack_path(s.root, fp.pack_id)
            with contextlib.suppress(Exception):
                if s.local:
                    os.unlink(path)
                else:
                    s.fs.rm_file(path)
        self._finished = []
        self._unindexed = 0

    def _check(self) -> None:
        if self._broken is not None:
            raise StoreWriteError(
                f"writer for {self.store.where} is unusable after an earlier write error: {self._broken}",
                "fix the cause and run the command again",
            )
        if self._closed:
            raise StoreWriteError(f"writer for {self.store.where} is closed")

    def _fail(self, e: BaseException) -> StoreWriteError | BaseException:
        self._broken = e
        self._abort_current()
        if isinstance(e, OSError):
            full = e.errno in (errno.ENOSPC, errno.EDQUOT)
            why = "no space left on the device" if full else (e.strerror or str(e))
            err = StoreWriteError(
                f"cannot write to {self.store.where}: {why}",
                "free space on that disk, then run the command again"
                if full
                else "check free space and permissions, then run the command again",
            )
            err.__cause__ = e
            return err
        return e

    def put(self, oid: bytes, otype: ObjectType, data: bytes | memoryview, *, compress: bool | None = None) -> bool:
        """Add one object; False when the store or this writer already has ``oid``.

        ``compress``: True always tries zstd (kept when it saves 1/8), False
        never, None (auto) applies the per-blob rule of ``encode_blob``.
        ``data`` is not hashed here: the caller passes its id (reads verify it).
        """
        self._check()
        check_id(oid)
        n = len(data)
        cap = max_raw(int(otype), self.store.max_chunk)
        if n > cap:
            # Readers refuse such an object (docs/format.md, "Limits"): never write one.
            raise StoreWriteError(
                f"{ObjectType(otype).name.lower()} object {oid.hex()} is {n} bytes, over the {cap}-byte limit "
                f"of {self.store.where}"
            )
        if oid in self._written or self.store.has(oid):
            self.stats.objects_deduped += 1
            return False
        try:
            self._written.add(oid)
            # Auto mode: the sample test runs here, on the caller's buffer, so an
            # incompressible chunk is written at once (no copy, no pool round trip);
            # the rest of the per-blob rule (compress whole, keep if it saves 1/8) is
            # ``_compress`` on the pool.
            skip = (self.store.compression is None or compress is False or n < MIN_COMPRESS
                    or (compress is None and stays_raw(data)))
            encode = None if skip else _compress
            if encode is None:
                if self._pending:
                    self._pending.append((oid, int(otype), bytes(data), None))
                else:
                    self._store_blob(oid, int(otype), data, None)
            elif n >= _POOL_MIN:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(_POOL_WORKERS, thread_name_prefix="dvx-zstd")
                if not isinstance(data, bytes):
                    data = bytes(data)  # the caller may reuse its buffer
                self._pending.append((oid, int(otype), data, self._pool.submit(encode, data)))
            else:
                self._pending.append((oid, int(otype), bytes(data), encode(data)))
            self._drain(_MAX_PENDING)
        except BaseException as e:
            raise self._fail(e) from None
        return True

    def begin_file(self, size: int) -> None:
        """The chunks of a file of ``size`` bytes come next: in a store laid out for clones a large file
        starts a block-aligned chunk pack and stays in it (``dvx.store.clone.plan_file``)."""
        self._check()
        b = self._builder
        cut, self._whole_file = plan_file(self.store, size, None if b is None else b.size)
        if cut:
            try:
                self._drain(0)
                self._finish_pack(False)
            except BaseException as e:
                raise self._fail(e) from None

    def put_manifest(self, m: FileManifest | TreeManifest) -> ObjectId:
        """Store a manifest; return its id."""
        data = m.encode()
        oid = ObjectId(hash_bytes(data))
        otype = ObjectType.FILE if isinstance(m, FileManifest) else ObjectType.TREE
        self.put(oid, otype, data)
        return oid

    def _drain(self, limit: int) -> None:
        p = self._pending
        while p and (len(p) > limit or not isinstance(p[0][3], Future) or p[0][3].done()):
            oid, otype, data, res = p.popleft()
            out = res.result() if isinstance(res, Future) else res
            self._store_blob(oid, otype, data, out)

    def _new_builder(self) -> _pack.PackBuilder:
        if self.store.local:
            return _pack.LocalPackBuilder(None, self.store.root, fsync=self.store.fsync)
        return _pack.PackBuilder(self.store.fs, self.store.root)

    def _store_blob(self, oid: bytes, otype: int, data: bytes | memoryview, compressed: bytes | None) -> None:
        meta = otype != ObjectType.CHUNK
        b = self._meta if meta else self._builder
        if b is None:
            b = self._new_builder()
            if meta:
                self._meta = b
            else:
                self._builder = b
        blob = data if compressed is None else compressed
        b.add(oid, otype, 0 if compressed is None else FLAG_ZSTD, len(data), blob)
        self.stats.bytes_in += len(data)
        self.stats.bytes_stored += len(blob)
        self.stats.objects_added += 1
        if b.size >= (ALIGN_MAX_PACK if self._whole_file and not meta else self.store.pack_size):
            if meta:
                # The chunks a manifest lists are in earlier chunk packs or the open one:
                # that one is finished first, so no index names a manifest without its chunks.
                self._finish_pack(False)
            self._finish_pack(meta)

    def _finish_pack(self, meta: bool) -> None:
        if meta:
            b, self._meta = self._meta, None
        else:
            b, self._builder = self._builder, None
        if b is None:
            return
        if not b.records:
            b.abort()
            return
        if isinstance(b, _pack.LocalPackBuilder):
            # fsync is the slow part of a local pack (disk bound): it runs on a
            # thread while the next pack fills; the index waits for it.
            try:
                b.seal()
            except BaseException:
                b.abort()
                raise
            if self._committer is None:
                self._committer = ThreadPoolExecutor(1, thread_name_prefix="dvx-pack")
            self._commits.append(self._committer.submit(b.commit))
            self._collect(_MAX_COMMITS)
        else:
            try:
                fp = b.finish()
            except BaseException:
                b.abort()
                raise
            self._finished_pack(fp)
        if self._unindexed >= _INDEX_EVERY:
            self._write_index()

    def _collect(self, limit: int) -> None:
        """Take finished commits; wait for the oldest while more than ``limit`` are in flight."""
        c = self._commits
        while c and (len(c) > limit or c[0].done()):
            self._finished_pack(c.popleft().result())

    def _finished_pack(self, fp: _pack.FinishedPack) -> None:
        self._finished.append(fp)
        self._unindexed += len(fp.records)
        self.stats.packs_written += 1

    def _write_index(self) -> None:
        self._collect(0)
        if not self._finished:
            return
        recs = [r for fp in self._finished for r in fp.records]
        data = encode_index(recs)
        iid = hash_bytes(data)
        s = self.store
        s._files.ensure_marker()  # the dvx-store file, before the first index names anything
        if s.local:
            if s.fsync:
                # Each pack was fsync'ed on the committer thread; their folder
                # entries are synced here, once per folder for this index.
                _pack.sync_pack_dirs(s.root, [fp.pack_id for fp in self._finished])
            self._write_local_index(iid, data)
        else:
            put_file(s.fs, False, index_path(s.root, iid), data)
            s.io.add(2, sent=len(data))
        oids = [r[0] for r in recs]
        s._add_index(iid.hex(), data)
        self._written.difference_update(oids)
        self._finished = []
        self._unindexed = 0
        self.stats.indexes_written += 1

    def _write_local_index(self, iid: bytes, data: bytes) -> None:
        """temp file in ``tmp/``, fsync, rename into ``index/``, fsync the folder (always,
        whatever ``[cache] fsync`` says: the caller writes pointers next)."""
        root = self.store.root
        path = index_path(root, iid)
        tmpdir = os.path.join(root, "tmp")
        os.makedirs(tmpdir, exist_ok=True)
        new_dir = not os.path.isdir(os.path.dirname(path))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp, fd = create_tmp(os.path.join(tmpdir, "index"))
        try:
            with open(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
                if os.fstat(f.fileno()).st_size != len(data):
                    raise OSError(f"index {tmp}: size differs after writing {len(data)} bytes")
                os.replace(tmp, path)  # while locked (_fsutil.create_tmp)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        fsync_dir(os.path.dirname(path))
        if new_dir:
            fsync_dir(root)  # the new index/ entry

    def flush(self) -> None:
        """Finish the current pack: write it, then an index naming every pack not yet indexed.

        When it returns, the packs and the index are durable (locally: fsync'ed
        and their folders synced, unless ``[cache] fsync = false`` for packs;
        on a remote: each pack's size checked after its PUT, then the index's),
        so a caller may write what names the objects (pointers, manifests).
        """
        self._check()
        try:
            self._drain(0)
            self._finish_pack(False)  # chunks before the manifests that list them
            self._finish_pack(True)
            self._write_index()
        except BaseException as e:
            raise self._fail(e) from None

    def _abort_current(self) -> None:
        for item in self._pending:
            if isinstance(item[3], Future):
                item[3].cancel()
        self._pending.clear()
        for b in (self._builder, self._meta):
            if b is not None:
                with contextlib.suppress(OSError):
                    b.abort()
        self._builder = self._meta = None

    def _close(self) -> None:
        self._closed = True
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

