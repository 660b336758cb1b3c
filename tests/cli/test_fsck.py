"""``dvx fsck``: real git repositories, a folder remote and moto, damage made by hand."""

from __future__ import annotations

import json
import random
from pathlib import Path

from dvxtest import git, make_dvx_repo, run_dvx

MiB = 1 << 20


def _repo(tmp_path: Path) -> Path:
    """A committed repository with one file and one directory (random bytes: stored raw)."""
    repo = make_dvx_repo(tmp_path / "repo")
    rnd = random.Random(5)
    (repo / "big.bin").write_bytes(rnd.randbytes(MiB))
    (repo / "d").mkdir()
    (repo / "d" / "a.txt").write_bytes(rnd.randbytes(3000))
    run_dvx(repo, "add", "big.bin", "d")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data")
    return repo


def _packs(repo: Path) -> list[Path]:
    return sorted(p for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if p.is_file() and len(p.name) == 32)


def _big_pack(repo: Path) -> Path:
    return max(_packs(repo), key=lambda p: p.stat().st_size)


def _index_of(repo: Path, pack: str) -> Path:
    """The index file naming ``pack`` (hex)."""
    from dvx.store.index import decode_index

    for f in sorted((repo / ".dvx" / "cache" / "index").iterdir()):
        if len(f.name) == 32 and any(r.pack.hex() == pack for r in decode_index(f.read_bytes()).values()):
            return f
    raise AssertionError(f"no index names {pack}")


def _fsck(repo: Path, *args: str) -> tuple[int, dict]:
    cp = run_dvx(repo, "fsck", "--json", *args, check=False)
    assert cp.returncode in (0, 1) and cp.stdout, cp.stderr
    return cp.returncode, json.loads(cp.stdout)


def test_clean_repo_exits_0_and_writes_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    before = git(repo, "status", "--porcelain").stdout
    cache = {p: p.stat().st_mtime_ns for p in (repo / ".dvx" / "cache").rglob("*")}
    cp = run_dvx(repo, "fsck")
    assert "checked" in cp.stdout and "0 problems" not in cp.stderr
    assert git(repo, "status", "--porcelain").stdout == before
    assert {p: p.stat().st_mtime_ns for p in (repo / ".dvx" / "cache").rglob("*")} == cache
    assert run_dvx(repo, "fsck", "--all-commits").returncode == 0


