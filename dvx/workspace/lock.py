"""The repository lock: one writer at a time, others wait.

``flock`` on ``.dvx/tmp/lock``: the kernel drops it when the holder dies, so
a killed ``dvx add`` never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from dvx.errors import LockTimeoutError, WorkspaceWriteError

# Generous: a second `dvx add` waits for the first to finish a large file.
DEFAULT_TIMEOUT = 600.0


@contextlib.contextmanager
def repo_lock(path: Path, timeout: float = DEFAULT_TIMEOUT, quiet: bool = False) -> Iterator[None]:
    """Hold the exclusive lock at ``path`` for the duration of the block."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, str(path)) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = os.pread(fd, 32, 0).decode().strip()
            if not quiet:
                who = f" (pid {holder})" if holder else ""
                print(f"waiting for another dvx process{who} to release {path} ...", file=sys.stderr)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LockTimeoutError(
                            f"{path}: still locked by another dvx process after {timeout:.0f} s",
                            "wait for it to finish, or stop it",
                        ) from None
                    time.sleep(0.05)
        # The pid only names the holder in the message above: a full disk
        # must not stop the command from taking the lock.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
