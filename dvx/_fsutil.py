"""Atomic file writes and safe paths on the local filesystem.

Every write dvx makes goes through ``atomic_write``: a temp file in the same
directory, fsync, rename. A crash leaves either the old file or the new one,
never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def tmp_name(target: str | os.PathLike[str]) -> Path:
    """A unique temp path beside ``target`` (same filesystem, so rename is atomic)."""
    t = Path(target)
    return t.with_name(f".{t.name}.{secrets.token_hex(6)}.tmp")


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], fsync: bool = True) -> Iterator[BinaryIO]:
    """Open a temp file for writing; rename it onto ``target`` on success.

    On any exception (KeyboardInterrupt included) the temp file is removed and
    ``target`` is left as it was.
    """
    tmp = tmp_name(target)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    f = open(tmp, "wb")
    try:
        yield f
        f.flush()
        if fsync:
            os.fsync(f.fileno())
        f.close()
        os.replace(tmp, target)
    except BaseException:
        f.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(target: str | os.PathLike[str], data: bytes, fsync: bool = True) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_open(target, fsync=fsync) as f:
        f.write(data)


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
