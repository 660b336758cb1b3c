"""Granular targets: pull, fetch, checkout, status and ls of folders and files inside a tracked directory.

One origin repository (a three-level image folder pushed to a folder remote)
is shared by the module; every test works in its own ``git clone`` of it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from dvxtest import env, git, make_dvx_repo, run_dvx, tree_bytes, write_files
from hintkit import commands, follow

from dvx.hashing import from_hex
from dvx.store.store import ObjectStore
from dvx.workspace import pointer as ptr
from dvx.workspace.targets import select


def _images() -> dict[str, bytes]:
    rnd = random.Random(14)
    names = [
        "cats/001.png", "cats/002.png", "cats/tabby/001.png", "cats/tabby/002.png", "cats/tabby/kitten/001.png",
        "dogs/001.png", "dogs/002.png", "dogs/pug/001.png", "birds/001.png", "readme.txt",
        # Siblings that sort next to "cats/" (a prefix match would take them): "." "-" "0" around "/".
        "cats.txt", "cats-extra/001.png", "cats0.png",
    ]
    return {f"data/images/{n}": rnd.randbytes(rnd.randrange(1500, 6000)) for n in names}


IMAGES = _images()
CATS = sorted(p for p in IMAGES if p.startswith("data/images/cats/"))


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository tracking ``data/images`` (13 files, three levels), committed and pushed."""
    base = tmp_path_factory.mktemp("granular")
    repo = make_dvx_repo(base / "origin")
    write_files(repo, IMAGES)
    run_dvx(repo, "add", "data/images")
    run_dvx(repo, "remote", "add", "-d", "store", str(base / "store"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "images", "--no-verify")
    run_dvx(repo, "push")
    return repo


def _clone(origin: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin), str(dest)], check=True, env=env(), capture_output=True)
    return dest


def _files(repo: Path) -> dict[str, bytes]:
    """Every data file of a clone, repo-relative, with its bytes."""
    return {f"data/images/{k}": v for k, (v, _x) in tree_bytes(repo / "data" / "images").items()} \
        if (repo / "data" / "images").exists() else {}


def _tree_id(repo: Path) -> bytes:
    """The tree id ``data/images.dvx`` names."""
    return from_hex(ptr.load(repo / "data" / "images.dvx", "data/images.dvx").oid)


def _closure(origin: Path, sub: str) -> set[bytes]:
    """The ids a pull of ``data/images/<sub>`` needs: the tree, the file manifests below ``sub``, their chunks."""
    store = ObjectStore(None, str(origin / ".dvx" / "cache"))
    oid = _tree_id(origin)
    out = {oid}
    for e in select(store.get_tree_manifest(oid), sub):
        out.add(e.file_oid)
        out.update(c.oid for c in store.get_file_manifest(e.file_oid).chunks)
    return out


def _cached(repo: Path) -> set[bytes]:
    return set(ObjectStore(None, str(repo / ".dvx" / "cache")).entries())


def test_pull_of_a_folder_fetches_and_writes_only_what_is_below_it(origin: Path, tmp_path: Path) -> None:
    clone = _clone(origin, tmp_path / "clone")
    out = json.loads(run_dvx(clone, "pull", "data/images/cats", "--json").stdout)
    assert _files(clone) == {p: IMAGES[p] for p in CATS}  # byte-identical; no sibling (cats.txt, cats0.png, ...)
    assert sorted(out["checkout"]["restored"]) == CATS and out["checkout"]["removed"] == []
    want = _closure(origin, "cats")
    assert _cached(clone) == want
    assert out["fetch"]["objects"] == len(want) and out["fetch"]["present"] == 0
    assert out["fetch"]["raw_bytes"] >= sum(len(IMAGES[p]) for p in CATS) > 0
    full = json.loads(run_dvx(_clone(origin, tmp_path / "full"), "pull", "--json").stdout)["fetch"]
    assert full["objects"] > out["fetch"]["objects"] and full["bytes"] > out["fetch"]["bytes"]
    # Run again: everything is there, nothing moves.
    again = json.loads(run_dvx(clone, "pull", "data/images/cats", "--json").stdout)
    assert again["fetch"]["objects"] == 0 and again["checkout"]["restored"] == []


