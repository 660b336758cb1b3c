"""Entry points of the gate: ``run_gate`` (pre-commit hook, ``dvx check``, CI) and
``require_valid`` (training scripts)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from dvx import scm
from dvx.cluster import compute_settings
from dvx.errors import DataGateError, UsageError
from dvx.gate.accepted import for_check
from dvx.gate.checks import gate_version
from dvx.gate.policy import Policy, absolute, select
from dvx.gate.profiles import stores
from dvx.gate.result import GateResult
from dvx.gate.staged import rechecked, unstaged_note
from dvx.workspace import Workspace


def run_gate(paths: Sequence[str] | None = None, *, staged: bool = False, rev: str | None = None,
             baseline: str | None = None, cwd: str | None = None, added: bool = False,
             scheduler: str | None = None, repo_url: str | None = None) -> GateResult:
    """Run the gate on the versions :func:`dvx.gate.policy.select` names.

    - ``staged``: the datasets whose pointer files are staged in git, as staged, and those
      bound to staged changes of ``expectations/`` (:mod:`dvx.gate.staged`); suites,
      bindings and thresholds read from the index; baseline ``HEAD``.
    - ``rev``: the pointers committed at ``rev``; baseline its first parent.
    - otherwise: the tracked ``paths`` (all when empty) as they are on disk, or
      with ``added`` the versions their pointer files name; baseline ``HEAD``.

    ``baseline`` overrides the baseline revision. ``scheduler`` (else ``DVX_SCHEDULER``,
    ``[compute] scheduler``; ``"local"``: here) runs profiles and validation partitions on
    a Dask cluster reading ``repo_url`` (:mod:`dvx.cluster`); never for ``staged``
    versions, which no worker can read (the pre-commit hook runs here). Writes no pointer file. Drift accepted in
    ``expectations/accepted.toml`` (as staged; at ``rev`` or ``HEAD``; in the
    work tree: where the versions are read) passes as "accepted".
    """
    ws = Workspace.find(cwd or ".")
    compute = None if staged else compute_settings(scheduler, repo_url, ws.config)
    # staged: the suites, bindings and thresholds as staged, and the datasets their changes concern.
    also: dict[str, str] | None = None
    notes: list[str] = []
    if staged:
        changed, unstaged, ignored = scm.expectations_status(ws.root)
        policy = Policy.load_staged(ws, [*unstaged, *ignored])
        also = rechecked(ws, policy, changed)
        note = unstaged_note(unstaged)
        notes = [note] if note else []
    else:
        policy = Policy.load(ws)
    sel = select(ws, paths, staged=staged, rev=rev, baseline=baseline, cwd=cwd, added=added, also=also)
    result = GateResult(baseline=sel.baseline, notes=notes)
    if not sel.targets:
        return result
    qs = stores(ws)
    sha = next((t.rev for t in sel.targets if t.rev), None)
    accepted = for_check(ws, staged=staged, rev=sha, rev_name=rev)
    for t in sel.targets:
        result.datasets.append(gate_version(ws, t, sel.baseline, policy, qs, accepted, compute))
    return result


def require_valid(path: str | os.PathLike[str], rev: str | None = None, repo: str | os.PathLike[str] = ".", *,
                  staged: bool = False) -> GateResult:
    """Raise DataGateError unless the dataset at ``path`` passes its gate.

    ``rev`` None checks the file on disk, even when modified since ``dvx add``
    (drift against ``HEAD``); ``staged`` the version its pointer file names
    (what ``dvx.read_table(path)`` reads); a revision checks the version
    committed there (drift against its parent). For training scripts::

        import dvx
        dvx.require_valid("data/train.parquet")      # raises DataGateError

    Returns the GateResult when it passes.
    """
    ws = Workspace.find(repo)
    if staged and rev is not None:
        raise UsageError("require_valid: staged and rev exclude each other", "pass one of them")
    result = run_gate([absolute(path, repo)], rev=rev, cwd=str(ws.root), added=staged, scheduler="local")
    if not result.datasets:
        raise UsageError(f"{path}: not tracked by dvx at {rev}", "check the path and revision")
    if not result.ok:
        fails = result.failures
        d = result.datasets[0]
        where = f" ({d.version})" if d.version else ""
        raise DataGateError(
            f"{os.fspath(path)}{where}: {len(fails)} failing check(s): {fails[0]}" + (" ..." if len(fails) > 1 else ""),
            fails,
            "run `dvx check` for the table",
        )
    return result
