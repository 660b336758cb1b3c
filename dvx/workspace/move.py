"""``mv`` and ``rm`` of tracked paths: the data, its pointer and the ``.gitignore`` lines kept in step.

Both are ordered so that a crash at any point leaves a state the same
command, run again, completes (docs/reliability.md):

``move`` (1) adds the new path's ``.gitignore`` line, (2) writes the new
pointer, (3) renames the data, (4) takes the old path's ``.gitignore`` line
out, (5) deletes the old pointer. The data is never un-ignored at either
place while it is there, and until (5) the old pointer still names the
source, so a rerun finds the new pointer already written (the same bytes),
skips what is done and finishes.

``remove`` (1) deletes the data when asked (``--outs``), (2) takes the
``.gitignore`` line out, (3) deletes the pointer last, so a rerun still
finds the path tracked. The cache is left alone: ``dvx gc`` collects what no
pointer names any more.
"""

from __future__ import annotations

import os
import shutil
import stat as stat_mod
from dataclasses import dataclass, field

from dvx._fsutil import atomic_write
from dvx._paths import path_problem
from dvx.errors import UnsafePathError, UsageError, WorkspaceChangedError, WorkspaceWriteError
from dvx.workspace import pointer as ptr
from dvx.workspace.core import Workspace
from dvx.workspace.ignore import add_ignore, remove_ignore
from dvx.workspace.status import workspace_id


@dataclass
class MoveResult:
    """What ``move`` did."""

    src: str  # repo-relative
    dst: str  # repo-relative: where the data and its pointer are now
    kind: str  # "file" or "dir"
    data_moved: bool  # False when the data was not in the workspace (not pulled) or a rerun had moved it
    to_stage: list[str] = field(default_factory=list)  # pointer files and .gitignore files git should record
    staged: bool = False

    def to_json(self) -> dict[str, object]:
        return {"src": self.src, "dst": self.dst, "type": self.kind, "data_moved": self.data_moved,
                "to_stage": self.to_stage, "staged": self.staged}


@dataclass
class RemoveResult:
    """What ``remove`` did for one tracked path."""

    path: str
    kind: str
    data_removed: bool
    to_stage: list[str] = field(default_factory=list)
    staged: bool = False

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "type": self.kind, "data_removed": self.data_removed,
                "to_stage": self.to_stage, "staged": self.staged}


def gitignore_of(rel: str) -> str:
    """The repo-relative ``.gitignore`` that holds ``rel``'s line."""
    parent = rel.rpartition("/")[0]
    return f"{parent}/.gitignore" if parent else ".gitignore"


def _lexists(ws: Workspace, rel: str) -> os.stat_result | None:
    try:
        return os.lstat(ws.abspath(rel))
    except (FileNotFoundError, NotADirectoryError):
        return None


def _tracked_dir_above(ws: Workspace, rel: str) -> str | None:
    parts = rel.split("/")
    for i in range(1, len(parts)):
        above = "/".join(parts[:i])
        if os.path.lexists(ws.abspath(ptr.pointer_path(above))):
            return above
    return None


def _refuse_links_above(ws: Workspace, rel: str) -> None:
    """UnsafePathError when a folder above ``rel`` is a symbolic link: dvx never writes through one."""
    parts = rel.split("/")
    for i in range(1, len(parts)):
        above = "/".join(parts[:i])
        if os.path.islink(ws.abspath(above)):
            raise UnsafePathError(f"{ws.display(rel)}: its folder {ws.display(above)} is a symbolic link; "
                                  "dvx does not write through symbolic links")


def tracked_pointer(ws: Workspace, rel: str) -> ptr.Pointer:
    """The pointer of tracked path ``rel``; UsageError naming why ``rel`` is not one."""
    pp = ptr.pointer_path(rel)
    shown = ws.display(rel)
    try:
        p = ptr.load(ws.abspath(pp), ws.display(pp))
    except (FileNotFoundError, NotADirectoryError):
        above = _tracked_dir_above(ws, rel)
        if above is not None:
            raise UsageError(f"{shown}: is inside the tracked directory {ws.display(above)}; "
                             "dvx moves and removes whole tracked paths",
                             f"name the tracked directory {ws.display(above)} itself") from None
        if os.path.lexists(ws.abspath(rel)):
            raise UsageError(f"{shown}: not tracked by dvx (no {ws.display(pp)})", f"run `dvx add {shown}` first") from None
        raise UsageError(f"{shown}: no such tracked path (no {ws.display(pp)})") from None
    ptr.check_tracked(rel, ws.display(pp))
    return p


