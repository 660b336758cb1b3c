"""``dvx list URL [PATH]``: what a source repository tracks at a revision, without downloading data.

Tracked paths are described from their pointer files alone; the inside of a
tracked directory needs its tree manifest, fetched from the source's remote
into a temporary store (no data). ``all_files`` lists the files git tracks
too.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dvx.chunking import MAX_CHUNK
from dvx.store import ObjectStore
from dvx.versions.node import DIRECTORY, FILE
from dvx.versions.tree import TRACKED, TreeIndex
from dvx.xrepo.select import Fetcher, select
from dvx.xrepo.source import SourceRepo, Sources, norm_path


@dataclass
class ListEntry:
    """One listed path (relative to the listed folder, or its own name for a file)."""

    path: str
    type: str  # "file" or "dir"
    tracked: str | None  # "dvx" (its own pointer or inside a tracked directory), "git", None (a folder)
    size: int | None = None
    files: int | None = None
    id: str | None = None  # the manifest id of a path with its own pointer

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class ListResult:
    url: str
    rev: str | None
    commit: str
    path: str
    entries: list[ListEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"url": self.url, "rev": self.rev, "commit": self.commit, "path": self.path,
                "entries": [e.to_json() for e in self.entries]}


class _Lister:
    def __init__(self, src: SourceRepo, fetcher: Fetcher, all_files: bool, recursive: bool) -> None:
        self.src = src
        self.f = fetcher
        self.all = all_files
        self.recursive = recursive
        self.out: list[ListEntry] = []
        self._holders: set[str] | None = None

    def holds_tracked(self, folder: str) -> bool:
        """Whether some tracked path lies below the git folder ``folder``."""
        if self._holders is None:
            self._holders = set()
            for t in self.src.tree.pointers:
                parts = t.split("/")
                self._holders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return folder in self._holders

    def tracked_entry(self, full: str, shown: str) -> None:
        p = self.src.pointer(full)
        kind = "file" if p.kind == "file" else "dir"
        self.out.append(ListEntry(shown, kind, "dvx", p.size, p.files, p.oid))
        if kind == "dir" and self.recursive:
            self.inside(full, shown)

    def inside(self, full: str, shown: str) -> None:
        """The files and folders of a tracked directory (or a folder of one) at ``full``."""
        sel = select(self.src, full, self.f, fetch_data=False)
        assert sel.tree is not None
        idx = TreeIndex(sel.tree)
        join = (lambda n: f"{shown}/{n}") if shown else (lambda n: n)
        stack = [""]
        while stack:
            d = stack.pop()
            for name, kind in sorted(idx.children.get(d, {}).items()):
                rel = f"{d}/{name}" if d else name
                if kind == DIRECTORY:
                    self.out.append(ListEntry(join(rel), "dir", "dvx"))
                    if self.recursive:
                        stack.append(rel)
                else:
                    self.out.append(ListEntry(join(rel), "file", "dvx", idx.files[rel].size, 1))

    def git_folder(self, folder: str, shown: str) -> None:
        children = self.src.tree.children.get(folder, {})
        full_of = (lambda n: f"{folder}/{n}") if folder else (lambda n: n)
        join = (lambda n: f"{shown}/{n}") if shown else (lambda n: n)
        self.src.pointers.load([full_of(n) for n, k in children.items() if k == TRACKED])
        for name, kind in sorted(children.items()):
            full = full_of(name)
            if folder == "" and name == ".dvx":
                continue
            if kind == TRACKED:
                self.tracked_entry(full, join(name))
            elif kind == DIRECTORY:
                if self.all or self.holds_tracked(full):
                    self.out.append(ListEntry(join(name), "dir", None))
                    if self.recursive:
                        self.git_folder(full, join(name))
            elif kind == FILE and self.all:
                self.out.append(ListEntry(join(name), "file", "git", self.src.tree.files[full][1]))

    def run(self, path: str) -> None:
        src = self.src
        tracked = src.tracked_at_or_above(path) if path else None
        if tracked is not None:
            if tracked == path:
                p = src.pointer(path)
                if p.kind == "file":
                    self.tracked_entry(path, os.path.basename(path))
                    return
            self.inside(path, "")
            return
        if path == "" or path in src.tree.children:
            self.git_folder(path, "")
            return
        hit = src.tree.files.get(path)
        if hit is None:
            raise src.not_found(path)
        self.out.append(ListEntry(os.path.basename(path), "file", "git", hit[1]))


def list_repo(url: str, path: str = "", rev: str | None = None, *, all_files: bool = False,
              recursive: bool = False, cwd: str | None = None) -> ListResult:
    """The paths of ``url`` at ``rev`` under ``path`` (the root by default); see the module docstring."""
    rel = norm_path(path)
    with Sources(Path(cwd or os.getcwd())) as sources, tempfile.TemporaryDirectory(prefix="dvx-list-") as tmp:
        src = sources.open(url, rev)
        store = ObjectStore(None, tmp, max_chunk=MAX_CHUNK, fsync=False)
        lister = _Lister(src, Fetcher(src, store, MAX_CHUNK), all_files, recursive)
        lister.run(rel)
        if recursive:
            lister.out.sort(key=lambda e: e.path.split("/"))
        return ListResult(url, rev, src.sha, rel, lister.out)
