"""``add``: store files and directories in the cache and write their pointers."""

from __future__ import annotations

import contextlib
import os
import stat as stat_mod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dvx._fsutil import atomic_write, is_within, remove_if_stale, remove_stale_in
from dvx.errors import FileReadError, PointerError, StoreWriteError, UsageError, WorkspaceWriteError
from dvx.hashing import to_hex
from dvx.workspace import pointer as ptr
from dvx.workspace._files import hash_file, hash_tree, tree_signature, walk_files
from dvx.workspace.core import Workspace
from dvx.workspace.dvxignore import Ignore
from dvx.workspace.ignore import add_ignore


@dataclass
class AddedPath:
    """One path given to ``add`` and what happened to it."""

    path: str  # repo-relative
    pointer_path: str
    pointer: ptr.Pointer
    change: str  # "added" (new), "modified" (new version), "unchanged"
    bytes_stored: int = 0


@dataclass
class AddResult:
    """What ``add`` did: one entry per path, and the files git should stage."""

    paths: list[AddedPath] = field(default_factory=list)
    to_stage: list[str] = field(default_factory=list)  # pointer files and changed .gitignore files
    staged: bool = False  # git staged them already (core.autostage)

    @property
    def bytes_stored(self) -> int:
        return sum(p.bytes_stored for p in self.paths)


@contextlib.contextmanager
def _store_errors(ws: Workspace, rel: str) -> Iterator[None]:
    """A cache write error (a full disk) named by the path being added, with the command to rerun."""
    try:
        yield
    except StoreWriteError as e:
        raise StoreWriteError(f"{ws.display(rel)}: {e.message}", (e.hint or "").replace(
            "run the command again", f"run `dvx add {ws.display(rel)}` again")) from e


def _gitignore_of(rel: str) -> str:
    parent = rel.rpartition("/")[0]
    return f"{parent}/.gitignore" if parent else ".gitignore"


def _outer_ignore(ws: Workspace, rel: str) -> Ignore:
    """The ``.dvxignore`` rules above the directory ``rel``; UsageError when they ignore ``rel`` itself."""
    ign = Ignore.outer(ws.root, rel)
    if ign.ignores_top():
        raise UsageError(f"{ws.display(rel)}: is ignored by a .dvxignore file", "remove the pattern that matches it")
    return ign


def check_addable(ws: Workspace, rel: str) -> str:
    """'file' or 'dir' for a path ``add`` accepts; UsageError/FileReadError otherwise."""
    ap = ws.abspath(rel)
    shown = ws.display(rel)
    if rel.endswith(ptr.SUFFIX):
        raise UsageError(f"{shown}: is a dvx pointer file", f"add the data path `{shown[: -len(ptr.SUFFIX)]}` instead")
    try:
        st = os.lstat(ap)
    except FileNotFoundError:
        raise UsageError(f"{shown}: no such file or directory") from None
    except OSError as e:
        raise FileReadError(f"{shown}: cannot stat: {e.strerror}") from e
    if stat_mod.S_ISLNK(st.st_mode):
        raise UsageError(
            f"{shown}: is a symbolic link; dvx stores regular files and directories",
            "add the link's target instead",
        )
    # A parent directory that is a symlink could point outside the repository,
    # and checkout never writes through one: refuse it here too.
    parts = rel.split("/")
    for i in range(1, len(parts)):
        parent = "/".join(parts[:i])
        if os.path.islink(ws.abspath(parent)):
            real = os.path.realpath(ap)
            inside = is_within(real, ws.root.resolve())
            instead = (
                f"add the real path `{os.path.relpath(real)}` instead"
                if inside
                else "copy the data into the repository and add the copy"
            )
            where = "" if inside else ", outside the repository"
            raise UsageError(
                f"{shown}: its folder {ws.display(parent)} is a symbolic link{where}; dvx does not store or "
                "write through symbolic links",
                instead,
            )
    for i in range(1, len(parts)):
        if os.path.exists(ws.abspath("/".join(parts[:i]) + ptr.SUFFIX)):
            raise UsageError(f"{shown}: is inside the tracked directory {ws.display('/'.join(parts[:i]))}", "add the whole directory again")
    if stat_mod.S_ISDIR(st.st_mode):
        return "dir"
    if stat_mod.S_ISREG(st.st_mode):
        return "file"
    raise UsageError(f"{shown}: is not a regular file or directory")


