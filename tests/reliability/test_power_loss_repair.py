"""The power-loss model for ``dvx fsck``: a pack's bytes lost after the index naming it was written.

``fsck`` detects it (exit 1, naming the pack and the paths), ``fsck --repair``
heals it from the remote (a folder and moto), and a second ``fsck`` is clean.
A repair killed at any moment and run again completes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dvxtest import env, git, make_dvx_repo, run_dvx, tree_bytes

MiB = 1 << 20


def _repo(tmp_path: Path, url: str, endpoint: str | None = None) -> Path:
    repo = make_dvx_repo(tmp_path / "repo")
    rnd = random.Random(7)
    (repo / "big.bin").write_bytes(rnd.randbytes(3 * MiB))
    (repo / "data").mkdir()
    for k in range(8):
        (repo / "data" / f"part-{k}.csv").write_bytes(rnd.randbytes(20_000 + 5_000 * k))
    run_dvx(repo, "remote", "add", "-d", "store", url)
    if endpoint is not None:
        run_dvx(repo, "remote", "modify", "store", "endpoint_url", endpoint)
    run_dvx(repo, "add", "big.bin", "data")
    run_dvx(repo, "push")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    return repo


def _lose(repo: Path, how: str) -> Path:
    """What a power cut leaves of the largest pack when only its index was synced."""
    pk = max((p for p in (repo / ".dvx" / "cache" / "packs").glob("*/*") if p.is_file()), key=lambda p: p.stat().st_size)
    size = pk.stat().st_size
    if how == "truncate":
        os.truncate(pk, size // 3)
    elif how == "zero-tail":
        with open(pk, "r+b") as f:
            f.seek(size // 3)
            f.write(bytes(size - size // 3))
    else:
        pk.unlink()
    return pk


def _fsck(repo: Path, *args: str) -> tuple[int, dict]:
    cp = run_dvx(repo, "fsck", "--json", *args, check=False)
    assert cp.returncode in (0, 1) and cp.stdout, cp.stderr
    return cp.returncode, json.loads(cp.stdout)


def _detect_repair_verify(repo: Path, how: str) -> None:
    want = tree_bytes(repo)
    pk = _lose(repo, how)
    code, out = _fsck(repo)
    assert code == 1
    assert any(p["pack"] == pk.name and p["affects"] for p in out["problems"]), out["problems"]
    code, out = _fsck(repo, "--repair")
    assert code == 0, out["left"]
    assert any("fetched again from remote 'store'" in r["how"] for r in out["repaired"])
    assert _fsck(repo)[0] == 0
    hows = {r["id"]: r["how"] for r in out["repaired"]}
    if how != "missing":
        assert (repo / ".dvx" / "cache" / "quarantine" / pk.name).is_file()  # kept aside, never deleted
        assert "quarantine" in hows[pk.name]
    else:
        assert hows[pk.name].startswith("it is gone")
    (repo / "big.bin").unlink()
    shutil.rmtree(repo / "data")
    run_dvx(repo, "checkout")
    assert tree_bytes(repo) == want


@pytest.mark.parametrize("how", ["truncate", "zero-tail", "missing"])
def test_folder_remote(tmp_path: Path, how: str) -> None:
    _detect_repair_verify(_repo(tmp_path, str(tmp_path / "remote")), how)


@pytest.mark.s3
def test_moto(tmp_path: Path, s3_bucket) -> None:
    bucket = s3_bucket()
    _detect_repair_verify(_repo(tmp_path, bucket.url, bucket.endpoint), "truncate")


def test_repair_killed_at_any_moment_completes_when_run_again(tmp_path: Path) -> None:
    """SIGKILL `dvx fsck --repair` after growing delays; each rerun exits 0 and leaves fsck clean."""
    base = _repo(tmp_path / "base", str(tmp_path / "remote"))
    want = tree_bytes(base)
    # Delays are fractions of how long one whole repair takes here, so kills land inside it on a
    # fast, idle machine as on a loaded one (fixed delays once all came after a repair had ended).
    timed = tmp_path / "timed"
    shutil.copytree(base, timed, symlinks=True)
    _lose(timed, "zero-tail")
    t0 = time.monotonic()
    assert _fsck(timed, "--repair")[0] == 0
    whole = time.monotonic() - t0
    kills = 0
    for k, delay in enumerate(whole * f for f in (0.3, 0.5, 0.65, 0.8, 0.9, 0.97)):
        repo = tmp_path / f"run{k}"
        shutil.copytree(base, repo, symlinks=True)
        _lose(repo, "zero-tail")
        proc = subprocess.Popen([sys.executable, "-m", "dvx", "fsck", "--repair"], cwd=repo, env=env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        kills += proc.wait() == -signal.SIGKILL
        code, out = _fsck(repo, "--repair")
        assert code == 0, (delay, out["left"])
        assert _fsck(repo)[0] == 0, delay
        (repo / "big.bin").unlink()
        shutil.rmtree(repo / "data")
        run_dvx(repo, "checkout")
        assert tree_bytes(repo) == want
    assert kills >= 1  # at least one kill landed while the repair ran