def pointer_text(ws: Workspace, src: str, dst: str) -> bytes:
    """The pointer of ``src`` as it reads at ``dst``: the same bytes but for the header comment naming the path.

    Every key is kept as written (ids, sizes, profile, keys a newer dvx added).
    """
    raw = ws.abspath(ptr.pointer_path(src)).read_bytes()
    first, nl, rest = raw.partition(b"\n")
    p = ptr.loads(raw, ws.display(ptr.pointer_path(src)))
    header = p.dumps(dst).encode("utf-8").partition(b"\n")[0]
    if first.startswith(b"# dvx pointer file:"):
        return header + nl + rest
    return raw


def target_of(ws: Workspace, src: str, dst: str, into: bool) -> str:
    """Where ``src`` goes for the user's ``dst``: inside ``dst`` when it is an existing folder (or ends with
    ``/``), as ``mv`` does, unless ``dst`` already holds the pointer a crashed ``move`` of ``src`` wrote."""
    name = src.rpartition("/")[2]
    if into:
        return f"{dst}/{name}" if dst else name
    pp = ws.abspath(ptr.pointer_path(dst))
    try:
        resumed = pp.read_bytes() == pointer_text(ws, src, dst)
    except OSError:
        resumed = False
    if not resumed and os.path.isdir(ws.abspath(dst)) and not os.path.islink(ws.abspath(dst)):
        return f"{dst}/{name}"
    return dst


def move(ws: Workspace, src: str, dst: str, force: bool = False) -> MoveResult:
    """Move tracked path ``src`` (repo-relative) to ``dst``, the final repo-relative target (``target_of``).

    The caller holds the repository lock and has refused a ``dst`` git
    tracks. The module docstring gives the order of the steps.
    """
    p = tracked_pointer(ws, src)
    shown_dst = ws.display(dst)
    why = path_problem(dst)
    if why is None and dst.endswith(ptr.SUFFIX):
        why = f"ends in {ptr.SUFFIX}: it would be read as a pointer file"
    if why is not None:
        raise UnsafePathError(f"{shown_dst}: {why}")
    if dst == src:
        raise UsageError(f"{shown_dst}: is where {ws.display(src)} already is")
    if dst.startswith(src + "/"):
        raise UsageError(f"{shown_dst}: is inside {ws.display(src)} itself")
    above = _tracked_dir_above(ws, dst)
    if above is not None:
        raise UsageError(f"{shown_dst}: is inside the tracked directory {ws.display(above)}",
                         "move it beside that directory, or copy the data into it and add the whole directory again")
    _refuse_links_above(ws, src)
    _refuse_links_above(ws, dst)
    src_st = _lexists(ws, src)
    if src_st is not None and stat_mod.S_ISLNK(src_st.st_mode):
        raise UnsafePathError(f"{ws.display(src)}: is a symbolic link; dvx moves regular files and directories")
    text = pointer_text(ws, src, dst)
    new_pp = ptr.pointer_path(dst)
    try:
        resumed = ws.abspath(new_pp).read_bytes() == text
    except OSError:
        resumed = False
    dst_st = _lexists(ws, dst)
    if src_st is None and dst_st is not None and resumed:
        dst_st = None  # a crashed move renamed the data already: it is ours
        moved_before = True
    else:
        moved_before = False
    if dst_st is not None or (os.path.lexists(ws.abspath(new_pp)) and not resumed):
        if not force:
            raise UsageError(f"{shown_dst}: already exists",
                             f"choose another name, or overwrite it with `dvx mv -f {ws.display(src)} {shown_dst}`")
        if dst_st is not None and stat_mod.S_ISDIR(dst_st.st_mode):
            raise UsageError(f"{shown_dst}: is a folder; dvx mv -f replaces files, not folders",
                             "remove the folder first, or move into it with a trailing /")
    result = MoveResult(src, dst, p.kind, False)
    src_pp = ptr.pointer_path(src)
    try:
        # (1) the new place is ignored before anything arrives there
        os.makedirs(ws.abspath(dst).parent, exist_ok=True)
        add_ignore(ws.root, dst)
        # (2) the new pointer (same ids)
        atomic_write(ws.abspath(new_pp), text)
        # (3) the data: rename, atomic on one file system
        if src_st is not None:
            if dst_st is not None and stat_mod.S_ISDIR(src_st.st_mode):
                os.unlink(ws.abspath(dst))  # -f: a file in the way of a folder (rename replaces only files)
            hit = ws.statcache.get(os.fsencode(src), src_st) if stat_mod.S_ISREG(src_st.st_mode) else None
            os.rename(ws.abspath(src), ws.abspath(dst))
            _carry_stat(ws, src, dst, src_st, hit)
            result.data_moved = True
        # (4) the old line out, (5) the old pointer last
        remove_ignore(ws.root, src)
        os.unlink(ws.abspath(src_pp))
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, ws.display(dst), f"dvx mv {ws.display(src)} {shown_dst}") from e
    finally:
        ws.statcache.save()
    result.data_moved = result.data_moved or moved_before
    result.to_stage = list(dict.fromkeys([new_pp, src_pp, gitignore_of(dst), gitignore_of(src)]))
    return result


