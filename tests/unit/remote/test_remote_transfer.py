"""push / fetch / cloud_status against a local-folder remote and moto_server."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from unit.remote.remotekit import build_tree, local_store, read_tree

from dvx.errors import CorruptObjectError
from dvx.remote import cloud_status, fetch, open_url, push
from dvx.store import ObjectType
from dvx.store import pack as _pack


def _files(seed: int, n: int = 40, size: int = 6000) -> dict[str, bytes]:
    rng = random.Random(seed)
    return {f"d{i % 4}/f{i:03d}.bin": rng.randbytes(rng.randint(0, size)) for i in range(n)}


@pytest.fixture(params=["folder", "moto"])
def remote_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    if request.param == "folder":
        return str(tmp_path / "remote"), {}
    b = request.getfixturevalue("s3_bucket")()
    return f"{b.url}/some/prefix", dict(b.options)


def test_push_fetch_roundtrip_and_second_push_sends_nothing(tmp_path: Path, remote_url: Any) -> None:
    url, opts = remote_url
    files = _files(1)
    a = local_store(tmp_path / "a")
    tree = build_tree(a, files)
    roots = [(tree, ObjectType.TREE)]
    r = open_url(url, opts | {"pack_size": 16384})
    assert len(cloud_status(a, r, roots)[0]) > len(files)
    res = push(a, r, roots)
    assert res.objects == len(a.entries()) and res.packs > 2 and res.indexes >= 1 and not res.missing
    # Requests grow with packs, not with objects (a few hundred here): one PUT and
    # one HEAD (the size check before an index names the file) per pack and index;
    # 4 are the push's lock and roots marker (PUT, LIST, PUT, DELETE: docs/format.md,
    # "Locks and gc protocol").
    assert res.requests <= 2 * (res.packs + res.indexes) + 6 + 4
    assert cloud_status(a, r, roots) == [[]]
    again = push(a, open_url(url, opts), roots)
    assert again.objects == 0 and again.packs == 0 and again.present == res.objects

    b = local_store(tmp_path / "b")
    got = fetch(open_url(url, opts), b, roots)
    assert got.objects == res.objects and not got.missing
    assert read_tree(b, tree) == files
    assert fetch(open_url(url, opts), b, roots).objects == 0


def test_remote_index_is_cached_locally(tmp_path: Path, s3_bucket: Any) -> None:
    bk = s3_bucket()
    a = local_store(tmp_path / "a")
    t1 = build_tree(a, _files(2, 10))
    r = open_url(bk.url, bk.options)
    push(a, r, [(t1, ObjectType.TREE)])
    # A fresh clone downloads every index once; afterwards only the listing is needed
    # (and the one ranged GET of the dvx-store marker that checks the format on open).
    b = local_store(tmp_path / "b")
    first = fetch(open_url(bk.url, bk.options), b, [(t1, ObjectType.TREE)])
    second = fetch(open_url(bk.url, bk.options), b, [(t1, ObjectType.TREE)])
    assert first.bytes_received > 0
    assert second.requests == 2 and second.bytes_received == 0


def test_incremental_push_sends_only_new_chunks(tmp_path: Path) -> None:
    rng = random.Random(5)
    base = rng.randbytes(200_000)
    a = local_store(tmp_path / "a")
    t1 = build_tree(a, {"data.bin": base})
    url = str(tmp_path / "remote")
    first = push(a, open_url(url), [(t1, ObjectType.TREE)])
    t2 = build_tree(a, {"data.bin": base + rng.randbytes(2000)})
    second = push(a, open_url(url), [(t2, ObjectType.TREE)])
    # ~2 new chunks + the last changed one, the file manifest and the tree.
    assert second.objects <= 12 and second.present >= first.objects - 10
    assert second.packs == 1 and second.requests <= 4 + 4  # + lock and roots marker


def test_fetch_reads_ranges_not_whole_packs(tmp_path: Path, s3_bucket: Any) -> None:
    bk = s3_bucket()
    rng = random.Random(7)
    big = {f"f{i}": rng.randbytes(20_000) for i in range(30)}
    a = local_store(tmp_path / "a")
    tree = build_tree(a, big)
    push(a, open_url(bk.url, bk.options | {"pack_size": 1 << 20}), [(tree, ObjectType.TREE)])
    # The clone already has all but one file: only that file's chunks travel.
    b = local_store(tmp_path / "b")
    build_tree(b, {k: v for k, v in big.items() if k != "f7"})
    got = fetch(open_url(bk.url, bk.options), b, [(tree, ObjectType.TREE)])
    assert read_tree(b, tree) == big
    # ~22 KB of chunks + ~100 KB of index files, not the whole ~600 KB pack.
    assert got.bytes < 60_000 and got.bytes_received < 250_000


def _corrupt_one_pack(root: Path, how: str) -> bytes:
    packs = sorted((root / "packs").rglob("*"))
    p = next(x for x in packs if x.is_file())
    data = bytearray(p.read_bytes())
    if how == "flip":
        data[len(data) // 3] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    p.write_bytes(bytes(data))
    return bytes.fromhex(p.name)


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_corrupt_remote_pack_fails_clearly_and_writes_nothing_from_it(tmp_path: Path, how: str) -> None:
    files = _files(3, 20)
    a = local_store(tmp_path / "a", compression=None)
    tree = build_tree(a, files)
    url = str(tmp_path / "remote")
    push(a, open_url(url, {"pack_size": 8192}), [(tree, ObjectType.TREE)])
    bad = _corrupt_one_pack(tmp_path / "remote", how)
    b = local_store(tmp_path / "b")
    with pytest.raises(CorruptObjectError) as ei:
        fetch(open_url(url), b, [(tree, ObjectType.TREE)])
    msg = ei.value.message
    assert bad.hex() in msg and str(tmp_path / "remote") in msg and "object " in msg
    # Nothing from the damaged pack reached the cache; the tree is not complete there.
    b.refresh()
    assert not b.has(tree)
    bad_recs = [o for o, e in open_url(url).store.entries().items() if e.pack == bad]
    assert bad_recs and not any(b.has(o) for o in bad_recs)


def test_missing_objects_are_reported(tmp_path: Path) -> None:
    a = local_store(tmp_path / "a")
    tree = build_tree(a, _files(4, 5))
    b = local_store(tmp_path / "b")
    res = fetch(open_url(str(tmp_path / "empty")) if (tmp_path / "empty").mkdir() is None else None,
                b, [(tree, ObjectType.TREE)])
    assert res.missing == [tree]
    # push of an id neither side has: reported, nothing sent
    ghost = bytes(16)
    out = push(a, open_url(str(tmp_path / "r")), [(ghost, ObjectType.FILE)])
    assert out.missing == [ghost] and out.objects == 0
    assert os.path.exists(_pack.pack_path(a.root, next(iter(a.pack_ids()))))


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_corrupt_s3_pack_fails_clearly(tmp_path: Path, s3_bucket: Any, how: str) -> None:
    bk = s3_bucket()
    files = _files(8, 10)
    a = local_store(tmp_path / "a", compression=None)
    tree = build_tree(a, files)
    push(a, open_url(bk.url, bk.options | {"pack_size": 8192}), [(tree, ObjectType.TREE)])
    fs = bk.fs()
    pack = sorted(p for p in fs.find(f"{bk.name}/packs"))[0]
    data = bytearray(fs.cat_file(pack))
    data = data[: len(data) // 2] if how == "truncate" else data[:10] + bytes([data[10] ^ 0xFF]) + data[11:]
    bk.client().put_object(Bucket=bk.name, Key=pack.split("/", 1)[1], Body=bytes(data))
    b = local_store(tmp_path / "b")
    with pytest.raises(CorruptObjectError) as ei:
        fetch(open_url(bk.url, bk.options, name="origin"), b, [(tree, ObjectType.TREE)])
    msg = ei.value.message
    assert pack.rsplit("/", 1)[1] in msg and "'origin'" in msg
    assert ("truncated" in msg) if how == "truncate" else ("corrupt" in msg)
    b.refresh()
    assert not b.has(tree)


def test_push_compresses_raw_objects_unless_disabled(tmp_path: Path) -> None:
    text = {f"t{i}.csv": b"".join(b"%d,%d,label_%d\n" % (j, j * 7, j % 5) for j in range(i * 500, i * 500 + 800))
            for i in range(5)}
    noise = {"noise.bin": random.Random(9).randbytes(50_000)}
    a = local_store(tmp_path / "a", compression=None)
    tree = build_tree(a, noise | text)  # noise first: each blob is judged on its own bytes
    on = push(a, open_url(str(tmp_path / "on")), [(tree, ObjectType.TREE)])
    off = push(a, open_url(str(tmp_path / "off"), {"compression": "none"}), [(tree, ObjectType.TREE)])
    assert off.bytes == off.raw_bytes
    assert on.bytes < off.bytes - sum(len(v) for v in text.values()) // 3  # text shrank a lot
    b = local_store(tmp_path / "b")
    fetch(open_url(str(tmp_path / "on")), b, [(tree, ObjectType.TREE)])
    assert read_tree(b, tree) == text | noise
