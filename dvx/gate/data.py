"""The data of one dataset version, streamed through the versioned reader.

The gate validates and profiles a version where it is: the workspace copy
when it is that version, else the cache through :mod:`dvx.versions` (chunks
verified as they are read, memory bounded by the reader's buffers). Nothing
is copied to disk, whatever the size of the dataset.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dvx import scm
from dvx.errors import DvxError, ObjectMissingError, PointerError
from dvx.quality.sources import TableRef, TableSource
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.versions import RepoView


@dataclass(frozen=True)
class VersionData:
    """Where the data of a version is read: a workspace path, or a view of the repository."""

    rel: str
    local: str | None  # the workspace copy, when it is this version
    view: RepoView | None = None
    fs: Any = None  # the view as a pyarrow filesystem

    def table(self, sub: str = "") -> TableRef:
        """The dataset (``sub`` "": the whole of it; else the file ``sub`` of a directory) to read as a table."""
        if self.local is not None:
            return os.path.join(self.local, sub) if sub else self.local
        assert self.view is not None
        path = f"{self.rel}/{sub}" if sub else self.rel
        return TableSource(self.fs, path, self.view.describe(path))


def workspace_matches(ws: Workspace, rel: str, p: ptr.Pointer) -> bool:
    """Whether the workspace copy of ``rel`` is the version ``p`` names (stat cache first)."""
    from dvx.hashing import from_hex
    from dvx.workspace.status import workspace_id

    return workspace_id(ws, rel, p.kind, save=True) == from_hex(p.oid)


@contextlib.contextmanager
def open_version(ws: Workspace, rel: str, p: ptr.Pointer, rev: str | None, *, fetch: bool = False,
                 remote: str | None = None) -> Iterator[VersionData]:
    """The data of version ``p`` of ``rel``: ``rev`` is the commit that holds the
    pointer, None for the index or the workspace.

    ``fetch``: objects the cache lacks are read from the remote (``remote``,
    else the default) as the reads need them; otherwise ObjectMissingError
    when the cache lacks the version (the gate never waits on the network).
    """
    ptr.check_tracked(rel, ptr.pointer_path(rel))  # names from git reach here too (validate --rev)
    if workspace_matches(ws, rel, p):  # the same content id: the workspace copy is this version, whatever rev
        yield VersionData(rel, str(ws.abspath(rel)))
        return
    from dvx import versions  # the versioned reader loads only when data is read
    from dvx.hashing import from_hex

    if not fetch and not ws.cache_has(from_hex(p.oid)):
        # a committed version (a baseline, `--rev`) is fetched by revision: `dvx pull` fetches only what
        # the workspace pointers name
        fix = f"run `dvx fetch --rev {rev}` to get it" if rev else "run `dvx pull` (or `dvx fetch`) to get it"
        raise ObjectMissingError(f"{rel}: version {p.oid[:12]} is not in the cache", fix)
    view = _view_of(ws, rel, p, rev, remote)
    fs = versions.arrow_filesystem(view)
    try:
        yield VersionData(rel, None, view, fs)
    finally:
        # No Arrow read-ahead may outlive the read, failed or not: a thread
        # inside a dvx read at interpreter exit aborts the hook (apache/arrow#34314).
        versions.release_arrow(fs)


def _names(view: RepoView, rel: str, p: ptr.Pointer) -> bool:
    try:
        return view.pointer(rel).oid == p.oid
    except (FileNotFoundError, PointerError):
        return False


def _view_of(ws: Workspace, rel: str, p: ptr.Pointer, rev: str | None, remote: str | None) -> RepoView:
    """A view in which ``rel`` is version ``p``.

    A staged pointer usually is the workspace pointer; when it is not (the
    pointer changed after ``git add``), the view is of the index, made into a
    commit object that no branch names.
    """
    from dvx import versions

    view = versions.open_view(ws.root, rev, remote)
    if _names(view, rel, p):
        return view
    if rev is None:
        view = versions.open_view(ws.root, _index_commit(ws), remote)
        if _names(view, rel, p):
            return view
    raise DvxError(f"{rel}: version {p.oid[:12]} is named neither by {view.label} nor by the index")


def _index_commit(ws: Workspace) -> str:
    """A commit of the index as it is (``git stash`` makes the same objects); unreferenced, git collects it."""
    return scm.index_commit(ws.root)
