"""``dvx get URL PATH``: download a path of another repository without tracking it.

The objects go into a temporary store beside the output (same file system,
removed at the end), never into a cache; the output is written as a temp
file or folder and renamed into place, so an interrupted get leaves the old
output (or none).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dvx._fsutil import tmp_name
from dvx.chunking import MAX_CHUNK
from dvx.errors import UsageError, WorkspaceWriteError
from dvx.remote import TransferResult
from dvx.store import ObjectStore
from dvx.xrepo.select import Fetcher, Progress, Selection, select
from dvx.xrepo.source import SourceRepo, Sources, norm_path


@dataclass
class GetResult:
    url: str
    rev: str | None
    commit: str
    path: str
    out: str
    kind: str  # "file" or "dir"
    size: int
    files: int
    tracked: str  # "dvx" or "git"
    fetched: TransferResult

    def to_json(self) -> dict[str, object]:
        return {"url": self.url, "rev": self.rev, "commit": self.commit, "path": self.path, "out": self.out,
                "type": self.kind, "size": self.size, "files": self.files, "tracked": self.tracked,
                "fetched_objects": self.fetched.objects, "fetched_bytes": self.fetched.bytes}


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _place(tmp: str, target: str, force: bool) -> None:
    """Rename ``tmp`` onto ``target``, removing an existing ``target`` first when ``force``."""
    if os.path.lexists(target):
        if not force:
            raise UsageError(f"{target}: appeared while downloading", "pass -f to replace it")
        _remove(target)
    os.rename(tmp, target)


def _write_file(store: ObjectStore, sel: Selection, dest: str, shown: str) -> None:
    assert sel.manifest is not None
    with open(dest, "xb") as out:
        store.write_file(sel.manifest, out, shown)


def _write_dir(store: ObjectStore, sel: Selection, dest: str, shown: str) -> None:
    """Every file of the tree below the new folder ``dest`` (entry paths were checked when the tree was read)."""
    assert sel.tree is not None
    os.mkdir(dest)
    made = {dest}
    for e in sel.tree.entries:
        rel = os.fsdecode(e.path)
        p = os.path.join(dest, rel)
        d = os.path.dirname(p)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        m = store.get_file_manifest(e.file_oid)
        with open(p, "xb") as out:
            store.write_file(m, out, f"{shown}/{rel}")
        if e.executable:
            os.chmod(p, 0o755)


def _target(cwd: Path, out: str | None, rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    if out is None:
        return str(cwd / name)
    target = cwd / out
    # As cp does: into an existing folder, under the source's name.
    return str(target / name) if target.is_dir() else str(target)


def get(url: str, path: str, out: str | None = None, rev: str | None = None, *, force: bool = False,
        cwd: str | None = None, jobs: int | None = None, progress: Progress | None = None) -> GetResult:
    """Download ``path`` of ``url`` at ``rev`` to ``out`` (default: its name in ``cwd``).

    ``path`` is a tracked file or directory, a file or folder inside a tracked
    directory, or a file git tracks. UsageError when ``out`` exists (unless
    ``force``) or ``path`` is not there; nothing is written then.
    """
    rel = norm_path(path)
    if not rel:
        raise UsageError(f"{path!r}: give a file or folder of the source repository, relative to its root")
    base = Path(cwd or os.getcwd())
    target = _target(base, out, rel)
    if os.path.lexists(target) and not force:
        raise UsageError(f"{os.path.relpath(target)}: already exists", "pass -f to replace it, or -o to write elsewhere")
    parent = os.path.dirname(os.path.abspath(target))
    try:
        os.makedirs(parent, exist_ok=True)
        with Sources(base) as sources, tempfile.TemporaryDirectory(prefix=".dvx-get-", dir=parent) as tmp:
            src = sources.open(url, rev)
            fetcher = Fetcher(src, ObjectStore(None, tmp, max_chunk=MAX_CHUNK, fsync=False), MAX_CHUNK, jobs, progress)
            res = GetResult(url, rev, src.sha, rel, target, "file", 0, 1, "dvx", fetcher.result)
            _download(src, fetcher, res, force)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, os.path.relpath(target), "dvx get") from e
    return res


def _download(src: SourceRepo, fetcher: Fetcher, res: GetResult, force: bool) -> None:
    """Write ``res.path`` of ``src`` to a temp file or folder beside ``res.out``, then rename it there."""
    rel, target = res.path, res.out
    dest = str(tmp_name(target))
    try:
        if src.tracked_at_or_above(rel) is None:
            hit = src.tree.files.get(rel)
            if hit is None:
                if rel in src.tree.children:
                    raise UsageError(f"{src.describe(rel)}: is a folder git tracks, not a dvx-tracked path",
                                     "dvx get copies tracked files and folders, and single files git tracks")
                raise src.not_found(rel)
            from dvx import scm

            with open(dest, "xb") as f:
                f.write(scm.read_blob(src.clone, hit[0]))  # a file git holds itself: small
            res.size, res.tracked = hit[1], "git"
        else:
            sel = select(src, rel, fetcher)
            (_write_file if sel.kind == "file" else _write_dir)(fetcher.store, sel, dest, rel)
            res.kind, res.size, res.files = sel.kind, sel.size, sel.files
        _place(dest, target, force)
    finally:
        if os.path.lexists(dest):
            with contextlib.suppress(OSError):
                _remove(dest)
