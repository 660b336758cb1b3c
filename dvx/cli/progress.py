"""The one progress display of the CLI.

The lower layers report progress through a callback ``progress(what, n)``
(``dvx.repo.Progress``). Two kinds of work call it:

- add and checkout report each path they handle: ``(path, nbytes)``;
- push, fetch and pull report bytes: ``("total", n)`` once, then ``("bytes", n)``.

``Progress.item`` and ``Progress.transfer`` are both such callbacks; they
feed one line on stderr, shown only when stdout and stderr are terminals and
the work has lasted more than about a second.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from dvx.cli._render import human_size

_WIDTH = 90


class Progress:
    """A one-line progress display on stderr; ``close()`` when the work ends."""

    def __init__(self, label: str, enabled: bool = True, delay: float = 1.0) -> None:
        self.label = label
        self.enabled = enabled and sys.stdout.isatty() and sys.stderr.isatty()
        self.delay = delay
        self.start = time.monotonic()
        self.shown = False
        self.count = 0
        self.item_name = ""
        self.total = 0
        self.done = 0

    def item(self, name: str, nbytes: int = 0) -> None:
        """Callback for per-path work (add, checkout): one more path handled."""
        self.count += 1
        self.done += nbytes
        self.item_name = name
        self._show()

    def transfer(self, kind: str, n: int) -> None:
        """Callback for byte transfers (push, fetch, pull): ``("total", n)`` then ``("bytes", n)``."""
        if kind == "total":
            self.total = n
            return
        self.done += n
        self._show()

    def line(self, elapsed: float) -> str:
        """The text shown after ``elapsed`` seconds (without the carriage return)."""
        if self.total:
            rate = human_size(self.done / elapsed) if elapsed > 0 else "?"
            pct = 100 * self.done / self.total
            return f"{self.label}: {human_size(self.done)} / {human_size(self.total)} {pct:5.1f}% {rate}/s"
        if self.count:
            return f"{self.label} {self.count}: {self.item_name[:60]:<60} {elapsed:5.1f}s"
        return f"{self.label}: {human_size(self.done)} {elapsed:5.1f}s"

    def _show(self) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        if elapsed < self.delay:
            return
        self.shown = True
        sys.stderr.write("\r" + self.line(elapsed)[:_WIDTH].ljust(_WIDTH))
        sys.stderr.flush()

    def close(self) -> None:
        """Clear the line if anything was shown."""
        if self.shown:
            sys.stderr.write("\r" + " " * _WIDTH + "\r")
            sys.stderr.flush()
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def reading(label: str) -> Iterator[None]:
    """Progress of the table data read inside the block (validation, profiling), on stderr:
    shown on a terminal once the work lasts over a second (data of about 100 MB and more)."""
    from dvx.quality.progress import observing

    with Progress(label) as pr, observing(pr.transfer):
        yield
