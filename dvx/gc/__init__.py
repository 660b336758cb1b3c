"""``dvx gc``: keep what the chosen revisions and the workspace reach, remove the rest.

Mark (``dvx.store.gc.mark``): every object the kept pointers reach, through
the cache and (``cloud``) the remote. A manifest that cannot be read makes gc
refuse before anything is deleted; so does, with ``cloud``, one that neither
holds. Without ``cloud`` a manifest the cache never had (a granular pull, a
clone not pulled) reaches nothing in it (see ``gc``). Plan (``plan_gc``) per store, then sweep
(``dvx.store.repack.apply_gc``), under the repository lock; the side folders
of ``.dvx/cache`` (``dvx.gc.side``) after. ``dry_run`` plans and writes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dvx.errors import GcRefusedError, RemoteError
from dvx.gc.roots import Roots, gather, settings
from dvx.gc.side import SideResult, sweep
from dvx.store.gc import GcPlan, mark, plan_gc
from dvx.store.heal import set_aside
from dvx.store.objects import ObjectType
from dvx.store.repack import GcStats, apply_gc
from dvx.workspace import Workspace

_SHOWN = 3


@dataclass
class StoreGc:
    """One store's plan and, unless a dry run, what was done."""

    label: str  # "cache" or "remote 'NAME'"
    plan: GcPlan
    stats: GcStats | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"store": self.label, **self.plan.to_json()}
        if self.stats is not None:
            out["done"] = self.stats.to_json()
        return out


@dataclass
class GcResult:
    """What gc kept (revisions, pointers, objects) and removed (per store, side folders)."""

    dry_run: bool
    revisions: list[str] = field(default_factory=list)
    pointers: int = 0
    roots: int = 0
    live_objects: int = 0
    grace: str = "1h"
    stores: list[StoreGc] = field(default_factory=list)
    side: SideResult = field(default_factory=SideResult)
    confirmed: bool = True
    projects: list[str] = field(default_factory=list)  # the other projects of a shared cache whose roots were kept
    not_cached: int = 0  # kept manifests the cache never had (no --cloud): nothing below them is in the cache

    def to_json(self) -> dict[str, object]:
        return {"dry_run": self.dry_run, "revisions": self.revisions, "pointers": self.pointers,
                "roots": self.roots, "live_objects": self.live_objects, "grace": self.grace,
                "stores": [s.to_json() for s in self.stores], "side": self.side.to_json(),
                "removed": self.confirmed, "projects": self.projects, "manifests_not_cached": self.not_cached}


