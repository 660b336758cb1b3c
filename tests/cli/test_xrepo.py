"""dvx list / get / import / update across repositories (issue 14, item 8), through the CLI in real git
repositories: a source repository with a folder remote (one with an S3 remote on moto), read at
revisions, and an importing repository that commits, pushes and updates what it imported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from dvxtest import env, git, make_dvx_repo, run_dvx, tree_bytes, write_files
from hintkit import commands, printed_hint

IMGS_V1 = {"a/x.txt": b"hello\n" * 50, "y.txt": b"world\n" * 40}
IMGS_V2 = {**IMGS_V1, "z.txt": b"new in v2\n" * 30}
CSV = b"id,x\n1,2\n2,3\n"


def _commit(repo: Path, msg: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", msg, "--no-verify")
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def _error(cp: subprocess.CompletedProcess[str], code: int) -> str:
    assert cp.returncode == code, (cp.returncode, cp.stdout, cp.stderr)
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), cp.stderr
    return lines[0]


def _snapshot(top: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under ``top``, .git included: what a reader must not change."""
    out = {}
    for d, _dirs, files in os.walk(top):
        for f in files:
            st = os.stat(os.path.join(d, f))
            out[os.path.relpath(os.path.join(d, f), top)] = (st.st_size, st.st_mtime_ns)
    return out


