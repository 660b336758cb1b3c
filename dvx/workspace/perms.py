"""``[cache] shared = "group"``: everything dvx creates in the cache is group-readable and -writable.

The process umask is narrowed to let group bits through (``umask & ~0o070``)
once the cache is opened, so every file and folder any part of dvx creates
afterwards (packs, index files, temp files, lock files) gets ``g+rw`` (folders
``g+rwx``) whatever the user's umask: under ``umask 077`` files are 0660 and
folders 0770. The cache root is made setgid, so on Linux every folder created
below it inherits the group and the setgid bit (BSD and macOS always inherit
the group). This is the whole process's umask: files dvx writes in the work
tree at its default modes (pointer files) are group-writable too in such a
repository; checked-out data keeps its explicit 0644/0755.
"""

from __future__ import annotations

import contextlib
import os
import stat

GROUP = "group"
_SETGID_DIR = stat.S_ISGID | 0o070


def open_up_umask() -> None:
    """Let group bits through the process umask (idempotent)."""
    old = os.umask(0)
    os.umask(old & ~0o070)


def fix_dir(path: str | os.PathLike[str]) -> None:
    """``g+rwxs`` on a folder this user owns (another member's folder is left as it is)."""
    with contextlib.suppress(OSError):
        st = os.stat(path)
        want = stat.S_IMODE(st.st_mode) | _SETGID_DIR
        if stat.S_IMODE(st.st_mode) != want and _mine(st):
            os.chmod(path, want)


def fix_file(fd: int) -> None:
    """``g+rw`` on an open file this user owns."""
    with contextlib.suppress(OSError):
        st = os.fstat(fd)
        want = stat.S_IMODE(st.st_mode) | 0o060
        if stat.S_IMODE(st.st_mode) != want and _mine(st):
            os.fchmod(fd, want)


def _mine(st: os.stat_result) -> bool:
    geteuid = getattr(os, "geteuid", None)  # not on Windows, where chmod sets only the read-only bit
    return geteuid is not None and st.st_uid == geteuid()
