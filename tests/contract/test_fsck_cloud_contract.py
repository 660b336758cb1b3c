"""``dvx fsck --cloud`` contract over a folder remote, moto_server and SeaweedFS: clean -> 0; a damaged
remote pack -> 1, naming it and the path it affects; ``--repair`` reports it and changes nothing there."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from dvxtest import git, make_dvx_repo, run_dvx

MiB = 1 << 20


class _Folder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def packs(self) -> list[str]:
        return [str(p) for p in (self.root / "packs").rglob("*") if p.is_file() and len(p.name) == 32]

    def size(self, path: str) -> int:
        return Path(path).stat().st_size

    def read(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def write(self, path: str, data: bytes) -> None:
        Path(path).write_bytes(data)

    def snapshot(self) -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in self.root.rglob("*") if p.is_file()}


class _Bucket:
    def __init__(self, bucket: Any) -> None:
        self.bucket = bucket
        self.fs = bucket.fs()

    def packs(self) -> list[str]:
        self.fs.invalidate_cache()
        return [p for p in self.fs.find(f"{self.bucket.name}/packs") if len(p.rsplit("/", 1)[-1]) == 32]

    def size(self, path: str) -> int:
        return int(self.fs.size(path))

    def read(self, path: str) -> bytes:
        return bytes(self.fs.cat_file(path))

    def write(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(path, data)

    def snapshot(self) -> dict[str, bytes]:
        self.fs.invalidate_cache()
        return {p: self.read(p) for p in self.fs.find(self.bucket.name)}


@pytest.fixture(params=["folder", "moto", "seaweedfs"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None, Any]:
    """(url, endpoint or None, a handle to read and damage the remote's files)."""
    if request.param == "folder":
        return str(tmp_path / "remote"), None, _Folder(tmp_path / "remote")
    request.applymarker(pytest.mark.s3)
    if request.param == "moto":
        bucket = request.getfixturevalue("s3_bucket")()
    else:
        bucket = request.getfixturevalue("seaweedfs").bucket()
    return bucket.url, bucket.endpoint, _Bucket(bucket)


def _fsck(repo: Path, *args: str) -> tuple[int, dict]:
    cp = run_dvx(repo, "fsck", "--cloud", "--json", *args, check=False)
    assert cp.returncode in (0, 1) and cp.stdout, cp.stderr
    return cp.returncode, json.loads(cp.stdout)


def test_fsck_cloud_clean_then_damaged_pack_named(tmp_path: Path, remote: tuple[str, str | None, Any]) -> None:
    url, endpoint, handle = remote
    repo = make_dvx_repo(tmp_path / "repo")
    rnd = random.Random(9)
    (repo / "big.bin").write_bytes(rnd.randbytes(MiB))
    run_dvx(repo, "add", "big.bin")
    run_dvx(repo, "remote", "add", "-d", "r", url)
    if endpoint is not None:
        run_dvx(repo, "remote", "modify", "r", "endpoint_url", endpoint)
    run_dvx(repo, "push")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data", "--no-verify")
    code, out = _fsck(repo)
    assert code == 0 and out["clean"] and len(out["stores"]) == 2
    big = max(handle.packs(), key=handle.size)
    raw = bytearray(handle.read(big))
    raw[len(raw) // 2] ^= 0xFF
    handle.write(big, bytes(raw))
    name = big.rsplit("/", 1)[-1]
    code, out = _fsck(repo)
    assert code == 1
    (p,) = out["problems"]
    assert p["store"].startswith("remote 'r'") and p["pack"] == name and p["affects"] == ["big.bin"]
    before = handle.snapshot()
    code, out = _fsck(repo, "--repair")
    assert code == 1 and out["repaired"] == []
    (p,) = out["left"]
    assert p["pack"] == name and "never changes a remote" in p["fix"]
    assert handle.snapshot() == before
