"""Self-healing of a local store: damaged packs leave the index so their objects count as missing.

A pack an index names can be damaged: a bit flipped on disk, or, with the
``[cache] fsync = false`` opt-out, a power cut that kept the index but not
the pack (short, zero-filled at its end, or absent). Readers refuse those
bytes (every blob is verified against its id), but ``fetch`` and ``add``
skip every object an index names. Healing makes such objects missing again:

1. the good blobs of a damaged pack are copied into a new pack with its own
   index (so no object whose only copy is in that pack is lost);
2. every index file naming the damaged pack is rewritten without it (new
   file first, then the old one is deleted: a crash leaves both, and
   duplicate ids across index files are allowed);
3. the damaged pack is moved to ``quarantine/`` (never deleted by dvx).

The next ``fetch``/``pull`` then downloads the dropped objects from the
remote, and ``add`` of the matching file writes them again. Healing rewrites
index files, so the caller holds the repository lock.

Detection has two speeds: ``short_packs`` costs one ``stat`` per pack and
catches truncated and missing packs without reading data; ``scan_objects``
reads and verifies given objects (for zero-filled packs, after a read has
already failed). Readers that hit a damaged blob note its pack in
``damaged`` (a small list in the store root) so that the next locked
command heals it even when the failing reader could not.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dvx._fsutil import atomic_write, fsync_dir
from dvx.errors import DvxError
from dvx.hashing import hash_bytes
from dvx.store import pack as _pack
from dvx.store.blob import decode_blob
from dvx.store.index import (
    HEAD_SIZE,
    RECORD_SIZE,
    Record,
    decode_index,
    encode_index,
)
from dvx.store.objects import FileManifest, ObjectType, TreeManifest
from dvx.store.ranges import GAP_LOCAL, coalesce

if TYPE_CHECKING:
    from dvx.store.store import ObjectStore

log = logging.getLogger("dvx.store")

QUARANTINE = "quarantine"
_NOTED = "damaged"
# (pack id, offset, stored length) of an index record: enough for the size check.
_PACK_END = struct.Struct("<16x16sQI6x")
assert _PACK_END.size == RECORD_SIZE


@dataclass
class HealReport:
    """What healing did: packs taken out of the index (with why), objects dropped and salvaged."""

    packs: dict[bytes, str] = field(default_factory=dict)
    dropped: int = 0   # index records removed (intact objects among them are indexed again)
    salvaged: int = 0  # intact objects copied into a new pack

    def __bool__(self) -> bool:
        return bool(self.packs)

    def describe(self, root: str) -> str:
        """One line for a message: which packs went where and why."""
        first = next(iter(self.packs.items()), None)
        if first is None:
            return "nothing to heal"
        more = f" and {len(self.packs) - 1} more" if len(self.packs) > 1 else ""
        return (
            f"pack {first[0].hex()} ({first[1]}){more} moved to {os.path.join(root, QUARANTINE)}; "
            f"{max(self.dropped - self.salvaged, 0)} damaged objects are now missing, "
            f"{self.salvaged} intact ones were kept"
        )


# ------------------------------------------------------------------ detection


def short_packs(store: ObjectStore) -> dict[bytes, str]:
    """``{pack id: reason}`` for indexed packs that are missing or end before their last blob.

    One ``stat`` per pack and one pass over the index records (C-level
    ``iter_unpack``; 0.6 s for 300k records on a loaded 2-core machine): truncation is caught without
    reading any pack data. Local stores only.
    """
    if not store.local:
        return {}
    ends: dict[bytes, int] = {}
    get = ends.get
    for buf in store._ensure_index().files():
        for pid, off, stored in _PACK_END.iter_unpack(memoryview(buf)[HEAD_SIZE:]):
            e = off + stored
            if e > get(pid, -1):
                ends[pid] = e
    bad: dict[bytes, str] = {}
    for pid, end in ends.items():
        try:
            size = os.stat(_pack.pack_path(store.root, pid)).st_size
        except FileNotFoundError:
            bad[pid] = "missing"
            continue
        if size < end + _pack.TRAILER_SIZE:
            bad[pid] = f"truncated: {size} bytes, its blobs and trailer need at least {end + _pack.TRAILER_SIZE}"
    return bad


def scan_objects(store: ObjectStore, oids: Iterable[bytes]) -> tuple[dict[bytes, str], dict[bytes, bytes]]:
    """Read and verify the indexed ``oids``: ``({damaged pack: reason}, {oid: raw bytes of good ones})``.

    Unlike ``ObjectStore.get_many`` it never raises for damage: it reports
    every damaged pack it meets. Ids no index names are skipped.
    """
    idx = store._ensure_index()
    recs = [r for r in (idx.record(o) for o in dict.fromkeys(oids)) if r is not None]
    recs.sort(key=lambda r: (r[1], r[2]))
    bad: dict[bytes, str] = {}
    good: dict[bytes, bytes] = {}
    for pid, start, end, members in coalesce(recs, GAP_LOCAL):
        if pid in bad:
            continue
        try:
            with open(_pack.pack_path(store.root, pid), "rb", buffering=0) as f:
                data = os.pread(f.fileno(), end - start, start)
        except FileNotFoundError:
            bad[pid] = "missing"
            continue
        view = memoryview(data)
        for r in members:
            a = r[2] - start
            try:
                good[r[0]] = decode_blob(r, view[a : a + r[3]], store.display_root)
            except DvxError:
                bad[pid] = f"object {r[0].hex()} does not match its id"
                break
    return bad, good


def scan_closure(store: ObjectStore, roots: Iterable[tuple[bytes, ObjectType]]) -> dict[bytes, str]:
    """Damaged packs among those holding ``roots`` and everything they reference (reads it all)."""
    roots = list(roots)
    bad, good = scan_objects(store, [o for o, _ in roots])
    files: list[bytes] = []
    for oid, otype in roots:
        raw = good.get(oid)
        if raw is None:
            continue
        with contextlib.suppress(ValueError):
            if otype == ObjectType.TREE:
                files.extend(e.file_oid for e in TreeManifest.decode(raw).entries)
            elif otype == ObjectType.FILE:
                files.append(oid)
    more, manifests = scan_objects(store, [f for f in files if f not in good])
    bad.update(more)
    manifests.update({f: good[f] for f in files if f in good})
    chunks: list[bytes] = []
    for raw in manifests.values():
        with contextlib.suppress(ValueError):
            chunks.extend(c.oid for c in FileManifest.decode(raw).chunks)
    # Chunks are verified in bounded ranges and not kept.
    for k in range(0, len(chunks), 4096):
        more, _ = scan_objects(store, chunks[k : k + 4096])
        bad.update(more)
    return bad


def note_damaged(store: ObjectStore, pack_id: bytes) -> None:
    """Remember that a read found ``pack_id`` damaged (best effort; healed by the next locked command).
    Never in a remote (a folder remote keeps copies of its index files elsewhere: ``cache_dir``)."""
    if not store.local or store._files.cache_dir is not None:
        return
    path = os.path.join(store.root, _NOTED)
    line = pack_id.hex() + "\n"
    with contextlib.suppress(OSError):
        if line in _read_noted_text(path):
            return
        # O_APPEND of one short line: concurrent readers never tear each other's lines.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def _read_noted_text(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20).decode("ascii", "replace")
    except FileNotFoundError:
        return ""


def noted_damaged(store: ObjectStore) -> set[bytes]:
    """Packs readers noted as damaged that an index still names."""
    if not store.local:
        return set()
    out = set()
    for line in _read_noted_text(os.path.join(store.root, _NOTED)).split():
        if len(line) == 32:
            with contextlib.suppress(ValueError):
                out.add(bytes.fromhex(line))
    return out & store.pack_ids()


# ------------------------------------------------------------------ repair


def heal(store: ObjectStore, packs: Mapping[bytes, str]) -> HealReport:
    """Take ``packs`` out of the store: salvage, rewrite indexes, quarantine (see the module docstring)."""
    report = HealReport()
    if not packs or not store.local:
        return report
    records = _records_by_pack(store, set(packs))
    for pid, reason in packs.items():
        recs = sorted(records.get(pid, []), key=lambda r: r[2])
        new_id, n_good = _salvage(store, pid, recs)
        if new_id == pid:
            continue  # the rebuilt pack is byte-for-byte the indexed one: repaired in place
        report.packs[pid] = reason
        report.salvaged += n_good
    if not report.packs:
        _forget_noted(store, set(packs))
        return report
    report.dropped = _rewrite_indexes(store, set(report.packs))
    qdir = os.path.join(store.root, QUARANTINE)
    os.makedirs(qdir, exist_ok=True)
    for pid in report.packs:
        with contextlib.suppress(FileNotFoundError):
            os.replace(_pack.pack_path(store.root, pid), _free_name(qdir, pid.hex()))
    fsync_dir(qdir)
    _forget_noted(store, set(packs))
    store.forget_index()
    log.warning("healed %s: %s", store.display_root, report.describe(store.root))
    return report


def _free_name(folder: str, name: str) -> str:
    """``folder/name``, or ``name.1``, ``name.2``... when taken: a pack refetched under the same
    id can be damaged again, and no quarantined copy is ever overwritten."""
    path, n = os.path.join(folder, name), 0
    while os.path.lexists(path):
        n += 1
        path = os.path.join(folder, f"{name}.{n}")
    return path


def _records_by_pack(store: ObjectStore, pids: set[bytes]) -> dict[bytes, list[Record]]:
    out: dict[bytes, dict[bytes, Record]] = {}
    for rec in store._ensure_index().records():
        if rec[1] in pids:
            out.setdefault(rec[1], {})[rec[0]] = rec
    return {p: list(d.values()) for p, d in out.items()}


def _salvage(store: ObjectStore, pid: bytes, recs: list[Record]) -> tuple[bytes | None, int]:
    """Copy the verified blobs of ``recs`` into a new pack with its own index: (its id or None, blobs kept)."""
    path = _pack.pack_path(store.root, pid)
    good: list[tuple[Record, bytes]] = []
    try:
        f = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None, 0
    with f:
        for _p, start, end, members in coalesce(recs, GAP_LOCAL):
            data = os.pread(f.fileno(), end - start, start)
            view = memoryview(data)
            for r in members:
                a = r[2] - start
                blob = bytes(view[a : a + r[3]])
                with contextlib.suppress(DvxError):
                    decode_blob(r, blob, store.display_root)
                    good.append((r, blob))
    if not good:
        return None, 0
    b = _pack.LocalPackBuilder(None, store.root, fsync=True)
    try:
        for r, blob in good:
            b.add(r[0], r[5], r[6], r[4], blob)
        fp = b.finish()
    except BaseException:
        b.abort()
        raise
    if fp.pack_id != pid:
        _write_index(store, fp.records)
    return fp.pack_id, len(good)


def _write_index(store: ObjectStore, recs: list[Record]) -> None:
    data = encode_index(recs)
    store._files.ensure_marker()
    path = _pack.index_path(store.root, hash_bytes(data))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write(path, data)
    fsync_dir(os.path.dirname(path))


def _rewrite_indexes(store: ObjectStore, pids: set[bytes]) -> int:
    """Rewrite every index file naming ``pids`` without them; the number of records dropped."""
    dropped = 0
    files = store._files
    for name, data in files.read(files.names()).items():
        if hash_bytes(data).hex() != name:
            continue  # ignored by readers anyway
        try:
            recs = decode_index(data)
        except ValueError:
            continue
        keep = [r for r in recs.values() if r[1] not in pids]
        if len(keep) == len(recs):
            continue
        dropped += len(recs) - len(keep)
        if keep:
            _write_index(store, keep)  # the new file first: a crash here leaves duplicates, never a loss
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(store.root, "index", name))
    fsync_dir(os.path.join(store.root, "index"))
    return dropped


def _forget_noted(store: ObjectStore, pids: set[bytes]) -> None:
    path = os.path.join(store.root, _NOTED)
    left = [ln for ln in _read_noted_text(path).split() if ln not in {p.hex() for p in pids}]
    with contextlib.suppress(OSError):
        if left:
            atomic_write(path, ("\n".join(left) + "\n").encode())
        else:
            os.unlink(path)



def check(store: ObjectStore, roots: Iterable[tuple[bytes, ObjectType]] | None = None) -> HealReport:
    """Heal packs that are short, missing or noted damaged; with ``roots``, also every damaged
    pack holding their objects (reads them all). The caller holds the repository lock."""
    bad = short_packs(store)
    for pid in noted_damaged(store):
        bad.setdefault(pid, "a read found it damaged")
    if roots is not None:
        for pid, why in scan_closure(store, roots).items():
            bad.setdefault(pid, why)
    return heal(store, bad)


def _quarantined(store: ObjectStore) -> Iterator[str]:
    """Paths of the files under a local store's ``quarantine/`` (none for a remote)."""
    if store.local:
        for dirpath, _d, names in os.walk(os.path.join(store.root, QUARANTINE)):
            yield from (os.path.join(dirpath, n) for n in names)


def quarantine_bytes(store: ObjectStore) -> int:
    """Bytes under the store's ``quarantine/`` folder (local stores; gc never deletes them)."""
    total = 0
    for path in _quarantined(store):
        with contextlib.suppress(OSError):
            total += os.lstat(path).st_size
    return total


def set_aside(store: ObjectStore) -> set[bytes]:
    """Ids the packs under the local store's ``quarantine/`` list (damaged packs that healing set
    aside): what the store held and lost, as against what it never had. Reads each pack's
    trailer and header only; a pack whose header does not parse names nothing."""
    out: set[bytes] = set()
    for path in _quarantined(store):
        with contextlib.suppress(OSError, ValueError), open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _pack.TRAILER_SIZE))
            hlen = _pack.parse_trailer(f.read(_pack.TRAILER_SIZE), size)
            f.seek(size - _pack.TRAILER_SIZE - hlen)
            out.update(r[0] for r in _pack.parse_header(f.read(hlen), b"", size))
    return out