def _carry_stat(ws: Workspace, src: str, dst: str, st: os.stat_result, hit: tuple[bytes, int] | None) -> None:
    """Carry the stat cache's records of ``src`` (stat ``st`` before the rename; ``hit``, its file record)
    over to ``dst``, so the moved data is not read again. A renamed folder's files keep their stat; a
    renamed file's ctime changes, so its record is written anew from the content id it had."""
    sc = ws.statcache
    if stat_mod.S_ISREG(st.st_mode):
        sc.drop(os.fsencode(src))
        if hit is not None:
            sc.put(os.fsencode(dst), os.lstat(ws.abspath(dst)), hit[0], hit[1], written=True)
    else:
        sc.move(os.fsencode(src), os.fsencode(dst))


def check_removable(ws: Workspace, rel: str, outs: bool = False, force: bool = False) -> ptr.Pointer:
    """The pointer of ``rel`` when ``remove`` may go ahead: UsageError when ``rel`` is not tracked;
    with ``outs`` and without ``force``, WorkspaceChangedError when the data's current content is not
    in the cache (deleting it would lose it)."""
    p = tracked_pointer(ws, rel)
    _refuse_links_above(ws, rel)
    st = _lexists(ws, rel)
    if outs and st is not None and not stat_mod.S_ISLNK(st.st_mode) and not force:
        kind = "dir" if stat_mod.S_ISDIR(st.st_mode) else "file"
        cur = workspace_id(ws, rel, kind, save=True)
        if cur is not None and not ws.cache_has(cur):
            shown = ws.display(rel)
            raise WorkspaceChangedError(
                f"{shown}: has changes that are not in the cache; nothing was removed",
                f"`dvx add {shown}` to keep them first, or `dvx rm --outs -f {shown}` to discard them",
            )
    return p


def remove(ws: Workspace, rel: str, outs: bool = False, force: bool = False) -> RemoveResult:
    """Stop tracking ``rel``: delete its pointer and ``.gitignore`` line; with ``outs`` the data too.

    Checked first by ``check_removable``. The cache is left alone. The
    caller holds the repository lock.
    """
    p = check_removable(ws, rel, outs, force)
    shown = ws.display(rel)
    result = RemoveResult(rel, p.kind, False)
    st = _lexists(ws, rel)
    pp = ptr.pointer_path(rel)
    try:
        if outs and st is not None:
            if stat_mod.S_ISDIR(st.st_mode):
                shutil.rmtree(ws.abspath(rel))  # never follows the links inside
            else:
                os.unlink(ws.abspath(rel))
            result.data_removed = True
        remove_ignore(ws.root, rel)
        os.unlink(ws.abspath(pp))
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, shown, f"dvx rm {shown}") from e
    ws.statcache.drop_below(os.fsencode(rel))
    ws.statcache.save()
    result.to_stage = [pp, gitignore_of(rel)]
    return result
