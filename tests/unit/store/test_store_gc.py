"""``plan_gc`` / ``apply_gc`` on a local store: homes, grace, orphans, exact figures."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from dvx.hashing import hash_bytes
from dvx.store import ObjectStore, ObjectType
from dvx.store.gc import plan_gc
from dvx.store.index import decode_index
from dvx.store.repack import apply_gc

OLD = time.time() - 7200


def _put(store: ObjectStore, blobs: list[bytes]) -> list[bytes]:
    with store.writer() as w:
        for b in blobs:
            w.put(hash_bytes(b), ObjectType.CHUNK, b)
    return [hash_bytes(b) for b in blobs]


def _age_all(root: Path, when: float = OLD) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (when, when))


def _files(root: Path, sub: str) -> set[str]:
    return {p.name for p in (root / sub).rglob("*") if p.is_file() and len(p.name) == 32}


def test_figures_are_exact_and_objects_read_after(tmp_path: Path) -> None:
    rnd = random.Random(1)
    store = ObjectStore(None, str(tmp_path), pack_size=200_000)
    ids = _put(store, [rnd.randbytes(30_000) for _ in range(20)])  # 3 packs of ~200 kB
    _age_all(tmp_path)
    live = set(ids[::3])
    plan = plan_gc(store, live, repack=0.5, grace=3600)
    before = sum(p.stat().st_size for p in (tmp_path / "packs").rglob("*") if p.is_file())
    stats = apply_gc(store, plan)
    after = sum(p.stat().st_size for p in (tmp_path / "packs").rglob("*") if p.is_file())
    assert stats.bytes_freed == plan.bytes_freed == before - after > 0
    assert stats.objects_removed == plan.garbage_objects == len(set(ids) - live)
    assert set(plan.new_indexes) == _files(tmp_path, "index")  # the planned names are the written ones
    fresh = ObjectStore(None, str(tmp_path))
    assert {o for o, _ in fresh.get_many(sorted(live))} == live
    assert not any(fresh.has(o) for o in set(ids) - live)


def test_grace_protects_young_packs_and_what_young_indexes_name(tmp_path: Path) -> None:
    rnd = random.Random(2)
    store = ObjectStore(None, str(tmp_path))
    old = _put(store, [rnd.randbytes(5000) for _ in range(4)])
    _age_all(tmp_path)
    young = _put(ObjectStore(None, str(tmp_path)), [rnd.randbytes(5000) for _ in range(4)])
    plan = plan_gc(ObjectStore(None, str(tmp_path)), set(), repack=0.5, grace=3600)
    assert plan.young_packs == 1 and plan.young_indexes == 1 and len(plan.delete) == 1
    apply_gc(ObjectStore(None, str(tmp_path)), plan)
    s = ObjectStore(None, str(tmp_path))
    assert all(s.has(o) for o in young) and not any(s.has(o) for o in old)
    # An old pack that a young index file names (healing rewrote its index) is protected too.
    store = ObjectStore(None, str(tmp_path / "b"))
    ids = _put(store, [rnd.randbytes(5000) for _ in range(4)])
    _age_all(tmp_path / "b")
    for p in (tmp_path / "b" / "index").iterdir():
        os.utime(p, None)
    plan = plan_gc(ObjectStore(None, str(tmp_path / "b")), set(), repack=0.5, grace=3600)
    assert not plan.delete and plan.young_indexes == 1
    apply_gc(ObjectStore(None, str(tmp_path / "b")), plan)
    assert all(ObjectStore(None, str(tmp_path / "b")).has(o) for o in ids)


def test_orphans_and_a_lost_pack(tmp_path: Path) -> None:
    rnd = random.Random(3)
    store = ObjectStore(None, str(tmp_path))
    a = _put(store, [rnd.randbytes(5000) for _ in range(3)])
    b = _put(ObjectStore(None, str(tmp_path)), [rnd.randbytes(5000)])  # a second pack and index
    _age_all(tmp_path)
    rec = ObjectStore(None, str(tmp_path)).record(b[0])
    assert rec is not None
    index_b = next(p for p in (tmp_path / "index").iterdir() if b[0] in decode_index(p.read_bytes()))
    # Lose index b: its pack becomes an orphan, older than the grace period: it goes.
    names_before = _files(tmp_path, "packs")
    index_b.unlink()
    plan = plan_gc(ObjectStore(None, str(tmp_path)), set(a), repack=0.5, grace=3600)
    assert list(plan.orphans) == [rec.pack] and not plan.delete
    apply_gc(ObjectStore(None, str(tmp_path)), plan)
    assert _files(tmp_path, "packs") == names_before - {rec.pack.hex()}
    assert all(ObjectStore(None, str(tmp_path)).has(o) for o in a)
