"""``dvx accept PATH -m REASON``: record that a drifted version is intended.

The version accepted is the one the drift check measures: the version the
pointer file names (what ``dvx add`` wrote and staged; ``staged``: the index,
as the pre-commit hook reads it; ``rev``: the commit), against the same
baseline (``HEAD``, or ``rev``'s first parent; ``baseline`` overrides). The
gate runs first: a version that fails validation, or that does not drift, is
refused. The acceptance is written to ``expectations/accepted.toml`` in the
work tree and nothing is staged: like any edit, it counts for the pre-commit
hook once ``git add``-ed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from dvx import scm
from dvx.errors import CheckFailedError, UsageError
from dvx.gate.accepted import ACCEPTED_FILE, Acceptance, Figure, dumps, for_check, now_utc, read_file
from dvx.gate.checks import gate_version
from dvx.gate.policy import Policy, select
from dvx.gate.profiles import stores
from dvx.gate.result import ACCEPTED, DRIFTED, DatasetGate
from dvx.workspace import Workspace

MAX_REASON = 2000


@dataclass
class AcceptResult:
    """What ``accept`` recorded (``added`` False: the same acceptance was there already)."""

    acceptance: Acceptance
    file: str  # repo-relative
    baseline_rev: str | None
    added: bool

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "added": self.added, "baseline_rev": self.baseline_rev, **self.acceptance.to_json()}


def _check_reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise UsageError("accept: give the reason with -m REASON; it is recorded with the acceptance")
    try:
        reason.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("accept: the reason is not UTF-8 text") from None
    if len(reason) > MAX_REASON:
        raise UsageError(f"accept: the reason is longer than {MAX_REASON} characters")
    return reason.strip()


def _refuse_invalid(g: DatasetGate, shown: str) -> None:
    bad = [f for f in g.failures if f.check != "drift"]
    if bad:
        first = bad[0].line(g.path)
        raise CheckFailedError(f"{shown}: version {(g.data_id or '?')[:12]} fails validation, which cannot be accepted "
                               f"({len(bad)} failing check(s): {first}): fix the data or the suite")


def _refuse_unless_drifted(g: DatasetGate, shown: str) -> None:
    if g.drift != DRIFTED:
        raise UsageError(f"{shown}: nothing to accept: drift is {g.drift} for version {(g.data_id or '?')[:12]}"
                         + (f" against {g.baseline_id[:12]}" if g.baseline_id else ""))


def accept(path: str, reason: str, *, staged: bool = False, rev: str | None = None, baseline: str | None = None,
           cwd: str | None = None) -> AcceptResult:
    """Accept the drift of ``path``'s version (see the module) with ``reason``; refuse validation failures."""
    reason = _check_reason(reason)
    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(path, cwd)
    shown = ws.display(rel)
    sel = select(ws, [path], staged=staged, rev=rev, baseline=baseline, cwd=cwd)
    t = next((t for t in sel.targets if t.rel == rel), None)
    if t is None or t.text is None:
        where = "staged" if staged else f"at {rev}" if rev else "tracked"
        raise UsageError(f"{shown}: not {where} (no pointer file)", "check the path")
    # The gate as the check would run it, honouring the acceptances it would read.
    acc = for_check(ws, staged=staged, rev=t.rev, rev_name=rev)
    g = gate_version(ws, t, sel.baseline, Policy.load(ws), stores(ws), acc)
    if g.unparsable:
        raise UsageError(g.unparsable[0])
    _refuse_invalid(g, shown)
    if g.drift == ACCEPTED and g.accepted:  # accepted already, where this check reads acceptances
        old = dict(g.accepted, figures=tuple(Figure(**f) for f in g.accepted["figures"]))
        return AcceptResult(Acceptance(**old), ACCEPTED_FILE, sel.baseline, False)
    _refuse_unless_drifted(g, shown)
    target = ws.root / ACCEPTED_FILE
    assert g.data_id is not None and g.baseline_id is not None
    figures = tuple(Figure(f.name, f.column or "", f.observed, f.expected) for f in g.failures)
    a = Acceptance(rel, g.data_id, g.baseline_id, scm.identity(ws.root), now_utc(), reason, figures)
    from dvx._fsutil import atomic_write

    with ws.lock(quiet=True):
        existing = read_file(target, ws.display(ACCEPTED_FILE))
        same = next((x for x in existing if x.key == a.key), None)
        if same is not None:  # in the work-tree file, not yet where this check reads (the index)
            return AcceptResult(same, ACCEPTED_FILE, sel.baseline, False)
        if target.parent.is_symlink() or target.is_symlink():
            raise UsageError(f"{ws.display(ACCEPTED_FILE)}: is a symbolic link; dvx writes only regular files there")
        os.makedirs(target.parent, exist_ok=True)
        atomic_write(target, dumps([*existing, a]).encode("utf-8"))
    return AcceptResult(a, ACCEPTED_FILE, sel.baseline, True)
