"""gc beside concurrent writers: mark without a lock, then re-check and sweep under the exclusive lock.

``collect`` runs the two phases of docs/format.md, "Locks and gc protocol":

1. **mark** (no lock): list the index files and roots markers, compute the
   live set (``live_ids()`` plus the closure of every roots marker younger
   than ``grace``) and ``plan = plan_fn(store, live)``;
2. take the **exclusive lock** (``dvx.store.locks.exclusive``; it fails
   while any push holds a shared lock), list the index files and roots
   markers again: when anything changed, every object named by an index
   file that was not in the mark's listing, and the closure of every young
   marker, is live, and the plan is made again with them;
3. ``apply_fn(store, plan)`` (the sweep), delete markers older than
   ``grace``, release the lock.

``plan_fn``/``apply_fn`` are gc's mark and sweep (``dvx.store.gc``); this
module knows nothing of what a plan holds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from dvx.errors import ObjectMissingError
from dvx.store.index import decode_index
from dvx.store.locks import REFRESH, STALE, exclusive
from dvx.store.objects import ObjectType
from dvx.store.roots import expire_roots, marker_names, read_roots
from dvx.store.store import ObjectStore
from dvx.store.types import ObjectId
from dvx.store.walk import walk

P = TypeVar("P")
S = TypeVar("S")


@dataclass
class Collected(Generic[P, S]):
    """What ``collect`` did: the plan applied, apply_fn's result, and what the protocol kept."""

    plan: P
    stats: S
    replanned: bool = False          # something was written between the mark and the lock
    kept_by_markers: int = 0         # objects live only because a young roots marker reaches them
    kept_new: int = 0                # objects live only because an index file written after the mark names them
    expired: list[str] = field(default_factory=list)  # roots markers deleted (older than grace)


def marked_closure(store: ObjectStore, ids: Iterable[bytes], known: AbstractSet[bytes]) -> set[ObjectId]:
    """Every object the ids reach in ``store`` (tree -> file manifests -> chunks) that ``known`` lacks.

    An id the store does not hold names nothing to keep; a manifest that is
    missing keeps what was reached before it. A damaged manifest raises
    (CorruptObjectError): gc must not guess what it names.
    """
    out: set[ObjectId] = set()
    for oid in ids:
        if oid in known or oid in out:
            continue
        rec = store.record(oid)
        if rec is None:
            continue
        with contextlib.suppress(ObjectMissingError):
            for o, _t in walk(store, oid, ObjectType(rec.otype)):
                if o not in known:
                    out.add(ObjectId(o))
    return out


def live_with_markers(store: ObjectStore, live: AbstractSet[bytes], grace: float, now: float | None = None) -> set[bytes]:
    """``live`` plus everything the roots markers younger than ``grace`` reach in ``store``
    (what a concurrent push relied on: docs/format.md, "Locks and gc protocol")."""
    cutoff = (time.time() if now is None else now) - grace
    return set(live) | marked_closure(store, read_roots(store, cutoff), live)


Listing = tuple[frozenset[str], frozenset[str]]


def mark_listing(store: ObjectStore) -> Listing:
    """(index file names, roots marker names) as listed now: take it before loading the index a
    plan is made from, and pass it to ``collect`` with that plan."""
    return frozenset(store._files.names()), frozenset(marker_names(store))


_listing = mark_listing


def _ids_in(store: ObjectStore, names: Iterable[str]) -> set[ObjectId]:
    """Ids named by these index files (the ones that verify)."""
    out: set[ObjectId] = set()
    for _name, data in store._files.load(sorted(names)):
        out.update(ObjectId(o) for o in decode_index(data))
    return out


def collect(
    store: ObjectStore,
    live_ids: Callable[[], set[ObjectId]],
    plan_fn: Callable[[ObjectStore, set[ObjectId]], P],
    apply_fn: Callable[[ObjectStore, P], S],
    grace: float,
    *,
    lock: Callable[[], AbstractContextManager[Any]] | None = None,
    clone: str = "",
    stale: float = STALE,
    refresh: float = REFRESH,
    remote: str | None = None,
    now: float | None = None,
    planned: P | None = None,
    listing: Listing | None = None,
) -> Collected[P, S]:
    """Mark, lock, re-check, sweep (module docstring). ``lock``: the lock to sweep under (default: the
    store's exclusive lock file, ``clone``/``stale``/``refresh``/``remote`` passed to it; the local
    cache passes the repository and fetch flocks). LockedError, with nothing deleted, when the lock
    cannot be taken. ``planned``: the plan the caller already made from ``live_ids()`` and the
    young markers' closure (``live_with_markers``; shown to the user before confirming), used as the
    mark's plan instead of planning again; then ``listing`` must be ``mark_listing(store)`` taken
    before that plan's index was loaded, or a push landing in between would go unseen."""
    if planned is not None and listing is None:
        raise ValueError("collect: a plan made by the caller needs the listing taken before it")
    cutoff = (time.time() if now is None else now) - grace
    names0, markers0 = listing if listing is not None else _listing(store)
    if planned is None:
        store.refresh()
    live = set(live_ids())
    by_markers = marked_closure(store, read_roots(store, cutoff), live)
    plan = planned if planned is not None else plan_fn(store, live | by_markers)
    take = lock or (lambda: exclusive(store, "gc", clone=clone, stale=stale, refresh=refresh, remote=remote))
    with take() as held:
        names1, markers1 = _listing(store)
        done = Collected[P, S](plan, None)  # type: ignore[arg-type]
        if names1 != names0 or markers1 != markers0:
            store.forget_index()  # as it is now: files another gc removed meanwhile are gone too
            new = _ids_in(store, names1 - names0) - live - by_markers
            by_markers |= marked_closure(store, read_roots(store, cutoff), live | by_markers)
            done.plan = plan_fn(store, live | by_markers | new)
            done.replanned, done.kept_new = True, len(new)
        done.kept_by_markers = len(by_markers)
        check = getattr(held, "check", None)
        if check is not None:
            check()  # the lock still holds (not lost to a --break-lock or gone stale)
        done.stats = apply_fn(store, done.plan)
        store.forget_index()  # the caller's next read sees what is left
        done.expired = expire_roots(store, cutoff)
    return done
