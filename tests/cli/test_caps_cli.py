"""Sizes agree before anything is written, and chunker bounds from config (issue 10, defect 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dvxtest import git, run_dvx

import dvx
from dvx.errors import CorruptObjectError
from dvx.hashing import from_hex, to_hex
from dvx.store.objects import ChunkRef, FileManifest, TreeEntry, TreeManifest
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr


def _lie(repo: Path, rel: str, manifest: FileManifest | TreeManifest, kind: str, size: int, files: int,
         chunks: int) -> None:
    """Store ``manifest`` in the cache and point ``rel.dvx`` at it (a pointer a hostile clone could hold)."""
    ws = Workspace(repo)
    with ws.cache.writer() as w:
        oid = w.put_manifest(manifest)
    (repo / f"{rel}.dvx").write_text(ptr.Pointer(kind, to_hex(oid), size, files, chunks).dumps(rel))


def test_checkout_refuses_a_chunk_shorter_than_its_manifest_says(repo: Path) -> None:
    (repo / "f.bin").write_bytes(b"z" * 5000)  # one chunk (below the 16 KiB minimum)
    run_dvx(repo, "add", "f.bin")
    ws = Workspace(repo)
    m = ws.cache.get_file_manifest(from_hex(ptr.load(repo / "f.bin.dvx").oid))
    (chunk,) = m.chunks
    _lie(repo, "f.bin", FileManifest((ChunkRef(chunk.oid, 9000),)), "file", 9000, 1, 1)
    (repo / "f.bin").unlink()
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1, cp.stderr
    assert f"chunk {chunk.oid.hex()} is 5000 bytes in the cache, its manifest says 9000" in cp.stderr
    assert len(cp.stderr.strip().splitlines()) == 1
    assert not (repo / "f.bin").exists()  # not written short (and then reported unchanged)
    again = run_dvx(repo, "checkout", check=False)
    assert again.returncode == 1 and not (repo / "f.bin").exists()


def test_checkout_refuses_a_pointer_whose_size_is_not_its_manifests(repo: Path) -> None:
    (repo / "z.bin").write_bytes(bytes(33_000))
    run_dvx(repo, "add", "z.bin")
    ws = Workspace(repo)
    m = ws.cache.get_file_manifest(from_hex(ptr.load(repo / "z.bin.dvx").oid))
    twice = FileManifest(m.chunks * 2)  # genuine chunks, listed twice
    _lie(repo, "z.bin", twice, "file", 100, 1, len(twice.chunks))
    (repo / "z.bin").unlink()
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1, cp.stderr
    assert "z.bin.dvx says size 100" in cp.stderr and f"lists {twice.size} bytes" in cp.stderr
    assert not (repo / "z.bin").exists()


def test_checkout_refuses_a_tree_entry_whose_size_is_not_its_manifests(repo: Path) -> None:
    (repo / "d").mkdir()
    (repo / "d" / "a.txt").write_bytes(b"a" * 1000)
    run_dvx(repo, "add", "d")
    ws = Workspace(repo)
    tree = ws.cache.get_tree_manifest(from_hex(ptr.load(repo / "d.dvx").oid))
    (e,) = tree.entries
    forged = TreeManifest((TreeEntry(e.path, e.file_oid, 10, False),))
    _lie(repo, "d", forged, "dir", 10, 1, 1)
    (repo / "d" / "a.txt").unlink()
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1, cp.stderr
    assert "lists 1000 bytes, its pointer or tree entry says 10" in cp.stderr
    assert not (repo / "d" / "a.txt").exists()


def test_chunker_max_size_over_the_bound_is_a_config_error(repo: Path) -> None:
    cfg = repo / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace("max_size = 262144", "max_size = 4294967296"))
    (repo / "f.bin").write_bytes(b"x" * 3_000_000)
    cp = run_dvx(repo, "add", "f.bin", check=False)
    assert cp.returncode == 2, cp.stderr
    line = cp.stderr.strip()
    assert "\n" not in line and ".dvx/config" in line and "max_size = 4294967296 is outside 64..67108864" in line
    assert not (repo / "f.bin.dvx").exists()


def test_api_refuses_a_directory_pointer_that_misstates_its_tree(repo: Path) -> None:
    (repo / "d").mkdir()
    (repo / "d" / "a.txt").write_bytes(b"a" * 1000)
    run_dvx(repo, "add", "d")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "d")
    good = ptr.load(repo / "d.dvx")
    # Same tree, but the pointer claims another size and file count.
    (repo / "d.dvx").write_text(ptr.Pointer("dir", good.oid, 999, 2, good.chunks).dumps("d"))
    with pytest.raises(CorruptObjectError) as ei:
        dvx.open("d/a.txt", repo=repo).read()
    assert "the pointer says size 999 and 2 files, but its tree lists 1000 bytes and 1 files" in str(ei.value)
    # The hint's command restores a trusted pointer, and the read works again.
    assert "git checkout COMMIT -- PATH.dvx" in ei.value.hint
    git(repo, "checkout", "HEAD", "--", "d.dvx")
    with dvx.open("d/a.txt", repo=repo) as f:
        assert f.read() == b"a" * 1000