def _source(root: Path, remote: str = "../remote", push: bool = True) -> Path:
    src = make_dvx_repo(root)
    if remote:
        run_dvx(src, "remote", "add", "-d", "storage", remote)
    return src


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A source repository: tag v1 (imgs of 2 files, t.csv, README in git), main one file more; pushed."""
    base = tmp_path_factory.mktemp("xrepo")
    src = _source(base / "src")
    write_files(src / "data" / "imgs", IMGS_V1)
    write_files(src, {"data/t.csv": CSV, "README": b"readme\n"})
    run_dvx(src, "add", "data/imgs", "data/t.csv")
    v1 = _commit(src, "v1")
    git(src, "tag", "v1")
    run_dvx(src, "push")
    write_files(src / "data" / "imgs", {"z.txt": IMGS_V2["z.txt"]})
    run_dvx(src, "add", "data/imgs")
    v2 = _commit(src, "v2")
    run_dvx(src, "push")
    return {"base": base, "src": src, "v1": v1, "v2": v2}


def test_list_reads_pointers_at_a_revision_and_never_writes_the_source(source: dict[str, Any]) -> None:
    base, src = source["base"], source["src"]
    before = _snapshot(src)
    top = run_dvx(base, "list", "src", "--json")
    got = json.loads(top.stdout)
    assert got["commit"] == source["v2"] and [(e["path"], e["tracked"]) for e in got["entries"]] == [("data", None)]
    every = json.loads(run_dvx(base, "list", "src", "--all", "-R", "--json").stdout)["entries"]
    paths = {e["path"]: e for e in every}
    assert paths["README"]["tracked"] == "git" and paths["data/t.csv"]["size"] == len(CSV)
    assert paths["data/imgs"]["files"] == 3 and paths["data/imgs/a/x.txt"]["size"] == len(IMGS_V1["a/x.txt"])
    old = json.loads(run_dvx(base, "list", "src", "data/imgs", "--rev", "v1", "--json").stdout)
    assert old["commit"] == source["v1"]
    assert [(e["path"], e["type"]) for e in old["entries"]] == [("a", "dir"), ("y.txt", "file")]
    text = run_dvx(base, "list", "src", "data/imgs/a").stdout
    assert "x.txt" in text and "1 entries at HEAD" in text
    assert _snapshot(src) == before


def test_get_file_directory_sub_path_and_older_tag(source: dict[str, Any], tmp_path: Path) -> None:
    src = source["src"]
    run_dvx(tmp_path, "get", str(src), "data/t.csv")
    assert (tmp_path / "t.csv").read_bytes() == CSV
    run_dvx(tmp_path, "get", str(src), "data/imgs")
    assert {k: v[0] for k, v in tree_bytes(tmp_path / "imgs").items()} == IMGS_V2
    run_dvx(tmp_path, "get", str(src), "data/imgs/a/x.txt", "-o", "x.txt")
    assert (tmp_path / "x.txt").read_bytes() == IMGS_V1["a/x.txt"]
    got = json.loads(run_dvx(tmp_path, "get", f"file://{src}", "data/imgs", "--rev", "v1", "-o", "old", "--json").stdout)
    assert got["commit"] == source["v1"] and got["files"] == 2
    assert {k: v[0] for k, v in tree_bytes(tmp_path / "old").items()} == IMGS_V1
    run_dvx(tmp_path, "get", str(src), "README")
    assert (tmp_path / "README").read_bytes() == b"readme\n"
    # Nothing left behind: no cache, no temp store, no partial copies.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README", "imgs", "old", "t.csv", "x.txt"]
    line = _error(run_dvx(tmp_path, "get", str(src), "data/imgs", "--rev", "v1", check=False), 2)
    assert "imgs: already exists" in line
    run_dvx(tmp_path, "get", str(src), "data/imgs", "--rev", "v1", "-f")
    assert {k: v[0] for k, v in tree_bytes(tmp_path / "imgs").items()} == IMGS_V1
    line = _error(run_dvx(tmp_path, "get", str(src), "data/nothing", check=False), 2)
    assert "data/nothing in " in line and "not there" in line


def test_import_commit_status_push_and_update_to_a_newer_commit(source: dict[str, Any], tmp_path: Path) -> None:
    src = source["src"]
    untouched = _snapshot(src)
    dst = make_dvx_repo(tmp_path / "dst")
    run_dvx(dst, "remote", "add", "-d", "mine", "../mine")
    _commit(dst, "init")
    cp = run_dvx(dst, "import", os.path.relpath(src, dst), "data/imgs", "--rev", "v1")
    pointer = (dst / "imgs.dvx").read_text()
    assert f"source-url: {os.path.relpath(src, dst)}\nsource-rev: v1\nsource-commit: {source['v1']}\n" in pointer
    assert "source-path: data/imgs\n" in pointer
    assert {k: v[0] for k, v in tree_bytes(dst / "imgs").items()} == IMGS_V1
    subprocess.run(printed_hint(cp), shell=True, cwd=dst, check=True, env=env(), capture_output=True)
    assert git(dst, "status", "--porcelain").stdout == ""
    assert "(1 imported)" in run_dvx(dst, "status").stdout
    rows = json.loads(run_dvx(dst, "status", "--json").stdout)["paths"]
    assert rows[0]["source"] == {"url": os.path.relpath(src, dst), "rev": "v1", "commit": source["v1"], "path": "data/imgs"}
    # Imported objects are pushed like any others: a clone never needs the source's remote.
    run_dvx(dst, "push")
    assert "all on the remote" in run_dvx(dst, "status", "-c").stdout
    # No newer commit on v1: a no-op that says so and rewrites nothing.
    before = (dst / "imgs.dvx").read_bytes()
    assert "unchanged" in run_dvx(dst, "update", "imgs").stdout
    assert (dst / "imgs.dvx").read_bytes() == before
    up = json.loads(run_dvx(dst, "update", "imgs", "--rev", "main", "--json").stdout)["paths"][0]
    assert up["change"] == "updated" and up["old_commit"] == source["v1"] and up["source"]["commit"] == source["v2"]
    # Only what changed: the new tree, z.txt's manifest and its one chunk (not x.txt, y.txt).
    assert up["fetched_objects"] == 3
    assert {k: v[0] for k, v in tree_bytes(dst / "imgs").items()} == IMGS_V2
    assert "source-rev: main\n" in (dst / "imgs.dvx").read_text()
    assert _snapshot(src) == untouched  # import and update read the source, never write it


def test_update_follows_the_recorded_branch_then_is_a_no_op(tmp_path: Path) -> None:
    src = _source(tmp_path / "src")
    write_files(src, {"t.csv": CSV})
    run_dvx(src, "add", "t.csv")
    _commit(src, "one")
    run_dvx(src, "push")
    dst = make_dvx_repo(tmp_path / "dst")
    run_dvx(dst, "import", "../src", "t.csv", "-o", "data/t.csv")
    assert (dst / "data" / "t.csv").read_bytes() == CSV and "source-rev" not in (dst / "data" / "t.csv.dvx").read_text()
    (src / "t.csv").write_bytes(CSV + b"3,4\n")
    run_dvx(src, "add", "t.csv")
    new = _commit(src, "two")
    run_dvx(src, "push")
    assert "update available" not in run_dvx(dst, "status").stdout  # the source is asked only when told to
    line = next(ln for ln in run_dvx(dst, "status", "--check-updates").stdout.splitlines() if "update available" in ln)
    assert "data/t.csv" in line and new[:7] in line
    assert [u["update_available"] for u in json.loads(run_dvx(dst, "status", "--check-updates", "--json").stdout)["updates"]] == [True]
    sub = dst / "data"
    out = run_dvx(sub, "update").stdout  # every imported path, from a subfolder
    assert out.startswith("updated") and new[:7] in out
    assert (sub / "t.csv").read_bytes() == CSV + b"3,4\n"
    assert run_dvx(sub, "update", "t.csv").stdout.startswith("unchanged")
    assert "update available" not in run_dvx(dst, "status", "--check-updates").stdout
    (sub / "t.csv").write_bytes(b"local edit\n")
    (src / "t.csv").write_bytes(CSV + b"5,6\n")
    run_dvx(src, "add", "t.csv")
    _commit(src, "three")
    run_dvx(src, "push")
    assert "changed since it was imported" in _error(run_dvx(sub, "update", check=False), 1)
    assert (sub / "t.csv").read_bytes() == b"local edit\n"
    run_dvx(sub, "update", "-f")
    assert (sub / "t.csv").read_bytes() == CSV + b"5,6\n"
    # The URL comes from a committed pointer: git transports that run commands are refused.
    pointer = sub / "t.csv.dvx"
    text = pointer.read_text()
    url_line = next(ln for ln in text.splitlines() if ln.startswith("source-url:"))
    pointer.write_text(text.replace(url_line, f"source-url: ext::sh -c touch% {tmp_path}/pwned"))
    assert "cannot clone" in _error(run_dvx(sub, "update", "--rev", "main", check=False), 2)
    assert not (tmp_path / "pwned").exists()


def test_hostile_pointer_in_the_source_is_one_line_exit_2(source: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    git(tmp_path, "clone", "-q", str(source["src"]), str(bad))
    (bad / "data" / "t.csv.dvx").write_text("# dvx pointer\nformat: 1\ntype: file\nid: ../../etc/passwd\n")
    _commit(bad, "hostile")
    dst = make_dvx_repo(tmp_path / "dst")
    for args in (("get", str(bad), "data/t.csv"), ("import", str(bad), "data/t.csv"), ("list", str(bad), "data")):
        line = _error(run_dvx(dst, *args, check=False), 2)
        assert f"{bad}:data/t.csv.dvx:5: missing 'size'" in line, line
    assert not (dst / "t.csv").exists() and not (dst / "t.csv.dvx").exists()
    assert "git tracks it, not dvx" in _error(run_dvx(dst, "import", str(bad), "README", check=False), 2)


def test_source_remote_missing_names_it_and_dvx_push_in_the_source_fixes_it(tmp_path: Path) -> None:
    src = _source(tmp_path / "src", remote="")
    write_files(src, {"t.csv": CSV})
    run_dvx(src, "add", "t.csv")
    _commit(src, "one")
    dst = make_dvx_repo(tmp_path / "dst")
    cp = run_dvx(dst, "import", "../src", "t.csv", check=False)
    assert "names no default remote" in _error(cp, 2)
    assert commands(cp) == ["dvx remote add -d NAME URL", "dvx push"]
    run_dvx(src, "remote", "add", "-d", "storage", "../remote")
    _commit(src, "remote")
    cp = run_dvx(dst, "import", "../src", "t.csv", check=False)
    line = _error(cp, 1)
    assert "the source's remote: remote 'storage' (../remote)" in line and "does not exist" in line
    assert commands(cp) == ["dvx push"]
    run_dvx(src, "push")
    run_dvx(dst, "import", "../src", "t.csv")
    assert (dst / "t.csv").read_bytes() == CSV
    # Committed but not pushed: the remote lacks the objects.
    write_files(src, {"u.csv": CSV + b"9,9\n"})
    run_dvx(src, "add", "u.csv")
    _commit(src, "not pushed")
    cp = run_dvx(dst, "import", "../src", "u.csv", check=False)
    assert "objects are missing from the source's remote 'storage'" in _error(cp, 1)
    assert commands(cp) == ["dvx push"] and not (dst / "u.csv.dvx").exists()
    run_dvx(src, "push")
    run_dvx(dst, "import", "../src", "u.csv")
    assert (dst / "u.csv").read_bytes() == CSV + b"9,9\n"


def test_source_remote_of_an_unknown_protocol_is_refused(source: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    git(tmp_path, "clone", "-q", str(source["src"]), str(bad))
    run_dvx(bad, "remote", "modify", "storage", "url", "memory://somewhere")
    _commit(bad, "memory remote")
    line = _error(run_dvx(tmp_path, "get", str(bad), "data/t.csv", check=False), 2)
    assert "remote 'storage' uses memory://" in line
    assert not (tmp_path / "t.csv").exists()


def test_source_with_an_s3_remote_from_its_config(s3_bucket: Any, tmp_path: Path) -> None:
    bk = s3_bucket()
    src = _source(tmp_path / "src", remote=f"{bk.url}/store")
    run_dvx(src, "remote", "modify", "storage", "endpoint_url", bk.endpoint)
    write_files(src / "imgs", IMGS_V1)
    run_dvx(src, "add", "imgs")
    _commit(src, "s3")
    run_dvx(src, "push")
    shutil.rmtree(src / ".dvx" / "cache")  # the data is only on S3 now
    dst = make_dvx_repo(tmp_path / "dst")
    run_dvx(dst, "import", "../src", "imgs/a")  # credentials: the AWS_* environment of this machine
    assert {k: v[0] for k, v in tree_bytes(dst / "a").items()} == {"x.txt": IMGS_V1["a/x.txt"]}
    assert "source-path: imgs/a\n" in (dst / "a.dvx").read_text()
    assert run_dvx(dst, "status").stdout.startswith("1 tracked paths, all unchanged")
