"""``ObjectStore``: content-addressed packs + indexes over any fsspec filesystem.

The same class is the local cache (``ObjectStore(LocalFileSystem(), "<repo>/.dvx/cache")``)
and every remote (s3fs, a local folder, any fsspec URL). Layout and ordering
rules are in docs/format.md; the design follows restic's repository (packs +
index files) and dvc-objects' ``ObjectDB(fs, path)``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dvx._fsutil import create_tmp, fsync_dir, remove_stale_in
from dvx.errors import CorruptObjectError, ObjectMissingError, StoreWriteError, UnsafePathError
from dvx.hashing import hash_bytes, is_oid
from dvx.store import pack as _pack
from dvx.store.index import (
    FLAG_ZSTD,
    IndexEntry,
    MergedIndex,
    Record,
    check_id,
    check_index,
    coalesce,
    encode_index,
    entry_of,
    max_raw,
    record_problem,
)
from dvx.store.limits import MAX_CHUNK, MAX_INDEX
from dvx.store.objects import FileManifest, ObjectType, TreeManifest, UnsafeTreePathError, shown_path

log = logging.getLogger("dvx.store")

_HINT_CORRUPT = "the stored copy is damaged; run dvx fetch (or add the data) again to replace it"
_HINT_MISSING = "run dvx fetch to get it from a remote, or add the data again"
# A bad index entry is not repaired by fetching or adding again (the entry
# makes the object look present): the hint names no command that would not help.
HINT_BAD_ENTRY = "an index file lists it wrongly (damaged or tampered with); nothing of it was read"
# Reads: ranges of one pack closer than this are fetched as one (a remote GET
# costs far more than 256 KiB of transfer); one range is at most 16 MiB and one
# cat_ranges batch at most 64 MiB, which bounds get_many's memory.
_GAP_REMOTE = 256 << 10
_GAP_LOCAL = 64 << 10
_MAX_RANGE = 16 << 20
_MAX_BATCH = 64 << 20
_OPEN_PACKS = 32
_OBJECT_CACHE = 8
# Write an index after this many objects even before flush(), so a crash in a
# long add loses at most this much work (~4 GiB of 64 KiB chunks).
_INDEX_EVERY = 65536
# Local packs waiting for their fsync at once (bounds unsynced data to ~64 MiB).
_MAX_COMMITS = 2


def check_record(rec: Record, where: str, hint: str | None = None, max_chunk: int = MAX_CHUNK) -> Record:
    """``rec`` when its lengths, type and flags are within the caps (docs/format.md, "Limits");
    else CorruptObjectError naming the object, its pack and ``where``. Call before reading it."""
    problem = record_problem(rec, max_chunk)
    if problem is not None:
        raise CorruptObjectError(
            f"object {rec[0].hex()} in pack {rec[1].hex()} of {where} has a bad index entry: {problem}",
            hint or HINT_BAD_ENTRY,
        )
    return rec


def decode_blob(
    rec: Record, blob: bytes | memoryview, where: str, hint: str = _HINT_CORRUPT, max_chunk: int = MAX_CHUNK
) -> bytes:
    """The raw bytes of a stored blob read from a pack, verified against its id.

    CorruptObjectError naming the object, its pack and ``where`` (a store
    root or a remote) when the entry breaks a cap, the blob is short, does
    not decompress to exactly its raw length (the output buffer is that
    length, so a bomb cannot grow it), or does not hash to its id. Store
    reads and remote transfers both check here.
    """
    check_record(rec, where, None, max_chunk)
    oid, pid, offset, stored, raw_len, _otype, flags = rec
    what = f"object {oid.hex()} in pack {pid.hex()} of {where}"
    if len(blob) != stored:
        raise CorruptObjectError(
            f"{what} is truncated (got {len(blob)} of {stored} bytes at offset {offset})", hint
        )
    if flags & FLAG_ZSTD:
        try:
            raw = _pack.decompress(blob, raw_len)
        except ValueError as e:
            raise CorruptObjectError(f"{what} is corrupt: it does not decompress ({e})", hint) from None
    else:
        raw = bytes(blob)
    if len(raw) != raw_len or hash_bytes(raw) != oid:
        raise CorruptObjectError(f"{what} is corrupt: its bytes do not match its id", hint)
    return raw


def unsafe_tree_error(oid: bytes, where: str, e: UnsafeTreePathError) -> UnsafePathError:
    """The error for a tree object whose entry names a path dvx refuses to create.

    Exit 2, not "corrupt": the object hashes to its id; someone wrote it on
    purpose. ``oid`` lets a caller name the pointer that led to it.
    """
    err = UnsafePathError(
        f"tree {oid.hex()} in {where} names {shown_path(e.path)}, which {e.reason}",
        "the tree was crafted or written by a broken tool: do not check it out; restore the pointer "
        "from a trusted commit (`git checkout COMMIT -- PATH.dvx`)",
    )
    err.oid = oid  # type: ignore[attr-defined]
    return err


def read_index_file(path: str, name: str, where: str) -> bytes | None:
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


def _protocols(fs: Any) -> tuple[str, ...]:
    p = getattr(fs, "protocol", ())
    return (p,) if isinstance(p, str) else tuple(p)


class ObjectStore:
    """Packs and indexes under ``root`` on ``fs``; reads verify every object against its id.

    Reads are thread-safe. The index is loaded on first use; ``refresh``
    picks up index files written since by other writers.
    """

    def __init__(
        self,
        fs: Any,
        root: str,
        *,
        pack_size: int = 32 << 20,
        compression: str | None = "zstd",
        fsync: bool = True,
        max_chunk: int = MAX_CHUNK,
    ) -> None:
        if not 0 < max_chunk <= MAX_CHUNK:
            raise ValueError(f"max_chunk must be in 1..{MAX_CHUNK}, got {max_chunk}")
        if compression not in (None, "zstd"):
            raise ValueError(f"unknown compression {compression!r} (use 'zstd' or None)")
        if pack_size < 1:
            raise ValueError("pack_size must be positive")
        self.fs = fs
        self.local = "file" in _protocols(fs)
        root = fs._strip_protocol(root) if hasattr(fs, "_strip_protocol") else root
        self.root: str = os.path.abspath(root) if self.local else root.rstrip("/")
        self.pack_size = pack_size
        self.compression = compression
        # The repository's chunker max_size: a stored chunk declaring more is
        # refused before it is read (a hostile remote's 4 GiB "chunk").
        self.max_chunk = max_chunk
        # Local packs only. Off for the workspace cache by default (as git does
        # for loose objects): a killed process loses nothing (the page cache
        # survives it), and after a power cut a damaged pack fails its hash
        # check on read instead of returning wrong bytes.
        self.fsync = fsync
        self._index = MergedIndex()
        self._loaded: set[str] = set()
        self._index_ready = False
        self._lock = threading.RLock()
        self._handles: OrderedDict[bytes, Any] = OrderedDict()
        self._objects: OrderedDict[bytes, bytes] = OrderedDict()
        self._swept = False  # stale temp files removed by the first writer

    def __repr__(self) -> str:
        return f"ObjectStore({self.display_root!r})"

    @property
    def display_root(self) -> str:
        """The root as a user would write it (``s3://bucket/prefix`` or a local path)."""
        if self.local:
            return self.root
        proto = _protocols(self.fs)
        return f"{proto[0]}://{self.root}" if proto else self.root

    # ---------------------------------------------------------------- index
    def _ensure_index(self) -> MergedIndex:
        if not self._index_ready:
            with self._lock:
                if not self._index_ready:
                    self._load_new_indexes()
                    self._index_ready = True
        return self._index

    def refresh(self) -> None:
        """Read index files written since the last load (by this or another process)."""
        with self._lock:
            self._load_new_indexes()
            self._index_ready = True

    def _list_indexes(self) -> list[str]:
        d = f"{self.root}/index"
        if self.local:
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                return []
        else:
            with contextlib.suppress(Exception):
                self.fs.invalidate_cache(d)
            try:
                infos = self.fs.ls(d, detail=True)
            except FileNotFoundError:
                return []
            names = []
            for info in infos:
                name = info["name"].rstrip("/").rsplit("/", 1)[-1]
                if is_oid(name) and not self._bad_index_entry(name, info.get("type"), info.get("size")):
                    names.append(name)
        # Temp files and anything else that is not an index id are ignored.
        return sorted(n for n in names if is_oid(n))

    def _bad_index_entry(self, name: str, kind: Any, size: Any) -> bool:
        """True (with a warning) for a listed index that is a directory or too big to read."""
        if kind == "directory":
            log.warning("ignoring index %s in %s: it is a directory", name, self.display_root)
            return True
        if isinstance(size, int) and size > MAX_INDEX:
            log.warning("ignoring index %s in %s: %d bytes is over the %d-byte limit",
                        name, self.display_root, size, MAX_INDEX)
            return True
        return False

    def _read_index_files(self, names: list[str]) -> dict[str, bytes]:
        paths = {f"{self.root}/index/{n}": n for n in names}
        if self.local:
            out = {}
            for p, n in paths.items():
                data = read_index_file(p, n, self.display_root)
                if data is not None:
                    out[n] = data
            return out
        got = self.fs.cat(list(paths), on_error="omit")
        strip = self.fs._strip_protocol
        return {paths[p if p in paths else strip(p)]: v for p, v in got.items()}

    def _load_new_indexes(self) -> None:
        new = [n for n in self._list_indexes() if n not in self._loaded]
        if not new:
            return
        data = self._read_index_files(new)
        good: list[str] = []
        for name in new:  # sorted: the lowest index id wins for a duplicate id
            raw = data.get(name)
            if raw is None:
                continue
            if hash_bytes(raw).hex() != name:
                # A torn or damaged index: its objects look missing and are
                # simply written again; the packs stay valid.
                log.warning("ignoring index %s in %s: content does not match its name", name, self.display_root)
                continue
            try:
                check_index(raw)
            except ValueError as e:
                log.warning("ignoring index %s in %s: %s", name, self.display_root, e)
                continue
            good.append(name)
        self._index.add_files([data[n] for n in good])
        self._loaded.update(good)

    def _add_index(self, name: str, data: bytes) -> None:
        with self._lock:
            self._ensure_index()
            if name not in self._loaded:
                self._index.add_file(data)
                self._loaded.add(name)

    def has(self, oid: bytes) -> bool:
        """True when an index names ``oid``."""
        return oid in self._ensure_index()

    def missing(self, oids: Iterable[bytes]) -> set[bytes]:
        """The ids of ``oids`` that no index names."""
        idx = self._ensure_index()
        return {o for o in oids if o not in idx}

    def locate(self, oid: bytes) -> IndexEntry | None:
        """Where ``oid`` is stored, or None; CorruptObjectError when its index entry breaks a cap."""
        rec = self._ensure_index().record(oid)
        return None if rec is None else entry_of(self._checked(rec))

    def _checked(self, rec: Record) -> Record:
        return check_record(rec, self.display_root, HINT_BAD_ENTRY, self.max_chunk)

    def entries(self) -> Mapping[bytes, IndexEntry]:
        """The merged index (read-only view; entries are built on access)."""
        return self._ensure_index()

    def pack_ids(self) -> set[bytes]:
        """Every pack some index names."""
        return self._ensure_index().pack_ids()

    # ---------------------------------------------------------------- reads
    def _record(self, oid: bytes) -> Record:
        check_id(oid)
        rec = self._ensure_index().record(oid)
        if rec is None:
            raise ObjectMissingError(f"object {oid.hex()} is not in {self.display_root}", _HINT_MISSING)
        return self._checked(rec)

    def _pack_missing(self, pack_id: bytes) -> CorruptObjectError:
        self._note_damaged(pack_id)
        return CorruptObjectError(
            f"pack {pack_id.hex()} named by an index is missing from {self.display_root}", _HINT_CORRUPT
        )

    def _handle(self, pack_id: bytes) -> Any:
        with self._lock:
            f = self._handles.get(pack_id)
            if f is not None:
                self._handles.move_to_end(pack_id)
                return f
            try:
                f = open(_pack.pack_path(self.root, pack_id), "rb", buffering=0)  # noqa: SIM115
            except FileNotFoundError:
                raise self._pack_missing(pack_id) from None
            self._handles[pack_id] = f
            # Evicted handles are not closed here: a reader in another thread
            # may still hold one; CPython closes it when the last ref goes.
            while len(self._handles) > _OPEN_PACKS:
                self._handles.popitem(last=False)
            return f

    def _read_ranges(self, ranges: list[tuple[bytes, int, int]]) -> list[bytes]:
        """Bytes of ``(pack id, start, end)`` ranges; short when a pack is truncated."""
        if self.local:
            out = []
            for pid, start, end in ranges:
                fd = self._handle(pid).fileno()
                # Never ask for more than the pack holds: pread allocates the
                # whole length first, and an index may claim 4 GiB.
                end = min(end, max(start, os.fstat(fd).st_size))
                out.append(os.pread(fd, end - start, start))
            return out
        paths = [_pack.pack_path(self.root, pid) for pid, _, _ in ranges]
        got = self.fs.cat_ranges(
            paths, [r[1] for r in ranges], [r[2] for r in ranges], on_error="return"
        )
        for k, ((pid, start, end), g) in enumerate(zip(ranges, got, strict=True)):
            if isinstance(g, FileNotFoundError):
                raise self._pack_missing(pid)
            if isinstance(g, BaseException):
                got[k] = self._short_read(paths[k], pid, start, end, g)
        return got

    def _short_read(self, path: str, pid: bytes, start: int, end: int, err: BaseException) -> bytes:
        """What is left of a range that failed: S3 answers 416 (s3fs: OSError EINVAL) for a
        range past the end of a truncated pack; the caller then reports it truncated."""
        try:
            size = self.fs.size(path)
        except FileNotFoundError:
            raise self._pack_missing(pid) from None
        except Exception:
            raise err from None
        if size is None or size >= end:
            raise err
        return bytes(self.fs.cat_file(path, start, size)) if start < size else b""

    def _decode(self, rec: Record, blob: bytes | memoryview) -> bytes:
        try:
            return decode_blob(rec, blob, self.display_root, _HINT_CORRUPT, self.max_chunk)
        except CorruptObjectError:
            self._note_damaged(rec[1])
            raise

    def _note_damaged(self, pack_id: bytes) -> None:
        # The reader may not hold the repository lock: it only notes the pack;
        # the next fetch/pull/checkout heals it (dvx/store/heal.py).
        if self.local:
            from dvx.store.heal import note_damaged

            note_damaged(self, pack_id)

    def get(self, oid: bytes) -> bytes:
        """The raw bytes of ``oid``, decompressed and verified."""
        rec = self._record(oid)
        blob = self._read_ranges([(rec[1], rec[2], rec[2] + rec[3])])[0]
        return self._decode(rec, blob)

    def get_many(self, oids: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """``(oid, raw bytes)`` for each distinct id, in storage order (pack id, then offset).

        Objects of one pack that lie close together are read as one range
        (``fs.cat_ranges`` on remotes); every object is verified. Raises
        ObjectMissingError before reading anything if an id is not indexed.
        """
        recs = [self._record(o) for o in dict.fromkeys(oids)]
        recs.sort(key=lambda r: (r[1], r[2]))
        gap = _GAP_LOCAL if self.local else _GAP_REMOTE
        ranges = coalesce(recs, gap, _MAX_RANGE)
        batch: list[tuple[bytes, int, int, list[Record]]] = []
        size = 0
        for rng in ranges:
            batch.append(rng)
            size += rng[2] - rng[1]
            if size >= _MAX_BATCH:
                yield from self._read_batch(batch)
                batch, size = [], 0
        if batch:
            yield from self._read_batch(batch)

    def _read_batch(self, batch: list[tuple[bytes, int, int, list[Record]]]) -> Iterator[tuple[bytes, bytes]]:
        datas = self._read_ranges([(pid, s, e) for pid, s, e, _ in batch])
        for (_pid, s, _e, members), data in zip(batch, datas, strict=True):
            view = memoryview(data)
            for r in members:
                a = r[2] - s
                yield r[0], self._decode(r, view[a : a + r[3]])

    def read_range(self, oid: bytes, start: int, end: int) -> bytes:
        """``get(oid)[start:end]``; the last few objects are cached for sequential ranged reads."""
        with self._lock:
            raw = self._objects.get(oid)
            if raw is not None:
                self._objects.move_to_end(oid)
        if raw is None:
            raw = self.get(oid)
            with self._lock:
                self._objects[oid] = raw
                while len(self._objects) > _OBJECT_CACHE:
                    self._objects.popitem(last=False)
        return raw[start:end]

    def get_file_manifest(self, oid: bytes) -> FileManifest:
        """The FileManifest stored as ``oid``."""
        return self._manifest(oid, FileManifest)  # type: ignore[return-value]

    def get_tree_manifest(self, oid: bytes) -> TreeManifest:
        """The TreeManifest stored as ``oid``."""
        return self._manifest(oid, TreeManifest)  # type: ignore[return-value]

    def _manifest(self, oid: bytes, cls: type[FileManifest] | type[TreeManifest]) -> FileManifest | TreeManifest:
        data = self.get(oid)
        try:
            return cls.decode(data)
        except UnsafeTreePathError as e:
            raise unsafe_tree_error(oid, self.display_root, e) from None
        except ValueError as e:
            raise CorruptObjectError(
                f"object {oid.hex()} in {self.display_root} is not a valid {cls.__name__}: {e}", _HINT_CORRUPT
            ) from None

    def writer(self) -> StoreWriter:
        """A new writer (use as a context manager)."""
        return StoreWriter(self)

    def close(self) -> None:
        """Close cached pack handles (the store stays usable)."""
        with self._lock:
            for f in self._handles.values():
                f.close()
            self._handles.clear()
            self._objects.clear()


def walk(store: ObjectStore, oid: bytes, otype: ObjectType) -> Iterator[tuple[bytes, ObjectType]]:
    """``oid`` and every object it references (tree -> file manifests -> chunks), each once."""
    seen: set[bytes] = {oid}
    yield oid, otype
    if otype == ObjectType.TREE:
        files = []
        for e in store.get_tree_manifest(oid).entries:
            if e.file_oid not in seen:
                seen.add(e.file_oid)
                files.append(e.file_oid)
        for foid, data in store.get_many(files):
            yield foid, ObjectType.FILE
            yield from _chunks(store, foid, data, seen)
    elif otype == ObjectType.FILE:
        yield from _chunks(store, oid, store.get(oid), seen)


def _chunks(store: ObjectStore, foid: bytes, data: bytes, seen: set[bytes]) -> Iterator[tuple[bytes, ObjectType]]:
    try:
        m = FileManifest.decode(data)
    except ValueError as e:
        raise CorruptObjectError(
            f"object {foid.hex()} in {store.display_root} is not a valid FileManifest: {e}", _HINT_CORRUPT
        ) from None
    for c in m.chunks:
        if c.oid not in seen:
            seen.add(c.oid)
            yield c.oid, ObjectType.CHUNK


@dataclass
class WriterStats:
    """What a writer did: raw bytes and objects added, bytes written to packs, dedup hits, packs."""

    bytes_in: int = 0
    bytes_stored: int = 0
    objects_added: int = 0
    objects_deduped: int = 0
    packs_written: int = 0
    indexes_written: int = 0


class _AutoCompress:
    """Decides whether to try zstd on the next object.

    After 8 objects in a row that did not compress it skips the next 32, then
    probes one; while probes fail the skip doubles up to 512 (32 MiB of 64 KiB
    chunks); a probe that compresses resets everything. The skip starts when
    the probe is handed out, so results that arrive late from the thread pool
    never let a burst of tries through. A failed try costs ~20 us per 64 KiB:
    incompressible data (Parquet, images) runs at full speed and text that
    follows it is compressed again soon.
    """

    FAILS = 8
    SKIP0 = 32
    SKIP_MAX = 512

    def __init__(self) -> None:
        self.fails = 0
        self.skip = 0
        self.backoff = self.SKIP0

    def should_try(self) -> bool:
        if self.skip:
            self.skip -= 1
            return False
        if self.fails >= self.FAILS:  # a probe: skip the next ones until it reports
            self.skip = self.backoff
            self.backoff = min(self.backoff * 2, self.SKIP_MAX)
        return True

    def record(self, ok: bool) -> None:
        if ok:
            self.fails = 0
            self.skip = 0
            self.backoff = self.SKIP0
            return
        self.fails += 1
        if self.fails == self.FAILS:
            self.skip = self.backoff
            self.backoff = min(self.backoff * 2, self.SKIP_MAX)


# Objects at least this big are compressed on the pool (pyarrow releases the GIL).
_POOL_MIN = 16 << 10
_POOL_WORKERS = 2
_MAX_PENDING = 16
_MIN_COMPRESS = 64


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
        self._builder: _pack.PackBuilder | None = None
        self._written: set[bytes] = set()
        self._finished: list[_pack.FinishedPack] = []
        self._unindexed = 0
        self._pending: deque[tuple[bytes, int, bytes | memoryview, Future[bytes | None] | bytes | None, bool]] = deque()
        self._auto = _AutoCompress()
        self._pool: ThreadPoolExecutor | None = None
        self._committer: ThreadPoolExecutor | None = None
        self._commits: deque[Future[_pack.FinishedPack]] = deque()
        self._broken: BaseException | None = None
        self._closed = False
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
            path = _pack.pack_path(s.root, fp.pack_id)
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
                f"writer for {self.store.display_root} is unusable after an earlier write error: {self._broken}",
                "fix the cause and run the command again",
            )
        if self._closed:
            raise StoreWriteError(f"writer for {self.store.display_root} is closed")

    def _fail(self, e: BaseException) -> StoreWriteError | BaseException:
        self._broken = e
        self._abort_current()
        if isinstance(e, OSError):
            full = e.errno in (errno.ENOSPC, errno.EDQUOT)
            why = "no space left on the device" if full else (e.strerror or str(e))
            err = StoreWriteError(
                f"cannot write to {self.store.display_root}: {why}",
                "free space on that disk, then run the command again"
                if full
                else "check free space and permissions, then run the command again",
            )
            err.__cause__ = e
            return err
        return e

    def put(self, oid: bytes, otype: ObjectType, data: bytes | memoryview, *, compress: bool | None = None) -> bool:
        """Add one object; False when the store or this writer already has ``oid``.

        ``compress``: True always tries zstd, False never, None (auto) tries
        unless recent objects did not compress. ``data`` is not hashed here:
        the caller passes its id (reads verify it).
        """
        self._check()
        check_id(oid)
        n = len(data)
        cap = max_raw(int(otype), self.store.max_chunk)
        if n > cap:
            # Readers refuse such an object (docs/format.md, "Limits"): never write one.
            raise StoreWriteError(
                f"{ObjectType(otype).name.lower()} object {oid.hex()} is {n} bytes, over the {cap}-byte limit "
                f"of {self.store.display_root}"
            )
        if oid in self._written or self.store.has(oid):
            self.stats.objects_deduped += 1
            return False
        try:
            self._written.add(oid)
            if self.store.compression is None or compress is False or n < _MIN_COMPRESS:
                attempt, auto = False, False
            elif compress is True:
                attempt, auto = True, False
            else:
                attempt, auto = self._auto.should_try(), True
            if not attempt:
                if self._pending:
                    self._pending.append((oid, int(otype), bytes(data), None, False))
                else:
                    self._store_blob(oid, int(otype), data, None)
            elif n >= _POOL_MIN:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(_POOL_WORKERS, thread_name_prefix="dvx-zstd")
                if not isinstance(data, bytes):
                    data = bytes(data)  # the caller may reuse its buffer
                self._pending.append((oid, int(otype), data, self._pool.submit(_pack.compress, data), auto))
            else:
                self._pending.append((oid, int(otype), bytes(data), _pack.compress(data), auto))
            self._drain(_MAX_PENDING)
        except BaseException as e:
            raise self._fail(e) from None
        return True

    def put_manifest(self, m: FileManifest | TreeManifest) -> bytes:
        """Store a manifest; return its id."""
        data = m.encode()
        oid = hash_bytes(data)
        otype = ObjectType.FILE if isinstance(m, FileManifest) else ObjectType.TREE
        self.put(oid, otype, data)
        return oid

    def _drain(self, limit: int) -> None:
        p = self._pending
        while p and (len(p) > limit or not isinstance(p[0][3], Future) or p[0][3].done()):
            oid, otype, data, res, auto = p.popleft()
            out = res.result() if isinstance(res, Future) else res
            if auto:
                self._auto.record(out is not None)
            self._store_blob(oid, otype, data, out)

    def _store_blob(self, oid: bytes, otype: int, data: bytes | memoryview, compressed: bytes | None) -> None:
        if self._builder is None:
            if self.store.local:
                self._builder = _pack.LocalPackBuilder(self.store.fs, self.store.root, fsync=self.store.fsync)
            else:
                self._builder = _pack.PackBuilder(self.store.fs, self.store.root)
        blob = data if compressed is None else compressed
        self._builder.add(oid, otype, 0 if compressed is None else FLAG_ZSTD, len(data), blob)
        self.stats.bytes_in += len(data)
        self.stats.bytes_stored += len(blob)
        self.stats.objects_added += 1
        if self._builder.size >= self.store.pack_size:
            self._finish_pack()

    def _finish_pack(self) -> None:
        b = self._builder
        if b is None or not b.records:
            return
        self._builder = None
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
        path = _pack.index_path(self.store.root, iid)
        s = self.store
        if s.local:
            tmpdir = os.path.join(s.root, "tmp")
            os.makedirs(tmpdir, exist_ok=True)
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
        else:
            _pack.pipe(s.fs, path, data)
            got = s.fs.size(path)
            if got != len(data):
                raise OSError(f"index {path}: wrote {len(data)} bytes, store has {got}")
        oids = [r[0] for r in recs]
        s._add_index(iid.hex(), data)
        self._written.difference_update(oids)
        self._finished = []
        self._unindexed = 0
        self.stats.indexes_written += 1

    def flush(self) -> None:
        """Finish the current pack: write it, then an index naming every pack not yet indexed."""
        self._check()
        try:
            self._drain(0)
            self._finish_pack()
            self._write_index()
        except BaseException as e:
            raise self._fail(e) from None

    def _abort_current(self) -> None:
        for item in self._pending:
            if isinstance(item[3], Future):
                item[3].cancel()
        self._pending.clear()
        b, self._builder = self._builder, None
        if b is not None:
            with contextlib.suppress(OSError):
                b.abort()

    def _close(self) -> None:
        self._closed = True
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

