"""``dvx gc``: real git repositories, the real CLI, a folder remote; what is kept, what goes, crashes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest
from dvxtest import git, make_dvx_repo, run_dvx, tree_bytes
from hintkit import commands, follow

KB = 1000
NO_SCOPE = "dvx gc: say what to keep: -w (workspace), --all-branches, --all-tags, --all-commits or --rev REV"


def _files(seed: int, names: list[str], size: int = 150 * KB) -> dict[str, bytes]:
    rnd = random.Random(seed)
    return {n: rnd.randbytes(size) for n in names}


def _write(repo: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def _commit(repo: Path, msg: str, *paths: str) -> None:
    run_dvx(repo, "add", *paths)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", msg)


def _grace0(repo: Path, extra: str = "") -> None:
    (repo / ".dvx" / "config.local").write_text(f'[gc]\ngrace = "0s"\n{extra}')


def _repo(tmp_path: Path, replaced: int = 7) -> Path:
    """Commit A: d/f0..f9; commit B: the first ``replaced`` files of d/ replaced (the rest shared)."""
    repo = make_dvx_repo(tmp_path / "repo")
    _grace0(repo)
    names = [f"d/f{i}" for i in range(10)]
    _write(repo, _files(1, names))
    _commit(repo, "A", "d")
    _write(repo, _files(2, names[:replaced]))
    _commit(repo, "B", "d")
    return repo


def _pointer_id(repo: Path, rev: str, pointer: str = "d.dvx") -> bytes:
    text = git(repo, "show", f"{rev}:{pointer}").stdout
    return bytes.fromhex(next(ln.split(": ")[1] for ln in text.splitlines() if ln.startswith("id: ")))


def _store(repo: Path):
    from dvx.store import ObjectStore

    return ObjectStore(None, str(repo / ".dvx" / "cache"))


def _closure(repo: Path, oid: bytes, kind: str = "tree") -> set[bytes]:
    from dvx.store import ObjectType, walk

    t = ObjectType.TREE if kind == "tree" else ObjectType.FILE
    return {o for o, _t in walk(_store(repo), oid, t)}


def _cache_hash(repo: Path) -> str:
    h = hashlib.sha256()
    top = repo / ".dvx" / "cache"
    for p in sorted(top.rglob("*")):
        h.update(str(p.relative_to(top)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def _folder(top: Path) -> dict[str, bytes]:
    return {str(p.relative_to(top)): p.read_bytes() for p in top.rglob("*") if p.is_file()}


def _pack_bytes(repo: Path) -> int:
    return sum(p.stat().st_size for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if len(p.name) == 32)


def _gc(repo: Path, *args: str) -> dict:
    cp = run_dvx(repo, "gc", "--json", "-f", *args)
    return json.loads(cp.stdout)


def _checkout_identical(repo: Path, rel: str = "d") -> None:
    want = {k: v for k, v in tree_bytes(repo).items() if k.startswith(rel)}
    shutil.rmtree(repo / rel) if (repo / rel).is_dir() else (repo / rel).unlink()
    run_dvx(repo, "checkout", rel)
    assert {k: v for k, v in tree_bytes(repo).items() if k.startswith(rel)} == want


def test_refuses_without_a_scope(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    before = _cache_hash(repo)
    cp = run_dvx(repo, "gc", "-f", check=False)
    assert cp.returncode == 2 and cp.stderr.strip() == f"error: {NO_SCOPE}"
    assert _cache_hash(repo) == before


def test_workspace_gc_removes_what_only_a_needs(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    a, b = _closure(repo, _pointer_id(repo, "HEAD~1")), _closure(repo, _pointer_id(repo, "HEAD"))
    only_a, shared = a - b, a & b
    assert only_a and len(shared) > 3  # f7..f9 and their chunks
    status = git(repo, "status", "--porcelain").stdout
    size0 = _pack_bytes(repo)
    out = _gc(repo, "-w")
    (cache,) = out["stores"]
    assert cache["objects_removed"] == len(only_a) == cache["done"]["objects_removed"]
    assert cache["live_objects"] == len(b) and out["revisions"] == []
    assert size0 - _pack_bytes(repo) == cache["done"]["bytes_freed"] > 0
    st = _store(repo)
    assert not any(st.has(o) for o in only_a) and all(st.has(o) for o in b)
    assert cache["index_files_after"] == 1 and len(list((repo / ".dvx" / "cache" / "index").iterdir())) == 1
    assert git(repo, "status", "--porcelain").stdout == status
    _checkout_identical(repo)
    assert run_dvx(repo, "fsck").returncode == 0
    again = _gc(repo, "-w")["stores"][0]  # nothing left to do
    assert again["objects_removed"] == 0 and again["done"]["packs_deleted"] == 0


def test_all_commits_and_rev_keep_the_older_version(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    a = _closure(repo, _pointer_id(repo, "HEAD~1"))
    for scope in (["--all-commits"], ["--rev", "HEAD~1"], ["-a", "-T"]):
        if scope == ["-a", "-T"]:
            git(repo, "branch", "old", "HEAD~1")
        out = _gc(repo, *scope)
        assert out["stores"][0]["objects_removed"] == 0, scope
        assert all(_store(repo).has(o) for o in a)
    git(repo, "branch", "-D", "old")
    git(repo, "tag", "v1", "HEAD~1")
    assert _gc(repo, "-T")["stores"][0]["objects_removed"] == 0
    git(repo, "tag", "-d", "v1")
    assert _gc(repo, "-w")["stores"][0]["objects_removed"] > 0
    git(repo, "checkout", "-q", "HEAD~1", "--", "d.dvx")
    cp = run_dvx(repo, "checkout", "d", check=False)
    assert cp.returncode != 0  # A is gone from the cache (no remote to fetch it from)


def test_dry_run_writes_nothing_and_its_figures_are_what_gc_removes(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".dvx" / "cache" / "profiles" / "ab").mkdir(parents=True)
    (repo / ".dvx" / "cache" / "profiles" / "ab" / ("ab" * 16 + ".json")).write_text("{}")
    before = _cache_hash(repo)
    dry = json.loads(run_dvx(repo, "gc", "-w", "--dry-run", "--json").stdout)
    text = run_dvx(repo, "gc", "-w", "--dry-run").stdout
    assert _cache_hash(repo) == before
    (d,) = dry["stores"]
    assert "would remove" in text and f"would remove {d['objects_removed']} objects" in text
    real = _gc(repo, "-w")
    (r,) = real["stores"]
    for k in ("objects_removed", "bytes_freed", "packs_deleted", "packs_repacked", "packs_written"):
        assert d[k] == r[k], k
    assert r["done"]["objects_removed"] == d["objects_removed"]
    assert r["done"]["bytes_freed"] == d["bytes_freed"]
    assert r["done"]["packs_deleted"] == d["packs_deleted"] and r["done"]["packs_written"] == d["packs_written"]
    assert dry["side"] == {"removed": 1, "bytes": 2, "kept": 0} and real["side"]["removed"] == 1


def test_mostly_garbage_pack_is_repacked_and_still_reads(tmp_path: Path) -> None:
    repo = _repo(tmp_path, replaced=7)
    old_packs = {p.name for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if len(p.name) == 32}
    out = _gc(repo, "-w")["stores"][0]
    # A's chunk pack and A's manifest pack (its tree and 10 file manifests, 3 of them kept): each rewritten
    # into one new pack (chunks and manifests apart, as a writer keeps them).
    assert out["packs_repacked"] == 2 and out["done"]["packs_written"] == 2 and out["done"]["packs_repacked"] == 2
    new_packs = {p.name for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if len(p.name) == 32}
    assert len(old_packs - new_packs) == 2 and len(new_packs - old_packs) == 2
    from dvx.store.pack import records_from_pack

    kinds = [{r.otype for r in records_from_pack(p.read_bytes(), b"")}
             for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if p.name in new_packs - old_packs]
    assert sorted(map(sorted, kinds)) == [[0], [1]]
    _checkout_identical(repo)
    assert run_dvx(repo, "fsck").returncode == 0


def test_below_the_repack_threshold_the_pack_stays_and_its_garbage_is_reported(tmp_path: Path) -> None:
    repo = _repo(tmp_path, replaced=7)
    _grace0(repo, "repack = 0.9\n")
    a, b = _closure(repo, _pointer_id(repo, "HEAD~1")), _closure(repo, _pointer_id(repo, "HEAD"))
    size0 = _pack_bytes(repo)
    text = run_dvx(repo, "gc", "-w", "-f").stdout
    assert "kept 2 packs holding" in text and "below [gc] repack" in text  # A's chunk pack and manifest pack
    assert _pack_bytes(repo) == size0  # nothing rewritten
    st = _store(repo)
    assert not any(st.has(o) for o in a - b) and all(st.has(o) for o in b)
    _checkout_identical(repo)
    (repo / ".dvx" / "config.local").write_text('[gc]\nrepack = 2\n')
    cp = run_dvx(repo, "gc", "-w", "-f", check=False)
    assert cp.returncode == 2 and "[gc] repack must be a number from 0 to 1" in cp.stderr


def test_untracked_file_objects_go(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _write(repo, _files(3, ["x.bin"], 400 * KB))
    _commit(repo, "x", "x.bin")
    x = _closure(repo, _pointer_id(repo, "HEAD", "x.bin.dvx"), "file")
    git(repo, "rm", "-q", "x.bin.dvx")
    git(repo, "commit", "-qm", "untrack x")
    out = _gc(repo, "-w")["stores"][0]
    assert out["done"]["packs_deleted"] >= 2  # x's own pack, and A's repacked one
    assert not any(_store(repo).has(o) for o in x)


def test_grace_keeps_new_packs(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".dvx" / "config.local").unlink()  # the default grace: 1h
    before = _pack_bytes(repo)
    cp = run_dvx(repo, "gc", "-w", "-f")
    assert "kept 4 new packs" in cp.stdout and "younger than 1h" in cp.stdout  # a chunk and a manifest pack per add
    assert _pack_bytes(repo) == before
    (repo / ".dvx" / "config.local").write_text('[gc]\ngrace = "soon"\n')
    cp = run_dvx(repo, "gc", "-w", "-f", check=False)
    assert cp.returncode == 2 and "[gc] grace" in cp.stderr and "config.local:2" in cp.stderr


def test_side_folders_and_quarantine(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cache = repo / ".dvx" / "cache"
    live, dead = _pointer_id(repo, "HEAD").hex(), _pointer_id(repo, "HEAD~1").hex()
    files = {
        f"results/validation/{live[:2]}/{live}-s1.json": True,
        f"results/validation/{dead[:2]}/{dead}-s1.json": False,
        f"results/drift/{dead[:2]}/{dead}-{live}-t.json": False,
        f"results/drift/{live[:2]}/{live}-{live}-t.json": True,
        f"profiles/{dead[:2]}/{dead}.json": False,
        f"profiles/{live[:2]}/{live}.json": True,
        "quarantine/" + "0" * 32: True,
    }
    for rel in files:
        (cache / rel).parent.mkdir(parents=True, exist_ok=True)
        (cache / rel).write_text("{}")
    (cache / "tmp").mkdir(exist_ok=True)
    old = cache / "tmp" / "leftover"
    old.write_text("x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    (cache / "tmp" / "fresh").write_text("x")
    out = _gc(repo, "-w")
    assert out["side"]["removed"] == 4 and out["stores"][0]["quarantine_bytes"] == 2
    for rel, kept in files.items():
        assert (cache / rel).exists() == kept, rel
    assert not old.exists() and (cache / "tmp" / "fresh").exists()


def test_never_pulled_clone_keeps_its_own_objects_and_cloud_refuses_what_no_store_has(tmp_path: Path) -> None:
    """A manifest the cache never had names nothing in it: gc -w of a clone not pulled succeeds (it
    used to refuse). With --cloud a manifest neither the cache nor the remote holds still refuses."""
    repo = _repo(tmp_path)
    remote = tmp_path / "remote"
    run_dvx(repo, "remote", "add", "-d", "r", str(remote))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "remote")
    run_dvx(repo, "push")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _grace0(clone)
    _write(clone, _files(9, ["y.bin"]))
    run_dvx(clone, "add", "y.bin")  # in this cache alone: gc must keep it
    y = set(_store(clone).entries())
    assert y
    out = _gc(clone, "-w")
    assert out["manifests_not_cached"] == 1 and out["stores"][0]["objects_removed"] == 0  # d's tree
    assert set(_store(clone).entries()) == y
    assert "1 manifest the kept pointers name is not in the cache" in run_dvx(clone, "gc", "-w", "-f").stdout
    # Data committed elsewhere and never pushed: its pointer here, its objects in no store.
    _write(repo, _files(8, ["z.bin"], 20 * KB))
    run_dvx(repo, "add", "z.bin")
    shutil.copyfile(repo / "z.bin.dvx", clone / "z.bin.dvx")
    cache = clone / ".dvx" / "cache"
    before, remote_before = _folder(cache / "packs") | _folder(cache / "index"), _folder(remote)
    cp = run_dvx(clone, "gc", "-w", "-c", "-f", check=False)
    assert cp.returncode == 1 and "nothing deleted: file" in cp.stderr and "(z.bin) is not in the cache or the remote" \
        in cp.stderr and "hint" not in cp.stderr, cp.stderr
    assert _folder(cache / "packs") | _folder(cache / "index") == before and _folder(remote) == remote_before
    assert _gc(clone, "-w")["manifests_not_cached"] == 2  # without --cloud: z.bin's manifest names nothing here
    (clone / "z.bin.dvx").unlink()
    follow(clone, "dvx fetch")  # what the printed line names: d's objects come
    assert _gc(clone, "-w")["manifests_not_cached"] == 0
    run_dvx(clone, "checkout", "d")
    assert tree_bytes(clone / "d") == tree_bytes(repo / "d") and (clone / "y.bin").exists()
    assert set(_store(clone).entries()) >= y | _closure(clone, _pointer_id(clone, "HEAD"))


def test_cloud_folder_remote(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    remote = tmp_path / "remote"
    run_dvx(repo, "remote", "add", "-d", "r", str(remote))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "remote")
    git(repo, "checkout", "-q", "HEAD~2", "--", "d.dvx")
    run_dvx(repo, "checkout", "d")
    run_dvx(repo, "push")  # A
    git(repo, "checkout", "-q", "HEAD", "--", "d.dvx")
    run_dvx(repo, "checkout", "d")
    run_dvx(repo, "push")  # B
    a, b = _closure(repo, _pointer_id(repo, "HEAD~2")), _closure(repo, _pointer_id(repo, "HEAD"))
    from dvx.store import ObjectStore

    assert all(ObjectStore(None, str(remote)).has(o) for o in a | b)
    out = _gc(repo, "-w", "-c")
    cache, rem = out["stores"]
    assert rem["store"].startswith("remote 'r'") and rem["objects_removed"] == len(a - b) and rem["done"]["bytes_freed"] > 0
    rs = ObjectStore(None, str(remote))
    assert not any(rs.has(o) for o in a - b) and all(rs.has(o) for o in b)
    copies = {p.name for p in (repo / ".dvx" / "cache" / "remote-index").rglob("*") if p.is_file()}
    assert copies == {p.name for p in (remote / "index").iterdir()}
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    run_dvx(clone, "pull")
    assert {k: v for k, v in tree_bytes(clone).items() if k.startswith("d/")} == {
        k: v for k, v in tree_bytes(repo).items() if k.startswith("d/")}


class _Crash(BaseException):
    pass


@pytest.mark.parametrize("point", range(8))
def test_crash_at_each_step_then_rerun_completes(tmp_path: Path, point: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash before the k-th write or delete of the sweep; a rerun finishes and nothing live is lost."""
    import dvx.store.repack as rp
    from dvx.gc import gc

    repo = _repo(tmp_path)
    _write(repo, _files(3, ["x.bin"], 400 * KB))
    _commit(repo, "x", "x.bin")
    git(repo, "rm", "-q", "x.bin.dvx")
    git(repo, "commit", "-qm", "untrack x")
    b = _closure(repo, _pointer_id(repo, "HEAD"))
    want = tree_bytes(repo / "d")
    steps = [0]

    def wrap(fn):
        def inner(*a, **k):
            if steps[0] == point:
                raise _Crash
            steps[0] += 1
            return fn(*a, **k)
        return inner

    monkeypatch.setattr(rp, "_finish", wrap(rp._finish))
    monkeypatch.setattr(rp, "_write_index", wrap(rp._write_index))
    real_unlink = os.unlink

    def unlink(p, *a, **k):
        if "/.dvx/cache/" in str(p) and "/tmp/" not in str(p) and "/packs/" in str(p) | ("/index/" in str(p)):
            if steps[0] == point:
                raise _Crash
            steps[0] += 1
        return real_unlink(p, *a, **k)

    monkeypatch.setattr(rp.os, "unlink", unlink)
    try:
        gc(workspace=True, cwd=str(repo))
        crashed = False
    except _Crash:
        crashed = True
    monkeypatch.undo()
    assert crashed or point >= steps[0]
    st = _store(repo)
    assert all(st.has(o) for o in b)  # nothing live lost at the crash
    out = _gc(repo, "-w")["stores"][0]
    assert out["objects_removed"] == 0 or crashed
    assert run_dvx(repo, "fsck").returncode == 0  # no orphan pack, every object intact
    again = _gc(repo, "-w")["stores"][0]
    assert again["done"]["packs_deleted"] == 0 and again["index_files_after"] == 1
    shutil.rmtree(repo / "d")
    run_dvx(repo, "checkout", "d")
    assert tree_bytes(repo / "d") == want


