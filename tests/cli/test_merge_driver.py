"""The merge driver for pointer files, through real `git merge` in real repositories (docs/merging.md)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from dvxtest import git, make_dvx_repo, make_git_repo, run_dvx, tree_bytes, write_files
from hintkit import printed_hint

from dvx.workspace import pointer as ptr

IMAGES = {"data/images/a.png": b"a" * 3000, "data/images/b.png": b"b" * 5000, "data/images/sub/c.png": b"c" * 700}


def _commit(repo: Path, files: dict[str, bytes], paths: tuple[str, ...], message: str) -> dict[str, ptr.Pointer]:
    """Write ``files``, ``dvx add`` the ``paths`` and commit; the pointers committed."""
    write_files(repo, files)
    run_dvx(repo, "add", "-q", *paths)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message, "--no-verify")  # no suites here: the gate has nothing to check
    return {p: ptr.load(repo / (p + ".dvx")) for p in paths}


def _conflict_line(cp: subprocess.CompletedProcess[str], path: str) -> str:
    lines = [ln for ln in (cp.stdout + cp.stderr).splitlines() if ln.startswith(f"dvx: conflict in {path}: ")]
    assert len(lines) == 1, cp.stdout + cp.stderr
    return lines[0]


def _follow(repo: Path, line: str) -> None:
    """Run a shell line of commands joined by ``&&`` (the driver's advice), each as the real program."""
    for command in line.split(" && "):
        argv = shlex.split(command)
        cp = run_dvx(repo, *argv[1:]) if argv[0] == "dvx" else git(repo, *argv[1:])
        assert cp.returncode == 0, (command, cp.stderr)


def test_init_registers_the_driver_once(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "repo")
    (repo / ".gitattributes").write_text("*.png binary")  # the user's own, no final newline
    hint = printed_hint(run_dvx(repo, "init"))
    run_dvx(repo, "init", "--force", "-q")
    run_dvx(repo, "hooks", "install", "-q")
    text = (repo / ".gitattributes").read_text()
    assert text.startswith("*.png binary\n") and text.count("*.dvx merge=dvx") == 1, text
    assert "merge-driver %O %A %B %P" in git(repo, "config", "merge.dvx.driver").stdout
    assert git(repo, "check-attr", "merge", "--", "data/x.dvx").stdout.strip() == "data/x.dvx: merge: dvx"
    _follow(repo, hint)  # init's hint commits .gitattributes with its other files
    assert git(repo, "show", "HEAD:.gitattributes").stdout == text
    run_dvx(repo, "hooks", "uninstall", "-q")
    assert git(repo, "config", "merge.dvx.driver", check=False).returncode != 0
    run_dvx(repo, "hooks", "install", "-q")  # what a clone runs: the config comes back
    assert git(repo, "config", "merge.dvx.driver").returncode == 0


# One merge, three tracked paths: different files of data/union changed on each side (clean), the
# same file of data/clash changed on both (conflict), and the single file data.csv changed on both.
BASE = {**IMAGES, **{k.replace("images", "clash"): v for k, v in IMAGES.items()}, "data.csv": b"id\n1\n"}
OURS = {"data/union/a.png": b"A" * 3100, "data/union/d.png": b"d" * 900, "data/clash/a.png": b"ours" * 100,
        "data.csv": b"id\n1\n2\n"}
THEIRS = {"data/union/new/e.png": b"e" * 1200, "data/union/b.png": b"B" * 4000,
          "data/clash/a.png": b"theirs" * 100, "data/clash/z.png": b"z", "data.csv": b"id\n1\n3\n"}
TRACKED = ("data/union", "data/clash", "data.csv")


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], dict, dict]:
    """The repository after `git merge feat` into main; git's output; ours' and theirs' pointers."""
    repo = make_dvx_repo(tmp_path_factory.mktemp("merge") / "repo")
    base = {k.replace("images", "union"): v for k, v in BASE.items()}
    _commit(repo, base, TRACKED, "base")
    git(repo, "checkout", "-qb", "feat")
    theirs = _commit(repo, THEIRS, TRACKED, "theirs")
    git(repo, "checkout", "-q", "main")
    ours = _commit(repo, OURS, TRACKED, "ours")
    return repo, git(repo, "merge", "--no-edit", "feat", check=False), ours, theirs


def test_different_files_of_a_directory_merge_into_the_union(merged: tuple) -> None:
    repo, cp, ours, theirs = merged
    assert cp.returncode != 0  # the other two paths conflict
    assert "UU data/union.dvx" not in git(repo, "status", "--porcelain").stdout
    union = ptr.load(repo / "data/union.dvx")
    assert union.oid not in (ours["data/union"].oid, theirs["data/union"].oid) and union.files == 5
    run_dvx(repo, "checkout", "data/union")
    files = {k.replace("images", "union"): v for k, v in IMAGES.items()} | {
        k: v for k, v in {**OURS, **THEIRS}.items() if k.startswith("data/union/")}
    assert tree_bytes(repo / "data/union") == {k[len("data/union/"):]: (v, False) for k, v in files.items()}
    # The merged pointer is the one `dvx add` writes for the union: same id, size, files and chunks.
    run_dvx(repo, "add", "-q", "data/union")
    assert ptr.load(repo / "data/union.dvx") == union


