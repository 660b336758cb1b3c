"""Issue 12 item 2, the issue's own scenario: one flipped byte in a cached pack; `checkout` refuses with a
hint; the command the hint names fixes it (with a remote: `dvx pull`; without: `dvx add` of the data)."""

from __future__ import annotations

import random
from pathlib import Path

from dvxtest import git, make_dvx_repo, run_dvx

MiB = 1 << 20


def _setup(tmp_path: Path, remote: bool) -> tuple[Path, bytes]:
    repo = make_dvx_repo(tmp_path / "repo")
    data = random.Random(12).randbytes(2 * MiB)
    (repo / "big.bin").write_bytes(data)
    run_dvx(repo, "add", "big.bin")
    if remote:
        run_dvx(repo, "remote", "add", "-d", "r", str(tmp_path / "remote"))
        run_dvx(repo, "push")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    pack = max((p for p in (repo / ".dvx" / "cache" / "packs").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    raw = bytearray(pack.read_bytes())
    raw[len(raw) // 3] ^= 0x01
    pack.write_bytes(bytes(raw))
    (repo / "big.bin").unlink()
    return repo, data


def test_flipped_byte_checkout_hint_pull_fixes(tmp_path: Path) -> None:
    repo, data = _setup(tmp_path, remote=True)
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1 and "corrupt" in cp.stderr and "`dvx pull`" in cp.stderr, cp.stderr
    run_dvx(repo, "pull")
    assert (repo / "big.bin").read_bytes() == data
    assert run_dvx(repo, "fsck", check=False).returncode == 0


def test_flipped_byte_no_remote_add_rewrites(tmp_path: Path) -> None:
    repo, data = _setup(tmp_path, remote=False)
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1 and "`dvx add`" in cp.stderr, cp.stderr
    (repo / "big.bin").write_bytes(data)  # the user's copy of the data
    cp = run_dvx(repo, "add", "big.bin")
    assert "0 B new" not in cp.stdout, cp.stdout
    (repo / "big.bin").unlink()
    run_dvx(repo, "checkout")
    assert (repo / "big.bin").read_bytes() == data
    assert run_dvx(repo, "fsck", check=False).returncode == 0


def test_fsck_then_fetch_refetches(tmp_path: Path) -> None:
    """A flip no command has read yet: fsck finds and notes it, the next `dvx fetch` downloads it again."""
    repo, data = _setup(tmp_path, remote=True)
    assert run_dvx(repo, "fsck", check=False).returncode == 1
    cp = run_dvx(repo, "fetch")
    assert "fetched 0 objects" not in cp.stdout, cp.stdout
    run_dvx(repo, "checkout")
    assert (repo / "big.bin").read_bytes() == data
    assert run_dvx(repo, "fsck", check=False).returncode == 0
