"""One cache for several projects (``[cache] dir``), its locks, gc's --projects rule, ``[cache] shared``,
and copy-on-write clones on checkout (a loop-mounted XFS image, or a skip saying why)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dvxtest import env, git, make_dvx_repo, run_dvx
from hintkit import commands, follow


def _set_cache(repo: Path, **keys: str) -> None:
    """Set keys of ``[cache]`` in the committed config (the table dvx init writes last)."""
    cfg = repo / ".dvx" / "config"
    text = cfg.read_text()
    for k in keys:
        text = re.sub(rf"(?m)^{k} = .*\n", "", text)
    lines = "".join(f'{k} = "{v}"\n' for k, v in keys.items())
    cfg.write_text(re.sub(r"\[cache\]\n", lambda m: m.group(0) + lines, text, count=1))


def _commit(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data", "--no-verify")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Two projects whose ``[cache] dir`` is one folder beside them."""
    top = tmp_path_factory.mktemp("shared")
    a, b = make_dvx_repo(top / "a"), make_dvx_repo(top / "b")
    for r in (a, b):
        _set_cache(r, dir="../cache")
    return a, b, top / "cache"


def _objects(cache: Path) -> int:
    return sum(len(p.read_bytes()) for p in (cache / "packs").rglob("*") if p.is_file())


def test_same_file_in_two_projects_is_stored_once(pair: tuple[Path, Path, Path]) -> None:
    a, b, cache = pair
    body = os.urandom(700_000)
    (a / "same.bin").write_bytes(body)
    (b / "same.bin").write_bytes(body)
    run_dvx(a, "add", "same.bin")
    once = _objects(cache)
    out = run_dvx(b, "add", "same.bin").stdout
    assert "0 B new in cache" in out, out
    assert _objects(cache) == once
    assert not (a / ".dvx" / "cache" / "packs").exists()  # nothing in the projects' own .dvx/cache
    names = {p.read_text() for p in (cache / "projects").iterdir()}
    assert any(str(a.resolve()) in n for n in names) and any(str(b.resolve()) in n for n in names)
    _commit(a)
    _commit(b)


