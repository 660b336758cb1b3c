"""File-level changes inside a tracked directory: two tree manifests compared entry by entry.

Only the manifests are compared (path -> file id and executable bit): no file
bytes are read. ``status`` compares the pointer's tree with the tree of the
workspace walk (unchanged files answered by the stat cache); ``diff`` compares
the trees two revisions name. The JSON form is the shape of ``dvc diff --json``
(docs/status.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dvx.store.objects import TreeEntry, TreeManifest

# A directory with more changed files than this gets a summary line and the
# first few files in text output (docs/status.md, "Large changes").
LARGE = 20


@dataclass
class FileChanges:
    """Repository-relative paths of the files added, deleted, modified and renamed in one directory."""

    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new)

    @property
    def total(self) -> int:
        """How many files changed (a rename counts once)."""
        return len(self.added) + len(self.deleted) + len(self.modified) + len(self.renamed)

    @property
    def large(self) -> bool:
        """More changed files than text output lists in full."""
        return self.total > LARGE

    def counts(self) -> str:
        """``+12 added, -3 deleted, ~5 modified`` (renames only when there are some)."""
        out = f"+{len(self.added)} added, -{len(self.deleted)} deleted, ~{len(self.modified)} modified"
        return out + (f", {len(self.renamed)} renamed" if self.renamed else "")

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        """``{"added": [{"path": ...}], "deleted": [...], "modified": [...], "renamed": [{"path": {"old", "new"}}]}``."""
        return {
            "added": [{"path": p} for p in self.added],
            "deleted": [{"path": p} for p in self.deleted],
            "modified": [{"path": p} for p in self.modified],
            "renamed": [{"path": {"old": a, "new": b}} for a, b in self.renamed],
        }


def _index(tree: TreeManifest) -> dict[bytes, TreeEntry]:
    return {e.path: e for e in tree.entries}


def compare_trees(old: TreeManifest, new: TreeManifest, prefix: str) -> FileChanges:
    """What changed from ``old`` to ``new``, each path prefixed with ``prefix + "/"``.

    A file whose id or executable bit differs is modified. A deleted file and
    an added file with the same non-empty content are one rename (as ``dvc
    diff`` pairs them), matched in path order so the answer is deterministic.
    """
    a, b = _index(old), _index(new)
    gone = sorted(a.keys() - b.keys())
    came = sorted(b.keys() - a.keys())
    changed = sorted(p for p in a.keys() & b.keys()
                     if a[p].file_oid != b[p].file_oid or a[p].executable != b[p].executable)
    # Renames: a deleted file's content reappearing under an added path. Empty
    # files all share one id, so they are never paired.
    by_oid: dict[bytes, list[bytes]] = {}
    for p in gone:
        if a[p].size:
            by_oid.setdefault(a[p].file_oid, []).append(p)
    renamed: list[tuple[bytes, bytes]] = []
    added: list[bytes] = []
    for p in came:
        olds = by_oid.get(b[p].file_oid)
        if olds:
            renamed.append((olds.pop(0), p))
        else:
            added.append(p)
    moved = {o for o, _ in renamed}

    def full(p: bytes) -> str:
        return f"{prefix}/{os.fsdecode(p)}"

    return FileChanges(
        added=[full(p) for p in added],
        deleted=[full(p) for p in gone if p not in moved],
        modified=[full(p) for p in changed],
        renamed=[(full(o), full(n)) for o, n in renamed],
    )