def test_conflicts_name_both_versions_and_the_commands_resolve_them(merged: tuple) -> None:
    repo, cp, ours, theirs = merged
    assert {ln[:3] + ln[3:].strip() for ln in git(repo, "status", "--porcelain").stdout.splitlines()} >= {
        "UU data/clash.dvx", "UU data.csv.dvx"}
    clash = _conflict_line(cp, "data/clash.dvx")
    assert "data/clash/a.png changed differently on both sides" in clash
    o, t = ours["data/clash"], theirs["data/clash"]
    assert f"ours is dir {o.oid[:12]}" in clash and f"theirs is dir {t.oid[:12]}" in clash
    text = (repo / "data/clash.dvx").read_text()
    assert text.startswith("<<<<<<< ours\n") and o.oid in text and t.oid in text
    csv = _conflict_line(cp, "data.csv.dvx")
    assert "the file changed differently on both sides" in csv
    assert f"ours is file {ours['data.csv'].oid[:12]}" in csv and f"theirs is file {theirs['data.csv'].oid[:12]}" in csv
    keep = re.findall(r"`([^`]+)`", clash)
    assert keep[:2] == ["git checkout --ours data/clash.dvx && dvx checkout data/clash",
                        "git checkout --theirs data/clash.dvx && dvx checkout data/clash"]
    _follow(repo, keep[1])  # theirs for the directory
    _follow(repo, keep[2])
    keep = re.findall(r"`([^`]+)`", csv)
    _follow(repo, keep[0])  # ours for the file
    _follow(repo, keep[2])
    git(repo, "add", "data/union.dvx")
    git(repo, "commit", "-q", "--no-edit", "--no-verify")
    assert ptr.load(repo / "data/clash.dvx") == t
    assert (repo / "data/clash/a.png").read_bytes() == THEIRS["data/clash/a.png"]
    assert (repo / "data/clash/z.png").read_bytes() == b"z"
    assert (repo / "data.csv").read_bytes() == OURS["data.csv"]
    assert "all unchanged" in run_dvx(repo, "status").stdout
    assert git(repo, "status", "--porcelain").stdout == ""


def test_same_change_on_both_sides_and_unparseable_pointers(tmp_path: Path) -> None:
    """The driver alone, as git calls it: equal data is clean; a pointer that does not parse is a conflict."""
    repo = tmp_path  # no repository needed: same data merges without reading the cache
    o = ptr.Pointer("dir", "1" * 32, 10, 2, 2)
    files = {"O": "", "A": o.dumps("d"), "B": ptr.Pointer("dir", "1" * 32, 10, 2, 2, "2" * 32).dumps("d")}
    for name, text in files.items():
        (repo / name).write_text(text)
    cp = run_dvx(repo, "merge-driver", "O", "A", "B", "d.dvx")
    assert ptr.load(repo / "A") == ptr.Pointer("dir", "1" * 32, 10, 2, 2, "2" * 32)  # theirs' profile kept
    (repo / "B").write_text("format: 1\ntype: dir\nid: nothex\n")
    cp = run_dvx(repo, "merge-driver", "O", "A", "B", "d.dvx", check=False)
    assert cp.returncode == 1 and "dvx: conflict in d.dvx: " in cp.stderr and "theirs is unparseable" in cp.stderr
    assert (repo / "A").read_text().startswith("<<<<<<< ours\n")


def test_a_tree_missing_from_the_cache_fails_with_the_fetch_advice(tmp_path: Path) -> None:
    origin = make_dvx_repo(tmp_path / "origin")
    _commit(origin, IMAGES, ("data/images",), "base")
    git(origin, "checkout", "-qb", "feat")
    _commit(origin, {"data/images/e.png": b"e"}, ("data/images",), "theirs")
    git(origin, "checkout", "-q", "main")
    _commit(origin, {"data/images/d.png": b"d"}, ("data/images",), "ours")
    store = str(tmp_path / "store")
    run_dvx(origin, "remote", "add", "--local", "-d", "store", store)
    run_dvx(origin, "push", "--rev", "main", "--rev", "feat", "--rev", "main~1")  # main~1: the merge base
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    run_dvx(clone, "remote", "add", "--local", "-d", "store", store)
    run_dvx(clone, "hooks", "install", "-q")  # a clone's git config has no merge driver until then
    run_dvx(clone, "pull")
    cp = git(clone, "merge", "--no-edit", "origin/feat", check=False)
    assert cp.returncode != 0
    line = _conflict_line(cp, "data/images.dvx")
    assert "the cache lacks the tree of base" in line and " and theirs (" in line
    assert "`git merge --abort`, then `dvx pull` with each version" in line
    git(clone, "merge", "--abort")
    base = git(clone, "merge-base", "HEAD", "origin/feat").stdout.strip()
    for rev in (base, "feat"):
        git(clone, "checkout", "-q", rev)
        run_dvx(clone, "pull")
    git(clone, "checkout", "-q", "main")
    cp = git(clone, "merge", "--no-edit", "feat", check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    run_dvx(clone, "checkout")
    assert sorted(p.name for p in (clone / "data/images").rglob("*.png")) == ["a.png", "b.png", "c.png", "d.png", "e.png"]
