"""A repository with history, built with the real CLI and real git, its data pushed to a local S3 server.

Revisions (``History.revs``):

- ``v1.0`` (tag): data/train.parquet (20 columns), train.csv, events.jsonl,
  table.feather, notes.txt, the tracked directory data/parts/, README.md (git)
- ``v2`` (branch ``release``; HEAD~1): train.parquet and train.csv changed,
  a stored profile for train.parquet, README.md changed
- ``head`` (main): data/new.parquet added, data/notes.txt removed

Small chunks (1-16 KiB) make every file many chunks, so ranged reads and
partial fetches are exercised on small data.
"""

from __future__ import annotations

import io
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dvxtest import git, make_dvx_repo, run_dvx, write_files

SMALL_CHUNKS = {"min_size": 1024, "avg_size": 4096, "max_size": 16384}
NCOLS = 20
NROWS = 4000


def parquet_bytes(seed: int, nrows: int = NROWS, ncols: int = NCOLS) -> bytes:
    """A Parquet file of float64 columns c00..c19 (uncompressed: column chunks are large)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {f"c{i:02d}": rng.standard_normal(nrows) for i in range(ncols)}
    cols["c00"] = np.arange(nrows, dtype="float64") + seed * 1000
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf, compression="none", row_group_size=1000)
    return buf.getvalue()


def feather_bytes(seed: int) -> bytes:
    import pyarrow as pa
    import pyarrow.feather as feather

    buf = io.BytesIO()
    feather.write_feather(pa.table({"k": list(range(50)), "v": [f"s{seed}-{i}" for i in range(50)]}), buf)
    return buf.getvalue()


@dataclass
class History:
    root: Path
    endpoint: str
    remote_url: str
    revs: dict[str, str] = field(default_factory=dict)  # name -> commit sha
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # rev name -> {path: bytes}
    profile_oid: str = ""

    def clone(self, dest: Path) -> Path:
        """A fresh clone: same history and remote, empty cache, no data checked out."""
        git(dest.parent, "clone", "-q", str(self.root), str(dest))
        return dest

    def copy(self, dest: Path) -> Path:
        """A full copy of the work tree with its cache (for tests that change the workspace)."""
        shutil.copytree(self.root, dest, symlinks=True)
        return dest


def _set_small_chunks(root: Path) -> None:
    cfg = root / ".dvx" / "config"
    text = cfg.read_text()
    for k, v in SMALL_CHUNKS.items():
        text = "\n".join(f"{k} = {v}" if line.startswith(f"{k} =") else line for line in text.splitlines()) + "\n"
    cfg.write_text(text)


def _store_profile(root: Path, rel: str) -> str:
    """Profile ``rel``, put the profile object in the cache and name it in the pointer (as `dvx check` does)."""
    from dvx.hashing import from_hex
    from dvx.quality.profile import profile_path
    from dvx.store import ObjectType
    from dvx.workspace import Workspace

    prof = profile_path(root / rel)
    ws = Workspace(root)
    with ws.cache.writer() as w:
        w.put(from_hex(prof.oid), ObjectType.PROFILE, prof.to_bytes())
    pp = root / (rel + ".dvx")
    pp.write_text(pp.read_text() + f"profile: {prof.oid}\n")
    return prof.oid


@pytest.fixture(scope="session")
def history(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    import boto3

    # tests/conftest.py's moto_server has put test credentials in the environment.
    bucket = f"api-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    root = make_dvx_repo(tmp_path_factory.mktemp("api") / "repo")
    _set_small_chunks(root)
    h = History(root, moto_server, f"s3://{bucket}/store")
    run_dvx(root, "remote", "add", "-d", "s3", h.remote_url)
    run_dvx(root, "remote", "modify", "s3", "endpoint_url", moto_server)

    v1 = {
        "data/train.parquet": parquet_bytes(1),
        "data/train.csv": b"id,name,score\n" + b"".join(b"%d,n%d,%d.5\n" % (i, i, i) for i in range(300)),
        "data/events.jsonl": b"".join(b'{"id": %d, "kind": "k%d"}\n' % (i, i % 3) for i in range(200)),
        "data/table.feather": feather_bytes(1),
        "data/notes.txt": "première ligne\nzweite Zeile\n".encode() * 400,
        "data/parts/a.parquet": parquet_bytes(10, nrows=300, ncols=3),
        "data/parts/sub/b.parquet": parquet_bytes(11, nrows=200, ncols=3),
        "README.md": b"# demo v1\n",
        # > 2 x 2 MiB: pyarrow-facing reads of it take the parallel preadv path
        "data/blob.bin": __import__("numpy").random.default_rng(5).bytes(6 << 20),
    }
    write_files(root, v1)
    run_dvx(root, "add", "data/train.parquet", "data/train.csv", "data/events.jsonl", "data/table.feather",
            "data/notes.txt", "data/parts", "data/blob.bin")
    git(root, "add", "-A")
    git(root, "commit", "--no-verify", "-qm", "v1")
    git(root, "tag", "v1.0")
    h.revs["v1.0"] = git(root, "rev-parse", "HEAD").stdout.strip()
    h.files["v1.0"] = dict(v1)

    v2 = dict(v1)
    v2["data/train.parquet"] = parquet_bytes(2)
    v2["data/train.csv"] = v1["data/train.csv"] + b"300,n300,300.5\n"
    v2["README.md"] = b"# demo v2\n"
    write_files(root, {k: v2[k] for k in ("data/train.parquet", "data/train.csv", "README.md")})
    run_dvx(root, "add", "data/train.parquet", "data/train.csv")
    h.profile_oid = _store_profile(root, "data/train.parquet")
    git(root, "add", "-A")
    git(root, "commit", "--no-verify", "-qm", "v2")
    git(root, "branch", "release")
    h.revs["v2"] = git(root, "rev-parse", "HEAD").stdout.strip()
    h.files["v2"] = dict(v2)

    head = dict(v2)
    head["data/new.parquet"] = parquet_bytes(3, nrows=100, ncols=2)
    del head["data/notes.txt"]
    write_files(root, {"data/new.parquet": head["data/new.parquet"]})
    run_dvx(root, "add", "data/new.parquet")
    git(root, "rm", "-q", "data/notes.txt.dvx")
    (root / "data" / "notes.txt").unlink()
    git(root, "add", "-A")
    git(root, "commit", "--no-verify", "-qm", "head")
    h.revs["head"] = git(root, "rev-parse", "HEAD").stdout.strip()
    h.files["head"] = head

    run_dvx(root, "push", "--rev", "v1.0", "--rev", "release", "--rev", "HEAD")
    yield h


@pytest.fixture(scope="session", autouse=True)
def _remove_clones() -> Iterator[None]:
    """Clones of git URLs are removed at exit by atexit, which xdist workers skip: remove them here."""
    yield
    from dvx import versions

    versions.cleanup_clones()
