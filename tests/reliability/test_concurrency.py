"""Concurrency: two adds in one repository, two clones pushing to one remote, pull during push.

Afterwards every committed version pulls byte-identical into a fresh clone,
and every object the remote's indexes name verifies against its id.
"""

from __future__ import annotations

import fcntl
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from dvxtest import env, git, make_git_repo, run_dvx, tree_bytes
from killpoints import temp_debris, verify_store

MiB = 1 << 20


def _start(repo: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dvx", *args], cwd=repo, env=env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(p: subprocess.Popen[str], what: str) -> tuple[str, str]:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, f"{what} exited {p.returncode}\n{out}\n{err}"
    return out, err


def _write_tree(top: Path, rng: random.Random, n: int, size: int) -> None:
    top.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        (top / f"f{k:03d}.bin").write_bytes(rng.randbytes(rng.randrange(size // 2, size)))


def test_two_adds_in_one_repository_are_serialised_and_both_kept(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "repo")
    run_dvx(repo, "init")
    rng = random.Random(1)
    (repo / "a.bin").write_bytes(rng.randbytes(4 * MiB))
    _write_tree(repo / "b", rng, 40, 100_000)
    want = {k: v for k, v in tree_bytes(repo).items() if k == "a.bin" or k.startswith("b/")}
    # Hold the repository lock so both adds start, find it taken and queue up:
    # they are then certainly concurrent, whatever the machine's load.
    fd = os.open(repo / ".dvx" / "tmp" / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        pa, pb = _start(repo, "add", "a.bin"), _start(repo, "add", "b")
        for p in (pa, pb):
            assert "waiting for another dvx process" in p.stderr.readline()
    finally:
        os.close(fd)  # releases the lock: one add runs, the other waits for it
    _finish(pa, "dvx add a.bin")
    _finish(pb, "dvx add b")
    assert (repo / "a.bin.dvx").is_file() and (repo / "b.dvx").is_file()
    from fsspec.implementations.local import LocalFileSystem

    verify_store(LocalFileSystem(), str(repo / ".dvx" / "cache"))
    # both results are in the cache: the data comes back from it alone
    (repo / "a.bin").unlink()
    import shutil

    shutil.rmtree(repo / "b")
    run_dvx(repo, "checkout")
    assert {k: v for k, v in tree_bytes(repo).items() if k in want} == want
    assert not temp_debris(repo)


def _remote(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str | None, object]:
    """(url, endpoint, fsspec filesystem) of a fresh folder or moto remote."""
    if kind == "folder":
        from fsspec.implementations.local import LocalFileSystem

        return str(tmp_path / "remote"), None, LocalFileSystem()
    bucket = request.getfixturevalue("s3_bucket")()
    return bucket.url, bucket.endpoint, bucket.fs()


def _hub(tmp_path: Path, url: str, endpoint: str | None) -> Path:
    """A bare git hub whose first commit configures dvx with the remote."""
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(hub))
    seed = make_git_repo(tmp_path / "seed")
    run_dvx(seed, "init")
    run_dvx(seed, "remote", "add", "-d", "store", url)
    if endpoint:
        run_dvx(seed, "remote", "modify", "store", "endpoint_url", endpoint)
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "dvx init", "--no-verify")
    git(seed, "push", "-q", str(hub), "main")
    return hub


def _clone(hub: Path, dest: Path) -> Path:
    git(hub.parent, "clone", "-q", str(hub), str(dest))
    git(dest, "config", "user.name", "dvx test")
    git(dest, "config", "user.email", "test@example.invalid")
    return dest


def _commit(repo: Path, msg: str) -> tuple[str, dict]:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", msg, "--no-verify")
    return git(repo, "rev-parse", "HEAD").stdout.strip(), tree_bytes(repo)


def _check_every_version(hub: Path, versions: list[tuple[str, dict]], tmp_path: Path, fs, url: str) -> None:
    fresh = _clone(hub, tmp_path / "fresh")
    for sha, want in versions:
        git(fresh, "clean", "-q", "-fdx", "-e", ".dvx")  # data of the previous version (the cache stays)
        git(fresh, "checkout", "-q", "--detach", sha)
        run_dvx(fresh, "pull")
        got = tree_bytes(fresh)
        assert got == want, f"version {sha[:10]}: {sorted(set(got) ^ set(want))}"
    root = url if "://" not in url else url.split("://", 1)[1]
    assert verify_store(fs, root) > 0


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_two_clones_push_to_one_remote_at_once(tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    url, endpoint, fs = _remote(kind, tmp_path, request)
    hub = _hub(tmp_path, url, endpoint)
    a, b = _clone(hub, tmp_path / "a"), _clone(hub, tmp_path / "b")
    rng = random.Random(2)
    shared = rng.randbytes(1 * MiB)  # both push these chunks: the same objects race
    # Each clone works in its own folder, so their .gitignore files merge cleanly.
    for clone, name in ((a, "pa"), (b, "pb")):
        (clone / name).mkdir()
        (clone / name / "big.bin").write_bytes(shared + rng.randbytes(1 * MiB))
        _write_tree(clone / name / "dir", rng, 12, 60_000)
        run_dvx(clone, "add", f"{name}/big.bin", f"{name}/dir")
    va, vb = _commit(a, "a"), _commit(b, "b")
    pa, pb = _start(a, "push"), _start(b, "push")
    _finish(pa, "dvx push in clone a")
    _finish(pb, "dvx push in clone b")
    git(a, "push", "-q", "origin", "main")
    git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    git(b, "push", "-q", "origin", "main")
    run_dvx(b, "pull")  # a's data, pushed at the same moment as b's
    merged = (git(b, "rev-parse", "HEAD").stdout.strip(), tree_bytes(b))
    _check_every_version(hub, [va, vb, merged], tmp_path, fs, url)


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_pull_while_another_clone_pushes(tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    url, endpoint, fs = _remote(kind, tmp_path, request)
    hub = _hub(tmp_path, url, endpoint)
    a = _clone(hub, tmp_path / "a")
    rng = random.Random(3)
    (a / "big.bin").write_bytes(rng.randbytes(2 * MiB))
    _write_tree(a / "dir", rng, 12, 60_000)
    run_dvx(a, "add", "big.bin", "dir")
    v1 = _commit(a, "v1")
    run_dvx(a, "push")
    git(a, "push", "-q", "origin", "main")
    b = _clone(hub, tmp_path / "b")
    # v2 rewrites everything, so the push is busy while b pulls v1
    (a / "big.bin").write_bytes(rng.randbytes(4 * MiB))
    _write_tree(a / "dir", rng, 16, 60_000)
    run_dvx(a, "add", "big.bin", "dir")
    v2 = _commit(a, "v2")
    pa, pb = _start(a, "push"), _start(b, "pull")
    _finish(pb, "dvx pull in clone b")
    _finish(pa, "dvx push in clone a")
    assert tree_bytes(b) == v1[1]
    git(a, "push", "-q", "origin", "main")
    git(b, "pull", "-q", "--ff-only", "origin", "main")
    run_dvx(b, "pull")
    assert tree_bytes(b) == v2[1]
    _check_every_version(hub, [v1, v2], tmp_path, fs, url)
