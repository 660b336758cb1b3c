"""Versioned reads: ``(repo, path, rev)`` -> what is there, and its bytes, without a checkout.

``open_view(repo, rev, remote)`` gives a :class:`RepoView`: one repository at
one revision. ``rev=None`` is the workspace (pointer files in the work tree);
any other revision is read from git (``git ls-tree`` once, pointer files with
``git cat-file``) without touching the work tree. A view resolves paths to
:class:`Node` s (dvx-tracked files and directories, files inside tracked
directories through their ``TreeManifest``, files git tracks itself, plain
workspace files) and reads byte ranges of them.

Reads of tracked data go through the local cache: a range ``[start, end)``
maps to the chunks covering it (chunk offsets from the ``FileManifest``,
bisect); chunks the cache lacks are fetched from the remote with ranged reads
of its packs (``ObjectStore.get_many``: coalesced and verified) and written to
the cache for reuse. Chunks adjacent in one raw local pack are read with one
``pread``; every chunk is hashed once per process before its bytes are
returned. A tracked path whose workspace copy is unchanged (per ``status``)
is read from the workspace file directly.

The Python API (``dvx.api``) and the ``dvx://`` filesystem (``dvx.fs``) are
thin layers over this module; ``arrow_filesystem(view)`` is the pyarrow
filesystem both use for datasets.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import weakref
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx import scm
from dvx.errors import CorruptObjectError, ObjectMissingError, PointerError, RemoteConfigError, UnsafePathError, UsageError
from dvx.hashing import from_hex, hash_bytes
from dvx.store.objects import FileManifest, ObjectType, TreeManifest
from dvx.store.pack import pack_path
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.statcache import stat_key

if TYPE_CHECKING:
    from dvx.remote import Remote
    from dvx.store.store import ObjectStore

__all__ = [
    "Node",
    "ReadStats",
    "RepoView",
    "VersionedFile",
    "arrow_filesystem",
    "open_view",
    "release_arrow",
    "repo_root",
]

FILE = "file"
DIRECTORY = "directory"

# Sequential reads of data that must come from the remote fetch ahead, doubling
# from 1 MiB to 32 MiB (one remote pack), so a stream of small reads makes a
# few large fills (one pack + index each) instead of one per chunk.
_AHEAD_MIN = 1 << 20
_AHEAD_MAX = 32 << 20
# Chunks hashed once per process (key: chunk id + pack id): 256k keys cover
# 16 GiB of 64 KiB chunks in ~30 MB.
_VERIFIED_MAX = 1 << 18
# Large local reads for pyarrow are split into pieces read in parallel
# (measured: 14 x 8.6 MiB reads 2-3x faster with 4 threads than one pread each).
_PIECE = 2 << 20
_READ_THREADS = 4
# Git blobs kept in memory for ranged reads of files git tracks.
_BLOB_CACHE_BYTES = 64 << 20
# Views at fixed commits are immutable and shared within the process.
_VIEWS_MAX = 16
_MANIFESTS_MAX = 256


@dataclass(frozen=True, slots=True)
class Node:
    """One path at a view's revision."""

    path: str  # repo-relative, "/"-separated; "" is the repository root
    kind: str  # FILE or DIRECTORY
    size: int
    source: str  # "dvx" (tracked data), "git" (a file git tracks, at a revision) or "workspace"
    oid: bytes | None = None  # FileManifest id (dvx files) or TreeManifest id (tracked directories)
    tracked: str | None = None  # the tracked path whose pointer names this node
    blob: str | None = None  # git blob id (git files at a revision)
    local: str | None = None  # workspace copy to read directly
    stamp: tuple[int, ...] | None = None  # stat_key of ``local`` when it was found unchanged (ctime: a restored mtime is not enough)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass
class ReadStats:
    """What reads of one view fetched from its remote (for benchmarks and tests)."""

    fills: int = 0  # fetches from the remote (each writes one pack + index to the cache)
    objects: int = 0
    raw_bytes: int = 0
    local_bytes: int = 0  # bytes served from the local cache
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


# ------------------------------------------------------------------ repositories

_clone_lock = threading.Lock()
_clones: dict[str, Path] = {}
_clone_dirs: list[str] = []
_atexit_done: list[bool] = []
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[\w.-]+@[\w.-]+:")


def _cleanup_clones() -> None:
    """Remove the temporary clones of this process (at exit)."""
    with _clone_lock:
        for d in _clone_dirs:
            shutil.rmtree(d, ignore_errors=True)
        _clone_dirs.clear()
        _clones.clear()


def _is_bare(path: str) -> bool:
    p = Path(path)
    return p.is_dir() and not (p / ".git").exists() and (p / "HEAD").is_file() and (p / "objects").is_dir()