def gc(
    *,
    workspace: bool = False,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    revs: Sequence[str] = (),
    cloud: bool = False,
    remote: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[GcResult], bool] | None = None,
    projects: Sequence[str] = (),
    force: bool = False,
    cwd: str | None = None,
) -> GcResult:
    """Remove from the cache (``cloud``: and the remote) what the kept pointers do not reach.

    ``confirm`` is called with the plan before anything is deleted; False
    leaves everything as it was (``confirmed`` False in the result).
    A cache other projects use too (``[cache] dir``) is collected only when
    ``projects`` names every one of them: their workspaces and the same
    ``--all-*`` scopes (not ``--rev``, which names this project's commits) are
    kept too; GcRefusedError otherwise (``dvx.gc.shared``). ``force``: the user
    gave ``-f`` (only repeated in the hint of that refusal).
    """
    from dvx.gc.shared import other_projects

    ws = Workspace.find(cwd or ".")
    conf = settings(ws.config)
    scope = {"workspace": workspace, "all_branches": all_branches, "all_tags": all_tags, "all_commits": all_commits}
    roots = gather(ws, **scope, revs_wanted=list(revs))
    res = GcResult(dry_run, roots.revisions, roots.pointers, 0, grace=conf.grace_text)
    lock = contextlib.nullcontext() if dry_run else ws.lock(exclusive_cache=True)
    with lock:
        # Under the exclusive cache lock: no other project writes to the cache until the sweep is done.
        others = other_projects(ws, projects, dry_run=dry_run,
                                rerun=_rerun(scope, revs, cloud, remote, dry_run, force))
        for other in others:
            more = gather(other, **{**scope, "workspace": True}, revs_wanted=[])
            res.projects.append(os.path.realpath(other.root))
            res.pointers += more.pointers
            for key, labels in more.objects.items():
                roots.objects.setdefault(key, []).extend(f"{other.root}:{label}" for label in labels)
        res.roots = len(roots.objects)
        rem = _open_remote(ws, remote, dry_run) if cloud else None
        guard: Any = contextlib.nullcontext()
        if rem is not None:
            from dvx.remote import translate_errors

            guard = translate_errors(rem)
        with guard:
            stores = [ws.cache] + ([rem.store] if rem is not None else [])
            # The cache alone: a manifest it does not hold at all (a clone never pulled, or pulled in
            # part: `dvx pull data/images/cats` caches the tree and the file manifests below cats/ only)
            # names nothing that must stay in it. Objects enter the cache by `dvx add`, which writes a
            # file's chunks, its manifest, then the pointer (an added version's manifest is there), or
            # by a fetch: the Python API's reads (dvx/versions/fill.py, view.py) fetch a manifest before
            # its chunks; `dvx fetch`/`pull` (dvx/remote/fetch.py, _copy_in) writes chunks first and
            # manifests last, so an interrupted fetch can leave chunks whose manifest the cache never
            # had. Those are copies of what the remote holds, which the next fetch brings again: gc
            # loses nothing only the cache had. A manifest the cache names but cannot read still
            # refuses (it may be the only record of chunks never pushed), and so does one it held
            # damaged and healing set aside since (a pack in quarantine/ lists it); with --cloud, one
            # the remote lacks too: the remote is the system of record.
            m = mark(stores, list(roots.objects), absent_ok=rem is None)
            if m.absent:
                for oid in m.absent & set_aside(ws.cache):
                    m.absent.discard(oid)
                    m.unwalkable[oid] = "was damaged in the cache and set aside in quarantine/"
            res.not_cached = len(m.absent)
            if m.unwalkable:
                raise _refusal(roots, m.unwalkable, cloud)
            res.live_objects = len(m.live) - len(m.absent)
            res.stores.append(StoreGc("cache", plan_gc(ws.cache, m.live, repack=conf.repack, grace=conf.grace)))
            if rem is not None:
                from dvx.store.gcsafe import live_with_markers, mark_listing

                # What the remote holds now, then the index the plan is made from: a push
                # landing after this listing makes collect plan again under the lock.
                listing = mark_listing(rem.store)
                rem.store.refresh()
                live_r = live_with_markers(rem.store, m.live, conf.grace)
                res.stores.append(StoreGc(f"remote {rem.label}",
                                          plan_gc(rem.store, live_r, repack=conf.repack, grace=conf.grace)))
            res.side = sweep(str(ws.side_dir), m.live, conf.grace, dry_run=True, tmp_dir=str(ws.cache_dir / "tmp"))
            if dry_run:
                return res
            if confirm is not None and not confirm(res):
                res.confirmed = False
                return res
            # The cache: the repository lock is held, and apply_gc takes the cache's
            # fetch lock (the only writer that does not take the repository lock).
            res.stores[0].stats = apply_gc(ws.cache, res.stores[0].plan)
            if rem is not None:
                res.stores[1] = _collect_remote(ws, rem, res.stores[1], live_r, conf, listing)
                rem.store.refresh()  # the local copies of deleted remote index files go (indexfiles._kept)
        res.side = sweep(str(ws.side_dir), m.live, conf.grace, dry_run=False, tmp_dir=str(ws.cache_dir / "tmp"))
    return res


