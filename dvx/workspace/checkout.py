"""``checkout``: make the workspace match the pointer files."""

from __future__ import annotations

import contextlib
import os
import stat as stat_mod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dvx._fsutil import remove_if_stale, remove_stale_in
from dvx._paths import path_problem
from dvx.errors import CorruptObjectError, ObjectMissingError, UnsafePathError, WorkspaceChangedError, WorkspaceWriteError
from dvx.hashing import from_hex, to_hex
from dvx.store.clone import write_cloned
from dvx.store.objects import FileManifest, ObjectType, TreeEntry, TreeManifest, shown_path
from dvx.workspace import pointer as ptr
from dvx.workspace._files import hash_file, tree_signature, walk_files
from dvx.workspace._worktree import InTheWay, WorkTree, lstat_at
from dvx.workspace.core import Workspace
from dvx.workspace.dvxignore import Ignore
from dvx.workspace.status import files_not_cached
from dvx.workspace.targets import Target, entries_of


@dataclass
class CheckoutResult:
    """Per tracked path, the files written, removed and kept."""

    restored: list[str] = field(default_factory=list)  # repo-relative files written
    removed: list[str] = field(default_factory=list)  # files a tracked tree does not name
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)  # local changes not in the cache, left alone
    bytes_written: int = 0
    bytes_cloned: int = 0  # of bytes_written, shared with the cache by copy-on-write clones ([cache] type)


_HINT_MISMATCH = (
    "the pointer, its manifest and the stored chunks disagree: the repository or the remote holding them "
    "was damaged or tampered with; nothing was written"
)


def _check_chunks(ws: Workspace, shown: str, m: FileManifest) -> None:
    """Every chunk of ``m`` is in the cache with the length ``m`` gives it (index lookups only),
    so a file is never written short, or long, from a manifest that misstates a chunk."""
    cache = ws.cache
    for ref in m.chunks:
        e = cache.locate(ref.oid)
        if e is None:  # its manifest is here (chunks and manifests are in separate packs): say how to get it
            raise ObjectMissingError(f"{shown}: chunk {to_hex(ref.oid)} is not in the cache",
                                     "run `dvx pull` (or `dvx fetch`) to get it")
        if e.raw_length != ref.size:
            raise CorruptObjectError(
                f"{shown}: chunk {to_hex(ref.oid)} is {e.raw_length} bytes in the cache, "
                f"its manifest says {ref.size}", _HINT_MISMATCH
            )


def _write_file(ws: Workspace, wt: WorkTree, dfd: int, name: bytes, m: FileManifest, executable: bool, shown: str,
                result: CheckoutResult) -> int:
    # No fsync per file: the cache is the durable copy and a rerun of
    # checkout repairs the workspace; fsync per file made a 200-file
    # checkout 5x slower. The temp file is a dvx temp file: skipped by
    # add/status and removed by the next command if this one is killed.
    # The store streams verified chunks and checks each one's length.
    if not ws.clones:
        wt.write_file(dfd, name, ws.cache.iter_file(m, shown), executable)
        return m.size

    def fill(fd: int) -> None:
        got = write_cloned(ws.cache, m, fd, shown)
        if got is None:
            with open(fd, "wb", closefd=False) as f:
                f.writelines(ws.cache.iter_file(m, shown))
        else:
            result.bytes_cloned += got

    wt.write_file_fd(dfd, name, fill, executable)
    return m.size


def _local_is_safe(ws: Workspace, abspath: bytes, relkey: bytes) -> tuple[bytes | None, bool]:
    """(current content id, whether it may be overwritten without losing data)."""
    h = hash_file(abspath, relkey, ws.chunker, ws.statcache)
    return h.oid, ws.cache.has(h.oid) or h.size == 0


def _dir_is_safe(ws: Workspace, dfd: int, name: bytes, relb: bytes) -> bool:
    """Whether the directory ``name`` in ``dfd`` holds only regular files whose content is cached
    (links and special files are never safe; nothing is followed)."""
    root = os.fsencode(ws.root) + b"/" + relb
    for path, dirnames, filenames, sub_fd in os.fwalk(name, dir_fd=dfd, follow_symlinks=False):
        sub = path[len(name):].lstrip(b"/")
        for n in (*dirnames, *filenames):
            st = os.stat(n, dir_fd=sub_fd, follow_symlinks=False)
            if stat_mod.S_ISDIR(st.st_mode):
                continue
            if not stat_mod.S_ISREG(st.st_mode):
                return False
            rel = (sub + b"/" + n) if sub else n
            if not _local_is_safe(ws, root + b"/" + rel, relb + b"/" + rel)[1]:
                return False
    return True


