"""Object kinds and the two manifest encodings (docs/format.md, "Manifests").

A file is a list of chunk references (``FileManifest``); a directory is a
sorted list of files (``TreeManifest``). Both encode to a small, versioned,
magic-prefixed binary form whose xxh3-128 is their object id, so equal
content always gets the same id.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from itertools import starmap

from dvx._paths import first_path_problem
from dvx.hashing import ID_BYTES, hash_bytes
from dvx.store.limits import MAX_CHUNK, MAX_MANIFEST

FILE_MAGIC = b"DVXF"
TREE_MAGIC = b"DVXT"
MANIFEST_VERSION = 1

# magic 4s | version u16 | flags u16 | count u64 | total size u64
_MANIFEST_HEAD = struct.Struct("<4sHHQQ")
# FileManifest record: chunk id 16s | chunk size u32 (chunks are <= max_size, far below 4 GiB)
_CHUNK_REC = struct.Struct("<16sI")
_CHUNK_ID = struct.Struct("<16s4x")
_CHUNK_SIZE = struct.Struct("<16xI")
# TreeManifest record head: file id 16s | size u64 | mode u8 | path length u32; then the path
_TREE_REC = struct.Struct("<16sQBI")
_MODE_EXEC = 0x01
_U64_MAX = 0xFFFFFFFFFFFFFFFF
# The most records a manifest within MAX_MANIFEST bytes can hold.
MAX_FILE_CHUNKS = (MAX_MANIFEST - _MANIFEST_HEAD.size) // _CHUNK_REC.size
MAX_TREE_FILES = (MAX_MANIFEST - _MANIFEST_HEAD.size) // (_TREE_REC.size + 1)


class ObjectType(enum.IntEnum):
    """What an object is; stored in pack headers and indexes (one byte)."""

    CHUNK = 0
    FILE = 1
    TREE = 2
    PROFILE = 3
    RESULT = 4


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """One chunk of a file: its id (xxh3-128 of its raw bytes) and length."""

    oid: bytes
    size: int


@dataclass(frozen=True)
class FileManifest:
    """The chunks of one file, in order; the file is their concatenation."""

    chunks: tuple[ChunkRef, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.chunks, tuple):
            object.__setattr__(self, "chunks", tuple(self.chunks))

    @property
    def size(self) -> int:
        """Length of the file in bytes (sum of the chunk sizes)."""
        return sum(c.size for c in self.chunks)

    def encode(self) -> bytes:
        """The canonical binary form (docs/format.md, "FileManifest")."""
        chunks = self.chunks
        for c in chunks:
            if len(c.oid) != ID_BYTES or not 0 <= c.size <= MAX_CHUNK:
                raise ValueError(f"invalid chunk reference {c!r}")
        head = _MANIFEST_HEAD.pack(FILE_MAGIC, MANIFEST_VERSION, 0, len(chunks), self.size)
        pack = _CHUNK_REC.pack
        return head + b"".join([pack(c.oid, c.size) for c in chunks])

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> FileManifest:
        """Parse ``encode()``'s output; ValueError saying what is wrong."""
        body = _file_body(data)
        return cls(tuple(starmap(ChunkRef, _CHUNK_REC.iter_unpack(body))))

    @property
    def oid(self) -> bytes:
        """The object id: xxh3-128 of ``encode()``."""
        return hash_bytes(self.encode())


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a tree: relative b"/"-separated path (os.fsencode'd), its manifest id, size, x bit."""

    path: bytes
    file_oid: bytes
    size: int
    executable: bool


class UnsafeTreePathError(ValueError):
    """A tree entry names a path dvx refuses to create (dvx._paths); ``path`` and ``reason`` say which and why."""

    def __init__(self, path: bytes, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"tree path {shown_path(path)} {reason}")


def shown_path(path: bytes) -> str:
    """A path for an error message: repr, cut to 100 characters (a crafted name may be 4 GiB)."""
    r = repr(path[:100])
    return r + f"... ({len(path)} bytes)" if len(path) > 100 else r


@dataclass(frozen=True)
class TreeManifest:
    """The files of a directory, sorted by path bytes; duplicates are rejected."""

    entries: tuple[TreeEntry, ...]

    def __post_init__(self) -> None:
        entries = tuple(sorted(self.entries, key=lambda e: e.path))
        paths = [e.path for e in entries]
        for p in paths:
            if not isinstance(p, bytes):
                raise ValueError(f"tree path must be bytes, got {type(p).__name__}")
        bad = first_path_problem(paths)
        if bad is not None:
            raise UnsafeTreePathError(*bad)
        for e in entries:
            if len(e.file_oid) != ID_BYTES or not 0 <= e.size <= _U64_MAX:
                raise ValueError(f"invalid tree entry {e!r}")
        files = set(paths)
        if len(files) != len(paths):
            dup = next(a for a, b in zip(paths, paths[1:], strict=False) if a == b)
            raise ValueError(f"duplicate tree path {dup!r}")
        # A path cannot be both a file and a directory ("a" and "a/b").
        dirs: set[bytes] = set()
        for p in paths:
            i = p.rfind(b"/")
            while i > 0:
                d = p[:i]
                if d in dirs:  # its parents were added with it
                    break
                dirs.add(d)
                i = p.rfind(b"/", 0, i)
        clash = files & dirs
        if clash:
            raise ValueError(f"tree path {min(clash)!r} is both a file and a directory")
        object.__setattr__(self, "entries", entries)

    @property
    def size(self) -> int:
        """Total bytes of all files."""
        return sum(e.size for e in self.entries)

    @property
    def nfiles(self) -> int:
        """Number of files."""
        return len(self.entries)

    def encode(self) -> bytes:
        """The canonical binary form (docs/format.md, "TreeManifest")."""
        total = self.size
        if total > _U64_MAX:
            raise ValueError(f"tree manifest: total size {total} does not fit in 64 bits")
        head = _MANIFEST_HEAD.pack(TREE_MAGIC, MANIFEST_VERSION, 0, len(self.entries), total)
        rec = _TREE_REC.pack
        parts = [head]
        for e in self.entries:
            parts.append(rec(e.file_oid, e.size, _MODE_EXEC if e.executable else 0, len(e.path)))
            parts.append(e.path)
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> TreeManifest:
        """Parse ``encode()``'s output; ValueError saying what is wrong."""
        count, total = _decode_head(data, TREE_MAGIC, "tree manifest")
        buf = bytes(data)
        pos = _MANIFEST_HEAD.size
        if count > (len(buf) - pos) // (_TREE_REC.size + 1):
            raise ValueError(f"tree manifest: truncated: {count} entries cannot fit in {len(buf)} bytes")
        unpack = _TREE_REC.unpack_from
        rsize = _TREE_REC.size
        entries = []
        for i in range(count):
            if pos + rsize > len(buf):
                raise ValueError(f"tree manifest: truncated at entry {i} of {count}")
            oid, size, mode, plen = unpack(buf, pos)
            pos += rsize
            if mode & ~_MODE_EXEC:
                raise ValueError(f"tree manifest: entry {i} has unknown mode bits {mode:#x}")
            if pos + plen > len(buf):
                raise ValueError(f"tree manifest: truncated path at entry {i} of {count}")
            entries.append(TreeEntry(buf[pos : pos + plen], oid, size, bool(mode & _MODE_EXEC)))
            pos += plen
        if pos != len(buf):
            raise ValueError(f"tree manifest: {len(buf) - pos} trailing bytes after {count} entries")
        paths = [e.path for e in entries]
        if any(a >= b for a, b in zip(paths, paths[1:], strict=False)):
            raise ValueError("tree manifest: entries are not sorted by path or have duplicates")
        m = cls(tuple(entries))
        if m.size != total:
            raise ValueError(f"tree manifest: size field {total} != sum of entry sizes {m.size}")
        return m

    @property
    def oid(self) -> bytes:
        """The object id: xxh3-128 of ``encode()``."""
        return hash_bytes(self.encode())


def _decode_head(data: bytes | bytearray | memoryview, magic: bytes, what: str) -> tuple[int, int]:
    if len(data) > MAX_MANIFEST:
        raise ValueError(f"{what}: {len(data)} bytes is over the {MAX_MANIFEST}-byte limit")
    if len(data) < _MANIFEST_HEAD.size:
        raise ValueError(f"{what}: {len(data)} bytes is shorter than the {_MANIFEST_HEAD.size}-byte header")
    got, version, flags, count, total = _MANIFEST_HEAD.unpack_from(data, 0)
    if got != magic:
        raise ValueError(f"{what}: bad magic {bytes(got)!r}, expected {magic!r}")
    if version != MANIFEST_VERSION:
        raise ValueError(f"{what}: version {version} is not supported (this dvx reads {MANIFEST_VERSION})")
    if flags:
        raise ValueError(f"{what}: unknown flags {flags:#x}")
    return count, total


def _file_body(data: bytes | bytearray | memoryview) -> memoryview:
    """The chunk records of a file manifest, every field checked; ValueError saying what is wrong."""
    count, total = _decode_head(data, FILE_MAGIC, "file manifest")
    if count > MAX_FILE_CHUNKS:
        raise ValueError(f"file manifest: {count} chunks is over the limit of {MAX_FILE_CHUNKS}")
    body = memoryview(data)[_MANIFEST_HEAD.size :]
    if len(body) != count * _CHUNK_REC.size:
        raise ValueError(f"file manifest: {count} chunks need {count * _CHUNK_REC.size} bytes, got {len(body)}")
    sizes = [r[0] for r in _CHUNK_SIZE.iter_unpack(body)]
    if sizes and max(sizes) > MAX_CHUNK:
        i = next(k for k, n in enumerate(sizes) if n > MAX_CHUNK)
        raise ValueError(f"file manifest: chunk {i} is {sizes[i]} bytes, over the {MAX_CHUNK}-byte limit")
    if sum(sizes) != total:
        raise ValueError(f"file manifest: size field {total} != sum of chunk sizes {sum(sizes)}")
    return body


def file_chunk_ids(data: bytes | bytearray | memoryview) -> list[bytes]:
    """The chunk ids a file manifest lists, with every check of ``FileManifest.decode`` but no
    objects built (gc's mark reads thousands); ValueError saying what is wrong."""
    n = len(data)
    if _MANIFEST_HEAD.size <= n <= MAX_MANIFEST:  # the checks of _file_body, inline (20,000 calls)
        magic, version, flags, count, total = _MANIFEST_HEAD.unpack_from(data, 0)
        if magic == FILE_MAGIC and version == MANIFEST_VERSION and not flags and n == _MANIFEST_HEAD.size + count * _CHUNK_REC.size:
            if count == 1:  # most files are one chunk
                size = _CHUNK_SIZE.unpack_from(data, _MANIFEST_HEAD.size)[0]
                if size == total and size <= MAX_CHUNK:
                    return [bytes(data[_MANIFEST_HEAD.size : _MANIFEST_HEAD.size + 16])]
            body = memoryview(data)[_MANIFEST_HEAD.size :]
            sizes = [r[0] for r in _CHUNK_SIZE.iter_unpack(body)]
            if sum(sizes) == total and (count == 0 or max(sizes) <= MAX_CHUNK):
                return [r[0] for r in _CHUNK_ID.iter_unpack(body)]
    return [r[0] for r in _CHUNK_ID.iter_unpack(_file_body(data))]  # raises, saying what is wrong


def tree_file_ids(data: bytes | bytearray | memoryview) -> list[bytes]:
    """The file manifest ids a tree manifest lists, its framing, mode bits and size field checked
    but not its paths (for gc's mark, which writes no path: ``TreeManifest.decode`` guards every
    path that reaches a disk); ValueError saying what is wrong."""
    count, total = _decode_head(data, TREE_MAGIC, "tree manifest")
    n = len(data)
    if count > (n - _MANIFEST_HEAD.size) // (_TREE_REC.size + 1):
        raise ValueError(f"tree manifest: truncated: {count} entries cannot fit in {n} bytes")
    unpack = _TREE_REC.unpack_from
    rsize = _TREE_REC.size
    pos, size_sum, ids = _MANIFEST_HEAD.size, 0, []
    for i in range(count):
        if pos + rsize > n:
            raise ValueError(f"tree manifest: truncated at entry {i} of {count}")
        oid, size, mode, plen = unpack(data, pos)
        if mode & ~_MODE_EXEC:
            raise ValueError(f"tree manifest: entry {i} has unknown mode bits {mode:#x}")
        pos += rsize + plen
        if pos > n:
            raise ValueError(f"tree manifest: truncated path at entry {i} of {count}")
        ids.append(oid)
        size_sum += size
    if pos != n:
        raise ValueError(f"tree manifest: {n - pos} trailing bytes after {count} entries")
    if size_sum != total:
        raise ValueError(f"tree manifest: size field {total} != sum of entry sizes {size_sum}")
    return ids
