"""A small thread-safe map of the last few values used (the store's open packs, read objects, trees)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Keeps the ``size`` values used last; ``get(key, make)`` returns the kept one or keeps ``make()``.

    ``make`` runs outside the lock unless ``hold`` (then two threads asking at
    once make the value once: an open file handle). Evicted values are dropped,
    not closed: a reader in another thread may still hold one."""

    def __init__(self, size: int, lock: threading.RLock | None = None) -> None:
        self.size = size
        self._lock = lock or threading.RLock()
        self._map: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[[], V], *, hold: bool = False) -> V:
        with self._lock:
            v = self._map.get(key)
            if v is not None:
                self._map.move_to_end(key)
                return v
            if hold:
                return self._keep(key, make())
        v = make()
        with self._lock:
            return self._keep(key, v)

    def _keep(self, key: K, v: V) -> V:
        self._map[key] = v
        while len(self._map) > self.size:
            self._map.popitem(last=False)
        return v

    def values(self) -> Iterator[V]:
        """The kept values (a snapshot)."""
        with self._lock:
            return iter(list(self._map.values()))

    def clear(self) -> None:
        with self._lock:
            self._map.clear()