def _restore_one(
    ws: Workspace, wt: WorkTree, tracked: str, relb: bytes, oid: bytes, executable: bool, force: bool,
    result: CheckoutResult, size: int, m: FileManifest | None = None,
) -> None:
    """Make the file at ``relb`` (repo-relative bytes) hold ``oid``; ``tracked`` names it in errors.

    ``size`` is what the pointer or tree entry says, checked against the
    manifest (and each chunk's length against it) before anything is written.
    """
    try:
        _restore(ws, wt, tracked, relb, oid, executable, force, result, size, m)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, ws.display(os.fsdecode(relb)), "dvx checkout") from e


def _restore(
    ws: Workspace, wt: WorkTree, tracked: str, relb: bytes, oid: bytes, executable: bool, force: bool,
    result: CheckoutResult, size: int, m: FileManifest | None,
) -> None:
    rel = os.fsdecode(relb)
    parent, _, name = relb.rpartition(b"/")
    try:
        dfd = wt.dir(parent, tracked, create=True, force=force)
    except InTheWay as e:
        result.conflicts.append(os.fsdecode(e.rel))
        return
    assert dfd is not None
    st = lstat_at(dfd, name)
    if st is not None:
        if stat_mod.S_ISLNK(st.st_mode):
            raise wt.link_error(relb, tracked, written=bool(result.restored or result.removed))
        if stat_mod.S_ISREG(st.st_mode):
            cur, safe = _local_is_safe(ws, os.fsencode(ws.root) + b"/" + relb, relb)
            if cur == oid:
                if bool(st.st_mode & 0o100) != executable:
                    wt.set_executable(dfd, name, executable)
                result.unchanged += 1
                return
            if not safe and not force:
                result.conflicts.append(rel)
                return
        elif not force and not (stat_mod.S_ISDIR(st.st_mode) and _dir_is_safe(ws, dfd, name, relb)):
            result.conflicts.append(rel)
            return
        else:
            # A directory in the way of a tracked file goes when every file in it is
            # in the cache (an earlier version's folder), else only when forced.
            wt.remove(dfd, name)
    if m is None:
        m = ws.cache.get_file_manifest(oid)
    shown = ws.display(rel)
    if m.size != size:
        raise CorruptObjectError(
            f"{shown}: manifest {to_hex(oid)[:12]} lists {m.size} bytes, its pointer or tree entry says {size}",
            _HINT_MISMATCH,
        )
    _check_chunks(ws, shown, m)
    result.bytes_written += _write_file(ws, wt, dfd, name, m, executable, shown, result)
    st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    ws.statcache.put(relb, st, oid, len(m.chunks), written=True)
    result.restored.append(rel)


def _require(ws: Workspace, oid: bytes, otype: ObjectType, shown: str) -> None:
    if not ws.cache.has(oid):
        raise ObjectMissingError(
            f"{shown}: version {to_hex(oid)[:12]} is not in the cache", "run `dvx pull` (or `dvx fetch`) to get it"
        )


@dataclass
class _Plan:
    """One tracked path, checked and ready to write."""

    rel: str
    oid: bytes
    tree: TreeManifest | None  # None for a file
    manifest: FileManifest | None = None  # the file's manifest, for a file
    sub: str = ""  # a file or folder inside the tree: only its entries are written
    entries: tuple[TreeEntry, ...] = ()  # the tree's entries to write (all, or those at or below ``sub``)


