"""Fixtures for the object store tests: real stores in tmp_path.

Imported by name from the test modules (a conftest.py here would shadow the
``conftest`` other test folders import).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from dvx.store import ObjectStore


@pytest.fixture
def local_store(tmp_path: Path) -> ObjectStore:
    """An empty local store under tmp_path/cache."""
    return ObjectStore(LocalFileSystem(), str(tmp_path / "cache"))


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[..., ObjectStore]:
    """Open (again) the local store at tmp_path/cache with the given options."""

    def make(**kw: object) -> ObjectStore:
        return ObjectStore(LocalFileSystem(), str(tmp_path / "cache"), **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A unique root on fsspec's process-wide memory filesystem (a non-local store)."""
    root = f"/bucket-{os.urandom(6).hex()}/store"
    yield root
    fs = MemoryFileSystem()
    if fs.exists(root):
        fs.rm(root, recursive=True)
