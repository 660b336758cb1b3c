"""The client side of a cluster job: plan partitions, run them on workers, merge in plan order.

The client plans from its own view of the version (``ref``: Parquet footers
and directory listings only, never rows) and sends one task per partition,
keyed by (data id, ``profile`` or suite id, partition index): a task Dask
re-runs after losing a worker replaces its result, so nothing counts twice.
The merge is the one the single-machine path uses
(:mod:`dvx.quality.partitions`), so a cluster's profile is byte-identical to
one machine's and its validation results are the same.

GX expectations the Arrow engine lacks (the slow path) and pandera suites are
not partitioned: they run once on the client, over the client's view.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dvx.cluster.runner import run_tasks
from dvx.cluster.source import Compute, WorkerSource
from dvx.cluster.tasks import profile_task, validate_task

if TYPE_CHECKING:
    from dvx.quality.partitions import PartialValidation, Partition
    from dvx.quality.profile import Profile
    from dvx.quality.results import DatasetValidation, ResultStore, SuiteValidation
    from dvx.quality.sources import TableRef
    from dvx.quality.stores import ProfileStore
    from dvx.quality.suite import Suite


def _announce(what: str, tasks: int, scheduler: str) -> None:
    """One line per job on a terminal: what runs where."""
    if tasks and sys.stderr.isatty():
        print(f"{what}: {tasks} partition task(s) on {scheduler}", file=sys.stderr, flush=True)


def _by_file(plan: Sequence[Partition]) -> list[tuple[str, list[Partition]]]:
    """The plan's partitions grouped by file, in plan order."""
    out: list[tuple[str, list[Partition]]] = []
    for part in plan:
        if out and out[-1][0] == part.file:
            out[-1][1].append(part)
        else:
            out.append((part.file, [part]))
    return out


def profile_on_cluster(ref: TableRef, src: WorkerSource, compute: Compute, *,
                       file_id: Callable[[str], str | None] | None = None,
                       side: ProfileStore | None = None) -> Profile:
    """The profile of the version ``src`` names (``ref``: the client's view of it, for the plan).

    The partitions of a file merge first, then the files in path order (as
    ``profile_path`` does). With ``file_id`` and ``side``, a file whose profile
    the side store holds (by file id) is not sent, and each file profiled here
    is stored, as the one-machine path does for directories.
    """
    from dvx.quality import partitions

    # the target read now, as profile_path reads it: the same plan, the same merge
    groups = _by_file(partitions.plan_partitions(ref, target_bytes=partitions.DEFAULT_TARGET_BYTES))
    ids = {f: (file_id(f) if file_id is not None and f else None) for f, _ in groups}
    known = {f: side.get(fid) for f, fid in ids.items() if fid and side is not None}
    todo = [part for f, parts in groups if known.get(f) is None for part in parts]
    keys = [f"dvx-profile-{src.data_id}-{part.index}" for part in todo]
    _announce(f"profiling {src.rel}", len(todo), compute.scheduler)
    got = run_tasks(profile_task, [(src, part) for part in todo], keys, compute.scheduler,
                    what=f"profiling {src.rel}")
    partial = {part.index: prof for part, prof in zip(todo, got, strict=True)}
    files: list[Profile] = []
    for f, parts in groups:
        prof = known.get(f)
        if prof is None:
            prof = partitions.merge_profiles([partial[part.index] for part in parts])
            fid = ids[f]
            if fid and side is not None:
                side.put(fid, prof)
        files.append(prof)
    return partitions.merge_profiles(files)


def validate_on_cluster(ref: TableRef, suites: Sequence[Suite], src: WorkerSource, compute: Compute, *,
                        label: str | None = None, store: ResultStore | None = None) -> DatasetValidation:
    """Validate the version ``src`` names against ``suites`` (as ``validate_dataset``; stored
    results answer per suite): the Arrow engine's partitions on the workers, the slow path
    and pandera suites here, merged per suite."""
    from dvx.quality import partitions
    from dvx.quality.results import DatasetValidation
    from dvx.quality.sources import label_of
    from dvx.quality.validate import GX_TIME, run_suite

    t0 = time.perf_counter()
    done: dict[int, SuiteValidation] = {}
    for n, s in enumerate(suites):
        sv = store.get(src.data_id, s.id) if store is not None else None
        if sv is not None:
            done[n] = sv
    plans = {n: partitions.plan_suite(ref, s) for n, s in enumerate(suites)
             if n not in done and s.kind != "pandera"}
    plan: list[Partition] = (partitions.plan_partitions(ref, target_bytes=partitions.DEFAULT_TARGET_BYTES)
                             if any(p.evaluated for p in plans.values()) else [])
    items: list[tuple[WorkerSource, Suite, Any, Partition]] = []
    keys: list[str] = []
    owners: list[int] = []
    for n, sp in plans.items():
        if not sp.evaluated:
            continue
        for part in plan:
            items.append((src, suites[n], sp.schema, part))
            keys.append(f"dvx-validate-{src.data_id}-{suites[n].id}-{part.index}")
            owners.append(n)
    _announce(f"validating {src.rel}", len(items), compute.scheduler)
    got = run_tasks(validate_task, items, keys, compute.scheduler, what=f"validating {src.rel}")
    partials: dict[int, list[PartialValidation]] = {n: [] for n in plans}
    for n, pv in zip(owners, got, strict=True):
        partials[n].append(pv)
    for n, s in enumerate(suites):
        if n in done:
            continue
        t_suite = time.perf_counter()
        if s.kind == "pandera":  # not partitioned: the whole dataset, here
            sv = run_suite(ref, s)
        else:
            sp = plans[n]
            slow = partitions.validate_slow(ref, s, sp) if sp.slow else None
            sv = partitions.merge_validation(s, sp.schema, partials[n], slow,
                                             elapsed=time.perf_counter() - t_suite + sum(p.elapsed for p in partials[n]))
        if store is not None:
            store.put(src.data_id, s.id, sv)
        done[n] = sv
    svs = [done[n] for n in range(len(suites))]
    notes = [x for sv in svs for x in sv.notes if not (sv.cached and GX_TIME in x)]
    return DatasetValidation(dataset=label or label_of(ref), success=all(sv.success for sv in svs),
                             results=[r for sv in svs for r in sv.results], suites=svs, notes=notes,
                             elapsed=time.perf_counter() - t0, label=label, data_id=src.data_id)
