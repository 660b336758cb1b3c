"""Which datasets a commit that changes ``expectations/`` must re-check.

A commit can change a verdict without touching a pointer file: a tightened
suite, a new binding or a threshold in ``expectations/dvx.toml``. The
pre-commit hook (``dvx check --staged``) gates, besides the staged pointers,
every dataset in the index bound to a staged suite file or whose bound suites
a staged ``dvx.toml`` changes, against the suites and thresholds as staged
(:meth:`dvx.gate.policy.Policy.load_staged`). Their data is unchanged, so
drift against ``HEAD`` is "unchanged" and only validation runs: answered from
the result store when (data id, suite id) was validated before, else on the
data (a changed suite has a new id).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dvx import scm
from dvx.errors import DvxError
from dvx.gate.accepted import ACCEPTED_FILE
from dvx.gate.policy import BINDINGS_FILE, EXPECTATIONS, Policy
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr


def rechecked(ws: Workspace, policy: Policy, staged: list[str]) -> dict[str, str]:
    """Datasets in the index whose verdict the staged changes of ``expectations/`` (``staged``,
    from :func:`dvx.scm.expectations_status`) can change, and why.

    ``accepted.toml`` is not among them: an acceptance only lets a staged pointer's drift through.
    """
    changed = [f for f in staged if f != ACCEPTED_FILE]
    if not changed:
        return {}
    before = _head_bindings(ws) if BINDINGS_FILE in changed else None
    out: dict[str, str] = {}
    for pp in scm.indexed_pointers(ws.root):
        rel = ptr.tracked_path(pp)
        files = [policy.suite_rel(f) for f in policy.suites_for(rel)]
        hit = [f for f in files if f in changed]
        if hit:
            out[rel] = f"{', '.join(hit)} changed"
        elif before is not None and files and files != before(rel):
            out[rel] = f"{BINDINGS_FILE} binds other suites"
    return out


def _head_bindings(ws: Workspace) -> Callable[[str], list[str] | None]:
    """``rel -> suite files bound at HEAD`` (repository-relative; None for all when HEAD's file is unreadable)."""
    from dvx.quality.suite import load_bindings

    raw = scm.read_objects(ws.root, [f"HEAD:{BINDINGS_FILE}"])[0]  # None: no HEAD, or no file there
    try:
        head = load_bindings(ws.root / EXPECTATIONS, raw[1].decode("utf-8", "replace") if raw is not None else None)
    except DvxError:
        return lambda _rel: None

    def bound(rel: str) -> list[str] | None:
        return [Path(os.path.relpath(f, ws.root)).as_posix() for f in head.suites_for(Path(rel).as_posix())]

    return bound


def unstaged_note(unstaged: list[str]) -> str | None:
    """A note naming the files of ``expectations/`` whose changes the commit does not hold (not checked)."""
    if not unstaged:
        return None
    shown = ", ".join(unstaged[:3]) + (f" and {len(unstaged) - 3} more" if len(unstaged) > 3 else "")
    return f"{shown}: changes not staged are not checked (`git add` them to gate them)"