def _clone(url: str) -> Path:
    """A clone of ``url`` in a temporary directory, made once per process (as dvc.api does)."""
    with _clone_lock:
        hit = _clones.get(url)
        if hit is not None:
            return hit
        if not _atexit_done:
            atexit.register(_cleanup_clones)
            _atexit_done.append(True)
        base = tempfile.mkdtemp(prefix="dvx-clone-")
        _clone_dirs.append(base)
        dest = os.path.join(base, "repo")
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
        cp = subprocess.run(["git", "clone", "--quiet", "--", url, dest], capture_output=True, env=env, check=False)
        if cp.returncode != 0:
            msg = cp.stderr.decode(errors="replace").strip().splitlines()
            raise UsageError(
                f"{url}: cannot clone: {msg[-1] if msg else 'git clone failed'}",
                "check the URL and that git can reach it (`git ls-remote URL`)",
            )
        _clones[url] = Path(dest)
        return _clones[url]


def repo_root(repo: str | os.PathLike[str] = ".") -> Path:
    """The work tree of ``repo``: a local path (any folder inside it), or a clone of a git URL or bare repository."""
    s = os.fspath(repo)
    if _URL.match(s) or _is_bare(s):
        return _clone(s)
    return Workspace.find(s).root


def _resolve_sha(root: Path, rev: str) -> str:
    try:
        return scm.resolve_rev(root, rev)
    except UsageError:
        # A branch of the cloned repository is a remote-tracking branch in a
        # clone (as `git checkout BRANCH` guesses).
        with contextlib.suppress(UsageError):
            return scm.resolve_rev(root, f"origin/{rev}")
        raise


_views_lock = threading.Lock()
_views: OrderedDict[tuple[str, str, str, str | None], RepoView] = OrderedDict()
_stores: dict[str, ObjectStore] = {}


def open_view(repo: str | os.PathLike[str] = ".", rev: str | None = None, remote: str | None = None) -> RepoView:
    """A view of ``repo`` at ``rev`` (None: the workspace, read fresh on every call).

    Views at a commit are shared within the process: what a commit names never changes.
    """
    root = repo_root(repo)
    if rev is None:
        return RepoView(root, None, None, remote)
    rev = str(rev)
    sha = _resolve_sha(root, rev)
    # Keyed by the name asked for too: errors name the revision as the caller wrote it.
    key = (str(root), rev, sha, remote)
    with _views_lock:
        view = _views.get(key)
        if view is not None:
            _views.move_to_end(key)
            return view
    view = RepoView(root, rev, sha, remote)
    with _views_lock:
        view = _views.setdefault(key, view)
        while len(_views) > _VIEWS_MAX:
            _views.popitem(last=False)
    return view


def _shared_cache(ws: Workspace) -> ObjectStore:
    """One cache store per repository in the process: its index is loaded once."""
    key = str(ws.cache_dir)
    with _views_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = ws.cache
        return store


_fill_locks: dict[str, threading.Lock] = {}


def _fill_lock(cache_root: str) -> threading.Lock:
    """One fill at a time per cache in this process (other processes may fill concurrently: packs are atomic)."""
    with _views_lock:
        return _fill_locks.setdefault(cache_root, threading.Lock())


# ------------------------------------------------------------------ git trees


class _GitTree:
    """Every file of one commit: ``git ls-tree -r -l`` parsed once."""

    def __init__(self, root: Path, sha: str) -> None:
        out = scm.git(root, "ls-tree", "-r", "-z", "-l", "--full-tree", sha)
        files: dict[str, tuple[str, int]] = {}
        for rec in out.split(b"\0"):
            if not rec:
                continue
            meta, _, name = rec.partition(b"\t")
            parts = meta.split()
            if len(parts) != 4 or parts[1] != b"blob":
                continue  # submodules (commits) have no content here
            size = int(parts[3]) if parts[3].isdigit() else 0
            files[os.fsdecode(name)] = (parts[2].decode(), size)
        self.files = files
        self.pointers = {p[: -len(ptr.SUFFIX)] for p in files if p.endswith(ptr.SUFFIX) and not p.startswith(".dvx/")}
        self._children: dict[str, dict[str, str]] | None = None

    @property
    def children(self) -> dict[str, dict[str, str]]:
        """dir -> {name: FILE | DIRECTORY} (pointer files listed as their tracked path)."""
        if self._children is None:
            ch: dict[str, dict[str, str]] = {"": {}}
            for path in self.files:
                if path.endswith(ptr.SUFFIX) and path[: -len(ptr.SUFFIX)] in self.pointers:
                    path = path[: -len(ptr.SUFFIX)]
                    kind = "tracked"
                else:
                    kind = FILE
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
            self._children = ch
        return self._children


