"""Checking a store (``dvx fsck``): every index file, every pack, every object, and what roots reach.

Read-only, for the cache and any remote. ``check_store``:

1. reads every index file: its content must hash to its name and parse, and
   every record must be within the caps (docs/format.md, "Limits");
2. lists the packs: a pack no index names, an index naming a missing pack,
   or a pack shorter than the records naming it are problems;
3. per indexed pack, reads its tail: the pack's id must be the hash of its
   tail, and every index record must match the pack's own header entry;
4. reads every indexed blob in storage order (coalesced ranges, batches of
   at most ``MAX_BATCH`` bytes: memory stays bounded whatever the store's
   size) and verifies it against its id.

``reach`` then follows roots (tree -> file manifests -> chunks) through one
or more stores. The only write is the "damaged" note of a local store
(``dvx.store.heal.note_damaged``), so that the next locked command heals it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dvx.errors import DvxError
from dvx.hashing import is_oid
from dvx.store import pack as _pack
from dvx.store.blob import decode_blob
from dvx.store.heal import note_damaged
from dvx.store.index import Record, decode_index, record_problem
from dvx.store.indexfiles import problem as index_problem
from dvx.store.objects import FileManifest, ObjectType, TreeManifest
from dvx.store.ranges import GAP_LOCAL, GAP_REMOTE, MAX_BATCH, batches, coalesce
from dvx.store.store import ObjectStore

_INDEX_BATCH = 16  # index files read at once (each at most MAX_INDEX bytes)


@dataclass
class StoreProblem:
    """One thing wrong in a store: ``what`` is "index", "pack" or "object", ``name`` its id (hex)."""

    what: str
    name: str
    message: str
    pack: str | None = None
    oids: set[bytes] = field(default_factory=set)  # objects it makes unreadable


@dataclass
class StoreCheck:
    """What ``check_store`` read and found."""

    where: str
    indexes: int = 0
    packs: int = 0
    objects: int = 0
    checked_bytes: int = 0
    problems: list[StoreProblem] = field(default_factory=list)

    def bad_oids(self) -> set[bytes]:
        """Every object some problem makes unreadable."""
        out: set[bytes] = set()
        for p in self.problems:
            out |= p.oids
        return out


def check_store(store: ObjectStore, progress: Callable[[int], None] | None = None) -> StoreCheck:
    """Check every index file, pack and indexed object of ``store`` (see the module docstring)."""
    res = StoreCheck(store.where)
    by_pack, named_by = _check_indexes(store, res)
    present = _list_packs(store)
    for pid in sorted(present):
        if pid not in by_pack:
            res.problems.append(StoreProblem("pack", pid.hex(), f"pack {pid.hex()} in {store.where}: no index names it"))
    for pid in sorted(by_pack):
        res.packs += 1
        recs = sorted(by_pack[pid].values(), key=lambda r: r[2])
        todo = _check_pack(store, res, pid, present.get(pid), recs, named_by[pid])
        if todo:
            _check_blobs(store, res, pid, todo, progress)
    return res


def _check_indexes(store: ObjectStore, res: StoreCheck) -> tuple[dict[bytes, dict[bytes, Record]], dict[bytes, list[str]]]:
    """Read and check every index file; ``({pack: {oid: record}}, {pack: [index names]})`` of the good records."""
    files = store._files
    names = files.names()
    by_pack: dict[bytes, dict[bytes, Record]] = {}
    named_by: dict[bytes, list[str]] = {}
    for k in range(0, len(names), _INDEX_BATCH):
        chunk = names[k : k + _INDEX_BATCH]
        got = files.read(chunk)
        for name in chunk:
            res.indexes += 1
            data = got.get(name)
            if data is None:
                res.problems.append(StoreProblem("index", name, f"index {name} in {store.where}: unreadable or too large"))
                continue
            why = index_problem(name, data)
            recs: dict[bytes, Record] = {}
            if why is None:
                try:
                    recs = decode_index(data)
                except ValueError as e:
                    why = str(e)
            if why is not None:
                res.problems.append(StoreProblem("index", name, f"index {name} in {store.where}: {why} (readers ignore it)"))
                continue
            for rec in recs.values():
                cap = record_problem(rec, store.max_chunk)
                if cap is not None:
                    res.problems.append(StoreProblem(
                        "object", rec[0].hex(), f"index {name} in {store.where}: entry for object {rec[0].hex()} {cap}",
                        rec[1].hex(), {rec[0]},
                    ))
                    continue
                by_pack.setdefault(rec[1], {}).setdefault(rec[0], rec)
                names_of = named_by.setdefault(rec[1], [])
                if not names_of or names_of[-1] != name:
                    names_of.append(name)
    return by_pack, named_by


def _list_packs(store: ObjectStore) -> dict[bytes, int]:
    """``{pack id: size}`` of the files under ``packs/`` whose names are pack ids (temp files left out)."""
    out: dict[bytes, int] = {}
    base = f"{store.root}/packs"
    if store.local:
        for dirpath, _dirs, fnames in os.walk(base):
            for n in fnames:
                if is_oid(n):
                    with contextlib.suppress(OSError):
                        out[bytes.fromhex(n)] = os.stat(os.path.join(dirpath, n)).st_size
        return out
    with contextlib.suppress(Exception):
        store.fs.invalidate_cache(base)
    try:
        infos: Any = store.fs.find(base, detail=True)
    except FileNotFoundError:
        return out
    for path, info in infos.items():
        n = path.rstrip("/").rsplit("/", 1)[-1]
        if is_oid(n) and info.get("type") != "directory":
            out[bytes.fromhex(n)] = int(info.get("size") or 0)
    return out


def _check_pack(
    store: ObjectStore, res: StoreCheck, pid: bytes, size: int | None, recs: list[Record], indexes: list[str]
) -> list[Record]:
    """The pack's presence, length, id and header against its index records; the records whose blobs to read."""
    h = pid.hex()
    oids = {r[0] for r in recs}
    named = f"index {', '.join(indexes)}"
    if size is None:
        res.problems.append(StoreProblem(
            "pack", h, f"pack {h} named by {named} is missing from {store.where} ({len(recs)} objects)", h, oids,
        ))
        return []
    header: list[Record] | None = None
    why = f"{size} bytes is too short for a pack"
    if size >= _pack.TRAILER_SIZE:
        try:
            tail = _tail(store, pid, size)
            header = _pack.parse_header(tail[: -_pack.TRAILER_SIZE], pid, size)
            if _pack.pack_id_of(tail) != pid:
                header, why = None, "its content does not match its name"
        except (ValueError, OSError) as e:
            why = str(e)
    need = max(r[2] + r[3] for r in recs) + _pack.TRAILER_SIZE
    if header is None and size < need:
        res.problems.append(StoreProblem(
            "pack", h, f"pack {h} in {store.where} is truncated: {size} bytes, its indexed blobs and trailer need {need}",
            h, oids,
        ))
        return []
    if header is None:
        # The blobs are still verified one by one: those that match their ids are intact.
        res.problems.append(StoreProblem("pack", h, f"pack {h} in {store.where}: {why}", h))
        return recs
    # An intact pack (its id is the hash of its header): an index record that differs from the
    # pack's own entry is the index's fault (a wrong offset, length, type or flags).
    own = {r[0]: r for r in header}
    good = []
    for r in recs:
        if own.get(r[0]) == r:
            good.append(r)
            continue
        res.problems.append(StoreProblem(
            "object", r[0].hex(), f"{named} in {store.where}: its entry for object {r[0].hex()} does not match "
            f"pack {h}'s own header ({'placed elsewhere' if r[0] in own else 'the pack does not hold it'})", h, {r[0]},
        ))
    return good


