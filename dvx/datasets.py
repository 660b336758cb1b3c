"""Dataset-level verbs over any version: validate, stats, drift, expectations init.

The CLI commands ``dvx validate``, ``dvx stats``, ``dvx drift`` and ``dvx
expectations init`` and the Python API call these. A version is a tracked
path at a revision (``rev=None``: the workspace pointer). Results, profiles
and drift reports are stored by the gate's stores, keyed by content ids, so
an unchanged dataset answers without reading its data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx import gate, scm
from dvx.errors import ConfigError, DataFormatError, UsageError
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.quality.drift import DriftReport
    from dvx.quality.profile import Profile
    from dvx.quality.results import DatasetValidation


def pointer_at(ws: Workspace, rel: str, rev: str | None) -> ptr.Pointer:
    """The pointer of ``rel`` in the workspace (``rev=None``) or committed at ``rev``."""
    pp = ptr.pointer_path(rel)
    if rev is None:
        try:
            return ptr.load(ws.abspath(pp), ws.display(pp))
        except FileNotFoundError:
            raise UsageError(f"{ws.display(rel)}: not tracked by dvx (no {ws.display(pp)})", f"run `dvx add {ws.display(rel)}`") from None
    sha = scm.resolve_rev(ws.root, rev)
    raw = scm.read_blobs_at(ws.root, sha, [pp])[pp]
    if raw is None and pp not in scm.ls_files_at_rev(ws.root, sha, pp):
        raise UsageError(f"{rel}: not tracked by dvx at revision {rev} (no {pp} there)", "check the path and the revision (`git log -- PATH.dvx`)")
    return ptr.loads_at({pp: raw}, rev)[pp]


def _require_tabular(rel: str) -> None:
    from dvx.quality.tables import is_tabular

    name = Path(rel).name
    if "." in name and not is_tabular(rel) and not os.path.isdir(rel):
        raise UsageError(f"{rel}: not a Parquet, CSV, JSON Lines or Arrow file; dvx versions it but cannot read it as a table")


# validate -------------------------------------------------------------------


def validate(paths: Sequence[str] | None = None, rev: str | None = None, cwd: str | None = None) -> list[DatasetValidation]:
    """Validate each dataset (default: every tracked path with bound suites) against its suites."""
    from dvx.quality.suite import load_suite
    from dvx.quality.validate import bound_suites

    ws = Workspace.find(cwd or ".")
    if paths:
        rels = [ws.tracked_rel(p, cwd) for p in paths]
        explicit = True
    else:
        pps = scm.pointers_at_rev(ws.root, rev) if rev else ws.find_pointers()
        rels = [ptr.tracked_path(pp) for pp in pps]
        explicit = False
    store = gate.stores(ws).results
    out: list[DatasetValidation] = []
    for rel in rels:
        suites = bound_suites(ws.root, rel)
        if not suites:
            if explicit:
                raise ConfigError(
                    f"{rel}: no suite is bound to it in expectations/dvx.toml",
                    f"write one with `dvx expectations init {rel}`",
                )
            continue
        p = pointer_at(ws, rel, rev)
        label = rel if rev is None else f"{rel}@{rev}"
        out.append(gate.validate_version(ws, rel, p, [load_suite(s) for s in suites], rev=rev, label=label, store=store))
    return out


@dataclass
class InitResult:
    suite_path: str
    binding_path: str
    engine: str


def expectations_init(path: str, engine: str = "gx", force: bool = False, cwd: str | None = None) -> InitResult:
    """Infer a starter suite from the data of ``path`` and bind it in expectations/dvx.toml."""
    from dvx._fsutil import atomic_write
    from dvx.quality.infer import infer_suite
    from dvx.quality.suite import write_binding

    if engine not in ("gx", "pandera"):
        raise UsageError(f"--engine {engine}: use gx or pandera")
    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(path, cwd)
    src = ws.abspath(rel)
    if not src.exists():
        raise UsageError(f"{ws.display(rel)}: no such file or directory")
    text, filename = infer_suite(str(src), engine=engine)
    exp_dir = ws.root / "expectations"
    target = exp_dir / filename
    if target.exists() and not force:
        raise UsageError(f"{ws.display(str(target.relative_to(ws.root)))}: exists already", "use --force to overwrite it")
    atomic_write(target, text.encode("utf-8"))
    binding = write_binding(exp_dir, rel, filename)
    return InitResult(str(target.relative_to(ws.root)), str(Path(binding).relative_to(ws.root)), engine)


# stats / drift -------------------------------------------------------------------


def stats(path: str, rev: str | None = None, cwd: str | None = None, remote: str | None = None) -> Profile:
    """The profile of the tracked dataset ``path`` at ``rev`` (None: the workspace
    pointer): stored, or computed once from the data (objects the cache lacks
    come from the remote as the read needs them) and stored; see
    :func:`dvx.gate.profile_version`. ``dvx.stats`` answers the same."""
    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(path, cwd)
    p = pointer_at(ws, rel, rev)
    try:
        return gate.profile_version(ws, rel, p, rev, fetch=True, remote=remote)
    except DataFormatError:
        raise
    except OSError as e:
        raise DataFormatError(rel, f"cannot read as a table: {e}") from e


@dataclass
class DriftResult:
    path: str
    baseline_rev: str
    current_rev: str | None
    report: DriftReport
    baseline: Profile
    current: Profile

    @property
    def drifted(self) -> bool:
        return bool(self.report.drifted)

    def to_json(self) -> dict[str, Any]:
        d = self.report.to_dict()
        return {"path": self.path, "baseline": self.baseline_rev, "current": self.current_rev or "workspace", **d}


def drift(path: str, baseline: str = "HEAD", rev: str | None = None, cwd: str | None = None) -> DriftResult:
    """Compare ``path`` (workspace, or ``rev``) with its version at ``baseline``."""
    from dvx.quality.drift import compare

    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(path, cwd)
    cur_p = pointer_at(ws, rel, rev)
    base_p = pointer_at(ws, rel, baseline)
    cur = gate.profile_version(ws, rel, cur_p, rev)
    base = gate.profile_version(ws, rel, base_p, baseline)
    policy = gate.Policy.load(ws)
    report = compare(base, cur, policy.thresholds())
    # Stored so `dvx log` / `dvx diff` show this pair's drift without recomputing.
    gate.stores(ws).drift.put(base_p.oid, cur_p.oid, policy.thresholds_key, report.to_dict())
    return DriftResult(rel, baseline, rev, report, base, cur)
