"""The pointer files of one revision (or of the workspace): which paths dvx tracks there, parsed once."""

from __future__ import annotations

import threading
from pathlib import Path

from dvx import scm
from dvx.versions.tree import GitTree
from dvx.workspace import pointer as ptr


class Pointers:
    """Pointers at commit ``sha`` (read from git in batches) or, with ``sha`` None, in the work tree."""

    def __init__(self, root: Path, rev: str | None, sha: str | None) -> None:
        self.root = root
        self.sha = sha
        self.label = rev or sha  # how errors name the revision
        self._lock = threading.Lock()
        self._git: GitTree | None = None
        self._parsed: dict[str, ptr.Pointer] = {}

    @property
    def git_tree(self) -> GitTree:
        """The files of the commit (``sha`` must be set)."""
        if self._git is None:
            assert self.sha is not None
            tree = GitTree(self.root, self.sha)
            with self._lock:
                if self._git is None:
                    self._git = tree
        return self._git

    def is_tracked(self, rel: str) -> bool:
        """True when a pointer file names ``rel`` here."""
        if not rel:
            return False
        if self.sha is not None:
            return rel in self.git_tree.pointers
        return (self.root / (rel + ptr.SUFFIX)).is_file()

    def tracked_ancestor(self, rel: str) -> str | None:
        """The tracked path ``rel`` lies below, if any."""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            a = "/".join(parts[:i])
            if self.is_tracked(a):
                return a
        return None

    def get(self, tracked: str) -> ptr.Pointer | None:
        """The pointer of ``tracked``; None when there is none. PointerError when it is broken or
        git lacks its blob, UnsafePathError when it names a path dvx refuses."""
        with self._lock:
            hit = self._parsed.get(tracked)
        if hit is not None:
            return hit
        pp = tracked + ptr.SUFFIX
        # The pointer names a path dvx may materialise; refuse .git/.dvx and
        # the like here too (dvx._paths), at a revision as in the workspace.
        ptr.check_tracked(tracked, f"{self.label}:{pp}" if self.sha else pp)
        if self.sha is not None:
            if pp not in self.git_tree.files:
                return None
            self.load([tracked])
            with self._lock:
                return self._parsed[tracked]
        try:
            p = ptr.load(self.root / pp, pp)
        except FileNotFoundError:
            return None
        with self._lock:
            self._parsed[tracked] = p
        return p

    def load(self, tracked: list[str]) -> None:
        """Parse the pointers of ``tracked`` at the commit in one batch (``git cat-file --batch``)."""
        if self.sha is None:
            return
        with self._lock:
            todo = [t + ptr.SUFFIX for t in tracked if t not in self._parsed]
        if not todo:
            return
        # By blob id (the tree listed them): no path goes through cat-file's line-based input.
        files = self.git_tree.files
        objs = scm.read_objects(self.root, [files[pp][0] for pp in todo])
        blobs = {pp: (obj[1] if obj is not None else None) for pp, obj in zip(todo, objs, strict=True)}
        got = ptr.loads_at(blobs, str(self.label))
        n = len(ptr.SUFFIX)
        with self._lock:
            self._parsed.update((pp[:-n], p) for pp, p in got.items())
