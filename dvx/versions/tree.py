"""Directory listings built from flat path lists: a commit's files (``GitTree``) and a tracked
directory's ``TreeManifest`` (``TreeIndex``)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from dvx import scm
from dvx.store.objects import TreeEntry, TreeManifest
from dvx.versions.node import DIRECTORY, FILE
from dvx.workspace import pointer as ptr

# The kind of a pointer file's entry in GitTree.children: listed as its tracked path.
TRACKED = "tracked"


def children_of(paths: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """dir -> {name: kind} for ``(path, kind)`` pairs, with every parent directory listed as DIRECTORY."""
    ch: dict[str, dict[str, str]] = {"": {}}
    for path, kind in paths:
        parent, _, name = path.rpartition("/")
        ch.setdefault(parent, {})[name] = kind
        while parent:
            up, _, dname = parent.rpartition("/")
            d = ch.setdefault(up, {})
            if d.get(dname) == DIRECTORY:
                break
            d[dname] = DIRECTORY
            ch.setdefault(parent, {})
            parent = up
    return ch


class GitTree:
    """Every file of one commit: ``git ls-tree`` parsed once."""

    def __init__(self, root: Path, sha: str) -> None:
        self.files = scm.ls_tree(root, sha)  # path -> (blob id, size)
        n = len(ptr.SUFFIX)
        self.pointers = {p[:-n] for p in self.files if p.endswith(ptr.SUFFIX) and not p.startswith(".dvx/")}
        self._children: dict[str, dict[str, str]] | None = None

    @property
    def children(self) -> dict[str, dict[str, str]]:
        """dir -> {name: FILE | DIRECTORY | TRACKED} (pointer files listed as their tracked path)."""
        if self._children is None:
            n = len(ptr.SUFFIX)

            def kinds() -> Iterable[tuple[str, str]]:
                for path in self.files:
                    if path.endswith(ptr.SUFFIX) and path[:-n] in self.pointers:
                        yield path[:-n], TRACKED
                    else:
                        yield path, FILE

            self._children = children_of(kinds())
        return self._children


class TreeIndex:
    """A TreeManifest as path -> entry and dir -> children."""

    def __init__(self, tree: TreeManifest) -> None:
        self.size = tree.size
        self.nfiles = tree.nfiles
        self.files: dict[str, TreeEntry] = {os.fsdecode(e.path): e for e in tree.entries}
        self.children = children_of((p, FILE) for p in self.files)
