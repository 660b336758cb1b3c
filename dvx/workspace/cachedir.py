"""``dvx cache dir``: show or set where a work tree's object cache is (``[cache] dir``), as ``dvc cache dir``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dvx.workspace.core import Workspace, check_cache_folder


@dataclass
class CacheDirResult:
    """The cache folder in effect and the ``[cache] dir`` value that sets it (None: the default)."""

    dir: str
    value: str | None
    where: str | None  # the config file that sets it
    changed: bool = False

    def to_json(self) -> dict[str, object]:
        return {"dir": self.dir, "value": self.value, "where": self.where, "changed": self.changed}


def cache_dir(path: str | None = None, *, local: bool = False, unset: bool = False,
              cwd: str | None = None) -> CacheDirResult:
    """With ``path``: set ``[cache] dir`` (in ``.dvx/config``, or ``.dvx/config.local`` with ``local``),
    stored relative to the work tree's root unless absolute; with ``unset``: remove it. Either way, the
    cache in effect afterwards. Objects are not moved: the new cache starts empty (or as it is).
    ConfigError, nothing written, when ``path`` is a folder that holds files but is not a dvx cache."""
    base = Path(cwd or ".").absolute()
    ws = Workspace.find(base)
    changed = False
    if path is not None:
        given = Path(os.path.expanduser(path))
        target = given if given.is_absolute() else Path(os.path.normpath(base / given))
        check_cache_folder(Path(os.path.realpath(target)), path)
        value = str(given) if given.is_absolute() else Path(os.path.relpath(target, ws.root)).as_posix()
        ws.config.set(["cache", "dir"], value, local=local)
        changed = True
    elif unset:
        changed = ws.config.unset(["cache", "dir"], local=local)
    now = Workspace(ws.root)
    value = now.config.get("cache", "dir")
    return CacheDirResult(str(now.cache_dir), value or None,
                          now.config.where("cache", "dir") if value else None, changed)
