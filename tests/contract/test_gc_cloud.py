"""``dvx gc --cloud`` on a folder remote, moto_server and SeaweedFS: remote garbage goes, kept revisions pull."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from dvxtest import git, make_dvx_repo, run_dvx, tree_bytes

from dvx.store import ObjectStore, ObjectType, walk

KB = 1000


def _remote(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, list[tuple[str, str]], Any]:
    """(url, remote options, a function opening the remote's ObjectStore)."""
    if kind == "folder":
        root = tmp_path / "remote"
        return str(root), [], lambda: ObjectStore(None, str(root))
    bk = request.getfixturevalue("s3_bucket")() if kind == "moto" else request.getfixturevalue("seaweedfs").bucket()
    return f"{bk.url}/store", [("endpoint_url", bk.endpoint)], lambda: ObjectStore(bk.fs(), f"{bk.name}/store")


def _version(repo: Path, seed: int, names: list[str]) -> None:
    rnd = random.Random(seed)
    for n in names:
        (repo / n).parent.mkdir(parents=True, exist_ok=True)
        (repo / n).write_bytes(rnd.randbytes(120 * KB))


def _closure(store: ObjectStore, repo: Path, rev: str) -> set[bytes]:
    text = git(repo, "show", f"{rev}:d.dvx").stdout
    oid = bytes.fromhex(next(ln.split(": ")[1] for ln in text.splitlines() if ln.startswith("id: ")))
    return {o for o, _t in walk(store, oid, ObjectType.TREE)}


def _listing(opener: Any) -> set[str]:
    s = opener()
    if s.local:
        return {str(p.relative_to(s.root)) for p in Path(s.root).rglob("*") if p.is_file()}
    s.fs.invalidate_cache()
    return set(s.fs.find(s.root))


@pytest.mark.parametrize("kind", ["folder", pytest.param("moto", marks=pytest.mark.s3),
                                  pytest.param("seaweedfs", marks=[pytest.mark.s3, pytest.mark.slow])])
def test_cloud_gc_removes_remote_garbage_and_kept_revisions_pull(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url, opts, opener = _remote(kind, tmp_path, request)
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / ".dvx" / "config.local").write_text('[gc]\ngrace = "0s"\n')
    run_dvx(repo, "remote", "add", "-d", "r", url)
    for k, v in opts:
        run_dvx(repo, "remote", "modify", "r", k, v)
    names = [f"d/f{i}" for i in range(8)]
    for seed, msg, part in ((1, "A", names), (2, "B", names[:6]), (3, "C", names[:2])):
        _version(repo, seed, part)
        run_dvx(repo, "add", "d")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", msg)
        run_dvx(repo, "push")
    cache = ObjectStore(None, str(repo / ".dvx" / "cache"))
    a, b, c = (_closure(cache, repo, r) for r in ("HEAD~2", "HEAD~1", "HEAD"))
    assert all(opener().has(o) for o in a | b | c)

    listed = _listing(opener)
    local = {p: p.stat().st_mtime_ns for p in (repo / ".dvx" / "cache").rglob("*")}
    dry = json.loads(run_dvx(repo, "gc", "-c", "--rev", "HEAD~1", "--dry-run", "--json").stdout)
    assert _listing(opener) == listed  # a dry run writes nothing on the remote, nor in the cache
    assert {p: p.stat().st_mtime_ns for p in (repo / ".dvx" / "cache").rglob("*")} == local
    out = json.loads(run_dvx(repo, "gc", "-c", "--rev", "HEAD~1", "-f", "--json").stdout)
    rem = out["stores"][1]
    assert rem["store"].startswith("remote 'r'")
    assert rem["objects_removed"] == len(a - b - c) == dry["stores"][1]["objects_removed"] > 0
    assert rem["done"]["bytes_freed"] == dry["stores"][1]["bytes_freed"] > 0
    st = opener()
    assert not any(st.has(o) for o in a - b - c) and all(st.has(o) for o in b | c)
    assert run_dvx(repo, "fsck", "--cloud", "--rev", "HEAD~1").returncode == 0

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    for k, v in opts:  # the clone's remote settings are committed; credentials come from the environment
        run_dvx(clone, "remote", "modify", "r", k, v)
    run_dvx(clone, "pull")
    assert tree_bytes(clone / "d") == tree_bytes(repo / "d")
    git(clone, "checkout", "-q", "HEAD~1")
    run_dvx(clone, "pull")
    _version(repo, 1, names)  # B, rebuilt: A with its first six files replaced
    _version(repo, 2, names[:6])
    assert tree_bytes(clone / "d") == tree_bytes(repo / "d")
