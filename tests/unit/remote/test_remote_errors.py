"""One clear line for each remote failure: unreachable, missing bucket, missing package, bad config."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3kit import free_port
from unit.remote.remotekit import build_tree, local_store

from dvx.errors import RemoteError
from dvx.remote import fetch, open_url, push
from dvx.store import ObjectType


def _tree(tmp_path: Path) -> tuple[Any, bytes]:
    a = local_store(tmp_path / "a")
    return a, build_tree(a, {"x": b"hello" * 100})


def test_unreachable_endpoint_fails_fast_with_one_line(tmp_path: Path, s3_env: Any) -> None:
    a, tree = _tree(tmp_path)
    endpoint = f"http://127.0.0.1:{free_port()}"
    r = open_url("s3://bucket/p", {"endpoint_url": endpoint}, name="store")
    with pytest.raises(RemoteError) as ei:  # a retry loop that never ends fails by pytest's timeout
        push(a, r, [(tree, ObjectType.TREE)])
    msg = ei.value.format_message()
    assert "\n" not in msg and "'store'" in msg and "s3://bucket/p" in msg and "cannot connect" in msg
    assert endpoint in msg
    assert not (tmp_path / "a" / "remote-index").exists() or not any((tmp_path / "a" / "remote-index").rglob("*.*"))


def test_missing_bucket(tmp_path: Path, moto_server: str) -> None:
    a, tree = _tree(tmp_path)
    r = open_url("s3://no-such-bucket-here/p", {"endpoint_url": moto_server}, name="origin")
    with pytest.raises(RemoteError) as ei:
        push(a, r, [(tree, ObjectType.TREE)])
    assert "bucket" in ei.value.message and "does not exist" in ei.value.message
    assert "no-such-bucket-here" in ei.value.message
    with pytest.raises(RemoteError, match="does not exist"):
        fetch(open_url("s3://no-such-bucket-here/p", {"endpoint_url": moto_server}), local_store(tmp_path / "b"),
              [(tree, ObjectType.TREE)])


def test_missing_folder_on_fetch(tmp_path: Path) -> None:
    _a, tree = _tree(tmp_path)
    with pytest.raises(RemoteError, match="does not exist"):
        fetch(open_url(str(tmp_path / "nope")), local_store(tmp_path / "b"), [(tree, ObjectType.TREE)])


def test_missing_fsspec_package_names_it() -> None:
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        with pytest.raises(RemoteError) as ei:
            open_url("gs://bucket/x", name="g")
        assert ei.value.hint == "pip install gcsfs" and "gcsfs" in ei.value.message
    else:  # pragma: no cover
        pytest.skip("gcsfs is installed")


def test_unknown_protocol() -> None:
    with pytest.raises(RemoteError, match="unknown URL protocol"):
        open_url("nosuchproto://x/y")


def test_relative_folder_is_relative_to_base(tmp_path: Path) -> None:
    r = open_url("../shared-remote", base_dir=tmp_path / "repo")
    assert r.root == str(tmp_path / "shared-remote")
    assert open_url(f"file://{tmp_path}/x").root == str(tmp_path / "x")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write into: mode 0500 for a normal user; as root, which
    ignores permission bits, a read-only bind mount (skipped where mounting is not permitted)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o500)
        yield ro
        ro.chmod(0o700)
        return
    src = tmp_path / "ro-source"
    src.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(src), str(ro)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"root cannot make a read-only folder here (mount: {mounted.stderr.decode().strip()})")
    try:
        yield ro
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_unwritable_folder_remote(tmp_path: Path, read_only_dir: Path) -> None:
    a, tree = _tree(tmp_path)
    with pytest.raises(RemoteError) as ei:
        push(a, open_url(str(read_only_dir / "r")), [(tree, ObjectType.TREE)])
    msg = ei.value.format_message()
    assert "\n" not in msg and str(read_only_dir / "r") in msg
    assert "permission denied" in msg.lower() or "read-only file system" in msg.lower(), msg
    assert list(read_only_dir.iterdir()) == []


def test_file_where_the_remote_folder_should_be(tmp_path: Path) -> None:
    """Runs as any user, root included: a file blocks the remote's folder."""
    a, tree = _tree(tmp_path)
    (tmp_path / "blocker").write_bytes(b"not a folder")
    with pytest.raises(RemoteError) as ei:
        push(a, open_url(str(tmp_path / "blocker" / "r")), [(tree, ObjectType.TREE)])
    msg = ei.value.format_message()
    assert "\n" not in msg and str(tmp_path / "blocker" / "r") in msg and "not a directory" in msg.lower(), msg
    assert (tmp_path / "blocker").read_bytes() == b"not a folder"
