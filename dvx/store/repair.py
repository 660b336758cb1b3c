"""Repairing a local store from what ``check_store`` found (``dvx fsck --repair``). Lock held.

Each step writes the new state before it retires the old, so a crash leaves
the store readable and a rerun finishes the job:

1. index files that do not verify (content not matching the name, not
   parsing, too large): their records whose blobs verify are written as a
   new index file (named by its content); the file goes to the quarantine;
2. index records out of the caps or differing from their intact pack's own
   header: the index files holding them are rewritten without them, and the
   pack's own entries that no index names are indexed again;
3. packs no index names: indexed when their header parses and every blob
   verifies; else their good blobs are salvaged into a new pack and the
   pack is quarantined;
4. damaged, short or missing packs: ``heal`` (salvage, rewrite indexes,
   quarantine).

Nothing is deleted: what is taken out goes to ``quarantine/`` (docs/format.md,
"Quarantine"). Objects left missing are the caller's to fetch or rebuild.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from dvx.errors import DvxError, FormatVersionError
from dvx.hashing import hash_bytes
from dvx.store import pack as _pack
from dvx.store.blob import decode_blob
from dvx.store.fsck import StoreProblem, _tail
from dvx.store.heal import QUARANTINE, _free_name, _salvage, _write_index, heal
from dvx.store.index import Record, decode_index, newer_format, record_problem
from dvx.store.indexfiles import read_local_file
from dvx.store.ranges import GAP_LOCAL, coalesce
from dvx.store.store import ObjectStore

INDEX_PREFIX = "index-"  # quarantined index files: quarantine/index-<name>[.N]


@dataclass
class Done:
    """One repair: what (``index``, ``pack``, ``object``), its id, and how it was repaired."""

    what: str
    id: str
    how: str


def repair_store(store: ObjectStore, problems: Sequence[StoreProblem]) -> list[Done]:
    """Mend the index files and packs of local ``store`` named by ``problems`` (module docstring)."""
    if not store.local:
        return []
    done: list[Done] = []
    for name in dict.fromkeys(p.name for p in problems if p.fix == "index"):
        done.append(_salvage_index(store, name))
    entries = [p for p in problems if p.fix == "entry" and p.pack is not None]
    if entries:
        done.extend(_drop_entries(store, entries))
    store.forget_index()
    indexed = store.pack_ids()
    for pid in dict.fromkeys(bytes.fromhex(p.name) for p in problems if p.fix == "orphan"):
        if pid not in indexed:  # a salvaged index file may name it now
            done.append(_orphan(store, pid))
    store.forget_index()
    bad = {bytes.fromhex(p.pack): p.message for p in problems if p.fix == "heal" and p.pack is not None}
    bad = {pid: why for pid, why in bad.items() if pid in store.pack_ids()}
    if bad:
        gone = {pid for pid in bad if not os.path.exists(_pack.pack_path(store.root, pid))}
        report = heal(store, bad)
        where = os.path.join(store.display_root, QUARANTINE)
        for pid in bad:
            if pid in gone:
                how = "it is gone: the index files naming it were rewritten without it"
            elif pid in report.packs:
                how = f"its intact objects salvaged into a new pack, indexes rewritten, the pack moved to {where}"
            else:
                how = "rebuilt in place from its intact blobs"
            done.append(Done("pack", pid.hex(), how))
    return done


def _quarantine(store: ObjectStore, path: str, name: str) -> str:
    qdir = os.path.join(store.root, QUARANTINE)
    os.makedirs(qdir, exist_ok=True)
    dest = _free_name(qdir, name)
    os.replace(path, dest)
    with contextlib.suppress(OSError):
        fd = os.open(qdir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return os.path.join(store.display_root, QUARANTINE, os.path.basename(dest))


def verified(store: ObjectStore, recs: Sequence[Record]) -> list[Record]:
    """The records among ``recs`` within the caps whose blobs are in their pack and match their ids."""
    ok = [r for r in recs if record_problem(r, store.max_chunk) is None]
    ok.sort(key=lambda r: (r[1], r[2]))
    out: list[Record] = []
    for pid, start, end, members in coalesce(ok, GAP_LOCAL):
        try:
            with open(_pack.pack_path(store.root, pid), "rb", buffering=0) as f:
                data = os.pread(f.fileno(), end - start, start)
        except OSError:
            continue
        view = memoryview(data)
        for r in members:
            a = r[2] - start
            with contextlib.suppress(DvxError):
                decode_blob(r, view[a : a + r[3]], store.display_root, store.max_chunk)
                out.append(r)
    return out


def _salvage_index(store: ObjectStore, name: str) -> Done:
    path = os.path.join(store.root, "index", name)
    data = read_local_file(path, name, store.display_root)
    recs: list[Record] = []
    if data is not None:
        with contextlib.suppress(ValueError):
            recs = list(decode_index(data).values())
    if data is not None and hash_bytes(data).hex() == name and newer_format(data):
        raise FormatVersionError(f"{path}: {newer_format(data)}; not repaired", "upgrade dvx")  # not damage
    good = verified(store, recs)
    if good:
        _write_index(store, good)  # first: a crash before the quarantine leaves a duplicate, never a loss
    try:
        where = _quarantine(store, path, INDEX_PREFIX + name)
    except FileNotFoundError:
        where = "nowhere (it was gone)"
    return Done("index", name, f"{len(good)} of its {len(recs)} entries verified and were indexed again; "
                               f"the file moved to {where}")


def _drop_entries(store: ObjectStore, problems: Sequence[StoreProblem]) -> list[Done]:
    """Rewrite the index files holding bad entries without them; index the packs' own entries again."""
    bad = {(oid, bytes.fromhex(p.pack)) for p in problems if p.pack for oid in p.oids}
    files = {n for p in problems for n in p.indexes}
    dirpath = os.path.join(store.root, "index")
    for name in sorted(files):
        data = read_local_file(os.path.join(dirpath, name), name, store.display_root)
        if data is None:
            continue
        try:
            recs = decode_index(data)
        except ValueError:
            continue
        keep = [r for r in recs.values() if (r[0], r[1]) not in bad]
        if len(keep) == len(recs):
            continue
        if keep:
            _write_index(store, keep)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(dirpath, name))  # rewritten: every record it held that verifies is kept
    store.forget_index()
    done: list[Done] = []
    for oid, pid in sorted(bad):
        how = "its wrong index entry was dropped"
        header = _header(store, pid)
        if header is not None and not store.has(oid):
            own = [r for r in header if r[0] == oid]
            good = verified(store, own)
            if good:
                _write_index(store, good)
                how += "; indexed again from its pack's own header"
        done.append(Done("object", oid.hex(), how))
    return done


