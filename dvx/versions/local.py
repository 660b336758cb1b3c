"""Workspace copies of tracked data that still match their pointer, so reads can use them directly."""

from __future__ import annotations

import os
import threading

from dvx.hashing import from_hex
from dvx.versions.node import DIRECTORY, Node
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.statcache import stat_key

# (path, stat_key when it was found unchanged)
Copy = tuple[str, tuple[int, ...]]


class LocalCopies:
    """Which tracked paths of a workspace are checked out unchanged (each answered once per view)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._lock = threading.Lock()
        self._found: dict[str, Copy | None] = {}

    def find(self, tracked: str, p: ptr.Pointer) -> Copy | None:
        """The workspace copy of ``tracked`` when it matches the pointer ``p``."""
        with self._lock:
            if tracked in self._found:
                return self._found[tracked]
        ap = str(self.ws.root / tracked)
        found: Copy | None = None
        try:
            st = os.stat(ap)
        except OSError:
            st = None
        if st is not None:
            stamp = stat_key(st)
            if p.kind == "file" and os.path.isfile(ap):
                # Cheap answers first: the stat cache, then the size; hashing
                # (status) only when both are inconclusive.
                hit = self.ws.statcache.get(os.fsencode(tracked), st)
                if hit is not None:
                    found = (ap, stamp) if hit[0] == from_hex(p.oid) else None
                elif st.st_size != p.size:
                    found = None
                else:
                    found = (ap, stamp) if self._unchanged(tracked) else None
            elif p.kind == "dir" and os.path.isdir(ap):
                found = (ap, stamp) if self._unchanged(tracked) else None
        with self._lock:
            self._found[tracked] = found
        return found

    def _unchanged(self, tracked: str) -> bool:
        from dvx.workspace.status import UNCHANGED, status

        return status(self.ws, [tracked], has=lambda _oid: True).paths[0].state == UNCHANGED


def local_path(node: Node) -> str | None:
    """The workspace file or directory to read directly for ``node``, if it is still the right content."""
    if node.local is None:
        return None
    if node.stamp is None or node.kind == DIRECTORY:
        return node.local
    try:
        st = os.stat(node.local)
    except OSError:
        return None
    return node.local if stat_key(st) == node.stamp else None
