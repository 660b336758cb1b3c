"""End-to-end tests of init / add / checkout / status / ls with real git and the real CLI."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from dvxtest import git, make_git_repo, run_dvx, tree_bytes


def _write(p: Path, data: bytes) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def test_init_requires_git(tmp_path: Path) -> None:
    cp = run_dvx(tmp_path, "init", check=False)
    assert cp.returncode == 2
    assert "not inside a git work tree" in cp.stderr
    assert "Traceback" not in cp.stderr
    assert len(cp.stderr.strip().splitlines()) == 1


def test_init_layout(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "r")
    run_dvx(repo, "init")
    assert (repo / ".dvx" / "config").is_file()
    assert (repo / ".dvx" / "cache").is_dir()
    assert (repo / ".dvx" / "tmp").is_dir()
    assert (repo / "expectations").is_dir()
    ignored = (repo / ".dvx" / ".gitignore").read_text()
    assert "/cache/" in ignored and "/tmp/" in ignored
    cfg = (repo / ".dvx" / "config").read_text()
    assert "min_size = 16384" in cfg and "avg_size = 65536" in cfg and "max_size = 262144" in cfg
    # git sees the config but not the cache
    (repo / ".dvx" / "cache" / "x").write_text("x")
    out = git(repo, "status", "--porcelain", "--untracked-files=all").stdout
    assert ".dvx/config" in out and ".dvx/cache" not in out
    # a second init refuses
    cp = run_dvx(repo, "init", check=False)
    assert cp.returncode == 2 and "already initialised" in cp.stderr


def test_add_file_dir_round_trip(repo: Path) -> None:
    rnd = random.Random(1)
    _write(repo / "data" / "a.bin", rnd.randbytes(700_000))
    _write(repo / "data" / "d" / "x.csv", b"".join(b"%d,%d\n" % (i, i * i) for i in range(50_000)))
    _write(repo / "data" / "d" / "sub" / "empty", b"")
    (repo / "data" / "d" / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(repo / "data" / "d" / "run.sh", 0o755)
    before = tree_bytes(repo / "data")
    cp = run_dvx(repo, "add", "data/a.bin", "data/d")
    assert "git add" in cp.stdout
    ptr = (repo / "data" / "a.bin.dvx").read_text()
    assert "type: file" in ptr and "size: 700000" in ptr
    dptr = (repo / "data" / "d.dvx").read_text()
    assert "type: dir" in dptr and "files: 3" in dptr
    gi = (repo / "data" / ".gitignore").read_text().splitlines()
    assert "/a.bin" in gi and "/d" in gi
    # git ignores the data, sees the pointers
    out = git(repo, "status", "--porcelain", "--untracked-files=all").stdout
    assert "data/a.bin.dvx" in out and "data/d.dvx" in out
    assert "data/a.bin\n" not in out and "data/d/" not in out

    st = json.loads(run_dvx(repo, "status", "--json").stdout)
    assert st["clean"] is True
    assert {p["path"]: p["state"] for p in st["paths"]} == {"data/a.bin": "unchanged", "data/d": "unchanged"}

    shutil.rmtree(repo / "data" / "d")
    (repo / "data" / "a.bin").unlink()
    st = json.loads(run_dvx(repo, "status", "--json").stdout)
    assert {p["path"]: p["state"] for p in st["paths"]} == {"data/a.bin": "deleted", "data/d": "deleted"}
    run_dvx(repo, "checkout")
    after = {k: v for k, v in tree_bytes(repo / "data").items() if not k.endswith((".dvx", ".gitignore"))}
    assert after == before
    assert os.stat(repo / "data" / "d" / "run.sh").st_mode & 0o100


def test_modify_add_again_and_checkout_old_version(repo: Path) -> None:
    f = repo / "train.csv"
    v1 = b"".join(b"%d,a,%f\n" % (i, i / 7) for i in range(100_000))
    _write(f, v1)
    run_dvx(repo, "add", "train.csv")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    v2 = v1 + b"".join(b"%d,b,%f\n" % (i, i / 3) for i in range(1000))
    _write(f, v2)
    st = json.loads(run_dvx(repo, "status", "--json").stdout)
    assert st["paths"][0]["state"] == "modified"
    cp = run_dvx(repo, "add", "train.csv")
    assert cp.stdout.startswith("modified")
    git(repo, "commit", "-qam", "v2")
    # going back: git restores the pointer, dvx the data
    git(repo, "checkout", "-q", "HEAD~1", "--", "train.csv.dvx")
    run_dvx(repo, "checkout")
    assert f.read_bytes() == v1
    git(repo, "checkout", "-q", "HEAD", "--", "train.csv.dvx")
    run_dvx(repo, "checkout", "train.csv")
    assert f.read_bytes() == v2


def test_dedup_small_append_stores_little(repo: Path) -> None:
    rnd = random.Random(5)
    data = rnd.randbytes(8 << 20)
    _write(repo / "big.bin", data)
    run_dvx(repo, "add", "big.bin")
    size1 = sum(p.stat().st_size for p in (repo / ".dvx" / "cache").rglob("*") if p.is_file())
    _write(repo / "big.bin", data[: 4 << 20] + rnd.randbytes(1000) + data[4 << 20 :] + rnd.randbytes(80_000))
    run_dvx(repo, "add", "big.bin")
    size2 = sum(p.stat().st_size for p in (repo / ".dvx" / "cache").rglob("*") if p.is_file())
    growth = size2 - size1
    # a mid-file insert and a 1% append re-store ~3 chunks, not 8 MiB
    assert growth < 0.1 * len(data), growth


def test_checkout_never_overwrites_uncached_change(repo: Path) -> None:
    _write(repo / "a.txt", b"original\n" * 1000)
    run_dvx(repo, "add", "a.txt")
    _write(repo / "a.txt", b"precious local edit\n")
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1
    assert "a.txt" in cp.stderr and "--force" in cp.stderr
    assert (repo / "a.txt").read_bytes() == b"precious local edit\n"
    run_dvx(repo, "checkout", "--force")
    assert (repo / "a.txt").read_bytes() == b"original\n" * 1000


def test_checkout_removes_extra_files_that_are_cached(repo: Path) -> None:
    _write(repo / "d" / "a", b"a" * 100)
    _write(repo / "d" / "b", b"b" * 100)
    run_dvx(repo, "add", "d")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    (repo / "d" / "b").unlink()
    run_dvx(repo, "add", "d")  # v2: only a
    # restore the v1 pointer: b comes back; then v2 again: b (cached) is removed
    git(repo, "stash", "-q")
    run_dvx(repo, "checkout")
    assert (repo / "d" / "b").read_bytes() == b"b" * 100
    git(repo, "stash", "pop", "-q")
    run_dvx(repo, "checkout")
    assert not (repo / "d" / "b").exists()
    # an extra file that is not in the cache is kept unless forced
    _write(repo / "d" / "new", b"not cached")
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1 and "d/new" in cp.stderr
    assert (repo / "d" / "new").exists()
    run_dvx(repo, "checkout", "-f")
    assert not (repo / "d" / "new").exists()


def test_status_sees_a_rewrite_whose_mtime_was_put_back(repo: Path) -> None:
    # This test used to assert "unchanged" here, i.e. that the stat cache
    # trusted size+mtime+inode: that was defect 3 of issue 10 (new bytes
    # never versioned). ctime changes with the write and the utime.
    _write(repo / "d" / "x", b"x" * 5000)
    run_dvx(repo, "add", "d")
    p = repo / "d" / "x"
    st = p.stat()
    with open(p, "r+b") as f:
        f.write(b"y")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    st_json = json.loads(run_dvx(repo, "status", "--json").stdout)
    assert st_json["paths"][0]["state"] == "modified"


def test_readd_unchanged_reads_nothing(repo: Path) -> None:
    _write(repo / "f.bin", random.Random(2).randbytes(300_000))
    run_dvx(repo, "add", "f.bin")
    cp = run_dvx(repo, "add", "f.bin")
    assert cp.stdout.startswith("unchanged")
    assert "0 B new in cache" in cp.stdout


def test_ls_json(repo: Path) -> None:
    _write(repo / "a.bin", b"abc" * 1000)
    _write(repo / "d" / "x", b"x")
    run_dvx(repo, "add", "a.bin", "d")
    rows = json.loads(run_dvx(repo, "ls", "--json").stdout)
    assert [(r["path"], r["kind"], r["size"], r["files"]) for r in rows] == [("a.bin", "file", 3000, 1), ("d", "dir", 1, 1)]
    assert all(len(r["id"]) == 32 for r in rows)


def test_autostage(repo: Path) -> None:
    cfg = repo / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace("autostage = false", "autostage = true"))
    _write(repo / "a.bin", b"abc")
    run_dvx(repo, "add", "a.bin")
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert "a.bin.dvx" in staged and ".gitignore" in staged


def test_version_and_help_fast_imports(repo: Path) -> None:
    cp = run_dvx(repo, "--version")
    assert "dvx" in cp.stdout
    import subprocess
    import sys

    code = (
        "import sys; from dvx.cli import cli, main\n"
        "try:\n    main(['--help'])\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('pyarrow', 'pandas', 'great_expectations', 'pandera', 's3fs', 'fsspec') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out


@pytest.mark.parametrize("cmd", ["init", "add", "checkout", "status", "ls"])
def test_every_subcommand_help(repo: Path, cmd: str) -> None:
    cp = run_dvx(repo, cmd, "--help")
    assert "Usage:" in cp.stdout
