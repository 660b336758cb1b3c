"""The streaming runner: one pass over the record batches feeds every evaluator."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar, cast

from dvx.quality.arrow.evaluators import BatchView, Evaluator
from dvx.quality.gx_results import Outcome

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")


def prefetch(batches: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``batches`` in a background thread, ``depth`` batches ahead.

    Parquet decoding and pyarrow.compute both release the GIL, so reading the
    next batch overlaps with evaluating this one (two cores: up to 2x). Memory
    grows by ``depth`` batches. An exception in the reader is re-raised here;
    closing this generator early stops the reader.
    """
    import queue
    import threading

    # ("batch", item), ("end", None) or ("error", exception)
    q: queue.Queue[tuple[str, T | BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, T | BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for b in batches:
                if not put(("batch", b)):
                    return
            put(("end", None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put(("error", e))

    t = threading.Thread(target=work, name="dvx-prefetch", daemon=True)
    t.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise cast(BaseException, item)
            yield cast(T, item)
    finally:
        stop.set()
        t.join(timeout=5)


def feed(evaluators: list[Evaluator], batches: Iterable[pa.RecordBatch], *, threaded: bool = True) -> int:
    """Feed every batch to every evaluator once (row numbers from 0); return the rows read."""
    offset = 0
    for b in (prefetch(batches) if threaded else batches):
        view = BatchView(b, offset)
        for ev in evaluators:
            ev.update(view)
        offset += b.num_rows
    return offset


def run(evaluators: list[Evaluator], batches: Iterable[pa.RecordBatch], *, threaded: bool = True) -> list[Outcome]:
    """Feed every batch to every evaluator once; return their results in order."""
    feed(evaluators, batches, threaded=threaded)
    return [ev.finish() for ev in evaluators]