def test_flipped_byte_names_object_pack_and_path(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pack = _big_pack(repo)
    raw = bytearray(pack.read_bytes())
    raw[1000] ^= 0xFF
    pack.write_bytes(bytes(raw))
    before = git(repo, "status", "--porcelain").stdout
    cp = run_dvx(repo, "fsck", check=False)
    assert cp.returncode == 1, cp.stdout + cp.stderr
    bad = [ln for ln in cp.stdout.splitlines() if "corrupt" in ln]
    assert len(bad) == 1, cp.stdout
    assert pack.name in bad[0] and "affects big.bin" in bad[0]
    assert "d" not in bad[0].split("affects ", 1)[1].split(", ")
    assert git(repo, "status", "--porcelain").stdout == before
    code, out = _fsck(repo)
    assert code == 1 and not out["clean"]
    (p,) = [p for p in out["problems"] if p["kind"] == "object"]
    assert p["pack"] == pack.name and p["affects"] == ["big.bin"] and len(p["id"]) == 32
    # The same problem at a revision names the path there.
    code, out = _fsck(repo, "--rev", "HEAD")
    assert code == 1 and [q["affects"] for q in out["problems"]] == [["big.bin@HEAD"]]


def test_truncated_pack(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pack = _big_pack(repo)
    raw = pack.read_bytes()
    pack.write_bytes(raw[: len(raw) // 2])
    code, out = _fsck(repo)
    assert code == 1
    (p,) = out["problems"]
    assert p["kind"] == "pack" and p["id"] == pack.name and "truncated" in p["message"]
    assert p["affects"] == ["big.bin"]


def test_missing_pack(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pack = _big_pack(repo)
    pack.unlink()
    code, out = _fsck(repo)
    assert code == 1
    (p,) = out["problems"]
    assert p["kind"] == "pack" and "missing" in p["message"] and p["affects"] == ["big.bin"]


def test_renamed_index_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    index = repo / ".dvx" / "cache" / "index"
    first = _index_of(repo, _big_pack(repo).name)
    wrong = index / ("0" * 32)
    first.rename(wrong)
    cp = run_dvx(repo, "fsck", check=False)
    assert cp.returncode == 1
    assert any(wrong.name in ln and "does not match its name" in ln for ln in cp.stdout.splitlines()), cp.stdout
    # Its packs are now named by no index, and the pointers' objects are missing.
    code, out = _fsck(repo)
    kinds = {p["kind"] for p in out["problems"]}
    assert {"index", "pack", "missing"} <= kinds
    assert any(p["kind"] == "missing" and "big.bin" in p["affects"] for p in out["problems"])


def test_missing_chunk_at_rev(tmp_path: Path) -> None:
    """A chunk only an old revision reaches, dropped from the cache index: clean in the workspace, found at --rev."""
    from dvx.hashing import hash_bytes
    from dvx.store.index import decode_index, encode_index
    from dvx.store.objects import ObjectType

    repo = _repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    index = repo / ".dvx" / "cache" / "index"
    old = _index_of(repo, _big_pack(repo).name)
    (repo / "big.bin").write_bytes(random.Random(6).randbytes(MiB))
    run_dvx(repo, "add", "big.bin")
    git(repo, "commit", "-qam", "new data")
    recs = decode_index(old.read_bytes())
    # The largest chunk of the first add: a chunk of the old big.bin (d/a.txt is 3000 bytes).
    gone = max((r for r in recs.values() if r.otype == ObjectType.CHUNK), key=lambda r: r.raw)
    data = encode_index(r for r in recs.values() if r.oid != gone.oid)
    (index / hash_bytes(data).hex()).write_bytes(data)
    old.unlink()
    assert _fsck(repo)[0] == 0
    code, out = _fsck(repo, "--rev", first[:10])
    assert code == 1
    (p,) = out["problems"]
    assert p["kind"] == "missing" and p["id"] == gone.oid.hex() and p["affects"] == [f"big.bin@{first[:10]}"]
    assert out["revisions"] == [first]
    code, out = _fsck(repo, "--all-commits")
    assert code == 1 and [p["affects"] for p in out["problems"]] == [[f"big.bin@{first[:12]}"]]


def test_json_shape(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code, out = _fsck(repo, "big.bin")
    assert code == 0
    assert set(out) == {"clean", "revisions", "pointers", "roots", "stores", "problems"}
    assert out["clean"] is True and out["problems"] == [] and out["pointers"] == 1
    (s,) = out["stores"]
    assert set(s) == {"where", "indexes", "packs", "objects", "bytes"} and s["objects"] > 3 and s["bytes"] >= MiB


def test_cloud_folder_remote(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    remote = tmp_path / "remote"
    run_dvx(repo, "remote", "add", "-d", "r", str(remote))
    cp = run_dvx(repo, "fsck", "--cloud", check=False)
    assert cp.returncode == 1 and "remote 'r'" in cp.stderr and "nothing at" in cp.stderr  # never pushed: no folder
    run_dvx(repo, "push")
    assert _fsck(repo, "--cloud")[0] == 0
    rpack = max((p for p in (remote / "packs").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    raw = bytearray(rpack.read_bytes())
    raw[len(raw) // 2] ^= 1
    rpack.write_bytes(bytes(raw))
    assert _fsck(repo)[0] == 0  # the cache alone is intact
    code, out = _fsck(repo, "--cloud")
    assert code == 1
    (p,) = out["problems"]
    assert p["store"].startswith("remote") and p["pack"] == rpack.name and p["affects"] == ["big.bin"]


def test_cloud_moto(tmp_path: Path, s3_bucket) -> None:
    bucket = s3_bucket()
    repo = _repo(tmp_path)
    run_dvx(repo, "remote", "add", "-d", "s3", bucket.url)
    run_dvx(repo, "remote", "modify", "s3", "endpoint_url", bucket.endpoint)
    run_dvx(repo, "push")
    code, out = _fsck(repo, "--cloud")
    assert code == 0 and len(out["stores"]) == 2 and out["stores"][1]["objects"] == out["stores"][0]["objects"]
    fs = bucket.fs()
    packs = [p for p in fs.find(f"{bucket.name}/packs") if len(p.rsplit("/", 1)[-1]) == 32]
    big = max(packs, key=fs.size)
    data = fs.cat_file(big)
    fs.pipe_file(big, data[: len(data) // 2])
    code, out = _fsck(repo, "--cloud")
    assert code == 1
    (p,) = out["problems"]
    assert p["kind"] == "pack" and p["id"] == big.rsplit("/", 1)[-1] and "truncated" in p["message"]
    assert set(p["affects"]) == {"big.bin", "d"}  # the whole pack is unreadable


def test_pull_repairs_what_fsck_found(tmp_path: Path) -> None:
    """fsck notes the damaged cached pack; the next `dvx pull` heals it from the remote and fsck is clean."""
    repo = _repo(tmp_path)
    run_dvx(repo, "remote", "add", "-d", "r", str(tmp_path / "remote"))
    run_dvx(repo, "push")
    pack = _big_pack(repo)
    raw = bytearray(pack.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    pack.write_bytes(bytes(raw))
    assert _fsck(repo)[0] == 1
    run_dvx(repo, "pull")
    code, out = _fsck(repo)
    assert code == 0, out["problems"]
    assert (repo / ".dvx" / "cache" / "quarantine" / pack.name).exists()


def test_manifest_that_does_not_decode(tmp_path: Path) -> None:
    """An intact object (its bytes hash to its id) named as a file manifest but not one: reported."""
    from dvx.hashing import hash_bytes
    from dvx.store import ObjectStore, ObjectType

    repo = _repo(tmp_path)
    junk = b"not a manifest" * 10
    oid = hash_bytes(junk)
    with ObjectStore(None, str(repo / ".dvx" / "cache")).writer() as w:
        w.put(oid, ObjectType.FILE, junk)
        w.flush()
    pointer = repo / "big.bin.dvx"
    text = pointer.read_text()
    old = next(ln for ln in text.splitlines() if ln.startswith("id: "))
    pointer.write_text(text.replace(old, f"id: {oid.hex()}"))
    code, out = _fsck(repo)
    assert code == 1
    (p,) = out["problems"]
    assert p["kind"] == "manifest" and p["id"] == oid.hex() and p["affects"] == ["big.bin"]


def test_index_entry_outside_its_pack(tmp_path: Path) -> None:
    """An index entry placing an object past the end of an intact pack: the index is named, not the pack."""
    from dvx.hashing import hash_bytes
    from dvx.store.index import decode_index, encode_index

    repo = _repo(tmp_path)
    pack = _big_pack(repo)
    old = _index_of(repo, pack.name)
    recs = decode_index(old.read_bytes())
    moved = max(recs.values(), key=lambda r: r.raw)
    data = encode_index(r._replace(offset=r.offset + 10 * MiB) if r.oid == moved.oid else r for r in recs.values())
    (old.parent / hash_bytes(data).hex()).write_bytes(data)
    old.unlink()
    code, out = _fsck(repo)
    assert code == 1
    (p,) = out["problems"]
    assert p["kind"] == "object" and p["id"] == moved.oid.hex() and p["pack"] == pack.name
    assert hash_bytes(data).hex() in p["message"] and "own header" in p["message"] and p["affects"] == ["big.bin"]


def test_pack_tail_cut_blobs_intact(tmp_path: Path) -> None:
    """The last bytes of a pack gone (its header and trailer), every indexed blob still intact:
    reported against the pack, affecting no data path (every object still reads)."""
    repo = _repo(tmp_path)
    pack = _big_pack(repo)
    raw = pack.read_bytes()
    pack.write_bytes(raw[:-20])
    code, out = _fsck(repo)
    assert code == 1
    (p,) = out["problems"]
    assert p["kind"] == "pack" and p["id"] == pack.name and "magic" in p["message"] and p["affects"] == []
    data = (repo / "big.bin").read_bytes()
    (repo / "big.bin").unlink()
    run_dvx(repo, "checkout")
    assert (repo / "big.bin").read_bytes() == data


def test_missing_chunk_of_a_directory_every_commit_named(tmp_path: Path) -> None:
    """A chunk of a file inside a tracked directory, gone: the directory is named, at each commit reaching it."""
    from dvx.hashing import hash_bytes
    from dvx.store.index import decode_index, encode_index
    from dvx.store.objects import ObjectType

    repo = _repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "commit", "-q", "--allow-empty", "-m", "second")
    second = git(repo, "rev-parse", "HEAD").stdout.strip()
    index = repo / ".dvx" / "cache" / "index"
    for f in sorted(index.iterdir()):
        recs = decode_index(f.read_bytes())
        small = [r for r in recs.values() if r.otype == ObjectType.CHUNK and r.raw == 3000]
        if small:
            data = encode_index(r for r in recs.values() if r.oid != small[0].oid)
            (index / hash_bytes(data).hex()).write_bytes(data)
            f.unlink()
            break
    else:
        raise AssertionError("no 3000-byte chunk")
    code, out = _fsck(repo)
    assert code == 1
    # The chunk's pack (its chunks apart from the manifests) is now named by no index: reported as well.
    (p,) = [q for q in out["problems"] if q["kind"] != "pack"]
    assert p["kind"] == "missing" and p["id"] == small[0].oid.hex() and p["affects"] == ["d"]
    assert p["message"].startswith(f"chunk {small[0].oid.hex()} (named by ")
    code, out = _fsck(repo, "--all-commits")
    (p,) = [q for q in out["problems"] if q["kind"] != "pack"]
    assert sorted(p["affects"]) == sorted([f"d@{first[:12]}", f"d@{second[:12]}"])
    cp = run_dvx(repo, "fsck", "--all-commits", check=False)
    assert cp.returncode == 1 and "affects d@" in cp.stdout and "error: fsck found 2 problems" in cp.stderr
