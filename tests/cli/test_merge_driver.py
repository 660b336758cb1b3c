"""The merge driver for pointer files, through real `git merge` in real repositories (docs/merging.md)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from dvxtest import git, make_dvx_repo, run_dvx, tree_bytes, write_files

from dvx.workspace import pointer as ptr

IMAGES = {"data/images/a.png": b"a" * 3000, "data/images/b.png": b"b" * 5000, "data/images/sub/c.png": b"c" * 700}


def _commit(repo: Path, files: dict[str, bytes], path: str, message: str) -> ptr.Pointer:
    """Write ``files``, ``dvx add path`` and commit; the pointer committed."""
    write_files(repo, files)
    run_dvx(repo, "add", "-q", path)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message, "--no-verify")  # no suites here: the gate has nothing to check
    return ptr.load(repo / (path + ".dvx"))


def _branches(tmp_path: Path, path: str, base: dict[str, bytes], ours: dict[str, bytes],
              theirs: dict[str, bytes]) -> tuple[Path, ptr.Pointer, ptr.Pointer]:
    """A repository where ``main`` (ours) and ``feat`` (theirs) changed ``path`` since ``base``; on main."""
    repo = make_dvx_repo(tmp_path / "repo")
    _commit(repo, base, path, "base")
    git(repo, "checkout", "-qb", "feat")
    t = _commit(repo, theirs, path, "theirs")
    git(repo, "checkout", "-q", "main")
    o = _commit(repo, ours, path, "ours")
    return repo, o, t


def _conflict_line(cp: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (cp.stdout + cp.stderr).splitlines() if ln.startswith("dvx: conflict in ")]
    assert len(lines) == 1, cp.stdout + cp.stderr
    return lines[0]


def _follow(repo: Path, line: str) -> None:
    """Run a shell line of commands joined by ``&&`` (the driver's advice), each as the real program."""
    for command in line.split(" && "):
        argv = shlex.split(command)
        cp = run_dvx(repo, *argv[1:]) if argv[0] == "dvx" else git(repo, *argv[1:])
        assert cp.returncode == 0, (command, cp.stderr)


def test_init_registers_the_driver_once(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / ".gitattributes").write_text("*.png binary")  # the user's own, no final newline
    make_dvx_repo(repo)
    run_dvx(repo, "init", "--force", "-q")
    run_dvx(repo, "hooks", "install", "-q")
    text = (repo / ".gitattributes").read_text()
    assert text.startswith("*.png binary\n") and text.count("*.dvx merge=dvx") == 1, text
    assert "merge-driver %O %A %B %P" in git(repo, "config", "merge.dvx.driver").stdout
    assert git(repo, "check-attr", "merge", "--", "data/x.dvx").stdout.strip() == "data/x.dvx: merge: dvx"
    git(repo, "add", "-A")  # init's hint stages .gitattributes with its other files
    assert ".gitattributes" in git(repo, "diff", "--cached", "--name-only").stdout.split()
    run_dvx(repo, "hooks", "uninstall", "-q")
    assert git(repo, "config", "merge.dvx.driver", check=False).returncode != 0
    run_dvx(repo, "hooks", "install", "-q")  # what a clone runs: the config comes back
    assert git(repo, "config", "merge.dvx.driver").returncode == 0


def test_different_files_of_a_directory_merge_into_the_union(tmp_path: Path) -> None:
    ours = {"data/images/a.png": b"A" * 3100, "data/images/d.png": b"d" * 900}
    theirs = {"data/images/new/e.png": b"e" * 1200, "data/images/b.png": b"B" * 4000}
    repo, o, t = _branches(tmp_path, "data/images", IMAGES, ours, theirs)
    cp = git(repo, "merge", "--no-edit", "feat", check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    merged = ptr.load(repo / "data/images.dvx")
    assert merged.oid not in (o.oid, t.oid) and merged.files == 5
    run_dvx(repo, "checkout", "data/images")
    union = {**IMAGES, **ours, **theirs}
    assert tree_bytes(repo / "data/images") == {k[len("data/images/"):]: (v, False) for k, v in union.items()}
    # The merged pointer is the one `dvx add` writes for the union: same id, size, files and chunks.
    run_dvx(repo, "add", "-q", "data/images")
    assert git(repo, "status", "--porcelain").stdout == ""
    assert ptr.load(repo / "data/images.dvx") == merged


def test_same_file_changed_on_both_sides_is_a_conflict_the_commands_resolve(tmp_path: Path) -> None:
    ours = {"data/images/a.png": b"ours" * 100}
    theirs = {"data/images/a.png": b"theirs" * 100, "data/images/z.png": b"z"}
    repo, o, t = _branches(tmp_path, "data/images", IMAGES, ours, theirs)
    cp = git(repo, "merge", "--no-edit", "feat", check=False)
    assert cp.returncode != 0
    line = _conflict_line(cp)
    assert "data/images/a.png changed differently on both sides" in line
    assert f"ours is dir {o.oid[:12]}" in line and f"theirs is dir {t.oid[:12]}" in line
    assert git(repo, "status", "--porcelain").stdout.startswith("UU data/images.dvx")
    text = (repo / "data/images.dvx").read_text()
    assert text.startswith("<<<<<<< ours\n") and o.oid in text and t.oid in text
    # The advice: keep theirs.
    keep = re.findall(r"`([^`]+)`", line)
    assert keep[:2] == ["git checkout --ours data/images.dvx && dvx checkout data/images",
                        "git checkout --theirs data/images.dvx && dvx checkout data/images"]
    _follow(repo, keep[1])
    _follow(repo, keep[2])
    git(repo, "commit", "-q", "--no-edit")
    assert ptr.load(repo / "data/images.dvx") == t
    assert (repo / "data/images/a.png").read_bytes() == theirs["data/images/a.png"]
    assert (repo / "data/images/z.png").read_bytes() == b"z"
    assert "all unchanged" in run_dvx(repo, "status").stdout
    assert git(repo, "status", "--porcelain").stdout == ""


def test_a_file_pointer_changed_on_both_sides_is_a_conflict(tmp_path: Path) -> None:
    repo, o, t = _branches(tmp_path, "data.csv", {"data.csv": b"id\n1\n"}, {"data.csv": b"id\n1\n2\n"},
                           {"data.csv": b"id\n1\n3\n"})
    cp = git(repo, "merge", "--no-edit", "feat", check=False)
    assert cp.returncode != 0
    line = _conflict_line(cp)
    assert f"ours is file {o.oid[:12]}" in line and f"theirs is file {t.oid[:12]}" in line
    keep = re.findall(r"`([^`]+)`", line)
    _follow(repo, keep[0])
    _follow(repo, keep[2])
    git(repo, "commit", "-q", "--no-edit")
    assert (repo / "data.csv").read_bytes() == b"id\n1\n2\n"
    assert git(repo, "status", "--porcelain").stdout == ""


def test_same_change_on_both_sides_and_unparseable_pointers(tmp_path: Path) -> None:
    """The driver alone, as git calls it: equal data is clean; a pointer that does not parse is a conflict."""
    repo = make_dvx_repo(tmp_path / "repo")
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
    origin, _o, _t = _branches(tmp_path, "data/images", IMAGES, {"data/images/d.png": b"d"},
                               {"data/images/e.png": b"e"})
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
    line = _conflict_line(cp)
    assert "the cache lacks the tree of base" in line and " and theirs (" in line
    assert "`git merge --abort`, then `dvx pull` with each version" in line
    git(clone, "merge", "--abort")
    base = git(clone, "merge-base", "HEAD", "origin/feat").stdout.strip()
    for rev in (base, "feat", "main"):
        git(clone, "checkout", "-q", rev)
        run_dvx(clone, "pull")
    cp = git(clone, "merge", "--no-edit", "feat", check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    run_dvx(clone, "checkout")
    assert sorted(p.name for p in (clone / "data/images").rglob("*.png")) == ["a.png", "b.png", "c.png", "d.png", "e.png"]
