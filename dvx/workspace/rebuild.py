"""Rebuilding lost objects from workspace files (``dvx fsck --repair``). Lock held.

A workspace file is trusted only when its content, chunked with the
repository's parameters, yields exactly the manifest id asked for: it is
first hashed without storing anything (the stat cache is not consulted),
and only on a match chunked again into the cache, where the store writer
adds just the objects the cache lacks. A file that changed between the two
reads stores chunks named by their own content (never wrong) and no manifest.
"""

from __future__ import annotations

import os
import stat as stat_mod
from typing import TYPE_CHECKING

from dvx.chunking import ChunkerParams
from dvx.errors import ConfigError, FileReadError, UnsafePathError
from dvx.store.objects import FileManifest, TreeEntry, TreeManifest
from dvx.store.store import ObjectStore
from dvx.workspace._files import _chunk_file, walk_files
from dvx.workspace.dvxignore import Ignore

if TYPE_CHECKING:
    from dvx.store.writer import StoreWriter


def _file_manifest(path: bytes, params: ChunkerParams, writer: StoreWriter | None) -> FileManifest | None:
    """The manifest of the regular file at ``path`` (None: not one, or unreadable); stores it with ``writer``."""
    try:
        st = os.stat(path, follow_symlinks=False)
        if not stat_mod.S_ISREG(st.st_mode):
            return None
        m = _chunk_file(path, st.st_size, params, writer)
    except (OSError, FileReadError):
        return None
    if writer is not None:
        writer.put_manifest(m)
    return m


def rebuild_file(store: ObjectStore, path: str, params: ChunkerParams, oid: bytes) -> bool:
    """Store the file manifest ``oid`` and its chunks from the file at ``path`` if its content matches."""
    p = os.fsencode(path)
    m = _file_manifest(p, params, None)
    if m is None or m.oid != oid:
        return False
    with store.writer() as w:
        m = _file_manifest(p, params, w)  # a manifest is stored under its own id: never a wrong one
    return m is not None and m.oid == oid


def _tree(top: bytes, params: ChunkerParams, writer: StoreWriter | None, ignore: Ignore | None) -> TreeManifest | None:
    entries: list[TreeEntry] = []
    try:
        files = list(walk_files(top, ignore=ignore))
    except (OSError, FileReadError, ConfigError):  # a bad .dvxignore: nothing is rebuilt from this folder
        return None
    for rel, ap, st in files:
        m = _file_manifest(ap, params, writer)
        if m is None:
            return None
        entries.append(TreeEntry(rel, m.oid, m.size, bool(st.st_mode & 0o100)))
    try:
        return TreeManifest(tuple(entries))
    except (ValueError, UnsafePathError):
        return None


def rebuild_tree(store: ObjectStore, path: str, params: ChunkerParams, oid: bytes, ignore: Ignore | None = None) -> bool:
    """Store the tree manifest ``oid`` and everything it names from the folder at ``path`` if it matches
    (``ignore``: the ``.dvxignore`` rules above the folder, as ``add`` applied them)."""
    top = os.fsencode(path)
    if not os.path.isdir(top) or os.path.islink(top):
        return False
    t = _tree(top, params, None, ignore)
    if t is None or t.oid != oid:
        return False
    with store.writer() as w:
        t = _tree(top, params, w, ignore)
        if t is None or t.oid != oid:
            return False  # changed while read: what was stored is named by its own content
        w.put_manifest(t)
    return True
