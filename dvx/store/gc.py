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

import time
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dvx.errors import DvxError
from dvx.hashing import hash_bytes
from dvx.store import pack as _pack
from dvx.store.heal import quarantine_bytes
from dvx.store.index import Record, record_problem
from dvx.store.indexfiles import problem as index_problem
from dvx.store.layout import list_files
from dvx.store.limits import MAX_INDEX
from dvx.store.objects import ObjectType, file_chunk_ids, tree_file_ids
from dvx.store.ranges import GAP_LOCAL, GAP_REMOTE, MAX_BATCH, batches, coalesce
from dvx.store.store import ObjectStore

if TYPE_CHECKING:
    from dvx.store.gctable import Table

INDEX_ENTRIES = 1 << 18  # records per compacted index file (12.5 MiB)
_BATCH = 4096  # file manifests read at once while marking


# ------------------------------------------------------------------ mark


@dataclass
class MarkResult:
    """What roots reach: ``live`` object ids; ``unwalkable`` manifests that could not be read (id -> why);
    ``absent`` manifests no store names, taken as reaching nothing (``mark(absent_ok=True)``)."""

    live: set[bytes] = field(default_factory=set)
    unwalkable: dict[bytes, str] = field(default_factory=dict)
    absent: set[bytes] = field(default_factory=set)


def mark(stores: Sequence[ObjectStore], roots: Iterable[tuple[bytes, ObjectType]], *,
         absent_ok: bool = False) -> MarkResult:
    """Every object ``roots`` reach (tree -> file manifests -> chunks; profiles as leaves), reading
    each manifest from the first of ``stores`` holding it intact. A manifest some store names but
    none holds intact (damaged, or not decodable) is ``unwalkable``: what it names is unknown, so
    nothing may be deleted on its account. One that no store names is unwalkable too, unless
    ``absent_ok``: then it is ``absent`` and reaches nothing in these stores (the caller says why
    that is safe: ``dvx.gc`` for the local cache alone, after a granular pull or none)."""
    res = MarkResult()
    files: list[bytes] = []
    for oid, otype in roots:
        if oid in res.live:
            continue
        res.live.add(oid)
        if otype == ObjectType.TREE:
            raw = _read_one(stores, oid, res, absent_ok)
            if raw is None:
                continue
            try:
                fids = tree_file_ids(raw)  # ids only: gc writes no path
            except ValueError as e:
                res.unwalkable[oid] = f"is not a valid tree manifest ({e})"
                continue
            for fid in fids:
                if fid not in res.live:
                    res.live.add(fid)
                    files.append(fid)
        elif otype == ObjectType.FILE:
            files.append(oid)
    for k in range(0, len(files), _BATCH):
        for foid, data in _read_many(stores, files[k : k + _BATCH], res, absent_ok):
            try:
                res.live.update(file_chunk_ids(data))
            except ValueError as e:
                res.unwalkable[foid] = f"is not a valid file manifest ({e})"
    return res


def _read_one(stores: Sequence[ObjectStore], oid: bytes, res: MarkResult, absent_ok: bool) -> bytes | None:
    why = None
    for s in stores:
        if not s.has(oid):
            continue
        try:
            return s.get(oid)
        except DvxError as e:
            why = f"cannot be read: {e.message}"
    if why is None and absent_ok:
        res.absent.add(oid)
        return None
    res.unwalkable[oid] = why or "is in no store"
    return None


def _read_many(stores: Sequence[ObjectStore], oids: list[bytes], res: MarkResult,
               absent_ok: bool) -> list[tuple[bytes, bytes | memoryview]]:
    """Verified bytes of ``oids`` (batched per store, as views of the read buffers; one by one after a failure)."""
    out: list[tuple[bytes, bytes | memoryview]] = []
    if stores:
        first = stores[0]
        idx = first._ensure_index()
        recs = [r for r in map(idx.record, oids) if r is not None]  # one lookup each: gc asks for 20,000
        if recs:
            try:
                out = list(_views(first, [first._checked(r) for r in recs]))
            except DvxError:
                out = []
    if len(out) == len(oids):
        return out
    got = {o for o, _ in out}
    for o in oids:
        if o not in got:
            raw = _read_one(stores, o, res, absent_ok)
            if raw is not None:
                out.append((o, raw))
    return out


