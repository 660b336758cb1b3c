"""Registering dvx's merge driver for pointer files with git (docs/merging.md).

Two halves: the line ``*.dvx merge=dvx`` in ``.gitattributes`` (committed, so
every clone has it) and ``merge.dvx.driver`` in the repository's git config
(local to each clone: ``dvx hooks install``, which a clone runs for the hooks
anyway, sets it). A clone without the config falls back to git's text merge.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from dvx.scm.git import GitError, git

ATTRIBUTES = ".gitattributes"
ATTRIBUTES_LINE = "*.dvx merge=dvx"
DRIVER = "dvx"
DRIVER_NAME = "dvx pointer files: union of the changes to tracked directories"
# .gitattributes is a small text file; a larger one is left alone, not read.
_MAX_ATTRIBUTES = 1 << 20


def driver_command(python: str = "") -> str:
    """What git runs to merge a pointer file: the interpreter that has dvx (as the hooks
    record it), or ``dvx`` from PATH when ``python`` is empty or gone."""
    args = "merge-driver %O %A %B %P"
    if not python:
        return f"dvx {args}"
    q = shlex.quote(python)
    return f"if [ -x {q} ]; then {q} -m dvx {args}; else dvx {args}; fi"


def _names_merge_for_pointers(line: str) -> bool:
    """Whether a .gitattributes line sets a merge attribute for ``*.dvx`` (ours or the user's own)."""
    parts = line.split()
    return len(parts) > 1 and parts[0] == "*.dvx" and any(a.lstrip("-!").split("=")[0] == "merge" for a in parts[1:])


def ensure_attributes(root: Path) -> bool:
    """Append ``*.dvx merge=dvx`` to ``root/.gitattributes`` unless a line already sets a merge
    attribute for ``*.dvx``; True when the file changed. A symlinked or oversized file is left alone
    (git reads no symlinked .gitattributes either)."""
    from dvx._fsutil import atomic_write

    path = root / ATTRIBUTES
    if os.path.islink(path):
        return False
    try:
        with open(path, "rb") as f:
            old = f.read(_MAX_ATTRIBUTES + 1)
    except FileNotFoundError:
        old = b""
    if len(old) > _MAX_ATTRIBUTES:
        return False
    text = old.decode("utf-8", "surrogateescape")
    if any(_names_merge_for_pointers(ln) for ln in text.split("\n")):
        return False
    sep = "\n" if text and not text.endswith("\n") else ""
    line = f"# dvx: merge pointer files with `dvx merge-driver` (docs/merging.md)\n{ATTRIBUTES_LINE}\n"
    atomic_write(path, (text + sep + line).encode("utf-8", "surrogateescape"))
    return True


def register_merge_driver(root: Path, python: str | None = None) -> bool:
    """Set ``merge.dvx.driver`` and ``merge.dvx.name`` in the repository's git config and make sure
    ``.gitattributes`` routes ``*.dvx`` to it; True when ``.gitattributes`` changed (to be committed).

    ``python`` defaults to the running interpreter, as for the hooks.
    """
    import sys

    py = python if python is not None else sys.executable
    git(root, "config", f"merge.{DRIVER}.name", DRIVER_NAME)
    git(root, "config", f"merge.{DRIVER}.driver", driver_command(py))
    return ensure_attributes(root)


def unregister_merge_driver(root: Path) -> bool:
    """Remove the ``merge.dvx`` section from the git config (``.gitattributes`` is committed: kept);
    True when it was there."""
    try:
        git(root, "config", "--remove-section", f"merge.{DRIVER}")
    except GitError:
        return False  # no such section
    return True


def merge_driver_registered(root: Path) -> bool:
    """Whether the git config names a ``merge.dvx.driver``."""
    return bool(git(root, "config", "--get", f"merge.{DRIVER}.driver", check=False).strip())
