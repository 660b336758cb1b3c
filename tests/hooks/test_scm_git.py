"""The git helpers behind the hooks, on real repositories (no dvx process)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dvxtest import git, make_git_repo

from dvx import scm


def _commit(repo: Path, files: dict[str, str], msg: str) -> str:
    for name, text in files.items():
        p = repo / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", msg)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def test_read_objects_batch_with_spaces_and_missing(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "r")
    head = _commit(repo, {"a b.csv.dvx": "one\n", "sub/x.dvx": "two"}, "c1")
    (repo / "a b.csv.dvx").write_text("staged\n")
    git(repo, "add", "a b.csv.dvx")
    got = scm.read_objects(repo, ["HEAD", ":a b.csv.dvx", "HEAD:a b.csv.dvx", "HEAD:no such.dvx", ":sub/x.dvx"])
    assert got[0] is not None and got[0][0] == head
    assert got[1] is not None and got[1][1] == b"staged\n"
    assert got[2] is not None and got[2][1] == b"one\n"
    assert got[3] is None
    assert got[4] is not None and got[4][1] == b"two"
    assert scm.staged_pointers(repo) == ["a b.csv.dvx"]
    assert scm.read_objects(make_git_repo(tmp_path / "empty"), ["HEAD", ":x.dvx"]) == [None, None]


def test_commits_to_push_only_new_pointer_commits(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "r")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    c1 = _commit(repo, {"d.csv.dvx": "v1"}, "c1")
    git(repo, "push", "-q", "--no-verify", "origin", "main")
    _commit(repo, {"README": "x"}, "docs only")
    c3 = _commit(repo, {"d.csv.dvx": "v2"}, "c3")
    c4 = _commit(repo, {"deep/e.parquet.dvx": "e"}, "c4")
    refs = [("refs/heads/main", c4, "refs/heads/main", c1)]
    assert scm.commits_to_push(repo, "origin", refs) == [c4, c3]
    # pushing to a URL: no remote-tracking refs, the remote's old sha still excludes
    assert scm.commits_to_push(repo, str(bare), refs) == [c4, c3]
    # a new branch on the remote: remote-tracking refs exclude what origin has
    assert scm.commits_to_push(repo, "origin", [("refs/heads/x", c4, "refs/heads/x", scm.ZERO_SHA)]) == [c4, c3]
    # a deletion pushes nothing
    assert scm.commits_to_push(repo, "origin", [("(delete)", scm.ZERO_SHA, "refs/heads/x", c1)]) == []
    assert scm.changed_pointers(repo, c1, c4) == ["d.csv.dvx", "deep/e.parquet.dvx"]


def test_log_pointer_walks_history_with_gitpython(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "r")
    _commit(repo, {"d.csv.dvx": "v1"}, "first")
    _commit(repo, {"other": "x"}, "unrelated")
    _commit(repo, {"d.csv.dvx": "v2"}, "second\n\nbody")
    git(repo, "rm", "-q", "d.csv.dvx")
    git(repo, "commit", "-qm", "gone")
    log = scm.log_pointer(repo, "d.csv.dvx")
    assert [(v.message, v.text) for v in log] == [("gone", None), ("second", "v2"), ("first", "v1")]
    assert all(v.author == "dvx test" and v.date[:4].isdigit() for v in log)
