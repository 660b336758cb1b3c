"""Getting objects a view needs into the local cache: the process-wide cache stores, and fills
from the view's remote through the one fetch path (dvx.remote.fetch_objects)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from dvx.errors import ObjectMissingError, RemoteConfigError
from dvx.versions.node import ReadStats
from dvx.workspace import Workspace

if TYPE_CHECKING:
    from dvx.remote import Remote
    from dvx.store.store import ObjectStore

_lock = threading.Lock()
_stores: dict[str, ObjectStore] = {}


def shared_cache(ws: Workspace) -> ObjectStore:
    """One cache store per repository in the process: its index is loaded once."""
    key = str(ws.cache_dir)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = ws.cache
        return store


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
            from dvx.config import Config
            from dvx.remote import open_remote

            try:
                # The configuration as it is now, not as this process first read it: a notebook
                # may have run `dvx remote add` after a read failed for want of a remote.
                self._remote = open_remote(Config(self.ws.dvx_dir), self.remote_name)
            except RemoteConfigError as e:
                raise ObjectMissingError(
                    f"{what}: the data is not in the local cache and {e.message}",
                    "configure the remote the data was pushed to: `dvx remote add -d NAME URL`",
                ) from None
        return self._remote

    def fill(self, oids: list[bytes], what: str) -> None:
        """Fetch the objects of ``oids`` the local cache lacks from the remote into the cache."""
        if not self.cache.missing(oids):
            return
        rem = self.remote(what)
        from dvx.remote import fetch_objects

        try:
            # The one fetch path: locked across threads and processes, refreshed and rechecked under the lock.
            res = fetch_objects(self.cache, rem, oids)
        except ObjectMissingError as e:
            raise ObjectMissingError(
                f"{what}: its objects are neither in the local cache nor on remote {rem.label} ({e.message})",
                "push the data from a clone that has it (`dvx push`), or pass remote=NAME",
            ) from None
        if res.objects:
            with self.stats.lock:
                self.stats.fills += 1
                self.stats.objects += res.objects
                self.stats.raw_bytes += res.raw_bytes
