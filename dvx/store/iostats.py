"""Counts of the calls and bytes a store moved (for ``TransferResult`` and the benchmarks)."""

from __future__ import annotations

import threading


class IoStats:
    """Filesystem calls, bytes received and bytes sent by one store; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.received = 0
        self.sent = 0

    def add(self, calls: int = 1, received: int = 0, sent: int = 0) -> None:
        """Count ``calls`` calls that moved these bytes."""
        with self._lock:
            self.calls += calls
            self.received += received
            self.sent += sent

    def snapshot(self) -> tuple[int, int, int]:
        """``(calls, received, sent)`` so far."""
        with self._lock:
            return self.calls, self.received, self.sent
