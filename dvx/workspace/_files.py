"""Reading workspace files into the store, and hashing them without storing."""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Container, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import xxhash

from dvx import _cdc
from dvx._fsutil import is_tmp_name
from dvx._paths import first_path_problem
from dvx.chunking import READ_SIZE, ChunkerParams, iter_chunks, iter_file_windows
from dvx.errors import FileReadError, UnsafePathError
from dvx.hashing import hash_bytes
from dvx.store.objects import ChunkRef, FileManifest, ObjectType, TreeEntry, TreeManifest
from dvx.workspace.dvxignore import BNAME, Ignore
from dvx.workspace.statcache import StatCache, stat_key

if TYPE_CHECKING:
    from dvx.store.writer import StoreWriter

SKIP_DIRS = {b".git", b".dvx"}
# Files at least this big are chunked on a second thread (iter_file_windows);
# below it the thread's start-up costs more than the overlap gains.
_THREADED_MIN = 16 << 20


@dataclass
class Hashed:
    """A file or tree turned into a manifest (stored or only hashed)."""

    oid: bytes
    size: int
    files: int
    chunks: int


def _chunk_file(abspath: bytes, size: int, params: ChunkerParams, writer: StoreWriter | None) -> FileManifest:
    if size < params.min_size:
        # One chunk by definition: skip the chunker for the common small file
        # (a 20k-file folder spends most of its time in per-file overhead).
        try:
            with open(abspath, "rb", buffering=0) as f:
                data = f.read()
        except OSError as e:
            raise FileReadError(f"{os.fsdecode(abspath)}: cannot read: {e.strerror or e}", "check the file's permissions") from e
        if len(data) >= params.min_size:
            size = len(data)  # grew since stat: fall through to the chunker
        else:
            if not data:
                return FileManifest(())
            cid = hash_bytes(data)
            if writer is not None:
                writer.put(cid, ObjectType.CHUNK, data)
            return FileManifest((ChunkRef(cid, len(data)),))
    refs: list[ChunkRef] = []
    append = refs.append
    if writer is not None:
        writer.begin_file(size)
    if size >= _THREADED_MIN:
        try:
            with open(abspath, "rb", buffering=0) as f:
                for block, cuts in iter_file_windows(f.fileno(), size, params, hash_bytes):
                    for start, end, cid in cuts:
                        if writer is not None:
                            writer.put(cid, ObjectType.CHUNK, block[start:end])
                        append(ChunkRef(cid, end - start))
        except OSError as e:
            shown = os.fsdecode(abspath)
            raise FileReadError(f"{shown}: cannot read: {e.strerror or e}", "check the file's permissions") from e
        return FileManifest(tuple(refs))
    # Small files are read in one go: a fixed 8 MiB read() would allocate
    # (and the kernel zero) 8 MiB per 4 KiB file.
    read_size = min(READ_SIZE, size + 1)
    try:
        with open(abspath, "rb", buffering=0) as f:
            for chunk in iter_chunks(f, params, read_size):
                cid = hash_bytes(chunk)
                if writer is not None:
                    writer.put(cid, ObjectType.CHUNK, chunk)
                append(ChunkRef(cid, len(chunk)))
    except OSError as e:
        shown = os.fsdecode(abspath)
        raise FileReadError(f"{shown}: cannot read: {e.strerror or e}", "check the file's permissions") from e
    return FileManifest(tuple(refs))


def hash_file(
    abspath: bytes,
    relkey: bytes,
    params: ChunkerParams,
    statcache: StatCache,
    writer: StoreWriter | None = None,
    known: Container[bytes] | None = None,
    st: os.stat_result | None = None,
) -> Hashed:
    """Manifest id of one file; stores its chunks when ``writer`` is given.

    The stat cache answers for unchanged files without reading them, unless a
    writer is given and the object is not in ``known`` (the store's index).
    ``st`` saves a second stat when the caller has one.
    """
    if st is None:
        try:
            st = os.stat(abspath, follow_symlinks=False)
        except OSError as e:
            raise FileReadError(f"{os.fsdecode(abspath)}: cannot stat: {e.strerror}") from e
    hit = statcache.get(relkey, st)
    if hit is not None and (writer is None or (known is not None and hit[0] in known)):
        return Hashed(hit[0], st.st_size, 1, hit[1])
    statcache.clock()  # taken before the first read (statcache.py, "Racy entries")
    m = _chunk_file(abspath, st.st_size, params, writer)
    oid = m.oid
    if writer is not None:
        writer.put_manifest(m)
    try:
        st2 = os.stat(abspath, follow_symlinks=False)
    except OSError:
        st2 = None
    # Recorded only when the file did not change while it was read.
    if st2 is not None and stat_key(st2) == stat_key(st):
        statcache.put(relkey, st2, oid, len(m.chunks))
    return Hashed(oid, m.size, 1, len(m.chunks))


