"""``dvx import URL PATH`` and ``dvx update PATH``: track a path of another repository, and move it on.

Import fetches the path's objects from the source's default remote into the
local cache (only what the cache lacks), writes the pointer with the
``source-*`` keys (docs/format.md, "Pointer file"), adds the path to
``.gitignore`` and checks it out, in that order: nothing is named before it
is stored. From then on the path is ordinary tracked data: ``dvx push``
uploads its objects to this repository's remote like any other, so
collaborators never need access to the source's remote.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dvx import scm
from dvx._fsutil import atomic_write
from dvx.errors import UsageError, WorkspaceChangedError, WorkspaceWriteError
from dvx.hashing import to_hex
from dvx.remote import TransferResult
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.checkout import CheckoutResult, checkout
from dvx.workspace.ignore import add_ignore
from dvx.workspace.status import workspace_id
from dvx.xrepo.select import Fetcher, Progress, chunk_count, select
from dvx.xrepo.source import SourceRepo, Sources, is_local, norm_path

IMPORTED = "imported"
UPDATED = "updated"
MOVED = "moved"  # the source's commit changed, the data did not
UNCHANGED = "unchanged"


@dataclass
class ImportedPath:
    """One path import or update dealt with."""

    path: str  # repo-relative
    change: str  # imported / updated / moved / unchanged
    pointer: ptr.Pointer
    old_commit: str | None = None
    fetched: TransferResult = field(default_factory=TransferResult)
    checkout: CheckoutResult | None = None

    def to_json(self) -> dict[str, object]:
        assert self.pointer.source is not None
        return {"path": self.path, "change": self.change, "type": self.pointer.kind, "size": self.pointer.size,
                "files": self.pointer.files, "id": self.pointer.oid, "source": self.pointer.source.to_json(),
                "old_commit": self.old_commit, "fetched_objects": self.fetched.objects,
                "fetched_bytes": self.fetched.bytes}


@dataclass
class ImportResult:
    paths: list[ImportedPath] = field(default_factory=list)
    to_stage: list[str] = field(default_factory=list)  # pointer and .gitignore files git should commit
    staged: bool = False


def _gitignore_of(rel: str) -> str:
    parent = rel.rpartition("/")[0]
    return f"{parent}/.gitignore" if parent else ".gitignore"


def _stored_url(url: str, base: Path, root: Path) -> str:
    """The URL as the pointer keeps it: a relative local path is made relative to the repository
    root (so ``dvx update`` finds it from any folder); anything else as given."""
    if not is_local(url) or url.startswith("file://") or os.path.isabs(url):
        return url
    return Path(os.path.relpath(os.path.normpath(base / url), root)).as_posix()


def _check_value(what: str, value: str | None) -> None:
    why = None if value is None else ptr.source_value_problem(value)
    if why is not None:
        raise UsageError(f"{what} {value!r:.80} {why}: a pointer file cannot record it")


def _bring(ws: Workspace, src: SourceRepo, path: str, rel: str, url: str, force: bool,
           jobs: int | None, progress: Progress | None) -> tuple[ptr.Pointer, TransferResult, CheckoutResult]:
    """Fetch ``path`` of ``src`` into the cache, write the pointer of ``rel``, check it out (lock held)."""
    fetcher = Fetcher(src, ws.cache, ws.chunker.max_size, jobs, progress)
    sel = select(src, path, fetcher)
    if sel.built:  # a folder inside a tracked directory: its own tree, stored after what it names
        assert sel.tree is not None
        with ws.cache.writer() as w:
            w.put_manifest(sel.tree)
    origin = ptr.Source(url, src.rev, src.sha, path)
    p = ptr.Pointer(sel.kind, to_hex(sel.oid), sel.size, sel.files, chunk_count(ws.cache, sel), source=origin)
    pp = ptr.pointer_path(rel)
    try:
        atomic_write(ws.abspath(pp), p.dumps(rel).encode("utf-8"))
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, ws.display(pp)) from e
    try:
        add_ignore(ws.root, rel)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, ws.display(_gitignore_of(rel))) from e
    return p, fetcher.result, checkout(ws, [rel], force=force)


def _stage(ws: Workspace, result: ImportResult, autostage: bool | None) -> ImportResult:
    result.to_stage = list(dict.fromkeys(result.to_stage))
    stage = ws.config.get("core", "autostage", False) if autostage is None else autostage
    if stage and result.to_stage:
        scm.stage(ws.root, result.to_stage)
        result.staged = True
    return result


def import_path(url: str, path: str, out: str | None = None, rev: str | None = None, *, force: bool = False,
                cwd: str | None = None, jobs: int | None = None, progress: Progress | None = None,
                autostage: bool | None = None) -> ImportResult:
    """Track ``path`` of the repository ``url`` at ``rev`` as ``out`` (default: its name in ``cwd``).

    UsageError, before anything is written, when ``out`` exists or is
    tracked already (unless ``force``), is tracked by git, or lies inside a
    tracked directory.
    """
    ws = Workspace.find(cwd or ".")
    base = Path(cwd or os.getcwd())
    src_path = norm_path(path)
    if not src_path:
        raise UsageError("give the file or folder of the source repository to import")
    rel = ws.relpath(out if out is not None else posixpath.basename(src_path), cwd).rstrip("/")
    shown = ws.display(rel)
    parts = rel.split("/")
    for i in range(1, len(parts)):
        if os.path.exists(ws.abspath("/".join(parts[:i]) + ptr.SUFFIX)):
            raise UsageError(f"{shown}: is inside the tracked directory {ws.display('/'.join(parts[:i]))}",
                             "import it somewhere else with -o")
    ptr.check_tracked(rel, shown)
    if not force:
        if os.path.lexists(ws.abspath(ptr.pointer_path(rel))):
            raise UsageError(f"{shown}: is tracked already ({ws.display(ptr.pointer_path(rel))})",
                             "pass -f to replace it with the import, or -o to import it elsewhere")
        if os.path.lexists(ws.abspath(rel)):
            raise UsageError(f"{shown}: already exists", "pass -f to replace it, or -o to import it elsewhere")
    scm.refuse_git_tracked(ws.root, [rel])
    stored = _stored_url(url, base, ws.root)
    for what, value in (("the URL", stored), ("the revision", rev), ("the path", src_path)):
        _check_value(what, value)
    result = ImportResult()
    with Sources(base) as sources:
        src = sources.open(url, rev)
        with ws.lock():
            p, fetched, co = _bring(ws, src, src_path, rel, stored, force, jobs, progress)
    result.paths.append(ImportedPath(rel, IMPORTED, p, None, fetched, co))
    result.to_stage += [ptr.pointer_path(rel), _gitignore_of(rel)]
    return _stage(ws, result, autostage)


def _imported(ws: Workspace, paths: Sequence[str] | None, cwd: str | None, strict: bool = True) -> list[tuple[str, ptr.Pointer]]:
    """(path, pointer) of each imported path named (all of them when none is); with ``strict``, a named
    path that was not imported is a UsageError."""
    out: list[tuple[str, ptr.Pointer]] = []
    for rel in ws.resolve_tracked(list(paths) if paths else None, cwd):
        pp = ptr.pointer_path(rel)
        p = ptr.load(ws.abspath(pp), ws.display(pp))
        if p.source is not None:
            out.append((rel, p))
        elif paths and strict:
            raise UsageError(f"{ws.display(rel)}: was not imported ({ws.display(pp)} names no source)",
                             "dvx update moves paths that dvx import wrote")
    return out


def update(paths: Sequence[str] | None = None, rev: str | None = None, *, force: bool = False,
           cwd: str | None = None, jobs: int | None = None, progress: Progress | None = None,
           autostage: bool | None = None) -> ImportResult:
    """Move imported paths (all of them when ``paths`` is empty) to the newest commit of their
    recorded revision, or to ``rev``; only objects the cache lacks are fetched.

    A path whose source commit (and revision) did not change is left as it
    is. WorkspaceChangedError, before anything is written, when the
    workspace copy differs from its pointer (unless ``force``).
    """
    ws = Workspace.find(cwd or ".")
    todo = _imported(ws, paths, cwd)
    result = ImportResult()
    if rev is not None:
        _check_value("the revision", rev)
    with Sources(ws.root) as sources, ws.lock():
        for rel, old in todo:
            origin = old.source
            assert origin is not None
            want = rev if rev is not None else origin.rev
            src = sources.open(origin.url, want)
            if src.sha == origin.commit and want == origin.rev:
                result.paths.append(ImportedPath(rel, UNCHANGED, old, origin.commit))
                continue
            cur = workspace_id(ws, rel, old.kind, save=True)
            if cur is not None and to_hex(cur) != old.oid and not force:
                raise WorkspaceChangedError(f"{ws.display(rel)}: changed since it was imported; nothing was updated",
                                            "pass -f to discard the change")
            p, fetched, co = _bring(ws, src, origin.path, rel, origin.url, force, jobs, progress)
            change = UPDATED if p.oid != old.oid else MOVED
            result.paths.append(ImportedPath(rel, change, p, origin.commit, fetched, co))
            result.to_stage += [ptr.pointer_path(rel), _gitignore_of(rel)]
    return _stage(ws, result, autostage)


@dataclass
class UpdateCheck:
    """Whether the revision an imported path records names a newer commit of its source now."""

    path: str
    source: ptr.Source
    latest: str  # the commit the recorded revision names now

    @property
    def available(self) -> bool:
        return self.latest != self.source.commit

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "rev": self.source.rev, "commit": self.source.commit, "latest": self.latest,
                "update_available": self.available}


def check_updates(paths: Sequence[str] | None = None, cwd: str | None = None) -> list[UpdateCheck]:
    """For each imported path (of ``paths``, or all), the commit its recorded revision names now
    (one clone per source URL; nothing is fetched or written)."""
    ws = Workspace.find(cwd or ".")
    out: list[UpdateCheck] = []
    with Sources(ws.root) as sources:
        for rel, p in _imported(ws, paths, cwd, strict=False):
            assert p.source is not None
            out.append(UpdateCheck(rel, p.source, sources.open(p.source.url, p.source.rev).sha))
    return out
