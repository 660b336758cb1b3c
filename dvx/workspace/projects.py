"""Which projects use a cache: ``<cache>/projects/<16 hex>``, one small JSON file per work tree.

Each work tree that opens a cache writes its entry once (``register``):
``{"version": 1, "root": "/abs/path/of/the/work/tree"}``, named by the first
16 hex of the xxh3-128 of that path. ``dvx gc`` reads them (``users``) to
refuse sweeping a cache that other projects use unless they are named with
``--projects`` (docs/format.md, "Shared caches"). An entry whose work tree
is gone, or now uses another cache, is stale: gc forgets it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from dvx._fsutil import atomic_write
from dvx.errors import DvxError
from dvx.hashing import hash_hex

PROJECTS_DIR = "projects"
_VERSION = 1
_MAX = 8192  # bytes read of one entry
_MAX_ENTRIES = 10000


@dataclass(frozen=True)
class Project:
    """One entry: its file name and the work tree it names."""

    name: str
    root: str


def entry_name(root: str | os.PathLike[str]) -> str:
    """The entry file name of the work tree at ``root``."""
    return hash_hex(os.path.realpath(root).encode("utf-8", "surrogateescape"))[:16]


def register(cache_dir: Path, root: Path) -> None:
    """Write this work tree's entry unless it is there (one stat on every later open)."""
    path = cache_dir / PROJECTS_DIR / entry_name(root)
    if path.exists():
        return
    with contextlib.suppress(OSError):  # a read-only cache still reads: gc then sees one project fewer
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"version": _VERSION, "root": os.path.realpath(root)}
        atomic_write(path, json.dumps(body).encode(), fsync=False)


def _parse(name: str, data: bytes) -> Project | None:
    try:
        d = json.loads(data)
        root = d["root"]
        if d.get("version") != _VERSION or not isinstance(root, str) or not os.path.isabs(root) or "\0" in root:
            return None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        return None
    return Project(name, root)


def entries(cache_dir: Path) -> list[Project]:
    """Every readable entry (unreadable ones are skipped: they name nothing gc could keep)."""
    out: list[Project] = []
    try:
        it = sorted(os.scandir(cache_dir / PROJECTS_DIR), key=lambda e: e.name)
    except OSError:
        return out
    for e in it[:_MAX_ENTRIES]:
        if len(e.name) != 16 or not e.is_file(follow_symlinks=False):
            continue
        try:
            with open(e.path, "rb") as f:
                p = _parse(e.name, f.read(_MAX + 1)[:_MAX])
        except OSError:
            continue
        if p is not None and entry_name(p.root) == e.name:
            out.append(p)
    return out


def uses(root: str, cache_dir: Path) -> bool:
    """Whether the work tree at ``root`` still uses ``cache_dir`` (True when its configuration cannot be
    read: gc must not forget a project it cannot check)."""
    from dvx.workspace.core import DVX_DIR, Workspace

    if not (Path(root) / DVX_DIR / "config").is_file():
        return False
    try:
        other = Workspace(root).cache_dir
    except DvxError:
        return True
    return os.path.realpath(other) == os.path.realpath(cache_dir)


def forget(cache_dir: Path, p: Project) -> None:
    """Remove a stale entry."""
    with contextlib.suppress(OSError):
        os.unlink(cache_dir / PROJECTS_DIR / p.name)