def _tail(store: ObjectStore, pid: bytes, size: int) -> bytes:
    """A pack's header and trailer (two reads)."""
    path = _pack.pack_path(store.root, pid)
    hlen = _pack.parse_trailer(_read(store, path, size - _pack.TRAILER_SIZE, size), size)
    return _read(store, path, size - _pack.TRAILER_SIZE - hlen, size)


def _read(store: ObjectStore, path: str, start: int, end: int) -> bytes:
    if store.local:
        with open(path, "rb", buffering=0) as f:
            return os.pread(f.fileno(), end - start, start)
    return bytes(store.fs.cat_file(path, start=start, end=end))


def _check_blobs(
    store: ObjectStore, res: StoreCheck, pid: bytes, recs: list[Record], progress: Callable[[int], None] | None
) -> None:
    """Read the blobs of one pack in order, in coalesced ranges and bounded batches, and verify each."""
    gap = GAP_LOCAL if store.local else GAP_REMOTE
    noted = False
    for batch in batches(coalesce(recs, gap), MAX_BATCH):
        try:
            datas = store._read_ranges([(p, s, e) for p, s, e, _ in batch])
        except DvxError as e:
            left = {r[0] for rng in batch for r in rng[3]}
            res.problems.append(StoreProblem("pack", pid.hex(), f"pack {pid.hex()}: {e.message}", pid.hex(), left))
            return
        for (_p, s, _e, members), data in zip(batch, datas, strict=True):
            view = memoryview(data)
            for r in members:
                a = r[2] - s
                res.objects += 1
                res.checked_bytes += r[3]
                try:
                    decode_blob(r, view[a : a + r[3]], store.where, store.max_chunk)
                except DvxError as e:
                    res.problems.append(StoreProblem("object", r[0].hex(), e.message, pid.hex(), {r[0]}))
                    if store.local and not noted:
                        note_damaged(store, pid)  # the next locked command (fetch, pull, add) heals the pack
                        noted = True
            if progress is not None:
                progress(len(data))


