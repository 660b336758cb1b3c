"""``dvx fsck --repair``: mend the cache, then refill what the chosen pointers reach. Lock held.

1. check the cache (``check_stores``) and mend its index files and packs
   (``dvx.store.repair``: salvage, rewrite indexes, index orphan packs,
   quarantine; nothing is deleted);
2. objects the pointers reach that the cache lacks are fetched from the
   remote (``-r`` or the default; ``dvx.remote.fetch_objects``, every object
   verified), else rebuilt from a workspace file whose content, chunked,
   yields the manifest id the pointer or tree names
   (``dvx.workspace.rebuild``); repeated while it brings new manifests;
3. a second check says what is left, each problem with why and what would
   fix it. A remote (``--cloud``) is checked and reported, never changed.

Every step writes before it retires anything, so a rerun after a crash
finishes the repair.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dvx.errors import ConfigError, CorruptObjectError, DvxError, ObjectMissingError, RemoteError, UsageError
from dvx.fsck import FsckResult, Problem, check_stores, roots_of
from dvx.store.fsck import Reach
from dvx.store.objects import ObjectType
from dvx.store.repair import repair_store
from dvx.workspace import Workspace
from dvx.workspace.dvxignore import Ignore
from dvx.workspace.rebuild import rebuild_file, rebuild_tree

_ROUNDS = 4  # tree -> file manifests -> chunks, and one more for good measure

REMOTE_FIX = ("not repaired: dvx never changes a remote, and a push skips objects the remote's index names, "
              "so none replaces this copy; restore the remote's files from a copy that has them")
DATA_FIX = ("not repaired: {why} and no workspace file matches it; put the data it affects back in the workspace "
            "(or push it to the remote from a clone that has it) and run `dvx fsck --repair` again")
# A push skips what the remote's index names, damaged or not: only the workspace route is offered.
DAMAGED_FIX = ("not repaired: {why} and no workspace file matches it; put the data it affects back in the "
               "workspace and run `dvx fsck --repair` again")
POINTER_FIX = "not repaired: restore the pointer file from git"
MANIFEST_FIX = ("not repaired: the object is intact but not a manifest, so the pointer naming it is wrong; "
                "restore the pointer file from git")


@dataclass
class Repaired:
    """One repair done: where, what (``index``, ``pack``, ``object``), its id, how."""

    store: str
    what: str
    id: str
    how: str

    def line(self) -> str:
        return f"repaired {self.what} {self.id} in the {self.store}: {self.how}"

    def to_json(self) -> dict[str, object]:
        return {"store": self.store, "kind": self.what, "id": self.id, "how": self.how}


@dataclass
class RepairResult:
    """What the first check found, what was repaired, and the check after it (``left``)."""

    found: list[Problem] = field(default_factory=list)
    repaired: list[Repaired] = field(default_factory=list)
    after: FsckResult = field(default_factory=FsckResult)
    remote: str | None = None  # the remote objects were fetched from (None: none usable)
    remote_bad: set[str] = field(default_factory=set)  # objects whose remote copy failed verification

    @property
    def left(self) -> list[Problem]:
        return self.after.problems

    @property
    def clean(self) -> bool:
        return not self.left

    def to_json(self) -> dict[str, object]:
        out = self.after.to_json()
        out.update({
            "clean": self.clean,
            "found": [p.to_json() for p in self.found],
            "repaired": [r.to_json() for r in self.repaired],
            "left": [p.to_json() for p in self.left],
            "remote": self.remote,
        })
        return out


def repair(
    paths: Sequence[str] | None = None,
    rev: str | None = None,
    all_commits: bool = False,
    cloud: bool = False,
    remote: str | None = None,
    cwd: str | None = None,
) -> RepairResult:
    """Check and repair the cache (see the module docstring); the remote is only checked (``cloud``)."""
    if rev is not None and all_commits:
        raise UsageError("--rev and --all-commits cannot be combined", "give one of them")
    ws = Workspace.find(cwd or ".")
    if remote is not None:
        from dvx.remote.config import get_remote

        get_remote(ws.config, remote)  # a remote named but not configured: refused before any work
    res = RepairResult()
    with ws.lock():
        before = FsckResult()
        roots = roots_of(ws, paths, rev, all_commits, cwd, before)
        check_stores(ws, before, roots, False, None)
        res.found = before.problems
        for d in repair_store(ws.cache, before.stores[0].problems):
            res.repaired.append(Repaired("cache", d.what, d.id, d.how))
        ws.cache.refresh()
        opened: list[tuple[Any, str]] = []

        def rem() -> Any:
            """The remote, opened (and its index loaded) only when something is missing."""
            if not opened:
                opened.append(_remote(ws, remote))
                res.remote = None if opened[0][0] is None else opened[0][0].label
            return opened[0][0]

        _refill(ws, rem, roots, before.paths, res)
        why = opened[0][1] if opened else "nothing to fetch"
        after = FsckResult()
        roots = roots_of(ws, paths, rev, all_commits, cwd, after)
        check_stores(ws, after, roots, cloud, remote)
        res.after = after
    for p in after.problems:
        p.fix = _fix(p, f"remote {res.remote}'s copy is damaged too" if p.id in res.remote_bad else why)
    return res


def _remote(ws: Workspace, name: str | None) -> tuple[Any, str]:
    """The remote to fetch from and, when there is none, why."""
    from dvx.remote import open_remote
    from dvx.remote.common import load_index

    try:
        rem = open_remote(ws.config, name)
        load_index(ws.cache, rem, must_exist=True)
    except DvxError as e:
        if name is not None:
            raise
        return None, f"no remote to fetch it from ({e.message})"
    return rem, f"remote {rem.label} lacks it"


def _fix(p: Problem, why: str) -> str:
    if p.store != "cache" and p.store not in ("workspace", "git"):
        return REMOTE_FIX
    if p.what == "pointer":
        return POINTER_FIX
    if p.what == "manifest":
        return MANIFEST_FIX
    return (DAMAGED_FIX if why.endswith("damaged too") else DATA_FIX).format(why=why)


def _refill(ws: Workspace, remote: Callable[[], Any], roots: dict[tuple[bytes, ObjectType], list[str]], rels: dict[str, str],
            res: RepairResult) -> None:
    """Fetch or rebuild what the roots reach and the cache lacks, round after round."""
    cache = ws.cache
    tried: set[tuple[bytes, str]] = set()
    for _ in range(_ROUNDS):
        reach = Reach([cache], set())
        for oid, otype in roots:
            reach.root(oid, otype)
        missing = {m.oid: m for m in reach.missing.values() if m.reason == "is not in"}
        if not missing:
            return
        rem = remote()
        got = _fetch(cache, rem, list(missing), res) if rem is not None else set()
        places = _places(ws, roots, rels)
        for m in missing.values():
            if m.oid in got:
                continue
            target = m.parent if m.otype == ObjectType.CHUNK else m.oid
            if target is None:
                continue
            for path, kind in places.get(target, ()):
                if (target, path) in tried:
                    continue
                tried.add((target, path))
                shown = ws.display(os.path.relpath(path, ws.root))
                if kind == ObjectType.TREE:
                    ok = rebuild_tree(cache, path, ws.chunker, target, _outer_ignore(ws, path))
                else:
                    ok = rebuild_file(cache, path, ws.chunker, target)
                if ok:
                    res.repaired.append(Repaired(
                        "cache", kind.name.lower(), target.hex(),
                        f"rebuilt from workspace {'folder' if kind == ObjectType.TREE else 'file'} {shown} "
                        f"(its content yields the same id)",
                    ))
                    got.add(m.oid)
                    break
        if not got:
            return
        cache.refresh()


def _outer_ignore(ws: Workspace, path: str) -> Ignore | None:
    """The ``.dvxignore`` rules above the workspace folder ``path``, as ``add`` applied them; None when
    they cannot be read (the rebuild then sees the folder without them)."""
    try:
        return Ignore.outer(ws.root, os.path.relpath(path, ws.root).replace(os.sep, "/"))
    except ConfigError:
        return None


def _fetch(cache: Any, rem: Any, oids: list[bytes], res: RepairResult) -> set[bytes]:
    """Fetch the objects of ``oids`` the remote has; the ids fetched (a damaged remote copy is skipped)."""
    from dvx.remote import fetch_objects

    have = [o for o in oids if rem.store.has(o)]
    if not have:
        return set()
    got: set[bytes] = set()
    try:
        fetch_objects(cache, rem, have)
        got = set(have)
    except (CorruptObjectError, ObjectMissingError, RemoteError):
        for o in have:  # one at a time: keep every object whose remote copy verifies
            try:
                fetch_objects(cache, rem, [o])
                got.add(o)
            except (CorruptObjectError, ObjectMissingError, RemoteError):
                res.remote_bad.add(o.hex())
    for o in got:
        res.repaired.append(Repaired("cache", "object", o.hex(), f"fetched again from remote {rem.label}"))
    return got


def _places(ws: Workspace, roots: dict[tuple[bytes, ObjectType], list[str]], rels: dict[str, str]
            ) -> dict[bytes, list[tuple[str, ObjectType]]]:
    """``{manifest id: [(workspace path, type)]}``: where the roots' files and folders would be."""
    out: dict[bytes, list[tuple[str, ObjectType]]] = {}
    for (oid, otype), labels in roots.items():
        if otype not in (ObjectType.FILE, ObjectType.TREE):
            continue
        for label in labels:
            rel = rels.get(label, label)  # a label at a revision is "path@REV"
            path = str(ws.abspath(rel))
            out.setdefault(oid, []).append((path, otype))
            if otype != ObjectType.TREE or not ws.cache.has(oid):
                continue
            try:
                entries = ws.cache.get_tree_manifest(oid).entries
            except (DvxError, ValueError):
                continue
            for e in entries:
                out.setdefault(e.file_oid, []).append((os.path.join(path, os.fsdecode(e.path)), ObjectType.FILE))
    return out
