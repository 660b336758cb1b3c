"""``ls``: tracked paths as their pointers describe them, and the files of tracked directories."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dvx.workspace import pointer as ptr
from dvx.workspace.core import Workspace
from dvx.workspace.targets import Target, entries_of, resolve_targets, tree_of


@dataclass
class LsEntry:
    """One tracked path, or one file of a tracked directory."""

    path: str
    kind: str
    size: int
    files: int
    chunks: int | None  # None for a file inside a tracked directory (its tree manifest does not say)
    id: str
    profile: str | None


def ls(ws: Workspace, paths: Sequence[str] | None, cwd: str | os.PathLike[str] | None,
       fetch_tree: Callable[[bytes], None]) -> list[LsEntry]:
    """Every tracked path (no data is read); with ``paths``, the tracked paths they name, and the
    files of a tracked directory named itself or at or below a path inside one.

    Files are listed from the directory's tree manifest; ``fetch_tree(oid)``
    puts a manifest the cache lacks there first.
    """
    if not paths:
        return [_pointer_row(ws, ptr.tracked_path(pp)) for pp in ws.find_pointers()]
    out: list[LsEntry] = []
    for arg in paths:
        rel = ws.relpath(arg, cwd).rstrip("/")
        for t in resolve_targets(ws, [arg], cwd):
            row = _pointer_row(ws, t.rel)
            if row.kind == "file" or (not t.sub and t.path != rel):
                out.append(row)  # a tracked file, or one of the tracked paths a folder holds
            else:
                out.extend(_file_rows(ws, t, fetch_tree))
    return list({e.path: e for e in out}.values())


def _pointer_row(ws: Workspace, rel: str) -> LsEntry:
    pp = ptr.pointer_path(rel)
    p = ptr.load(ws.abspath(pp), ws.display(pp))
    return LsEntry(rel, p.kind, p.size, p.files, p.chunks, p.oid, p.profile)


def _file_rows(ws: Workspace, t: Target, fetch_tree: Callable[[bytes], None]) -> list[LsEntry]:
    oid, tree = tree_of(ws, t.rel)
    if tree is None:
        fetch_tree(oid)
        ws.cache.refresh()
        oid, tree = tree_of(ws, t.rel)
        assert tree is not None
    entries = entries_of(ws, t, tree, oid) if t.sub else tree.entries
    return [LsEntry(f"{t.rel}/{os.fsdecode(e.path)}", "file", e.size, 1, None, e.file_oid.hex(), None) for e in entries]
