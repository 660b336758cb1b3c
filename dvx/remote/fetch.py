"""Remote -> cache: ``fetch`` (everything some roots reach) and ``fetch_objects`` (given ids).

Both run under one lock per cache (threads and processes) and refresh the
cache's index under it, and both write through ``_copy_in``: that is the
one path by which objects enter the cache from a remote.

Manifests first (tree -> file manifests), then the chunks missing locally,
read by the remote store in coalesced ranges (``ObjectStore.read_records``),
never whole packs for a few chunks. Every object is verified against its id
before it is written to the cache, and each chunk's length is checked
against its manifest before a byte of it is read; manifests are written
last, so nothing unverified reaches the cache and nothing is named before
what it names.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterable, Iterator

from dvx.errors import CorruptObjectError, LockTimeoutError, ObjectMissingError
from dvx.remote.common import ORDER, Counter, Progress, TransferResult, load_index
from dvx.remote.errors import translate_errors
from dvx.remote.session import Remote
from dvx.store import FileManifest, ObjectStore, ObjectType, Record, TreeManifest

_LOCK_FILE = "fetch.lock"
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def fetch_lock(local: ObjectStore, timeout: float | None = None) -> Iterator[None]:
    """One fetcher per cache at a time, across threads and processes (``flock`` on ``<cache>/fetch.lock``).

    A local gc takes it too (with the repository lock), so no lazy read of the
    Python API writes into the cache while gc sweeps it. ``timeout``: seconds
    to wait (None: for ever), then LockTimeoutError.
    """
    with _thread_locks_guard:
        tlock = _thread_locks.setdefault(local.root, threading.Lock())
    path = os.path.join(local.root, _LOCK_FILE)
    if not tlock.acquire(timeout=-1 if timeout is None else timeout):
        raise _timed_out(path, timeout)
    try:
        os.makedirs(local.root, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            _flock(fd, path, timeout)
            yield
        finally:
            os.close(fd)
    finally:
        tlock.release()


def _flock(fd: int, path: str, timeout: float | None) -> None:
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _timed_out(path, timeout) from None
            time.sleep(0.05)


def _timed_out(path: str, timeout: float | None) -> LockTimeoutError:
    return LockTimeoutError(f"{path}: still locked by another dvx process after {timeout or 0:.0f} s",
                            "wait for it to finish, or stop it")


def _remote_record(remote: Remote, oid: bytes, size: int | None) -> Record | None:
    """The remote's record of ``oid`` (within the caps), or None; CorruptObjectError when a
    manifest gave the chunk another length (checked before a byte of it is read)."""
    rec = remote.store.record(oid)
    if rec is not None and size is not None and rec.raw != size:
        raise CorruptObjectError(
            f"object {oid.hex()} in pack {rec.pack.hex()} of remote {remote.label} is {rec.raw} bytes, "
            f"but a manifest lists it as a chunk of {size} bytes",
            "the remote's manifest or its index is damaged or was tampered with; nothing was written")
    return rec


def _copy_in(local: ObjectStore, remote: Remote, recs: list[Record], njobs: int, res: TransferResult,
             progress: Progress | None, manifests: dict[bytes, tuple[ObjectType, bytes]]) -> None:
    """Read ``recs`` from the remote (verified) into the cache; then ``manifests``, files before trees."""
    res.packs += len({r.pack for r in recs})
    with local.writer() as w:
        for r, raw in remote.store.read_records(recs, jobs=njobs):
            w.put(r.oid, ObjectType(r.otype), raw, compress=r.compressed)
            res.objects += 1
            res.bytes += r.stored
            res.raw_bytes += r.raw
            if progress:
                progress("bytes", r.stored)
        for oid, (t, raw) in sorted(manifests.items(), key=lambda kv: ORDER.get(kv[1][0], 1)):
            w.put(oid, t, raw)


def fetch_objects(
    local: ObjectStore, remote: Remote, oids: Iterable[bytes], *, jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Fetch exactly the objects of ``oids`` the cache lacks (no closure), chunks before manifests.

    Runs under a lock that serialises fetchers of one cache across threads
    and processes; the cache is refreshed and rechecked under it, so two
    readers needing the same object download it once. ObjectMissingError
    (naming the objects and the remote) when the remote lacks some.
    """
    t0 = time.perf_counter()
    res = TransferResult()
    wanted = list(dict.fromkeys(oids))
    with fetch_lock(local):
        local.refresh()
        need = [o for o in wanted if not local.has(o)]
        res.present = len(wanted) - len(need)
        if not need:
            return res
        counter = Counter(remote)
        load_index(local, remote, must_exist=True)
        with translate_errors(remote):
            recs = {o: remote.store.record(o) for o in need}
            absent = [o for o, r in recs.items() if r is None]
            if absent:
                more = f" and {len(absent) - 1} more" if len(absent) > 1 else ""
                raise ObjectMissingError(f"object {absent[0].hex()}{more} is not in remote {remote.label}")
            chunks = [r for r in recs.values() if r is not None and r.otype == ObjectType.CHUNK]
            others = [r for r in recs.values() if r is not None and r.otype != ObjectType.CHUNK]
            manifests = {r.oid: (ObjectType(r.otype), raw) for r, raw in remote.store.read_records(others, jobs=1)}
            if progress:
                progress("total", sum(r.stored for r in chunks))
            _copy_in(local, remote, chunks, max(1, jobs or remote.jobs), res, progress, manifests)
            res.objects += len(manifests)
            res.raw_bytes += sum(len(raw) for _t, raw in manifests.values())
        counter.fill(res)
    res.elapsed = time.perf_counter() - t0
    return res


