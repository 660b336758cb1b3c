"""dvx.store.heal on real local stores: detection, salvage, index rewrite, quarantine."""

from __future__ import annotations

import os
import random
from pathlib import Path

from storekit import make_store  # noqa: F401 - fixture

from dvx.hashing import hash_bytes
from dvx.store import ObjectStore, ObjectType, heal
from dvx.store.pack import pack_path


def _fill(store: ObjectStore, n: int, seed: int = 0) -> dict[bytes, bytes]:
    rng = random.Random(seed)
    objs = {}
    with store.writer() as w:
        for _ in range(n):
            data = rng.randbytes(rng.randrange(1000, 5000))
            oid = hash_bytes(data)
            w.put(oid, ObjectType.CHUNK, data, compress=False)
            objs[oid] = data
    return objs


def test_short_packs_finds_truncated_and_missing_only(make_store) -> None:
    s = make_store(compression=None, pack_size=40_000)
    _fill(s, 40)
    packs = sorted(s.pack_ids())
    assert len(packs) >= 3 and heal.short_packs(s) == {}
    os.truncate(pack_path(s.root, packs[0]), 100)
    os.unlink(pack_path(s.root, packs[1]))
    bad = heal.short_packs(s)
    assert set(bad) == {packs[0], packs[1]}
    assert bad[packs[1]] == "missing" and bad[packs[0]].startswith("truncated")


def test_heal_salvages_intact_blobs_and_drops_the_rest(make_store, tmp_path: Path) -> None:
    s = make_store(compression=None)
    objs = _fill(s, 30)
    [pid] = s.pack_ids()
    recs = sorted(s._ensure_index().records(), key=lambda r: r[2])
    victim = recs[10]
    with open(pack_path(s.root, pid), "r+b") as f:
        f.seek(victim[2])
        f.write(bytes(victim[3]))
    bad, _ = heal.scan_objects(s, list(objs))
    report = heal.heal(s, bad)
    assert list(report.packs) == [pid] and report.dropped == 30 and report.salvaged == 29
    fresh = make_store()
    assert set(fresh.entries()) == set(objs) - {victim[0]}
    assert dict(fresh.get_many(set(objs) - {victim[0]})) == {k: v for k, v in objs.items() if k != victim[0]}
    assert (tmp_path / "cache" / "quarantine" / pid.hex()).is_file()
    assert not os.path.exists(pack_path(s.root, pid))


def test_a_pack_with_only_its_header_cut_is_rebuilt_in_place(make_store, tmp_path: Path) -> None:
    """All blobs intact: the rebuilt pack has the same id, so nothing is dropped or quarantined."""
    s = make_store(compression=None)
    objs = _fill(s, 5)
    [pid] = s.pack_ids()
    path = pack_path(s.root, pid)
    os.truncate(path, os.path.getsize(path) - 1)
    report = heal.check(s)
    assert not report
    assert dict(make_store().get_many(list(objs))) == objs
    assert not (tmp_path / "cache" / "quarantine").exists()


def test_quarantine_never_overwrites_an_earlier_copy(make_store, tmp_path: Path) -> None:
    """A refetched pack has the same id (same blobs, same order); damaged again, it gets `.1`."""
    s = make_store(compression=None)
    objs = _fill(s, 5)
    [pid] = s.pack_ids()
    path = pack_path(s.root, pid)
    for _round in range(2):
        with open(path, "r+b") as f:
            f.write(bytes(os.path.getsize(path)))  # every blob gone: nothing to salvage
        assert heal.check(s, [(o, ObjectType.CHUNK) for o in objs])
        assert not s.pack_ids()
        _fill(s, 5)
        assert s.pack_ids() == {pid}
    assert sorted(p.name for p in (tmp_path / "cache" / "quarantine").iterdir()) == [pid.hex(), pid.hex() + ".1"]