def add(
    ws: Workspace,
    rels: Sequence[str],
    progress: Callable[[str, int], None] | None = None,
    on_pointer: Callable[[str, ptr.Pointer], ptr.Pointer] | None = None,
) -> AddResult:
    """Store each repo-relative path in the cache and write ``PATH.dvx``.

    Packs and their index are written (the store's ``flush``) before the
    pointer file, so a pointer never names an object the cache lacks. The
    caller holds the repository lock. ``on_pointer`` may enrich a pointer
    (the profile id) before it is written.
    """
    kinds = [check_addable(ws, rel) for rel in rels]
    result = AddResult()
    cache = ws.cache
    statcache = ws.statcache
    params = ws.chunker
    swept: set[Path] = set()
    try:
        for rel, kind in zip(rels, kinds, strict=True):
            if progress:
                progress(rel, 0)
            pp = ptr.pointer_path(rel)
            old: ptr.Pointer | None = None
            try:
                old = ptr.load(ws.abspath(pp), ws.display(pp))
            except FileNotFoundError:
                pass
            except PointerError:
                old = None  # a broken pointer is replaced by a correct one
            with _store_errors(ws, rel), cache.writer() as w:
                known = cache.entries()
                ap = os.fsencode(ws.abspath(rel))
                key = os.fsencode(rel)
                debris: list[bytes] = []
                if kind == "file":
                    h = hash_file(ap, key, params, statcache, w, known)
                else:
                    ign = _outer_ignore(ws, rel)
                    statcache.clock()
                    ts = tree_signature(ap, ign.salt)
                    files = list(walk_files(ap, debris, ign))
                    h, _tree = hash_tree(ap, key, params, statcache, w, known, files)
                    statcache.put_tree(key, ts.sig, ts.newest, h.oid)
            # Partial copies left by a killed dvx command in and beside the path.
            for d in debris:
                remove_if_stale(d)
            parent = ws.abspath(rel).parent
            if parent not in swept:
                swept.add(parent)
                remove_stale_in([parent])
            stored = w.stats.bytes_stored
            p = ptr.Pointer(kind, to_hex(h.oid), h.size, h.files, h.chunks)
            if old is not None and old.oid == p.oid and (old.profile or old.source or old.external):
                # The same data: keep its profile and, for an imported or external path, where it came
                # from (changed data is this repository's own: the link is dropped).
                p = ptr.Pointer(p.kind, p.oid, p.size, p.files, p.chunks, old.profile, source=old.source,
                                external=old.external)
            if on_pointer is not None:
                p = on_pointer(rel, p)
            change = "added" if old is None else ("unchanged" if old.oid == p.oid else "modified")
            text = p.dumps(rel).encode("utf-8")
            target = ws.abspath(pp)
            try:
                same = target.read_bytes() == text
            except OSError:
                same = False
            if not same:
                try:
                    atomic_write(target, text)
                except OSError as e:
                    raise WorkspaceWriteError.from_os_error(e, ws.display(pp), "dvx add") from e
            result.paths.append(AddedPath(rel, pp, p, change, stored))
            result.to_stage.append(pp)
            try:
                add_ignore(ws.root, rel)
            except OSError as e:
                raise WorkspaceWriteError.from_os_error(e, ws.display(_gitignore_of(rel)), "dvx add") from e
            result.to_stage.append(_gitignore_of(rel))
    finally:
        statcache.save()
    result.to_stage = list(dict.fromkeys(result.to_stage))
    return result
