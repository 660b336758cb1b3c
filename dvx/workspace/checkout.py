"""``checkout``: make the workspace match the pointer files."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dvx._fsutil import atomic_open, fsync_dir
from dvx.errors import CorruptObjectError, ObjectMissingError, WorkspaceChangedError
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
        if e is None:
            continue  # reported by the read that needs it
        if e.raw_length != ref.size:
            raise CorruptObjectError(
                f"{shown}: chunk {to_hex(ref.oid)} is {e.raw_length} bytes in the cache, "
                f"its manifest says {ref.size}", _HINT_MISMATCH
            )


def _write_file(ws: Workspace, target: str, m: FileManifest, executable: bool) -> int:
    cache = ws.cache
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    # A directory (or other non-file) in the way of a tracked file goes only
    # when forced; the caller checked that.
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    # No fsync per file: the cache is the durable copy and a rerun of
    # checkout repairs the workspace; fsync per file made a 200-file
    # checkout 5x slower.
    with atomic_open(target, fsync=False) as f:
        for ref in m.chunks:
            data = cache.get(ref.oid)
            if len(data) != ref.size:  # _check_chunks saw the index; this is the bytes themselves
                raise CorruptObjectError(
                    f"{target}: chunk {to_hex(ref.oid)} is {len(data)} bytes, its manifest says {ref.size}",
                    _HINT_MISMATCH,
                )
            f.write(data)
        f.flush()
        os.fchmod(f.fileno(), 0o755 if executable else 0o644)
    return m.size


def _local_is_safe(ws: Workspace, abspath: bytes, relkey: bytes) -> tuple[bytes | None, bool]:
    """(current content id, whether it may be overwritten without losing data)."""
    h = hash_file(abspath, relkey, ws.chunker, ws.statcache)
    return h.oid, ws.cache.has(h.oid) or h.size == 0


def _restore_one(
    ws: Workspace,
    rel: str,
    relkey: bytes,
    oid: bytes,
    executable: bool,
    force: bool,
    result: CheckoutResult,
    size: int,
    m: FileManifest | None = None,
) -> None:
    """Write one file from manifest ``oid`` unless it is already there; ``size`` is what the
    pointer or tree entry says, checked against the manifest before anything is written."""
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
    if m is None:
        m = ws.cache.get_file_manifest(oid)
    shown = ws.display(rel)
    if m.size != size:
        raise CorruptObjectError(
            f"{shown}: manifest {to_hex(oid)[:12]} lists {m.size} bytes, its pointer or tree entry says {size}",
            _HINT_MISMATCH,
        )
    _check_chunks(ws, shown, m)
    result.bytes_written += _write_file(ws, str(ap), m, executable)
    st = os.stat(ap)
    ws.statcache.put(relkey, (st.st_size, st.st_mtime_ns, st.st_ino), oid, len(m.chunks))
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
    try:
        for rel in rels:
            if progress:
                progress(rel, 0)
            pp = ptr.pointer_path(rel)
            p = ptr.load(ws.abspath(pp), ws.display(pp))
            oid = from_hex(p.oid)
            key = os.fsencode(rel)
            if p.kind == "file":
                _require(ws, oid, ObjectType.FILE, ws.display(rel))
                m = ws.cache.get_file_manifest(oid)
                _check_pointer(ws, pp, p.size, m.size, (p.chunks, len(m.chunks), "chunks"))
                _restore_one(ws, rel, key, oid, False, force, result, p.size, m)
                continue
            _require(ws, oid, ObjectType.TREE, ws.display(rel))
            tree = ws.cache.get_tree_manifest(oid)
            _check_pointer(ws, pp, p.size, tree.size, (p.files, tree.nfiles, "files"))
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
                _restore_one(ws, sub, key + b"/" + e.path, e.file_oid, e.executable, force, result, e.size)
            topb = os.fsencode(top)
            for r, ap, _st in list(walk_files(topb)):
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
            _prune_empty_dirs(topb)
            fsync_dir(top)
            if not result.conflicts:
                ws.statcache.put_tree(key, tree_signature(topb), oid)
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


def _check_pointer(ws: Workspace, pp: str, size: int, real: int, count: tuple[int, int, str]) -> None:
    """The pointer ``pp`` agrees with its manifest on the total size and the file or chunk count."""
    said, got, what = count
    if size != real or said != got:
        raise CorruptObjectError(
            f"{ws.display(pp)} says size {size} and {said} {what}, but its manifest lists {real} bytes "
            f"and {got} {what}",
            _HINT_MISMATCH,
        )


def _prune_empty_dirs(top: bytes) -> None:
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        if dirpath != top and not dirnames and not filenames:
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
