"""``dvx fsck``: check the cache (and a remote) and that the chosen pointers resolve. Read-only.

Pointers: the workspace's (default), those committed at ``rev``, or those of
every commit (``all_commits``). Each problem names its pack or object and
the data paths (``path`` in the workspace, ``path@rev`` at a revision) it
affects. The only write is the "damaged" note of the cache
(``dvx.store.heal``), which the next ``fetch``/``pull``/``add`` heals.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dvx import scm
from dvx.errors import DvxError, PointerError, UsageError
from dvx.hashing import from_hex
from dvx.store.fsck import Reach, StoreCheck, check_store
from dvx.store.objects import ObjectType
from dvx.store.store import ObjectStore
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

_SHOWN = 5  # affected paths shown per problem line


@dataclass
class Problem:
    """One problem: where (``cache`` or a remote), what (index, pack, object, missing, pointer), its id."""

    store: str
    what: str
    id: str
    message: str
    pack: str | None = None
    affects: list[str] = field(default_factory=list)
    fix: str | None = None  # after ``--repair``: why it is left and what would fix it

    def line(self) -> str:
        """One line: the message, then the data paths it affects (and, when left by a repair, the fix)."""
        text = self.message
        if self.affects:
            more = f" and {len(self.affects) - _SHOWN} more" if len(self.affects) > _SHOWN else ""
            text = f"{text}; affects {', '.join(self.affects[:_SHOWN])}{more}"
        return text if self.fix is None else f"{text}; {self.fix}"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"store": self.store, "kind": self.what, "id": self.id, "pack": self.pack,
                                  "message": self.message, "affects": self.affects}
        if self.fix is not None:
            out["fix"] = self.fix
        return out


@dataclass
class FsckResult:
    """What was checked and what is wrong (empty ``problems``: clean)."""

    stores: list[StoreCheck] = field(default_factory=list)
    pointers: int = 0  # pointer files read
    roots: int = 0  # distinct objects they name
    revisions: list[str] = field(default_factory=list)  # commits checked; empty: the workspace
    paths: dict[str, str] = field(default_factory=dict)  # affected-path label -> repository-relative path
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "clean": self.clean,
            "revisions": self.revisions,
            "pointers": self.pointers,
            "roots": self.roots,
            "stores": [{"where": s.where, "indexes": s.indexes, "packs": s.packs, "objects": s.objects,
                        "bytes": s.checked_bytes} for s in self.stores],
            "problems": [p.to_json() for p in self.problems],
        }


def fsck(
    paths: Sequence[str] | None = None,
    rev: str | None = None,
    all_commits: bool = False,
    cloud: bool = False,
    remote: str | None = None,
    cwd: str | None = None,
) -> FsckResult:
    """Check every pack, index and object of the cache (``cloud``: of the remote too) and that
    everything the chosen pointers reach is held intact by a checked store."""
    if rev is not None and all_commits:
        raise UsageError("--rev and --all-commits cannot be combined", "give one of them")
    ws = Workspace.find(cwd or ".")
    res = FsckResult()
    roots = roots_of(ws, paths, rev, all_commits, cwd, res)
    check_stores(ws, res, roots, cloud, remote)
    return res


def check_stores(
    ws: Workspace, res: FsckResult, roots: dict[tuple[bytes, ObjectType], list[str]], cloud: bool, remote: str | None
) -> None:
    """Check the cache (``cloud``: and the remote) and what ``roots`` reach into ``res``."""
    stores: list[tuple[str, ObjectStore]] = [("cache", ws.cache)]
    guard: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
    if cloud:
        from dvx.errors import RemoteError
        from dvx.remote import open_remote, translate_errors

        rem = open_remote(ws.config, remote)
        guard = functools.partial(translate_errors, rem)  # filesystem and S3 exceptions as one-line RemoteErrors
        with guard():
            if not rem.fs.exists(rem.root):
                raise RemoteError(f"remote {rem.label}: nothing at {rem.store.display_root} (no such folder or bucket, "
                                  "or nothing pushed yet)")
        stores.append((f"remote {rem.label}", rem.store))
    with guard():
        _check(res, stores, roots, cloud)


def _check(
    res: FsckResult, stores: list[tuple[str, ObjectStore]], roots: dict[tuple[bytes, ObjectType], list[str]], cloud: bool
) -> None:
    bad: set[bytes] = set()
    checks: list[tuple[str, StoreCheck]] = []
    for name, store in stores:
        chk = check_store(store, note=name == "cache")
        res.stores.append(chk)
        checks.append((name, chk))
        bad |= chk.bad_oids()
    # A damaged copy in any checked store is reported with the paths reaching it, even when the other
    # store holds a good one (that copy is what `dvx pull` or `dvx push` would restore it from).
    reach = Reach([s for _n, s in stores], bad)
    hits: list[tuple[str, set[bytes]]] = []  # (label, problem ids it reaches), only labels with some
    for (oid, otype), labels in roots.items():
        got = reach.root(oid, otype)
        if got:
            hits.extend((label, got) for label in labels)
    held = "the cache" + (" or the remote" if cloud else "")
    for m in reach.missing.values():
        whose = "" if m.parent is None else f" (named by {m.parent.hex()})"
        kind = "missing" if m.reason == "is not in" else "manifest"
        affects = list(dict.fromkeys(label for label, h in hits if m.oid in h))
        res.problems.append(Problem(
            "cache", kind, m.oid.hex(), f"{m.otype.name.lower()} {m.oid.hex()}{whose} {m.reason} {held}", None, affects,
        ))
    for name, chk in checks:
        for sp in chk.problems:
            affects = list(dict.fromkeys(label for label, h in hits if not h.isdisjoint(sp.oids))) if sp.oids else []
            res.problems.append(Problem(name, sp.what, sp.name, sp.message, sp.pack, affects))


def roots_of(
    ws: Workspace, paths: Sequence[str] | None, rev: str | None, all_commits: bool, cwd: str | None, res: FsckResult
) -> dict[tuple[bytes, ObjectType], list[str]]:
    """``{(object id, type): [labels]}`` named by the chosen pointers; unreadable pointers become problems."""
    out: dict[tuple[bytes, ObjectType], list[str]] = {}

    def take(p: ptr.Pointer, label: str) -> None:
        res.pointers += 1
        kind = ObjectType.FILE if p.kind == "file" else ObjectType.TREE
        out.setdefault((from_hex(p.oid), kind), []).append(label)
        if p.profile:
            out.setdefault((from_hex(p.profile), ObjectType.PROFILE), []).append(label)

    if rev is None and not all_commits:
        for rel in ws.resolve_tracked(list(paths) if paths else None, cwd):
            pp = ptr.pointer_path(rel)
            try:
                take(ptr.load(ws.abspath(pp), ws.display(pp)), rel)
            except PointerError as e:
                res.problems.append(Problem("workspace", "pointer", pp, e.message, None, [rel]))
        res.roots = len(out)
        return out
    shas = [scm.resolve_rev(ws.root, rev)] if rev is not None else scm.all_commits(ws.root)
    res.revisions = shas
    wanted = [ws.relpath(p, cwd).rstrip("/") for p in paths or ()]
    specs: list[tuple[str, str, str]] = []
    for sha in shas:
        shown = rev if rev is not None else sha[:12]
        for pp in scm.pointers_at_rev(ws.root, sha):
            rel = ptr.tracked_path(pp)
            if not wanted or any(rel == w or rel.startswith(w + "/") for w in wanted):
                specs.append((f"{sha}:{pp}", f"{rel}@{shown}", f"{shown}:{pp}"))
                res.paths[f"{rel}@{shown}"] = rel
    objs = scm.read_objects(ws.root, [s for s, _l, _d in specs])
    for (_spec, label, display), obj in zip(specs, objs, strict=True):
        try:
            take(ptr.loads(ptr.require_blob(obj[1] if obj is not None else None, display), display), label)
        except DvxError as e:
            res.problems.append(Problem("git", "pointer", display, e.message, None, [label]))
    res.roots = len(out)
    return out
