"""Which pointer files a command covers: the workspace's and those committed at chosen revisions.

DVC's revision selection (``-a/--all-branches``, ``-T/--all-tags``,
``-A/--all-commits``, ``--rev``) for ``gc``, ``push`` and ``fetch``, and the
versions of the current branch a remote lacks (``status -c``). The
pointers of a revision are read from git objects, never from the work tree:
one ``git ls-tree`` per commit and one ``git cat-file --batch`` for every
pointer blob, each blob parsed once however many commits hold it. A pointer
that cannot be read (git lacks its blob, it does not parse) is recorded in
``skipped`` with the ``rev:path`` naming it; whether that is fatal is the
caller's decision (gc refuses, push and fetch warn).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from dvx import scm
from dvx.errors import DvxError
from dvx.hashing import from_hex
from dvx.remote.common import TransferResult
from dvx.remote.session import Remote
from dvx.remote.status import remote_lacks
from dvx.scm import revs as scm_revs
from dvx.store.objects import ObjectType
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

Root = tuple[bytes, ObjectType]


@dataclass(frozen=True)
class Revisions:
    """The revisions asked for, as DVC spells them (empty: the workspace alone)."""

    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    revs: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.all_branches or self.all_tags or self.all_commits or bool(self.revs)

    def flags(self) -> str:
        """The options that ask for these revisions (for hints): ``--all-commits``, ``--rev v1``, ..."""
        if self.all_commits:
            return "--all-commits"
        out = (["--all-branches"] if self.all_branches else []) + (["--all-tags"] if self.all_tags else [])
        return " ".join(out + [f"--rev {r}" for r in self.revs])

    def commits(self, ws: Workspace) -> dict[str, str]:
        """``{commit sha: how messages name it}`` (the name given to ``--rev``, else 12 hex digits);
        UsageError for a ``--rev`` that names no commit."""
        shas: dict[str, str] = {}
        if self.all_commits:
            shas.update((s, s[:12]) for s in scm_revs.all_commits(ws.root))
        else:
            if self.all_branches:
                shas.update((s, s[:12]) for s in scm_revs.branch_heads(ws.root))
            if self.all_tags:
                shas.update((s, s[:12]) for s in scm_revs.tag_heads(ws.root))
        for r in self.revs:  # a --rev keeps its name even when a wider flag also chose its commit
            shas[scm.resolve_rev(ws.root, r)] = r
        return shas


@dataclass(frozen=True)
class Skipped:
    """A pointer file of a revision that could not be read: ``source`` is ``rev:path``, ``message``
    the error (which names ``source`` too)."""

    source: str
    message: str
    error: DvxError = field(compare=False, repr=False)

    def __str__(self) -> str:
        return self.message


@dataclass
class PointerSet:
    """The chosen pointers: ``{(object id, type): [labels]}`` (``path``, ``path@rev``), the commits
    they were read from, and the revision pointers that could not be read."""

    objects: dict[Root, list[str]] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)
    pointers: int = 0  # pointer files read, workspace and revisions
    historic: int = 0  # of them, read from revisions
    skipped: list[Skipped] = field(default_factory=list)

    def take(self, p: ptr.Pointer, label: str) -> None:
        """Add the objects pointer ``p`` names (its manifest, its profile) under ``label``."""
        self.pointers += 1
        kind = ObjectType.FILE if p.kind == "file" else ObjectType.TREE
        self.objects.setdefault((from_hex(p.oid), kind), []).append(label)
        if p.profile:
            self.objects.setdefault((from_hex(p.profile), ObjectType.PROFILE), []).append(label)

    def roots(self) -> list[Root]:
        """Every object named, once."""
        return list(self.objects)

    def data_ids(self) -> set[str]:
        """Hex ids of the data the pointers name (keys of the side stores)."""
        return {o.hex() for (o, t) in self.objects if t != ObjectType.PROFILE}


def gather(ws: Workspace, revisions: Revisions, *, workspace: bool = True, rels: Sequence[str] | None = None) -> PointerSet:
    """The pointers of the workspace (``workspace``) and of every commit ``revisions`` choose.

    ``rels``: only these tracked paths (and, at revisions, paths below them);
    None: every pointer. A workspace pointer that cannot be read raises its
    PointerError, as every command does; a revision's is put in ``skipped``.
    """
    out = PointerSet()
    if workspace:
        for pp in ws.find_pointers() if rels is None else [ptr.pointer_path(r) for r in rels]:
            out.take(ptr.load(ws.abspath(pp), ws.display(pp)), ptr.tracked_path(pp))
    if not revisions:
        return out
    names = revisions.commits(ws)
    out.revisions = list(names)
    blobs = scm_revs.pointer_blobs(ws.root, out.revisions)
    if rels is not None:
        blobs = {b: [(s, p) for s, p in where if _under(ptr.tracked_path(p), rels)] for b, where in blobs.items()}
        blobs = {b: where for b, where in blobs.items() if where}
    ids = list(blobs)
    for bid, obj in zip(ids, scm_revs.read_objects(ws.root, ids), strict=True):
        sha, path = blobs[bid][0]
        shown = f"{names[sha]}:{path}"
        try:
            p = ptr.loads(ptr.require_blob(obj[1] if obj is not None else None, shown), shown)
        except DvxError as e:
            out.skipped.append(Skipped(shown, e.message, e))
            continue
        for sha, path in blobs[bid]:
            out.historic += 1
            out.take(p, f"{ptr.tracked_path(path)}@{names[sha]}")
    return out


def chosen(ws: Workspace, revisions: Revisions | None, *, workspace: bool = True,
           rels: Sequence[str] | None = None) -> PointerSet:
    """``gather`` for push and fetch: a revision pointer that cannot be read is skipped, unless no
    pointer of the revisions could be read (its error is raised then: it was all that was asked for)."""
    got = gather(ws, revisions or Revisions(), workspace=workspace, rels=rels)
    if got.skipped and not got.historic:
        raise got.skipped[0].error
    return got


def _under(rel: str, tops: Sequence[str]) -> bool:
    return any(rel == t or rel.startswith(t + "/") for t in tops)


@dataclass
class ScopedTransfer(TransferResult):
    """A push or fetch of the chosen pointers: the transfer, the commits read, the pointers skipped."""

    revisions: list[str] = field(default_factory=list)  # commits whose pointers were read
    pointers: int = 0  # pointer files read (workspace and revisions)
    skipped: list[str] = field(default_factory=list)  # revision pointers that could not be read, with why

    @classmethod
    def of(cls, res: TransferResult, got: PointerSet) -> ScopedTransfer:
        """``res`` with what ``got`` says of the pointers."""
        return cls(**vars(res), revisions=got.revisions, pointers=got.pointers, skipped=[str(s) for s in got.skipped])


HISTORY_LIMIT = 100  # commits changing a pointer file that ``dvx status -c`` looks back over


@dataclass
class UnpushedHistory:
    """Versions committed on the current branch whose data a remote lacks (``dvx status -c``)."""

    remote: str  # the remote's name
    versions: list[tuple[str, str]] = field(default_factory=list)  # (commit, tracked path), newest first
    limit: int | None = HISTORY_LIMIT  # commits changing a pointer file looked at; None: all of HEAD's history

    def to_json(self) -> dict[str, object]:
        return {"remote": self.remote, "limit": self.limit,
                "versions": [{"commit": c, "path": p} for c, p in self.versions]}


def unpushed_versions(ws: Workspace, remote: Remote, max_commits: int | None) -> list[tuple[str, str]]:
    """``(commit, tracked path)`` of each version committed in HEAD's history (the last ``max_commits``
    commits that change a pointer file; None: all) that is not the workspace's and whose data the
    remote lacks, newest first. Pointers that cannot be read are left out (push warns of them)."""
    if scm.head_sha(ws.root) is None:
        return []
    versions = scm_revs.pointer_versions(ws.root, "HEAD", max_commits)
    current = {oid for oid, _t in gather(ws, Revisions()).objects}
    ids = list(dict.fromkeys(b for _s, _p, b in versions))
    parsed: dict[str, ptr.Pointer] = {}
    for bid, obj in zip(ids, scm_revs.read_objects(ws.root, ids), strict=True):
        with contextlib.suppress(DvxError):
            parsed[bid] = ptr.loads(ptr.require_blob(obj[1] if obj is not None else None, bid), bid)
    found: dict[tuple[str, str], tuple[str, PointerSet]] = {}  # (path, data id) -> (commit, its roots)
    for sha, path, bid in versions:
        p = parsed.get(bid)
        if p is None or from_hex(p.oid) in current:
            continue
        one = found.setdefault((ptr.tracked_path(path), p.oid), (sha, PointerSet()))[1]
        one.take(p, path)
    # A manifest on the remote is complete there, so one lookup per version: a status over 100
    # versions of a 20,000-file folder reads no manifest.
    lacking = remote_lacks(ws.cache, remote, [o for _sha, one in found.values() for o, _t in one.roots()])
    return [(sha, rel) for (rel, _oid), (sha, one) in found.items() if any(o in lacking for o, _t in one.roots())]