def _plan(ws: Workspace, target: Target) -> _Plan:
    """Parse the pointer, check the path and every tree entry to write, and that the cache has the manifest."""
    rel = target.rel
    pp = ptr.pointer_path(rel)
    shown = ws.display(pp)
    ptr.check_tracked(rel, shown)
    p = ptr.load(ws.abspath(pp), shown)
    oid = from_hex(p.oid)
    if p.kind == "file":
        _require(ws, oid, ObjectType.FILE, ws.display(rel))
        m = ws.cache.get_file_manifest(oid)
        _check_pointer(ws, pp, p.size, m.size, (p.chunks, len(m.chunks), "chunks"))
        return _Plan(rel, oid, None, m)
    _require(ws, oid, ObjectType.TREE, ws.display(rel))
    try:
        tree = ws.cache.get_tree_manifest(oid)  # decoding checks every entry's path (dvx._paths)
    except UnsafePathError as e:
        raise UnsafePathError(f"{shown}: {e.message}; nothing was written", e.hint) from None
    entries = entries_of(ws, target, tree, oid) if target.sub else tree.entries
    base = os.fsencode(rel) + b"/"
    for entry in entries:
        # Entries were checked alone; joined to the tracked path they must still fit.
        why = path_problem(base + entry.path)
        if why is not None:
            raise UnsafePathError(
                f"{shown}: tree entry {shown_path(entry.path)} under {ws.display(rel)} {why}; nothing was written",
                "rename the folder or its files and run `dvx add` again",
            )
    _check_pointer(ws, pp, p.size, tree.size, (p.files, tree.nfiles, "files"))
    # A granular pull caches a tree without all its files: say so before anything is written.
    n = files_not_cached(ws, [e.file_oid for e in entries])  # as `dvx status` counts them
    if n:
        raise ObjectMissingError(f"{ws.display(target.path)}: {n} of its {len(entries)} files are not in the cache",
                                 "run `dvx pull` (or `dvx fetch`) to get them")
    return _Plan(rel, oid, tree, sub=target.sub, entries=entries)


def _preflight(wt: WorkTree, plan: _Plan) -> None:
    """Refuse, before anything is written, a symbolic link at or above any path ``plan`` writes."""
    relb = os.fsencode(plan.rel)
    parent, _, name = relb.rpartition(b"/")
    try:
        dfd = wt.dir(parent, plan.rel)
    except InTheWay:
        return  # a conflict, reported when writing
    if dfd is None:
        return
    st = lstat_at(dfd, name)
    if st is not None and stat_mod.S_ISLNK(st.st_mode):
        raise wt.link_error(relb, plan.rel)
    if plan.tree is None or st is None or not stat_mod.S_ISDIR(st.st_mode):
        return
    # Per folder of the tree: open it (a link raises) and list its links once.
    by_dir: dict[bytes, list[bytes]] = {}
    for e in plan.entries:
        d, _, n = e.path.rpartition(b"/")
        by_dir.setdefault(d, []).append(n)
    for d in sorted(by_dir):
        full = relb + b"/" + d if d else relb
        try:
            fd = wt.dir(full, plan.rel)
        except InTheWay:
            continue
        if fd is None:
            continue
        with os.scandir(fd) as it:
            links = {os.fsencode(x.name) for x in it if x.is_symlink()}
        for n in by_dir[d]:
            if n in links:
                raise wt.link_error(full + b"/" + n, plan.rel)


