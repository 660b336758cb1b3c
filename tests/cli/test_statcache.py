"""The stat cache never vouches for bytes it did not see (issue 10, defect 3).

Each test changes a tracked file's bytes while keeping size, inode and mtime
(the way ``cp -p``, ``tar x``, ``rsync -t --inplace`` and ``os.utime`` do),
then checks through the real CLI that ``status`` sees the change, ``add``
stores it and ``dvx.open`` never returns the new bytes as the old version.
A damaged cache file is discarded with one warning and rebuilt.
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import xxhash
from dvxtest import env, run_dvx

from dvx.workspace.statcache import MAGIC, StatCache

OLD = b"A" * 5000
NEW = b"B" * 5000  # same size


def _state(repo: Path, rel: str) -> dict:
    out = json.loads(run_dvx(repo, "status", "--json", rel).stdout)
    return out["paths"][0]


def _add(repo: Path, rel: str, data: bytes) -> str:
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    run_dvx(repo, "add", rel)
    return _state(repo, rel)["pointer_id"]


def _same_stat_new_bytes(p: Path) -> os.stat_result:
    """Rewrite ``p`` in place with NEW and put its mtime back: only ctime differs."""
    st = p.stat()
    with open(p, "r+b") as f:
        f.write(NEW)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    st2 = p.stat()
    assert (st2.st_size, st2.st_mtime_ns, st2.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    return st


def _open_bytes(repo: Path, rel: str) -> bytes:
    code = f"import dvx,sys; sys.stdout.buffer.write(dvx.open({rel!r}).read())"
    cp = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, env=env(), check=True)
    return cp.stdout


def _assert_change_seen(repo: Path, rel: str, old_id: str) -> None:
    # dvx.open of the working version must give the pointer's bytes, not the
    # rewritten file's (which would be new bytes under the old id).
    assert _open_bytes(repo, rel) == OLD
    st = _state(repo, rel)
    assert st["state"] == "modified" and st["workspace_id"] != old_id
    cp = run_dvx(repo, "add", rel)
    assert cp.stdout.startswith("modified"), cp.stdout
    assert _state(repo, rel)["pointer_id"] == st["workspace_id"]
    assert _open_bytes(repo, rel) == NEW


def test_utime_restoring_mtime_after_an_in_place_rewrite(repo: Path) -> None:
    old = _add(repo, "f.bin", OLD)
    assert _state(repo, "f.bin")["state"] == "unchanged"  # the entry is in the cache now
    _same_stat_new_bytes(repo / "f.bin")
    _assert_change_seen(repo, "f.bin", old)


def test_cp_p_over_a_tracked_file(repo: Path, tmp_path: Path) -> None:
    if shutil.which("cp") is None:
        pytest.skip("no cp(1)")
    old = _add(repo, "f.bin", OLD)
    assert _state(repo, "f.bin")["state"] == "unchanged"
    src = tmp_path / "src.bin"
    src.write_bytes(NEW)
    st = (repo / "f.bin").stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))  # the copy carries the tracked file's mtime
    subprocess.run(["cp", "-p", str(src), str(repo / "f.bin")], check=True)  # in place: same inode
    st2 = (repo / "f.bin").stat()
    assert (st2.st_size, st2.st_mtime_ns, st2.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    _assert_change_seen(repo, "f.bin", old)


def test_tar_x_over_a_tracked_folder(repo: Path, tmp_path: Path) -> None:
    (repo / "d").mkdir()
    f = repo / "d" / "f.bin"
    f.write_bytes(OLD)
    whole = (f.stat().st_mtime_ns // 10**9 - 5) * 10**9  # tar keeps whole seconds
    os.utime(f, ns=(whole, whole))
    run_dvx(repo, "add", "d")
    old = _state(repo, "d")["pointer_id"]
    assert _state(repo, "d")["state"] == "unchanged"
    # An archive of the same file name with new bytes and the old mtime.
    src = tmp_path / "src" / "f.bin"
    src.parent.mkdir()
    src.write_bytes(NEW)
    os.utime(src, ns=(whole, whole))
    tar = shutil.which("tar")
    if tar:
        subprocess.run([tar, "-cf", str(tmp_path / "a.tar"), "-C", str(src.parent), "f.bin"], check=True)
        subprocess.run([tar, "-xf", str(tmp_path / "a.tar"), "-C", str(repo / "d")], check=True)
    else:
        with tarfile.open(tmp_path / "a.tar", "w") as t:
            t.add(src, arcname="f.bin")
        with tarfile.open(tmp_path / "a.tar") as t:
            t.extractall(repo / "d", filter="data")
    st2 = f.stat()
    assert (st2.st_size, st2.st_mtime_ns, f.read_bytes()) == (len(OLD), whole, NEW)
    s = _state(repo, "d")
    assert s["state"] == "modified" and s["workspace_id"] != old
    assert run_dvx(repo, "add", "d").stdout.startswith("modified")
    assert _state(repo, "d")["state"] == "unchanged"


def _forge_entry(repo: Path, rel: str, oid: bytes, stamp_ns: int) -> None:
    """Make the cache say ``rel`` (at its current stat) holds ``oid``, written at ``stamp_ns``.

    This is the state a second write within the clock tick of the first
    leaves behind: the entry's stat equals the file's, its id is stale.
    """
    cache = StatCache(repo / ".dvx" / "tmp" / "statcache")
    st = (repo / rel).stat()
    cache.put(rel.encode(), st, oid, 1, written=True)
    cache.save()
    os.utime(cache.path, ns=(stamp_ns, stamp_ns))


def test_write_within_the_clock_tick_of_the_cache_is_racy(repo: Path) -> None:
    """git's racy rule: an entry whose file changed at or after the cache write is re-hashed."""
    _add(repo, "f.bin", OLD)
    (repo / "f.bin").write_bytes(NEW)
    st = (repo / "f.bin").stat()
    stale = bytes(16)
    # Cache file written in the same tick as the file's last change: racy.
    _forge_entry(repo, "f.bin", stale, max(st.st_mtime_ns, st.st_ctime_ns))
    s = _state(repo, "f.bin")
    assert s["state"] == "modified" and s["workspace_id"] not in (stale.hex(), None)
    assert _open_bytes(repo, "f.bin") == OLD
    # The control: the same entry in a cache written a tick later is
    # trusted; that is the "one stat per unchanged file" contract, and it
    # shows the racy rule above is what caught the stale id.
    _forge_entry(repo, "f.bin", stale, max(st.st_mtime_ns, st.st_ctime_ns) + 1_000_000_000)
    assert _state(repo, "f.bin")["workspace_id"] == stale.hex()


