"""Repository-level verbs: the workspace, git and (later) remotes composed.

The CLI and the Python API both call these functions; the CLI only parses
arguments and renders the result dataclasses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dvx import scm
from dvx.errors import UsageError
from dvx.workspace import Workspace, init_workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.add import AddResult
from dvx.workspace.checkout import CheckoutResult
from dvx.workspace.status import StatusResult

Progress = Callable[[str, int], None]


@dataclass
class InitResult:
    root: str
    dvx_dir: str


def init(start: str | os.PathLike[str] = ".", force: bool = False) -> InitResult:
    """Initialise dvx in the git work tree enclosing ``start``."""
    ws = init_workspace(start, force=force)
    return InitResult(str(ws.root), str(ws.dvx_dir))


def open_workspace(start: str | os.PathLike[str] = ".") -> Workspace:
    return Workspace.find(start)


def resolve_tracked(ws: Workspace, paths: Sequence[str] | None, cwd: str | None = None) -> list[str]:
    """Repo-relative tracked paths for user arguments (data or pointer paths); all when empty."""
    if not paths:
        return [ptr.tracked_path(p) for p in ws.find_pointers()]
    out: list[str] = []
    for p in paths:
        rel = ws.relpath(p, cwd)
        if rel.endswith(ptr.SUFFIX):
            rel = rel[: -len(ptr.SUFFIX)]
        if not os.path.exists(ws.abspath(ptr.pointer_path(rel))):
            # A folder holding tracked paths selects all of them.
            inside = [ptr.tracked_path(q) for q in ws.find_pointers() if q.startswith(rel.rstrip("/") + "/")]
            if inside:
                out.extend(inside)
                continue
            raise UsageError(f"{p}: not tracked by dvx (no {ws.display(ptr.pointer_path(rel))})", f"run `dvx add {p}` first")
        out.append(rel)
    return list(dict.fromkeys(out))


def add(
    paths: Sequence[str],
    cwd: str | None = None,
    progress: Progress | None = None,
    autostage: bool | None = None,
) -> AddResult:
    """Store ``paths`` and write their pointer files; stage them when configured."""
    from dvx.workspace.add import add as _add

    if not paths:
        raise UsageError("nothing to add", "give one or more paths: `dvx add data/train.csv`")
    ws = Workspace.find(cwd or ".")
    rels = list(dict.fromkeys(ws.relpath(p, cwd).rstrip("/") for p in paths))
    scm.refuse_git_tracked(ws.root, rels)
    with ws.lock():
        result = _add(ws, rels, progress=progress)
    stage = ws.config.get("core", "autostage", False) if autostage is None else autostage
    if stage:
        scm.stage(ws.root, result.to_stage)
    return result


def checkout(
    paths: Sequence[str] | None = None,
    force: bool = False,
    cwd: str | None = None,
    progress: Progress | None = None,
) -> CheckoutResult:
    """Make tracked paths match their pointer files."""
    from dvx.workspace.checkout import checkout as _checkout

    ws = Workspace.find(cwd or ".")
    rels = resolve_tracked(ws, paths, cwd)
    with ws.lock():
        return _checkout(ws, rels, force=force, progress=progress)


def status(paths: Sequence[str] | None = None, cwd: str | None = None) -> StatusResult:
    """State of tracked paths, reading only files whose stat changed."""
    from dvx.workspace.status import status as _status

    ws = Workspace.find(cwd or ".")
    rels = resolve_tracked(ws, paths, cwd)
    return _status(ws, rels)


@dataclass
class LsEntry:
    path: str
    kind: str
    size: int
    files: int
    chunks: int
    id: str
    profile: str | None


def ls(cwd: str | None = None) -> list[LsEntry]:
    """Every tracked path with what its pointer says (no data is read)."""
    ws = Workspace.find(cwd or ".")
    out = []
    for pp in ws.find_pointers():
        p = ptr.load(ws.abspath(pp), ws.display(pp))
        out.append(LsEntry(ptr.tracked_path(pp), p.kind, p.size, p.files, p.chunks, p.oid, p.profile))
    return out