def checkout(
    ws: Workspace,
    rels: Sequence[str | Target],
    force: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CheckoutResult:
    """Restore each tracked path (repo-relative, without ``.dvx``) from the cache.

    A ``Target`` inside a tracked directory restores only the tree's entries
    at or below it, and removes only files below it that the tree does not
    name: nothing outside the target is written or deleted.

    Every pointer, tree and path is checked before anything is written: a
    path dvx must not write (``.git``, ``..``; dvx._paths), a symbolic link
    at or above a path to write, or an object missing from the cache stops
    the whole checkout (UnsafePathError, ObjectMissingError). Writes and
    deletions go through directory handles that never follow links
    (``_worktree``), so a link swapped in meanwhile is refused too.

    A local file whose content is not in the cache is never overwritten or
    removed unless ``force``: it is listed in ``conflicts`` and, after every
    other path was processed, WorkspaceChangedError is raised. The caller
    holds the repository lock.
    """
    result = CheckoutResult()
    plans = [_plan(ws, r if isinstance(r, Target) else Target(r)) for r in rels]
    with WorkTree(ws.root, ws.display) as wt:
        for plan in plans:
            _preflight(wt, plan)
        swept: set[Path] = set()
        try:
            for plan in plans:
                if progress:
                    progress(plan.rel + (f"/{plan.sub}" if plan.sub else ""), 0)
                # Partial copies a killed dvx command left beside the path (each folder once).
                parent = ws.abspath(plan.rel).parent
                if parent not in swept:
                    swept.add(parent)
                    remove_stale_in([parent])
                try:
                    _checkout_one(ws, wt, plan, force, result)
                except OSError as e:  # a folder of a tracked tree (its files are named by _restore_one)
                    raise WorkspaceWriteError.from_os_error(e, ws.display(plan.rel), "dvx checkout") from e
        finally:
            ws.statcache.save()
    if result.conflicts:
        shown = ", ".join(ws.display(c) for c in result.conflicts[:5])
        more = f" and {len(result.conflicts) - 5} more" if len(result.conflicts) > 5 else ""
        raise WorkspaceChangedError(
            f"{shown}{more}: local changes that are not in the cache were left as they are",
            "`dvx add` them to keep them, or `dvx checkout --force` to discard them",
        )
    return result


def _checkout_one(ws: Workspace, wt: WorkTree, plan: _Plan, force: bool, result: CheckoutResult) -> None:
    rel = plan.rel
    relb = os.fsencode(rel)
    if plan.tree is None:
        assert plan.manifest is not None
        _restore_one(ws, wt, rel, relb, plan.oid, False, force, result, plan.manifest.size, plan.manifest)
        return
    parent, _, name = relb.rpartition(b"/")
    pfd = wt.dir(parent, rel, create=True)
    assert pfd is not None
    st = lstat_at(pfd, name)
    if st is not None and not stat_mod.S_ISDIR(st.st_mode):
        if stat_mod.S_ISLNK(st.st_mode):
            raise wt.link_error(relb, rel, written=bool(result.restored or result.removed))
        if not force:
            result.conflicts.append(rel)
            return
        os.unlink(name, dir_fd=pfd)
    top_fd = wt.dir(relb, rel, create=True)
    assert top_fd is not None
    named = set()
    for e in plan.entries:
        named.add(e.path)
        _restore_one(ws, wt, rel, relb + b"/" + e.path, e.file_oid, e.executable, force, result, e.size)
    subb = os.fsencode(plan.sub)
    if plan.sub and len(plan.entries) == 1 and plan.entries[0].path == subb:
        return  # one file inside the tree: nothing else is touched
    # What the tree does not name goes, below the target only (the whole tree, or a folder of it).
    scope = relb + b"/" + subb if plan.sub else relb
    inner = subb + b"/" if plan.sub else b""
    top = os.fsencode(ws.root) + b"/" + scope
    # Listing by name is only a read; every unlink goes through a handle.
    # Paths a .dvxignore excludes are not the tree's: never listed, never removed.
    # (for a folder inside the tree, the .dvxignore files of the tree above that folder count too)
    ign = Ignore.outer(ws.root, os.fsdecode(scope))
    debris: list[bytes] = []
    for r, ap, _st in list(walk_files(top, debris, ign)):
        if inner + r in named:
            continue
        relkey = scope + b"/" + r
        _cur, safe = _local_is_safe(ws, ap, relkey)
        if safe or force:
            d, _, n = relkey.rpartition(b"/")
            dfd = wt.dir(d, rel)
            if dfd is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(n, dir_fd=dfd)
            ws.statcache.drop(relkey)
            result.removed.append(os.fsdecode(relkey))
        else:
            result.conflicts.append(os.fsdecode(relkey))
    for d in debris:  # dvx temp files: never data, never a conflict
        remove_if_stale(d)
    top_fd = wt.dir(scope, rel)
    assert top_fd is not None
    wt.prune_empty_dirs(top_fd)
    with contextlib.suppress(OSError):
        os.fsync(top_fd)
    if not result.conflicts and not plan.sub:  # the stat signature is of the whole tree
        ts = tree_signature(top, ign.salt)
        ws.statcache.put_tree(relb, ts.sig, ts.newest, plan.oid, written=True)


def _check_pointer(ws: Workspace, pp: str, size: int, real: int, count: tuple[int, int, str]) -> None:
    """The pointer ``pp`` agrees with its manifest on the total size and the file or chunk count."""
    said, got, what = count
    if size != real or said != got:
        raise CorruptObjectError(
            f"{ws.display(pp)} says size {size} and {said} {what}, but its manifest lists {real} bytes "
            f"and {got} {what}",
            _HINT_MISMATCH,
        )