class _TreeIndex:
    """A TreeManifest as path -> entry and dir -> children."""

    def __init__(self, tree: TreeManifest) -> None:
        self.size = tree.size
        self.nfiles = tree.nfiles
        self.files = {os.fsdecode(e.path): e for e in tree.entries}
        ch: dict[str, dict[str, str]] = {"": {}}
        for path in self.files:
            parent, _, name = path.rpartition("/")
            ch.setdefault(parent, {})[name] = FILE
            while parent:
                up, _, dname = parent.rpartition("/")
                d = ch.setdefault(up, {})
                if dname in d:
                    break
                d[dname] = DIRECTORY
                parent = up
        self.children = ch


# ------------------------------------------------------------------ the view


class RepoView:
    """One repository at one revision (``sha=None``: the workspace)."""

    def __init__(self, root: Path, rev: str | None, sha: str | None, remote: str | None = None) -> None:
        self.root = Path(root)
        self.rev = rev
        self.sha = sha
        self.remote_name = remote
        self.ws = Workspace(self.root)
        self.cache = _shared_cache(self.ws)
        self.stats = ReadStats()
        self._lock = threading.RLock()
        self._git: _GitTree | None = None
        self._pointers: dict[str, ptr.Pointer] = {}
        self._nodes: dict[str, Node] = {}
        self._local: dict[str, tuple[str, tuple[int, ...]] | None] = {}
        self._trees: dict[bytes, _TreeIndex] = {}
        self._data: OrderedDict[bytes, _FileData] = OrderedDict()
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._remote: Remote | None = None
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
    def git_tree(self) -> _GitTree:
        if self._git is None:
            assert self.sha is not None
            self._git = _GitTree(self.root, self.sha)
        return self._git

    def _is_tracked(self, rel: str) -> bool:
        if not rel:
            return False
        if self.sha is not None:
            return rel in self.git_tree.pointers
        return os.path.isfile(self.root / (rel + ptr.SUFFIX))

    def pointer(self, tracked: str) -> ptr.Pointer:
        """The pointer of ``tracked`` at this revision; FileNotFoundError when there is none."""
        with self._lock:
            hit = self._pointers.get(tracked)
        if hit is not None:
            return hit
        pp = tracked + ptr.SUFFIX
        # The pointer names a path dvx may materialise; refuse .git/.dvx and
        # the like here too (dvx._paths), at a revision as in the workspace.
        ptr.check_tracked(tracked, f"{self.rev or self.sha}:{pp}" if self.sha else pp)
        if self.sha is None:
            try:
                p = ptr.load(self.root / pp, pp)
            except FileNotFoundError:
                raise self.not_found(tracked) from None
        else:
            if self.git_tree.files.get(pp) is None:
                raise self.not_found(tracked)
            self._load_pointers([tracked])
            return self.pointer(tracked)
        with self._lock:
            self._pointers[tracked] = p
        return p

    def _load_pointers(self, tracked: list[str]) -> None:
        """Parse the pointers of ``tracked`` at this commit with one ``git cat-file --batch``."""
        todo = [t for t in tracked if t not in self._pointers]
        if not todo:
            return
        files = self.git_tree.files
        blobs = scm.read_objects(self.root, [files[t + ptr.SUFFIX][0] for t in todo])
        got: dict[str, ptr.Pointer] = {}
        for t, blob in zip(todo, blobs, strict=True):
            source = f"{self.rev or self.sha}:{t}{ptr.SUFFIX}"
            if blob is None:  # a partial clone without the blob
                raise PointerError(source, None, "git has no object for this pointer file")
            got[t] = ptr.loads(blob[1], source)
        with self._lock:
            self._pointers.update(got)

    def _tracked_ancestor(self, rel: str) -> str | None:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            a = "/".join(parts[:i])
            if self._is_tracked(a):
                return a
        return None

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
        if self._is_tracked(rel):
            return self._tracked_node(rel)
        anc = self._tracked_ancestor(rel)
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
        first = rel.split("/", 1)[0]
        ap = self.root / rel
        if first == ".git":
            raise self.not_found(rel)
        try:
            st = os.stat(ap)
        except OSError:
            raise self.not_found(rel) from None
        if stat.S_ISDIR(st.st_mode):
            return Node(rel, DIRECTORY, 0, "workspace", local=str(ap))
        return Node(rel, FILE, st.st_size, "workspace", local=str(ap))

    def _tracked_node(self, rel: str) -> Node:
        p = self.pointer(rel)
        oid = from_hex(p.oid)
        local = self._local_copy(rel, p)
        kind = FILE if p.kind == "file" else DIRECTORY
        lp, stamp = local if local else (None, None)
        return Node(rel, kind, p.size, "dvx", oid=oid, tracked=rel, local=lp, stamp=stamp)

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
                    st = os.stat(lp)
                    stamp = stat_key(st)
                except OSError:
                    lp = None
            return Node(rel, FILE, e.size, "dvx", oid=e.file_oid, tracked=tracked, local=lp, stamp=stamp)
        if sub in idx.children:
            lp = os.path.join(local_root[0], sub) if local_root else None
            return Node(rel, DIRECTORY, 0, "dvx", tracked=tracked, local=lp)
        raise self.not_found(rel)

    def _local_copy(self, tracked: str, p: ptr.Pointer) -> tuple[str, tuple[int, ...]] | None:
        """The workspace copy of a tracked path when it matches its pointer (rev=None only)."""
        if self.sha is not None:
            return None
        with self._lock:
            if tracked in self._local:
                return self._local[tracked]
        ap = str(self.root / tracked)
        found: tuple[str, tuple[int, ...]] | None = None
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
            self._local[tracked] = found
        return found

    def _unchanged(self, tracked: str) -> bool:
        from dvx.workspace.status import UNCHANGED, status

        return status(self.ws, [tracked], has=lambda _oid: True).paths[0].state == UNCHANGED

    # -------------------------------------------------------------- listing
    def ls(self, path: str | os.PathLike[str]) -> list[Node]:
        """Children of a directory (a file lists as itself); pointer files are not listed."""
        node = self.resolve(path)
        if node.kind == FILE:
            return [node]
        rel = node.path
        join = (lambda n: f"{rel}/{n}") if rel else (lambda n: n)
        out: list[Node] = []
        if node.tracked is not None:
            p = self.pointer(node.tracked)
            idx = self.tree_index(from_hex(p.oid), node.tracked, p)
            sub = rel[len(node.tracked) + 1 :] if rel != node.tracked else ""
            names = idx.children.get(sub, {})
            return [self.resolve(join(n)) for n in sorted(names)]
        if self.sha is not None:
            names = self.git_tree.children.get(rel, {})
            tracked = [join(n) for n, k in names.items() if k == "tracked"]
            self._load_pointers(tracked)
            for n in sorted(names):
                if rel == "" and n == ".dvx":
                    continue
                out.append(self.resolve(join(n)))
            return out
        base = self.root / rel if rel else self.root
        try:
            entries = list(os.scandir(base))
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
            d = stack.pop()
            kids = self.ls(d.path)
            for k in reversed(kids):
                if k.kind == DIRECTORY:
                    stack.append(k)
            yield from (k for k in kids if k.kind == FILE)

    # -------------------------------------------------------------- objects
    def remote(self, what: str) -> Remote:
        """The remote reads fall back to; ObjectMissingError naming ``what`` when none is configured."""
        if self._remote is None:
            from dvx.remote import open_remote

            try:
                self._remote = open_remote(self.ws.config, self.remote_name)
            except RemoteConfigError as e:
                raise ObjectMissingError(
                    f"{what}: the data is not in the local cache and {e.message}",
                    "configure the remote the data was pushed to: `dvx remote add -d NAME URL`",
                ) from None
        return self._remote

    def fill(self, oids: list[bytes], what: str) -> None:
        """Fetch the objects of ``oids`` the local cache lacks from the remote into the cache."""
        cache = self.cache
        with _fill_lock(cache.root):
            need = cache.missing(oids)
            if need:
                cache.refresh()  # another process may have fetched them
                need = cache.missing(need)
            if not need:
                return
            rem = self.remote(what)
            from dvx.remote import translate_errors

            with translate_errors(rem):
                absent = rem.store.missing(need)
                if absent:
                    rem.store.refresh()
                    absent = rem.store.missing(absent)
                if absent:
                    raise ObjectMissingError(
                        f"{what}: {len(absent)} of its objects are neither in the local cache nor on remote {rem.label}",
                        "push the data from a clone that has it (`dvx push`), or pass remote=NAME",
                    )
                order = sorted(need)
                types = {o: rem.store.locate(o).otype for o in order}  # type: ignore[union-attr]
                raw_total = 0
                with cache.writer() as w:
                    for oid, raw in rem.store.get_many(order):
                        w.put(oid, ObjectType(types[oid]), raw)
                        raw_total += len(raw)
            with self.stats.lock:
                self.stats.fills += 1
                self.stats.objects += len(order)
                self.stats.raw_bytes += raw_total

    def get_object(self, oid: bytes, what: str) -> bytes:
        """A verified object from the cache, fetched from the remote first when missing."""
        if not self.cache.has(oid):
            self.fill([oid], what)
        return self.cache.get(oid)

    def file_manifest(self, oid: bytes, what: str) -> FileManifest:
        if not self.cache.has(oid):
            self.fill([oid], what)
        return self.cache.get_file_manifest(oid)

    def tree_index(self, oid: bytes, tracked: str, p: ptr.Pointer) -> _TreeIndex:
        """The tree of the directory pointer ``p``, checked to agree with it on size and file count."""
        with self._lock:
            idx = self._trees.get(oid)
        if idx is None:
            what = self.describe(tracked)
            if not self.cache.has(oid):
                self.fill([oid], what)
            try:
                idx = _TreeIndex(self.cache.get_tree_manifest(oid))
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

    def file_data(self, node: Node) -> _FileData:
        """Chunk map of a tracked file (shared by all reads of it in this view)."""
        assert node.oid is not None and node.kind == FILE
        with self._lock:
            d = self._data.get(node.oid)
            if d is not None:
                self._data.move_to_end(node.oid)
                return d
        d = _FileData(self, node.oid, self.describe(node.path))
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
        data = scm.git(self.root, "cat-file", "blob", blob)
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
            with self._lock:
                t = self._commit_time
            if t is None:
                t = float(scm.git(self.root, "show", "-s", "--format=%ct", self.sha).strip() or 0)
                with self._lock:
                    self._commit_time = t
            return t
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
        if node.local is None:
            return None
        if node.stamp is None or node.kind == DIRECTORY:
            return node.local
        try:
            st = os.stat(node.local)
        except OSError:
            return None
        return node.local if stat_key(st) == node.stamp else None

    def read(self, node: Node, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of a file node (clipped to its size)."""
        if node.kind != FILE:
            raise IsADirectoryError(f"{node.path}: is a directory ({self.label})")
        end = min(end, node.size) if node.source != "workspace" else end
        if start >= end:
            return b""
        local = self.local_path(node)
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
        parallel ``preadv`` (for ``pyarrow.PythonFile``) instead of bytes.
        """
        if node.kind != FILE:
            raise IsADirectoryError(f"{node.path}: is a directory ({self.label})")
        local = self.local_path(node)
        if local is not None:
            return open(local, "rb", buffering=0)  # noqa: SIM115 - returned to the caller
        size = node.size
        if node.source == "dvx":
            data = self.file_data(node)
            return VersionedFile(data.read_buffer if arrow else data.read, size, self.describe(node.path))
        return VersionedFile(lambda s, e: self.read(node, s, e), size, self.describe(node.path))

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


_verified_lock = threading.Lock()
# cache root -> chunk id + pack id of the chunks hashed by this process
_verified: dict[str, set[bytes]] = {}


def _verified_set(root: str) -> set[bytes]:
    with _verified_lock:
        return _verified.setdefault(root, set())


class _FileData:
    """One tracked file's chunks: offsets, cache locations; ranged reads with lazy remote fill."""

    def __init__(self, view: RepoView, oid: bytes, what: str) -> None:
        m = view.file_manifest(oid, what)
        self.view = view
        self.what = what
        self.oids = [c.oid for c in m.chunks]
        self.offsets = list(accumulate((c.size for c in m.chunks), initial=0))
        self.size = self.offsets[-1]
        # Per chunk: (pack id, offset, stored length, compressed) once located.
        self.locs: list[tuple[bytes, int, int, bool] | None] = [None] * len(self.oids)
        self._fds: dict[bytes, int] = {}
        self._seen = _verified_set(view.cache.root)
        self._lock = threading.Lock()
        self._last_end = -1
        self._ahead = 0

    def __del__(self) -> None:
        for fd in getattr(self, "_fds", {}).values():
            with contextlib.suppress(OSError):
                os.close(fd)

    def _fd(self, pack: bytes) -> int:
        fd = self._fds.get(pack)
        if fd is None:
            try:
                fd = os.open(pack_path(self.view.cache.root, pack), os.O_RDONLY)
            except FileNotFoundError:
                raise CorruptObjectError(
                    f"pack {pack.hex()} named by an index is missing from {self.view.cache.display_root}",
                    "run `dvx fetch` (or add the data again) to replace it",
                ) from None
            with self._lock:
                if pack in self._fds:
                    os.close(fd)
                    fd = self._fds[pack]
                else:
                    self._fds[pack] = fd
        return fd

    def _locate(self, i0: int, i1: int) -> list[int]:
        """Locate chunks ``i0..i1-1`` in the cache; the indexes still missing."""
        locate = self.view.cache.locate
        locs, oids, offs = self.locs, self.oids, self.offsets
        missing = []
        for k in range(i0, i1):
            if locs[k] is not None:
                continue
            e = locate(oids[k])
            if e is None:
                missing.append(k)
                continue
            # Raw chunks are read straight from the pack and compressed ones
            # sliced after decompression: either way a length the manifest
            # misstates would shift every later byte of the file.
            if e.raw_length != offs[k + 1] - offs[k] or (not e.compressed and e.length != e.raw_length):
                raise CorruptObjectError(
                    f"{self.what}: chunk {oids[k].hex()} is {e.raw_length} bytes in the cache, its manifest says "
                    f"{offs[k + 1] - offs[k]}",
                    "the manifest or the chunk was damaged or tampered with; nothing was returned",
                )
            locs[k] = (e.pack, e.offset, e.length, e.compressed)
        return missing

    def _ensure(self, i0: int, i1: int, end: int) -> None:
        missing = self._locate(i0, i1)
        if not missing:
            return
        ahead = self._ahead
        i2 = i1
        if ahead:
            i2 = min(len(self.oids), bisect_left(self.offsets, end + ahead))
            missing += self._locate(i1, i2)
        self.view.fill([self.oids[k] for k in missing], self.what)
        still = self._locate(i0, i2)
        if any(k < i1 for k in still):
            raise ObjectMissingError(
                f"{self.what}: chunks are missing from the cache after fetching them",
                "run `dvx fetch` and try again",
            )

    def _runs(self, start: int, end: int) -> list[tuple[int, int, bytes | None, int, int, int]]:
        """Where bytes ``[start, end)`` are: ``(i, j, pack, pack offset, file start, file end)`` per run.

        A run is chunks ``i..j-1`` stored raw and adjacent in one pack (one
        read), or one compressed chunk (``pack`` None: read through the store).
        Chunks missing locally are fetched first.
        """
        if start < 0:
            raise ValueError(f"negative offset {start}")
        # Sequential readers fetch ahead (see _AHEAD_MIN); random access does not.
        if start == self._last_end:
            self._ahead = min(max(self._ahead * 2, _AHEAD_MIN), _AHEAD_MAX)
        else:
            self._ahead = 0
        self._last_end = end
        offs, locs = self.offsets, self.locs
        i0 = bisect_right(offs, start) - 1
        i1 = bisect_left(offs, end)
        self._ensure(i0, i1, end)
        runs: list[tuple[int, int, bytes | None, int, int, int]] = []
        i = i0
        while i < i1:
            loc = locs[i]
            assert loc is not None
            pid, off, length, comp = loc
            if comp:
                runs.append((i, i + 1, None, 0, max(start, offs[i]), min(end, offs[i + 1])))
                i += 1
                continue
            j = i + 1
            nxt = off + length
            while j < i1:
                lj = locs[j]
                if lj is None or lj[0] != pid or lj[1] != nxt or lj[3]:
                    break
                nxt += lj[2]
                j += 1
            rs = max(start, offs[i])
            runs.append((i, j, pid, off + rs - offs[i], rs, min(end, offs[j])))
            i = j
        return runs

    def _compressed(self, i: int, rs: int, re_: int) -> bytes:
        raw = self.view.cache.get(self.oids[i])  # decompressed and verified
        return raw[rs - self.offsets[i] : re_ - self.offsets[i]]

    def _pread(self, fd: int, n: int, pos: int, pid: bytes) -> bytes:
        data = os.pread(fd, n, pos)
        if len(data) != n:
            raise self._truncated(pid)
        return data

    def _truncated(self, pid: bytes) -> CorruptObjectError:
        return CorruptObjectError(
            f"{self.what}: pack {pid.hex()} of {self.view.cache.display_root} is truncated",
            "run `dvx fetch` (or add the data again) to replace it",
        )

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the file, verified (one ``pread`` per run of adjacent chunks)."""
        end = min(end, self.size)
        if start >= end:
            return b""
        parts: list[bytes] = []
        for i, j, pid, pos, rs, re_ in self._runs(start, end):
            if pid is None:
                parts.append(self._compressed(i, rs, re_))
                continue
            fd = self._fd(pid)
            data = self._pread(fd, re_ - rs, pos, pid)
            self._verify(i, j, rs, re_, data, pid, fd)
            parts.append(data)
        self._count(end - start)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read_buffer(self, start: int, end: int) -> Any:
        """Bytes ``[start, end)`` as a ``pyarrow.Buffer`` from pyarrow's memory pool.

        Large reads are split into ``_PIECE`` pieces read by a few threads
        (``preadv`` releases the GIL): pyarrow serialises the reads of one
        Python file, so this is where its I/O parallelism comes back.
        """
        import pyarrow as pa

        end = min(end, self.size)
        n = max(0, end - start)
        buf = pa.allocate_buffer(n)
        if not n:
            return buf
        out = memoryview(buf).cast("B")
        runs = self._runs(start, end)
        pieces: list[tuple[int, int, int, int, bytes]] = []  # fd, pack offset, file start, file end, pack
        for i, _j, pid, pos, rs, re_ in runs:
            if pid is None:
                out[rs - start : re_ - start] = self._compressed(i, rs, re_)
                continue
            fd = self._fd(pid)
            for a in range(rs, re_, _PIECE):
                b = min(re_, a + _PIECE)
                pieces.append((fd, pos + a - rs, a, b, pid))

        def one(p: tuple[int, int, int, int, bytes]) -> None:
            fd, pos, a, b, pid = p
            if os.preadv(fd, [out[a - start : b - start]], pos) != b - a:
                raise self._truncated(pid)

        if len(pieces) > 1 and n >= 2 * _PIECE:
            list(_pool().map(one, pieces))
        else:
            for p in pieces:
                one(p)
        for i, j, pid, _pos, rs, re_ in runs:
            if pid is not None:
                self._verify(i, j, rs, re_, out[rs - start : re_ - start], pid, self._fd(pid))
        self._count(n)
        return buf

    def _count(self, n: int) -> None:
        with self.view.stats.lock:
            self.view.stats.local_bytes += n

    def _verify(self, i: int, j: int, rs: int, re_: int, data: bytes | memoryview, pid: bytes, fd: int) -> None:
        """Hash chunks ``i..j-1`` (read as one run from pack ``pid``) not verified before in this process."""
        offs, oids, locs = self.offsets, self.oids, self.locs
        seen = self._seen
        view = memoryview(data)
        done = []
        for k in range(i, j):
            key = oids[k] + pid
            if key in seen:
                continue
            cs, ce = offs[k], offs[k + 1]
            if cs >= rs and ce <= re_:
                blob: bytes | memoryview = view[cs - rs : ce - rs]
            else:  # partly read: hash the whole chunk
                loc = locs[k]
                assert loc is not None
                blob = self._pread(fd, ce - cs, loc[1], pid)
            if hash_bytes(blob) != oids[k]:
                raise CorruptObjectError(
                    f"{self.what}: chunk {oids[k].hex()} in pack {pid.hex()} of {self.view.cache.display_root} "
                    "is corrupt: its bytes do not match its id",
                    "run `dvx fetch` (or add the data again) to replace it",
                )
            done.append(key)
        if done:
            with _verified_lock:
                if len(seen) + len(done) > _VERIFIED_MAX:
                    seen.clear()
                seen.update(done)


_pool_lock = threading.Lock()
_pool_exec: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _pool_exec
    with _pool_lock:
        if _pool_exec is None:
            _pool_exec = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="dvx-read")
        return _pool_exec


class VersionedFile(io.RawIOBase):
    """A read-only seekable file over ``read_range(start, end)`` (bytes, or any buffer)."""

    def __init__(self, read_range: Any, size: int, name: str) -> None:
        super().__init__()
        self._read_range = read_range
        self._size = size
        self._pos = 0
        self.name = name
        self.mode = "rb"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            pos = offset
        elif whence == 1:
            pos = self._pos + offset
        elif whence == 2:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def read(self, size: int | None = -1) -> Any:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        if self._pos >= end:
            return b""
        data = self._read_range(self._pos, end)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return bytes(self.read(-1))

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        n = len(data)
        memoryview(b).cast("B")[:n] = data
        return n


# ------------------------------------------------------------------ pyarrow filesystem

_handler_cls: Any = None
# How long an error path waits for Arrow to let go of dvx files (a read in
# flight may be fetching a 32 MiB pack range from a remote).
_RELEASE_TIMEOUT = 60.0


class _ArrowFiles:
    """The dvx files one pyarrow filesystem handed to Arrow.

    Arrow reads ahead on its own I/O threads, which call back into Python.
    When a read fails, the caller's exception can reach the top and the
    interpreter start shutting down while such a thread is still inside a dvx
    read, and CPython then aborts the process (SIGABRT, issue 10 defect 7).
    ``release`` makes every later read fail at once, which stops Arrow's
    read-ahead, and waits until Arrow has dropped every file it was given.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._live = 0
        self.cancelled = False

    def track(self, f: VersionedFile) -> _ArrowHandle:
        """The object to hand to Arrow for ``f``; its reads fail once ``release`` was called."""
        read = f._read_range
        name = f.name

        def guarded(start: int, end: int) -> Any:
            if self.cancelled:
                raise OSError(f"{name}: read cancelled after an earlier error")
            return read(start, end)

        f._read_range = guarded
        handle = _ArrowHandle(f)
        with self._cv:
            self._live += 1
        weakref.finalize(handle, self._gone)
        return handle

    def _gone(self) -> None:
        with self._cv:
            self._live -= 1
            self._cv.notify_all()

    def release(self, timeout: float = _RELEASE_TIMEOUT) -> bool:
        """Cancel further reads and wait until no file is held by Arrow; False on timeout."""
        import gc

        deadline = time.monotonic() + timeout
        with self._cv:
            self.cancelled = True
        while True:
            with self._cv:
                if self._live <= 0:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
            gc.collect()  # a file kept alive only by a reference cycle (a traceback)


class _ArrowHandle:
    """What Arrow holds for one dvx file: that file's own bound methods.

    The traceback of a failed read (which the caller keeps while handling
    it) references the file and its reader, never this object, so this
    object dies exactly when Arrow lets go of the file.
    """

    __slots__ = ("__weakref__", "_file", "close", "read", "seek", "tell")
    mode = "rb"

    def __init__(self, f: VersionedFile) -> None:
        self._file = f
        self.read = f.read
        self.seek = f.seek
        self.tell = f.tell
        self.close = f.close

    @property
    def closed(self) -> bool:
        return self._file.closed


_arrow_files: weakref.WeakSet[_ArrowFiles] = weakref.WeakSet()


def release_arrow(fs: Any, timeout: float = _RELEASE_TIMEOUT) -> bool:
    """After an error, cancel the reads Arrow still runs on a dvx pyarrow filesystem and wait for them."""
    files = getattr(getattr(fs, "handler", None), "files", None)
    return files.release(timeout) if isinstance(files, _ArrowFiles) else True


def _release_all() -> None:
    # Last resort at exit (a dataset scan abandoned by its caller): no Arrow
    # thread may be inside a dvx read while the interpreter finalizes.
    for files in list(_arrow_files):
        files.release(5.0)


atexit.register(_release_all)


def arrow_filesystem(view: RepoView) -> Any:
    """A read-only ``pyarrow.fs.PyFileSystem`` over ``view`` (workspace copies opened natively).

    Call ``release_arrow(fs)`` when a read through it fails (see ``_ArrowFiles``).
    """
    global _handler_cls
    import pyarrow.fs as pafs

    if _handler_cls is None:
        _handler_cls = _make_handler(pafs)
    return pafs.PyFileSystem(_handler_cls(view))


def _make_handler(pafs: Any) -> Any:
    import pyarrow as pa

    def info(node: Node, path: str | None = None) -> Any:
        t = pafs.FileType.File if node.kind == FILE else pafs.FileType.Directory
        return pafs.FileInfo(path if path is not None else node.path, t, size=node.size if node.kind == FILE else None)

    class DvxArrowHandler(pafs.FileSystemHandler):
        """pyarrow's view of a RepoView (read-only)."""

        def __init__(self, view: RepoView) -> None:
            self.view = view
            self.files = _ArrowFiles()
            _arrow_files.add(self.files)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, DvxArrowHandler) and other.view is self.view

        def __ne__(self, other: object) -> bool:
            return not self == other

        def get_type_name(self) -> str:
            return "dvx"

        def normalize_path(self, path: str) -> str:
            return self.view.normpath(path)

        def equals(self, other: Any) -> bool:
            return self == other

        def get_file_info(self, paths: list[str]) -> list[Any]:
            out = []
            for p in paths:
                try:
                    out.append(info(self.view.resolve(p), p))
                except FileNotFoundError:
                    out.append(pafs.FileInfo(p, pafs.FileType.NotFound))
            return out

        def get_file_info_selector(self, selector: Any) -> list[Any]:
            try:
                base = self.view.resolve(selector.base_dir)
            except FileNotFoundError:
                if selector.allow_not_found:
                    return []
                raise
            if base.kind != DIRECTORY:
                raise NotADirectoryError(f"{selector.base_dir}: not a directory ({self.view.label})")
            out = []
            stack = [base.path]
            while stack:
                for n in self.view.ls(stack.pop()):
                    out.append(info(n))
                    if selector.recursive and n.kind == DIRECTORY:
                        stack.append(n.path)
            return out

        def _open(self, path: str) -> Any:
            node = self.view.resolve(path)
            local = self.view.local_path(node)
            if local is not None and node.kind == FILE:
                return pa.OSFile(local, "r")
            f: Any = self.view.open(node, arrow=True)
            if isinstance(f, VersionedFile):
                f = self.files.track(f)
            return pa.PythonFile(f, mode="r")

        def open_input_file(self, path: str) -> Any:
            return self._open(path)

        def open_input_stream(self, path: str) -> Any:
            return self._open(path)

        def _readonly(self, *_: Any) -> Any:
            raise PermissionError(f"the dvx filesystem is read-only ({self.view.label})")

        create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _readonly
        delete_file = move = copy_file = open_output_stream = open_append_stream = _readonly

    return DvxArrowHandler
