"""The gate's checks on one dataset version: validation of the bound suites,
then drift against the baseline version.

Validation answers from the result store for an unchanged data id (a rerun
reads one small JSON file per suite and never the data); drift summaries are
stored per (baseline id, current id, thresholds). Nothing here imports
pyarrow, numpy, pandas or great_expectations at module level; with every
result stored none of them is imported at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dvx.errors import DataFormatError, ObjectMissingError, PointerError
from dvx.gate.data import open_version
from dvx.gate.policy import Policy, Target, is_tabular
from dvx.gate.profiles import profile_version, stores
from dvx.gate.reading import gate_version_of as version_measured
from dvx.gate.result import ACCEPTED, DRIFTED, ERROR, FAILED, NEW, NONE, OK, PASSED, SKIPPED, UNCHANGED, DatasetGate, Failure
from dvx.quality.numbers import expected, number, percent, value
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.cluster import Compute
    from dvx.gate.accepted import AcceptedSet
    from dvx.quality.results import DatasetValidation, ResultStore
    from dvx.quality.stores import QualityStores
    from dvx.quality.suite import Suite


def validate_version(ws: Workspace, rel: str, p: ptr.Pointer, suites: list[Suite], *, rev: str | None = None,
                     label: str | None = None, store: ResultStore | None = None,
                     compute: Compute | None = None) -> DatasetValidation:
    """Validate version ``p`` of ``rel`` (``rev``: the commit holding it; None: the index or
    the workspace) against ``suites``; stored results answer for an unchanged data id.
    ``compute``: the partitions run on that Dask cluster (a stored result starts no client)."""
    from dvx.quality.validate import validate_dataset

    store = store if store is not None else stores(ws).results
    label = label or rel
    if all(store.get(p.oid, s.id) is not None for s in suites):
        return validate_dataset(str(ws.abspath(rel)), suites, label=label, data_id=p.oid, store=store)
    if compute is not None:
        from dvx import cluster

        src = cluster.worker_source(ws, rel, p, rev, compute)
        with open_version(ws, rel, p, rev, fetch=True) as data:
            return cluster.validate_on_cluster(data.table(), suites, src, compute, label=label, store=store)
    with open_version(ws, rel, p, rev) as data:
        return validate_dataset(data.table(), suites, label=label, data_id=p.oid, store=store)


def validation_failures(dv: DatasetValidation) -> list[Failure]:
    """Failing rows of a dataset's validation: what was observed, and what the expectation wants."""
    out = []
    for r in dv.failed:
        if r.exception:
            observed = f"error: {r.exception}"
        elif r.unexpected_count:
            pct = r.unexpected_percent
            observed = f"{number(r.unexpected_count)} unexpected" + (f" ({percent(pct)})" if pct is not None else "")
            if r.examples:
                observed += f" e.g. {value(r.examples[:3])}"
        else:
            observed = f"observed {value(r.observed_value)}"
        out.append(Failure("validation", r.expectation_type, r.column, observed, expected(r.expectation_type, r.kwargs)))
    return out


def drift_failures(report: dict[str, Any]) -> list[Failure]:
    """Failing rows of a stored drift summary (``DriftReport.to_dict()``)."""
    out: list[Failure] = []
    schema = report.get("schema", {})
    if schema.get("drifted"):
        for c in schema.get("removed", []):
            out.append(Failure("drift", "schema", c, "column removed", "column present"))
        cols = {c["name"]: c for c in report.get("columns", [])}
        for c in schema.get("retyped", []):
            col = cols.get(c, {})
            out.append(Failure("drift", "schema", c, f"type {col.get('current_type')}", f"type {col.get('baseline_type')}"))
    rc = report.get("row_count", {})
    if rc.get("drifted"):
        rel = rc.get("relative_change")
        out.append(Failure("drift", "row_count", None, f"{value(rc.get('baseline'))} -> {value(rc.get('current'))}"
                           + (f" ({rel:+.1%})" if rel is not None else ""), f"change ≤ {value(rc.get('threshold'))}"))
    for c in report.get("columns", []):
        if not c.get("drifted"):
            continue
        for m in c.get("metrics", []):
            if m.get("drifted") and m.get("gated"):
                out.append(Failure("drift", m["name"], c["name"], value(m.get("value")), f"≤ {value(m.get('threshold'))}"))
    return out


