"""One clear line for each remote failure: unreachable, missing bucket, missing package, bad config."""

from __future__ import annotations

import time
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
    t0 = time.monotonic()
    with pytest.raises(RemoteError) as ei:
        push(a, r, [(tree, ObjectType.TREE)])
    assert time.monotonic() - t0 < 10
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


def test_unwritable_folder_remote(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    a, tree = _tree(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(RemoteError, match="permission denied"):
            push(a, open_url(str(ro / "r")), [(tree, ObjectType.TREE)])
    finally:
        ro.chmod(0o700)
