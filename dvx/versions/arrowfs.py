"""A read-only pyarrow filesystem over a ``RepoView``, and the release of Arrow's reads after an error."""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from dvx.versions.files import VersionedFile
from dvx.versions.local import local_path
from dvx.versions.node import DIRECTORY, FILE, Node

if TYPE_CHECKING:
    from dvx.versions.view import RepoView

_handler_cls: Any = None
# How long an error path waits for Arrow to let go of dvx files (a read in
# flight may be fetching a 32 MiB pack range from a remote).
_RELEASE_TIMEOUT = 60.0


class _ArrowFiles:
    """The dvx files one pyarrow filesystem handed to Arrow.

    Arrow reads ahead on its own I/O threads, which call back into Python.
    When a read fails, the caller's exception can reach the top and the
    interpreter start shutting down while such a thread is still inside a dvx
    read, and CPython then aborts the process (SIGABRT, issue 10 defect 7).
    ``release`` makes every later read fail at once, which stops Arrow's
    read-ahead, and waits until Arrow has dropped every file it was given.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._live = 0
        self.cancelled = False

    def track(self, f: VersionedFile) -> _ArrowHandle:
        """The object to hand to Arrow for ``f``; its reads fail once ``release`` was called."""
        read = f._read_range
        name = f.name

        def guarded(start: int, end: int) -> Any:
            if self.cancelled:
                raise OSError(f"{name}: read cancelled after an earlier error")
            return read(start, end)

        f._read_range = guarded
        f._read_into = None  # every read goes through the guard
        handle = _ArrowHandle(f)
        with self._cv:
            self._live += 1
        weakref.finalize(handle, self._gone)
        return handle

    def _gone(self) -> None:
        with self._cv:
            self._live -= 1
            self._cv.notify_all()

    def release(self, timeout: float = _RELEASE_TIMEOUT) -> bool:
        """Cancel further reads and wait until no file is held by Arrow; False on timeout."""
        import gc

        deadline = time.monotonic() + timeout
        with self._cv:
            self.cancelled = True
        while True:
            with self._cv:
                if self._live <= 0:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
            gc.collect()  # a file kept alive only by a reference cycle (a traceback)


class _ArrowHandle:
    """What Arrow holds for one dvx file: that file's own bound methods.

    The traceback of a failed read (which the caller keeps while handling
    it) references the file and its reader, never this object, so this
    object dies exactly when Arrow lets go of the file.
    """

    __slots__ = ("__weakref__", "_file", "close", "read", "seek", "tell")
    mode = "rb"

    def __init__(self, f: VersionedFile) -> None:
        self._file = f
        self.read = f.read
        self.seek = f.seek
        self.tell = f.tell
        self.close = f.close

    @property
    def closed(self) -> bool:
        return self._file.closed


_arrow_files: weakref.WeakSet[_ArrowFiles] = weakref.WeakSet()


def release_arrow(fs: Any, timeout: float = _RELEASE_TIMEOUT) -> bool:
    """After an error, cancel the reads Arrow still runs on a dvx pyarrow filesystem and wait for them."""
    files = getattr(getattr(fs, "handler", None), "files", None)
    return files.release(timeout) if isinstance(files, _ArrowFiles) else True


def _release_all() -> None:
    # Last resort at exit (a dataset scan abandoned by its caller): no Arrow
    # thread may be inside a dvx read while the interpreter finalizes.
    for files in list(_arrow_files):
        files.release(5.0)


atexit.register(_release_all)


def arrow_filesystem(view: RepoView) -> Any:
    """A read-only ``pyarrow.fs.PyFileSystem`` over ``view`` (workspace copies opened natively).

    Call ``release_arrow(fs)`` when a read through it fails (see ``_ArrowFiles``).
    """
    global _handler_cls
    import pyarrow.fs as pafs

    if _handler_cls is None:
        _handler_cls = _make_handler(pafs)
    return pafs.PyFileSystem(_handler_cls(view))


def _make_handler(pafs: Any) -> Any:
    import pyarrow as pa

    def info(node: Node, path: str | None = None) -> Any:
        t = pafs.FileType.File if node.kind == FILE else pafs.FileType.Directory
        return pafs.FileInfo(path if path is not None else node.path, t, size=node.size if node.kind == FILE else None)

    class DvxArrowHandler(pafs.FileSystemHandler):
        """pyarrow's view of a RepoView (read-only)."""

        def __init__(self, view: RepoView) -> None:
            self.view = view
            self.files = _ArrowFiles()
            _arrow_files.add(self.files)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, DvxArrowHandler) and other.view is self.view

        def __ne__(self, other: object) -> bool:
            return not self == other

        def get_type_name(self) -> str:
            return "dvx"

        def normalize_path(self, path: str) -> str:
            return self.view.normpath(path)

        def equals(self, other: object) -> bool:
            return isinstance(other, DvxArrowHandler) and other.view is self.view

        def get_file_info(self, paths: list[str]) -> list[Any]:
            out = []
            for p in paths:
                try:
                    out.append(info(self.view.resolve(p), p))
                except FileNotFoundError:
                    out.append(pafs.FileInfo(p, pafs.FileType.NotFound))
            return out

        def get_file_info_selector(self, selector: Any) -> list[Any]:
            try:
                base = self.view.resolve(selector.base_dir)
            except FileNotFoundError:
                if selector.allow_not_found:
                    return []
                raise
            if base.kind != DIRECTORY:
                raise NotADirectoryError(f"{selector.base_dir}: not a directory ({self.view.label})")
            out = []
            stack = [base.path]
            while stack:
                for n in self.view.ls(stack.pop()):
                    out.append(info(n))
                    if selector.recursive and n.kind == DIRECTORY:
                        stack.append(n.path)
            return out

        def _open(self, path: str) -> Any:
            node = self.view.resolve(path)
            local = local_path(node)
            if local is not None and node.kind == FILE:
                return pa.OSFile(local, "r")
            f: Any = self.view.open(node, arrow=True)
            if isinstance(f, VersionedFile):
                f = self.files.track(f)
            return pa.PythonFile(f, mode="r")

        def open_input_file(self, path: str) -> Any:
            return self._open(path)

        def open_input_stream(self, path: str) -> Any:
            return self._open(path)

        def _readonly(self, *_: Any) -> Any:
            raise PermissionError(f"the dvx filesystem is read-only ({self.view.label})")

        create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _readonly
        delete_file = move = copy_file = open_output_stream = open_append_stream = _readonly

    return DvxArrowHandler
