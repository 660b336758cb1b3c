"""Hints about remotes, hooks and versioned reads: the command each names fixes the state (see test_hints.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dvxtest import env, make_dvx_repo, run_dvx
from hintkit import commands, follow, remote_files, tracked

from dvx.errors import CorruptObjectError, ObjectMissingError

# -- remotes ----------------------------------------------------------------------


def test_push_without_a_remote_hint_remote_add(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    tracked(repo)
    cp = run_dvx(repo, "push", check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == ["dvx remote add -d NAME URL"], cmds
    store = tmp_path / "store"
    follow(repo, cmds[0], NAME="store", URL=str(store))
    run_dvx(repo, "push")
    assert remote_files(store)


def test_push_to_an_unknown_remote_hint_remote_add(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    tracked(repo)
    cp = run_dvx(repo, "push", "-r", "backup", check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == ["dvx remote list", "dvx remote add -d NAME URL"], cmds
    follow(repo, cmds[1], NAME="backup", URL=str(tmp_path / "backup"))
    run_dvx(repo, "push", "-r", "backup")
    assert remote_files(tmp_path / "backup")


def test_push_with_two_remotes_and_no_default_hint_remote_default(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    tracked(repo)
    run_dvx(repo, "remote", "add", "a", str(tmp_path / "a"))
    run_dvx(repo, "remote", "add", "b", str(tmp_path / "b"))
    cp = run_dvx(repo, "push", check=False)
    assert cp.returncode == 2 and commands(cp) == ["dvx remote default NAME"]
    follow(repo, "dvx remote default NAME", NAME="b")
    run_dvx(repo, "push")
    assert remote_files(tmp_path / "b") and not remote_files(tmp_path / "a")


def test_remote_added_twice_hint_modify_url(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    run_dvx(repo, "remote", "add", "-d", "store", str(tmp_path / "old"))
    new = str(tmp_path / "new")
    cp = run_dvx(repo, "remote", "add", "store", new, check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == [f"dvx remote modify store url {new}"], cmds
    follow(repo, cmds[0])
    assert f"store\t{new}" in run_dvx(repo, "remote", "list").stdout


def test_remote_without_url_hint_modify_url(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    tracked(repo)
    cfg = repo / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace("[core]\n", '[core]\nremote = "store"\n') + "\n[remote.store]\njobs = 2\n")
    cp = run_dvx(repo, "push", check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == ["dvx remote modify store url URL"], cmds
    follow(repo, cmds[0], URL=str(tmp_path / "store"))
    run_dvx(repo, "push")
    assert remote_files(tmp_path / "store")


def test_secret_in_committed_config_hint_local(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    run_dvx(repo, "remote", "add", "-d", "store", "s3://bucket/prefix")
    cp = run_dvx(repo, "remote", "modify", "store", "secret_access_key", "s3cr3t", check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == ["dvx remote modify --local store secret_access_key VALUE"], cmds
    follow(repo, cmds[0], VALUE="s3cr3t")
    assert "s3cr3t" in (repo / ".dvx" / "config.local").read_text()
    assert "s3cr3t" not in (repo / ".dvx" / "config").read_text()


# -- hooks ------------------------------------------------------------------------


def test_hooks_install_over_two_foreign_hooks_hint_force(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")  # dvx init installed the hooks
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit.pre-dvx").write_text("#!/bin/sh\necho older\n")
    (hooks / "pre-commit").write_text("#!/bin/sh\necho newer\n")  # a tool replaced dvx's hook
    cp = run_dvx(repo, "hooks", "install", check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == ["dvx hooks install --force"], cmds
    follow(repo, cmds[0])
    assert "dvx" in (hooks / "pre-commit").read_text()
    assert "newer" in (hooks / "pre-commit.pre-dvx").read_text()
    assert "older" in (hooks / "pre-commit.pre-dvx.old").read_text()


# -- versioned reads ----------------------------------------------------------------


def _clone_without_data(tmp_path: Path) -> tuple[Path, Path]:
    origin = make_dvx_repo(tmp_path / "origin")
    tracked(origin)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, env=env())
    return origin, clone


def _read_rows(clone: Path) -> subprocess.CompletedProcess[str]:
    """read_table at HEAD in a fresh Python process (as a script run after the hint would)."""
    code = "import sys, dvx; print(dvx.read_table('data.csv', rev='HEAD', repo=sys.argv[1]).num_rows)"
    return subprocess.run([sys.executable, "-c", code, str(clone)], capture_output=True, text=True, env=env())


def test_versioned_read_without_data_or_remote_hint_remote_add(tmp_path: Path) -> None:
    import dvx

    origin, clone = _clone_without_data(tmp_path)
    with pytest.raises(ObjectMissingError) as ei:
        dvx.read_table("data.csv", rev="HEAD", repo=clone)
    cmds = re.findall(r"`([^`]+)`", ei.value.hint or "")
    assert cmds == ["dvx remote add -d NAME URL"], ei.value.hint  # `dvx pull` would fail the same way
    store = tmp_path / "store"
    run_dvx(origin, "remote", "add", "-d", "store", str(store))
    run_dvx(origin, "push")
    follow(clone, cmds[0], NAME="store", URL=str(store))
    cp = _read_rows(clone)
    assert (cp.returncode, cp.stdout.strip()) == (0, "2"), cp.stderr


def test_processes_reading_from_a_remote_exit_cleanly(tmp_path: Path) -> None:
    """A script that reads a version from a remote ends with exit 0: no Arrow read-ahead thread is
    left inside a dvx read when the interpreter exits (before: "terminate called without an active
    exception", exit 134, in 3 of 6 runs)."""
    origin, clone = _clone_without_data(tmp_path)
    store = tmp_path / "store"
    run_dvx(origin, "remote", "add", "-d", "store", str(store))
    run_dvx(origin, "push")
    run_dvx(clone, "remote", "add", "-d", "store", str(store))
    for _ in range(6):
        shutil.rmtree(clone / ".dvx" / "cache", ignore_errors=True)  # every process fetches from the remote again
        cp = _read_rows(clone)
        assert (cp.returncode, cp.stdout.strip()) == (0, "2"), cp.stderr


def test_versioned_read_sees_a_remote_added_after_the_error_in_the_same_process(tmp_path: Path) -> None:
    import dvx

    origin, clone = _clone_without_data(tmp_path)
    with pytest.raises(ObjectMissingError):
        dvx.read_table("data.csv", rev="HEAD", repo=clone)
    store = tmp_path / "store"
    run_dvx(origin, "remote", "add", "-d", "store", str(store))
    run_dvx(origin, "push")
    run_dvx(clone, "remote", "add", "-d", "store", str(store))
    assert dvx.read_table("data.csv", rev="HEAD", repo=clone).num_rows == 2


def test_versioned_read_of_a_damaged_chunk_hint_fetch(tmp_path: Path) -> None:
    import dvx

    repo = make_dvx_repo(tmp_path / "repo")
    run_dvx(repo, "remote", "add", "-d", "store", str(tmp_path / "store"))
    body = b"id,x\n" + b"".join(b"%d,%d\n" % (i, i * 7 % 1000) for i in range(60_000))
    tracked(repo, "data.csv", body)
    run_dvx(repo, "push")
    pack = next(p for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if p.is_file())
    damaged = bytearray(pack.read_bytes())
    damaged[100] ^= 0xFF
    pack.write_bytes(bytes(damaged))
    with pytest.raises(CorruptObjectError) as ei:
        dvx.read_table("data.csv", rev="HEAD", repo=repo)
    cmds = re.findall(r"`([^`]+)`", ei.value.hint or "")
    assert cmds and cmds[0] == "dvx fetch", ei.value.hint
    follow(repo, cmds[0])
    assert dvx.read_table("data.csv", rev="HEAD", repo=repo).num_rows == 60_000