def test_a_racy_entry_is_not_made_safe_by_the_next_save(repo: Path) -> None:
    """Like git's smudging: a racy entry is dropped when the cache is written again."""
    _add(repo, "f.bin", OLD)
    (repo / "g.bin").write_bytes(b"g")
    (repo / "f.bin").write_bytes(NEW)
    st = (repo / "f.bin").stat()
    _forge_entry(repo, "f.bin", bytes(16), max(st.st_mtime_ns, st.st_ctime_ns))
    run_dvx(repo, "add", "g.bin")  # saves the cache (newer mtime) without looking at f.bin
    assert _state(repo, "f.bin")["state"] == "modified"


def test_a_file_written_while_add_runs_is_not_cached(repo: Path) -> None:
    """A file whose newest timestamp is not older than the clock probe is hashed but not recorded."""
    p = repo / "f.bin"
    p.write_bytes(OLD)
    future = p.stat().st_mtime_ns + 3600 * 10**9  # newer than any probe this test takes
    os.utime(p, ns=(future, future))
    run_dvx(repo, "add", "f.bin")
    cache = StatCache(repo / ".dvx" / "tmp" / "statcache")
    assert b"f.bin" not in cache.entries
    assert _state(repo, "f.bin")["state"] == "unchanged"  # hashed again: still correct


