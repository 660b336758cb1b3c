"""Garbage collection of a store (the cache or a remote): mark what roots reach, plan what goes.

Two phases, so that a caller can re-check its roots and take a lock in
between: ``plan_gc(store, live)`` reads index files and lists packs and
writes nothing; ``apply_gc(store, plan)`` (``dvx.store.repack``) sweeps.

The plan, per store:

- every live object gets one *home*: a record in a pack that stays (packs
  younger than the grace period, or named by an index file younger than it,
  first; else the pack holding the most live bytes);
- a pack that is home to no live object is deleted; one whose garbage share
  is above ``repack`` has its live blobs copied verbatim into new packs and is
  then deleted; the others are kept as they are (their garbage stays);
- packs and index files younger than ``grace`` are never touched (a
  concurrent writer may have just written them, its pointer not yet
  committed); a pack no index names is deleted once older than ``grace``,
  unless an index file of the store fails verification (its pack may be the
  only copy a repair could rebuild an index from);
- the index files older than ``grace`` are replaced by a few new ones
  listing every home record (``INDEX_ENTRIES`` per file).

Order of the sweep (docs/format.md, "Garbage collection"): new packs, then
new index files (both synced), then old index files deleted, then old packs.
A crash at any step leaves a valid store; a rerun completes the work.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from dvx.errors import DvxError
from dvx.store import pack as _pack
from dvx.store.index import Record, decode_index, encode_index, record_problem
from dvx.store.indexfiles import problem as index_problem
from dvx.store.layout import list_files
from dvx.store.limits import MAX_INDEX
from dvx.store.objects import FileManifest, ObjectType, TreeManifest
from dvx.store.store import ObjectStore

INDEX_ENTRIES = 1 << 18  # records per compacted index file (12.5 MiB)
QUARANTINE = "quarantine"
_BATCH = 4096  # file manifests read at once while marking


# ------------------------------------------------------------------ mark


@dataclass
class MarkResult:
    """What roots reach: ``live`` object ids; ``unwalkable`` manifests that could not be read (id -> why)."""

    live: set[bytes] = field(default_factory=set)
    unwalkable: dict[bytes, str] = field(default_factory=dict)


def mark(stores: Sequence[ObjectStore], roots: Iterable[tuple[bytes, ObjectType]]) -> MarkResult:
    """Every object ``roots`` reach (tree -> file manifests -> chunks; profiles as leaves), reading
    each manifest from the first of ``stores`` holding it intact. A manifest no store holds intact
    is ``unwalkable``: what it names is unknown, so nothing may be deleted on its account."""
    res = MarkResult()
    files: list[bytes] = []
    for oid, otype in roots:
        if oid in res.live:
            continue
        res.live.add(oid)
        if otype == ObjectType.TREE:
            raw = _read_one(stores, oid, res)
            if raw is None:
                continue
            try:
                entries = TreeManifest.decode(raw).entries
            except ValueError as e:
                res.unwalkable[oid] = f"is not a valid tree manifest ({e})"
                continue
            for ent in entries:
                if ent.file_oid not in res.live:
                    res.live.add(ent.file_oid)
                    files.append(ent.file_oid)
        elif otype == ObjectType.FILE:
            files.append(oid)
    for k in range(0, len(files), _BATCH):
        for foid, raw in _read_many(stores, files[k : k + _BATCH], res):
            try:
                res.live.update(c.oid for c in FileManifest.decode(raw).chunks)
            except ValueError as e:
                res.unwalkable[foid] = f"is not a valid file manifest ({e})"
    return res


def _read_one(stores: Sequence[ObjectStore], oid: bytes, res: MarkResult) -> bytes | None:
    why = "is in no store"
    for s in stores:
        if not s.has(oid):
            continue
        try:
            return s.get(oid)
        except DvxError as e:
            why = f"cannot be read: {e.message}"
    res.unwalkable[oid] = why
    return None


def _read_many(stores: Sequence[ObjectStore], oids: list[bytes], res: MarkResult) -> list[tuple[bytes, bytes]]:
    """Verified bytes of ``oids`` (batched per store; one by one after a failure)."""
    first = stores[0] if stores else None
    held = [o for o in oids if first is not None and first.has(o)]
    out: list[tuple[bytes, bytes]] = []
    if first is not None and held:
        try:
            out = list(first.get_many(held))
            held = []
        except DvxError:
            out = []
    got = {o for o, _ in out}
    for o in oids:
        if o not in got:
            raw = _read_one(stores, o, res)
            if raw is not None:
                out.append((o, raw))
    return out


# ------------------------------------------------------------------ plan


@dataclass
class GcPlan:
    """What a gc of one store would do (no writes made); ``apply_gc`` carries it out."""

    where: str
    grace: float
    repack: float
    live_objects: int = 0  # distinct live objects this store holds
    live_bytes: int = 0  # their stored bytes
    garbage_objects: int = 0  # distinct indexed objects that leave the index
    garbage_bytes: int = 0  # their stored bytes
    delete: dict[bytes, int] = field(default_factory=dict)  # pack -> size: no live object in it
    orphans: dict[bytes, int] = field(default_factory=dict)  # pack -> size: named by no index, older than grace
    repack_packs: dict[bytes, int] = field(default_factory=dict)  # pack -> size: mostly garbage
    kept_garbage: dict[bytes, int] = field(default_factory=dict)  # pack -> garbage bytes left (below threshold)
    kept_orphans: int = 0  # orphan packs kept because an index file is damaged
    young_packs: int = 0
    young_indexes: int = 0
    damaged_indexes: list[str] = field(default_factory=list)
    old_indexes: list[str] = field(default_factory=list)  # replaced by the compacted ones
    keep: list[Record] = field(default_factory=list)  # home records in packs that stay
    copy: list[Record] = field(default_factory=list)  # home records in packs to repack, in copy order
    pack_size: int = 32 << 20
    quarantine_bytes: int = 0
    packs: int = 0  # packs present
    new_indexes: list[str] = field(default_factory=list)  # the compacted index files (names)

    @property
    def new_pack_bytes(self) -> int:
        """Exact size of the packs the repack writes."""
        return sum(sum(r[3] for r in g) + len(g) * _pack.ENTRY_SIZE + _pack.TRAILER_SIZE for g in split_packs(self.copy, self.pack_size))

    @property
    def bytes_freed(self) -> int:
        gone = sum(self.delete.values()) + sum(self.orphans.values()) + sum(self.repack_packs.values())
        return gone - self.new_pack_bytes

    @property
    def changes(self) -> bool:
        return bool(self.delete or self.orphans or self.repack_packs or set(self.old_indexes) != set(self.new_indexes))

    def to_json(self) -> dict[str, object]:
        return {
            "where": self.where, "live_objects": self.live_objects, "live_bytes": self.live_bytes,
            "objects_removed": self.garbage_objects, "bytes_freed": self.bytes_freed,
            "packs": self.packs, "packs_deleted": len(self.delete) + len(self.orphans) + len(self.repack_packs),
            "orphan_packs_deleted": len(self.orphans), "packs_repacked": len(self.repack_packs),
            "packs_written": len(split_packs(self.copy, self.pack_size)),
            "packs_kept_with_garbage": len(self.kept_garbage), "garbage_bytes_kept": sum(self.kept_garbage.values()),
            "young_packs_kept": self.young_packs, "young_indexes_kept": self.young_indexes,
            "orphan_packs_kept": self.kept_orphans, "damaged_indexes": self.damaged_indexes,
            "index_files_before": len(self.old_indexes) + self.young_indexes,
            "index_files_after": len(self.new_indexes) + self.young_indexes,
            "quarantine_bytes": self.quarantine_bytes,
        }


def split_packs(recs: list[Record], pack_size: int) -> list[list[Record]]:
    """``recs`` cut into packs as a writer cuts them: a pack closes once its blobs reach ``pack_size``."""
    out: list[list[Record]] = []
    cur: list[Record] = []
    size = 0
    for r in recs:
        cur.append(r)
        size += r[3]
        if size >= pack_size:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


def index_files(recs: Iterable[Record]) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of the compacted index files listing ``recs`` (sorted by id, ``INDEX_ENTRIES`` each)."""
    from dvx.hashing import hash_bytes

    by_id = sorted({r[0]: r for r in recs}.items())
    out = []
    for k in range(0, len(by_id), INDEX_ENTRIES):
        data = encode_index(r for _o, r in by_id[k : k + INDEX_ENTRIES])
        out.append((hash_bytes(data).hex(), data))
    return out


