""".dvxignore through the CLI: add skips the paths, status does not see them, checkout does not delete them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dvxtest import git, make_dvx_repo, run_dvx, write_files


def _files(repo: Path) -> int:
    (entry,) = json.loads(run_dvx(repo, "ls", "--json").stdout)
    return int(entry["files"])


def test_dvxignore_at_root_and_nested_with_negation(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    write_files(repo, {
        ".dvxignore": b"# scratch files\n*.tmp\ncache/\n!keep.tmp\n",
        "data/images/a.txt": b"a",
        "data/images/b.tmp": b"b",
        "data/images/keep.tmp": b"kept by the negation",
        "data/images/cache/x.bin": b"x",
        "data/images/sub/.dvxignore": b"!c.tmp\n",  # deeper file wins over the root's *.tmp
        "data/images/sub/c.tmp": b"c",
        "data/images/sub/d.tmp": b"d",
    })
    run_dvx(repo, "add", "data/images")
    assert _files(repo) == 4  # a.txt, keep.tmp, sub/.dvxignore, sub/c.tmp
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "track", "--no-verify")
    # new ignored files change nothing
    write_files(repo, {"data/images/new.tmp": b"n", "data/images/cache/y.bin": b"y"})
    assert "all unchanged" in run_dvx(repo, "status").stdout
    # checkout restores what is tracked and leaves the ignored files alone
    (repo / "data" / "images" / "a.txt").unlink()
    run_dvx(repo, "checkout")
    for kept in ("a.txt", "b.tmp", "new.tmp", "cache/x.bin", "sub/d.tmp"):
        assert (repo / "data" / "images" / kept).is_file(), kept
    assert "all unchanged" in run_dvx(repo, "status").stdout
    # the root file is outside the tree, yet a change to it changes what the tree holds
    (repo / ".dvxignore").write_text("cache/\n")
    assert "modified" in run_dvx(repo, "status", check=False).stdout
    run_dvx(repo, "add", "data/images")
    assert _files(repo) == 7  # a.txt, b.tmp, keep.tmp, new.tmp, sub/.dvxignore, sub/c.tmp, sub/d.tmp


def test_dvxignore_refusals(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    write_files(repo, {"data/images/a.txt": b"a", ".dvxignore": b"data/\n"})
    cp = run_dvx(repo, "add", "data/images", check=False)
    assert cp.returncode == 2 and "is ignored by a .dvxignore file" in cp.stderr
    # a link could make dvx read any file on the machine as patterns
    (repo / ".dvxignore").unlink()
    os.symlink("/etc/hostname", repo / ".dvxignore")
    cp = run_dvx(repo, "add", "data/images", check=False)
    assert cp.returncode == 2 and ".dvxignore: is a symbolic link" in cp.stderr
