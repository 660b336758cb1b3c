"""Copy-on-write clones of pack ranges into a file being checked out (``FICLONERANGE``, Linux).

On btrfs and XFS (reflink=1) a range of one file can share the other's disk
blocks: checkout then writes no data and the work tree costs no extra space
until it is changed. A clone needs source and destination offsets and the
length in whole file-system blocks, so a file's bytes can be cloned where
its chunks lie in one uncompressed pack, one after another, at pack offsets
congruent to their file offsets modulo the block size (``runs``). The
first pack of a file added on its own starts at offset 0: that pack's part
of the file qualifies; later packs start at an arbitrary file offset and
qualify only by chance (docs/cache.md, "Clones").

Every chunk is still read and verified against its id, as a copying
checkout does; only the bytes outside the cloned blocks are written. A
file system that cannot clone (EOPNOTSUPP, EXDEV, EINVAL, ENOTTY, ...) is
remembered for the process and the file is copied.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import sys
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

from dvx._fsutil import create_tmp
from dvx.errors import CorruptObjectError
from dvx.store.layout import pack_path
from dvx.store.objects import FileManifest
from dvx.store.store import ObjectStore

# _IOW(0x94, 13, struct file_clone_range): {s64 src_fd; u64 src_offset; u64 src_length; u64 dest_offset}
FICLONERANGE = 0x4020940D
_RANGE = struct.Struct("=qQQQ")
_CANNOT = {errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS, errno.EPERM, errno.EBADF}
# Laid out for clones (``store.align``): files at least this big start a chunk pack of their own and stay
# in it up to ALIGN_MAX_PACK (a file cut into several packs clones only its first: module docstring).
ALIGN_MIN = 4 << 20
ALIGN_MAX_PACK = 4 << 30
_enabled: weakref.WeakKeyDictionary[ObjectStore, int] = weakref.WeakKeyDictionary()  # store -> block size, -1: unknown
_refused: set[tuple[int, int]] = set()  # (st_dev of the cache, st_dev of the work tree) that cannot clone
_probed: dict[int, int] = {}  # st_dev -> block size when that file system clones, else 0


@dataclass(frozen=True)
class Run:
    """File bytes ``[dest, dest + length)`` lie at ``[src, src + length)`` of one pack, raw and contiguous."""

    pack: bytes
    src: int
    dest: int
    length: int


def runs(store: ObjectStore, m: FileManifest) -> list[Run]:
    """The maximal runs of ``m``'s chunks that lie raw, in order, one after another in one pack."""
    out: list[Run] = []
    cur: Run | None = None
    off = 0
    for ref in m.chunks:
        rec = store.record(ref.oid)
        if rec is None or rec.compressed or rec.stored != ref.size:
            if cur is not None:
                out.append(cur)
            cur = None
        elif cur is not None and rec.pack == cur.pack and rec.offset == cur.src + cur.length:
            cur = Run(cur.pack, cur.src, cur.dest, cur.length + ref.size)
        else:
            if cur is not None:
                out.append(cur)
            cur = Run(rec.pack, rec.offset, off, ref.size)
        off += ref.size
    if cur is not None:
        out.append(cur)
    return out


