"""``dvx mv`` and ``dvx rm``: the workspace verbs (``dvx.workspace.move``) with git's index kept in step.

Staging follows DVC: with ``core.autostage`` the changed pointer and
``.gitignore`` files are staged as ``git mv``/``git rm`` would leave them
(the old pointer's removal, the new one's addition); without it the result
lists them and the command prints the ``git add`` line to run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dvx import scm
from dvx.errors import UsageError
from dvx.workspace import Workspace
from dvx.workspace.move import MoveResult, RemoveResult, check_removable, target_of
from dvx.workspace.move import move as _move
from dvx.workspace.move import remove as _remove


def _stage(ws: Workspace, to_stage: list[str], autostage: bool | None) -> tuple[list[str], bool]:
    """(the paths git should record, whether they were staged)."""
    stage = ws.config.get("core", "autostage", False) if autostage is None else autostage
    if stage:
        return scm.stage_changes(ws.root, to_stage), True
    return scm.recordable(ws.root, to_stage), False


def move(src: str, dst: str, force: bool = False, cwd: str | None = None, autostage: bool | None = None) -> MoveResult:
    """Move the tracked path ``src`` (data or pointer path) to ``dst``; into ``dst`` when it is a folder.

    Refused: ``src`` not tracked, ``dst`` taken (unless ``force``; never a
    folder), inside a tracked directory, in ``.git``/``.dvx`` or tracked by git.
    """
    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(src, cwd)
    into = dst.endswith(("/", "\\"))
    base = Path(cwd) if cwd is not None else Path.cwd()
    if Path(os.path.normpath(base / dst)) == ws.root:
        into, dst_rel = True, ""  # the repository's top folder
    else:
        dst_rel = ws.relpath(dst, cwd).rstrip("/")
    with ws.lock():
        target = target_of(ws, rel, dst_rel, into)
        scm.refuse_git_tracked(ws.root, [target])
        result = _move(ws, rel, target, force=force)
    result.to_stage, result.staged = _stage(ws, result.to_stage, autostage)
    return result


def remove(
    paths: Sequence[str], outs: bool = False, force: bool = False, cwd: str | None = None, autostage: bool | None = None
) -> list[RemoveResult]:
    """Stop tracking each path (data or pointer path): its pointer and ``.gitignore`` line go, the data
    stays unless ``outs``; the cache is left to ``dvx gc``."""
    if not paths:
        raise UsageError("nothing to remove", "give one or more tracked paths")
    ws = Workspace.find(cwd or ".")
    rels = list(dict.fromkeys(ws.tracked_rel(p, cwd) for p in paths))
    out: list[RemoveResult] = []
    with ws.lock():
        for rel in rels:  # every path checked before any is removed
            check_removable(ws, rel, outs=outs, force=force)
        for rel in rels:
            out.append(_remove(ws, rel, outs=outs, force=force))
    staged: list[str] = list(dict.fromkeys(p for r in out for p in r.to_stage))
    paths_git, done = _stage(ws, staged, autostage)
    for r in out:
        r.to_stage = [p for p in r.to_stage if p in paths_git]
        r.staged = done
    return out