def test_pull_of_one_file_relative_to_a_subfolder(origin: Path, tmp_path: Path) -> None:
    clone = _clone(origin, tmp_path / "clone")
    out = json.loads(run_dvx(clone / "data", "pull", "images/dogs/pug/001.png", "--json").stdout)
    assert _files(clone) == {"data/images/dogs/pug/001.png": IMAGES["data/images/dogs/pug/001.png"]}
    assert _cached(clone) == _closure(origin, "dogs/pug/001.png")
    assert out["fetch"]["objects"] == len(_closure(origin, "dogs/pug/001.png"))
    # fetch of a second folder adds its objects and writes nothing.
    run_dvx(clone, "fetch", "data/images/birds")
    assert _cached(clone) == _closure(origin, "dogs/pug/001.png") | _closure(origin, "birds")
    assert list(_files(clone)) == ["data/images/dogs/pug/001.png"]


def test_checkout_of_a_folder_touches_nothing_outside_it(origin: Path, tmp_path: Path) -> None:
    clone = _clone(origin, tmp_path / "clone")
    run_dvx(clone, "pull")
    img = clone / "data" / "images"
    (img / "cats/tabby/002.png").unlink()
    (img / "cats/tabby/copy.png").write_bytes(IMAGES["data/images/dogs/002.png"])  # cached content: removable
    (img / "dogs/001.png").write_bytes(b"edited outside the target")
    (img / "dogs/extra.png").write_bytes(IMAGES["data/images/birds/001.png"])
    (img / "cats.txt").unlink()  # a sibling that only looks like it is inside the target
    st = {r["path"]: r["state"] for r in json.loads(run_dvx(clone, "status", "--json", "data/images/cats",
                                                                "data/images/dogs", "data/images/birds/001.png").stdout)["paths"]}
    assert st == {"data/images/cats": "modified", "data/images/dogs": "modified", "data/images/birds/001.png": "unchanged"}
    r = run_dvx(clone / "data", "checkout", "-v", "images/cats/")
    assert "restored data/images/cats/tabby/002.png" in r.stdout
    assert "removed  data/images/cats/tabby/copy.png" in r.stdout
    assert _files(clone)["data/images/cats/tabby/002.png"] == IMAGES["data/images/cats/tabby/002.png"]
    assert not (img / "cats/tabby/copy.png").exists() and not (img / "cats.txt").exists()
    assert (img / "dogs/001.png").read_bytes() == b"edited outside the target" and (img / "dogs/extra.png").exists()
    cp = run_dvx(clone, "status", "data/images/cats", "data/images/cats/tabby/002.png", "data/images/dogs/001.png")
    assert cp.stdout.splitlines() == ["modified                 data/images/dogs/001.png"], cp.stdout


def test_status_and_ls_of_a_folder_in_a_fresh_clone(origin: Path, tmp_path: Path) -> None:
    clone = _clone(origin, tmp_path / "clone")
    rows = json.loads(run_dvx(clone, "ls", "data/images/cats", "--json").stdout)  # the tree alone is fetched
    assert [(r["path"], r["size"]) for r in rows] == [(p, len(IMAGES[p])) for p in CATS]
    assert _cached(clone) == {_tree_id(clone)}
    assert len(json.loads(run_dvx(clone, "ls", "data/images", "--json").stdout)) == len(IMAGES)
    assert [r["path"] for r in json.loads(run_dvx(clone, "ls", "data", "--json").stdout)] == ["data/images"]
    (clone / ".dvx" / "cache").rename(tmp_path / "gone")  # no listing cached: status cannot tell the files
    cp = run_dvx(clone, "status", "data/images/cats", check=False)
    assert cp.returncode == 1 and commands(cp) == ["dvx fetch data/images/cats"], cp.stderr
    follow(clone, "dvx fetch data/images/cats")
    (p,) = json.loads(run_dvx(clone, "status", "--json", "data/images/cats").stdout)["paths"]
    assert p["state"] == "deleted" and p["in_cache"] is True and p["kind"] == "dir"


def test_targets_that_name_nothing_are_usage_errors(origin: Path, tmp_path: Path) -> None:
    clone = _clone(origin, tmp_path / "clone")
    for argv in (["status", "data/nothing/x.png"], ["fetch", "../outside"], ["pull", "/etc"],
                 ["checkout", "data/images/../../.."], ["push", "data/images/cats"], ["ls", "data/images.dvx/x"],
                 ["fetch", "--rev", "HEAD", "data/images/cats"]):
        cp = run_dvx(clone, *argv, check=False)
        lines = [ln for ln in cp.stderr.splitlines() if ln.startswith("error: ")]
        assert cp.returncode == 2 and len(lines) == 1 and "Traceback" not in cp.stderr, (argv, cp.stderr)
    assert not (clone / "data" / "images").exists() and not (clone / "data" / "nothing").exists()
    # Not inside any tracked path: `dvx ls` names what is tracked.
    cp = run_dvx(clone, "pull", "data/imgs/cats", check=False)
    assert commands(cp) == ["dvx ls"]
    assert follow(clone, "dvx ls").stdout.splitlines()[2].startswith("data/images ")
    # Not in the tracked directory: `dvx ls DIR` lists its files.
    cp = run_dvx(clone, "pull", "data/images/cats/003.png", check=False)
    assert cp.returncode == 2 and commands(cp) == ["dvx ls data/images"]
    assert "data/images/cats/002.png " in follow(clone, "dvx ls data/images").stdout
    run_dvx(clone, "pull", "data/images/cats/002.png")


