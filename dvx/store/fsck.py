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

``Reach`` then follows roots (tree -> file manifests -> chunks) through one
or more stores. The only write is the "damaged" note of a local store
(``dvx.store.heal.note_damaged``), so that the next locked command heals it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from dvx.errors import DvxError
from dvx.store import pack as _pack
from dvx.store.blob import decode_blob_view
from dvx.store.heal import note_damaged
from dvx.store.index import Record, decode_index, record_problem
from dvx.store.indexfiles import problem as index_problem
from dvx.store.layout import list_files
from dvx.store.objects import FileManifest, ObjectType, TreeManifest
from dvx.store.ranges import GAP_LOCAL, GAP_REMOTE, MAX_BATCH, Range, batches, coalesce
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
    # How ``dvx.store.repair`` mends it: "index" (an index file to salvage), "entry" (index records
    # to drop, named in ``indexes``), "orphan" (a pack no index names), "heal" (a pack to heal).
    fix: str = ""
    indexes: list[str] = field(default_factory=list)


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


def check_store(store: ObjectStore, progress: Callable[[int], None] | None = None, note: bool = True) -> StoreCheck:
    """Check every index file, pack and indexed object of ``store`` (see the module docstring).
    ``note``: note damaged packs for healing (false for a remote, which a check never changes)."""
    res = StoreCheck(store.where)
    by_pack, named_by = _check_indexes(store, res)
    present = _list_packs(store)
    for pid in sorted(present):
        if pid not in by_pack:
            res.problems.append(StoreProblem(
                "pack", pid.hex(), f"pack {pid.hex()} in {store.where}: no index names it", pid.hex(), fix="orphan",
            ))
    buf = [bytearray()]  # one read buffer for every pack
    for pid in sorted(by_pack):
        res.packs += 1
        recs = sorted(by_pack[pid].values(), key=lambda r: r[2])
        todo = _check_pack(store, res, pid, present.get(pid), recs, named_by[pid])
        if todo:
            _check_blobs(store, res, pid, todo, progress, note, buf)
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
                res.problems.append(StoreProblem(
                    "index", name, f"index {name} in {store.where}: unreadable or too large", fix="index",
                ))
                continue
            why = index_problem(name, data)
            recs: dict[bytes, Record] = {}
            if why is None:
                try:
                    recs = decode_index(data)
                except ValueError as e:
                    why = str(e)
            if why is not None:
                res.problems.append(StoreProblem(
                    "index", name, f"index {name} in {store.where}: {why} (readers ignore it)", fix="index",
                ))
                continue
            for rec in recs.values():
                cap = record_problem(rec, store.max_chunk)
                if cap is not None:
                    res.problems.append(StoreProblem(
                        "object", rec[0].hex(), f"index {name} in {store.where}: entry for object {rec[0].hex()} {cap}",
                        rec[1].hex(), {rec[0]}, "entry", [name],
                    ))
                    continue
                by_pack.setdefault(rec[1], {}).setdefault(rec[0], rec)
                names_of = named_by.setdefault(rec[1], [])
                if not names_of or names_of[-1] != name:
                    names_of.append(name)
    return by_pack, named_by


def _list_packs(store: ObjectStore) -> dict[bytes, int]:
    """``{pack id: size}`` of the files under ``packs/`` whose names are pack ids (temp files left out)."""
    return {bytes.fromhex(n): size for n, (size, _t) in list_files(store.fs, store.local, f"{store.root}/packs").items()}


def _check_pack(
    store: ObjectStore, res: StoreCheck, pid: bytes, size: int | None, recs: list[Record], indexes: list[str]
) -> list[Record]:
    """The pack's presence, length, id and header against its index records; the records whose blobs to read."""
    h = pid.hex()
    oids = {r[0] for r in recs}
    named = f"index {', '.join(indexes)}"
    if size is None:
        res.problems.append(StoreProblem(
            "pack", h, f"pack {h} named by {named} is missing from {store.where} ({len(recs)} objects)", h, oids, "heal",
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
            h, oids, "heal",
        ))
        return []
    if header is None:
        # The blobs are still verified one by one: those that match their ids are intact.
        res.problems.append(StoreProblem("pack", h, f"pack {h} in {store.where}: {why}", h, fix="heal"))
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
            "entry", indexes,
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
    store: ObjectStore, res: StoreCheck, pid: bytes, recs: list[Record], progress: Callable[[int], None] | None,
    note: bool = True, buf: list[bytearray] | None = None,
) -> None:
    """Read the blobs of one pack in order, in coalesced ranges, and verify each (nothing copied)."""
    noted = not note
    it = _ranges(store, pid, recs, buf if buf is not None else [bytearray()])
    while True:
        try:
            got = next(it, None)
        except (DvxError, OSError) as e:
            msg = e.message if isinstance(e, DvxError) else f"cannot read it: {e.strerror or e}"
            left = {r[0] for r in recs}
            res.problems.append(StoreProblem("pack", pid.hex(), f"pack {pid.hex()}: {msg}", pid.hex(), left, "heal"))
            return
        if got is None:
            return
        (_p, s, _e, members), view = got
        for r in members:
            a = r[2] - s
            res.objects += 1
            res.checked_bytes += r[3]
            try:
                decode_blob_view(r, view[a : a + r[3]], store.where, store.max_chunk)
            except DvxError as e:
                res.problems.append(StoreProblem("object", r[0].hex(), e.message, pid.hex(), {r[0]}, "heal"))
                if store.local and not noted:
                    note_damaged(store, pid)  # the next locked command (fetch, pull, add) heals the pack
                    noted = True
        if progress is not None:
            progress(len(view))


