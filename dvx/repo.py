"""Repository-level verbs: the workspace, git and (later) remotes composed.

The CLI and the Python API both call these functions; the CLI only parses
arguments and renders the result dataclasses.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dvx import scm
from dvx.errors import CorruptObjectError, DamagedCacheError, DvxError, PointerError, UnsafePathError, UsageError
from dvx.workspace import Workspace, init_workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.add import AddResult
from dvx.workspace.checkout import CheckoutResult
from dvx.workspace.ls import LsEntry
from dvx.workspace.status import StatusResult
from dvx.workspace.targets import Target, inside_roots, resolve_targets, tree_of, widest

if TYPE_CHECKING:
    from dvx.scope import Revisions, ScopedTransfer, UnpushedHistory
    from dvx.store.objects import ObjectType

Progress = Callable[[str, int], None]


@dataclass
class InitResult:
    root: str
    dvx_dir: str
    hooks: scm.HooksResult | None = None  # None: not asked for, or installing them failed
    hooks_error: str | None = None  # why the hooks were not installed (dvx itself is initialised)
    merge_driver_error: str | None = None  # why the merge driver was not registered
    to_stage: list[str] = field(default_factory=list)  # repo-relative files git should commit


def init(start: str | os.PathLike[str] = ".", force: bool = False, hooks: bool = False, subdir: bool = False) -> InitResult:
    """Initialise dvx in the git work tree enclosing ``start`` (with ``subdir``: in ``start``, a project
    inside a monorepo), register the merge driver for pointer files (``*.dvx merge=dvx`` in
    ``.gitattributes``); with ``hooks``, also install the git hooks.

    A failure to install the hooks does not undo the initialisation: it is
    reported in ``hooks_error`` (``dvx hooks install`` can retry).
    """
    ws = init_workspace(start, force=force, subdir=subdir)
    merge_error = None
    try:
        # Registered even without the hooks: .gitattributes is committed, so every clone gets it.
        scm.register_merge_driver(ws.root)
    except DvxError as e:
        merge_error = e.format_message()
    made = [".dvx/config", ".dvx/.gitignore", "expectations/.gitkeep", scm.ATTRIBUTES]
    result = InitResult(str(ws.root), str(ws.dvx_dir), to_stage=[p for p in made if (ws.root / p).exists()],
                        merge_driver_error=merge_error)
    if hooks:
        try:
            result.hooks = scm.install_hooks(ws.root)
        except DvxError as e:
            result.hooks_error = e.format_message()
    return result


def open_workspace(start: str | os.PathLike[str] = ".") -> Workspace:
    return Workspace.find(start)


def resolve_tracked(ws: Workspace, paths: Sequence[str] | None, cwd: str | None = None) -> list[str]:
    """Repo-relative tracked paths for user arguments (data or pointer paths); all when empty."""
    return ws.resolve_tracked(list(paths) if paths else None, cwd)


def add(
    paths: Sequence[str],
    cwd: str | None = None,
    progress: Progress | None = None,
    autostage: bool | None = None,
) -> AddResult:
    """Store ``paths`` and write their pointer files; stage them when configured."""
    from dvx.workspace.add import add as _add

    if not paths:
        raise UsageError("nothing to add", "give one or more paths: `dvx add data/train.csv`")
    ws = Workspace.find(cwd or ".")
    rels = list(dict.fromkeys(ws.relpath(p, cwd).rstrip("/") for p in paths))
    scm.refuse_git_tracked(ws.root, rels)
    with ws.lock():
        _heal_cache(ws)  # so that add rewrites objects whose cached copy is damaged
        result = _add(ws, rels, progress=progress, on_pointer=lambda _rel, p: _name_profile(ws, p))
    stage = ws.config.get("core", "autostage", False) if autostage is None else autostage
    if stage:
        scm.stage(ws.root, result.to_stage)
        result.staged = True
    return result


def _name_profile(ws: Workspace, p: ptr.Pointer) -> ptr.Pointer:
    """``p`` naming the profile stored for its data id, when one is (``dvx stats``/``check`` on the
    file before it was added): no data is read, no profile parsed (its id hashes its stored bytes)."""
    if p.profile:
        return p
    from dvx.quality.stores import QualityStores

    try:
        data = QualityStores.at(ws.dvx_dir / "cache").profiles.path(p.oid).read_bytes()
    except OSError:
        return p
    from dvx.hashing import from_hex, hash_hex
    from dvx.store.objects import ObjectType

    pid = hash_hex(data)
    with ws.cache.writer() as w:
        w.put(from_hex(pid), ObjectType.PROFILE, data)
    return dataclasses.replace(p, profile=pid)


def checkout(
    paths: Sequence[str] | None = None,
    force: bool = False,
    cwd: str | None = None,
    progress: Progress | None = None,
) -> CheckoutResult:
    """Make tracked paths match their pointer files."""
    from dvx.workspace.checkout import checkout as _checkout

    ws = Workspace.find(cwd or ".")
    targets = resolve_targets(ws, paths, cwd)
    with ws.lock():
        _heal_cache(ws)
        try:
            return _checkout(ws, targets, force=force, progress=progress)
        except CorruptObjectError as e:
            _raise_healed(ws, e, _target_roots(ws, targets))
            raise


def _heal_cache(ws: Workspace) -> None:
    """Take truncated, missing and noted-damaged packs out of the cache index (cheap: one stat per pack).

    Their objects then count as missing, so fetch downloads them again and
    add rewrites them (docs/reliability.md, "Power loss"). Lock held.
    """
    from dvx.store.heal import check

    check(ws.cache)


def _heal_roots(ws: Workspace, roots: list[tuple[bytes, ObjectType]]):
    """Heal every damaged pack holding an object the roots reach (reads them all); the HealReport."""
    from dvx.store.heal import check

    return check(ws.cache, roots)


def _raise_healed(ws: Workspace, err: CorruptObjectError, roots: list[tuple[bytes, ObjectType]]) -> None:
    """After a verification failure: heal every damaged pack the roots reach, then raise DamagedCacheError."""
    report = _heal_roots(ws, roots)
    if report:
        raise DamagedCacheError(
            f"{err.message}; {report.describe(ws.shown_cache())}",
            "run `dvx pull` to fetch the damaged objects again from the remote (or `dvx add` the data again)",
        ) from err


def status(paths: Sequence[str] | None = None, cwd: str | None = None) -> StatusResult:
    """State of tracked paths and of paths inside tracked directories, reading only changed files."""
    from dvx.workspace.status import status as _status
    from dvx.workspace.targets import status_within

    ws = Workspace.find(cwd or ".")
    targets = resolve_targets(ws, paths, cwd)
    result = _status(ws, [t.rel for t in targets if not t.sub])
    inside = [t for t in targets if t.sub]
    if inside:
        result.paths.extend(status_within(ws, inside))
    return result


def ls(paths: Sequence[str] | None = None, cwd: str | None = None, remote: str | None = None) -> list[LsEntry]:
    """Tracked paths with what their pointers say; the files of tracked directories named or entered
    by ``paths`` (a tree manifest the cache lacks is fetched alone from ``remote``)."""
    from dvx.workspace.ls import ls as _ls

    ws = Workspace.find(cwd or ".")

    def fetch_tree(oid: bytes) -> None:
        from dvx.remote import fetch_objects, open_remote

        fetch_objects(ws.cache, open_remote(ws.config, remote), [oid])

    return _ls(ws, paths, cwd, fetch_tree)


# Remotes -----------------------------------------------------------------


def _pointer_roots(p: ptr.Pointer) -> list[tuple[bytes, ObjectType]]:
    """(object id, type) of a pointer's manifest and, when named, its profile."""
    from dvx.hashing import from_hex
    from dvx.store.objects import ObjectType

    out: list[tuple[bytes, ObjectType]] = [(from_hex(p.oid), ObjectType.FILE if p.kind == "file" else ObjectType.TREE)]
    if p.profile:
        out.append((from_hex(p.profile), ObjectType.PROFILE))
    return out


