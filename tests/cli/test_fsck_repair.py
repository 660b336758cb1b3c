"""``dvx fsck --repair``: one test per repair path, real repositories, damage made by hand."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from dvxtest import git, make_dvx_repo, run_dvx, tree_bytes

MiB = 1 << 20


def _repo(tmp_path: Path, remote: bool = False) -> Path:
    """A committed repository with one file and one folder (random bytes: stored raw); pushed when ``remote``."""
    repo = make_dvx_repo(tmp_path / "repo")
    rnd = random.Random(5)
    (repo / "big.bin").write_bytes(rnd.randbytes(MiB))
    (repo / "d").mkdir()
    (repo / "d" / "a.txt").write_bytes(rnd.randbytes(3000))
    run_dvx(repo, "add", "big.bin", "d")
    if remote:
        run_dvx(repo, "remote", "add", "-d", "r", str(tmp_path / "remote"))
        run_dvx(repo, "push")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data", "--no-verify")
    return repo


def _cache(repo: Path) -> Path:
    return repo / ".dvx" / "cache"


def _packs(repo: Path) -> list[Path]:
    return sorted(p for p in (_cache(repo) / "packs").rglob("*") if p.is_file() and len(p.name) == 32)


def _big_pack(repo: Path) -> Path:
    return max(_packs(repo), key=lambda p: p.stat().st_size)


def _index_of(repo: Path, pack: str) -> Path:
    from dvx.store.index import decode_index

    for f in sorted((_cache(repo) / "index").iterdir()):
        if len(f.name) == 32 and any(r.pack.hex() == pack for r in decode_index(f.read_bytes()).values()):
            return f
    raise AssertionError(f"no index names {pack}")


def _flip(path: Path, at: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


def _quarantined(repo: Path) -> list[str]:
    q = _cache(repo) / "quarantine"
    return sorted(p.name for p in q.iterdir()) if q.is_dir() else []


def _repair(repo: Path, *args: str) -> tuple[int, dict]:
    cp = run_dvx(repo, "fsck", "--repair", "--json", *args, check=False)
    assert cp.returncode in (0, 1) and cp.stdout, cp.stderr
    assert "Traceback" not in cp.stderr, cp.stderr
    return cp.returncode, json.loads(cp.stdout)


def _clean(repo: Path, *args: str) -> None:
    cp = run_dvx(repo, "fsck", "--json", *args, check=False)
    assert cp.returncode == 0, cp.stdout
    assert json.loads(cp.stdout)["clean"] is True


def _checks_out(repo: Path, want: dict) -> None:
    (repo / "big.bin").unlink()
    shutil.rmtree(repo / "d")
    run_dvx(repo, "checkout")
    assert tree_bytes(repo) == want


def test_clean_repo_repairs_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cache = {p: p.stat().st_mtime_ns for p in _cache(repo).rglob("*") if p.is_file()}
    code, out = _repair(repo)
    assert code == 0 and out["found"] == [] and out["repaired"] == [] and out["left"] == []
    assert {p: p.stat().st_mtime_ns for p in _cache(repo).rglob("*") if p.is_file()} == cache


def test_remote_refetch(tmp_path: Path) -> None:
    """One flipped byte in the cache: the pack is salvaged and quarantined, the object fetched again."""
    repo = _repo(tmp_path, remote=True)
    want = tree_bytes(repo)
    pack = _big_pack(repo)
    _flip(pack, 1000)
    code, out = _repair(repo)
    assert code == 0, out["left"]
    (found,) = out["found"]
    assert found["kind"] == "object" and found["pack"] == pack.name and found["affects"] == ["big.bin"]
    hows = {(r["kind"], r["id"]): r["how"] for r in out["repaired"]}
    assert "quarantine" in hows[("pack", pack.name)]
    assert "fetched again from remote 'r'" in hows[("object", found["id"])]
    assert _quarantined(repo) == [pack.name]
    _clean(repo)
    _checks_out(repo, want)


def test_workspace_rebuild_and_the_fix_it_names(tmp_path: Path) -> None:
    """No remote: the damaged chunk comes back from the workspace file whose content yields its manifest;
    with the file gone it is left, the line names what would fix it, and doing that fixes it."""
    repo = _repo(tmp_path)
    want = tree_bytes(repo)
    data = (repo / "big.bin").read_bytes()
    _flip(_big_pack(repo), 1000)
    (repo / "big.bin").write_bytes(data[:-1] + b"x")  # not the committed content: must not be trusted
    cp = run_dvx(repo, "fsck", "--repair", check=False)
    assert cp.returncode == 1, cp.stdout + cp.stderr
    (left,) = [ln for ln in cp.stdout.splitlines() if ln.startswith("chunk ")]
    assert "affects big.bin" in left and "no remote" in left and "`dvx fsck --repair`" in left, left
    assert "1 problems left" in cp.stderr and "error: fsck --repair left 1 problem unrepaired" in cp.stderr
    (repo / "big.bin").write_bytes(data)  # the fix the line names: put the data back, run it again
    code, out = _repair(repo)
    assert code == 0, out["left"]
    assert any(r["kind"] == "file" and "rebuilt from workspace file big.bin" in r["how"] for r in out["repaired"])
    _clean(repo)
    _checks_out(repo, want)


def test_workspace_rebuild_of_a_lost_tree_and_its_files(tmp_path: Path) -> None:
    """Every object of the folder gone from the cache (its pack removed, no remote): rebuilt from the folder."""
    from dvx.store.index import decode_index

    repo = _repo(tmp_path)
    want = tree_bytes(repo)
    tree_id = next(ln.split(": ")[1] for ln in (repo / "d.dvx").read_text().splitlines() if ln.startswith("id: "))
    holding = [p for p in _packs(repo) if bytes.fromhex(tree_id) in decode_index(_index_of(repo, p.name).read_bytes())]
    assert holding
    for p in holding:
        p.unlink()
    code, out = _repair(repo)
    assert code == 0, out["left"]
    assert any(r["kind"] == "tree" and r["id"] == tree_id for r in out["repaired"])
    _clean(repo)
    _checks_out(repo, want)


def test_orphan_pack_is_indexed(tmp_path: Path) -> None:
    """A pack no index names (its index file lost): indexed again once its blobs verify."""
    repo = _repo(tmp_path)
    want = tree_bytes(repo)
    pack = _big_pack(repo)
    _index_of(repo, pack.name).unlink()
    (repo / "big.bin").write_bytes(b"changed")  # nothing in the workspace to rebuild from
    code, out = _repair(repo)
    assert code == 0, out["left"]
    assert any(r["id"] == pack.name and r["how"].startswith("indexed") for r in out["repaired"])
    assert _quarantined(repo) == []
    _clean(repo)
    _checks_out(repo, want)


def test_damaged_orphan_pack_is_salvaged_and_quarantined(tmp_path: Path) -> None:
    """An orphan pack with a damaged blob: its intact blobs salvaged, the pack quarantined, the lost chunk
    fetched from the remote."""
    repo = _repo(tmp_path, remote=True)
    want = tree_bytes(repo)
    pack = _big_pack(repo)
    _index_of(repo, pack.name).unlink()
    _flip(pack, 1000)
    code, out = _repair(repo)
    assert code == 0, out["left"]
    how = next(r["how"] for r in out["repaired"] if r["id"] == pack.name)
    assert "salvaged" in how and "quarantine" in how
    assert _quarantined(repo) == [pack.name]
    _clean(repo)
    _checks_out(repo, want)


def test_renamed_index_is_rewritten_under_its_name(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    want = tree_bytes(repo)
    right = _index_of(repo, _big_pack(repo).name)
    wrong = right.parent / ("0" * 32)
    right.rename(wrong)
    code, out = _repair(repo)
    assert code == 0, out["left"]
    assert any(r["kind"] == "index" and r["id"] == wrong.name and "indexed again" in r["how"] for r in out["repaired"])
    assert right.is_file() and not wrong.exists()
    assert _quarantined(repo) == ["index-" + wrong.name]
    _clean(repo)
    _checks_out(repo, want)


def test_wrong_index_entry_is_dropped_and_indexed_from_the_pack(tmp_path: Path) -> None:
    from dvx.hashing import hash_bytes
    from dvx.store.index import decode_index, encode_index

    repo = _repo(tmp_path)
    want = tree_bytes(repo)
    old = _index_of(repo, _big_pack(repo).name)
    recs = decode_index(old.read_bytes())
    moved = max(recs.values(), key=lambda r: r.raw)
    data = encode_index(r._replace(offset=r.offset + 10 * MiB) if r.oid == moved.oid else r for r in recs.values())
    (old.parent / hash_bytes(data).hex()).write_bytes(data)
    old.unlink()
    (repo / "big.bin").write_bytes(b"changed")
    code, out = _repair(repo)
    assert code == 0, out["left"]
    assert any(r["id"] == moved.oid.hex() and "own header" in r["how"] for r in out["repaired"])
    _clean(repo)
    _checks_out(repo, want)


def test_salvaged_plus_quarantined_pack_keeps_the_only_copies(tmp_path: Path) -> None:
    """A pack holding two files' chunks, one file's damaged, never pushed: the other file's chunks (their
    only copies) are salvaged; the damaged one is left until its data comes back."""
    repo = make_dvx_repo(tmp_path / "repo")
    rnd = random.Random(3)
    a, b = rnd.randbytes(2 * MiB), rnd.randbytes(2 * MiB)
    (repo / "data").mkdir()
    (repo / "data" / "a.bin").write_bytes(a)
    (repo / "data" / "b.bin").write_bytes(b)
    run_dvx(repo, "add", "data")
    # The chunk pack (manifests are in a small pack of their own).
    pack = max(_packs(repo), key=lambda q: q.stat().st_size)
    _flip(pack, 100)  # the first blob: a chunk of a.bin or b.bin
    (repo / "data" / "a.bin").write_bytes(b"edited")
    (repo / "data" / "b.bin").write_bytes(b"edited")
    code, out = _repair(repo)
    assert code == 1
    assert _quarantined(repo) == [pack.name]
    (left,) = out["left"]
    assert left["kind"] == "missing" and left["affects"] == ["data"] and "dvx fsck --repair" in left["fix"]
    (repo / "data" / "a.bin").write_bytes(a)
    (repo / "data" / "b.bin").write_bytes(b)
    code, out = _repair(repo)
    assert code == 0, out["left"]
    _clean(repo)
    shutil.rmtree(repo / "data")
    run_dvx(repo, "checkout")
    assert tree_bytes(repo / "data") == {"a.bin": (a, False), "b.bin": (b, False)}


def test_rev_repairs_what_an_old_commit_reaches(tmp_path: Path) -> None:
    """--rev: a chunk only the first commit reaches, lost, is fetched again from the remote."""
    from dvx.hashing import hash_bytes
    from dvx.store.index import decode_index, encode_index
    from dvx.store.objects import ObjectType

    repo = _repo(tmp_path, remote=True)
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    old = _index_of(repo, _big_pack(repo).name)
    (repo / "big.bin").write_bytes(random.Random(6).randbytes(MiB))
    run_dvx(repo, "add", "big.bin")
    git(repo, "commit", "-qam", "new data", "--no-verify")
    recs = decode_index(old.read_bytes())
    gone = max((r for r in recs.values() if r.otype == ObjectType.CHUNK), key=lambda r: r.raw)
    data = encode_index(r for r in recs.values() if r.oid != gone.oid)
    (old.parent / hash_bytes(data).hex()).write_bytes(data)
    old.unlink()
    code, out = _repair(repo)  # the workspace's pointers reach nothing lost
    assert code == 0 and out["repaired"] == []
    code, out = _repair(repo, "--rev", first)
    assert code == 0, out["left"]
    assert [r["id"] for r in out["repaired"]] == [gone.oid.hex()]
    _clean(repo, "--all-commits")


def test_cloud_damaged_remote_is_reported_not_changed(tmp_path: Path) -> None:
    repo = _repo(tmp_path, remote=True)
    remote = tmp_path / "remote"
    rpack = max((p for p in (remote / "packs").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    _flip(rpack, rpack.stat().st_size // 2)
    before = {p: p.read_bytes() for p in remote.rglob("*") if p.is_file()}
    cp = run_dvx(repo, "fsck", "--repair", "--cloud", check=False)
    assert cp.returncode == 1
    (line,) = cp.stdout.splitlines()
    assert rpack.name in line and "affects big.bin" in line and "never changes a remote" in line, line
    assert {p: p.read_bytes() for p in remote.rglob("*") if p.is_file()} == before


def test_clone_repaired_after_the_other_clone_pushes(tmp_path: Path) -> None:
    """The other half of the fix a left line names: push from a clone that has the data, repair again."""
    origin = _repo(tmp_path)
    run_dvx(origin, "remote", "add", "-d", "r", str(tmp_path / "remote"))
    git(origin, "commit", "-qam", "remote", "--no-verify")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    code, out = _repair(clone)
    assert code == 1 and {p["kind"] for p in out["left"]} == {"missing"}
    assert all("no remote to fetch it from" in p["fix"] and "push it" in p["fix"] for p in out["left"]), out["left"]
    run_dvx(origin, "push")
    code, out = _repair(clone)
    assert code == 0, out["left"]
    _clean(clone)
    run_dvx(clone, "checkout")
    assert tree_bytes(clone) == tree_bytes(origin)


def test_damaged_remote_copy_is_not_fetched_and_the_fix_names_no_push(tmp_path: Path) -> None:
    from dvx.store.index import decode_index

    repo = _repo(tmp_path, remote=True)
    want = tree_bytes(repo)
    _flip(_big_pack(repo), 1000)
    cp = run_dvx(repo, "fsck", "--json", check=False)
    (found,) = json.loads(cp.stdout)["problems"]
    remote = tmp_path / "remote"
    for f in (remote / "index").iterdir():  # the same object's remote copy, damaged too
        rec = decode_index(f.read_bytes()).get(bytes.fromhex(found["id"]))
        if rec is not None:
            _flip(remote / "packs" / rec.pack.hex()[:2] / rec.pack.hex(), rec.offset + 10)
    (repo / "big.bin").write_bytes(b"changed")
    before = {p: p.read_bytes() for p in remote.rglob("*") if p.is_file()}
    code, out = _repair(repo)
    assert {p: p.read_bytes() for p in remote.rglob("*") if p.is_file()} == before  # no "damaged" note there
    assert code == 1
    (left,) = out["left"]
    assert "copy is damaged too" in left["fix"] and "push" not in left["fix"] and left["affects"] == ["big.bin"]
    (repo / "big.bin").write_bytes(want["big.bin"][0])
    code, out = _repair(repo)
    assert code == 0, out["left"]
    _clean(repo)


def test_unknown_remote_is_refused_before_any_work(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _flip(_big_pack(repo), 1000)
    cp = run_dvx(repo, "fsck", "--repair", "-r", "nosuch", check=False)
    assert cp.returncode == 2 and "'nosuch' is not configured" in cp.stderr, cp.stderr
    assert _quarantined(repo) == []


def test_index_of_a_newer_format_is_not_quarantined(tmp_path: Path) -> None:
    """An index file that hashes to its name but has a newer version was written by a newer dvx: refused, kept."""
    import struct

    from dvx.hashing import hash_bytes

    repo = _repo(tmp_path)
    old = _index_of(repo, _big_pack(repo).name)
    data = bytearray(old.read_bytes())
    struct.pack_into("<I", data, 8, 2)
    newer = old.parent / hash_bytes(bytes(data)).hex()
    newer.write_bytes(bytes(data))
    cp = run_dvx(repo, "fsck", "--repair", check=False)
    assert cp.returncode == 2 and "upgrade dvx" in cp.stderr, cp.stdout + cp.stderr
    assert newer.is_file() and _quarantined(repo) == []
