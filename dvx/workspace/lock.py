"""The repository lock (one writer per work tree) and the cache lock (writers share it, gc holds it alone).

The repository lock is ``filelock.FileLock`` on ``.dvx/tmp/lock``: ``flock``
on POSIX, ``LockFileEx`` on Windows; the kernel drops it when the holder
dies, so a killed ``dvx add`` never leaves a stale lock behind.

The cache lock is ``<cache>/lock``: every command that holds a repository
lock also holds it shared, and ``dvx gc`` takes it exclusive, so a gc in one
project never sweeps a cache (``[cache] dir``) while another project writes
to it. filelock has no shared mode, so this one is ``fcntl.flock``
(``LOCK_SH``/``LOCK_EX``) on POSIX; where ``fcntl`` does not exist
(Windows) it falls back to an exclusive filelock: still safe, writers of
different projects then take turns.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from dvx.errors import LockTimeoutError, WorkspaceWriteError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# Generous: a second `dvx add` waits for the first to finish a large file.
DEFAULT_TIMEOUT = 600.0
_POLL = 0.05


def _holder(path: Path) -> str:
    """The pid a holder wrote beside its lock (``<lock>.pid``), "" when unknown."""
    with contextlib.suppress(OSError, ValueError):
        with open(f"{path}.pid", "rb") as f:
            got = f.read(32).decode().strip()
        return got if got.isdigit() else ""
    return ""


def _wait(path: Path, try_take: Callable[[], bool], timeout: float, quiet: bool, what: str) -> None:
    """Call ``try_take`` until it returns True; say once that we wait; LockTimeoutError after ``timeout``."""
    if try_take():
        return
    if not quiet:
        # Only the repository lock has one holder whose pid is worth naming.
        holder = _holder(path) if what == "the repository lock" else ""
        who = f" (pid {holder})" if holder else ""
        print(f"waiting for another dvx process{who} to release {what} {path} ...", file=sys.stderr)
    deadline = time.monotonic() + timeout
    while not try_take():
        if time.monotonic() > deadline:
            raise LockTimeoutError(
                f"{path}: still locked by another dvx process after {timeout:.0f} s",
                "wait for it to finish, or stop it",
            )
        time.sleep(_POLL)


def _note_pid(path: Path) -> None:
    # The pid only names the holder in the waiting message: a full disk
    # must not stop the command from taking the lock.
    with contextlib.suppress(OSError):
        fd = os.open(f"{path}.pid", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)


@contextlib.contextmanager
def repo_lock(path: Path, timeout: float = DEFAULT_TIMEOUT, quiet: bool = False) -> Iterator[None]:
    """Hold the exclusive lock at ``path`` for the duration of the block."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, str(path)) from e
    lock = FileLock(str(path))

    def take() -> bool:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        except OSError as e:
            raise WorkspaceWriteError.from_os_error(e, str(path)) from e
        return True

    _wait(path, take, timeout, quiet, "the repository lock")
    try:
        _note_pid(path)
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def cache_lock(path: Path, *, exclusive: bool, timeout: float = DEFAULT_TIMEOUT, quiet: bool = False,
               group: bool = False) -> Iterator[None]:
    """Hold the cache lock at ``path``: shared (writers) or exclusive (gc) for the duration of the block.
    ``group``: the lock file is made group-writable (``[cache] shared = "group"``)."""
    if fcntl is None:
        with repo_lock(path, timeout, quiet):
            yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        if group:
            from dvx.workspace.perms import fix_file

            fix_file(fd)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, str(path)) from e
    op = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH

    def take() -> bool:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    try:
        _wait(path, take, timeout, quiet, "the cache lock")
        yield
    finally:
        os.close(fd)
