"""Targets: what a user path names among the tracked data.

A path names a tracked path (``data/images`` beside ``data/images.dvx``, or
the pointer file itself), a folder holding tracked paths (each of them), or
a file or folder *inside* a tracked directory (``data/images/cats``): then
only the entries of the directory's ``TreeManifest`` at or below it are
fetched, checked out or compared. A directory target covers everything
below it, as in DVC.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from dvx.errors import ObjectMissingError, UsageError
from dvx.hashing import from_hex, to_hex
from dvx.store.objects import ObjectType, TreeEntry, TreeManifest
from dvx.workspace import pointer as ptr
from dvx.workspace.core import Workspace
from dvx.workspace.status import DELETED, MODIFIED, UNCHANGED, PathStatus, files_not_cached, workspace_id


@dataclass(frozen=True)
class Target:
    """A tracked path (``rel``, without ``.dvx``) and, inside a tracked directory, a path below it."""

    rel: str
    sub: str = ""  # "/"-separated, relative to ``rel``; "" for the whole tracked path

    @property
    def path(self) -> str:
        """The repo-relative path the target names."""
        return f"{self.rel}/{self.sub}" if self.sub else self.rel


def tracked_ancestor(ws: Workspace, rel: str) -> str | None:
    """The outermost tracked path above ``rel`` (a pointer file beside it), or None.

    Outermost, as ``Workspace.find_pointers`` never enters a tracked directory:
    a ``.dvx`` file inside one is data, not a pointer.
    """
    parts = rel.split("/")
    for i in range(1, len(parts)):
        anc = "/".join(parts[:i])
        if os.path.isfile(ws.abspath(ptr.pointer_path(anc))):
            return anc
    return None


def resolve_targets(ws: Workspace, paths: Sequence[str] | None, cwd: str | os.PathLike[str] | None = None) -> list[Target]:
    """Targets of user arguments (relative to ``cwd``); every tracked path when there are none.

    UsageError (exit 2) for a path that names no tracked data: the hint is
    ``dvx add`` when it exists in the work tree, else ``dvx ls``. Paths outside
    the repository or that dvx must not write are refused by ``Workspace.relpath``.
    """
    if not paths:
        return [Target(ptr.tracked_path(p)) for p in ws.find_pointers()]
    out: list[Target] = []
    for p in paths:
        rel = ws.relpath(p, cwd).rstrip("/")
        anc = tracked_ancestor(ws, rel)
        if anc is not None:
            out.append(_inside(ws, p, anc, rel[len(anc) + 1 :]))
            continue
        whole = rel[: -len(ptr.SUFFIX)] if rel.endswith(ptr.SUFFIX) else rel
        if os.path.exists(ws.abspath(ptr.pointer_path(whole))):
            out.append(Target(whole))
            continue
        inside = [Target(ptr.tracked_path(q)) for q in ws.find_pointers() if q.startswith(whole + "/")]
        if not inside:
            raise _untracked(ws, p, whole)
        out.extend(inside)
    return list(dict.fromkeys(out))


def _inside(ws: Workspace, arg: str, anc: str, sub: str) -> Target:
    pp = ptr.pointer_path(anc)
    if ptr.load(ws.abspath(pp), ws.display(pp)).kind != "dir":
        raise UsageError(f"{arg}: {ws.display(anc)} is a tracked file, not a directory", f"name {ws.display(anc)} itself")
    return Target(anc, sub)


def _untracked(ws: Workspace, arg: str, rel: str) -> UsageError:
    shown = ws.display(ptr.pointer_path(rel))
    if os.path.lexists(ws.abspath(rel)):
        return UsageError(f"{arg}: not tracked by dvx (no {shown})", f"run `dvx add {arg}` first")
    return UsageError(f"{arg}: not tracked by dvx (no {shown}) nor inside a tracked directory",
                      "`dvx ls` lists the tracked paths")


def whole_paths(ws: Workspace, targets: Sequence[Target]) -> list[str]:
    """The tracked paths of ``targets``, for commands that work on whole tracked paths only."""
    for t in targets:
        if t.sub:
            raise UsageError(
                f"{ws.display(t.path)}: is inside the tracked directory {ws.display(t.rel)}; "
                "this command works on whole tracked paths", f"name {ws.display(t.rel)} instead"
            )
    return [t.rel for t in targets]


def widest(targets: Sequence[Target]) -> list[Target]:
    """``targets`` without those inside a tracked path also given whole."""
    whole = {t.rel for t in targets if not t.sub}
    return [t for t in targets if not t.sub or t.rel not in whole]


def select(tree: TreeManifest, sub: str) -> tuple[TreeEntry, ...]:
    """The entries of ``tree`` at ``sub`` (a file) or below it (a folder); empty when none.

    Entries are sorted by path bytes, so those below ``sub/`` are one run
    (``sub/`` to ``sub0``: ``0`` follows ``/``), found by two binary searches.
    """
    key = os.fsencode(sub)
    entries = tree.entries
    lo = bisect_left(entries, key + b"/", key=_path)
    hi = bisect_left(entries, key + b"0", key=_path)
    if lo < hi:
        return entries[lo:hi]
    i = bisect_left(entries, key, key=_path)
    return entries[i : i + 1] if i < len(entries) and entries[i].path == key else ()


def _path(e: TreeEntry) -> bytes:
    return e.path


def tree_of(ws: Workspace, rel: str) -> tuple[bytes, TreeManifest | None]:
    """The tree id of the tracked directory ``rel`` (from its pointer) and its manifest, None when not cached."""
    pp = ptr.pointer_path(rel)
    oid = from_hex(ptr.load(ws.abspath(pp), ws.display(pp)).oid)
    return oid, (ws.cache.get_tree_manifest(oid) if ws.cache.has(oid) else None)


def entries_of(ws: Workspace, target: Target, tree: TreeManifest, oid: bytes) -> tuple[TreeEntry, ...]:
    """``select`` for a target; UsageError naming the tracked directory's version when it names nothing."""
    found = select(tree, target.sub)
    if not found:
        raise UsageError(
            f"{ws.display(target.path)}: not in the tracked directory {ws.display(target.rel)} "
            f"(version {to_hex(oid)[:12]})", f"`dvx ls {ws.display(target.rel)}` lists its files"
        )
    return found


