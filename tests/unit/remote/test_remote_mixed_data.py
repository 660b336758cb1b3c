"""Compression is decided per blob: a CSV stored after random data is stored compressed, in the
cache and on every remote (issue 11: push used to stop compressing after 8 incompressible blobs)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from unit.remote.remotekit import build_tree, local_store, read_tree

from dvx.chunking import ChunkerParams
from dvx.remote import open_url, push
from dvx.store import ObjectStore, ObjectType

DEFAULT = ChunkerParams()
CSV = b"".join(b"%d,%d.%02d,category_%d,some text here\n" % (i, i * 7, i % 100, i % 13) for i in range(40_000))
RANDOM = random.Random(11).randbytes(1 << 20)


@pytest.fixture(params=["folder", "moto"])
def remote_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    if request.param == "folder":
        return str(tmp_path / "remote"), {}
    b = request.getfixturevalue("s3_bucket")()
    return f"{b.url}/mixed", dict(b.options)


def _chunks_of(store: ObjectStore, tree: bytes, path: bytes) -> list[bytes]:
    (entry,) = [e for e in store.get_tree_manifest(tree).entries if e.path == path]
    return [c.oid for c in store.get_file_manifest(entry.file_oid).chunks]


@pytest.mark.parametrize("order", ["random-then-csv", "csv-then-random"])
@pytest.mark.parametrize("cache_compression", ["zstd", None])
def test_mixed_push_stores_every_compressible_blob_compressed(
    tmp_path: Path, remote_url: Any, order: str, cache_compression: str | None
) -> None:
    files = {"random.bin": RANDOM, "data.csv": CSV}
    if order == "csv-then-random":
        files = {"data.csv": CSV, "random.bin": RANDOM}
    a = local_store(tmp_path / "a", compression=cache_compression)
    tree = build_tree(a, files, DEFAULT)
    url, opts = remote_url
    r = open_url(url, opts)
    push(a, r, [(tree, ObjectType.TREE)])

    fresh = open_url(url, opts).store  # what the remote's own index files say
    csv_chunks = _chunks_of(a, tree, b"data.csv")
    rand_chunks = _chunks_of(a, tree, b"random.bin")
    assert len(csv_chunks) > 8 and len(rand_chunks) > 8  # a run of incompressible blobs precedes or follows
    csv_recs = [fresh.record(o) for o in csv_chunks]
    assert all(rec is not None and rec.compressed for rec in csv_recs)
    stored = sum(rec.stored for rec in csv_recs if rec is not None)
    assert stored < len(CSV) // 4  # ~145 KiB of 1.2 MiB, not the full size
    assert not any(rec is not None and rec.compressed for rec in map(fresh.record, rand_chunks))
    if cache_compression:
        # the cache made the same per-blob decision
        assert all(e is not None and e.compressed for e in map(a.locate, csv_chunks))
    assert read_tree(fresh, tree) == files
