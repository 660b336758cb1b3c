"""``dvx mv`` and ``dvx rm`` through the CLI in real git repositories: data, pointer, .gitignore and the index in step."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from dvxtest import git, make_dvx_repo, run_dvx
from hintkit import commands, follow, printed_hint


def _repo(path: Path) -> Path:
    """data/a.csv and data/images/{x,y} tracked and committed; archive/ an existing folder."""
    repo = make_dvx_repo(path)
    (repo / "data" / "images").mkdir(parents=True)
    (repo / "data" / "a.csv").write_bytes(b"id,x\n1,2\n")
    (repo / "data" / "images" / "x").write_bytes(b"x" * 100)
    (repo / "data" / "images" / "y").write_bytes(b"y" * 100)
    (repo / "archive").mkdir()
    (repo / "archive" / "README").write_text("old things\n")
    run_dvx(repo, "add", "data/a.csv", "data/images")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "track", "--no-verify")
    return repo


def _porcelain(repo: Path, *extra: str) -> set[str]:
    return set(git(repo, "status", "--porcelain", "--untracked-files=all", *extra).stdout.splitlines())


def _pointer_id(p: Path) -> str:
    return next(ln for ln in p.read_text().splitlines() if ln.startswith("id: "))


def test_mv_file_into_folder_and_dir_across_folders_then_clone_pulls(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    ids = {n: _pointer_id(repo / "data" / n) for n in ("a.csv.dvx", "images.dvx")}
    cp = run_dvx(repo, "mv", "data/a.csv", "archive")  # an existing folder: goes inside, as mv does
    assert "moved data/a.csv -> archive/a.csv" in cp.stdout
    assert (repo / "archive" / "a.csv").read_bytes() == b"id,x\n1,2\n"
    assert not (repo / "data" / "a.csv").exists() and not (repo / "data" / "a.csv.dvx").exists()
    assert _pointer_id(repo / "archive" / "a.csv.dvx") == ids["a.csv.dvx"]
    assert "archive/a.csv is stored" in (repo / "archive" / "a.csv.dvx").read_text()
    run_dvx(repo, "mv", "data/images", "pics")
    assert sorted(p.name for p in (repo / "pics").iterdir()) == ["x", "y"]
    assert _pointer_id(repo / "pics.dvx") == ids["images.dvx"]
    # data/.gitignore held only dvx lines: it goes, as DVC removes an emptied .gitignore
    assert not (repo / "data" / ".gitignore").exists()
    # git sees the pointers and .gitignore files change, the data ignored at its new place, nothing else
    ignored = {ln for ln in _porcelain(repo, "--ignored") if ln.startswith("!! ") and ".dvx/" not in ln}
    assert ignored == {"!! archive/a.csv", "!! pics/x", "!! pics/y"}
    assert _porcelain(repo) == {
        " D data/.gitignore", " D data/a.csv.dvx", " D data/images.dvx",
        "?? .gitignore", "?? archive/.gitignore", "?? archive/a.csv.dvx", "?? pics.dvx",
    }
    st = run_dvx(repo, "status")
    assert "2 tracked paths, all unchanged" in st.stdout
    assert "0 restored, 0 removed, 3 unchanged" in run_dvx(repo, "checkout").stdout
    # the printed `git add` line records the whole move (the old pointer was never committed: not named)
    line = printed_hint(run_dvx(repo, "mv", "archive/a.csv", "archive/b.csv"))
    assert line == "git add archive/b.csv.dvx archive/.gitignore"
    subprocess.run(line, shell=True, cwd=repo, check=True, capture_output=True)
    assert {"A  archive/b.csv.dvx", "A  archive/.gitignore"} <= _porcelain(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "move", "--no-verify")
    assert _porcelain(repo) == set()
    # a fresh clone pulls the data at the new paths
    run_dvx(repo, "remote", "add", "-d", "store", str(tmp_path / "store"))
    run_dvx(repo, "push")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    run_dvx(clone, "remote", "add", "-d", "store", str(tmp_path / "store"))
    run_dvx(clone, "pull")
    assert (clone / "archive" / "b.csv").read_bytes() == b"id,x\n1,2\n"
    assert (clone / "pics" / "y").read_bytes() == b"y" * 100
    assert not (clone / "data").exists()


def test_mv_autostage_stages_like_git_mv(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    cfg = repo / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace("autostage = false", "autostage = true"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "autostage", "--no-verify")
    cp = run_dvx(repo, "mv", "data/a.csv", "b.csv", "--json")
    assert '"staged": true' in cp.stdout
    # the old pointer's removal and the new one are in the index; nothing left unstaged or untracked
    assert _porcelain(repo) == {"A  .gitignore", "R  data/a.csv.dvx -> b.csv.dvx", "M  data/.gitignore"}
    assert "hint:" not in run_dvx(repo, "rm", "b.csv").stdout
    assert _porcelain(repo) == {"M  data/.gitignore", "D  data/a.csv.dvx", "?? b.csv"}


def test_mv_refusals_and_their_hints(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    (repo / "loose.csv").write_text("a\n")

    def refused(*args: str, code: int = 2) -> subprocess.CompletedProcess[str]:
        cp = run_dvx(repo, "mv", *args, check=False)
        assert cp.returncode == code, cp.stderr
        return cp

    assert "no such tracked path" in refused("nope", "x").stderr
    assert "inside the tracked directory" in refused("data/images/x", "x").stderr
    assert "inside the tracked directory" in refused("data/a.csv", "data/images/a.csv").stderr
    assert "never writes into .git" in refused("data/a.csv", ".git/a.csv").stderr
    assert "never writes into .dvx" in refused("data/a.csv", ".dvx/").stderr
    assert "inside data/images itself" in refused("data/images", "data/images/sub/").stderr
    assert "would be read as a pointer file" in refused("data/a.csv", "b.dvx").stderr
    (repo / "taken.csv").write_text("mine\n")
    cp = refused("data/a.csv", "taken.csv")
    assert commands(cp) == ["dvx mv -f data/a.csv taken.csv"]
    follow(repo, commands(cp)[0])
    assert (repo / "taken.csv").read_bytes() == b"id,x\n1,2\n"
    assert (repo / "taken.csv.dvx").is_file()
    (repo / "archive" / "images").mkdir()
    assert "is a folder" in refused("-f", "data/images", "archive/").stderr
    assert (repo / "data" / "images" / "x").is_file()
    cp = refused("loose.csv", "l.csv")
    assert commands(cp) == ["dvx add loose.csv"]
    follow(repo, commands(cp)[0])
    run_dvx(repo, "mv", "loose.csv", "l.csv")
    assert (repo / "l.csv.dvx").is_file() and not (repo / "loose.csv.dvx").exists()
    git(repo, "add", "archive/README")
    assert "already tracked by git" in refused("l.csv", "archive/README", "-f").stderr


def _chattr(path: Path, flag: str) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def test_mv_rerun_completes_a_partial_move(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    # a move stopped after steps 1-3 (data renamed, old pointer and line still there): the committed
    # old pointer and .gitignore put back make exactly that state (not `git checkout`: its hook pulls)
    run_dvx(repo, "mv", "data/a.csv", "archive/")
    for f in ("data/a.csv.dvx", "data/.gitignore"):
        (repo / f).write_text(git(repo, "show", f"HEAD:{f}").stdout)
    cp = run_dvx(repo, "mv", "data/a.csv", "archive/")
    assert not (repo / "data" / "a.csv.dvx").exists()
    assert "/a.csv" not in (repo / "data" / ".gitignore").read_text()
    assert (repo / "archive" / "a.csv").is_file() and "moved" in cp.stdout
    # a move that fails at the rename (an immutable source folder) after writing the new pointer
    if not _chattr(repo / "data", "+i"):
        pytest.skip("chattr +i is not available here (needs ext4/xfs/btrfs and CAP_LINUX_IMMUTABLE)")
    try:
        cp = run_dvx(repo, "mv", "data/images", "archive/", check=False)
    finally:
        _chattr(repo / "data", "-i")
    assert cp.returncode == 1, cp.stderr
    assert (repo / "archive" / "images.dvx").is_file() and (repo / "data" / "images.dvx").is_file()
    assert "/images" in (repo / "archive" / ".gitignore").read_text()
    assert commands(cp) == ["dvx mv data/images archive/images"]
    follow(repo, commands(cp)[0])  # the rerun finds its own pointer at the target and finishes
    assert sorted(p.name for p in (repo / "archive" / "images").iterdir()) == ["x", "y"]
    assert not (repo / "data" / "images.dvx").exists() and not (repo / "data" / "images").exists()
    assert "unchanged" in run_dvx(repo, "status").stdout


def test_rm_keeps_data_outs_deletes_and_refuses_unsaved_changes(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    cp = run_dvx(repo, "rm", "data/a.csv.dvx")
    assert "data kept" in cp.stdout
    assert (repo / "data" / "a.csv").read_bytes() == b"id,x\n1,2\n"
    assert not (repo / "data" / "a.csv.dvx").exists()
    assert _porcelain(repo) == {" D data/a.csv.dvx", " M data/.gitignore", "?? data/a.csv"}
    # --outs refuses to delete changes the cache does not hold, and both hinted commands resolve it
    (repo / "data" / "images" / "x").write_bytes(b"changed")
    cp = run_dvx(repo, "rm", "--outs", "data/images", check=False)
    assert cp.returncode == 1 and (repo / "data" / "images" / "x").is_file()
    assert commands(cp) == ["dvx add data/images", "dvx rm --outs -f data/images"]
    follow(repo, commands(cp)[0])
    cp = run_dvx(repo, "rm", "--outs", "data/images", "--json")
    assert '"data_removed": true' in cp.stdout
    assert not (repo / "data" / "images").exists() and not (repo / "data" / "images.dvx").exists()
    assert not (repo / "data" / ".gitignore").exists()
    # the cache still has the objects (gc collects them): a checkout of the old pointer restores the data
    (repo / "data" / "images.dvx").write_text(git(repo, "show", "HEAD:data/images.dvx").stdout)
    run_dvx(repo, "checkout", "data/images")
    assert (repo / "data" / "images" / "x").read_bytes() == b"x" * 100
    (repo / "data" / "images" / "y").write_bytes(b"changed too")
    run_dvx(repo, "rm", "--outs", "-f", "data/images")
    assert not (repo / "data" / "images").exists()


def test_rm_rerun_after_a_failed_write(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    if not _chattr(repo / "data", "+i"):
        pytest.skip("chattr +i is not available here (needs ext4/xfs/btrfs and CAP_LINUX_IMMUTABLE)")
    try:
        cp = run_dvx(repo, "rm", "data/a.csv", check=False)
    finally:
        _chattr(repo / "data", "-i")
    assert cp.returncode == 1 and (repo / "data" / "a.csv.dvx").is_file()
    assert commands(cp) == ["dvx rm data/a.csv"]
    follow(repo, commands(cp)[0])
    assert not (repo / "data" / "a.csv.dvx").exists() and (repo / "data" / "a.csv").is_file()
