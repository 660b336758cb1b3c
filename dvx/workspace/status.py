"""``status``: compare tracked paths with their pointers, reading only changed files.

A modified directory is compared file by file: the pointer's tree from the
cache against the tree of the workspace walk, whose unchanged files the stat
cache answers without reading them (``changes.compare_trees``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from dvx.errors import PointerError
from dvx.hashing import from_hex, to_hex
from dvx.store.objects import TreeManifest
from dvx.workspace import pointer as ptr
from dvx.workspace._files import hash_file, hash_tree, tree_signature
from dvx.workspace.changes import FileChanges, compare_trees
from dvx.workspace.core import Workspace
from dvx.workspace.dvxignore import Ignore

UNCHANGED = "unchanged"
MODIFIED = "modified"
DELETED = "deleted"
BROKEN = "broken-pointer"
NOT_IN_CACHE = "not in cache"
NOT_PUSHED = "not pushed"


@dataclass
class PathStatus:
    """The state of one tracked path. A field the command did not examine is None
    (``status -c`` looks at the remote, not the workspace: docs/status.md)."""

    path: str
    kind: str
    state: str | None  # unchanged / modified / deleted / broken-pointer; None: not examined
    in_cache: bool | None
    pointer_id: str | None = None
    workspace_id: str | None = None
    error: str | None = None
    pushed: bool | None = None
    missing_objects: int | None = None
    # A directory whose tree is cached: how many of its files' manifests the cache lacks (a granular
    # pull), of ``total_files``; None when not examined (a file, a tree not cached, ``status -c``).
    missing_files: int | None = None
    total_files: int | None = None
    files: FileChanges | None = None  # a modified directory's files, when its tree is in the cache
    source: dict[str, str | None] | None = None  # where an imported path came from (the pointer's source-*)

    @property
    def problems_text(self) -> str:
        """``problems`` in words for the text output; ``not in cache`` counted for a directory cached
        in part (``deleted, 10 of 13 files not in cache``: the figures ``dvx checkout`` stops with)."""
        counted = f"{self.missing_files} of {self.total_files} files {NOT_IN_CACHE}" if self.missing_files else None
        return ", ".join(counted if w == NOT_IN_CACHE and counted else w for w in self.problems)

    @property
    def problems(self) -> list[str]:
        """What differs, in words; empty when unchanged, in the cache and (when asked) pushed."""
        out = [] if self.state in (UNCHANGED, None) else [self.state]
        if self.in_cache is False and self.state != BROKEN:
            out.append(NOT_IN_CACHE)
        if self.pushed is False:
            out.append(NOT_PUSHED)
        return out

    def to_json(self) -> dict[str, object]:
        """One entry of ``paths`` in ``status --json`` (docs/status.md)."""
        return {
            "path": self.path, "kind": self.kind, "state": self.state, "problems": self.problems,
            "in_cache": self.in_cache, "missing_files": self.missing_files, "pushed": self.pushed,
            "missing_objects": self.missing_objects,
            "pointer_id": self.pointer_id, "workspace_id": self.workspace_id, "error": self.error,
            "files": None if self.files is None else self.files.to_json(),
            "source": self.source,
        }


@dataclass
class StatusResult:
    paths: list[PathStatus] = field(default_factory=list)
    remote: str | None = None  # set by ``status -c``: the remote compared with

    @property
    def clean(self) -> bool:
        """Nothing to report: every path unchanged, in the cache and (``-c``) pushed."""
        return not any(p.problems for p in self.paths)

    @property
    def changed(self) -> list[PathStatus]:
        """The paths with something to report (``problems``)."""
        return [p for p in self.paths if p.problems]

    @property
    def errors(self) -> list[str]:
        """Why some pointers could not be read."""
        return [p.error for p in self.paths if p.error]

    def to_json(self) -> dict[str, object]:
        """``status --json`` and ``status -c --json``: one shape (docs/status.md)."""
        return {"clean": self.clean, "remote": self.remote, "paths": [p.to_json() for p in self.paths]}


def workspace_id(ws: Workspace, rel: str, kind: str, save: bool = False) -> bytes | None:
    """Id of the workspace copy of tracked path ``rel`` (a ``file`` or ``dir``); None when absent.

    Unchanged files are answered by the stat cache and never read; a tree
    whose stat signature is unchanged is answered without building it.
    """
    try:
        return _workspace_object(ws, rel, kind)[0]
    finally:
        if save:
            ws.statcache.save()


def _workspace_object(ws: Workspace, rel: str, kind: str) -> tuple[bytes | None, TreeManifest | None]:
    """``workspace_id`` and, when it had to build one, the directory's tree."""
    ap = ws.abspath(rel)
    key = os.fsencode(rel)
    if kind == "file":
        if not os.path.isfile(ap) or os.path.islink(ap):
            return None, None
        return hash_file(os.fsencode(ap), key, ws.chunker, ws.statcache).oid, None
    if not os.path.isdir(ap) or os.path.islink(ap):
        return None, None
    top = os.fsencode(ap)
    ign = Ignore.outer(ws.root, rel)
    ws.statcache.clock()  # before the scan: statcache.py, "Racy entries"
    ts = tree_signature(top, ign.salt)
    cached = ws.statcache.get_tree(key, ts.sig)
    if cached is not None:
        return cached, None
    h, tree = hash_tree(top, key, ws.chunker, ws.statcache, ignore=ign)
    ws.statcache.put_tree(key, ts.sig, ts.newest, h.oid)
    return h.oid, tree


