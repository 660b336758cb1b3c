"""The repository lock (filelock) and the cache lock (shared writers, one exclusive gc)."""

from __future__ import annotations

import pytest

from dvx.errors import LockTimeoutError
from dvx.workspace.lock import cache_lock, repo_lock


def test_cache_lock_writers_share_gc_excludes(tmp_path) -> None:
    path = tmp_path / "cache" / "lock"
    with cache_lock(path, exclusive=False), cache_lock(path, exclusive=False):
        with pytest.raises(LockTimeoutError), cache_lock(path, exclusive=True, timeout=0.2, quiet=True):
            pass
    with cache_lock(path, exclusive=True):
        with pytest.raises(LockTimeoutError), cache_lock(path, exclusive=False, timeout=0.2, quiet=True):
            pass
    with cache_lock(path, exclusive=True):  # released: free again
        pass


def test_repo_lock_is_exclusive_and_names_its_holder(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    path = tmp_path / "tmp" / "lock"
    with repo_lock(path):
        with pytest.raises(LockTimeoutError), repo_lock(path, timeout=0.2):
            pass
        assert f"(pid {os.getpid()})" in capsys.readouterr().err
    with repo_lock(path, timeout=0.2):
        pass
