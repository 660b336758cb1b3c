"""gc of a cache that several projects use (``[cache] dir``): which other projects must be named.

Every work tree that opens a cache registers itself in ``<cache>/projects/``
(``dvx.workspace.projects``). gc keeps what every project using the cache
needs, so it must know them all: it refuses (GcRefusedError, nothing
deleted) unless ``--projects`` names each other registered project that
still uses this cache. Entries of work trees that are gone or use another
cache now are forgotten (not in a dry run).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence

from dvx.errors import GcRefusedError, UsageError
from dvx.workspace import Workspace
from dvx.workspace.projects import entries, entry_name, forget, uses

_SHOWN = 5


def other_projects(ws: Workspace, named: Sequence[str], *, dry_run: bool, rerun: str) -> list[Workspace]:
    """The workspaces of the other projects using ``ws``'s cache, each named in ``named``; GcRefusedError
    naming the ones left out (its hint: ``rerun`` with ``--projects``); UsageError for a named path that
    is not a dvx project using this cache."""
    cache = ws.cache_dir
    me = entry_name(ws.root)
    given: dict[str, Workspace] = {}
    for p in named:
        other = Workspace.find(p)
        if not uses(str(other.root), cache):
            raise UsageError(f"--projects {p}: that project's cache is {other.cache_dir}, not {cache}",
                             "name only projects that use this cache")
        if entry_name(other.root) != me:
            given[entry_name(other.root)] = other
    missing: list[str] = []
    for e in entries(cache):
        if e.name == me or e.name in given:
            continue
        if not uses(e.root, cache):
            if not dry_run:
                forget(cache, e)
            continue
        missing.append(e.root)
    if missing:
        shown = ", ".join(missing[:_SHOWN]) + (f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else "")
        every = [*(str(w.root) for w in given.values()), *missing]
        raise GcRefusedError(
            f"dvx gc: nothing deleted: the cache {cache} is used by {len(missing)} other project"
            f"{'' if len(missing) == 1 else 's'} not named with --projects ({shown}); what they need is unknown",
            f"name them: `{rerun} {' '.join('--projects ' + shlex.quote(os.path.relpath(r)) for r in every)}`",
        )
    return list(given.values())