def clonable(run: Run, block: int) -> tuple[int, int] | None:
    """The destination range ``[a, b)`` of ``run`` that whole blocks can clone, or None."""
    if (run.src - run.dest) % block:
        return None
    a = -(-run.dest // block) * block
    b = (run.dest + run.length) // block * block
    return (a, b) if b > a else None


def _clone(src_fd: int, src: int, length: int, dest_fd: int, dest: int) -> None:
    import fcntl

    fcntl.ioctl(dest_fd, FICLONERANGE, _RANGE.pack(src_fd, src, length, dest))


def supported() -> bool:
    """Whether this platform has the clone call dvx uses (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "pwrite")


def probe(root: str) -> int:
    """The block size of ``root``'s file system when it can clone ranges (tried once per file system and
    process on two small temp files in ``root/tmp``), else 0."""
    if not supported():
        return 0
    try:
        dev = os.stat(root).st_dev
    except OSError:
        return 0
    if dev in _probed:
        return _probed[dev]
    got = 0
    tmpdir = os.path.join(root, "tmp")
    made: list[tuple[str, int]] = []
    try:
        os.makedirs(tmpdir, exist_ok=True)
        block = os.statvfs(tmpdir).f_bsize
        for _ in range(2):
            tmp, fd = create_tmp(os.path.join(tmpdir, "clone-probe"))
            made.append((str(tmp), fd))
        os.pwrite(made[0][1], b"\0" * block, 0)
        _clone(made[0][1], 0, block, made[1][1], 0)
        got = block
    except OSError:
        got = 0
    finally:
        for path, fd in made:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
    _probed[dev] = got
    return got


def enable(store: ObjectStore) -> None:
    """Let checkout clone from ``store`` and its writers lay large files out for clones, if its file
    system can (asked on first use: ``block_size``)."""
    _enabled.setdefault(store, -1)


def block_size(store: ObjectStore) -> int:
    """The block size of ``store`` when it is enabled and its file system clones, else 0."""
    got = _enabled.get(store, 0)
    if got < 0:
        got = _enabled[store] = probe(store.root)
    return got


def plan_file(store: ObjectStore, size: int, open_pack: int | None) -> tuple[bool, bool]:
    """For a writer about to store the chunks of a file of ``size`` bytes, with a chunk pack of
    ``open_pack`` bytes open (None: none): (finish that pack first, keep this file in one pack).
    Laid out for clones only in a raw local store on a file system that clones (probed on first use)."""
    if not store.local or store.compression is not None or store not in _enabled:
        return False, False
    align = block_size(store)
    if not align:
        return False, False
    big = size >= ALIGN_MIN
    full = open_pack is not None and (open_pack >= store.pack_size or (big and open_pack % align != 0))
    return full, big


def write_cloned(store: ObjectStore, m: FileManifest, fd: int, name: str) -> int | None:
    """Write the file ``m`` to the empty open file ``fd``, cloning what ``runs`` allow; the bytes cloned.
    None (nothing written) when no block can be cloned: the caller copies the file as usual."""
    if not (store.local and supported()):
        return None
    size = block_size(store)  # 0: clones are off or the cache's file system does not clone
    if not size or m.size < size:
        return None
    devs = (os.stat(store.root).st_dev, os.fstat(fd).st_dev)
    if devs in _refused:
        return None
    todo = [(r, c) for r in runs(store, m) if (c := clonable(r, size)) is not None]
    if not todo:
        return None
    cloned: list[tuple[int, int]] = []
    for run, (a, b) in todo:
        src_fd = os.open(pack_path(store.root, run.pack), os.O_RDONLY | os.O_CLOEXEC)
        try:
            _clone(src_fd, run.src + (a - run.dest), b - a, fd, a)
        except OSError as e:
            if e.errno not in _CANNOT:
                raise
            if not cloned:
                _refused.add(devs)
                return None
            break  # what is cloned stays; the rest is written
        finally:
            os.close(src_fd)
        cloned.append((a, b))
    # Every chunk is read and verified; only what no clone covers is written.
    off = 0
    for data in _verified(store, m, name):
        end = off + len(data)
        for lo, hi in _gaps(off, end, cloned):
            os.pwrite(fd, memoryview(data)[lo - off : hi - off], lo)
        off = end
    os.ftruncate(fd, m.size)
    return sum(b - a for a, b in cloned)


def _gaps(lo: int, hi: int, covered: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The parts of ``[lo, hi)`` outside the sorted, disjoint ``covered`` ranges."""
    for a, b in covered:
        if b <= lo or a >= hi:
            continue
        if a > lo:
            yield lo, a
        lo = max(lo, b)
        if lo >= hi:
            return
    if lo < hi:
        yield lo, hi


def _verified(store: ObjectStore, m: FileManifest, name: str) -> Iterator[bytes]:
    for ref in m.chunks:
        data = store.get(ref.oid)
        if len(data) != ref.size:
            raise CorruptObjectError(
                f"{name}: chunk {ref.oid.hex()} is {len(data)} bytes in {store.where}, its manifest says {ref.size}",
                "the manifest and the stored chunk disagree (damaged or tampered with)",
            )
        yield data