def _target_roots(ws: Workspace, targets: Sequence[Target]) -> list[tuple[bytes, ObjectType]]:
    """Roots of each target: a tracked path's pointer; the file manifests below a target inside one."""
    return _roots(ws, [t.rel for t in targets if not t.sub]) + inside_roots(ws, targets)


def _roots(ws: Workspace, rels: Sequence[str]) -> list[tuple[bytes, ObjectType]]:
    """Roots of each tracked path, from the workspace pointer files."""
    out: list[tuple[bytes, ObjectType]] = []
    for rel in rels:
        pp = ptr.pointer_path(rel)
        out.extend(_pointer_roots(ptr.load(ws.abspath(pp), ws.display(pp))))
    return out


def push(
    paths: Sequence[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    cwd: str | None = None,
    revs: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
    *,
    revisions: Revisions | None = None,
    workspace: bool = True,
) -> ScopedTransfer:
    """Upload what the remote lacks of the tracked paths and of the pointers committed at the chosen
    ``revisions`` (``revs``: the pointers of these commits alone, as the pre-push hook asks)."""
    from dvx import scope
    from dvx.errors import ObjectMissingError
    from dvx.remote import open_remote
    from dvx.remote import push as _push

    ws = Workspace.find(cwd or ".")
    if revs:
        revisions, workspace = scope.Revisions(revs=tuple(revs)), False
    rels = resolve_tracked(ws, paths, cwd) if paths or not revisions else None
    got = scope.chosen(ws, revisions, workspace=workspace, rels=rels)
    rem = open_remote(ws.config, remote, jobs=jobs)
    result = scope.ScopedTransfer.of(_push(ws.cache, rem, got.roots(), jobs=jobs, progress=progress), got)
    if result.missing:
        raise ObjectMissingError(
            f"{len(result.missing)} objects are neither in the cache nor on remote {rem.label}; nothing of them was pushed",
            "run `dvx add` on the data again (or `dvx fetch` from another remote)" if not got.revisions else
            "push from a clone that has the data of those commits (this one never fetched it)",
        )
    return result


def fetch(
    paths: Sequence[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    cwd: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    *,
    revisions: Revisions | None = None,
) -> ScopedTransfer:
    """Download into the cache what the tracked paths (and the pointers committed at the chosen
    ``revisions``) need and the cache lacks, level by level: manifests, then what they name."""
    from dvx import scope
    from dvx.errors import ObjectMissingError
    from dvx.remote import open_remote

    ws = Workspace.find(cwd or ".")
    targets = resolve_targets(ws, paths, cwd)
    rels = list(dict.fromkeys(t.rel for t in targets))
    whole = [t.rel for t in targets if not t.sub]
    if revisions and len(whole) < len(targets):
        t = next(t for t in targets if t.sub)
        raise UsageError(f"{ws.display(t.path)}: a path inside a tracked directory is fetched at the workspace's "
                         f"version only, not at {revisions.flags()}", f"name {ws.display(t.rel)} instead")
    got = scope.chosen(ws, revisions, rels=whole if paths or not revisions else None)
    rem = open_remote(ws.config, remote, jobs=jobs)
    with ws.lock():
        try:
            trees = _fetch_trees(ws, rem, targets, jobs)
            roots = got.roots() + inside_roots(ws, widest(targets))
            result = scope.ScopedTransfer.of(_fetch_healing(ws, rem, roots, jobs, progress), got)
        except UnsafePathError as e:
            raise _naming_pointer(ws, rels, e) from None
        result.add(trees)
    if result.missing:
        raise ObjectMissingError(
            f"{len(result.missing)} objects are missing from remote {rem.label}",
            f"push them from a clone that has them (`dvx push{' ' + revisions.flags() if revisions else ''}`)",
        )
    return result


def _fetch_trees(ws: Workspace, rem, targets: Sequence[Target], jobs: int | None):
    """Fetch alone the tree manifests of tracked directories with targets inside them; the TransferResult."""
    from dvx.remote import TransferResult, fetch_objects

    oids = dict.fromkeys(tree_of(ws, t.rel)[0] for t in widest(targets) if t.sub)
    if not oids:
        return TransferResult()
    _heal_cache(ws)
    return fetch_objects(ws.cache, rem, oids, jobs=jobs)


def _naming_pointer(ws: Workspace, rels: Sequence[str], e: UnsafePathError) -> UnsafePathError:
    """``e`` (a tree with an unsafe entry) prefixed with the pointer file that names the tree."""
    oid = getattr(e, "oid", None)
    for rel in rels:
        pp = ptr.pointer_path(rel)
        if oid is not None and ptr.load(ws.abspath(pp), ws.display(pp)).oid == oid.hex():
            return UnsafePathError(f"{ws.display(pp)}: {e.message}; nothing was written", e.hint)
    return e


def _fetch_healing(ws: Workspace, rem, roots: list[tuple[bytes, ObjectType]], jobs: int | None, progress: Progress | None):
    """``dvx.remote.fetch`` after healing the cache; once more when a cached manifest fails verification
    (the remote's own damage heals nothing here and is raised as it was). Lock held."""
    from dvx.remote import fetch as _fetch

    _heal_cache(ws)
    try:
        return _fetch(rem, ws.cache, roots, jobs=jobs, progress=progress)
    except CorruptObjectError:
        if not _heal_roots(ws, roots):
            raise
        return _fetch(rem, ws.cache, roots, jobs=jobs, progress=progress)


@dataclass
class PullResult:
    fetch: object
    checkout: CheckoutResult


def pull(
    paths: Sequence[str] | None = None,
    remote: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    cwd: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    *,
    revisions: Revisions | None = None,
) -> PullResult:
    """fetch (of ``revisions`` too, as :func:`fetch`) + checkout of the work tree's pointers.

    A cached object that fails verification during the checkout is healed
    (its pack quarantined) and fetched again once, so a pull repairs a cache
    damaged by a power cut in one run.
    """
    f = fetch(paths, remote, jobs, cwd, progress, revisions=revisions)
    try:
        c = checkout(paths, force=force, cwd=cwd)
    except DamagedCacheError:
        f = fetch(paths, remote, jobs, cwd, progress, revisions=revisions)
        c = checkout(paths, force=force, cwd=cwd)
    return PullResult(f, c)


def cloud_status(paths: Sequence[str] | None = None, remote: str | None = None, cwd: str | None = None) -> StatusResult:
    """Per tracked path, whether the remote has every object it needs (``pushed``,
    ``missing_objects``); the workspace is not examined (``state`` and ``in_cache`` are None)."""
    from dvx.remote import cloud_status as _cloud
    from dvx.remote import open_remote
    from dvx.workspace.status import BROKEN, PathStatus

    ws = Workspace.find(cwd or ".")
    rels = resolve_tracked(ws, paths, cwd)
    rem = open_remote(ws.config, remote)
    out = StatusResult(remote=rem.name)
    for rel in rels:
        pp = ptr.pointer_path(rel)
        try:
            p = ptr.load(ws.abspath(pp), ws.display(pp))
        except PointerError as e:
            out.paths.append(PathStatus(rel, "?", BROKEN, None, error=e.format_message()))
            continue
        miss = _cloud(ws.cache, rem, _pointer_roots(p))
        n = sum(len(m) for m in miss)
        out.paths.append(PathStatus(rel, p.kind, None, None, p.oid, pushed=n == 0, missing_objects=n))
    return out


def unpushed_history(remote: str | None = None, all_commits: bool = False, cwd: str | None = None) -> UnpushedHistory:
    """Versions committed on the current branch whose data the remote lacks (``scope.unpushed_versions``)."""
    from dvx import scope
    from dvx.remote import open_remote

    ws = Workspace.find(cwd or ".")
    limit, rem = None if all_commits else scope.HISTORY_LIMIT, open_remote(ws.config, remote)
    return scope.UnpushedHistory(rem.name, scope.unpushed_versions(ws, rem, limit), limit)
