"""push / fetch / cloud_status between the local ObjectStore and a Remote.

What the remote holds is learned from its index files: one listing of
``index/``, then only the index files not already cached under
``<local root>/remote-index/<remote key>/``, never one request per object.

push: the objects the remote lacks are read from local packs (verified
against their ids), repacked into ~32 MiB remote packs (stored blobs are
copied as they are: no recompression) and uploaded ``jobs`` at a time. An
index naming finished packs is written after every ``jobs`` packs, in
submission order, and only once all the packs it names are in place; chunks
are sent before manifests. An interrupted push therefore keeps every
indexed pack, and a rerun sends only what no index names yet.

fetch: manifests first (tree -> file manifests), then the chunks missing
locally, with ranged reads (``fs.cat_ranges``) of nearby objects coalesced,
never whole packs for a few chunks. Every object is checked against its id
before it is written to the local store, manifests last, so nothing
unverified reaches the cache.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dvx._fsutil import atomic_write
from dvx.errors import CorruptObjectError, RemoteError
from dvx.hashing import hash_bytes, is_oid
from dvx.remote import Remote, translate_errors
from dvx.store import FileManifest, ObjectStore, ObjectType, TreeManifest
from dvx.store import pack as _pack
from dvx.store.index import FLAG_ZSTD, Record, coalesce, decode_index, encode_index
from dvx.store.limits import MAX_INDEX
from dvx.store.objects import UnsafeTreePathError
from dvx.store.store import HINT_BAD_ENTRY, check_record, decode_blob, read_index_file, unsafe_tree_error

# progress(kind, n): ("total", bytes to move) once, then ("bytes", n) as they move.
Progress = Callable[[str, int], None]

# Reads of one pack closer than this are merged into one range: a remote GET
# costs ~2-50 ms, worth 256 KiB+ of transfer; locally a pread is cheap.
_GAP_REMOTE = 256 << 10
_GAP_LOCAL = 64 << 10
_MAX_RANGE = 16 << 20
# One cat_ranges call moves at most this much; jobs of them run at once.
_FETCH_BATCH = 16 << 20
_MIN_SPLIT = 16 << 20
_CACHE_DIR = "remote-index"
_HINT_CORRUPT = "the remote copy is damaged; push it again from a clone that has the data"

_ORDER = {ObjectType.CHUNK: 0, ObjectType.PROFILE: 1, ObjectType.RESULT: 1, ObjectType.FILE: 2, ObjectType.TREE: 3}


@dataclass
class TransferResult:
    """What a push or fetch did."""

    objects: int = 0              # objects moved
    bytes: int = 0                # stored (possibly compressed) object bytes moved
    raw_bytes: int = 0            # the same objects' raw size
    bytes_sent: int = 0           # request bodies sent (packs, indexes)
    bytes_received: int = 0       # response bodies received (index files, ranges)
    packs: int = 0                # packs written (push) or read from (fetch)
    indexes: int = 0              # index files written (push)
    requests: int = 0             # HTTP requests (s3) or filesystem calls (others)
    present: int = 0              # objects already at the destination
    elapsed: float = 0.0
    missing: list[builtins.bytes] = field(default_factory=list)  # objects neither side has


class _Counter:
    """Requests and bytes, thread-safe; real HTTP requests for s3fs via the remote's hook."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.hooked = remote.hook_requests()
        self.start = remote.requests.count
        self.calls = 0
        self.sent = 0
        self.received = 0
        self._lock = threading.Lock()

    def call(self, n: int = 1, sent: int = 0, received: int = 0) -> None:
        with self._lock:
            self.calls += n
            self.sent += sent
            self.received += received

    @property
    def requests(self) -> int:
        return self.remote.requests.count - self.start if self.hooked else self.calls


# ------------------------------------------------------------------ remote index


