"""``push``: copy every object some roots reach that a remote lacks, from the cache to the remote.

What the remote holds is learned from its index files (one listing, then
only the files not already kept under ``.dvx/cache/remote-index/``), never
one request per object. The copy itself is the store's
(``dvx.store.copy_objects``): verified blobs, per-blob compression, chunks
before manifests, an index only once the packs it names are in place.
"""

from __future__ import annotations

import os
import time

from dvx.remote.common import ORDER, Counter, Progress, TransferResult, closure, load_index
from dvx.remote.errors import translate_errors
from dvx.remote.session import Remote
from dvx.store import ObjectStore, ObjectType, Record, copy_objects


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
    njobs = max(1, jobs or remote.jobs)
    counter = Counter(remote)
    load_index(local, remote, must_exist=False)
    has = remote.store.has
    with translate_errors(remote):
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
    counter.fill(res)
    res.elapsed = time.perf_counter() - t0
    return res
