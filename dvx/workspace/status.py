"""``status``: compare tracked paths with their pointers, reading only changed files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from dvx.errors import PointerError
from dvx.hashing import from_hex, to_hex
from dvx.workspace import pointer as ptr
from dvx.workspace._files import hash_file, hash_tree, tree_signature
from dvx.workspace.core import Workspace
from dvx.workspace.dvxignore import Ignore

UNCHANGED = "unchanged"
MODIFIED = "modified"
DELETED = "deleted"
BROKEN = "broken-pointer"


@dataclass
class PathStatus:
    """The state of one tracked path."""

    path: str
    kind: str
    state: str  # unchanged / modified / deleted / broken-pointer
    in_cache: bool
    pointer_id: str | None = None
    workspace_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @property
    def problems(self) -> list[str]:
        """What differs from the pointer, in words; empty when unchanged and in the cache."""
        out = [] if self.state == UNCHANGED else [self.state]
        if not self.in_cache and self.state != BROKEN:
            out.append("not in cache")
        return out


@dataclass
class StatusResult:
    paths: list[PathStatus] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(p.state == UNCHANGED and p.in_cache for p in self.paths)

    @property
    def changed(self) -> list[PathStatus]:
        """The paths with something to report (``problems``)."""
        return [p for p in self.paths if p.problems]

    @property
    def errors(self) -> list[str]:
        """Why some pointers could not be read."""
        return [p.error for p in self.paths if p.error]


def workspace_id(ws: Workspace, rel: str, kind: str, save: bool = False) -> bytes | None:
    """Id of the workspace copy of tracked path ``rel`` (a ``file`` or ``dir``); None when absent.

    Unchanged files are answered by the stat cache and never read; a tree
    whose stat signature is unchanged is answered without building it.
    """
    ap = ws.abspath(rel)
    key = os.fsencode(rel)
    try:
        if kind == "file":
            if not os.path.isfile(ap) or os.path.islink(ap):
                return None
            return hash_file(os.fsencode(ap), key, ws.chunker, ws.statcache).oid
        if not os.path.isdir(ap) or os.path.islink(ap):
            return None
        top = os.fsencode(ap)
        ign = Ignore.outer(ws.root, rel)
        ws.statcache.clock()  # before the scan: statcache.py, "Racy entries"
        ts = tree_signature(top, ign.salt)
        cached = ws.statcache.get_tree(key, ts.sig)
        if cached is not None:
            return cached
        h, _ = hash_tree(top, key, ws.chunker, ws.statcache, ignore=ign)
        ws.statcache.put_tree(key, ts.sig, ts.newest, h.oid)
        return h.oid
    finally:
        if save:
            ws.statcache.save()


def status(ws: Workspace, rels: Sequence[str], has: object | None = None) -> StatusResult:
    """State of each tracked path (repo-relative, without ``.dvx``).

    Unchanged files are recognised by the stat cache and never read.
    ``has(oid) -> bool`` answers "in the cache"; it defaults to the cache.
    """
    result = StatusResult()
    contains = has if callable(has) else ws.cache_has
    try:
        for rel in rels:
            pp = ptr.pointer_path(rel)
            try:
                p = ptr.load(ws.abspath(pp), ws.display(pp))
            except PointerError as e:
                result.paths.append(PathStatus(rel, "?", BROKEN, False, error=e.format_message()))
                continue
            oid = from_hex(p.oid)
            in_cache = bool(contains(oid))
            cur_oid = workspace_id(ws, rel, p.kind)
            state = DELETED if cur_oid is None else UNCHANGED
            cur = None if cur_oid is None else to_hex(cur_oid)
            if state == UNCHANGED and cur != p.oid:
                state = MODIFIED
            result.paths.append(PathStatus(rel, p.kind, state, in_cache, p.oid, cur))
    finally:
        ws.statcache.save()
    return result