class RemoteIndex:
    """The remote's merged index, with index files cached locally by name (ids are content hashes)."""

    def __init__(self, remote: Remote, local: ObjectStore, counter: _Counter) -> None:
        self.remote = remote
        self.counter = counter
        self.cache_dir = os.path.join(local.root, _CACHE_DIR, remote.cache_key)
        self.records: dict[bytes, Record] = {}
        self.names: list[str] = []
        self.root_exists = True

    def __contains__(self, oid: bytes) -> bool:
        return oid in self.records

    def _list(self) -> list[str]:
        r = self.remote
        d = f"{r.root}/index"
        if r.store.local:
            self.counter.call()
            if not os.path.isdir(r.root):
                self.root_exists = False
                return []
            try:
                return sorted(n for n in os.listdir(d) if is_oid(n))
            except FileNotFoundError:
                return []
        with contextlib.suppress(Exception):
            r.fs.invalidate_cache(d)
        self.counter.call()
        try:
            infos = r.fs.find(d, detail=True)
        except FileNotFoundError:
            infos = {}
        if not infos:
            self._check_bucket()
        names = []
        for p, info in infos.items():
            n = p.rstrip("/").rsplit("/", 1)[-1]
            # Only index/<id> itself: index/<id>/x (a "directory" named like an index) is not one.
            if is_oid(n) and p.rstrip("/").rsplit("/", 2)[-2] == "index":
                size = info.get("size")
                if isinstance(size, int) and size > MAX_INDEX:
                    continue  # read whole, so never one bigger than the cap
                names.append(n)
        return sorted(names)

    def _check_bucket(self) -> None:
        r = self.remote
        if not r.is_s3:
            return
        bucket = r.root.split("/", 1)[0]
        self.counter.call()
        try:
            with translate_errors(r):
                r.fs.call_s3("head_bucket", Bucket=bucket)
        except RemoteError as e:
            if "does not exist" in e.message or "not found" in e.message:
                raise RemoteError(
                    f"remote {r.label}: the bucket {bucket!r} does not exist",
                    "create the bucket first or fix the remote URL (`dvx remote modify NAME url ...`)",
                ) from None
            raise

    def load(self) -> None:
        """List the remote's ``index/`` and read every index file (cached ones from disk)."""
        names = self._list()
        # The local copies are a cache: on a full or read-only disk they are
        # skipped and the index files are used from memory.
        try:
            os.makedirs(self.cache_dir, exist_ok=True)
            cached = {n for n in os.listdir(self.cache_dir) if is_oid(n)}
        except OSError:
            cached = set()
        new = [n for n in names if n not in cached]
        blobs: dict[str, bytes] = {}
        if new:
            r = self.remote
            paths = {f"{r.root}/index/{n}": n for n in new}
            if r.store.local:
                for p, n in paths.items():
                    data = read_index_file(p, n, f"remote {r.label}")
                    if data is not None:
                        blobs[n] = data
            else:
                got = r.fs.cat(list(paths), on_error="omit")
                strip = r.fs._strip_protocol
                blobs = {paths[p if p in paths else strip(p)]: v for p, v in got.items()}
            self.counter.call(len(new), received=sum(len(v) for v in blobs.values()))
            for n, data in blobs.items():
                if hash_bytes(data).hex() == n:
                    with contextlib.suppress(OSError):
                        atomic_write(os.path.join(self.cache_dir, n), data, fsync=False)
        # Index files deleted on the remote (by a gc) leave the cache too.
        listed = set(names)
        for n in cached - listed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.cache_dir, n))
        recs: dict[bytes, Record] = {}
        for n in names:  # sorted: the lowest index id wins for a duplicate id, as in ObjectStore
            data = blobs.get(n)
            if data is None:
                data = read_index_file(os.path.join(self.cache_dir, n), n, self.cache_dir)
                if data is None:
                    continue
            if hash_bytes(data).hex() != n:
                continue  # torn or damaged index: its objects look missing and are sent again
            try:
                one = decode_index(data)
            except ValueError:
                continue
            if recs:
                for k, v in one.items():
                    recs.setdefault(k, v)
            else:
                recs = one
        self.records = recs
        self.names = names

    def add(self, name: str, data: bytes, recs: Iterable[Record]) -> None:
        """Record an index file this process just wrote (no download next time)."""
        with contextlib.suppress(OSError):  # a cache (see load)
            atomic_write(os.path.join(self.cache_dir, name), data, fsync=False)
        for r in recs:
            self.records.setdefault(r[0], r)
        self.names.append(name)


