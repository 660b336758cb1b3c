"""Atomic file writes, dvx temp files and safe paths on the local filesystem.

Every write dvx makes goes through ``atomic_write``: a temp file in the same
directory, fsync, rename. A crash leaves either the old file or the new one,
never a half-written one.

Temp files are named ``.NAME.dvxtmp-<12 hex>`` (``is_tmp_name``) so every
part of dvx recognises them: add, status, tree hashing and checkout skip
them, and the next command that touches their folder removes the ones whose
writer is gone. A writer holds an exclusive ``flock`` on its temp file for as
long as the file exists under that name; the kernel drops it when the writer
dies, so "the lock can be taken" means "debris" without any clock or pid.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import stat as stat_mod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

TMP_MARK = ".dvxtmp-"
# ".NAME.dvxtmp-<12 hex>" (docs/format.md, "Temporary files"); _cdc.c's
# scan_tree applies the same rule.
_TMP_RE = re.compile(rb"\..*\.dvxtmp-[0-9a-f]{12}\Z", re.DOTALL)
# The gitignore pattern for them (written beside each tracked path's line by workspace.ignore).
TMP_GLOB = ".*" + TMP_MARK + "*"
# Names longer than this are cut in the temp name: NAME_MAX is 255 bytes and
# the temp name adds 22.
_NAME_KEEP = 200


def is_tmp_name(name: str | bytes) -> bool:
    """Whether a file name is a dvx temp file name (``.NAME.dvxtmp-<12 hex>``)."""
    return _TMP_RE.match(os.fsencode(name)) is not None


def tmp_name(target: str | os.PathLike[str]) -> Path:
    """A unique temp path beside ``target`` (same filesystem, so rename is atomic)."""
    t = Path(target)
    name = os.fsencode(t.name)[:_NAME_KEEP]
    return t.with_name(os.fsdecode(b"." + name) + TMP_MARK + secrets.token_hex(6))


def create_tmp(target: str | os.PathLike[str], mode: int = 0o666, dir_fd: int | None = None) -> tuple[Path, int]:
    """Create and lock a new temp file for ``target``: (its path, an fd open for reading and writing).

    The exclusive ``flock`` tells ``remove_if_stale`` that the writer is
    alive. A cleaner may delete the file between its creation and the lock;
    the inode check sees that and a new name is taken. With ``dir_fd``,
    ``target`` and the returned path are relative to that directory.
    """
    while True:
        tmp = tmp_name(target)
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, mode, dir_fd=dir_fd)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as e:
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                return tmp, fd  # no locks on this filesystem: cleaners leave it alone too
            try:
                if os.stat(tmp, dir_fd=dir_fd, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                    return tmp, fd
            except FileNotFoundError:
                pass
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        os.close(fd)


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], fsync: bool = True) -> Iterator[BinaryIO]:
    """Open a temp file for writing; rename it onto ``target`` on success.

    On any exception (KeyboardInterrupt included) the temp file is removed and
    ``target`` is left as it was.
    """
    parent = Path(target).parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = create_tmp(target)
    f = open(fd, "wb")  # noqa: SIM115 - closed below
    try:
        yield f
        f.flush()
        if fsync:
            os.fsync(f.fileno())
        # Renamed while still locked, so no cleaner sees an unlocked temp file.
        os.replace(tmp, target)
        f.close()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        with contextlib.suppress(OSError):
            f.close()
        raise


def atomic_write(target: str | os.PathLike[str], data: bytes, fsync: bool = True) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_open(target, fsync=fsync) as f:
        f.write(data)


def remove_if_stale(path: str | bytes | os.PathLike[str]) -> bool:
    """Delete the temp file ``path`` when no live writer holds it; True when deleted.

    Only regular files are touched (``O_NOFOLLOW``: a symlink named like a
    temp file is left alone).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live writer (or a filesystem without locks)
        # Unlinked while locked: a writer that created it meanwhile sees its
        # inode gone after its own flock and takes a new name (create_tmp).
        try:
            os.unlink(path)
        except OSError:
            return False
        return True
    finally:
        os.close(fd)


def remove_stale_in(folders: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Remove stale dvx temp files directly inside each folder; their paths."""
    out: list[str] = []
    for d in folders:
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                if is_tmp_name(e.name) and remove_if_stale(e.path):
                    out.append(e.path)
    return out


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a directory so a rename in it survives a power cut."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_within(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True when the absolute ``path`` lies inside ``root`` (no symlinks resolved)."""
    p = os.path.abspath(path)
    r = os.path.abspath(root)
    return p == r or p.startswith(r.rstrip(os.sep) + os.sep)
