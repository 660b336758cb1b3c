"""How much table data the engines have read, for a progress display.

Every read of a table goes through :func:`dvx.quality.tables.open_batches`,
which passes its batches through :func:`observed`. A caller that wants
progress (the CLI's ``validate``, ``stats``, ``drift``, ``check``) runs the
work inside :func:`observing` with a callback ``callback("bytes", n)`` (the
shape of ``dvx.cli.progress.Progress.transfer``); without one, batches pass
untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

Callback = Callable[[str, int], None]
T = TypeVar("T")

_observer: ContextVar[Callback | None] = ContextVar("dvx_read_observer", default=None)


@contextlib.contextmanager
def observing(callback: Callback) -> Iterator[None]:
    """Report the bytes of every batch read inside the block to ``callback("bytes", n)``."""
    token = _observer.set(callback)
    try:
        yield
    finally:
        _observer.reset(token)


def observed(batches: Iterator[T]) -> Iterator[T]:
    """``batches``, reported to the current observer as they are read (unchanged when there is none)."""
    cb = _observer.get()
    return batches if cb is None else _report(batches, cb)


def _report(batches: Iterator[Any], cb: Callback) -> Iterator[Any]:
    try:
        for b in batches:
            cb("bytes", int(getattr(b, "nbytes", 0)))
            yield b
    finally:
        close = getattr(batches, "close", None)
        if close is not None:  # an abandoned read stops its reader now (no read-ahead left running)
            close()