def test_checkout_of_the_whole_folder_after_a_granular_pull(origin: Path, tmp_path: Path) -> None:
    clone = _clone(origin, tmp_path / "clone")
    run_dvx(clone, "pull", "data/images/dogs")
    cp = run_dvx(clone, "checkout", "data/images", check=False)
    assert cp.returncode == 1 and "10 of its 13 files are not in the cache" in cp.stderr
    assert list(_files(clone)) == sorted(p for p in IMAGES if p.startswith("data/images/dogs/"))  # nothing written
    assert commands(cp)[0] == "dvx pull"
    follow(clone, "dvx pull")
    assert _files(clone) == IMAGES


def test_granular_pull_from_s3(tmp_path: Path, s3_bucket) -> None:
    bucket = s3_bucket()
    repo = make_dvx_repo(tmp_path / "origin")
    write_files(repo, IMAGES)
    run_dvx(repo, "add", "data/images")
    run_dvx(repo, "remote", "add", "-d", "s3", bucket.url)
    run_dvx(repo, "remote", "modify", "s3", "endpoint_url", bucket.endpoint)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "images", "--no-verify")
    run_dvx(repo, "push")
    clone = _clone(repo, tmp_path / "clone")
    out = json.loads(run_dvx(clone, "pull", "data/images/cats/tabby", "--json").stdout)
    tabby = [p for p in CATS if "/tabby/" in p]
    assert _files(clone) == {p: IMAGES[p] for p in tabby}
    assert _cached(clone) == _closure(repo, "cats/tabby") and out["fetch"]["objects"] == len(_closure(repo, "cats/tabby"))
    assert 0 < out["fetch"]["requests"] and out["fetch"]["bytes_received"] < sum(map(len, IMAGES.values()))
    assert os.listdir(clone / "data" / "images") == ["cats"]


def test_status_and_gc_after_a_granular_pull(origin: Path, tmp_path: Path) -> None:
    """A directory cached in part is not "in the cache": status counts the files it lacks (as checkout
    does) and fails with --exit-code; gc -w keeps what the granular pull brought and deletes nothing."""
    clone = _clone(origin, tmp_path / "clone")
    run_dvx(clone, "pull", "data/images/dogs")
    (p,) = json.loads(run_dvx(clone, "status", "--json", "data/images").stdout)["paths"]
    assert p["in_cache"] is False and p["missing_files"] == 10 and "not in cache" in p["problems"], p
    cp = run_dvx(clone, "status", "data/images", check=False)
    assert "10 of 13 files not in cache" in cp.stdout, cp.stdout
    assert run_dvx(clone, "status", "--exit-code", "data/images", check=False).returncode == 1
    # Inside the directory: the pulled folder is complete, a sibling is not.
    rows = {r["path"]: r for r in json.loads(run_dvx(clone, "status", "--json", "data/images/dogs",
                                                     "data/images/cats").stdout)["paths"]}
    assert rows["data/images/dogs"]["in_cache"] is True and rows["data/images/dogs"]["missing_files"] == 0
    assert rows["data/images/cats"]["in_cache"] is False and rows["data/images/cats"]["missing_files"] == len(CATS)
    before = _cached(clone)
    run_dvx(clone, "config", "gc.grace", "0")  # a bare number: seconds
    out = json.loads(run_dvx(clone, "gc", "-w", "-f", "--json").stdout)
    assert out["stores"][0]["objects_removed"] == 0 and _cached(clone) == before
    follow(clone, "dvx pull")
    (p,) = json.loads(run_dvx(clone, "status", "--json", "data/images").stdout)["paths"]
    assert p["in_cache"] is True and p["missing_files"] == 0 and p["state"] == "unchanged"
    assert run_dvx(clone, "status", "--exit-code", "data/images", check=False).returncode == 0
