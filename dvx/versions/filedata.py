"""``FileData``: ranged reads of one tracked file, chunk by chunk, through the cache's verified reads.

A range ``[start, end)`` maps to the chunks covering it (chunk offsets from
the ``FileManifest``, bisect). Only those chunks are read, with
``ObjectStore.get_many``, which coalesces neighbours in a pack into one read
and verifies every chunk against its id on every read (docs/format.md,
reader rule 2). Chunks the cache lacks are fetched from the remote first.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from dvx.errors import CorruptObjectError, ObjectMissingError
from dvx.store.objects import FileManifest
from dvx.versions.node import ReadStats

if TYPE_CHECKING:
    from dvx.store.store import ObjectStore

# Sequential reads of data that must come from the remote fetch ahead, doubling
# from 1 MiB to 32 MiB (one remote pack), so a stream of small reads makes a
# few large fills (one pack + index each) instead of one per chunk.
_AHEAD_MIN = 1 << 20
_AHEAD_MAX = 32 << 20
# Large reads for pyarrow are split into pieces read in parallel (measured:
# 14 x 8.6 MiB reads 2-3x faster with 4 threads than one read each).
_PIECE = 2 << 20
_READ_THREADS = 4

Fill = Callable[[list[bytes], str], None]


class FileData:
    """One tracked file's chunks: offsets and presence in the cache; ranged reads with lazy remote fill.

    ``fill(oids, what)`` fetches objects the cache lacks; ``what`` names the
    file (and revision) in errors.
    """

    def __init__(self, cache: ObjectStore, m: FileManifest, what: str, fill: Fill, stats: ReadStats) -> None:
        self.cache = cache
        self.what = what
        self._fill = fill
        self._stats = stats
        self.oids = [c.oid for c in m.chunks]
        self.offsets = list(accumulate((c.size for c in m.chunks), initial=0))
        self.size = self.offsets[-1]
        self._present = bytearray(len(self.oids))  # 1: known to be in the cache
        self._last_end = -1
        self._ahead = 0

    # -------------------------------------------------------------- presence
    def _absent(self, i0: int, i1: int) -> list[int]:
        """Chunks of ``i0..i1-1`` the cache lacks (the others are marked present)."""
        present = self._present
        if present.find(0, i0, i1) < 0:
            return []
        todo = [k for k in range(i0, i1) if not present[k]]
        gone = self.cache.missing(self.oids[k] for k in todo)
        out = []
        for k in todo:
            if self.oids[k] in gone:
                out.append(k)
            else:
                present[k] = 1
        return out

    def _span(self, start: int, end: int) -> tuple[int, int]:
        """Chunks ``i0..i1-1`` covering ``[start, end)``, fetched into the cache when missing."""
        # Sequential readers fetch ahead (see _AHEAD_MIN); random access does not.
        if start == self._last_end:
            self._ahead = min(max(self._ahead * 2, _AHEAD_MIN), _AHEAD_MAX)
        else:
            self._ahead = 0
        self._last_end = end
        i0 = bisect_right(self.offsets, start) - 1
        i1 = bisect_left(self.offsets, end)
        missing = self._absent(i0, i1)
        if missing:
            i2 = i1
            if self._ahead:
                i2 = min(len(self.oids), bisect_left(self.offsets, end + self._ahead))
                missing += self._absent(i1, i2)
            self._fill([self.oids[k] for k in missing], self.what)
            if any(k < i1 for k in self._absent(i0, i2)):
                raise ObjectMissingError(
                    f"{self.what}: chunks are missing from the cache after fetching them",
                    "run `dvx fetch` and try again",
                )
        return i0, i1

    # -------------------------------------------------------------- reads
    def _get(self, i0: int, i1: int) -> dict[bytes, bytes | memoryview]:
        """The verified bytes of chunks ``i0..i1-1`` by id; CorruptObjectError naming the file when a
        chunk fails its check or its length disagrees with the manifest."""
        oids, offs = self.oids, self.offsets
        want = dict.fromkeys(oids[i0:i1])
        got: dict[bytes, bytes | memoryview] = {}
        try:
            for oid, raw in self.cache.get_views(want):  # verified; copied once, into the caller's bytes
                got[oid] = raw
        except CorruptObjectError as e:  # name the file the store cannot know
            # The cache noted the damaged pack; the next fetch sets it aside and downloads its objects again.
            raise CorruptObjectError(f"{self.what}: {e.message}", e.hint or "run `dvx fetch` to download the damaged "
                                     "objects again from the remote") from None
        except ObjectMissingError as e:
            raise ObjectMissingError(f"{self.what}: {e.message}", e.hint) from None
        for k in range(i0, i1):
            # A length the manifest misstates would shift every later byte of the file.
            if len(got[oids[k]]) != offs[k + 1] - offs[k]:
                raise CorruptObjectError(
                    f"{self.what}: chunk {oids[k].hex()} is {len(got[oids[k]])} bytes in the cache, its manifest "
                    f"says {offs[k + 1] - offs[k]}",
                    "the manifest or the chunk was damaged or tampered with; nothing was returned",
                )
        return got

    def _pieces(self, start: int, end: int, i0: int, i1: int) -> list[tuple[int, memoryview]]:
        """``(file offset, bytes)`` of each chunk of ``i0..i1-1`` clipped to ``[start, end)``."""
        got = self._get(i0, i1)
        offs, oids = self.offsets, self.oids
        out = []
        for k in range(i0, i1):
            cs = offs[k]
            a, b = max(start, cs), min(end, offs[k + 1])
            out.append((a, memoryview(got[oids[k]])[a - cs : b - cs]))
        return out

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the file (clipped to its size), every chunk verified."""
        if start < 0:
            raise ValueError(f"negative offset {start}")
        end = min(end, self.size)
        if start >= end:
            return b""
        i0, i1 = self._span(start, end)
        parts = [p for _, p in self._pieces(start, end, i0, i1)]
        self._count(end - start)
        return parts[0].tobytes() if len(parts) == 1 else b"".join(parts)

    def read_into(self, start: int, out: memoryview) -> int:
        """Fill ``out`` with the bytes from ``start`` (clipped to the file); how many, every chunk verified."""
        if start < 0:
            raise ValueError(f"negative offset {start}")
        end = min(start + len(out), self.size)
        if start >= end:
            return 0
        i0, i1 = self._span(start, end)
        for pos, data in self._pieces(start, end, i0, i1):
            out[pos - start : pos - start + len(data)] = data
        self._count(end - start)
        return end - start

    def read_buffer(self, start: int, end: int) -> Any:
        """Bytes ``[start, end)`` as a ``pyarrow.Buffer`` from pyarrow's memory pool.

        Large reads are split into ``_PIECE`` pieces read by a few threads
        (file reads release the GIL): pyarrow serialises the reads of one
        Python file, so this is where its I/O parallelism comes back.
        """
        import pyarrow as pa

        if start < 0:
            raise ValueError(f"negative offset {start}")
        end = min(end, self.size)
        n = max(0, end - start)
        buf = pa.allocate_buffer(n)
        if not n:
            return buf
        out = memoryview(buf).cast("B")
        i0, i1 = self._span(start, end)
        cuts = sorted({i0, i1, *(bisect_right(self.offsets, p) for p in range(start + _PIECE, end, _PIECE))})
        groups = [(a, b) for a, b in zip(cuts, cuts[1:]) if i0 <= a < b <= i1]

        def one(group: tuple[int, int]) -> None:
            for pos, data in self._pieces(start, end, *group):
                out[pos - start : pos - start + len(data)] = data

        if len(groups) > 1:
            list(_pool().map(one, groups))
        else:
            for g in groups:
                one(g)
        self._count(n)
        return buf

    def _count(self, n: int) -> None:
        with self._stats.lock:
            self._stats.local_bytes += n


_pool_lock = threading.Lock()
_pool_exec: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _pool_exec
    with _pool_lock:
        if _pool_exec is None:
            _pool_exec = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="dvx-read")
        return _pool_exec
