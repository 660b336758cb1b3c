"""File-level ``status`` and ``diff`` inside tracked directories, and ``status --exit-code`` (issue 14, items 2-3).

One repository (module scope) holds two commits of ``data/images``: the
second modifies, deletes, adds and renames files. Every check runs the real
CLI; the workspace is put back after each test that changes it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from dvxtest import git, make_dvx_repo, run_dvx, write_files

D = "data/images"
V1 = {"a.txt": b"alpha\n", "b.txt": b"bravo\n", "c.txt": b"charlie\n", "d.txt": b"delta\n"}


def _lists(doc: dict) -> dict[str, list]:
    """DVC's four lists of a status entry's ``files`` or of ``diff --json``, paths only."""
    out: dict[str, list] = {k: [e["path"] for e in doc[k]] for k in ("added", "deleted", "modified")}
    out["renamed"] = [(e["path"]["old"], e["path"]["new"]) for e in doc["renamed"]]
    return out


def _change_v2(repo: Path) -> None:
    """b modified, c deleted, d renamed to d2, e added."""
    img = repo / D
    (img / "b.txt").write_bytes(b"BRAVO!\n")
    (img / "c.txt").unlink()
    (img / "d.txt").rename(img / "d2.txt")
    (img / "e.txt").write_bytes(b"echo\n")


V2_FILES = {
    "added": [f"{D}/e.txt"], "deleted": [f"{D}/c.txt"], "modified": [f"{D}/b.txt"],
    "renamed": [(f"{D}/d.txt", f"{D}/d2.txt")],
}


@pytest.fixture(scope="module")
def hist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Commit 1: data/images (4 files) and one.bin; commit 2: data/images changed as ``_change_v2``."""
    repo = make_dvx_repo(tmp_path_factory.mktemp("files") / "repo")
    write_files(repo / D, V1)
    (repo / "data" / "one.bin").write_bytes(b"1" * 3000)
    run_dvx(repo, "add", D, "data/one.bin")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    _change_v2(repo)
    run_dvx(repo, "add", D)
    git(repo, "commit", "-qam", "v2")
    return repo


def _restore(repo: Path) -> None:
    """The workspace as committed: pointers from HEAD, data from the cache."""
    git(repo, "checkout", "-q", "HEAD", "--", ".")
    for extra in (repo / D).iterdir():
        if extra.name not in ("a.txt", "b.txt", "d2.txt", "e.txt"):
            extra.unlink()
    run_dvx(repo, "checkout", "-f")
    assert run_dvx(repo, "status", "--exit-code").returncode == 0


def test_diff_between_two_commits_lists_files(hist: Path) -> None:
    doc = json.loads(run_dvx(hist, "diff", "HEAD~1", "HEAD", "--json").stdout)
    top = _lists(doc)
    assert top == {**V2_FILES, "modified": [f"{D}/", f"{D}/b.txt"]}, top  # the directory as dvc diff shows it
    assert doc["not in cache"] == []
    (ds,) = doc["datasets"]
    assert ds["kind"] == "dir" and _lists(ds["files"]) == V2_FILES
    text = run_dvx(hist, "diff", "HEAD~1", "HEAD").stdout
    sections = text[text.index("\nAdded:"):]
    assert sections == (
        f"\nAdded:\n    {D}/e.txt\n"
        f"\nDeleted:\n    {D}/c.txt\n"
        f"\nModified:\n    {D}/\n    {D}/b.txt\n"
        f"\nRenamed:\n    {D}/d.txt -> {D}/d2.txt\n"
        "\nfiles summary: 1 added, 1 deleted, 1 modified, 1 renamed\n"
    ), sections
    # reversed: the same changes the other way round
    back = _lists(json.loads(run_dvx(hist, "diff", "HEAD", "HEAD~1", "--json").stdout))
    assert back["added"] == [f"{D}/c.txt"] and back["deleted"] == [f"{D}/e.txt"]
    assert back["renamed"] == [(f"{D}/d2.txt", f"{D}/d.txt")]