def _validate(ws: Workspace, policy: Policy, store: ResultStore, t: Target, p: ptr.Pointer, g: DatasetGate,
              compute: Compute | None = None) -> None:
    suites = policy.suites(t.rel)
    if not suites:
        g.validation = NONE
        return
    g.suites = [s.name for s in suites]
    g.cached = g.cached and all(store.get(p.oid, s.id) is not None for s in suites)
    try:
        dv = validate_version(ws, t.rel, p, suites, rev=t.rev, store=store, compute=compute)
    except DataFormatError as e:
        g.validation = ERROR
        g.failures.append(Failure("data", "readable", None, e.message, "a readable table"))
        return
    g.validation = PASSED if dv.success else FAILED
    g.failures.extend(validation_failures(dv))
    g.notes.extend(dv.notes)


def _drift(ws: Workspace, policy: Policy, t: Target, p: ptr.Pointer, base: ptr.Pointer | None, baseline: str | None,
           g: DatasetGate, accepted: AcceptedSet | None = None, compute: Compute | None = None) -> None:
    if base is None:
        g.drift = NEW
        return
    g.baseline_id = base.oid
    if base.oid == p.oid:
        g.drift = UNCHANGED
        return
    rel = t.rel
    drift_store = stores(ws).drift
    report = drift_store.get(base.oid, p.oid, policy.thresholds_key)
    if report is None:
        if not (is_tabular(ws, rel, p) and is_tabular(ws, rel, base)):
            g.drift = SKIPPED
            return
        g.cached = False
        from dvx.quality.drift import compare

        try:
            bprof = profile_version(ws, rel, base, baseline, compute=compute)
        except ObjectMissingError:
            g.drift = SKIPPED
            # `dvx pull` would not help: it fetches what the workspace pointers name, not the baseline
            g.notes.append(f"{rel}: baseline version {base.oid[:12]} is not in the cache: drift not checked "
                           f"(run `dvx fetch --rev {baseline or 'HEAD'}`)")
            return
        except DataFormatError as e:
            g.drift = SKIPPED
            g.notes.append(f"{rel}: baseline is not a readable table ({e.message}): drift not checked")
            return
        try:
            cprof = profile_version(ws, rel, p, t.rev, compute=compute)
        except DataFormatError as e:
            g.drift = ERROR
            if not any(f.check == "data" for f in g.failures):  # validation may have said it already
                g.failures.append(Failure("data", "readable", None, e.message, "a readable table"))
            return
        report = compare(bprof, cprof, policy.thresholds()).to_dict()
        drift_store.put(base.oid, p.oid, policy.thresholds_key, report)
    fails = drift_failures(report)
    acc = accepted.find(rel, p.oid, base.oid) if fails and accepted is not None else None
    if acc is not None:  # a pass, shown as accepted with who and why; never a silent one
        g.drift, g.accepted = ACCEPTED, acc.to_json()
        return
    g.drift = DRIFTED if fails else OK
    g.failures.extend(fails)


def gate_version(ws: Workspace, t: Target, baseline: str | None, policy: Policy,
                 qs: QualityStores | None = None, accepted: AcceptedSet | None = None,
                 compute: Compute | None = None) -> DatasetGate:
    """Gate one version: validation of its suites, then drift against its
    baseline (``t.base_text`` at commit ``baseline``; None: the dataset is new).
    Drift of a (data id, baseline id) pair in ``accepted`` is ACCEPTED, not a failure.
    ``compute``: profiles and validation partitions run on that Dask cluster."""
    qs = qs or stores(ws)
    g = DatasetGate(t.rel, because=t.because)
    if t.text is None:
        g.failures.append(Failure("pointer", "present", None, f"{t.source}: no pointer file", "a pointer file"))
        return g
    try:
        p = ptr.parse(t.text, t.source)
    except PointerError as e:
        g.validation = g.drift = ERROR
        g.failures.append(Failure("pointer", "parse", None, e.format_message(), "a valid pointer file"))
        return g
    # Which version is measured (dvx.gate.reading): for the workspace, the file on disk.
    measured, g.version = version_measured(ws, t.where, t.rel, p, t.rev_name)
    if measured is None:
        g.failures.append(Failure("data", "present", None, "not in the workspace", "the file on disk (or --staged)"))
        return g
    p = measured
    g.data_id = p.oid
    base: ptr.Pointer | None = None
    if t.base_text is not None:
        try:
            base = ptr.parse(t.base_text, f"baseline of {t.rel}")
            g.baseline_version = f"{t.base_name} {base.oid[:12]}"
        except PointerError:
            g.notes.append(f"{t.rel}: the baseline pointer is unreadable: drift not checked")
    _validate(ws, policy, qs.results, t, p, g, compute)
    _drift(ws, policy, t, p, base, baseline, g, accepted, compute)
    return g
