"""Getting objects a view needs into the local cache: the process-wide cache stores, and fills
from the view's remote (one at a time per cache in this process)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from dvx.errors import ObjectMissingError, RemoteConfigError
from dvx.store.objects import ObjectType
from dvx.versions.node import ReadStats
from dvx.workspace import Workspace

if TYPE_CHECKING:
    from dvx.remote import Remote
    from dvx.store.store import ObjectStore

_lock = threading.Lock()
_stores: dict[str, ObjectStore] = {}
_fill_locks: dict[str, threading.Lock] = {}


def shared_cache(ws: Workspace) -> ObjectStore:
    """One cache store per repository in the process: its index is loaded once."""
    key = str(ws.cache_dir)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = ws.cache
        return store


def _fill_lock(cache_root: str) -> threading.Lock:
    """One fill at a time per cache in this process (other processes may fill concurrently: packs are atomic)."""
    with _lock:
        return _fill_locks.setdefault(cache_root, threading.Lock())


class Filler:
    """Fetches what the cache of ``ws`` lacks from the remote ``remote_name`` (the default when None)."""

    def __init__(self, ws: Workspace, cache: ObjectStore, remote_name: str | None, stats: ReadStats) -> None:
        self.ws = ws
        self.cache = cache
        self.remote_name = remote_name
        self.stats = stats
        self._remote: Remote | None = None

    def remote(self, what: str) -> Remote:
        """The remote reads fall back to; ObjectMissingError naming ``what`` when none is configured."""
        if self._remote is None:
            from dvx.remote import open_remote

            try:
                self._remote = open_remote(self.ws.config, self.remote_name)
            except RemoteConfigError as e:
                raise ObjectMissingError(
                    f"{what}: the data is not in the local cache and {e.message}",
                    "run `dvx pull` in this repository, or configure a remote with `dvx remote add -d NAME URL`",
                ) from None
        return self._remote

    def fill(self, oids: list[bytes], what: str) -> None:
        """Fetch the objects of ``oids`` the local cache lacks from the remote into the cache."""
        cache = self.cache
        with _fill_lock(cache.root):
            need = cache.missing(oids)
            if need:
                cache.refresh()  # another process may have fetched them
                need = cache.missing(need)
            if not need:
                return
            rem = self.remote(what)
            from dvx.remote import translate_errors

            with translate_errors(rem):
                absent = rem.store.missing(need)
                if absent:
                    rem.store.refresh()
                    absent = rem.store.missing(absent)
                if absent:
                    raise ObjectMissingError(
                        f"{what}: {len(absent)} of its objects are neither in the local cache nor on remote {rem.label}",
                        "push the data from a clone that has it (`dvx push`), or pass remote=NAME",
                    )
                order = sorted(need)
                types: dict[bytes, ObjectType] = {}
                for o in order:
                    e = rem.store.locate(o)
                    assert e is not None  # not missing: checked above
                    types[o] = ObjectType(e.otype)
                raw_total = 0
                with cache.writer() as w:
                    for oid, raw in rem.store.get_many(order):
                        w.put(oid, types[oid], raw)
                        raw_total += len(raw)
            with self.stats.lock:
                self.stats.fills += 1
                self.stats.objects += len(order)
                self.stats.raw_bytes += raw_total
