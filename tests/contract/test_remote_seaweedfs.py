"""Faults against a real SeaweedFS server: killed mid-push, wrong credentials, consistency after restart."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest
from unit.remote.remotekit import build_tree, local_store, read_tree

from dvx.errors import RemoteError
from dvx.remote import fetch, open_url, push
from dvx.store import ObjectType
from dvx.store import pack as _pack
from dvx.store.index import decode_index

pytestmark = [pytest.mark.s3, pytest.mark.slow]


def _check_consistent(fs: Any, root: str) -> int:
    """Every pack an index names exists and is long enough for every object it should hold."""
    fs.invalidate_cache()
    names = [p for p in fs.find(f"{root}/index") if not p.endswith("/")]
    need: dict[bytes, int] = {}
    for p in names:
        for rec in decode_index(fs.cat_file(p)).values():
            need[rec[1]] = max(need.get(rec[1], 0), rec[2] + rec[3])
    for pid, end in need.items():
        assert fs.size(_pack.pack_path(root, pid)) >= end, f"index names a partial pack {pid.hex()}"
    return len(names)


def test_wrong_credentials_one_line(tmp_path: Path, seaweedfs: Any) -> None:
    bk = seaweedfs.bucket()
    a = local_store(tmp_path / "a")
    tree = build_tree(a, {"x": b"data" * 100})
    r = open_url(bk.url, bk.options | {"access_key_id": "testing", "secret_access_key": "wrong"}, name="sw")
    with pytest.raises(RemoteError) as ei:
        push(a, r, [(tree, ObjectType.TREE)])
    msg = ei.value.format_message()
    assert "access denied" in msg and "'sw'" in msg and "\n" not in msg
    assert not bk.fs().find(bk.name)


def test_server_killed_mid_push_then_rerun_completes(tmp_path: Path, seaweedfs: Any) -> None:
    bk = seaweedfs.bucket()
    rng = random.Random(11)
    files = {f"f{i:02d}": rng.randbytes(200_000) for i in range(40)}  # 8 MB, incompressible
    a = local_store(tmp_path / "a")
    tree = build_tree(a, files)
    opts = bk.options | {"pack_size": 256 << 10}
    sent = [0]
    killed = threading.Event()

    def progress(kind: str, n: int) -> None:
        if kind == "bytes":
            sent[0] += n
            if sent[0] > 2_500_000 and not killed.is_set():
                killed.set()
                seaweedfs.stop()  # kill -9 while other packs are in flight

    url = f"{bk.url}/repo"
    with pytest.raises(RemoteError, match="cannot connect|RemoteError|Error"):
        push(a, open_url(url, opts), [(tree, ObjectType.TREE)], jobs=2, progress=progress)
    assert killed.is_set()
    seaweedfs.start()
    fs = bk.fs()
    assert _check_consistent(fs, f"{bk.name}/repo") >= 1  # the finished part was indexed

    rerun = push(a, open_url(url, opts), [(tree, ObjectType.TREE)], jobs=2)
    assert rerun.present > 0 and rerun.objects < len(a.entries())
    _check_consistent(fs, f"{bk.name}/repo")
    assert push(a, open_url(url, opts), [(tree, ObjectType.TREE)]).objects == 0

    b = local_store(tmp_path / "b")
    got = fetch(open_url(url, opts), b, [(tree, ObjectType.TREE)])
    assert not got.missing and read_tree(b, tree) == files
