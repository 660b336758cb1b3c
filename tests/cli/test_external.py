"""``dvx add --external URL --out PATH``: data chunked where it lives (moto_server) into the remote.

Real parts: moto_server holds the source prefix and the remote bucket, the CLI runs as a child
process, reads go through ``dvx.read_table``/``dvx.open`` at the committed revision and ``dvx pull``.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dvxtest import env, git, make_dvx_repo, run_dvx, write_files
from hintkit import follow, printed_hint

import dvx
from dvx.store.objects import ObjectType
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

pytestmark = pytest.mark.s3

MiB = 1 << 20


def _source_files() -> dict[str, bytes]:
    rnd = random.Random(15)
    table = pa.table({"id": list(range(5000)), "name": [f"row-{i % 97}" for i in range(5000)]})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    # A few MiB with repeats inside (so dedup inside the object shows), and several small objects.
    block = rnd.randbytes(MiB)
    return {
        "big.bin": block + rnd.randbytes(MiB) + block + rnd.randbytes(MiB // 3),
        "table.parquet": buf.getvalue(),
        "notes/readme.txt": b"external data\n",
        "notes/empty.txt": b"",
        "notes/deep/c.json": json.dumps({"k": list(range(100))}).encode(),
    }


def _put(bucket, prefix: str, files: dict[str, bytes]) -> None:
    client = bucket.client()
    for key, data in files.items():
        client.put_object(Bucket=bucket.name, Key=f"{prefix}{key}", Body=data)


def _keys(bucket, prefix: str = "") -> set[str]:
    client = bucket.client()
    out: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket.name, Prefix=prefix):
        out.update(o["Key"] for o in page.get("Contents", []))
    return out


def _repo_with_remote(path: Path, remote_bucket) -> Path:
    repo = make_dvx_repo(path)
    run_dvx(repo, "remote", "add", "-d", "store", f"{remote_bucket.url}/store")
    run_dvx(repo, "remote", "modify", "store", "endpoint_url", remote_bucket.endpoint)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "dvx init", "--no-verify")
    return repo


def _cache_types(repo: Path) -> list[ObjectType]:
    ws = Workspace(repo)
    ws.cache.refresh()
    return [e.otype for e in ws.cache.entries().values()]


@pytest.fixture
def source(s3_bucket):
    src = s3_bucket()
    files = _source_files()
    _put(src, "raw/", files)
    return src, files


def test_prefix_is_tracked_in_place_read_back_and_pulled(source, s3_bucket, tmp_path: Path) -> None:
    src, files = source
    remote = s3_bucket()
    repo = _repo_with_remote(tmp_path / "repo", remote)
    url = f"{src.url}/raw/"
    out = run_dvx(repo, "add", "--external", url, "--out", "data/raw").stdout
    assert out.startswith("added     data/raw  (5 files") and "5 objects read, 0 unchanged" in out, out
    p = ptr.load(repo / "data/raw.dvx")
    assert (p.kind, p.files, p.size, p.external) == ("dir", 5, sum(map(len, files.values())), url)
    assert not (repo / "data/raw").exists()
    assert "/raw" in (repo / "data/.gitignore").read_text()
    # The remote holds packs and index files; the local cache the tree manifest only (no chunk).
    keys = _keys(remote, "store/")
    assert any(k.startswith("store/packs/") for k in keys) and any(k.startswith("store/index/") for k in keys)
    assert any(k.startswith("store/roots/") for k in keys)  # gc keeps it before the pointer is committed
    assert _cache_types(repo) == [ObjectType.TREE]

    # The same bytes added locally in another repository give the same ids, chunk for chunk.
    other = make_dvx_repo(tmp_path / "other")
    write_files(other / "data/raw", files)
    run_dvx(other, "add", "data/raw")
    assert ptr.load(other / "data/raw.dvx").oid == p.oid
    assert ptr.load(other / "data/raw.dvx").chunks == p.chunks
    from dvx.remote import open_url

    remote_ids = set(open_url(f"{remote.url}/store", remote.options).store.entries())
    local_ids = set(Workspace(other).cache.entries())
    assert local_ids <= remote_ids
    # so pushing the local add to the same remote sends nothing.
    run_dvx(other, "remote", "add", "-d", "store", f"{remote.url}/store")
    run_dvx(other, "remote", "modify", "store", "endpoint_url", remote.endpoint)
    assert run_dvx(other, "push").stdout.startswith("pushed 0 objects (0 B"), "the local add's objects were new"
    # gc's mark reaches every object through the remote's manifests (the cache has only the tree).
    gc = run_dvx(repo, "gc", "-w", "--cloud", "--dry-run").stdout
    assert f"kept {len(remote_ids)} objects reached by 1 pointer" in gc, gc

    # Not checked out: status says so (not broken), exit 0 without --exit-code.
    st = run_dvx(repo, "status").stdout
    assert st.startswith("deleted, 5 of 5 files not in cache") and st.rstrip().endswith("data/raw"), st
    row = json.loads(run_dvx(repo, "status", "--json").stdout)["paths"][0]
    assert row["in_cache"] is False and row["error"] is None and row["missing_files"] == 5

    listed = json.loads(run_dvx(repo, "ls", "data/raw", "--json").stdout)  # listed from the cached tree
    assert {e["path"]: e["size"] for e in listed} == {f"data/raw/{k}": len(v) for k, v in files.items()}

    # The hint's `git add` stages what the commit needs; then read in place from the remote at that revision.
    follow(repo, printed_hint(cp_add := run_dvx(repo, "add", "--external", url, "--out", "data/raw")))
    assert cp_add.stdout.startswith("unchanged data/raw")
    git(repo, "commit", "-qm", "external data")
    assert git(repo, "status", "--porcelain").stdout == ""
    got = dvx.read_table("data/raw/table.parquet", rev="HEAD", repo=repo)
    assert got.equals(pq.read_table(io.BytesIO(files["table.parquet"])))
    with dvx.open("data/raw/big.bin", rev="HEAD", repo=repo) as f:
        f.seek(MiB)
        assert f.read(1000) == files["big.bin"][MiB:MiB + 1000]
    with dvx.open("data/raw/notes/deep/c.json", rev="HEAD", repo=repo) as f:
        assert f.read() == files["notes/deep/c.json"]
    # Ranged: 1000 bytes of big.bin (and read-ahead) fetched part of its chunks, not the whole file.
    assert _cache_types(repo).count(ObjectType.CHUNK) < p.chunks // 2

    # checkout names the command that brings the data; pull does, byte for byte.
    cp = run_dvx(repo, "checkout", "data/raw", check=False)
    assert cp.returncode == 1 and "`dvx pull`" in cp.stderr, cp.stderr
    run_dvx(repo, "pull", "data/raw")
    for key, data in files.items():
        assert (repo / "data/raw" / key).read_bytes() == data, key
    assert run_dvx(repo, "status", "--exit-code").stdout.strip() == "1 tracked paths, all unchanged"


def test_rerun_moves_nothing(source, s3_bucket, tmp_path: Path) -> None:
    src, _files = source
    remote = s3_bucket()
    repo = _repo_with_remote(tmp_path / "repo", remote)
    url = f"{src.url}/raw/"
    run_dvx(repo, "add", "--external", url, "--out", "data/raw")
    before = {k for k in _keys(remote, "store/") if not k.startswith("store/roots/")}
    out = run_dvx(repo, "add", "--external", url, "--out", "data/raw").stdout
    # The listing's ETags say nothing changed: no object read, nothing written but a roots marker.
    assert out.startswith("unchanged data/raw") and "0 objects read, 5 unchanged; 0 B new" in out, out
    assert {k for k in _keys(remote, "store/") if not k.startswith("store/roots/")} == before
    # Without the record of the last run every object is read again, and still nothing is sent.
    for f in (repo / ".dvx/cache/external").iterdir():
        f.unlink()
    out = run_dvx(repo, "add", "--external", url, "--out", "data/raw").stdout
    assert "5 objects read, 0 unchanged; 0 B new" in out, out
    assert {k for k in _keys(remote, "store/") if not k.startswith("store/roots/")} == before
    # One object changes: only it is read again.
    src.client().put_object(Bucket=src.name, Key="raw/notes/readme.txt", Body=b"changed\n")
    out = run_dvx(repo, "add", "--external", url, "--out", "data/raw").stdout
    assert out.startswith("modified  data/raw") and "1 objects read, 4 unchanged" in out, out


def test_single_object_url_makes_a_file_pointer(source, s3_bucket, tmp_path: Path) -> None:
    src, files = source
    remote = s3_bucket()
    repo = _repo_with_remote(tmp_path / "repo", remote)
    run_dvx(repo, "add", "--external", f"{src.url}/raw/big.bin", "--out", "big.bin")
    p = ptr.load(repo / "big.bin.dvx")
    other = make_dvx_repo(tmp_path / "other")
    (other / "big.bin").write_bytes(files["big.bin"])
    run_dvx(other, "add", "big.bin")
    local = ptr.load(other / "big.bin.dvx")
    assert (p.kind, p.oid, p.size, p.chunks) == ("file", local.oid, local.size, local.chunks)
    assert _cache_types(repo) == []  # the file manifest stays with its chunks, on the remote
    assert "not in cache" in run_dvx(repo, "status").stdout
    run_dvx(repo, "pull", "big.bin")
    assert (repo / "big.bin").read_bytes() == files["big.bin"]


def test_hostile_keys_are_refused_in_one_line(s3_bucket, tmp_path: Path) -> None:
    src, remote = s3_bucket(), s3_bucket()
    repo = _repo_with_remote(tmp_path / "repo", remote)
    for n, key in enumerate([".git/hooks/pre-commit", "a/../../escape", "notes"]):
        _put(src, f"p{n}/", {"ok.txt": b"fine\n", "notes/x.txt": b"x\n", key: b"#!/bin/sh\n"})
        url = f"{src.url}/p{n}/"
        cp = run_dvx(repo, "add", "--external", url, "--out", "data/raw", check=False)
        assert cp.returncode == 2, cp.stderr
        lines = cp.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: external source {url}: the key "), lines
        assert "nothing was written" in lines[0]
        assert not (repo / "data/raw.dvx").exists() and _keys(remote) == set()


def test_usage_errors(source, s3_bucket, tmp_path: Path) -> None:
    src, _files = source
    repo = _repo_with_remote(tmp_path / "repo", s3_bucket())
    url = f"{src.url}/raw/"
    for args, what in [(("--external", url), "--out PATH"), (("--out", "x"), "--out PATH"),
                       (("--scheduler", "tcp://127.0.0.1:1", "x"), "go with --external"),
                       (("--external", f"{src.url}/nothing/", "--out", "x"), "no object there")]:
        cp = run_dvx(repo, "add", *args, check=False)
        assert cp.returncode == 2 and what in cp.stderr, (args, cp.stderr)
    (repo / "data").mkdir()
    cp = run_dvx(repo, "add", "--external", url, "--out", "data", check=False)
    assert cp.returncode == 2 and "exists in the workspace" in cp.stderr, cp.stderr


_KILLER = """
import os, signal, sys
import dvx.external as ext
real_batches, real_chunk = ext.batches, ext.chunk_batch
ext.batches = lambda objects, base: real_batches(objects, base, max_objects=1)
done = []
def chunk_then_die(task):
    out = real_chunk(task)
    done.append(out)
    if len(done) == int(os.environ["KILL_AFTER_TASKS"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return out
ext.chunk_batch = chunk_then_die
if os.environ.get("KILL_AT_INDEX"):  # inside the first task: its packs are on the remote, their index is not
    from dvx.store.writer import StoreWriter
    def die(self):
        if self.store.local is False and self._finished:
            os.kill(os.getpid(), signal.SIGKILL)
    StoreWriter._write_index = die
from dvx.cli import main
sys.argv = ["dvx", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("after", [0, 1, 5])
def test_killed_run_leaves_no_pointer_and_the_rerun_completes(source, s3_bucket, tmp_path: Path, after: int) -> None:
    src, files = source
    remote = s3_bucket()
    repo = _repo_with_remote(tmp_path / "repo", remote)
    url = f"{src.url}/raw/"
    e = env()
    # 0: inside the first task, packs sent and no index; 1: after one task of five; 5: every object sent,
    # no tree, no marker, no pointer.
    e["KILL_AFTER_TASKS"] = str(after)
    if after == 0:
        e["KILL_AT_INDEX"] = "1"
    e["PYTHONPATH"] = os.pathsep.join([str(Path(dvx.__file__).parents[1]), e.get("PYTHONPATH", "")])
    cp = subprocess.run([sys.executable, "-c", _KILLER, "add", "--external", url, "--out", "data/raw"], cwd=repo,
                        env=e, capture_output=True, text=True, timeout=120)
    assert cp.returncode == -signal.SIGKILL, cp.stderr
    assert not (repo / "data/raw.dvx").exists()
    assert any(k.startswith("store/packs/") for k in _keys(remote, "store/"))
    # The remote is consistent: every index names packs that are there and read back; a pack whose
    # index was never written is only unnamed (readers ignore it, gc removes it).
    fsck = run_dvx(repo, "fsck", "-c", check=False)
    problems = [ln for ln in fsck.stdout.splitlines() if ln and not ln.startswith("checked ") and "root objects" not in ln]
    assert fsck.returncode == (1 if after == 0 else 0), fsck.stdout + fsck.stderr
    assert all(line.endswith("no index names it") for line in problems), problems
    out = run_dvx(repo, "add", "--external", url, "--out", "data/raw").stdout
    assert out.startswith("added     data/raw"), out
    # What the pointer needs is complete on the remote; only the unnamed packs of the killed task are left.
    fsck = run_dvx(repo, "fsck", "-c", "data/raw", check=False)
    problems = [ln for ln in fsck.stdout.splitlines() if ln and not ln.startswith("checked ") and "root objects" not in ln]
    assert all(line.endswith("no index names it") for line in problems), problems
    run_dvx(repo, "pull", "data/raw")
    for key, data in files.items():
        assert (repo / "data/raw" / key).read_bytes() == data, key


def test_batch_tasks_pickle_and_run_through_run_tasks(tmp_path: Path) -> None:
    """The task function and its argument travel to Dask workers by pickle; run here with scheduler=None."""
    import pickle

    from dvx.cluster import run_tasks
    from dvx.remote import open_url
    from dvx.remote.external import ChunkBatch, batches, chunk_batch, list_source

    files = _source_files()
    write_files(tmp_path / "src", files)
    kind, objects = list_source(f"{tmp_path / 'src'}/", {})
    assert kind == "dir" and [o.key for o in objects] == sorted(files)
    base = ChunkBatch(str(tmp_path / "src"), {}, str(tmp_path / "store"), "store", {}, (16384, 65536, 262144), ())
    tasks = batches(objects, base, max_objects=2)
    assert [len(t.objects) for t in tasks] == [2, 2, 1]
    again = pickle.loads(pickle.dumps((chunk_batch, tasks)))
    assert again[0] is chunk_batch and again[1] == tasks
    results = run_tasks(chunk_batch, tasks, [t.key for t in tasks], None)
    got = {c.key: c for r in results for c in r.objects}
    assert set(got) == set(files) and all(got[k].size == len(files[k]) for k in files)
    store = open_url(str(tmp_path / "store")).store
    for key, data in files.items():  # every file reads back whole from the remote store
        assert b"".join(store.iter_file(store.get_file_manifest(got[key].file_oid), key)) == data
    # The same task again sends nothing: the remote's index names every chunk.
    assert chunk_batch(tasks[0]).bytes_sent == 0


def test_source_options_and_source_errors_name_the_source(source, s3_bucket, tmp_path: Path) -> None:
    """-o over DVX_EXTERNAL_* over the remote's options; a source that cannot be read is one line naming it."""
    from s3kit import free_port

    src, _files = source
    remote = s3_bucket()
    repo = _repo_with_remote(tmp_path / "repo", remote)
    url = f"{src.url}/raw/"
    dead = f"http://127.0.0.1:{free_port()}"
    e = env()
    e["DVX_EXTERNAL_ENDPOINT_URL"] = dead  # over the remote's endpoint: nothing listens there
    cp = run_dvx(repo, "add", "--external", url, "--out", "data/raw", env=e, check=False)
    assert cp.returncode == 1 and cp.stderr.startswith(f"error: external source {url}: cannot connect to the endpoint"), \
        cp.stderr
    assert len(cp.stderr.strip().splitlines()) == 1 and dead in cp.stderr
    run_dvx(repo, "add", "--external", url, "--out", "data/raw", "-o", f"endpoint_url={src.endpoint}", env=e)
    assert ptr.load(repo / "data/raw.dvx").files == 5
    cp = run_dvx(repo, "add", "--external", "s3://no-such-bucket-dvx/raw/", "--out", "data/other", check=False)
    assert cp.returncode in (1, 2) and cp.stderr.startswith("error: external source s3://no-such-bucket-dvx/raw/: "), \
        cp.stderr
    assert len(cp.stderr.strip().splitlines()) == 1 and not (repo / "data/other.dvx").exists()


def test_local_folders_by_relative_paths_from_a_subfolder(tmp_path: Path) -> None:
    """A folder source and a folder remote named relative to where dvx runs (a subfolder of the repo)."""
    files = {"a.csv": b"id\n1\n", "deep/b.bin": bytes(range(256)) * 300}
    write_files(tmp_path / "src", files)
    repo = make_dvx_repo(tmp_path / "repo")
    run_dvx(repo, "remote", "add", "-d", "store", "../store")  # relative to the repository's root
    (repo / "sub").mkdir()
    run_dvx(repo / "sub", "add", "--external", "../../src/", "--out", "../data/raw")
    p = ptr.load(repo / "data/raw.dvx")
    assert (p.kind, p.files, p.external) == ("dir", 2, "../src/")
    assert (tmp_path / "store" / "dvx-store").exists() and not (repo / "store").exists()
    run_dvx(repo, "pull", "data/raw")
    for key, data in files.items():
        assert (repo / "data/raw" / key).read_bytes() == data
