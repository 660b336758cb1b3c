"""git's merge driver for pointer files (``*.dvx merge=dvx``, docs/merging.md).

git calls ``dvx merge-driver %O %A %B %P`` when both sides of a merge changed
one pointer file: the base, ours and theirs versions are temporary files, and
the result goes to ours' (%A). Two versions of a tracked directory merge into
the union of their changes, a new tree manifest stored in the local cache;
anything else both sides changed differently is left as a conflict (git's
markers around the two pointer versions) with one line saying how to pick a
side. Nothing here runs git: the driver sees only the three files.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dvx._fsutil import atomic_write
from dvx.errors import DvxError, PointerError
from dvx.hashing import from_hex, to_hex
from dvx.store.objects import TreeEntry, file_chunk_ids
from dvx.workspace import pointer as ptr
from dvx.workspace.core import Workspace
from dvx.workspace.treemerge import TreeConflict, changed_paths, merge_trees

if TYPE_CHECKING:
    from dvx.store.store import ObjectStore

SIDES = ("base", "ours", "theirs")
_SHORT = 12  # hex digits of an id shown in messages, as `dvx ls` shows them


@dataclass
class MergeOutcome:
    """What the driver did to one pointer file: merged (``clean``) or left a conflict; the line to print."""

    path: str  # the pointer file, as git names it (%P)
    clean: bool
    line: str
    pointer: ptr.Pointer | None = None  # the merged pointer when clean


class _Unmerged(Exception):
    """A conflict: ``why`` goes into the printed line."""

    def __init__(self, why: str, fetch: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.fetch = fetch  # the cache lacks objects: fetching them may let the merge succeed


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(ptr.MAX_BYTES + 1)


def _same_data(a: ptr.Pointer, b: ptr.Pointer) -> bool:
    return (a.kind, a.oid, a.size, a.files) == (b.kind, b.oid, b.size, b.files)


def _short(p: ptr.Pointer | None, raw: bytes) -> str:
    if p is not None:
        return f"{p.kind} {p.oid[:_SHORT]}"
    return "deleted" if not raw else "unparseable"


def merge_pointer_files(base: str, ours: str, theirs: str, name: str) -> MergeOutcome:
    """Merge pointer file ``name`` from git's temporary files; the result (or a conflict) is written to ``ours``.

    Never raises for what the files or the cache hold: every failure becomes a
    conflict, so git marks the path unmerged and the work tree shows both versions.
    """
    raws = [_read(base), _read(ours), _read(theirs)]
    parsed: list[ptr.Pointer | None] = []
    bad: list[str] = []
    for side, raw in zip(SIDES, raws, strict=True):
        try:
            parsed.append(ptr.loads(raw, f"{name} ({side})") if raw.strip() else None)
        except PointerError as e:
            parsed.append(None)  # a broken base only costs the three-way merge
            if side != "base":
                bad.append(e.message)
    if bad:
        return _conflict(name, ours, raws, parsed, "; ".join(bad))
    try:
        merged = _merge(name, *parsed)
    except _Unmerged as u:
        return _conflict(name, ours, raws, parsed, u.why, u.fetch)
    except DvxError as e:  # the cache could not be read or written
        return _conflict(name, ours, raws, parsed, e.message)
    atomic_write(ours, merged.dumps(_tracked(name)).encode("utf-8", "surrogateescape"))
    return MergeOutcome(name, True, f"dvx: {name}: merged both sides ({merged.kind} {merged.oid[:_SHORT]})", merged)


def _tracked(name: str) -> str:
    return name[: -len(ptr.SUFFIX)] if name.endswith(ptr.SUFFIX) else name


def _merge(name: str, b: ptr.Pointer | None, o: ptr.Pointer | None, t: ptr.Pointer | None) -> ptr.Pointer:
    """The merged pointer; _Unmerged when it is a conflict."""
    if o is None or t is None:
        raise _Unmerged("deleted on one side and changed on the other")
    if _same_data(o, t):
        # Same data: a profile either side computed describes it; ours' other keys (an import's source) stay.
        return dataclasses.replace(o, profile=o.profile or t.profile)
    if b is not None and _same_data(b, o):
        return t
    if b is not None and _same_data(b, t):
        return o
    if o.kind != t.kind:
        raise _Unmerged("a file on one side and a directory on the other")
    if o.kind != "dir":
        raise _Unmerged("the file changed differently on both sides")
    return _merge_dirs(name, b if b is not None and b.kind == "dir" else None, o, t)


def _merge_dirs(name: str, b: ptr.Pointer | None, o: ptr.Pointer, t: ptr.Pointer) -> ptr.Pointer:
    ws = Workspace.find(os.path.dirname(name) or ".")
    store = ws.cache
    sides = [(side, p) for side, p in zip(SIDES, (b, o, t), strict=True) if p is not None]
    lacking = [f"{side} ({p.oid[:_SHORT]})" for side, p in sides if not store.has(from_hex(p.oid))]
    if lacking:
        raise _Unmerged(f"the cache lacks the tree of {' and '.join(lacking)}", fetch=True)
    trees = [store.get_tree_manifest(from_hex(p.oid)) if p is not None else None for p in (b, o, t)]
    base_tree, ours_tree, theirs_tree = trees
    assert ours_tree is not None and theirs_tree is not None
    result = merge_trees(base_tree, ours_tree, theirs_tree)
    if isinstance(result, TreeConflict):
        raise _Unmerged(result.describe(_tracked(name)))
    # The pointer's chunk count is the sum over its files (as `dvx add` writes it): ours' count
    # plus what the files the merge took from theirs add, read from their file manifests.
    chunks = o.chunks
    for was, now in changed_paths(ours_tree, result):
        chunks += _chunk_count(store, now, name) - _chunk_count(store, was, name)
    with ws.lock(quiet=True), store.writer() as w:
        w.put_manifest(result)
    return ptr.Pointer("dir", to_hex(result.oid), result.size, result.nfiles, max(chunks, 0))


def _chunk_count(store: ObjectStore, entry: TreeEntry | None, name: str) -> int:
    """How many chunks the file of ``entry`` has (0 for none); _Unmerged when the cache lacks its manifest."""
    if entry is None:
        return 0
    if not store.has(entry.file_oid):
        shown = f"{_tracked(name)}/{os.fsdecode(entry.path)}"
        raise _Unmerged(f"the cache lacks the file {shown} ({entry.file_oid.hex()[:_SHORT]})", fetch=True)
    return len(file_chunk_ids(store.get(entry.file_oid)))


def _conflict(name: str, ours: str, raws: list[bytes], parsed: list[ptr.Pointer | None], why: str,
              fetch: bool = False) -> MergeOutcome:
    """Write git's conflict markers around ours' and theirs' versions to ``ours``; the line naming both."""
    body_o, body_t = (r if not r or r.endswith(b"\n") else r + b"\n" for r in raws[1:])
    atomic_write(ours, b"<<<<<<< ours\n" + body_o + b"=======\n" + body_t + b">>>>>>> theirs\n")
    pq, tq = shlex.quote(name), shlex.quote(_tracked(name))
    pick = (f"keep one side with `git checkout --ours {pq} && dvx checkout {tq}` or "
            f"`git checkout --theirs {pq} && dvx checkout {tq}`, then `git add {pq}`")
    if fetch:
        # dvx reads a version's objects from the cache only: the merge needs all three versions'.
        pick = ("run `git merge --abort`, then `dvx pull` with each version that lacks checked out "
                "(theirs: the branch you merge; base: `git merge-base HEAD BRANCH`), then merge again; "
                f"or {pick}")
    line = (f"dvx: conflict in {name}: {why}; ours is {_short(parsed[1], raws[1])}, "
            f"theirs is {_short(parsed[2], raws[2])}; {pick}")
    return MergeOutcome(name, False, line)
