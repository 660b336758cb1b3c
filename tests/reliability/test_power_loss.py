"""Power loss: bytes written since the last fsync vanish; the next command detects it and recovers.

With ``[cache] fsync = false`` (an opt-out; the default before issue 12) an
index file is durable but the pack it names may not be. These tests make that state by hand (a pack cut
short, zero-filled, or gone) and check that ``dvx pull`` / ``dvx fetch`` bring
the objects back from the remote, that ``dvx add`` rewrites them when there
is no remote copy, that intact objects of a damaged pack are kept, and that
the damaged pack is quarantined, never deleted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from dvxtest import git, make_dvx_repo, run_dvx, tree_bytes

from dvx.store.index import decode_index

MiB = 1 << 20


def _cache(repo: Path) -> Path:
    return repo / ".dvx" / "cache"


def _packs(repo: Path) -> list[Path]:
    return sorted(p for p in (_cache(repo) / "packs").glob("*/*") if p.is_file())


def _records(repo: Path) -> list[tuple]:
    out = []
    for f in (_cache(repo) / "index").iterdir():
        out.extend(decode_index(f.read_bytes()).values())
    return out


def _quarantined(repo: Path) -> list[Path]:
    q = _cache(repo) / "quarantine"
    return sorted(q.iterdir()) if q.is_dir() else []


def _assert_cache_consistent(repo: Path) -> None:
    """Every object some index names reads back and matches its id."""
    from fsspec.implementations.local import LocalFileSystem

    from dvx.store import ObjectStore

    s = ObjectStore(LocalFileSystem(), str(_cache(repo)))
    n = sum(1 for _ in s.get_many(list(s.entries())))
    assert n == len(s.entries()) > 0


@pytest.fixture
def pushed(tmp_path: Path) -> tuple[Path, dict[str, tuple[bytes, bool]]]:
    """A committed repository whose data (one 3 MiB file, a folder of 12 files) is on a folder remote."""
    repo = make_dvx_repo(tmp_path / "repo")
    rnd = __import__("random").Random(7)
    (repo / "big.bin").write_bytes(rnd.randbytes(3 * MiB))
    (repo / "data").mkdir()
    for k in range(12):
        (repo / "data" / f"part-{k:02d}.csv").write_bytes(rnd.randbytes(20_000 + 5_000 * k))
    run_dvx(repo, "remote", "add", "-d", "store", str(tmp_path / "remote"))
    run_dvx(repo, "add", "big.bin", "data")
    run_dvx(repo, "push")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    return repo, tree_bytes(repo)


def _remove_data(repo: Path) -> None:
    (repo / "big.bin").unlink()
    shutil.rmtree(repo / "data")


def _damage(repo: Path, how: str) -> Path:
    pk = max(_packs(repo), key=lambda p: p.stat().st_size)
    size = pk.stat().st_size
    if how == "truncate":
        os.truncate(pk, size // 2)
    elif how == "zero-tail":
        with open(pk, "r+b") as f:
            f.seek(size // 2)
            f.write(bytes(size - size // 2))
    elif how == "zeros":
        pk.write_bytes(bytes(size))
    elif how == "missing":
        pk.unlink()
    return pk


@pytest.mark.parametrize("how", ["truncate", "zero-tail", "zeros", "missing"])
def test_pull_recovers_from_remote_in_one_run(pushed, how: str) -> None:
    repo, want = pushed
    pk = _damage(repo, how)
    _remove_data(repo)
    cp = run_dvx(repo, "pull")
    assert cp.returncode == 0
    assert tree_bytes(repo) == want
    _assert_cache_consistent(repo)
    if how != "missing":
        # the damaged copy is kept aside, never deleted
        assert [q.name for q in _quarantined(repo)] == [pk.name]
    # and a second pull has nothing left to repair
    before = _quarantined(repo)
    run_dvx(repo, "pull")
    assert _quarantined(repo) == before


@pytest.mark.parametrize("how", ["truncate", "missing"])
def test_checkout_after_truncation_names_pull_and_pull_fixes_it(pushed, how: str) -> None:
    """The cheap pass (one stat per pack) finds a short or missing pack before any read."""
    repo, want = pushed
    _damage(repo, how)
    _remove_data(repo)
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1, cp.stderr
    assert "dvx pull" in cp.stderr and "not in the cache" in cp.stderr
    assert "Traceback" not in cp.stderr
    run_dvx(repo, "pull")
    assert tree_bytes(repo) == want


def test_zero_filled_pack_checkout_heals_then_fetch_and_checkout_fix_it(pushed) -> None:
    """Zeros keep the size: the read fails verification; checkout quarantines the pack and
    names `dvx pull`; `dvx fetch` (which said "everything is there" before healing existed)
    now downloads the objects and checkout succeeds."""
    repo, want = pushed
    pk = _damage(repo, "zero-tail")
    _remove_data(repo)
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1
    err = cp.stderr
    assert "corrupt" in err and "quarantine" in err and "dvx pull" in err, err
    assert "Traceback" not in err
    assert [q.name for q in _quarantined(repo)] == [pk.name]
    cp = run_dvx(repo, "fetch")
    assert "fetched 0 objects" not in cp.stdout, cp.stdout
    run_dvx(repo, "checkout")
    assert tree_bytes(repo) == want
    _assert_cache_consistent(repo)


def test_a_read_elsewhere_notes_damage_and_the_next_fetch_heals(pushed) -> None:
    """A reader without the lock (here `dvx.open`-style store reads) only notes the pack; fetch heals it."""
    repo, want = pushed
    _damage(repo, "zeros")
    from fsspec.implementations.local import LocalFileSystem

    from dvx.errors import CorruptObjectError
    from dvx.store import ObjectStore

    s = ObjectStore(LocalFileSystem(), str(_cache(repo)))
    with pytest.raises(CorruptObjectError):
        for _ in s.get_many(list(s.entries())):
            pass
    assert (_cache(repo) / "damaged").is_file()
    cp = run_dvx(repo, "fetch")
    assert "fetched 0 objects" not in cp.stdout
    assert not (_cache(repo) / "damaged").exists()
    _remove_data(repo)
    run_dvx(repo, "checkout")
    assert tree_bytes(repo) == want


def test_no_remote_copy_add_rewrites_and_intact_objects_are_salvaged(tmp_path: Path) -> None:
    """Never pushed: the damaged file comes back with `dvx add`; the other file, whose only
    copy shared the damaged pack, is salvaged into a new pack before the quarantine."""
    from fsspec.implementations.local import LocalFileSystem

    from dvx.store import ObjectStore

    repo = make_dvx_repo(tmp_path / "repo")
    rnd = __import__("random").Random(3)
    a, b = rnd.randbytes(2 * MiB), rnd.randbytes(2 * MiB)
    (repo / "data").mkdir()
    (repo / "data" / "a.bin").write_bytes(a)
    (repo / "data" / "b.bin").write_bytes(b)
    run_dvx(repo, "add", "data")
    a_ids = _chunk_ids_of(repo, a)
    b_ids = _chunk_ids_of(repo, b)
    [pk] = {p for p in _packs(repo) for r in _records(repo) if r[1].hex() == p.name and r[0] in a_ids}
    assert any(r[1].hex() == pk.name and r[0] in b_ids for r in _records(repo))  # the pack is shared
    with open(pk, "r+b") as f:  # zero every chunk of a.bin, nothing else
        for r in _records(repo):
            if r[0] in a_ids:
                f.seek(r[2])
                f.write(bytes(r[3]))
    shutil.rmtree(repo / "data")
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1 and "dvx add" in cp.stderr and "quarantine" in cp.stderr, cp.stderr
    assert [q.name for q in _quarantined(repo)] == [pk.name]
    # b.bin's only copy survived the quarantine: every chunk reads back verified
    s = ObjectStore(LocalFileSystem(), str(_cache(repo)))
    assert {oid for oid, _ in s.get_many(b_ids)} == b_ids
    assert not (a_ids & set(s.entries()))
    # the hint's second command: add the data again, then checkout works
    (repo / "data").mkdir(exist_ok=True)
    (repo / "data" / "a.bin").write_bytes(a)
    (repo / "data" / "b.bin").write_bytes(b)
    cp = run_dvx(repo, "add", "data")
    assert "0 B new" not in cp.stdout, cp.stdout
    shutil.rmtree(repo / "data")
    run_dvx(repo, "checkout")
    assert tree_bytes(repo / "data") == {"a.bin": (a, False), "b.bin": (b, False)}
    _assert_cache_consistent(repo)


def _chunk_ids_of(repo: Path, data: bytes) -> set[bytes]:
    from dvx.chunking import ChunkerParams, cut_points
    from dvx.hashing import hash_bytes

    del repo
    ends = cut_points(data, ChunkerParams())
    return {hash_bytes(data[s:e]) for s, e in zip([0, *ends[:-1]], ends, strict=True)}


def test_pull_from_moto_recovers_truncated_pack(tmp_path: Path, s3_bucket) -> None:
    bucket = s3_bucket()
    repo = make_dvx_repo(tmp_path / "repo")
    data = __import__("random").Random(11).randbytes(3 * MiB)
    (repo / "big.bin").write_bytes(data)
    run_dvx(repo, "remote", "add", "-d", "s3", bucket.url)
    run_dvx(repo, "remote", "modify", "s3", "endpoint_url", bucket.endpoint)
    run_dvx(repo, "add", "big.bin")
    run_dvx(repo, "push")
    _damage(repo, "truncate")
    (repo / "big.bin").unlink()
    run_dvx(repo, "pull")
    assert (repo / "big.bin").read_bytes() == data
    _assert_cache_consistent(repo)