def _ranges(store: ObjectStore, pid: bytes, recs: list[Record], buf: list[bytearray]) -> Iterator[tuple[Range, memoryview]]:
    """``(range, its bytes)`` of the coalesced reads of ``recs`` (one pack), in order; short at a pack's end.

    Locally each range is read into one reused buffer (``buf[0]``, grown to the largest range): no
    allocation and no page faults per read, which halves the cost of page-cached reads."""
    if not store.local:
        for batch in batches(coalesce(recs, GAP_REMOTE), MAX_BATCH):
            datas = store._read_ranges([(p, s, e) for p, s, e, _ in batch])
            for rng, data in zip(batch, datas, strict=True):
                yield rng, memoryview(data)
        return
    with open(_pack.pack_path(store.root, pid), "rb", buffering=0) as f:
        fd = f.fileno()
        for rng in coalesce(recs, GAP_LOCAL):
            n = rng[2] - rng[1]
            if n > len(buf[0]):
                buf[0] = bytearray(n)  # bounded: records passed the caps, ranges MAX_RANGE or one blob
            view = memoryview(buf[0])
            got = os.preadv(fd, [view[:n]], rng[1])
            yield rng, view[:got]


# ------------------------------------------------------------------ reachability

_NONE: frozenset[bytes] = frozenset()


@dataclass
class Missing:
    """An object roots reach that no checked store holds (or a stored manifest that does not decode);
    ``parent`` is the manifest naming it (None: a root)."""

    oid: bytes
    otype: ObjectType
    parent: bytes | None
    reason: str = "is not in"  # or why the stored manifest is unusable


class Reach:
    """Follows roots (tree -> file manifests -> chunks) through ``stores``, reading each manifest from
    the first store holding it, once however many roots name it. ``bad``: ids whose stored copies are
    damaged (from ``check_store``). Memory: one small entry per file manifest, never a root's closure."""

    def __init__(self, stores: Sequence[ObjectStore], bad: set[bytes]) -> None:
        self.stores = list(stores)
        self.bad = bad
        self.missing: dict[bytes, Missing] = {}
        self._files: dict[bytes, frozenset[bytes]] = {}

    def root(self, oid: bytes, otype: ObjectType) -> set[bytes]:
        """The ids of damaged, missing or undecodable objects that ``(oid, otype)`` reaches."""
        hits: set[bytes] = set()
        if otype == ObjectType.FILE:
            hits |= self._file(oid, None)
        elif otype == ObjectType.TREE:
            raw = self._read(oid, otype, None, hits)
            if raw is not None:
                try:
                    entries = TreeManifest.decode(raw).entries
                except ValueError as e:
                    self._undecodable(oid, otype, None, e, hits)
                    entries = ()
                for ent in entries:
                    hits |= self._file(ent.file_oid, oid)
        else:  # a PROFILE (or RESULT): present and intact is all
            self._read(oid, otype, None, hits, load=False)
        return hits

    def _file(self, foid: bytes, parent: bytes | None) -> frozenset[bytes]:
        got = self._files.get(foid)
        if got is not None:
            return got
        hits: set[bytes] = set()
        raw = self._read(foid, ObjectType.FILE, parent, hits)
        if raw is not None:
            try:
                for c in FileManifest.decode(raw).chunks:
                    if c.oid in self.bad:
                        hits.add(c.oid)
                    elif not self._held(c.oid):
                        self.missing.setdefault(c.oid, Missing(c.oid, ObjectType.CHUNK, foid))
                        hits.add(c.oid)
            except ValueError as e:
                self._undecodable(foid, ObjectType.FILE, parent, e, hits)
        out = frozenset(hits) if hits else _NONE
        self._files[foid] = out
        return out

    def _held(self, oid: bytes) -> bool:
        return any(s.has(oid) for s in self.stores)

    def _read(self, oid: bytes, otype: ObjectType, parent: bytes | None, hits: set[bytes], load: bool = True) -> bytes | None:
        """The object's bytes (None: damaged, missing, or ``load`` false); problems go to ``hits``."""
        if oid in self.bad:
            hits.add(oid)
            return None
        store = next((s for s in self.stores if s.has(oid)), None)
        if store is None:
            self.missing.setdefault(oid, Missing(oid, otype, parent))
            hits.add(oid)
            return None
        if not load:
            return None
        try:
            return store.get(oid)
        except DvxError:
            hits.add(oid)  # damaged since the store check read it
            return None

    def _undecodable(self, oid: bytes, otype: ObjectType, parent: bytes | None, e: ValueError, hits: set[bytes]) -> None:
        self.missing.setdefault(oid, Missing(oid, otype, parent, f"is not a valid {otype.name.lower()} manifest ({e}) in"))
        hits.add(oid)