def inside_roots(ws: Workspace, targets: Sequence[Target]) -> list[tuple[bytes, ObjectType]]:
    """The file manifests below each target inside a tracked directory (``sub``), as fetch roots, each
    once; from the directory's cached tree manifest (none when it is not cached)."""
    out: dict[bytes, None] = {}
    for t in targets:
        if t.sub:
            oid, tree = tree_of(ws, t.rel)
            if tree is not None:
                out.update(dict.fromkeys(e.file_oid for e in entries_of(ws, t, tree, oid)))
    return [(o, ObjectType.FILE) for o in out]


def subtree(entries: Sequence[TreeEntry], sub: str) -> TreeManifest:
    """The entries below the folder ``sub``, re-rooted there: the manifest ``dvx add sub`` would make."""
    cut = len(os.fsencode(sub)) + 1
    return TreeManifest(tuple(TreeEntry(e.path[cut:], e.file_oid, e.size, e.executable) for e in entries))


def status_within(ws: Workspace, targets: Sequence[Target]) -> list[PathStatus]:
    """State of files and folders inside tracked directories, as ``status`` gives it for tracked paths.

    A folder compares the manifest ``dvx add`` would make of it with the
    entries below it; "in the cache" means every file manifest is (fetch
    writes a manifest after its chunks), ``missing_files`` counts the others.
    ObjectMissingError when the
    directory's own manifest is not cached: which files it holds is unknown.
    """
    out: list[PathStatus] = []
    try:
        for t in targets:
            oid, tree = tree_of(ws, t.rel)
            if tree is None:
                raise ObjectMissingError(
                    f"{ws.display(t.path)}: the listing of {ws.display(t.rel)} (version {to_hex(oid)[:12]}) "
                    "is not in the cache", f"run `dvx fetch {ws.display(t.path)}`"
                )
            found = entries_of(ws, t, tree, oid)
            is_file = len(found) == 1 and found[0].path == os.fsencode(t.sub)
            want = found[0].file_oid if is_file else subtree(found, t.sub).oid
            cur = workspace_id(ws, t.path, "file" if is_file else "dir")
            state = DELETED if cur is None else UNCHANGED if cur == want else MODIFIED
            ids = [e.file_oid for e in found]
            ps = PathStatus(t.path, "file" if is_file else "dir", state, False, to_hex(want),
                            None if cur is None else to_hex(cur))
            missing = files_not_cached(ws, ids)
            ps.in_cache = missing == 0
            if not is_file:
                ps.missing_files, ps.total_files = missing, len(ids)
            out.append(ps)
    finally:
        ws.statcache.save()
    return out
