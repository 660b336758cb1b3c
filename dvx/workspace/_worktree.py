"""Writing and deleting in the work tree without ever following a symbolic link.

A repository can commit symbolic links (``data/sub -> ../../outside``); a
checkout that opened ``data/sub/evil.txt`` by name would write outside the
work tree. Here every directory is opened from the work-tree root one name
at a time with ``O_DIRECTORY | O_NOFOLLOW``, and files are created, renamed
and unlinked relative to those handles (``dir_fd=``). A link in the way is
refused, not followed, and there is no window between a check and the
write for someone to swap a directory for a link.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat as stat_mod
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from dvx._fsutil import create_tmp
from dvx.errors import UnsafePathError, WorkspaceChangedError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Directory handles kept open (a 20k-file tree may have thousands of
# folders; the default descriptor limit is 1024).
_MAX_OPEN = 128


class InTheWay(WorkspaceChangedError):
    """A file (not a directory) stands where a directory is needed; ``rel`` names it.

    Checkout reports it as a conflict; raised only if one appears meanwhile.
    """

    def __init__(self, rel: bytes) -> None:
        super().__init__(f"{os.fsdecode(rel)}: a file stands where checkout needs a folder; it was left as it is")
        self.rel = rel


class WorkTree:
    """Directory handles under ``root``, opened without following symbolic links.

    Paths are repository-relative, ``b"/"``-separated bytes (``os.fsencode``
    form), already checked by ``dvx._paths``. Use as a context manager.
    """

    def __init__(self, root: Path, display: Callable[[str], str]) -> None:
        self.root = root
        self.display = display
        self._root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._fds: OrderedDict[bytes, int] = OrderedDict()

    def __enter__(self) -> WorkTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every handle."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        os.close(self._root_fd)

    # ------------------------------------------------------------ directories
    def link_error(self, link: bytes, tracked: str, written: bool = False) -> UnsafePathError:
        """The error for a symbolic link at ``link`` on the way to ``tracked``."""
        shown = self.display(os.fsdecode(link))
        what = "" if os.fsdecode(link) == tracked else f" on the way to {self.display(tracked)}"
        done = "" if written else "; nothing was written"
        return UnsafePathError(
            f"{shown}: is a symbolic link{what}; dvx never writes or deletes through one{done}",
            f"remove the link (`rm {shown}`; it may come from the repository), then run `dvx checkout` again",
        )

    def dir(self, rel: bytes, tracked: str, create: bool = False, force: bool = False) -> int | None:
        """A handle of the directory ``rel`` (``b""``: the root).

        None when it does not exist and ``create`` is false. A symbolic link
        on the way raises UnsafePathError; a file in the way raises InTheWay,
        unless ``create`` and ``force`` (then the file is replaced by a directory).
        """
        if not rel:
            return self._root_fd
        fd = self._fds.get(rel)
        if fd is not None:
            self._fds.move_to_end(rel)
            return fd
        # Start from the deepest ancestor already open.
        parts = rel.split(b"/")
        i = len(parts) - 1
        while i > 0 and b"/".join(parts[:i]) not in self._fds:
            i -= 1
        fd = self._fds[b"/".join(parts[:i])] if i else self._root_fd
        for j in range(i, len(parts)):
            sub = b"/".join(parts[: j + 1])
            nfd = self._open_child(fd, parts[j], sub, tracked, create, force)
            if nfd is None:
                return None
            self._remember(sub, nfd)
            fd = nfd
        return fd

    def _remember(self, rel: bytes, fd: int) -> None:
        self._fds[rel] = fd
        while len(self._fds) > _MAX_OPEN:
            _, old = self._fds.popitem(last=False)
            os.close(old)

    def _open_child(self, pfd: int, name: bytes, rel: bytes, tracked: str, create: bool, force: bool) -> int | None:
        for _attempt in range(3):
            try:
                return os.open(name, _DIR_FLAGS, dir_fd=pfd)
            except FileNotFoundError:
                if not create:
                    return None
                with contextlib.suppress(FileExistsError):  # made meanwhile: the next open decides
                    os.mkdir(name, 0o777, dir_fd=pfd)
            except OSError:
                st = lstat_at(pfd, name)
                if st is None:
                    continue  # vanished meanwhile
                if stat_mod.S_ISLNK(st.st_mode):
                    raise self.link_error(rel, tracked) from None
                if stat_mod.S_ISDIR(st.st_mode):
                    raise
                if not (create and force):
                    raise InTheWay(rel) from None
                os.unlink(name, dir_fd=pfd)
        raise UnsafePathError(f"{self.display(os.fsdecode(rel))}: keeps changing while dvx writes into it")

    # ------------------------------------------------------------------ files
    def write_file(self, dfd: int, name: bytes, data: Iterable[bytes], executable: bool) -> None:
        """Write ``data`` to ``name`` in the directory ``dfd`` atomically (temp file + rename).

        The temp file is created with O_EXCL | O_NOFOLLOW and renamed over
        ``name``: a link at ``name`` itself is replaced, never followed.
        """
        def fill(fd: int) -> None:
            with open(fd, "wb", closefd=False) as f:
                f.writelines(data)

        self.write_file_fd(dfd, name, fill, executable)

    def write_file_fd(self, dfd: int, name: bytes, fill: Callable[[int], object], executable: bool) -> None:
        """``write_file`` where ``fill`` writes the content to the temp file's descriptor."""
        # A locked dvx temp file (_fsutil.create_tmp): a cleaner running
        # meanwhile sees a live writer and leaves it alone.
        tmp_path, fd = create_tmp(os.fsdecode(name), 0o600, dir_fd=dfd)
        tmp = os.fsencode(tmp_path)
        try:
            fill(fd)
            os.fchmod(fd, 0o755 if executable else 0o644)
            # Renamed while still open (and locked), closed after.
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise
        finally:
            os.close(fd)

    @staticmethod
    def set_executable(dfd: int, name: bytes, executable: bool) -> None:
        """Set or clear the x bits of the regular file ``name`` (through a handle, not the name)."""
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        try:
            mode = os.fstat(fd).st_mode
            os.fchmod(fd, (mode | 0o111) if executable else (mode & ~0o111 & 0o7777))
        finally:
            os.close(fd)

    @staticmethod
    def remove(dfd: int, name: bytes) -> None:
        """Remove ``name`` in ``dfd``: a directory with everything in it (not following links), else the entry."""
        st = lstat_at(dfd, name)
        if st is None:
            return
        if stat_mod.S_ISDIR(st.st_mode):
            shutil.rmtree(name, dir_fd=dfd)
        else:
            os.unlink(name, dir_fd=dfd)

    @staticmethod
    def prune_empty_dirs(dfd: int) -> None:
        """Remove empty directories below ``dfd`` (bottom-up, links not followed)."""
        for _path, dirnames, _files, sub_fd in os.fwalk(b".", topdown=False, dir_fd=dfd):
            for d in dirnames:
                with contextlib.suppress(OSError):  # not empty, or a link (ENOTDIR)
                    os.rmdir(d, dir_fd=sub_fd)


def lstat_at(dfd: int, name: bytes) -> os.stat_result | None:
    """``lstat`` of ``name`` in the directory ``dfd``; None when it does not exist."""
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