def files_not_cached(ws: Workspace, file_ids: Sequence[bytes]) -> int:
    """How many of a tree's files (their manifest ids, one per entry) the cache lacks: one index
    lookup each, no data read. ``status`` and ``checkout`` count with it, so they agree.

    A cached file manifest stands for its file: ``dvx fetch`` writes a file's chunks before its
    manifest (dvx/remote/fetch.py)."""
    missing = ws.cache.missing(file_ids)
    return sum(o in missing for o in file_ids) if missing else 0


def file_changes(ws: Workspace, rel: str, pointer_oid: bytes, tree: TreeManifest | None = None) -> FileChanges | None:
    """Files of the modified directory ``rel`` that differ from its pointer's tree; None when that
    tree is not in the cache (nothing to compare with). ``tree``: the workspace tree when already built;
    else it is built, unchanged files answered by the stat cache."""
    if not ws.cache_has(pointer_oid):
        return None
    if tree is None:
        _, tree = hash_tree(os.fsencode(ws.abspath(rel)), os.fsencode(rel), ws.chunker, ws.statcache,
                            ignore=Ignore.outer(ws.root, rel))
    return compare_trees(ws.cache.get_tree_manifest(pointer_oid), tree, rel)


def status(ws: Workspace, rels: Sequence[str], has: object | None = None) -> StatusResult:
    """State of each tracked path (repo-relative, without ``.dvx``).

    Unchanged files are recognised by the stat cache and never read.
    ``has(oid) -> bool`` answers "in the cache"; it defaults to the cache, and then a directory
    is in the cache when its tree and every file manifest the tree names are (``missing_files``).
    """
    result = StatusResult()
    contains = has if callable(has) else ws.cache_has
    try:
        for rel in rels:
            pp = ptr.pointer_path(rel)
            try:
                p = ptr.load(ws.abspath(pp), ws.display(pp))
            except PointerError as e:
                result.paths.append(PathStatus(rel, "?", BROKEN, False, error=e.format_message()))
                continue
            oid = from_hex(p.oid)
            in_cache = bool(contains(oid))
            cur_oid, tree = _workspace_object(ws, rel, p.kind)
            state = DELETED if cur_oid is None else UNCHANGED
            cur = None if cur_oid is None else to_hex(cur_oid)
            if state == UNCHANGED and cur != p.oid:
                state = MODIFIED
            origin = p.source.to_json() if p.source is not None else None
            st = PathStatus(rel, p.kind, state, in_cache, p.oid, cur, source=origin)
            if p.kind == "dir" and in_cache and has is None:
                # After a granular pull (docs/targets.md) the tree is cached without all its files.
                ids = [e.file_oid for e in ws.cache.get_tree_manifest(oid).entries]
                st.missing_files, st.total_files = files_not_cached(ws, ids), len(ids)
                st.in_cache = st.missing_files == 0
            if state == MODIFIED and p.kind == "dir" and in_cache:
                st.files = file_changes(ws, rel, oid, tree)
            result.paths.append(st)
    finally:
        ws.statcache.save()
    return result