def test_status_reads_no_file_whose_stat_is_unchanged(repo: Path) -> None:
    _add(repo, "f.bin", OLD)
    assert _state(repo, "f.bin")["state"] == "unchanged"
    # An entry a tick older than the cache file is trusted without reading
    # the file: a forged id shows up as the workspace id.
    st = (repo / "f.bin").stat()
    _forge_entry(repo, "f.bin", b"\x01" * 16, max(st.st_mtime_ns, st.st_ctime_ns) + 10**9)
    assert _state(repo, "f.bin")["workspace_id"] == "01" * 16


# Corrupt caches -----------------------------------------------------------


def _body(obj: object) -> bytes:
    body = marshal.dumps(obj)
    return MAGIC + xxhash.xxh3_128_digest(body) + body


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: raw[:30] + bytes([raw[30] ^ 0xFF]) + raw[31:], id="flipped-byte"),
        pytest.param(lambda raw: b"\x00" * 100, id="zeros"),
        pytest.param(lambda raw: _body([1, 2, 3]), id="a-list"),
        pytest.param(lambda raw: _body({b"f.bin": (1, 2)}), id="tuple-entry"),
        pytest.param(lambda raw: _body({b"f.bin": b"short"}), id="short-entry"),
        # Valid checksum over bytes marshal cannot load (a bad type code).
        pytest.param(lambda raw: MAGIC + xxhash.xxh3_128_digest(b"\xff") + b"\xff", id="bad-marshal"),
        # A list that claims 2**31-1 items: MemoryError or EOFError from marshal.
        pytest.param(
            lambda raw: MAGIC + xxhash.xxh3_128_digest(b"[\xff\xff\xff\x7f") + b"[\xff\xff\xff\x7f", id="huge-list"
        ),
    ],
)
def test_a_damaged_cache_is_discarded_with_one_warning(repo: Path, damage) -> None:
    _add(repo, "f.bin", OLD)
    path = repo / ".dvx" / "tmp" / "statcache"
    path.write_bytes(damage(path.read_bytes()))
    cp = run_dvx(repo, "status", "--json", "f.bin")
    assert json.loads(cp.stdout)["paths"][0]["state"] == "unchanged"
    warnings = [ln for ln in cp.stderr.splitlines() if ln.strip()]
    assert len(warnings) == 1 and "statcache" in warnings[0] and "discarded" in warnings[0], cp.stderr
    assert "Traceback" not in cp.stderr
    # Rebuilt: the next command is silent and finds the entry again.
    cp = run_dvx(repo, "status", "f.bin")
    assert cp.stderr == ""
    assert b"f.bin" in StatCache(path).entries


def test_a_cache_that_is_a_directory_or_fifo_is_discarded(repo: Path) -> None:
    _add(repo, "f.bin", OLD)
    path = repo / ".dvx" / "tmp" / "statcache"
    path.unlink()
    os.mkfifo(path)  # a blocking read would hang forever
    cp = run_dvx(repo, "status", "f.bin", timeout=30)
    assert "not a regular file" in cp.stderr and cp.returncode == 0
    assert "all unchanged" in cp.stdout  # status still answered, from the data itself


def test_stamps_of_a_coarse_file_system_get_slack(tmp_path: Path) -> None:
    """Whole-second stamps (FAT, HFS+, ext3) are truncated: one second older than the clock is not old enough."""
    from types import SimpleNamespace

    cache = StatCache(tmp_path / "statcache")
    now = cache.clock()
    sec = (now // 10**9 - 1) * 10**9  # a whole second, 0-1 s before the probe
    coarse = SimpleNamespace(st_size=1, st_mtime_ns=sec, st_ctime_ns=sec, st_ino=7)
    fine = SimpleNamespace(st_size=1, st_mtime_ns=sec + 1, st_ctime_ns=sec + 1, st_ino=7)
    cache.put(b"coarse", coarse, b"\1" * 16, 1)
    cache.put(b"fine", fine, b"\1" * 16, 1)
    assert b"coarse" not in cache.entries  # a write later in that second would keep the stamps
    assert b"fine" in cache.entries