# ------------------------------------------------------------------ reads and checks


def _read_local(store: ObjectStore, ranges: list[tuple[bytes, int, int]]) -> list[bytes]:
    if store.local:
        out = []
        for pid, start, end in ranges:
            path = _pack.pack_path(store.root, pid)
            try:
                with open(path, "rb", buffering=0) as f:
                    out.append(os.pread(f.fileno(), end - start, start))
            except FileNotFoundError:
                raise CorruptObjectError(
                    f"pack {pid.hex()} named by an index is missing from {store.display_root}",
                    "run dvx fetch or add the data again",
                ) from None
        return out
    paths = [_pack.pack_path(store.root, pid) for pid, _, _ in ranges]
    return list(store.fs.cat_ranges(paths, [r[1] for r in ranges], [r[2] for r in ranges]))


def _verify(rec: Record, blob: bytes | memoryview, where: str, max_chunk: int) -> bytes:
    """``decode_blob`` (the store's one check) with the remote's hint."""
    return decode_blob(rec, blob, where, _HINT_CORRUPT, max_chunk)


def _local_record(store: ObjectStore, oid: bytes) -> Record:
    e = store.locate(oid)
    assert e is not None
    return (oid, e.pack, e.offset, e.length, e.raw_length, int(e.otype), FLAG_ZSTD if e.compressed else 0)


# ------------------------------------------------------------------ closure


def _closure(
    local: ObjectStore, roots: list[tuple[bytes, ObjectType]], remote_has: Callable[[bytes], bool]
) -> tuple[list[dict[bytes, ObjectType]], list[bytes]]:
    """Per root, every object it reaches through local manifests; and ids found nowhere.

    A manifest absent locally but on the remote is taken as complete there
    (push writes manifests after what they name), so its subtree is skipped.
    """
    per_root: list[dict[bytes, ObjectType]] = []
    nowhere: dict[bytes, None] = {}
    for oid, otype in roots:
        objs: dict[bytes, ObjectType] = {}
        per_root.append(objs)
        if not local.has(oid):
            if not remote_has(oid):
                nowhere[oid] = None
            continue
        objs[oid] = otype
        files: list[bytes] = []
        if otype == ObjectType.TREE:
            for e in local.get_tree_manifest(oid).entries:
                if e.file_oid in objs:
                    continue
                if local.has(e.file_oid):
                    objs[e.file_oid] = ObjectType.FILE
                    files.append(e.file_oid)
                elif not remote_has(e.file_oid):
                    nowhere[e.file_oid] = None
        elif otype == ObjectType.FILE:
            files.append(oid)
        datas = local.get_many(files) if otype == ObjectType.TREE else ((oid, local.get(oid)),)
        for foid, data in datas if files else ():
            try:
                m = FileManifest.decode(data)
            except ValueError as e:
                raise CorruptObjectError(
                    f"object {foid.hex()} in {local.display_root} is not a valid FileManifest: {e}"
                ) from None
            for c in m.chunks:
                if c.oid in objs:
                    continue
                if local.has(c.oid):
                    objs[c.oid] = ObjectType.CHUNK
                elif not remote_has(c.oid):
                    nowhere[c.oid] = None
    return per_root, list(nowhere)


def cloud_status(local: ObjectStore, remote: Remote, roots: list[tuple[bytes, ObjectType]]) -> list[list[bytes]]:
    """For each root, the ids of the objects it needs that the remote lacks (for ``dvx status --cloud``)."""
    counter = _Counter(remote)
    ridx = RemoteIndex(remote, local, counter)
    with translate_errors(remote):
        ridx.load()
    per_root, _nowhere = _closure(local, roots, ridx.__contains__)
    out = []
    for (oid, _t), objs in zip(roots, per_root, strict=True):
        miss = [o for o in objs if o not in ridx]
        if oid not in objs and oid not in ridx:
            miss.append(oid)
        out.append(miss)
    return out


# ------------------------------------------------------------------ push


