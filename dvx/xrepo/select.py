"""What a path of a source repository names, and its objects fetched from the source's remote into a store.

A path is a tracked file or directory of the source, or a file or folder
inside a tracked directory (a folder's entries make a new, smaller tree).
Only the objects the path needs are fetched: for a path inside a tracked
directory, its tree manifest first, then the files below the path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from dvx.errors import CorruptObjectError, ObjectMissingError, RemoteError, UnsafePathError, UsageError
from dvx.hashing import from_hex, hash_bytes
from dvx.remote import Remote, TransferResult, fetch, fetch_objects
from dvx.store import FileManifest, ObjectStore, ObjectType, TreeEntry, TreeManifest
from dvx.xrepo.source import SourceRepo

Progress = Callable[[str, int], None]
PUSH_HINT = "the source's data must be on its remote: run `dvx push` in the source repository"
_TAMPERED = "the source's pointer or the objects it names were damaged or tampered with; nothing was written"


@dataclass
class Selection:
    """A path of the source: a file (its manifest) or a directory (its tree), with the objects fetched."""

    path: str
    kind: str  # "file" or "dir"
    oid: bytes  # the FileManifest or TreeManifest id (a tree built here for a folder inside a tracked one)
    size: int
    files: int
    tree: TreeManifest | None = None
    manifest: FileManifest | None = None
    built: bool = False  # the tree is not the source's own: write it to the store to keep it


@dataclass
class Fetcher:
    """Fetches from the source's default remote into ``store``; errors name the source."""

    src: SourceRepo
    store: ObjectStore
    max_chunk: int
    jobs: int | None = None
    progress: Progress | None = None
    result: TransferResult = field(default_factory=TransferResult)
    _remote: Remote | None = None

    def remote(self) -> Remote:
        if self._remote is None:
            try:
                self._remote = self.src.open_remote(self.max_chunk)
            except RemoteError as e:  # a package to install, an option the filesystem refuses
                raise RemoteError(f"{self.src.label}: the source's remote: {e.message}",
                                  e.hint if e.hint and e.hint.startswith("pip install") else None) from None
        return self._remote

    def _add(self, res: TransferResult) -> None:
        for k in ("objects", "bytes", "raw_bytes", "packs", "requests", "present"):
            setattr(self.result, k, getattr(self.result, k) + getattr(res, k))

    def _missing(self, what: str, n: int, rem: Remote) -> ObjectMissingError:
        return ObjectMissingError(f"{what}: {n} objects are missing from the source's remote {rem.label}", PUSH_HINT)

    def objects(self, oids: list[bytes], what: str) -> None:
        """Exactly these objects (no closure)."""
        if not self.store.missing(oids):
            return
        rem = self.remote()
        try:
            self._add(fetch_objects(self.store, rem, oids, jobs=self.jobs))
        except ObjectMissingError:
            raise self._missing(what, len(self.store.missing(oids)), rem) from None
        except RemoteError as e:
            raise self._remote_error(what, e) from None

    def closure(self, roots: list[tuple[bytes, ObjectType]], what: str) -> None:
        """Everything ``roots`` reach that the store lacks."""
        rem = self.remote()
        try:
            res = fetch(rem, self.store, roots, jobs=self.jobs, progress=self.progress)
        except RemoteError as e:
            raise self._remote_error(what, e) from None
        self._add(res)
        if res.missing:
            raise self._missing(what, len(res.missing), rem)

    def _remote_error(self, what: str, e: RemoteError) -> RemoteError:
        missing = "does not exist" in e.message
        return RemoteError(f"{what}: the source's remote: {e.message}", PUSH_HINT if missing else None)


def _check(what: str, said: tuple[int, int], real: tuple[int, int], unit: str) -> None:
    if said != real:
        raise CorruptObjectError(
            f"{what}: the pointer says size {said[0]} and {said[1]} {unit}, but its manifest lists "
            f"{real[0]} bytes and {real[1]} {unit}", _TAMPERED)


def _tree(f: Fetcher, oid: bytes, what: str) -> TreeManifest:
    try:
        return f.store.get_tree_manifest(oid)
    except UnsafePathError as e:  # a crafted tree: name the path that led to it
        raise UnsafePathError(f"{what}: {e.message}", e.hint) from None


def select(src: SourceRepo, path: str, f: Fetcher, fetch_data: bool = True) -> Selection:
    """The tracked data at ``path`` of ``src``, its objects fetched into ``f.store`` (with
    ``fetch_data`` False, only the manifests needed to describe it). UsageError when ``path``
    is not tracked by dvx there; PointerError, UnsafePathError or CorruptObjectError (nothing
    written) when the source's pointer or objects are hostile."""
    tracked = src.tracked_at_or_above(path)
    if tracked is None:
        if path in src.tree.files or path in src.tree.children:
            raise UsageError(f"{src.describe(path)}: git tracks it, not dvx; only dvx-tracked data is imported",
                             "dvx get copies a single file git tracks")
        raise src.not_found(path)
    p = src.pointer(tracked)
    what = src.describe(path)
    oid = from_hex(p.oid)
    otype = ObjectType.FILE if p.kind == "file" else ObjectType.TREE
    if tracked == path and (fetch_data or p.kind == "file"):
        if fetch_data:
            f.closure([(oid, otype)], what)
        else:
            f.objects([oid], what)
        if p.kind == "file":
            m = f.store.get_file_manifest(oid)
            _check(what, (p.size, p.chunks), (m.size, len(m.chunks)), "chunks")
            return Selection(path, "file", oid, m.size, 1, manifest=m)
        tree = _tree(f, oid, what)
        _check(what, (p.size, p.files), (tree.size, tree.nfiles), "files")
        return Selection(path, "dir", oid, tree.size, tree.nfiles, tree=tree)
    if p.kind != "dir":
        raise src.not_found(path)
    f.objects([oid], what)
    tree = _tree(f, oid, what)
    _check(src.describe(tracked), (p.size, p.files), (tree.size, tree.nfiles), "files")
    if tracked == path:
        return Selection(path, "dir", oid, tree.size, tree.nfiles, tree=tree)
    sub = os.fsencode(path[len(tracked) + 1 :])
    for e in tree.entries:
        if e.path == sub:
            if fetch_data:
                f.closure([(e.file_oid, ObjectType.FILE)], what)
            else:
                f.objects([e.file_oid], what)
            m = f.store.get_file_manifest(e.file_oid)
            _check(what, (e.size, 1), (m.size, 1), "files")
            return Selection(path, "file", e.file_oid, m.size, 1, manifest=m)
    prefix = sub + b"/"
    n = len(prefix)
    entries = [TreeEntry(e.path[n:], e.file_oid, e.size, e.executable) for e in tree.entries if e.path.startswith(prefix)]
    if not entries:
        raise src.not_found(path)
    part = TreeManifest(tuple(entries))
    if fetch_data:
        f.closure([(o, ObjectType.FILE) for o in dict.fromkeys(e.file_oid for e in entries)], what)
    return Selection(path, "dir", hash_bytes(part.encode()), part.size, part.nfiles, tree=part, built=True)


def chunk_count(store: ObjectStore, sel: Selection) -> int:
    """Chunks of the selection's file, or summed over its directory's files (a pointer's ``chunks``)."""
    if sel.manifest is not None:
        return len(sel.manifest.chunks)
    assert sel.tree is not None
    per = {oid: len(store.decode_manifest(oid, raw, FileManifest).chunks)
           for oid, raw in store.get_many(dict.fromkeys(e.file_oid for e in sel.tree.entries))}
    return sum(per[e.file_oid] for e in sel.tree.entries)
