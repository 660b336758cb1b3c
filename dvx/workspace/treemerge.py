"""Three-way merge of tree manifests: a tracked directory changed on two branches.

Each file path is merged on its own, as git merges the entries of a tree:
a file both sides left as it was in the base stays, a file one side changed
(added, modified, deleted, its x bit flipped) takes that side's entry, and a
file both sides changed the same way takes it too. A file both sides changed
differently is a conflict; so is a path that is a file on one side and a
folder on the other (the merged tree could not hold both).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dvx.store.objects import TreeEntry, TreeManifest

# How each kind of per-file conflict is told (base, ours, theirs entries present?).
ADDED_BOTH = "added on both sides with different content"
CHANGED_BOTH = "changed differently on both sides"
DELETED_CHANGED = "deleted on one side and changed on the other"
FILE_AND_FOLDER = "is a file on one side and a folder on the other"


@dataclass(frozen=True)
class TreeConflict:
    """Why two trees do not merge: the files in conflict (sorted), the first one's reason."""

    paths: tuple[str, ...]  # relative to the tracked directory, os.fsdecode'd
    reason: str

    def describe(self, folder: str = "") -> str:
        """``data/images/cats/1.png changed differently on both sides (and 2 more files)``, paths below ``folder``."""
        more = len(self.paths) - 1
        tail = f" (and {more} more file{'s' if more > 1 else ''})" if more else ""
        first = f"{folder}/{self.paths[0]}" if folder else self.paths[0]
        return f"{first} {self.reason}{tail}"


def _reason(base: TreeEntry | None, ours: TreeEntry | None, theirs: TreeEntry | None) -> str:
    if base is None:
        return ADDED_BOTH
    if ours is None or theirs is None:
        return DELETED_CHANGED
    return CHANGED_BOTH


def merge_trees(base: TreeManifest | None, ours: TreeManifest, theirs: TreeManifest) -> TreeManifest | TreeConflict:
    """The tree with both sides' changes to ``base`` (None: the directory is new on both sides),
    or the TreeConflict saying which files both sides changed differently."""
    b = {e.path: e for e in base.entries} if base is not None else {}
    o = {e.path: e for e in ours.entries}
    t = {e.path: e for e in theirs.entries}
    merged: list[TreeEntry] = []
    conflicts: list[tuple[bytes, str]] = []
    for path in o.keys() | t.keys() | b.keys():
        be, oe, te = b.get(path), o.get(path), t.get(path)
        if oe == te or te == be:
            pick = oe
        elif oe == be:
            pick = te
        else:
            conflicts.append((path, _reason(be, oe, te)))
            continue
        if pick is not None:
            merged.append(pick)
    if conflicts:
        conflicts.sort()
        return TreeConflict(tuple(os.fsdecode(p) for p, _ in conflicts), conflicts[0][1])
    try:
        return TreeManifest(tuple(merged))
    except ValueError:
        # "a" from one side and "a/b" from the other: the one clash TreeManifest refuses here
        # (every entry was valid in its own tree).
        return TreeConflict((_file_folder_clash(merged),), FILE_AND_FOLDER)


def _file_folder_clash(entries: list[TreeEntry]) -> str:
    """The first path that is both a file and a parent folder of another file in ``entries``."""
    files = {e.path for e in entries}
    clash: list[bytes] = []
    for p in files:
        i = p.rfind(b"/")
        while i > 0:
            if p[:i] in files:
                clash.append(p[:i])
            i = p.rfind(b"/", 0, i)
    return os.fsdecode(min(clash)) if clash else "?"


def changed_paths(a: TreeManifest, b: TreeManifest) -> list[tuple[TreeEntry | None, TreeEntry | None]]:
    """(entry in ``a``, entry in ``b``) for every path whose entry differs (None where absent)."""
    ea = {e.path: e for e in a.entries}
    eb = {e.path: e for e in b.entries}
    return [(ea.get(p), eb.get(p)) for p in sorted(ea.keys() | eb.keys()) if ea.get(p) != eb.get(p)]