@dataclass
class _PackJob:
    records: list[Record]            # (oid, b"", offset, stored, raw, otype, flags)
    source: list[Record]             # matching local records, for verification
    buf: bytearray | None            # the blobs back to back; dropped once uploaded
    leaf_only: bool = True
    size: int = 0
    future: Future[tuple[bytes, int]] | None = None


def push(
    local: ObjectStore,
    remote: Remote,
    roots: list[tuple[bytes, ObjectType]],
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Upload every object ``roots`` reach that the remote lacks; see the module docstring."""
    t0 = time.perf_counter()
    res = TransferResult()
    njobs = max(1, jobs or remote.jobs)
    counter = _Counter(remote)
    ridx = RemoteIndex(remote, local, counter)
    with translate_errors(remote):
        ridx.load()
        per_root, res.missing = _closure(local, roots, ridx.__contains__)
        todo: dict[bytes, ObjectType] = {}
        for objs in per_root:
            for o, t in objs.items():
                if o in ridx:
                    res.present += 1
                elif o not in todo:
                    todo[o] = t
        recs = [_local_record(local, o) for o in todo]
        # Chunks first, manifests last; within a kind in local storage order (sequential reads).
        recs.sort(key=lambda r: (_ORDER.get(ObjectType(r[5]), 1), r[1], r[2]))
        if progress:
            progress("total", sum(r[3] for r in recs))
        if recs:
            if remote.store.local:
                os.makedirs(remote.root, exist_ok=True)
            _push_records(local, remote, ridx, recs, njobs, counter, res, progress)
    res.requests = counter.requests
    res.bytes_sent = counter.sent
    res.bytes_received = counter.received
    res.elapsed = time.perf_counter() - t0
    return res


def _build_pack(job: _PackJob, where: str, compress: bool, max_chunk: int) -> bytearray:
    """Verify every blob of ``job`` and lay out the pack; compress blobs stored raw
    locally when that saves >= 1/8 (after 8 failures in a row a pack stops trying:
    random data, already-compressed formats)."""
    src = memoryview(job.buf)  # type: ignore[arg-type]
    out = bytearray()
    recs: list[Record] = []
    fails = 0
    for rec, s in zip(job.records, job.source, strict=True):
        blob = src[rec[2] : rec[2] + rec[3]]
        raw = _verify(s, blob, where, max_chunk)
        flags = s[6]
        stored: bytes | memoryview = blob
        if compress and not flags & FLAG_ZSTD and len(raw) >= 64 and fails < 8:
            z = _pack.compress(raw)
            if z is None:
                fails += 1
            else:
                fails = 0
                stored, flags = z, flags | FLAG_ZSTD
        recs.append((rec[0], b"", len(out), len(stored), rec[4], rec[5], flags))
        out += stored
    job.records = recs
    return out


def _upload_pack(remote: Remote, job: _PackJob, where: str, counter: _Counter) -> tuple[bytes, int]:
    # Runs on the pool: zstd (pyarrow) and xxhash release the GIL.
    buf = _build_pack(job, where, remote.compression, remote.store.max_chunk)
    job.buf = None  # the pack's memory goes now, not when its index is written
    job.size = len(buf)
    tail = _pack.encode_header(job.records)
    buf += tail
    pack_id = _pack.pack_id_of(tail)
    _put(remote, _pack.pack_path(remote.root, pack_id), buf)
    counter.call(sent=len(buf))
    return pack_id, len(buf)


def _put(remote: Remote, path: str, data: bytes | bytearray) -> None:
    data = bytes(data) if isinstance(data, bytearray) else data
    """One object at its final name: a single PUT (atomic on S3), or temp + rename in a folder."""
    if remote.store.local:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, data)
    else:
        _pack.pipe(remote.fs, path, data)


def _push_records(
    local: ObjectStore,
    remote: Remote,
    ridx: RemoteIndex,
    recs: list[Record],
    njobs: int,
    counter: _Counter,
    res: TransferResult,
    progress: Progress | None,
) -> None:
    pack_size = remote.store.pack_size
    if pack_size >= _MIN_SPLIT:
        # A small push still keeps every job busy: packs down to 16 MiB.
        total = sum(r[3] for r in recs)
        pack_size = min(pack_size, max(_MIN_SPLIT, -(-total // njobs)))
    where = local.display_root
    queue: deque[_PackJob] = deque()     # submitted, not yet indexed, in order
    inflight = threading.BoundedSemaphore(njobs)

    def release(_f: Future[Any]) -> None:
        inflight.release()

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

    def commit(final: bool) -> None:
        """Write one index naming the ready packs (at least ``njobs`` of them unless final)."""
        ready = ready_jobs()
        if not ready or (len(ready) < njobs and not final):
            return
        for j in ready:
            queue.remove(j)
        _write_index(ready)

    def _write_index(ready: list[_PackJob]) -> None:
        irecs: list[Record] = []
        for j in ready:
            pid, _size = j.future.result()  # type: ignore[union-attr]
            irecs.extend((r[0], pid, *r[2:]) for r in j.records)
        data = encode_index(irecs)
        iid = hash_bytes(data)
        _put(remote, _pack.index_path(remote.root, iid), data)
        counter.call(sent=len(data))
        ridx.add(iid.hex(), data, irecs)
        res.indexes += 1
        res.packs += len(ready)
        for j in ready:
            res.objects += len(j.records)
            res.bytes += j.size
            res.raw_bytes += sum(r[4] for r in j.records)

    def submit(job: _PackJob) -> None:
        inflight.acquire()
        for j in queue:
            f = j.future
            if f is not None and f.done() and f.exception() is not None:
                inflight.release()
                raise f.exception()  # type: ignore[misc]
        job.future = pool.submit(_upload_pack, remote, job, where, counter)
        job.future.add_done_callback(release)
        if progress:
            def report(f: Future[tuple[bytes, int]], n: int = job.size, progress: Progress = progress) -> None:
                if f.exception() is None:
                    progress("bytes", n)

            job.future.add_done_callback(report)
        queue.append(job)
        commit(False)

    pool = ThreadPoolExecutor(njobs, thread_name_prefix="dvx-push")
    try:
        cur = _PackJob([], [], bytearray())
        for pid, start, end, members in _coalesce_stream(recs, _GAP_LOCAL):
            data = _read_local(local, [(pid, start, end)])[0]
            view = memoryview(data)
            for r in members:
                a = r[2] - start
                assert cur.buf is not None
                cur.records.append((r[0], b"", len(cur.buf), r[3], r[4], r[5], r[6]))
                cur.buf += view[a : a + r[3]]
                cur.source.append(r)
                if r[5] != ObjectType.CHUNK:
                    cur.leaf_only = False
                if len(cur.buf) >= pack_size:
                    cur.size = len(cur.buf)
                    submit(cur)
                    cur = _PackJob([], [], bytearray())
            del view, data
        if cur.records:
            cur.size = len(cur.buf or b"")
            submit(cur)
        for j in list(queue):
            with contextlib.suppress(BaseException):
                j.future.result()  # type: ignore[union-attr]
        if any(j.future.exception() is not None for j in queue):  # type: ignore[union-attr]
            raise next(j.future.exception() for j in queue if j.future.exception() is not None)  # type: ignore[union-attr,misc]
        commit(True)
    except BaseException:
        # Keep what finished and is safe to name (see ready_jobs).
        pool.shutdown(wait=True, cancel_futures=True)
        keep = ready_jobs()
        if keep:
            with contextlib.suppress(Exception):
                _write_index(keep)
        raise
    finally:
        pool.shutdown(wait=True)


def _coalesce_stream(recs: list[Record], gap: int) -> Iterator[tuple[bytes, int, int, list[Record]]]:
    """Like ``dvx.store.index.coalesce`` but keeps the given order (kinds first); merges only neighbours."""
    cur: tuple[bytes, int, int, list[Record]] | None = None
    for r in recs:
        start, end = r[2], r[2] + r[3]
        if cur is not None:
            pid, s, e, members = cur
            if pid == r[1] and 0 <= start - e <= gap and end - s <= _MAX_RANGE:
                members.append(r)
                cur = (pid, s, end, members)
                continue
            yield cur
        cur = (r[1], start, end, [r])
    if cur is not None:
        yield cur


# ------------------------------------------------------------------ fetch


def _fetch_objects(
    remote: Remote,
    recs: list[Record],
    njobs: int,
    counter: _Counter,
    res: TransferResult,
    progress: Progress | None,
) -> Iterator[tuple[Record, bytes]]:
    """Verified ``(record, raw bytes)`` of remote records, read in coalesced ranges, ``njobs`` batches at once."""
    gap = _GAP_LOCAL if remote.store.local else _GAP_REMOTE
    recs = sorted(recs, key=lambda r: (r[1], r[2]))
    ranges = coalesce(recs, gap, _MAX_RANGE)
    res.packs += len({r[0] for r in ranges})
    batches: list[list[tuple[bytes, int, int, list[Record]]]] = []
    size = 0
    for rng in ranges:
        if not batches or size >= _FETCH_BATCH:
            batches.append([])
            size = 0
        batches[-1].append(rng)
        size += rng[2] - rng[1]
    where = f"remote {remote.label}"

    def read(batch: list[tuple[bytes, int, int, list[Record]]]) -> list[Any]:
        if remote.store.local:
            out: list[Any] = []
            for pid, s, e, _m in batch:
                try:
                    with open(_pack.pack_path(remote.root, pid), "rb", buffering=0) as f:
                        out.append(os.pread(f.fileno(), e - s, s))
                except FileNotFoundError as exc:
                    out.append(exc)
        else:
            paths = [_pack.pack_path(remote.root, pid) for pid, _, _, _ in batch]
            out = list(remote.fs.cat_ranges(paths, [b[1] for b in batch], [b[2] for b in batch],
                                            on_error="return"))
        counter.call(len(batch), received=sum(len(x) for x in out if isinstance(x, (bytes, bytearray))))
        return out

    pool = ThreadPoolExecutor(njobs, thread_name_prefix="dvx-fetch")
    pending: deque[tuple[list[tuple[bytes, int, int, list[Record]]], Future[list[Any]]]] = deque()
    try:
        it = iter(batches)
        for b in it:
            pending.append((b, pool.submit(read, b)))
            if len(pending) >= njobs:
                break
        while pending:
            batch, fut = pending.popleft()
            got = fut.result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(read, nxt)))
            for (pid, s, _e, members), data in zip(batch, got, strict=True):
                if isinstance(data, FileNotFoundError):
                    raise CorruptObjectError(
                        f"pack {pid.hex()} named by an index of {where} is missing "
                        f"(needed for object {members[0][0].hex()})", _HINT_CORRUPT)
                if isinstance(data, BaseException):
                    if _is_bad_range(data):
                        # S3 answers 416 for a range past the end: the pack is truncated.
                        r = members[0]
                        raise CorruptObjectError(
                            f"object {r[0].hex()} in pack {pid.hex()} of {where} is truncated "
                            f"(the pack ends before byte {r[2] + r[3]})", _HINT_CORRUPT)
                    raise data
                view = memoryview(data)
                for r in members:
                    a = r[2] - s
                    raw = _verify(r, view[a : a + r[3]], where, remote.store.max_chunk)
                    yield r, raw
                if progress:
                    progress("bytes", sum(r[3] for r in members))
    finally:
        for _b, f in pending:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _is_bad_range(e: BaseException) -> bool:
    text = str(e)
    return "InvalidRange" in text or "not satisfiable" in text or "416" in text


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
    counter = _Counter(remote)
    ridx = RemoteIndex(remote, local, counter)
    with translate_errors(remote):
        ridx.load()
        if not ridx.root_exists:
            raise RemoteError(f"remote {remote.label}: folder {remote.root} does not exist",
                              "check the remote URL, or push to it first")
        manifests: dict[bytes, tuple[ObjectType, bytes]] = {}   # fetched, verified, written last
        nowhere: dict[bytes, None] = {}
        seen: set[bytes] = set()
        where = f"remote {remote.label}"
        max_chunk = min(remote.store.max_chunk, local.max_chunk)

        def want(oids: Iterable[tuple[bytes, ObjectType]], sizes: dict[bytes, int] | None = None) -> list[Record]:
            """Remote records of the objects the local store lacks, each within the caps and, for
            chunks, of the length their manifest gives, before a byte of them is read."""
            out = []
            for o, _t in oids:
                if o in seen:
                    continue
                seen.add(o)
                if local.has(o):
                    res.present += 1
                    continue
                rec = ridx.records.get(o)
                if rec is None:
                    nowhere[o] = None
                    continue
                check_record(rec, where, HINT_BAD_ENTRY, max_chunk)
                if sizes is not None and rec[4] != sizes[o]:
                    raise CorruptObjectError(
                        f"object {o.hex()} in pack {rec[1].hex()} of {where} is {rec[4]} bytes, "
                        f"but a manifest lists it as a chunk of {sizes[o]} bytes",
                        "the remote's manifest or its index is damaged or was tampered with; nothing was written")
                out.append(rec)
            return out

        def get_manifests(oids: list[tuple[bytes, ObjectType]]) -> dict[bytes, bytes]:
            """Raw bytes of these manifests: local ones from the cache, others fetched and verified."""
            out: dict[bytes, bytes] = {}
            need = want(oids)
            for o, _t in oids:
                if local.has(o) and o not in out:
                    out[o] = local.get(o)
            for r, raw in _fetch_objects(remote, need, njobs, counter, res, None):
                manifests[r[0]] = (ObjectType(r[5]), raw)
                out[r[0]] = raw
                res.objects += 1
                res.bytes += r[3]
                res.raw_bytes += r[4]
            return out

        # Level 1: the roots; level 2: file manifests of trees; level 3: chunks.
        top = get_manifests(list(roots))
        file_oids: list[tuple[bytes, ObjectType]] = []
        for oid, otype in roots:
            if otype == ObjectType.TREE and oid in top:
                tm = _decode(TreeManifest, top[oid], oid, remote)
                file_oids.extend((e.file_oid, ObjectType.FILE) for e in tm.entries)
            elif otype == ObjectType.FILE and oid in top:
                file_oids.append((oid, ObjectType.FILE))
        files = get_manifests([(o, t) for o, t in file_oids if o not in top]) | {o: top[o] for o, _ in file_oids if o in top}
        chunks: list[tuple[bytes, ObjectType]] = []
        sizes: dict[bytes, int] = {}
        for foid, raw in files.items():
            fm = _decode(FileManifest, raw, foid, remote)
            chunks.extend((c.oid, ObjectType.CHUNK) for c in fm.chunks)
            sizes.update((c.oid, c.size) for c in fm.chunks)
        need = want(chunks, sizes)
        if progress:
            progress("total", sum(r[3] for r in need))
        with local.writer() as w:
            for r, raw in _fetch_objects(remote, need, njobs, counter, res, progress):
                w.put(r[0], ObjectType(r[5]), raw, compress=bool(r[6] & FLAG_ZSTD))
                res.objects += 1
                res.bytes += r[3]
                res.raw_bytes += r[4]
            # Manifests after everything they name: files, then trees.
            for oid, (t, raw) in sorted(manifests.items(), key=lambda kv: _ORDER.get(kv[1][0], 1)):
                w.put(oid, t, raw)
        res.missing = list(nowhere)
    res.requests = counter.requests
    res.bytes_sent = counter.sent
    res.bytes_received = counter.received
    res.elapsed = time.perf_counter() - t0
    return res


def _decode(cls: type[FileManifest] | type[TreeManifest], raw: bytes, oid: bytes, remote: Remote) -> Any:
    try:
        return cls.decode(raw)
    except UnsafeTreePathError as e:
        raise unsafe_tree_error(oid, f"remote {remote.label}", e) from None
    except ValueError as e:
        raise CorruptObjectError(
            f"object {oid.hex()} of remote {remote.label} is not a valid {cls.__name__}: {e}", _HINT_CORRUPT
        ) from None