# ------------------------------------------------------------------ reachability


@dataclass
class Missing:
    """An object a root reaches that no checked store holds (or a manifest that does not decode);
    ``parent`` names it (None: the root)."""

    oid: bytes
    otype: ObjectType
    parent: bytes | None
    reason: str = "is not in"  # or why the stored manifest is unusable


def reach(
    stores: Sequence[ObjectStore], oid: bytes, otype: ObjectType, bad: set[bytes]
) -> tuple[set[bytes], list[Missing]]:
    """Every object ``(oid, otype)`` reaches, and those no store of ``stores`` holds (or holds only
    damaged: the ids of ``bad``). Manifests are read from the first store holding them."""
    seen: set[bytes] = set()
    missing: list[Missing] = []

    def holder(o: bytes) -> ObjectStore | None:
        return next((s for s in stores if s.has(o)), None) if o not in bad else None

    def load(o: bytes, t: ObjectType, parent: bytes | None) -> bytes | None:
        seen.add(o)
        s = holder(o)
        if s is None:
            if not any(st.has(o) for st in stores):
                missing.append(Missing(o, t, parent))
            return None
        if t not in (ObjectType.TREE, ObjectType.FILE):
            return None
        try:
            return s.get(o)
        except DvxError:
            return None  # damaged: reported by the store check

    def bad_manifest(o: bytes, t: ObjectType, parent: bytes | None, e: ValueError) -> None:
        missing.append(Missing(o, t, parent, f"is not a valid {t.name.lower()} manifest ({e}) in"))

    files: list[tuple[bytes, bytes | None, bytes | None]] = []
    raw = load(oid, otype, None)
    if otype == ObjectType.TREE and raw is not None:
        try:
            entries = TreeManifest.decode(raw).entries
        except ValueError as e:
            bad_manifest(oid, otype, None, e)
            entries = ()
        for ent in entries:
            if ent.file_oid not in seen:
                files.append((ent.file_oid, load(ent.file_oid, ObjectType.FILE, oid), oid))
    elif otype == ObjectType.FILE:
        files.append((oid, raw, None))
    for foid, data, parent in files:
        if data is None:
            continue
        try:
            chunks = FileManifest.decode(data).chunks
        except ValueError as e:
            bad_manifest(foid, ObjectType.FILE, parent, e)
            continue
        for c in chunks:
            if c.oid not in seen:
                load(c.oid, ObjectType.CHUNK, foid)
    return seen, missing