def _pack_of(repo: Path, oid: bytes) -> Path:
    rec = _store(repo).record(oid)
    assert rec is not None
    h = rec.pack.hex()
    return repo / ".dvx" / "cache" / "packs" / h[:2] / h


def test_damaged_live_object_is_kept_with_its_pack(tmp_path: Path) -> None:
    repo = _repo(tmp_path, replaced=7)
    from dvx.store import FileManifest

    b = _pointer_id(repo, "HEAD")
    st = _store(repo)
    f9 = next(e.file_oid for e in st.get_tree_manifest(b).entries if e.path.endswith(b"f9"))
    chunk = FileManifest.decode(st.get(f9)).chunks[0].oid
    rec = st.record(chunk)
    pack = _pack_of(repo, chunk)
    data = bytearray(pack.read_bytes())
    data[rec.offset + 10] ^= 0xFF
    pack.write_bytes(bytes(data))
    text = run_dvx(repo, "gc", "-w", "-f").stdout
    assert "1 pack kept whole: a live object in them fails verification" in text
    assert pack.exists() and _store(repo).has(chunk)
    assert all(_store(repo).has(o) for o in _closure(repo, b))


def test_orphan_packs_go_unless_an_index_file_is_damaged(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cache = repo / ".dvx" / "cache"
    some = next(p for p in (cache / "packs").rglob("*") if len(p.name) == 32)
    orphan = cache / "packs" / "ab" / ("ab" + "0" * 30)
    orphan.parent.mkdir(exist_ok=True)
    shutil.copyfile(some, orphan)
    bad = cache / "index" / ("cd" * 16)
    bad.write_bytes(b"not an index")
    text = run_dvx(repo, "gc", "-w", "-f").stdout
    assert "kept 1 pack no index names: an index file is damaged" in text and orphan.exists() and bad.exists()
    bad.unlink()
    out = _gc(repo, "-w")["stores"][0]
    assert out["orphan_packs_deleted"] == 1 and not orphan.exists()
    assert run_dvx(repo, "fsck").returncode == 0


def test_unreadable_pointer_at_a_kept_revision_refuses(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "e.dvx").write_text("format: 1\ntype: file\n")
    git(repo, "add", "e.dvx")
    git(repo, "commit", "-qm", "bad pointer", "--no-verify")
    git(repo, "rm", "-q", "e.dvx")
    git(repo, "commit", "-qm", "gone")
    before = _cache_hash(repo)
    cp = run_dvx(repo, "gc", "--all-commits", "-f", check=False)
    assert cp.returncode == 1 and "nothing deleted: pointer" in cp.stderr and ":e.dvx cannot be read" in cp.stderr
    assert _cache_hash(repo) == before
    assert run_dvx(repo, "gc", "-w", "-f").returncode == 0  # the workspace no longer has it


def test_many_index_files_are_compacted_into_one(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    _grace0(repo)
    files = _files(4, [f"s{i}.bin" for i in range(6)], 20 * KB)
    for name, data in files.items():  # one add each: one index file each
        _write(repo, {name: data})
        run_dvx(repo, "add", name)
    index = repo / ".dvx" / "cache" / "index"
    assert len(list(index.iterdir())) == 6
    dry = json.loads(run_dvx(repo, "gc", "-w", "--dry-run", "--json").stdout)["stores"][0]
    assert (dry["index_files_before"], dry["index_files_after"], dry["objects_removed"]) == (6, 1, 0)
    out = _gc(repo, "-w")["stores"][0]
    assert out["done"]["indexes_written"] == 1 and out["done"]["indexes_deleted"] == 6
    assert len(list(index.iterdir())) == 1
    for name in files:
        (repo / name).unlink()
    run_dvx(repo, "checkout")
    assert {n: (repo / n).read_bytes() for n in files} == files


def test_damaged_manifest_refuses_and_fsck_repair_fixes_it(tmp_path: Path) -> None:
    """A manifest the cache holds damaged may be the only record of chunks never pushed: gc -w deletes
    nothing and names `dvx fsck --repair`, which fetches it again; gc then runs."""
    repo = _repo(tmp_path)
    run_dvx(repo, "remote", "add", "-d", "r", str(tmp_path / "remote"))
    run_dvx(repo, "push", "-A")
    tree = _pointer_id(repo, "HEAD")
    meta = [p for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if len(p.name) == 32 and p.stat().st_size < 20 * KB]
    assert meta  # manifests go in their own packs (docs/format.md)
    for p in meta:
        raw = bytearray(p.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        p.write_bytes(bytes(raw))
    before = _cache_hash(repo)
    data_packs = {p: p.read_bytes() for p in (repo / ".dvx" / "cache" / "packs").rglob("*")
                  if len(p.name) == 32 and p not in meta}
    cp = run_dvx(repo, "gc", "-w", "-f", check=False)
    assert cp.returncode == 1 and "nothing deleted" in cp.stderr, cp.stderr
    assert commands(cp) == ["dvx fsck --repair"], cp.stderr
    assert all(p.read_bytes() == b for p, b in data_packs.items())  # A's garbage chunks too: nothing deleted
    follow(repo, "dvx fsck --repair")
    out = _gc(repo, "-w")
    assert out["manifests_not_cached"] == 0 and out["stores"][0]["objects_removed"] > 0  # A's replaced files go
    assert _store(repo).has(tree) and _cache_hash(repo) != before
    shutil.rmtree(repo / "d")
    run_dvx(repo, "checkout")
    assert run_dvx(repo, "fsck", check=False).returncode == 0
