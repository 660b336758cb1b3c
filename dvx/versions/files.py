"""``VersionedFile``: a read-only seekable binary file over a ``read_range(start, end)`` function."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

# Returns bytes, or any buffer (a pyarrow.Buffer for pyarrow.PythonFile).
ReadRange = Callable[[int, int], Any]
# Fills the buffer with the bytes from an offset; returns how many.
ReadInto = Callable[[int, memoryview], int]


class VersionedFile(io.RawIOBase):
    """A read-only seekable file over ``read_range(start, end)`` (bytes, or any buffer)."""

    def __init__(self, read_range: ReadRange, size: int, name: str, read_into: ReadInto | None = None) -> None:
        super().__init__()
        self._read_range = read_range
        # Optional: fills a caller's buffer from an offset without an intermediate bytes object
        # (a cached whole-file read spends a third of its time in that copy).
        self._read_into = read_into
        self._size = size
        self._pos = 0
        self.name = name
        self.mode = "rb"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            pos = offset
        elif whence == 1:
            pos = self._pos + offset
        elif whence == 2:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def read(self, size: int | None = -1) -> Any:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        if self._pos >= end:
            return b""
        data = self._read_range(self._pos, end)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return bytes(self.read(-1))

    def readinto(self, b: Any) -> int:  # a writable buffer
        if self._read_into is not None:
            if self.closed:
                raise ValueError("I/O operation on closed file")
            out = memoryview(b).cast("B")
            end = min(self._size, self._pos + len(out))
            if self._pos >= end:
                return 0
            n = self._read_into(self._pos, out[: end - self._pos])
            self._pos += n
            return n
        data = self.read(len(b))
        n = len(data)
        memoryview(b).cast("B")[:n] = data
        return n

