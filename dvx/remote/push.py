"""``push``: copy every object some roots reach that a remote lacks, from the cache to the remote.

What the remote holds is learned from its index files (one listing, then
only the files not already kept under ``.dvx/cache/remote-index/``), never
one request per object. The copy itself is the store's
(``dvx.store.copy_objects``): verified blobs, per-blob compression, chunks
before manifests, an index only once the packs it names are in place.

The whole push holds a shared lock on the remote (``dvx.store.locks``), so
no gc sweeps while it runs, and loads the remote's index only once it
holds it; before releasing it, it writes a roots marker listing the
pointers' root ids (``dvx.store.roots``), so a gc whose mark came earlier
keeps what they reach (docs/format.md, "Locks and gc protocol"). Cost: two
PUTs (lock, marker), one LIST and one DELETE per push.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

from dvx.errors import RemoteError
from dvx.remote.common import ORDER, Counter, Progress, TransferResult, closure, load_index
from dvx.remote.errors import translate_errors
from dvx.remote.session import Remote
from dvx.store import ObjectStore, ObjectType, Record, copy_objects
from dvx.store.locks import HeldLock, clone_id, shared
from dvx.store.roots import write_roots


def push(
    local: ObjectStore,
    remote: Remote,
    roots: list[tuple[bytes, ObjectType]],
    jobs: int | None = None,
    progress: Progress | None = None,
) -> TransferResult:
    """Upload every object ``roots`` reach that the remote lacks; see the module docstring."""
    t0 = time.perf_counter()
    res = TransferResult()
    counter = Counter(remote)
    if not roots:
        load_index(local, remote, must_exist=False)
    else:
        clone = clone_id(local.root)
        with _locked(local, remote, clone) as held, translate_errors(remote):
            remote.store.forget_index()  # what a gc removed before this lock was taken is gone
            load_index(local, remote, must_exist=False)
            _copy(local, remote, roots, jobs, progress, res)
            held.check()  # not lost: no gc swept while the copy ran
            write_roots(remote.store, [oid for oid, _t in roots], clone=clone)
    counter.fill(res)
    res.elapsed = time.perf_counter() - t0
    return res


@contextlib.contextmanager
def _locked(local: ObjectStore, remote: Remote, clone: str) -> Iterator[HeldLock]:
    """The push's shared lock; a missing folder or bucket is reported as ``load_index`` reports it."""
    stack = contextlib.ExitStack()
    try:
        with translate_errors(remote):
            held = stack.enter_context(shared(remote.store, "push", clone=clone, stale=remote.lock_stale,
                                              wait=remote.lock_wait, remote=remote.name))
    except RemoteError:
        load_index(local, remote, must_exist=False)  # the clearer message when the bucket is missing
        raise
    with stack:
        yield held


def _copy(local: ObjectStore, remote: Remote, roots: list[tuple[bytes, ObjectType]], jobs: int | None,
          progress: Progress | None, res: TransferResult) -> None:
    """Copy what the roots reach and the remote lacks (lock held, remote index loaded)."""
    njobs = max(1, jobs or remote.jobs)
    has = remote.store.has
    per_root, res.missing = closure(local, roots, has)
    todo: dict[bytes, ObjectType] = {}
    for objs in per_root:
        for o, t in objs.items():
            if has(o):
                res.present += 1
            elif o not in todo:
                todo[o] = t
    recs: list[Record] = []
    for o in todo:
        rec = local.record(o)
        if rec is None:  # closure() saw it in the index a moment ago
            raise AssertionError(f"object {o.hex()} left {local.display_root} during push")
        recs.append(rec)
    # Chunks first, manifests last; within a kind in local storage order (sequential reads).
    recs.sort(key=lambda r: (ORDER.get(ObjectType(r.otype), 1), r.pack, r.offset))
    if progress:
        progress("total", sum(r.stored for r in recs))
    if recs:
        if remote.store.local:
            os.makedirs(remote.root, exist_ok=True)
        report = (lambda n: progress("bytes", n)) if progress else None
        st = copy_objects(local, remote.store, recs, jobs=njobs, progress=report)
        res.objects, res.bytes, res.raw_bytes = st.objects, st.bytes, st.raw_bytes
        res.packs, res.indexes = st.packs, st.indexes
