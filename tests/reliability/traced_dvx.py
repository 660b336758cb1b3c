"""Run the real ``dvx`` CLI with its durability-relevant calls recorded: ``python traced_dvx.py ARGS...``.

``DVX_TEST_IOLOG=PATH``: every completed ``os.fsync`` (with the path of the
file or folder synced, from ``/proc/self/fd``), ``os.replace`` (source and
target) and, on the test filesystem below, ``size`` call is appended to PATH
as one tab-separated line, in the order they completed (all threads).

``DVX_TEST_SHORTFS=short|count`` registers ``dvxshort://``: a local folder
seen through fsspec as a remote (not ``file``), whose ``pipe_file`` drops the
last byte of every pack with ``short`` (a PUT cut short on the way), and
records ``size`` calls either way.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
from typing import Any

_LOG = os.environ.get("DVX_TEST_IOLOG")
_lock = threading.Lock()
_fd = os.open(_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if _LOG else None


def _record(*fields: str) -> None:
    if _fd is None:
        return
    with _lock:
        os.write(_fd, ("\t".join(fields) + "\n").encode("utf-8", "surrogateescape"))


_real_fsync = os.fsync
_real_replace = os.replace


def _fsync(fd: Any) -> None:
    n = fd if isinstance(fd, int) else fd.fileno()
    path = os.readlink(f"/proc/self/fd/{n}")
    _real_fsync(fd)
    _record("fsync", path)


def _replace(src: Any, dst: Any, *args: Any, **kw: Any) -> None:
    _real_replace(src, dst, *args, **kw)
    if kw.get("src_dir_fd") is None and kw.get("dst_dir_fd") is None and not args:
        _record("replace", os.path.realpath(os.fsdecode(src)), os.path.realpath(os.fsdecode(dst)))
    else:
        _record("replace-at", os.fsdecode(src), os.fsdecode(dst))


os.fsync = _fsync
os.replace = _replace

_SHORT = os.environ.get("DVX_TEST_SHORTFS")
if _SHORT:
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    class ShortFS(LocalFileSystem):  # type: ignore[misc]
        protocol = ("dvxshort",)

        def pipe_file(self, path: str, value: bytes, *args: Any, **kw: Any) -> None:
            if _SHORT == "short" and "/packs/" in path:
                value = value[:-1]
            super().pipe_file(path, value, *args, **kw)

        def size(self, path: str) -> int:
            _record("size", self._strip_protocol(path))
            return int(super().size(path))

    fsspec.register_implementation("dvxshort", ShortFS, clobber=True)

if __name__ == "__main__":
    sys.argv = ["dvx", *sys.argv[1:]]
    runpy.run_module("dvx", run_name="__main__", alter_sys=True)
