"""``RepoView``: one repository at one revision; paths resolve to ``Node`` s, nodes read as bytes.

``rev=None`` is the workspace (pointer files in the work tree); any other
revision is read from git without touching the work tree. A view resolves
dvx-tracked files and directories, files inside tracked directories (through
their ``TreeManifest``), files git tracks itself, and plain workspace files.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import shutil
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

from dvx import scm
from dvx.errors import CorruptObjectError, UnsafePathError, UsageError
from dvx.hashing import from_hex
from dvx.store.objects import FileManifest
from dvx.versions.filedata import FileData
from dvx.versions.files import VersionedFile
from dvx.versions.fill import Filler, shared_cache
from dvx.versions.local import LocalCopies, local_path
from dvx.versions.node import DIRECTORY, FILE, Node, ReadStats
from dvx.versions.pointers import Pointers
from dvx.versions.tree import TRACKED, GitTree, TreeIndex
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.statcache import stat_key

# Git blobs kept in memory for ranged reads of files git tracks.
_BLOB_CACHE_BYTES = 64 << 20
_MANIFESTS_MAX = 256


class RepoView:
    """One repository at one revision (``sha=None``: the workspace)."""

    def __init__(self, root: Path, rev: str | None, sha: str | None, remote: str | None = None) -> None:
        self.root = Path(root)
        self.rev = rev
        self.sha = sha
        self.remote_name = remote
        self.ws = Workspace(self.root)
        self.cache = shared_cache(self.ws)
        self.stats = ReadStats()
        self.pointers = Pointers(self.root, rev, sha)
        self._filler = Filler(self.ws, self.cache, remote, self.stats)
        self._copies = LocalCopies(self.ws)
        self._lock = threading.RLock()
        self._nodes: dict[str, Node] = {}
        self._trees: dict[bytes, TreeIndex] = {}
        self._data: OrderedDict[bytes, FileData] = OrderedDict()
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._commit_time: float | None = None

    # -------------------------------------------------------------- naming
    @property
    def label(self) -> str:
        """``revision v1.0 (3f2a1b9)`` or ``the workspace``."""
        if self.sha is None:
            return "the workspace"
        short = self.sha[:7]
        return f"revision {short}" if self.rev in (None, self.sha) else f"revision {self.rev} ({short})"

    def __repr__(self) -> str:
        return f"RepoView({str(self.root)!r}, {self.label})"

    def normpath(self, path: str | os.PathLike[str]) -> str:
        """Repo-relative "/"-separated form of ``path`` (relative to the repository root, or absolute inside it)."""
        p = os.fspath(path)
        if p.startswith("dvx://"):
            p = p[len("dvx://") :]
        if os.path.isabs(p):
            try:
                p = os.path.relpath(p, self.root)
            except ValueError:
                raise UsageError(f"{path}: outside the repository {self.root}") from None
        p = posixpath.normpath(p.replace(os.sep, "/")).strip("/")
        if p == ".":
            p = ""
        if p == ".." or p.startswith("../"):
            raise UsageError(f"{path}: outside the repository {self.root}", "give a path relative to the repository root")
        return p

    def not_found(self, path: str) -> FileNotFoundError:
        where = f"at {self.label}" if self.sha else "in the workspace"
        return FileNotFoundError(f"{path}: not tracked by dvx or git {where} of {self.root}")

    def describe(self, path: str) -> str:
        return f"{path} at {self.label}" if self.sha else f"{path} (workspace)"

    # -------------------------------------------------------------- pointers
    @property
    def git_tree(self) -> GitTree:
        return self.pointers.git_tree

    def pointer(self, tracked: str) -> ptr.Pointer:
        """The pointer of ``tracked`` at this revision; FileNotFoundError when there is none."""
        p = self.pointers.get(tracked)
        if p is None:
            raise self.not_found(tracked)
        return p

    # -------------------------------------------------------------- resolution
    def resolve(self, path: str | os.PathLike[str]) -> Node:
        """The node at ``path``; FileNotFoundError naming path and revision when there is none."""
        rel = self.normpath(path)
        with self._lock:
            hit = self._nodes.get(rel)
        if hit is not None:
            return hit
        node = self._resolve(rel)
        with self._lock:
            self._nodes[rel] = node
        return node

    def _resolve(self, rel: str) -> Node:
        if rel == "":
            return Node("", DIRECTORY, 0, "git" if self.sha else "workspace")
        if self.pointers.is_tracked(rel):
            return self._tracked_node(rel)
        anc = self.pointers.tracked_ancestor(rel)
        if anc is not None:
            return self._inside(anc, rel)
        if self.sha is not None:
            tree = self.git_tree
            hit = tree.files.get(rel)
            if hit is not None:
                return Node(rel, FILE, hit[1], "git", blob=hit[0])
            if rel in tree.children:
                return Node(rel, DIRECTORY, 0, "git")
            raise self.not_found(rel)
        ap = self.root / rel
        if rel.split("/", 1)[0] == ".git":
            raise self.not_found(rel)
        try:
            st = os.stat(ap)
        except OSError:
            raise self.not_found(rel) from None
        if stat.S_ISDIR(st.st_mode):
            return Node(rel, DIRECTORY, 0, "workspace", local=str(ap))
        return Node(rel, FILE, st.st_size, "workspace", local=str(ap))

    def _local_copy(self, tracked: str, p: ptr.Pointer) -> tuple[str, tuple[int, ...]] | None:
        return None if self.sha is not None else self._copies.find(tracked, p)

    def _tracked_node(self, rel: str) -> Node:
        p = self.pointer(rel)
        kind = FILE if p.kind == "file" else DIRECTORY
        lp, stamp = self._local_copy(rel, p) or (None, None)
        return Node(rel, kind, p.size, "dvx", oid=from_hex(p.oid), tracked=rel, local=lp, stamp=stamp)

    def _inside(self, tracked: str, rel: str) -> Node:
        p = self.pointer(tracked)
        if p.kind != "dir":
            raise self.not_found(rel)
        idx = self.tree_index(from_hex(p.oid), tracked, p)
        sub = rel[len(tracked) + 1 :]
        e = idx.files.get(sub)
        local_root = self._local_copy(tracked, p)
        if e is not None:
            lp: str | None = None
            stamp = None
            if local_root is not None:
                lp = os.path.join(local_root[0], sub)
                try:
                    stamp = stat_key(os.stat(lp))
                except OSError:
                    lp = None
            return Node(rel, FILE, e.size, "dvx", oid=e.file_oid, tracked=tracked, local=lp, stamp=stamp)
        if sub in idx.children:
            lp = os.path.join(local_root[0], sub) if local_root else None
            return Node(rel, DIRECTORY, 0, "dvx", tracked=tracked, local=lp)
        raise self.not_found(rel)

    # -------------------------------------------------------------- listing
    def ls(self, path: str | os.PathLike[str]) -> list[Node]:
        """Children of a directory (a file lists as itself); pointer files are not listed."""
        node = self.resolve(path)
        if node.kind == FILE:
            return [node]
        rel = node.path
        join = (lambda n: f"{rel}/{n}") if rel else (lambda n: n)
        if node.tracked is not None:
            p = self.pointer(node.tracked)
            idx = self.tree_index(from_hex(p.oid), node.tracked, p)
            sub = rel[len(node.tracked) + 1 :] if rel != node.tracked else ""
            return [self.resolve(join(n)) for n in sorted(idx.children.get(sub, {}))]
        if self.sha is not None:
            names = self.git_tree.children.get(rel, {})
            self.pointers.load([join(n) for n, k in names.items() if k == TRACKED])
            return [self.resolve(join(n)) for n in sorted(names) if not (rel == "" and n == ".dvx")]
        try:
            entries = list(os.scandir(self.root / rel if rel else self.root))
        except OSError:
            raise self.not_found(rel) from None
        seen: set[str] = set()
        for e in entries:
            n = e.name
            if n == ".git" or (rel == "" and n == ".dvx"):
                continue
            if n.endswith(ptr.SUFFIX) and e.is_file():
                n = n[: -len(ptr.SUFFIX)]  # the tracked path, listed even when not checked out
            seen.add(n)
        out: list[Node] = []
        for n in sorted(seen):
            with contextlib.suppress(FileNotFoundError):
                out.append(self.resolve(join(n)))
        return out

    def walk_files(self, path: str | os.PathLike[str]) -> Iterator[Node]:
        """Every file at or below ``path`` (each directory's files in name order)."""
        node = self.resolve(path)
        if node.kind == FILE:
            yield node
            return
        stack = [node]
        while stack:
            kids = self.ls(stack.pop().path)
            stack.extend(k for k in reversed(kids) if k.kind == DIRECTORY)
            yield from (k for k in kids if k.kind == FILE)

    # -------------------------------------------------------------- objects
    def fill(self, oids: list[bytes], what: str) -> None:
        """Fetch the objects of ``oids`` the local cache lacks from the remote into the cache."""
        self._filler.fill(oids, what)

    def get_object(self, oid: bytes, what: str) -> bytes:
        """A verified object from the cache, fetched from the remote first when missing."""
        if not self.cache.has(oid):
            self.fill([oid], what)
        return self.cache.get(oid)

    def file_manifest(self, oid: bytes, what: str) -> FileManifest:
        if not self.cache.has(oid):
            self.fill([oid], what)
        return self.cache.get_file_manifest(oid)

    def tree_index(self, oid: bytes, tracked: str, p: ptr.Pointer) -> TreeIndex:
        """The tree of the directory pointer ``p``, checked to agree with it on size and file count."""
        with self._lock:
            idx = self._trees.get(oid)
        if idx is None:
            what = self.describe(tracked)
            if not self.cache.has(oid):
                self.fill([oid], what)
            try:
                idx = TreeIndex(self.cache.get_tree_manifest(oid))
            except UnsafePathError as e:  # a crafted tree: name the dataset that led to it
                raise UnsafePathError(f"{what}: {e.message}", e.hint) from None
            with self._lock:
                self._trees[oid] = idx
        if idx.size != p.size or idx.nfiles != p.files:
            # As checkout does: a pointer that misstates its tree is damaged or crafted.
            raise CorruptObjectError(
                f"{self.describe(tracked)}: the pointer says size {p.size} and {p.files} files, but its tree "
                f"lists {idx.size} bytes and {idx.nfiles} files",
                "the pointer or the objects it names were damaged or tampered with; restore the pointer "
                "from a trusted commit (`git checkout COMMIT -- PATH.dvx`)",
            )
        return idx

    def file_data(self, node: Node) -> FileData:
        """Chunk map of a tracked file (shared by all reads of it in this view)."""
        assert node.oid is not None and node.kind == FILE
        with self._lock:
            d = self._data.get(node.oid)
            if d is not None:
                self._data.move_to_end(node.oid)
                return d
        what = self.describe(node.path)
        d = FileData(self.cache, self.file_manifest(node.oid, what), what, self.fill, self.stats)
        if d.size != node.size:
            raise CorruptObjectError(
                f"{d.what}: manifest {node.oid.hex()[:12]} lists {d.size} bytes, its pointer or tree entry says "
                f"{node.size}",
                "the pointer or the manifest was damaged or tampered with; nothing was returned",
            )
        with self._lock:
            d = self._data.setdefault(node.oid, d)
            while len(self._data) > _MANIFESTS_MAX:
                self._data.popitem(last=False)
        return d

    def _blob(self, blob: str) -> bytes:
        with self._lock:
            hit = self._blobs.get(blob)
            if hit is not None:
                self._blobs.move_to_end(blob)
                return hit
        data = scm.read_blob(self.root, blob)
        with self._lock:
            self._blobs[blob] = data
            total = sum(len(b) for b in self._blobs.values())
            while total > _BLOB_CACHE_BYTES and len(self._blobs) > 1:
                total -= len(self._blobs.popitem(last=False)[1])
        return data

    def mtime(self, node: Node) -> float:
        """Seconds since the epoch: the commit time at a revision; in the workspace the file's
        mtime (its pointer's for tracked data that is not checked out)."""
        if self.sha is not None:
            if self._commit_time is None:
                self._commit_time = scm.commit_time(self.root, self.sha)
            return self._commit_time
        candidates = [node.local] if node.local else []
        if node.tracked is not None:
            candidates.append(str(self.root / (node.tracked + ptr.SUFFIX)))
        for c in candidates:
            with contextlib.suppress(OSError):
                return os.stat(c).st_mtime
        return 0.0

    # -------------------------------------------------------------- reads
    def local_path(self, node: Node) -> str | None:
        """The workspace file or directory to read directly for ``node``, if it is still the right content."""
        return local_path(node)

    def read(self, node: Node, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of a file node (clipped to its size)."""
        if node.kind != FILE:
            raise IsADirectoryError(f"{node.path}: is a directory ({self.label})")
        end = min(end, node.size) if node.source != "workspace" else end
        if start >= end:
            return b""
        local = local_path(node)
        if local is not None:
            with open(local, "rb", buffering=0) as f:
                return os.pread(f.fileno(), end - start, start)
        if node.source == "git":
            assert node.blob is not None
            return self._blob(node.blob)[start:end]
        return self.file_data(node).read(start, end)

    def open(self, node: Node, arrow: bool = False) -> io.RawIOBase:
        """A seekable binary file of a file node (the workspace file itself when it can be read directly).

        ``arrow``: reads of tracked data return ``pyarrow.Buffer`` s filled by
        a few threads (for ``pyarrow.PythonFile``) instead of bytes.
        """
        if node.kind != FILE:
            raise IsADirectoryError(f"{node.path}: is a directory ({self.label})")
        local = local_path(node)
        if local is not None:
            return open(local, "rb", buffering=0)  # noqa: SIM115 - returned to the caller
        if node.source == "dvx":
            data = self.file_data(node)
            if arrow:
                return VersionedFile(data.read_buffer, node.size, self.describe(node.path))
            return VersionedFile(data.read, node.size, self.describe(node.path), data.read_into)
        return VersionedFile(lambda s, e: self.read(node, s, e), node.size, self.describe(node.path))

    def materialize(self, node: Node, dest: str | os.PathLike[str]) -> str:
        """Write ``node`` (file or directory) under the folder ``dest``; returns the written path."""
        target = os.path.join(os.fspath(dest), node.name or "root")
        files = [node] if node.kind == FILE else list(self.walk_files(node.path))
        for f in files:
            out = target if node.kind == FILE else os.path.join(target, f.path[len(node.path) + 1 :] if node.path else f.path)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with self.open(f) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 8 << 20)
        if node.kind == DIRECTORY:
            os.makedirs(target, exist_ok=True)
        return target
