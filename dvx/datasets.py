"""Dataset-level verbs over any version: validate, stats, drift, expectations init.

The CLI commands ``dvx validate``, ``dvx stats``, ``dvx drift`` and ``dvx
expectations init`` and the Python API call these. Which version each
reads follows one rule (:mod:`dvx.gate.reading`): by default the file on
disk, even when modified since ``dvx add``; ``staged=True`` the version
last added (the pointer file); ``rev`` a committed version; drift compares
with ``baseline`` (default ``HEAD``). Every result names the version it
measured. Results, profiles and drift reports are stored by the gate's
stores, keyed by content ids, so an unchanged dataset answers without
reading its data. Nothing here writes a pointer file or any tracked file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx import gate, scm
from dvx.cluster import compute_settings
from dvx.errors import ConfigError, DataFormatError, UsageError
from dvx.gate import reading
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.quality.drift import DriftReport
    from dvx.quality.profile import Profile
    from dvx.quality.results import DatasetValidation


def pointer_at(ws: Workspace, rel: str, rev: str | None) -> ptr.Pointer:
    """The pointer of ``rel`` in the workspace pointer file (``rev=None``) or committed at ``rev``."""
    return reading.pointer_file(ws, rel) if rev is None else reading.committed(ws, rel, rev)


def _require_tabular(rel: str) -> None:
    from dvx.quality.tables import is_tabular

    name = Path(rel).name
    if "." in name and not is_tabular(rel) and not os.path.isdir(rel):
        raise UsageError(f"{rel}: not a Parquet, CSV, JSON Lines or Arrow file; dvx versions it but cannot read it as a table")


# validate -------------------------------------------------------------------


def validate(paths: Sequence[str] | None = None, rev: str | None = None, cwd: str | None = None, *,
             staged: bool = False, scheduler: str | None = None, repo_url: str | None = None
             ) -> list[DatasetValidation]:
    """Validate each dataset (default: every tracked path with bound suites) against its suites:
    the file on disk, the version last added (``staged``) or the one committed at ``rev``.
    ``scheduler``/``repo_url``: run the partitions on a Dask cluster (see :mod:`dvx.cluster`)."""
    from dvx.quality.suite import load_suite
    from dvx.quality.validate import bound_suites

    ws = Workspace.find(cwd or ".")
    reading.which(staged, rev)
    if paths:
        rels = [ws.tracked_rel(p, cwd) for p in paths]
        explicit = True
    else:
        pps = scm.pointers_at_rev(ws.root, rev) if rev else ws.find_pointers()
        rels = [ptr.tracked_path(pp) for pp in pps]
        explicit = False
    store = gate.stores(ws).results
    compute = compute_settings(scheduler, repo_url, ws.config)
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
        v = reading.resolve(ws, rel, staged=staged, rev=rev)
        label = rel if rev is None else f"{rel}@{rev}"
        dv = gate.validate_version(ws, rel, v.pointer, [load_suite(s) for s in suites], rev=v.rev, label=label,
                                   store=store, compute=compute)
        dv.version = v.label
        out.append(dv)
    return out


@dataclass
class InitResult:
    suite_path: str
    binding_path: str
    engine: str
    version: str = reading.WORKSPACE  # the version the suite was inferred from


def expectations_init(path: str, engine: str = "gx", force: bool = False, cwd: str | None = None, *,
                      staged: bool = False, rev: str | None = None) -> InitResult:
    """Infer a starter suite from the data of ``path`` (on disk; ``staged``: the version
    last added; ``rev``: a committed one) and bind it in expectations/dvx.toml."""
    from dvx._fsutil import atomic_write
    from dvx.quality.infer import infer_suite, suite_name_for
    from dvx.quality.suite import write_binding

    if engine not in ("gx", "pandera"):
        raise UsageError(f"--engine {engine}: use gx or pandera")
    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(path, cwd)
    src = ws.abspath(rel)
    if reading.which(staged, rev) == reading.WORKSPACE:
        if not src.exists():
            raise UsageError(f"{ws.display(rel)}: no such file or directory")
        label = reading.WORKSPACE
        if ws.abspath(ptr.pointer_path(rel)).exists():  # tracked: say whether it differs from the added version
            v = reading.on_disk(ws, rel, reading.pointer_file(ws, rel))
            label = v.label if v is not None else label
        text, filename = infer_suite(str(src), engine=engine)
    else:
        v = reading.resolve(ws, rel, staged=staged, rev=rev)
        label = v.label
        from dvx.gate.data import open_version

        with open_version(ws, rel, v.pointer, v.rev) as data:
            text, filename = infer_suite(data.table(), engine=engine, name=suite_name_for(rel))  # type: ignore[arg-type]
    exp_dir = ws.root / "expectations"
    target = exp_dir / filename
    if target.exists() and not force:
        raise UsageError(f"{ws.display(str(target.relative_to(ws.root)))}: exists already", "use --force to overwrite it")
    atomic_write(target, text.encode("utf-8"))
    binding = write_binding(exp_dir, rel, filename)
    return InitResult(str(target.relative_to(ws.root)), str(Path(binding).relative_to(ws.root)), engine, label)


# stats / drift -------------------------------------------------------------------


def stats_version(path: str, rev: str | None = None, cwd: str | None = None, remote: str | None = None, *,
                  staged: bool = False, scheduler: str | None = None, repo_url: str | None = None
                  ) -> tuple[reading.Version, Profile]:
    """The version of the tracked dataset ``path`` the options select (on disk by
    default) and its profile: stored, or computed once from the data (objects
    the cache lacks come from the remote as the read needs them; ``scheduler``:
    on a Dask cluster) and stored by data id; see :func:`dvx.gate.profile_version`."""
    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(path, cwd)
    v = reading.resolve(ws, rel, staged=staged, rev=rev)
    compute = compute_settings(scheduler, repo_url, ws.config)
    try:
        return v, gate.profile_version(ws, rel, v.pointer, v.rev, fetch=True, remote=remote, compute=compute)
    except DataFormatError:
        raise
    except OSError as e:
        raise DataFormatError(rel, f"cannot read as a table: {e}") from e


def stats(path: str, rev: str | None = None, cwd: str | None = None, remote: str | None = None, *,
          staged: bool = False) -> Profile:
    """The profile of :func:`stats_version`."""
    return stats_version(path, rev, cwd, remote, staged=staged)[1]


@dataclass
class DriftResult:
    path: str
    baseline_rev: str
    current_rev: str | None
    report: DriftReport
    baseline: Profile
    current: Profile
    current_version: str = reading.WORKSPACE  # what was measured ("workspace (modified since dvx add)", ...)
    baseline_version: str = "HEAD"  # "<baseline> <id12>"
    current_id: str | None = None
    baseline_id: str | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.report.drifted)

    def to_json(self) -> dict[str, Any]:
        d = self.report.to_dict()
        return {"path": self.path, "baseline": self.baseline_rev, "current": self.current_rev or "workspace",
                "current_version": self.current_version, "baseline_version": self.baseline_version,
                "current_id": self.current_id, "baseline_id": self.baseline_id, **d}


def drift(path: str, baseline: str = "HEAD", rev: str | None = None, cwd: str | None = None, *,
          staged: bool = False, scheduler: str | None = None, repo_url: str | None = None) -> DriftResult:
    """Compare ``path`` (on disk by default; ``staged``: the version last added;
    ``rev``: a committed one) with its version at ``baseline`` (profiles computed on a
    Dask cluster with ``scheduler``)."""
    from dvx.quality.drift import compare

    ws = Workspace.find(cwd or ".")
    rel = ws.tracked_rel(path, cwd)
    cur_v = reading.resolve(ws, rel, staged=staged, rev=rev)
    base_v = reading.baseline_of(ws, rel, baseline)
    compute = compute_settings(scheduler, repo_url, ws.config)
    cur = gate.profile_version(ws, rel, cur_v.pointer, cur_v.rev, compute=compute)
    base = gate.profile_version(ws, rel, base_v.pointer, base_v.rev, compute=compute)
    policy = gate.Policy.load(ws)
    report = compare(base, cur, policy.thresholds())
    # Stored so `dvx log` / `dvx diff` show this pair's drift without recomputing.
    gate.stores(ws).drift.put(base_v.oid, cur_v.oid, policy.thresholds_key, report.to_dict())
    return DriftResult(rel, baseline, rev, report, base, cur, cur_v.label, base_v.label, cur_v.oid, base_v.oid)
