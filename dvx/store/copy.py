"""Copying stored objects from one store into new packs of another (``push`` is this, cache -> remote).

Blobs are read from the source in coalesced ranges, in the order given
(chunks before manifests), gathered into packs of about the destination's
``pack_size`` and uploaded ``jobs`` at a time. On the upload thread each
blob is verified against its id; a blob stored compressed is copied as it
is, one stored raw gets the destination's per-blob compression decision
(``encode_blob``: the same rule the cache applied, so it stays raw unless
the cache did not compress at all). An index naming finished packs is
written after every ``jobs`` packs, and only once every pack it names is in
place; a pack holding a manifest is never named before every earlier pack:
an interrupted copy keeps every indexed pack and never names a manifest
whose chunks are absent.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from dvx.hashing import hash_bytes
from dvx.store.blob import encode_blob
from dvx.store.index import FLAG_ZSTD, Record, encode_index
from dvx.store.layout import index_path, put_file
from dvx.store.objects import ObjectType
from dvx.store.pack import FinishedPack, PackBuilder
from dvx.store.ranges import GAP_LOCAL, coalesce
from dvx.store.store import ObjectStore

# A small copy still keeps every job busy: packs go down to 16 MiB.
_MIN_SPLIT = 16 << 20


@dataclass
class CopyStats:
    """What a copy moved: objects, stored and raw bytes, packs and index files written."""

    objects: int = 0
    bytes: int = 0
    raw_bytes: int = 0
    packs: int = 0
    indexes: int = 0


@dataclass
class _PackJob:
    source: list[Record]                       # the source records, in pack order
    blobs: list[bytes] = field(default_factory=list)  # their stored bytes, dropped once uploaded
    size: int = 0
    leaf_only: bool = True
    future: Future[FinishedPack] | None = None


def _build(src: ObjectStore, dst: ObjectStore, job: _PackJob) -> FinishedPack:
    """Verify, encode and upload one pack (runs on the pool: zstd and xxhash release the GIL)."""
    # check: the pack's size is read back after its PUT (one HEAD per pack), on
    # this upload thread, so no index can name it before it is known whole.
    b = PackBuilder(dst.fs if not dst.local else None, dst.root, local=dst.local, check=True)
    for rec, blob in zip(job.source, job.blobs, strict=True):
        raw = src.decode(rec, blob)
        flags, stored = rec.flags, blob
        if dst.compression and not flags & FLAG_ZSTD:
            z = encode_blob(raw)
            if z is not None:
                flags, stored = flags | FLAG_ZSTD, z
        b.add(rec.oid, rec.otype, flags, rec.raw, stored)
    job.blobs = []  # the source bytes go now, not when the index is written
    fp = b.finish()
    dst.io.add(1 if dst.local else 2, sent=fp.size)
    return fp


def copy_objects(
    src: ObjectStore,
    dst: ObjectStore,
    recs: list[Record],
    *,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> CopyStats:
    """Copy the objects of ``recs`` (records of ``src``, in the order to send) into ``dst``."""
    njobs = max(1, jobs)
    stats = CopyStats()
    pack_size = dst.pack_size
    if pack_size >= _MIN_SPLIT:
        total = sum(r.stored for r in recs)
        pack_size = min(pack_size, max(_MIN_SPLIT, -(-total // njobs)))
    queue: deque[_PackJob] = deque()  # submitted, not yet indexed, in order
    inflight = threading.BoundedSemaphore(njobs)

    def ready_jobs() -> list[_PackJob]:
        """Uploaded packs that may be indexed now: chunk-only packs in any order
        (nothing can name a missing object through them), others only once every
        earlier pack is uploaded, so a manifest never lands before its chunks."""
        ready: list[_PackJob] = []
        blocked = False
        for j in queue:
            f = j.future
            ok = f is not None and f.done() and not f.cancelled() and f.exception() is None
            if ok and (j.leaf_only or not blocked):
                ready.append(j)
            else:
                blocked = True
        return ready

    def write_index(ready: list[_PackJob]) -> None:
        done = [j.future.result() for j in ready if j.future is not None]
        irecs = [r for fp in done for r in fp.records]
        data = encode_index(irecs)
        iid = hash_bytes(data)
        dst._files.ensure_marker()  # the dvx-store file, before the first index names anything
        put_file(dst.fs if not dst.local else None, dst.local, index_path(dst.root, iid), data)
        dst.io.add(1 if dst.local else 2, sent=len(data))
        dst._add_index(iid.hex(), data)
        stats.indexes += 1
        stats.packs += len(done)
        for fp in done:
            stats.objects += len(fp.records)
            stats.bytes += sum(r.stored for r in fp.records)
            stats.raw_bytes += sum(r.raw for r in fp.records)

    def commit(final: bool) -> None:
        """Write one index naming the ready packs (at least ``njobs`` of them unless final)."""
        ready = ready_jobs()
        if not ready or (len(ready) < njobs and not final):
            return
        for j in ready:
            queue.remove(j)
        write_index(ready)

    def first_error() -> BaseException | None:
        for j in queue:
            f = j.future
            if f is not None and f.done() and not f.cancelled() and f.exception() is not None:
                return f.exception()
        return None

    def submit(job: _PackJob) -> None:
        inflight.acquire()
        err = first_error()
        if err is not None:
            inflight.release()
            raise err
        fut = pool.submit(_build, src, dst, job)
        job.future = fut
        fut.add_done_callback(lambda _f: inflight.release())
        if progress is not None:
            report = progress
            n = job.size
            fut.add_done_callback(lambda f: report(n) if f.exception() is None else None)
        queue.append(job)
        commit(False)

    pool = ThreadPoolExecutor(njobs, thread_name_prefix="dvx-copy")
    try:
        cur = _PackJob([])
        for _pid, start, _end, members in coalesce(recs, GAP_LOCAL):
            data = src._read_ranges([(_pid, start, _end)])[0]
            for r in members:
                a = r.offset - start
                cur.source.append(r)
                cur.blobs.append(data[a : a + r.stored])
                cur.size += r.stored
                if r.otype != ObjectType.CHUNK:
                    cur.leaf_only = False
                if cur.size >= pack_size:
                    submit(cur)
                    cur = _PackJob([])
            del data
        if cur.source:
            submit(cur)
        for j in list(queue):
            with contextlib.suppress(BaseException):
                j.future.result() if j.future is not None else None
        err = first_error()
        if err is not None:
            raise err
        commit(True)
    except BaseException:
        # Keep what finished and is safe to name (see ready_jobs).
        pool.shutdown(wait=True, cancel_futures=True)
        keep = ready_jobs()
        if keep:
            with contextlib.suppress(Exception):
                write_index(keep)
        raise
    finally:
        pool.shutdown(wait=True)
    return stats