def _views(store: ObjectStore, recs: list[Record]) -> Iterator[tuple[bytes, bytes | memoryview]]:
    """``(id, verified bytes)`` of checked records of ``store``, read in coalesced ranges: an object
    stored raw is a view of the read buffer once its length and hash match its record and id; any
    other (compressed, short, not matching) goes through the store's decoder, which decompresses it
    or raises naming it. ``ObjectStore.get_views`` with one call per object, not four."""
    recs.sort(key=lambda r: (r[1], r[2]))
    for batch in batches(coalesce(recs, GAP_LOCAL if store.local else GAP_REMOTE), MAX_BATCH // 4):
        datas = store._read_ranges([(p, s, e) for p, s, e, _m in batch])
        for (_p, s, _e, members), data in zip(batch, datas, strict=True):
            view = memoryview(data)
            for r in members:
                a = r[2] - s
                blob: bytes | memoryview = view[a : a + r[3]]
                if r[6] or len(blob) != r[4] or hash_bytes(blob) != r[0]:
                    blob = store._decode_view(r, blob)
                yield r[0], blob


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
    # The records the compacted index lists again: home records in packs that stay (a numpy record
    # array, dvx.store.gctable), then records of protected packs carried over (``keep`` joins them).
    keep_rows: Any = None
    keep_more: list[Record] = field(default_factory=list)
    copy: list[Record] = field(default_factory=list)  # home records in packs to repack, in copy order
    pack_size: int = 32 << 20
    quarantine_bytes: int = 0
    packs: int = 0  # packs present
    new_indexes: list[str] = field(default_factory=list)  # the compacted index files (names)

    @property
    def keep(self) -> list[Record]:
        """Every record the compacted index lists again, but the repacked ones (built on each call)."""
        from dvx.store.gctable import to_records

        return (to_records(self.keep_rows) if self.keep_rows is not None else []) + self.keep_more

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
    """``recs`` cut into packs as the repack cuts them: chunks and metadata objects (manifests, profiles,
    results) into packs of their own, as a writer keeps them; a pack closes once its blobs reach
    ``pack_size``; the packs still open at the end close last, chunks first."""
    out: list[list[Record]] = []
    cur: list[list[Record]] = [[], []]
    size = [0, 0]
    for r in recs:
        m = int(r[5] != ObjectType.CHUNK)
        cur[m].append(r)
        size[m] += r[3]
        if size[m] >= pack_size:
            out.append(cur[m])
            cur[m], size[m] = [], 0
    out += [g for g in cur if g]
    return out


def index_files(recs: Iterable[Record], rows: Any = None) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of the compacted index files listing ``rows`` (a record array) then ``recs``
    (sorted by id, ``INDEX_ENTRIES`` each; an id listed twice keeps its last record)."""
    from dvx.store.gctable import index_files as _encode

    return _encode(recs, INDEX_ENTRIES, rows)


def plan_gc(store: ObjectStore, live: AbstractSet[bytes], *, repack: float = 0.5, grace: float = 3600.0,
            now: float | None = None) -> GcPlan:
    """What a gc of ``store`` keeping ``live`` would do (see the module docstring). Writes nothing."""
    now = time.time() if now is None else now
    plan = GcPlan(store.display_root, grace, repack, pack_size=store.pack_size)
    fs = None if store.local else store.fs  # a local store lists with os (importing fsspec costs 50 ms)
    packs = {bytes.fromhex(n): v for n, v in list_files(fs, store.local, f"{store.root}/packs").items()}
    plan.packs = len(packs)
    names = list_files(fs, store.local, f"{store.root}/index")
    young_names = {n for n, (_s, m) in names.items() if now - m < grace}
    plan.young_indexes = len(young_names)
    files = store._files
    store._files.check_format()
    good: dict[str, bytes] = {}
    # An index file over the cap is never read (a hostile remote's 1 GiB "index"): it counts as damaged.
    for n, data in files.read(sorted(n for n, (size, _m) in names.items() if size <= MAX_INDEX)).items():
        if index_problem(n, data) is None:
            good[n] = data
        else:
            plan.damaged_indexes.append(n)
    plan.damaged_indexes += sorted(set(names) - set(good) - set(plan.damaged_indexes))
    young = {p for p, (_s, m) in packs.items() if now - m < grace}
    plan.young_packs = len(young)
    plan.old_indexes = sorted(set(good) - young_names)
    from dvx.store.gctable import Table

    t = Table([(n, good[n]) for n in sorted(good)], live)
    protected = young | {t.pids[c] for c in t.young_packs(young_names)}
    _packs(plan, packs, protected, t, store.max_chunk)
    _young_listed(plan, t, protected, young_names)
    plan.quarantine_bytes = quarantine_bytes(store)
    placed = _placeholder(plan)
    for r in placed:  # left by a gc that crashed before its index: the repack writes it again
        plan.orphans.pop(r[1], None)
    plan.new_indexes = [n for n, _d in index_files([*plan.keep_more, *placed], plan.keep_rows)]
    return plan


def _packs(plan: GcPlan, packs: dict[bytes, tuple[int, float]], protected: set[bytes], t: Table, max_chunk: int) -> None:
    import numpy as np

    from dvx.store.gctable import to_records

    npk = len(t.pids)
    prot = np.array([p in protected for p in t.pids], bool)
    # Homes: per live object, the record in a present pack, a protected one first, else in the
    # pack with the most live bytes (then the highest pack id), else the first listed.
    live_in = np.bincount(t.pk[t.live], weights=t.stored[t.live], minlength=npk).astype(np.int64)
    rank_key = sorted(range(npk), key=lambda c: (t.pids[c] in packs, bool(prot[c]), int(live_in[c]), t.pids[c]))
    rank = np.empty(npk, np.int64)
    rank[rank_key] = np.arange(npk)
    idx = np.flatnonzero(t.live)
    order = idx[np.lexsort((idx, -rank[t.pk[idx]], t.obj[idx]))]
    head = np.ones(len(order), bool)
    head[1:] = t.obj[order][1:] != t.obj[order][:-1]
    homes = order[head]
    hcount = np.bincount(t.pk[homes], minlength=npk)
    hsum = np.bincount(t.pk[homes], weights=t.stored[homes], minlength=npk).astype(np.int64)
    code = {p: c for c, p in enumerate(t.pids)}
    copy_codes: set[int] = set()
    for pid, (size, _m) in packs.items():
        if pid in protected:
            continue
        c = code.get(pid)
        if c is None:
            if plan.damaged_indexes:
                plan.kept_orphans += 1
            else:
                plan.orphans[pid] = size
        elif not hcount[c]:
            plan.delete[pid] = size
        else:
            used = int(hsum[c]) + int(hcount[c]) * _pack.ENTRY_SIZE + _pack.TRAILER_SIZE
            if size > 0 and (size - used) / size > plan.repack and _sane(t, homes, c, max_chunk):
                plan.repack_packs[pid] = size  # a hostile record is never copied
                copy_codes.add(c)
            elif size > used:
                plan.kept_garbage[pid] = size - used
    # Records in pack order (pack id, offset), ties in the order objects were first listed.
    pack_rank = np.empty(npk, np.int64)
    pack_rank[sorted(range(npk), key=t.pids.__getitem__)] = np.arange(npk)
    first_seen = np.empty(len(t.first), np.int64)
    first_seen[np.argsort(t.first, kind="stable")] = np.arange(len(t.first))
    homes = homes[np.lexsort((first_seen[t.obj[homes]], t.a["offset"][homes], pack_rank[t.pk[homes]]))]
    to_copy = np.isin(t.pk[homes], np.array(sorted(copy_codes), np.int64))
    plan.copy = to_records(t.a[homes[to_copy]])
    plan.keep_rows = t.a[homes[~to_copy]]
    plan.live_objects = len(homes)
    plan.live_bytes = int(t.stored[homes].sum())
    # Garbage: objects not live, none of whose records is in a protected pack (first record's size).
    in_prot = np.bincount(t.obj, weights=prot[t.pk], minlength=len(t.first)) > 0 if len(t.obj) else np.zeros(0, bool)
    gone = ~(t.live[t.first] | in_prot)
    plan.garbage_objects = int(gone.sum())
    plan.garbage_bytes = int(t.stored[t.first[gone]].sum())


def _sane(t: Table, homes: Any, c: int, max_chunk: int) -> bool:
    from dvx.store.gctable import to_records

    return not any(record_problem(r, max_chunk) for r in to_records(t.a[homes[t.pk[homes] == c]]))


def _young_listed(plan: GcPlan, t: Table, protected: set[bytes], young_names: AbstractSet[str]) -> None:
    """Records of protected packs that only an old index file lists stay listed (whatever their object);
    the ones a young index file lists are left to it."""
    import numpy as np

    from dvx.store.gctable import to_records

    if not protected or not len(t.a):
        return
    prot = np.array([p in protected for p in t.pids], bool)[t.pk]
    young = np.array([n in young_names for n in t.names], bool)[t.file]
    in_old = set(to_records(t.a[prot & ~young]))
    young_listed = set(to_records(t.a[young]))
    rows = plan.keep_rows
    rp = np.flatnonzero(np.array([p in protected for p in rows["pack"].tolist()], bool))
    kp = to_records(rows[rp])
    drop = np.array([r in young_listed for r in kp], bool)
    plan.keep_rows = np.delete(rows, rp[drop]) if len(kp) else rows
    plan.keep_more = sorted(in_old - young_listed - {r for r, d in zip(kp, drop, strict=True) if not d})


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
