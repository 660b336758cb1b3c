"""Format versions through the real CLI: `[core] format`, the `dvx-store` marker of the cache and of
remotes, and chunking parameters that the environment cannot change (docs/format.md, "Format versions")."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from dvxtest import env, make_dvx_repo, run_dvx, write_files

MARKER = b"dvx-store 1\n"
DATA = {"data/a.bin": os.urandom(700_000), "data/b.csv": b"x,y\n" + b"1,2\n" * 50_000}


def _one_error_line(cp: Any) -> str:
    assert cp.returncode == 2, cp.stderr
    lines = [ln for ln in cp.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, cp.stderr
    return lines[0]


def _pointer_id(repo: Path, path: str) -> str:
    m = re.search(r"^id: ([0-9a-f]{32})$", (repo / f"{path}.dvx").read_text(), re.M)
    assert m
    return m.group(1)


def test_init_writes_the_cache_marker(repo: Path) -> None:
    assert (repo / ".dvx" / "cache" / "dvx-store").read_bytes() == MARKER
    assert "format = 1" in (repo / ".dvx" / "config").read_text()


@pytest.mark.parametrize(("fmt", "hint"), [(2, "upgrade dvx"), (0, "set it back to 1")])
def test_other_repository_format_is_refused(repo: Path, fmt: int, hint: str) -> None:
    cfg = repo / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace("format = 1", f"format = {fmt}"))
    write_files(repo, DATA)
    line = _one_error_line(run_dvx(repo, "add", "data", check=False))
    assert f"{cfg}:2: [core] format = {fmt}, this dvx reads format 1 (hint: {hint})" in line
    assert not (repo / "data.dvx").exists()


def test_newer_cache_format_is_refused_and_nothing_written(repo: Path) -> None:
    write_files(repo, DATA)
    run_dvx(repo, "add", "data")
    marker = repo / ".dvx" / "cache" / "dvx-store"
    marker.write_bytes(b"dvx-store 2\n")
    packs = sorted((repo / ".dvx" / "cache" / "packs").rglob("*"))
    (repo / "data" / "c.txt").write_bytes(b"new file\n")
    for args in (("add", "data"), ("checkout", "data"), ("status",)):
        line = _one_error_line(run_dvx(repo, *args, check=False))
        assert f"{marker}: store format 2, this dvx reads store format 1" in line and "upgrade dvx" in line
    assert sorted((repo / ".dvx" / "cache" / "packs").rglob("*")) == packs


def test_cache_without_marker_keeps_working_and_gets_it_back(repo: Path) -> None:
    write_files(repo, DATA)
    run_dvx(repo, "add", "data")
    marker = repo / ".dvx" / "cache" / "dvx-store"
    marker.unlink()  # a cache made before markers existed
    want = (repo / "data" / "a.bin").read_bytes()
    (repo / "data" / "a.bin").unlink()
    run_dvx(repo, "checkout", "data")
    assert (repo / "data" / "a.bin").read_bytes() == want
    (repo / "data" / "c.txt").write_bytes(b"new file\n")
    run_dvx(repo, "add", "data")
    assert marker.read_bytes() == MARKER


def test_chunking_environment_cannot_change_ids_of_a_repository(repo: Path, tmp_path: Path) -> None:
    write_files(repo, DATA)
    e = env()
    e["DVX_CHUNKING_AVG_SIZE"] = "4096"
    line = _one_error_line(run_dvx(repo, "add", "data", env=e, check=False))
    assert "DVX_CHUNKING_AVG_SIZE='4096' would change [chunking] avg_size = 65536" in line
    assert f"{repo / '.dvx' / 'config'}:" in line and "(hint: unset DVX_CHUNKING_AVG_SIZE)" in line
    assert not (repo / "data.dvx").exists()
    assert not list((repo / ".dvx" / "cache").glob("index/*"))
    # The hint: without the variable (or with the recorded value) the ids are the repository's.
    e["DVX_CHUNKING_AVG_SIZE"] = "65536"
    run_dvx(repo, "add", "data", env=e)
    with_same = _pointer_id(repo, "data")
    del e["DVX_CHUNKING_AVG_SIZE"]
    (repo / "data.dvx").unlink()
    run_dvx(repo, "add", "data", env=e)
    assert _pointer_id(repo, "data") == with_same
    other = make_dvx_repo(tmp_path / "other")
    write_files(other, DATA)
    run_dvx(other, "add", "data")
    assert _pointer_id(other, "data") == with_same


def _push_to(repo: Path, url: str, *opts: tuple[str, str]) -> None:
    run_dvx(repo, "remote", "add", "-d", "store", url)
    for k, v in opts:
        run_dvx(repo, "remote", "modify", "store", k, v)
    write_files(repo, DATA)
    run_dvx(repo, "add", "data")
    run_dvx(repo, "push")


def test_folder_remote_marker_written_checked_and_restored(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    _push_to(repo, str(remote))
    marker = remote / "dvx-store"
    assert marker.read_bytes() == MARKER
    marker.write_bytes(b"dvx-store 7\n")
    for args in (("pull", "data"), ("push",), ("status", "--cloud")):
        line = _one_error_line(run_dvx(repo, *args, check=False))
        assert "remote 'store'" in line and "dvx-store: store format 7, this dvx reads store format 1" in line
        assert "upgrade dvx" in line
    # A remote made before markers: read as format 1, and the next push writes the marker.
    marker.unlink()
    (repo / "data" / "a.bin").unlink()
    run_dvx(repo, "pull", "data")
    assert (repo / "data" / "a.bin").read_bytes() == DATA["data/a.bin"]
    assert not marker.exists()
    (repo / "data" / "c.txt").write_bytes(b"new file\n")
    run_dvx(repo, "add", "data")
    run_dvx(repo, "push")
    assert marker.read_bytes() == MARKER


def test_s3_remote_marker_written_and_newer_refused(repo: Path, s3_bucket: Any) -> None:
    bk = s3_bucket()
    _push_to(repo, f"{bk.url}/store", ("endpoint_url", bk.endpoint))
    client = bk.client()
    got = client.get_object(Bucket=bk.name, Key="store/dvx-store")["Body"].read()
    assert got == MARKER
    client.put_object(Bucket=bk.name, Key="store/dvx-store", Body=b"dvx-store 2\n")
    (repo / "data" / "a.bin").unlink()
    line = _one_error_line(run_dvx(repo, "pull", "data", check=False))
    assert "remote 'store'" in line and "dvx-store: store format 2, this dvx reads store format 1" in line
    assert not (repo / "data" / "a.bin").exists()


@pytest.mark.parametrize("value", ["1", "65536"])
def test_chunking_environment_equal_to_recorded_value_is_accepted(repo: Path, value: str) -> None:
    e = env()
    key = "DVX_CHUNKING_MIN_SIZE" if value == "1" else "DVX_CHUNKING_AVG_SIZE"
    if value == "1":
        value = "16384"
    e[key] = value
    write_files(repo, {"f.txt": b"hello\n"})
    run_dvx(repo, "add", "f.txt", env=e)
    assert (repo / "f.txt.dvx").exists()
