"""Two processes writing one local store at once, and a process killed mid-write."""

from __future__ import annotations

import multiprocessing
import os
import random
from pathlib import Path

from fsspec.implementations.local import LocalFileSystem

from dvx.hashing import hash_bytes
from dvx.store import ObjectStore, ObjectType


def _blobs(seed: int, n: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randrange(100, 5000)) for _ in range(n)]


def _writer_process(root: str, seed: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    store = ObjectStore(LocalFileSystem(), root, pack_size=20_000)
    shared = _blobs(0, 30)  # both processes add these: duplicates across indexes
    own = _blobs(seed, 60)
    barrier.wait(timeout=30)
    with store.writer() as w:
        for b in shared + own:
            w.put(hash_bytes(b), ObjectType.CHUNK, b)


def _crashing_process(root: str) -> None:
    store = ObjectStore(LocalFileSystem(), root, pack_size=5_000)
    w = store.writer()
    for b in _blobs(9, 40):
        w.put(hash_bytes(b), ObjectType.CHUNK, b)
    os._exit(3)  # no flush, no index, no cleanup: like kill -9


def test_two_writer_processes_at_once(tmp_path: Path) -> None:
    root = str(tmp_path / "cache")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer_process, args=(root, seed, barrier)) for seed in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    store = ObjectStore(LocalFileSystem(), root)
    every = _blobs(0, 30) + _blobs(1, 60) + _blobs(2, 60)
    assert len(store.entries()) == len({hash_bytes(b) for b in every})
    assert dict(store.get_many(hash_bytes(b) for b in every)) == {hash_bytes(b): b for b in every}
    assert len(os.listdir(tmp_path / "cache" / "index")) == 2
    assert os.listdir(tmp_path / "cache" / "tmp") == []


def test_crash_mid_write_leaves_a_consistent_store_and_a_rerun_completes(tmp_path: Path) -> None:
    root = str(tmp_path / "cache")
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=_crashing_process, args=(root,))
    p.start()
    p.join(60)
    assert p.exitcode == 3
    store = ObjectStore(LocalFileSystem(), root)
    assert len(store.entries()) == 0  # orphan packs / tmp files only: no index names them
    assert os.listdir(tmp_path / "cache" / "tmp") or os.path.isdir(tmp_path / "cache" / "packs")
    blobs = _blobs(9, 40)
    with store.writer() as w:
        added = [w.put(hash_bytes(b), ObjectType.CHUNK, b) for b in blobs]
    assert all(added)
    fresh = ObjectStore(LocalFileSystem(), root)
    assert [fresh.get(hash_bytes(b)) for b in blobs] == blobs