def test_status_lists_files_and_diff_against_the_workspace(hist: Path) -> None:
    img = hist / D
    (img / "a.txt").write_bytes(b"ALPHA\n")
    (img / "e.txt").unlink()
    (img / "new\nline.txt").write_bytes(b"crafted name\n")
    try:
        cp = run_dvx(hist, "status", check=False)
        assert cp.returncode == 0  # changes are not an error without --exit-code
        assert cp.stdout.splitlines() == [
            f"modified                 {D}",
            f'    added     "{D}/new\\nline.txt"',  # quoted: a name cannot forge a line
            f"    deleted   {D}/e.txt",
            f"    modified  {D}/a.txt",
        ], cp.stdout
        (p,) = [p for p in json.loads(run_dvx(hist, "status", "--json").stdout)["paths"] if p["path"] == D]
        assert p["state"] == "modified" and p["problems"] == ["modified"]
        assert _lists(p["files"]) == {"added": [f"{D}/new\nline.txt"], "deleted": [f"{D}/e.txt"],
                                      "modified": [f"{D}/a.txt"], "renamed": []}
        # diff against the workspace compares pointer files: nothing until the change is added
        assert "no tracked dataset changed" in run_dvx(hist, "diff").stdout
        run_dvx(hist, "add", D)
        doc = json.loads(run_dvx(hist, "diff", "--json").stdout)
        assert doc["b"] == "workspace" and _lists(doc["datasets"][0]["files"])["deleted"] == [f"{D}/e.txt"]
        assert [e["path"] for e in doc["added"]] == [f"{D}/new\nline.txt"]
    finally:
        _restore(hist)


def test_large_change_is_summarised(hist: Path) -> None:
    write_files(hist / D, {f"n{i:02d}.txt": b"n%d\n" % i for i in range(25)})
    (hist / D / "a.txt").write_bytes(b"changed\n")
    try:
        lines = run_dvx(hist, "status").stdout.splitlines()
        assert lines[0] == f"modified                 {D}  (+25 added, -0 deleted, ~1 modified; -v or --json for all)"
        assert lines[1:] == [f"    added     {D}/n{i:02d}.txt" for i in range(5)] + [
            "    ... 20 more added", f"    modified  {D}/a.txt"], lines
        verbose = run_dvx(hist, "status", "-v").stdout
        assert verbose.count("    added ") == 25 and "more added" not in verbose
        (p,) = [p for p in json.loads(run_dvx(hist, "status", "--json").stdout)["paths"] if p["path"] == D]
        assert len(p["files"]["added"]) == 25
        run_dvx(hist, "add", D)
        text = run_dvx(hist, "diff").stdout
        assert f"    ... 20 more in {D}/\n" in text
        assert f"{D}/: +25 added, -0 deleted, ~1 modified (-v or --json for all)\n" in text
        assert text.endswith("files summary: 25 added, 0 deleted, 1 modified\n")
        assert run_dvx(hist, "diff", "-v").stdout.count(f"    {D}/n") == 25
    finally:
        _restore(hist)


def test_exit_code_for_each_cause(hist: Path, tmp_path: Path) -> None:
    def code(repo: Path, *args: str) -> int:
        return run_dvx(repo, "status", *args, check=False).returncode

    assert code(hist, "--exit-code") == 0 and code(hist, "-q") == 0
    (hist / "data" / "one.bin").write_bytes(b"2" * 3000)  # modified
    try:
        assert code(hist, "--exit-code") == 1
        cp = run_dvx(hist, "status", "-q", check=False)
        assert (cp.returncode, cp.stdout, cp.stderr) == (1, "", "")
        assert code(hist) == 0  # without --exit-code / -q the changes are only reported
        assert code(hist, "--exit-code", D) == 0  # only the paths asked about count
    finally:
        _restore(hist)
    (hist / "data" / "one.bin").unlink()  # deleted
    try:
        assert code(hist, "--exit-code") == 1
        assert json.loads(run_dvx(hist, "status", "--json").stdout)["clean"] is False
    finally:
        _restore(hist)
    # not in the cache: a clone with the data copied in by hand, unchanged
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(hist), str(clone))
    shutil.copytree(hist / D, clone / D)
    shutil.copy(hist / "data" / "one.bin", clone / "data" / "one.bin")
    st = json.loads(run_dvx(clone, "status", "--json").stdout)
    assert {p["path"]: p["problems"] for p in st["paths"]} == {D: ["not in cache"], "data/one.bin": ["not in cache"]}
    assert code(clone, "--exit-code") == 1 and code(clone, "-q") == 1
    # and diff, without the trees, says which directory it cannot list
    doc = json.loads(run_dvx(clone, "diff", "HEAD~1", "HEAD", "--json").stdout)
    assert doc["not in cache"] == [{"path": f"{D}/"}] and doc["datasets"][0]["files"] is None
    assert f"{D}/: files unknown" in run_dvx(clone, "diff", "HEAD~1", "HEAD").stdout