def _rerun(scope: dict[str, bool], revs: Sequence[str], cloud: bool, remote: str | None, dry_run: bool,
           force: bool) -> str:
    """The gc command line of these options (the hint of a refusal adds ``--projects``)."""
    flags = {"workspace": "-w", "all_branches": "--all-branches", "all_tags": "--all-tags", "all_commits": "--all-commits"}
    argv = ["dvx", "gc", *(flags[k] for k, on in scope.items() if on)]
    for r in revs:
        argv += ["--rev", r]
    if cloud:
        argv.append("-c")
    if remote:
        argv += ["-r", remote]
    if dry_run:
        argv.append("--dry-run")
    if force:
        argv.append("-f")
    return shlex.join(argv)


def _collect_remote(ws: Workspace, rem: Any, planned: StoreGc, live: set[Any], conf: Any, listing: Any) -> StoreGc:
    """Sweep the remote under its exclusive lock, planning again if a push landed since the mark."""
    from dvx.store.gcsafe import collect
    from dvx.store.locks import clone_id

    done = collect(
        rem.store, lambda: live,
        lambda st, lv: plan_gc(st, lv, repack=conf.repack, grace=conf.grace), apply_gc, conf.grace,
        clone=clone_id(ws.cache.root), stale=rem.lock_stale, remote=rem.name, planned=planned.plan,
        listing=listing,
    )
    return StoreGc(planned.label, done.plan, done.stats)


@dataclass
class BreakLockResult:
    """The lock files ``break_lock`` removed from a remote."""

    remote: str
    removed: list[Any] = field(default_factory=list)  # dvx.store.locks.LockInfo

    def to_json(self) -> dict[str, object]:
        return {"remote": self.remote, "removed": [
            {"name": i.name, "exclusive": i.exclusive, "op": i.op, "host": i.host, "pid": i.pid} for i in self.removed]}


def break_lock(*, remote: str | None = None, force: bool = False, cwd: str | None = None) -> BreakLockResult:
    """Remove the stale lock files of a remote (``force``: every lock file, live or not)."""
    from dvx.remote import translate_errors
    from dvx.store.locks import break_locks

    ws = Workspace.find(cwd or ".")
    rem = _open_remote(ws, remote, dry_run=True)
    with translate_errors(rem):
        return BreakLockResult(rem.label, break_locks(rem.store, force, stale=rem.lock_stale))


def _open_remote(ws: Workspace, name: str | None, dry_run: bool) -> Any:
    from dvx.remote import open_remote, translate_errors

    rem = open_remote(ws.config, name)
    with translate_errors(rem):
        if not rem.fs.exists(rem.root):
            raise RemoteError(f"remote {rem.label}: nothing at {rem.store.display_root} (no such folder or bucket, "
                              "or nothing pushed yet)")
        if not dry_run:  # a dry run writes nothing, not even the local copies of the remote's index files
            rem.use_index_cache(str(ws.cache_dir))
        rem.store.refresh()
    return rem


def _refusal(roots: Roots, bad: dict[bytes, str], cloud: bool) -> GcRefusedError:
    oid, why = next(iter(bad.items()))
    labels: list[str] = []
    kind = "manifest"
    for (o, t), ls in roots.objects.items():
        if o == oid:
            labels += ls
            kind = t.name.lower()
    if not labels:  # a file manifest named by a tree: the roots whose tree names it are not known here
        kind = ObjectType.FILE.name.lower()
    where = "the cache" + (" or the remote" if cloud else "")
    whose = f" ({', '.join(labels[:_SHOWN])}{' and more' if len(labels) > _SHOWN else ''})" if labels else ""
    more = f"; {len(bad) - 1} more manifests too" if len(bad) > 1 else ""
    reason = f"is not in {where}" if why == "is in no store" else why
    # Without --cloud only a manifest the cache holds damaged (or not decodable) gets here: fsck --repair
    # sets its pack aside and fetches it again (or rebuilds it from the workspace).
    return GcRefusedError(
        f"dvx gc: nothing deleted: {kind} {oid.hex()}{whose} {reason}, so what it needs is unknown{more}",
        None if cloud else "run `dvx fsck --repair`, then gc again",
    )
