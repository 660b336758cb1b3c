"""Coalescing reads of nearby blobs into byte ranges: the one rule every store read follows.

``fsspec.utils.merge_offset_ranges`` merges ranges too, but it drops which
blobs each range serves, sorts its input (push reads chunks before
manifests, in that order) and needs fsspec imported, which costs a local
command 0.17 s. So dvx keeps its own ten lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from dvx.store.index import Record

# Ranges of one pack closer than this are read as one: a remote GET costs
# ~2-50 ms, worth 256 KiB+ of transfer; a local pread is cheap, so locally
# only blobs within 64 KiB share a read.
GAP_REMOTE = 256 << 10
GAP_LOCAL = 64 << 10
# No single read spans more than this, which bounds memory per read.
MAX_RANGE = 16 << 20
# One batch of ranges (one ``cat_ranges`` call) moves at most this much.
MAX_BATCH = 16 << 20

# (pack id, start, end, the records the range covers)
Range = tuple[bytes, int, int, list[Record]]


def coalesce(recs: Iterable[Record], gap: int, max_range: int = MAX_RANGE) -> Iterator[Range]:
    """Group records into ``(pack, start, end, members)`` reads, keeping their order.

    A record joins the previous read when it is in the same pack, starts at
    most ``gap`` bytes after that read's end (never before it) and the read
    stays within ``max_range``; sorted by (pack, offset) first, every nearby
    neighbour merges.
    """
    cur: Range | None = None
    for r in recs:
        start, end = r[2], r[2] + r[3]
        if cur is not None:
            pid, s, e, members = cur
            if pid == r[1] and 0 <= start - e <= gap and end - s <= max_range:
                members.append(r)
                cur = (pid, s, end, members)
                continue
            yield cur
        cur = (r[1], start, end, [r])
    if cur is not None:
        yield cur


def batches(ranges: Iterable[Range], limit: int = MAX_BATCH) -> Iterator[list[Range]]:
    """Consecutive ranges grouped so that each group spans about ``limit`` bytes."""
    batch: list[Range] = []
    size = 0
    for rng in ranges:
        batch.append(rng)
        size += rng[2] - rng[1]
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_T = TypeVar("_T")
_R = TypeVar("_R")


def read_ahead(items: Iterable[_T], fn: Callable[[_T], _R], jobs: int) -> Iterator[tuple[_T, _R]]:
    """``(item, fn(item))`` in order, with up to ``jobs`` calls running ahead on threads."""
    if jobs <= 1:
        for it in items:
            yield it, fn(it)
        return
    pool = ThreadPoolExecutor(jobs, thread_name_prefix="dvx-read")
    pending: deque[tuple[_T, Future[_R]]] = deque()
    try:
        src = iter(items)
        for it in src:
            pending.append((it, pool.submit(fn, it)))
            if len(pending) >= jobs:
                break
        while pending:
            it, fut = pending.popleft()
            res = fut.result()
            nxt = next(src, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(fn, nxt)))
            yield it, res
    finally:
        for _it, f in pending:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
