"""Which version of a dataset a command reads: one rule, as git has for diffs.

- default: the files **on disk** (the workspace), even when modified since
  ``dvx add``;
- ``staged``: the version last added, the one the pointer file names (what
  ``git add PATH.dvx`` stages and the pre-commit hook checks);
- ``rev``: the version committed at a revision.

Drift compares with a baseline revision (default ``HEAD``).

A version is a :class:`ptr.Pointer` whose ``oid`` is the content id measured.
For the workspace it is the id of the file on disk: an unchanged file is
answered by the stat cache (not read); a modified one is hashed, storing
nothing but its stat-cache entry (no objects, no pointer file). Results and
profiles are stored by that id, so a second run on the same bytes reads no
data. :func:`dvx.gate.data.open_version` then reads the disk copy, because
its id is the version's.
"""

from __future__ import annotations

from dataclasses import dataclass

from dvx import scm
from dvx.errors import UsageError
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

WORKSPACE, STAGED, REV = "workspace", "staged", "rev"
MODIFIED = "workspace (modified since dvx add)"


@dataclass(frozen=True)
class Version:
    """One version of a tracked dataset and how output names it."""

    rel: str
    pointer: ptr.Pointer  # ``oid``: the content id measured
    rev: str | None  # the commit holding the pointer; None: the workspace or the pointer file
    label: str  # "workspace", "workspace (modified since dvx add)", "staged <id12>", "<rev> <id12>"
    where: str = WORKSPACE  # workspace / staged / rev

    @property
    def oid(self) -> str:
        return self.pointer.oid

    @property
    def modified(self) -> bool:
        """True for a workspace copy that differs from the version last added."""
        return self.label == MODIFIED


def which(staged: bool = False, rev: str | None = None) -> str:
    """The mode the options select (``--staged`` and ``--rev`` exclude each other)."""
    if staged and rev is not None:
        raise UsageError("--staged and --rev exclude each other", "pass one of them")
    return STAGED if staged else (REV if rev is not None else WORKSPACE)


def pointer_file(ws: Workspace, rel: str) -> ptr.Pointer:
    """The pointer file of ``rel`` (the version last added)."""
    pp = ptr.pointer_path(rel)
    try:
        return ptr.load(ws.abspath(pp), ws.display(pp))
    except FileNotFoundError:
        raise UsageError(f"{ws.display(rel)}: not tracked by dvx (no {ws.display(pp)})",
                         f"run `dvx add {ws.display(rel)}`") from None


def committed(ws: Workspace, rel: str, rev: str) -> ptr.Pointer:
    """The pointer of ``rel`` committed at ``rev``."""
    pp = ptr.pointer_path(rel)
    sha = scm.resolve_rev(ws.root, rev)
    raw = scm.read_blobs_at(ws.root, sha, [pp])[pp]
    if raw is None and pp not in scm.ls_files_at_rev(ws.root, sha, pp):
        raise UsageError(f"{rel}: not tracked by dvx at revision {rev} (no {pp} there)",
                         "check the path and the revision (`git log -- PATH.dvx`)")
    return ptr.loads_at({pp: raw}, rev)[pp]


def on_disk(ws: Workspace, rel: str, p: ptr.Pointer) -> Version | None:
    """The workspace copy of ``rel`` as a version (``p``: its pointer); None when it is absent.

    Unchanged: ``p`` itself, labelled ``workspace``. Modified: a pointer with
    the id of the bytes on disk (size from the file; no profile).
    """
    from dvx.hashing import to_hex
    from dvx.workspace.status import workspace_id

    cur = workspace_id(ws, rel, p.kind, save=True)
    if cur is None:
        return None
    oid = to_hex(cur)
    if oid == p.oid:
        return Version(rel, p, None, WORKSPACE)
    size = ws.abspath(rel).stat().st_size if p.kind == "file" else 0
    return Version(rel, ptr.Pointer(p.kind, oid, size, p.files, 0), None, MODIFIED)


def absent(ws: Workspace, rel: str) -> UsageError:
    """The error for a tracked path whose workspace copy is missing."""
    return UsageError(f"{ws.display(rel)}: not in the workspace (deleted, or never checked out)",
                      "pass --staged to read the version last added")


def resolve(ws: Workspace, rel: str, *, staged: bool = False, rev: str | None = None) -> Version:
    """The version of tracked path ``rel`` the options select (see the module docstring)."""
    mode = which(staged, rev)
    if mode == REV:
        assert rev is not None
        p = committed(ws, rel, rev)
        return Version(rel, p, rev, f"{rev} {p.oid[:12]}", REV)
    p = pointer_file(ws, rel)
    if mode == STAGED:
        return Version(rel, p, None, f"staged {p.oid[:12]}", STAGED)
    v = on_disk(ws, rel, p)
    if v is None:
        raise absent(ws, rel)
    return v


def baseline_of(ws: Workspace, rel: str, baseline: str) -> Version:
    """The baseline version of ``rel`` committed at ``baseline``, labelled ``<baseline> <id12>``."""
    p = committed(ws, rel, baseline)
    return Version(rel, p, baseline, f"{baseline} {p.oid[:12]}", REV)


def gate_version_of(ws: Workspace, where: str, rel: str, p: ptr.Pointer, rev_name: str | None
                    ) -> tuple[ptr.Pointer | None, str]:
    """The pointer the gate measures for a target read from ``where`` (its pointer ``p``) and its label.

    For the workspace: the disk copy (None when it is absent); otherwise ``p``.
    """
    if where == WORKSPACE:
        v = on_disk(ws, rel, p)
        return (None, "workspace (absent)") if v is None else (v.pointer, v.label)
    if where == STAGED:
        return p, f"staged {p.oid[:12]}"
    return p, f"{rev_name} {p.oid[:12]}"