def fetch(
    remote: Remote,
    local: ObjectStore,
    roots: list[tuple[bytes, ObjectType]],
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Download every object ``roots`` reach that the local store lacks; see the module docstring."""
    t0 = time.perf_counter()
    res = TransferResult()
    njobs = max(1, jobs or remote.jobs)
    counter = Counter(remote)
    load_index(local, remote, must_exist=True)
    rstore = remote.store
    with fetch_lock(local), translate_errors(remote):
        local.refresh()  # what another fetcher wrote while this one waited
        manifests: dict[bytes, tuple[ObjectType, bytes]] = {}   # fetched, verified, written last
        nowhere: dict[bytes, None] = {}
        seen: set[bytes] = set()

        def want(oids: Iterable[bytes], sizes: dict[bytes, int] | None = None) -> list[Record]:
            """Remote records of the objects the local store lacks, each within the caps and, for
            chunks, of the length their manifest gives, before a byte of them is read."""
            out = []
            for o in oids:
                if o in seen:
                    continue
                seen.add(o)
                if local.has(o):
                    res.present += 1
                    continue
                rec = _remote_record(remote, o, None if sizes is None else sizes[o])
                if rec is None:
                    nowhere[o] = None
                else:
                    out.append(rec)
            return out

        def get_manifests(oids: list[bytes]) -> dict[bytes, bytes]:
            """Raw bytes of these manifests: local ones from the cache, others fetched and verified."""
            out: dict[bytes, bytes] = {}
            need = want(oids)
            for o in oids:
                if local.has(o) and o not in out:
                    out[o] = local.get(o)
            for r, raw in rstore.read_records(need, jobs=njobs):
                manifests[r.oid] = (ObjectType(r.otype), raw)
                out[r.oid] = raw
                res.objects += 1
                res.bytes += r.stored
                res.raw_bytes += r.raw
            res.packs += len({r.pack for r in need})
            return out

        # Level 1: the roots; level 2: file manifests of trees; level 3: chunks.
        top = get_manifests([o for o, _t in roots])
        file_oids: list[bytes] = []
        for oid, otype in roots:
            if otype == ObjectType.TREE and oid in top:
                tm = rstore.decode_manifest(oid, top[oid], TreeManifest)
                file_oids.extend(e.file_oid for e in tm.entries)
            elif otype == ObjectType.FILE and oid in top:
                file_oids.append(oid)
        files = get_manifests([o for o in file_oids if o not in top]) | {o: top[o] for o in file_oids if o in top}
        chunks: list[bytes] = []
        sizes: dict[bytes, int] = {}
        for foid, raw in files.items():
            fm = rstore.decode_manifest(foid, raw, FileManifest)
            chunks.extend(c.oid for c in fm.chunks)
            sizes.update((c.oid, c.size) for c in fm.chunks)
        need = want(chunks, sizes)
        if progress:
            progress("total", sum(r.stored for r in need))
        _copy_in(local, remote, need, njobs, res, progress, manifests)
        res.missing = list(nowhere)
    counter.fill(res)
    res.elapsed = time.perf_counter() - t0
    return res
