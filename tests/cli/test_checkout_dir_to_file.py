"""A tracked folder's entry that becomes a file in another version (hypothesis found `data/0/0` -> `data/0`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from dvxtest import git, make_dvx_repo, run_dvx


def _two_versions(tmp_path: Path) -> Path:
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / "data").mkdir()
    (repo / "data" / "0").write_bytes(b"v1 file\n")
    run_dvx(repo, "add", "data")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    shutil.rmtree(repo / "data")
    (repo / "data" / "0").mkdir(parents=True)
    (repo / "data" / "0" / "0").write_bytes(b"")
    (repo / "data" / "0" / "1").write_bytes(b"v2 inner file\n")
    run_dvx(repo, "add", "data")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v2", "--no-verify")
    # the older pointer only (the post-checkout hook would run `dvx checkout` itself)
    git(repo, "-c", "core.hooksPath=/dev/null", "checkout", "-q", "HEAD~1", "--", "data.dvx")
    assert (repo / "data" / "0").is_dir()
    return repo


def test_a_cached_folder_in_the_way_of_a_file_is_replaced(tmp_path: Path) -> None:
    repo = _two_versions(tmp_path)
    run_dvx(repo, "checkout", "data")
    assert (repo / "data" / "0").read_bytes() == b"v1 file\n"


def test_a_folder_holding_uncached_data_is_kept_unless_forced(tmp_path: Path) -> None:
    repo = _two_versions(tmp_path)
    (repo / "data" / "0" / "mine.txt").write_bytes(b"only copy\n")
    cp = run_dvx(repo, "checkout", "data", check=False)
    assert cp.returncode == 1 and "data/0" in cp.stderr and "--force" in cp.stderr, cp.stderr
    assert (repo / "data" / "0" / "mine.txt").read_bytes() == b"only copy\n"
    run_dvx(repo, "checkout", "--force", "data")  # the hint's second command
    assert (repo / "data" / "0").read_bytes() == b"v1 file\n"


def test_a_folder_holding_a_link_is_kept(tmp_path: Path) -> None:
    repo = _two_versions(tmp_path)
    (repo / "data" / "0" / "link").symlink_to(tmp_path)
    cp = run_dvx(repo, "checkout", "data", check=False)
    assert cp.returncode == 1, cp.stderr
    assert (repo / "data" / "0" / "link").is_symlink()