def test_concurrent_adds_in_both_projects(pair: tuple[Path, Path, Path]) -> None:
    a, b, cache = pair
    shared = os.urandom(1_500_000)
    for r in (a, b):
        (r / "both.bin").write_bytes(shared)
        (r / "own.bin").write_bytes(os.urandom(1_500_000))
    procs = [subprocess.Popen([sys.executable, "-m", "dvx", "add", "both.bin", "own.bin"], cwd=r, env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (a, b)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    for r in (a, b):
        run_dvx(r, "fsck")
        assert "all unchanged" in run_dvx(r, "status").stdout
        _commit(r)


def test_gc_refuses_a_shared_cache_until_projects_are_named(pair: tuple[Path, Path, Path]) -> None:
    a, b, cache = pair
    (b / "b_only.bin").write_bytes(os.urandom(300_000))
    run_dvx(b, "add", "b_only.bin")  # not committed: only b's workspace needs it
    before = _objects(cache)
    cp = run_dvx(a, "gc", "-w", "-f", check=False)
    assert cp.returncode == 1, cp.stderr
    assert "used by 1 other project" in cp.stderr and str(b.resolve()) in cp.stderr
    assert _objects(cache) == before
    (cmd,) = commands(cp)
    assert "--projects" in cmd
    done = follow(a, cmd)
    assert "1 other project sharing the cache" in done.stdout
    (b / "b_only.bin").unlink()
    run_dvx(b, "checkout")  # gc in a kept what b's workspace needs
    run_dvx(b, "fsck")
    # A project that no longer uses the cache is forgotten: gc then needs no --projects.
    _set_cache(b, dir="../elsewhere")
    run_dvx(a, "gc", "-w", "-f")
    run_dvx(a, "fsck")


def test_gc_refuses_a_named_project_with_another_cache(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, _b, _cache = pair
    other = make_dvx_repo(tmp_path / "other")
    cp = run_dvx(a, "gc", "-w", "-f", "--projects", str(other), check=False)
    assert cp.returncode == 2 and "that project's cache is" in cp.stderr, cp.stderr


def test_cache_dir_that_is_not_a_cache_is_refused(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "r")
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    _set_cache(repo, dir=str(keep))
    (repo / "x.bin").write_bytes(b"x" * 1000)
    cp = run_dvx(repo, "add", "x.bin", check=False)
    assert cp.returncode == 2 and "not a dvx cache" in cp.stderr, cp.stderr
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt"]


def test_cache_dir_command(tmp_path: Path) -> None:
    import json

    repo = make_dvx_repo(tmp_path / "r")
    (repo / "sub").mkdir()
    assert json.loads(run_dvx(repo, "cache", "dir", "--json").stdout)["value"] is None
    run_dvx(repo / "sub", "cache", "dir", "../../c", "--local")  # relative to where it is typed
    got = json.loads(run_dvx(repo, "cache", "dir", "--json").stdout)
    assert got["value"] == "../c" and got["dir"] == str((tmp_path / "c").resolve())
    assert ".dvx/config.local" in got["where"]
    (repo / "x.bin").write_bytes(os.urandom(50_000))
    run_dvx(repo, "add", "x.bin")
    assert (tmp_path / "c" / "dvx-store").is_file() and (tmp_path / "c" / "packs").is_dir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.txt").write_text("mine")
    cp = run_dvx(repo, "cache", "dir", str(tmp_path / "full"), check=False)
    assert cp.returncode == 2 and "not a dvx cache" in cp.stderr, cp.stderr
    run_dvx(repo, "cache", "dir", "--unset", "--local")
    assert json.loads(run_dvx(repo, "cache", "dir", "--json").stdout)["dir"] == str(repo.resolve() / ".dvx" / "cache")


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_shared_group_under_umask_077(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "r")
    _set_cache(repo, dir="../cache", shared="group")
    (repo / "x.bin").write_bytes(os.urandom(200_000))
    cp = subprocess.run([sys.executable, "-m", "dvx", "add", "x.bin"], cwd=repo, env=env(), capture_output=True,
                        text=True, preexec_fn=lambda: os.umask(0o077), timeout=120)
    assert cp.returncode == 0, cp.stderr
    cache = tmp_path / "cache"
    seen = 0
    for p in [cache, *cache.rglob("*")]:
        mode = p.stat().st_mode
        if stat.S_ISDIR(mode):
            assert mode & 0o2070 == 0o2070, (p, oct(mode))
        else:
            assert mode & 0o060 == 0o060, (p, oct(mode))
        seen += 1
    assert seen > 5


# ---------------------------------------------------------------- copy-on-write clones

_IMAGE_MB = 320  # mkfs.xfs wants at least 300 MB; the image file is sparse


@pytest.fixture(scope="module")
def reflink_fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A loop-mounted XFS (reflink=1) file system, or a skip saying exactly why not."""
    if not sys.platform.startswith("linux"):
        pytest.skip(f"clones are tested on Linux only (this is {sys.platform})")
    if os.geteuid() != 0:
        pytest.skip("mounting a loop XFS image needs root (euid is not 0)")
    mkfs = shutil.which("mkfs.xfs")
    if mkfs is None:
        pytest.skip("mkfs.xfs not found (Debian package xfsprogs: `make xfsprogs`)")
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control: this kernel or container has no loop devices")
    top = tmp_path_factory.mktemp("xfs")
    img, mnt = top / "fs.img", top / "mnt"
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(_IMAGE_MB << 20)
    mk = subprocess.run([mkfs, "-q", "-m", "reflink=1", str(img)], capture_output=True, text=True)
    if mk.returncode != 0:
        pytest.skip(f"mkfs.xfs -m reflink=1 failed: {mk.stderr.strip()[:200]}")
    mo = subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], capture_output=True, text=True)
    if mo.returncode != 0:
        pytest.skip(f"mount -o loop failed: {mo.stderr.strip()[:200]}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def _used(path: Path) -> int:
    os.sync()
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def test_checkout_clones_from_the_cache(reflink_fs: Path) -> None:
    repo = make_dvx_repo(reflink_fs / "repo")
    # A folder: one writer for all its files; each large file starts a block-aligned pack of its own.
    files = {"d/a.bin": os.urandom(5 << 20), "d/b.txt": b"small\n" * 1000, "d/c.bin": os.urandom(5 << 20) + b"x"}
    for rel, body in files.items():
        (repo / rel).parent.mkdir(exist_ok=True)
        (repo / rel).write_bytes(body)
    run_dvx(repo, "add", "d")
    size = sum(len(b) for b in files.values())

    def checkout() -> tuple[int, str]:
        shutil.rmtree(repo / "d")
        before = _used(reflink_fs)
        out = run_dvx(repo, "checkout").stdout
        for rel, body in files.items():
            assert (repo / rel).read_bytes() == body
        return _used(reflink_fs) - before, out

    cloned, out = checkout()
    assert "cloned from the cache" in out, out
    _set_cache(repo, type="copy")
    copied, out = checkout()
    assert "cloned" not in out, out
    # The clones share the cache's blocks: only the small file and the unaligned tails are new data.
    assert copied >= size * 0.95, (copied, size)
    assert cloned < size * 0.05, (cloned, size)
    # Changing a clone leaves the cache alone.
    _set_cache(repo, type="auto")
    checkout()
    with open(repo / "d" / "a.bin", "r+b") as f:
        f.write(b"changed")
    run_dvx(repo, "fsck")