def quarantine_bytes(store: ObjectStore) -> int:
    """Bytes under the store's ``quarantine/`` folder (local stores; gc never deletes them)."""
    total = 0
    if store.local:
        for dirpath, _d, names in os.walk(os.path.join(store.root, QUARANTINE)):
            for n in names:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(dirpath, n)).st_size
    return total


def plan_gc(store: ObjectStore, live: AbstractSet[bytes], *, repack: float = 0.5, grace: float = 3600.0,
            now: float | None = None) -> GcPlan:
    """What a gc of ``store`` keeping ``live`` would do (see the module docstring). Writes nothing."""
    now = time.time() if now is None else now
    plan = GcPlan(store.display_root, grace, repack, pack_size=store.pack_size)
    packs = {bytes.fromhex(n): v for n, v in list_files(store.fs, store.local, f"{store.root}/packs").items()}
    plan.packs = len(packs)
    names = list_files(store.fs, store.local, f"{store.root}/index")
    young_names = {n for n, (_s, m) in names.items() if now - m < grace}
    plan.young_indexes = len(young_names)
    files = store._files
    store._files.check_format()
    by_file: dict[str, dict[bytes, Record]] = {}
    # An index file over the cap is never read (a hostile remote's 1 GiB "index"): it counts as damaged.
    for n, data in files.read(sorted(n for n, (size, _m) in names.items() if size <= MAX_INDEX)).items():
        why = index_problem(n, data)
        if why is None:
            try:
                by_file[n] = decode_index(data)
            except ValueError:
                why = "does not parse"
        if why is not None:
            plan.damaged_indexes.append(n)
    plan.damaged_indexes += sorted(set(names) - set(by_file) - set(plan.damaged_indexes))
    protected = {p for p, (_s, m) in packs.items() if now - m < grace}
    for n in young_names & set(by_file):
        protected.update(r[1] for r in by_file[n].values())
    plan.young_packs = len({p for p, (_s, m) in packs.items() if now - m < grace})
    plan.old_indexes = sorted(set(by_file) - young_names)
    recs: dict[bytes, list[Record]] = {}
    for n in sorted(by_file):
        for oid, r in by_file[n].items():
            recs.setdefault(oid, []).append(r)
    live_in: dict[bytes, int] = {}
    for oid, rs in recs.items():
        if oid in live:
            for r in rs:
                live_in[r[1]] = live_in.get(r[1], 0) + r[3]
    homes = _homes(recs, live, packs, protected, live_in)
    _packs(plan, packs, protected, homes, recs, live, store.max_chunk)
    # Records of protected packs that only an old index file lists stay listed (whatever their object).
    in_old = {r for n in plan.old_indexes for r in by_file[n].values() if r[1] in protected}
    young_listed = {r for n in young_names & set(by_file) for r in by_file[n].values()}
    plan.keep = [r for r in plan.keep if r[1] not in protected or r not in young_listed]
    plan.keep += sorted(in_old - young_listed - set(plan.keep))
    plan.quarantine_bytes = quarantine_bytes(store)
    placed = _placeholder(plan)
    for r in placed:  # left by a gc that crashed before its index: the repack writes it again
        plan.orphans.pop(r[1], None)
    plan.new_indexes = [n for n, _d in index_files([*plan.keep, *placed])]
    return plan


