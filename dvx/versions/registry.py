"""``open_view``: the view of a repository at a revision; views at a commit are shared in the process."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from dvx import scm
from dvx.errors import UsageError
from dvx.versions.clone import refresh_clone, repo_root
from dvx.versions.view import RepoView

# Views at fixed commits are immutable: what a commit names never changes.
_VIEWS_MAX = 16
_lock = threading.Lock()
_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_views: OrderedDict[tuple[str, str, str, str | None], RepoView] = OrderedDict()


def _resolve_sha(root: Path, rev: str) -> str:
    try:
        return scm.resolve_rev(root, rev)
    except UsageError:
        # A branch of the cloned repository is a remote-tracking branch in a
        # clone (as `git checkout BRANCH` guesses).
        with contextlib.suppress(UsageError):
            return scm.resolve_rev(root, f"origin/{rev}")
        raise


def _held(key: tuple[str, str, str, str | None]) -> RepoView | None:
    """The shared view of ``key``, marked as the most recently used; None when not held."""
    with _lock:
        view = _views.get(key)
        if view is not None:
            _views.move_to_end(key)
        return view


def open_view(repo: str | os.PathLike[str] = ".", rev: str | None = None, remote: str | None = None) -> RepoView:
    """A view of ``repo`` at ``rev`` (None: the workspace, read fresh on every call).

    Views at a commit are shared within the process.
    """
    root = repo_root(repo)
    if rev is None:
        return RepoView(root, None, None, remote)
    rev = str(rev)
    # A commit id names itself, and a view of it exists only if git resolved it
    # once: a Dask worker opens the same commit for every task (1.8 ms of git each).
    held = _held((str(root), rev, rev, remote)) if _FULL_SHA.fullmatch(rev) else None
    if held is not None:
        return held
    try:
        sha = _resolve_sha(root, rev)
    except UsageError:
        if not refresh_clone(repo):  # a clone made before the commit was pushed: fetch once, then retry
            raise
        sha = _resolve_sha(root, rev)
    # Keyed by the name asked for too: errors name the revision as the caller wrote it.
    key = (str(root), rev, sha, remote)
    view = _held(key)
    if view is not None:
        return view
    view = RepoView(root, rev, sha, remote)
    with _lock:
        view = _views.setdefault(key, view)
        while len(_views) > _VIEWS_MAX:
            _views.popitem(last=False)
    return view
