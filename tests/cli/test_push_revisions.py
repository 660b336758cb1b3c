"""``dvx push``/``fetch`` beyond HEAD (``--all-commits``, ``--all-branches``, ``--all-tags``, ``--rev``)
and ``dvx status -c``'s note of committed versions the remote lacks.

One history shared by the module: three commits on ``main`` with different
versions of a file and a directory (the first tagged ``v1``, annotated), and
a branch ``side`` with a version of its own. Each test pushes to its own
remote folder, so none sees another's pushes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from dvxtest import env, git, make_dvx_repo, run_dvx, tree_bytes, write_files


def _version(i: int) -> dict[str, bytes]:
    rows = "".join(f"{k},{k * i}\n" for k in range(200 * i))
    files = {"t.csv": f"id,x\n{rows}".encode(), "d/same.txt": b"unchanged\n", f"d/f{i}.txt": f"v{i}\n".encode() * 50}
    return files


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The origin repository, its commits by name and the bytes of t.csv and d/ at each."""
    base = tmp_path_factory.mktemp("revs")
    origin = make_dvx_repo(base / "origin")
    commits: dict[str, str] = {}
    data: dict[str, dict[str, tuple[bytes, bool]]] = {}

    def commit(name: str, files: dict[str, bytes]) -> None:
        shutil.rmtree(origin / "d", ignore_errors=True)
        write_files(origin, files)
        run_dvx(origin, "add", "t.csv", "d")
        git(origin, "add", "-A")
        git(origin, "commit", "-qm", name, "--no-verify")
        commits[name] = git(origin, "rev-parse", "HEAD").stdout.strip()
        data[name] = _data(origin)

    commit("c1", _version(1))
    git(origin, "tag", "-a", "v1", "-m", "first")
    commit("c2", _version(2))
    git(origin, "checkout", "-qb", "side")
    commit("side", _version(7))
    git(origin, "checkout", "-q", "main")
    commit("c3", _version(3))
    return {"base": base, "origin": origin, "commits": commits, "data": data}


def _data(repo: Path) -> dict[str, tuple[bytes, bool]]:
    return {k: v for k, v in tree_bytes(repo).items() if k == "t.csv" or k.startswith("d/")}


def _clone(h: dict[str, object], name: str, store: Path) -> Path:
    """A fresh clone of origin whose default remote is ``store``."""
    dest = Path(str(h["base"])) / name
    git(Path(str(h["base"])), "clone", "-q", str(h["origin"]), str(dest))
    run_dvx(dest, "remote", "add", "-d", "copy", str(store))
    return dest


def _checkout(repo: Path, rev: str, *, pull: bool) -> None:
    git(repo, "checkout", "-q", rev)
    run_dvx(repo, "pull" if pull else "checkout")


def _each_checks_out(h: dict, clone: Path, names: tuple[str, ...], *, pull: bool) -> None:
    """Each commit of ``names`` checked out (``dvx pull`` or ``dvx checkout``) gives that commit's bytes."""
    for name in names:
        _checkout(clone, h["commits"][name], pull=pull)
        assert _data(clone) == h["data"][name], name


def test_push_sends_head_only_status_c_names_the_rest_and_push_all_commits_fixes_it(history: dict) -> None:
    origin, c = history["origin"], history["commits"]
    store = history["base"] / "store-a"
    run_dvx(origin, "remote", "add", "a", str(store))
    run_dvx(origin, "push", "-r", "a")
    out = run_dvx(origin, "status", "-c", "-r", "a").stdout.splitlines()
    assert out[0] == "2 tracked paths, all on the remote"
    # t.csv and d at c1 and c2 (the side branch is not in HEAD's history)
    assert out[1] == (f"4 committed versions not on remote 'a' (oldest: {c['c1'][:7]} t.csv); "
                      "run `dvx push --all-commits -r a`"), out
    assert len(out) == 2
    hinted = re.findall(r"`([^`]+)`", out[1])[0].split()
    assert hinted[0] == "dvx"
    run_dvx(origin, *hinted[1:])
    assert run_dvx(origin, "status", "-c", "-A", "-r", "a").stdout.splitlines() == ["2 tracked paths, all on the remote"]
    assert run_dvx(origin, "status", "-A", check=False).returncode == 2  # -A widens -c only

    # A fresh clone and a copy of the remote: every commit pulls byte-identical.
    copy = history["base"] / "store-a-copy"
    shutil.copytree(store, copy)
    clone = _clone(history, "clone-a", copy)
    _each_checks_out(history, clone, ("c3", "c1", "c2"), pull=True)


def test_fetch_rev_of_a_tag_fetches_that_version(history: dict) -> None:
    origin, c, data = history["origin"], history["commits"], history["data"]
    store = history["base"] / "store-t"
    run_dvx(origin, "remote", "add", "t", str(store))
    pushed = json.loads(run_dvx(origin, "push", "-r", "t", "--all-tags", "--json").stdout)
    assert pushed["revisions"] == [c["c1"]] and pushed["skipped"] == []  # the annotated tag, peeled
    clone = _clone(history, "clone-t", store)
    fetched = json.loads(run_dvx(clone, "fetch", "--rev", "v1", "--json").stdout)
    assert fetched["revisions"] == [c["c1"]] and fetched["objects"] > 0
    _checkout(clone, "v1", pull=False)  # from the cache alone
    assert _data(clone) == data["c1"]
    git(clone, "checkout", "-q", c["c2"])
    cp = run_dvx(clone, "checkout", check=False)
    assert cp.returncode == 1 and "not in the cache" in cp.stderr  # c2 was neither pushed nor fetched