def _homes(recs: dict[bytes, list[Record]], live: AbstractSet[bytes], packs: dict[bytes, tuple[int, float]],
           protected: set[bytes], live_in: dict[bytes, int]) -> dict[bytes, Record]:
    """One record per live object: in a present pack, a protected one first, else the one with most live bytes."""
    out: dict[bytes, Record] = {}
    for oid, rs in recs.items():
        if oid not in live:
            continue
        # A pack that is not there is never a home while another copy is (an index may name a lost pack).
        best = max(rs, key=lambda r: (r[1] in packs, r[1] in protected, live_in.get(r[1], 0), r[1]))
        out[oid] = best
    return out


def _packs(plan: GcPlan, packs: dict[bytes, tuple[int, float]], protected: set[bytes],
           homes: dict[bytes, Record], recs: dict[bytes, list[Record]], live: AbstractSet[bytes], max_chunk: int) -> None:
    by_pack: dict[bytes, list[Record]] = {}
    for r in homes.values():
        by_pack.setdefault(r[1], []).append(r)
    named = {r[1] for rs in recs.values() for r in rs}
    for pid, (size, _m) in packs.items():
        if pid in protected:
            continue
        mine = by_pack.get(pid)
        if pid not in named:
            if plan.damaged_indexes:
                plan.kept_orphans += 1
            else:
                plan.orphans[pid] = size
        elif not mine:
            plan.delete[pid] = size
        else:
            used = sum(r[3] for r in mine) + len(mine) * _pack.ENTRY_SIZE + _pack.TRAILER_SIZE
            sane = not any(record_problem(r, max_chunk) for r in mine)  # a hostile record is never copied
            if sane and size > 0 and (size - used) / size > plan.repack:
                plan.repack_packs[pid] = size
            elif size > used:
                plan.kept_garbage[pid] = size - used
    for pid, rs in by_pack.items():
        target = plan.copy if pid in plan.repack_packs else plan.keep
        target.extend(sorted(rs, key=lambda r: r[2]))
    plan.copy.sort(key=lambda r: (r[1], r[2]))
    plan.live_objects = len(homes)
    plan.live_bytes = sum(r[3] for r in homes.values())
    for oid, rs in recs.items():
        if oid in live or any(r[1] in protected for r in rs):
            continue
        plan.garbage_objects += 1
        plan.garbage_bytes += rs[0][3]


def _placeholder(plan: GcPlan) -> list[Record]:
    """The repacked records with the pack ids the repack will give them (the hash of each new pack's tail)."""
    out: list[Record] = []
    for group in split_packs(plan.copy, plan.pack_size):
        offset, recs = 0, []
        for r in group:
            recs.append(r._replace(offset=offset))
            offset += r[3]
        pid = _pack.pack_id_of(_pack.encode_header(recs))
        out.extend(r._replace(pack=pid) for r in recs)
    return out
