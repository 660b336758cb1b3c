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


@dataclass
class StatusResult:
    paths: list[PathStatus] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(p.state == UNCHANGED and p.in_cache for p in self.paths)


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
            ap = ws.abspath(rel)
            key = os.fsencode(rel)
            state = UNCHANGED
            cur: str | None = p.oid
            if p.kind == "file":
                if not os.path.isfile(ap) or os.path.islink(ap):
                    state, cur = DELETED, None
                else:
                    h = hash_file(os.fsencode(ap), key, ws.chunker, ws.statcache)
                    cur = to_hex(h.oid)
            else:
                if not os.path.isdir(ap) or os.path.islink(ap):
                    state, cur = DELETED, None
                else:
                    top = os.fsencode(ap)
                    sig = tree_signature(top)
                    if ws.statcache.get_tree(key, sig) == oid:
                        cur = p.oid
                    else:
                        h, _ = hash_tree(top, key, ws.chunker, ws.statcache)
                        cur = to_hex(h.oid)
                        ws.statcache.put_tree(key, sig, h.oid)
            if state == UNCHANGED and cur != p.oid:
                state = MODIFIED
            result.paths.append(PathStatus(rel, p.kind, state, in_cache, p.oid, cur))
    finally:
        ws.statcache.save()
    return result
