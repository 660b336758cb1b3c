"""``checkout``: make the workspace match the pointer files."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dvx._fsutil import atomic_open, fsync_dir, remove_if_stale, remove_stale_in
from dvx.errors import ObjectMissingError, WorkspaceChangedError, WorkspaceWriteError
from dvx.hashing import from_hex, to_hex
from dvx.store.objects import FileManifest, ObjectType
from dvx.workspace import pointer as ptr
from dvx.workspace._files import hash_file, tree_signature, walk_files
from dvx.workspace.core import Workspace


@dataclass
class CheckoutResult:
    """Per tracked path, the files written, removed and kept."""

    restored: list[str] = field(default_factory=list)  # repo-relative files written
    removed: list[str] = field(default_factory=list)  # files a tracked tree does not name
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)  # local changes not in the cache, left alone
    bytes_written: int = 0


def _write_file(ws: Workspace, target: str, m: FileManifest, executable: bool) -> int:
    cache = ws.cache
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    # A directory (or other non-file) in the way of a tracked file goes only
    # when forced; the caller checked that.
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    # No fsync per file: the cache is the durable copy and a rerun of
    # checkout repairs the workspace; fsync per file made a 200-file
    # checkout 5x slower. The temp file is a dvx temp file: skipped by
    # add/status and removed by the next command if this one is killed.
    with atomic_open(target, fsync=False) as f:
        for ref in m.chunks:
            f.write(cache.get(ref.oid))
        f.flush()
        os.fchmod(f.fileno(), 0o755 if executable else 0o644)
    return m.size


def _local_is_safe(ws: Workspace, abspath: bytes, relkey: bytes) -> tuple[bytes | None, bool]:
    """(current content id, whether it may be overwritten without losing data)."""
    h = hash_file(abspath, relkey, ws.chunker, ws.statcache)
    return h.oid, ws.cache.has(h.oid) or h.size == 0


def _restore_one(
    ws: Workspace, rel: str, relkey: bytes, oid: bytes, executable: bool, force: bool, result: CheckoutResult
) -> None:
    try:
        _restore(ws, rel, relkey, oid, executable, force, result)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, ws.display(rel), "dvx checkout") from e


def _restore(
    ws: Workspace, rel: str, relkey: bytes, oid: bytes, executable: bool, force: bool, result: CheckoutResult
) -> None:
    ap = ws.abspath(rel)
    apb = os.fsencode(ap)
    cur: bytes | None = None
    if os.path.lexists(ap):
        if os.path.isfile(ap) and not os.path.islink(ap):
            cur, safe = _local_is_safe(ws, apb, relkey)
            if cur == oid:
                mode = os.stat(ap).st_mode
                if bool(mode & 0o100) != executable:
                    os.chmod(ap, (mode | 0o111) if executable else (mode & ~0o111))
                result.unchanged += 1
                return
            if not safe and not force:
                result.conflicts.append(rel)
                return
        elif not force:
            result.conflicts.append(rel)
            return
        elif os.path.islink(ap):
            os.unlink(ap)
    m = ws.cache.get_file_manifest(oid)
    result.bytes_written += _write_file(ws, str(ap), m, executable)
    ws.statcache.put(relkey, os.stat(ap), oid, len(m.chunks), written=True)
    result.restored.append(rel)


def _require(ws: Workspace, oid: bytes, otype: ObjectType, shown: str) -> None:
    if not ws.cache.has(oid):
        raise ObjectMissingError(
            f"{shown}: version {to_hex(oid)[:12]} is not in the cache", "run `dvx pull` (or `dvx fetch`) to get it"
        )


def checkout(
    ws: Workspace,
    rels: Sequence[str],
    force: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CheckoutResult:
    """Restore each tracked path (repo-relative, without ``.dvx``) from the cache.

    A local file whose content is not in the cache is never overwritten or
    removed unless ``force``: it is listed in ``conflicts`` and, after every
    other path was processed, WorkspaceChangedError is raised. The caller
    holds the repository lock.
    """
    result = CheckoutResult()
    swept: set[Path] = set()
    try:
        for rel in rels:
            if progress:
                progress(rel, 0)
            pp = ptr.pointer_path(rel)
            p = ptr.load(ws.abspath(pp), ws.display(pp))
            oid = from_hex(p.oid)
            key = os.fsencode(rel)
            # Partial copies a killed dvx command left beside the path (each folder once).
            parent = ws.abspath(rel).parent
            if parent not in swept:
                swept.add(parent)
                remove_stale_in([parent])
            if p.kind == "file":
                _require(ws, oid, ObjectType.FILE, ws.display(rel))
                _restore_one(ws, rel, key, oid, False, force, result)
                continue
            _require(ws, oid, ObjectType.TREE, ws.display(rel))
            tree = ws.cache.get_tree_manifest(oid)
            top = ws.abspath(rel)
            if os.path.lexists(top) and not os.path.isdir(top):
                if not force:
                    result.conflicts.append(rel)
                    continue
                os.unlink(top)
            os.makedirs(top, exist_ok=True)
            named = set()
            for e in tree.entries:
                named.add(e.path)
                sub = rel + "/" + os.fsdecode(e.path)
                _restore_one(ws, sub, key + b"/" + e.path, e.file_oid, e.executable, force, result)
            topb = os.fsencode(top)
            debris: list[bytes] = []
            for r, ap, _st in list(walk_files(topb, debris)):
                if r in named:
                    continue
                relkey = key + b"/" + r
                _cur, safe = _local_is_safe(ws, ap, relkey)
                if safe or force:
                    os.unlink(ap)
                    ws.statcache.drop(relkey)
                    result.removed.append(rel + "/" + os.fsdecode(r))
                else:
                    result.conflicts.append(rel + "/" + os.fsdecode(r))
            for d in debris:  # dvx temp files: never data, never a conflict
                remove_if_stale(d)
            _prune_empty_dirs(topb)
            fsync_dir(top)
            if not result.conflicts:
                ts = tree_signature(topb)
                ws.statcache.put_tree(key, ts.sig, ts.newest, oid, written=True)
    except OSError as e:  # a folder of a tracked tree (its files are named by _restore_one)
        raise WorkspaceWriteError.from_os_error(e, ws.display(rel), "dvx checkout") from e
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


def _prune_empty_dirs(top: bytes) -> None:
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        if dirpath != top and not dirnames and not filenames:
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