def test_pull_with_revisions_checks_out_the_work_tree_and_caches_the_rest(history: dict) -> None:
    """`dvx pull -A` (as DVC's): the work tree's pointers are checked out, every commit's data is cached,
    so an older commit then checks out with the remote gone."""
    origin, c, data = history["origin"], history["commits"], history["data"]
    store = history["base"] / "store-p"
    run_dvx(origin, "remote", "add", "p", str(store))
    run_dvx(origin, "push", "-r", "p", "--all-commits")
    clone = _clone(history, "clone-p", store)
    out = json.loads(run_dvx(clone, "pull", "-A", "--json").stdout)
    assert c["c1"] in out["fetch"]["revisions"] and out["checkout"]["restored"]
    assert _data(clone) == data["c3"]
    shutil.rmtree(store)  # from here on the cache alone
    _each_checks_out(history, clone, ("c1", "c2", "side"), pull=False)


def test_all_branches_takes_a_version_only_a_branch_has(history: dict) -> None:
    origin, c, data = history["origin"], history["commits"], history["data"]
    store = history["base"] / "store-b"
    run_dvx(origin, "remote", "add", "b", str(store))
    run_dvx(origin, "push", "-r", "b", "--all-branches")
    clone = _clone(history, "clone-b", store)
    git(clone, "branch", "side", "origin/side")
    run_dvx(clone, "fetch", "-a")
    _checkout(clone, "side", pull=False)
    assert _data(clone) == data["side"]
    git(clone, "checkout", "-q", c["c1"])
    assert run_dvx(clone, "checkout", check=False).returncode == 1
    # Nothing of c1 or c2 is on the remote: fetching every commit says so, and the command
    # its hint names, run where the data is, makes the same fetch succeed.
    cp = run_dvx(clone, "fetch", "--all-commits", check=False)
    assert cp.returncode == 1 and "missing from remote" in cp.stderr
    hinted = re.findall(r"`([^`]+)`", cp.stderr)
    assert hinted == ["dvx push --all-commits"], cp.stderr
    run_dvx(origin, *hinted[0].split()[1:], "-r", "b")
    run_dvx(clone, "fetch", "--all-commits")
    run_dvx(clone, "checkout")
    assert _data(clone) == data["c1"]


def test_a_pointer_history_cannot_read_is_skipped_unless_it_is_all_that_was_asked(history: dict) -> None:
    origin = history["origin"]
    store = history["base"] / "store-h"
    run_dvx(origin, "remote", "add", "h", str(store))
    junk = _git_in(origin, b"\xff not a pointer", "hash-object", "-w", "--stdin")
    good = git(origin, "rev-parse", "HEAD:t.csv.dvx").stdout.strip()
    only = _commit_tree(origin, [("x.dvx", junk)])
    mixed = _commit_tree(origin, [("t.csv.dvx", good), ("x.dvx", junk)])
    cp = run_dvx(origin, "push", "-r", "h", "--rev", mixed)
    assert f"warning: skipped pointer {mixed}:x.dvx:1: is not UTF-8" in cp.stderr and cp.stdout.startswith("pushed ")
    cp = run_dvx(origin, "push", "-r", "h", "--rev", only, check=False)
    assert cp.returncode == 2 and f"error: {only}:x.dvx:1: " in cp.stderr and "Traceback" not in cp.stderr


@pytest.mark.s3
def test_push_all_commits_to_s3(history: dict, s3_bucket: Any) -> None:
    origin, c, data = history["origin"], history["commits"], history["data"]
    bk = s3_bucket()
    run_dvx(origin, "remote", "add", "s3", f"{bk.url}/store")
    run_dvx(origin, "remote", "modify", "s3", "endpoint_url", bk.endpoint)
    run_dvx(origin, "push", "-r", "s3", "--all-commits")
    clone = _clone(history, "clone-s3", history["base"] / "nowhere")
    run_dvx(clone, "remote", "add", "-d", "s3", f"{bk.url}/store")
    run_dvx(clone, "remote", "modify", "s3", "endpoint_url", bk.endpoint)
    assert run_dvx(clone, "status", "-c").stdout.splitlines() == ["2 tracked paths, all on the remote"]
    _checkout(clone, c["c1"], pull=True)
    assert _data(clone) == data["c1"]


def _git_in(repo: Path, data: bytes, *args: str) -> str:
    """``git args`` with ``data`` on stdin; its stdout."""
    cp = subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True, env=env(), check=True)
    return cp.stdout.decode().strip()


def _commit_tree(repo: Path, entries: list[tuple[str, str]]) -> str:
    """A commit (on no branch) whose tree holds these blobs."""
    listing = "".join(f"100644 blob {blob}\t{name}\n" for name, blob in entries)
    tree = _git_in(repo, listing.encode(), "mktree")
    return _git_in(repo, b"", "commit-tree", tree, "-m", "hostile")