def _header(store: ObjectStore, pid: bytes) -> list[Record] | None:
    """A pack's own entries when its tail parses and hashes to its name, else None."""
    path = _pack.pack_path(store.root, pid)
    try:
        size = os.stat(path).st_size
        if size < _pack.TRAILER_SIZE:
            return None
        tail = _tail(store, pid, size)
        if _pack.pack_id_of(tail) != pid:
            return None
        return _pack.parse_header(tail[: -_pack.TRAILER_SIZE], pid, size)
    except (ValueError, OSError):
        return None


def _orphan(store: ObjectStore, pid: bytes) -> Done:
    """Index a pack no index names, or salvage and quarantine it."""
    path = _pack.pack_path(store.root, pid)
    header = _header(store, pid)
    if header is not None:
        good = verified(store, header)
        if len(good) == len(header):
            if good:
                _write_index(store, good)
            return Done("pack", pid.hex(), f"indexed: its {len(good)} objects verified")
        kept = _salvage(store, pid, sorted(header, key=lambda r: r[2]))[1]  # re-verifies each blob
    else:
        kept = 0
    try:
        where = _quarantine(store, path, pid.hex())
    except FileNotFoundError:
        where = "nowhere (it was gone)"
    why = "its header does not verify" if header is None else "some of its blobs do not match their ids"
    return Done("pack", pid.hex(), f"{why}: {kept} intact objects salvaged into a new pack; moved to {where}")