def walk_files(
    top: bytes, debris: list[bytes] | None = None, ignore: Ignore | None = None
) -> Iterator[tuple[bytes, bytes, os.stat_result]]:
    """(relative path, absolute path, stat) of regular files under ``top``.

    Symlinks and special files are not followed or stored (documented in
    docs/cli.md); ``.git`` and ``.dvx`` folders are skipped, and so are dvx
    temp files (``_fsutil.is_tmp_name``), whose absolute paths are appended
    to ``debris`` when given. Paths a ``.dvxignore`` excludes are skipped
    (``dvxignore``): the files inside ``top`` always count, the repository's
    files above it only through ``ignore`` (``Ignore.outer``).
    """
    # A copy: the walk adds the rules of the .dvxignore files it meets.
    ign = Ignore(list(ignore.specs), ignore.salt) if ignore is not None else Ignore()
    stack = [b""]
    while stack:
        rel = stack.pop()
        base = top + b"/" + rel if rel else top
        try:
            it = list(os.scandir(base))
        except OSError as e:
            raise FileReadError(f"{os.fsdecode(base)}: cannot list: {e.strerror}") from e
        active = bool(ign.specs)
        if any(ent.name == BNAME and ent.is_file(follow_symlinks=False) for ent in it):
            active = ign.enter(top, rel)
        for ent in it:
            r = rel + b"/" + ent.name if rel else ent.name
            if ent.is_symlink():
                continue
            if ent.is_dir():
                if ent.name not in SKIP_DIRS and not (active and ign.ignored(r, True)):
                    stack.append(r)
            elif ent.is_file():
                if active and ign.ignored(r, False):
                    continue
                if is_tmp_name(ent.name):
                    if debris is not None:
                        debris.append(ent.path)
                    continue
                try:
                    st = ent.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat_mod.S_ISREG(st.st_mode):
                    yield r, ent.path, st


def hash_tree(
    top: bytes,
    relkey: bytes,
    params: ChunkerParams,
    statcache: StatCache,
    writer: StoreWriter | None = None,
    known: Container[bytes] | None = None,
    files: list[tuple[bytes, bytes, os.stat_result]] | None = None,
    ignore: Ignore | None = None,
) -> tuple[Hashed, TreeManifest]:
    """TreeManifest of the directory ``top``; stores contents when ``writer`` is given.

    ``files`` is ``walk_files``' answer when the caller has it; else the walk
    runs here with the outer ``.dvxignore`` rules ``ignore``.
    """
    entries: list[TreeEntry] = []
    chunks = 0
    files = files if files is not None else list(walk_files(top, ignore=ignore))
    # Refused before anything is stored: a tree holding it could never be checked out.
    bad = first_path_problem([rel for rel, _ap, _st in files])
    if bad is not None:
        raise UnsafePathError(
            f"{os.fsdecode(top + b'/' + bad[0])}: dvx cannot store this name: it {bad[1]}",
            "rename it, then run `dvx add` again",
        )
    for rel, ap, st in files:
        h = hash_file(ap, relkey + b"/" + rel, params, statcache, writer, known, st)
        entries.append(TreeEntry(rel, h.oid, h.size, bool(st.st_mode & 0o100)))
        chunks += h.chunks
    tree = TreeManifest(tuple(entries))
    if writer is not None:
        writer.put_manifest(tree)
    return Hashed(tree.oid, tree.size, tree.nfiles, chunks), tree



class TreeStat(NamedTuple):
    """A tree's stat signature and the newest mtime/ctime of its files (ns)."""

    sig: bytes
    newest: int


def tree_signature(top: bytes, salt: bytes = b"") -> TreeStat:
    """xxh3-128 over every file's (path, size, mtime_ns, ctime_ns, inode, mode) below ``top``.

    The walk and the stats run in C (``dvx._cdc.scan_tree``: 20k files in
    ~30 ms; dvx temp files are skipped as ``walk_files`` skips them). Equal
    signatures mean no file was added, removed, renamed, written or touched
    since the tree was last hashed, so ``status`` answers without building
    the tree or consulting the per-file stat cache. ``newest`` lets the stat
    cache tell racy signatures (statcache.py). ``salt`` (the outer
    ``.dvxignore`` files, ``Ignore.salt``) is hashed in too: a change to
    them changes which files the tree holds.
    """
    try:
        records, newest = _cdc.scan_tree(top)
    except OSError as e:
        raise FileReadError(f"{os.fsdecode(top)}: cannot list: {e.strerror}") from e
    return TreeStat(xxhash.xxh3_128_digest(records + salt if salt else records), newest)
