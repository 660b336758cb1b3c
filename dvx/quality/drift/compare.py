"""compare(): two profiles column by column into a DriftReport."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dvx.quality.drift.metrics import categorical_metrics, null_metric, numeric_metrics
from dvx.quality.drift.report import ColumnDrift, DriftReport
from dvx.quality.drift.thresholds import Thresholds
from dvx.quality.profile import CATEGORICAL, NUMERIC, Profile


def compare(baseline: Profile, current: Profile, thresholds: Thresholds | None = None) -> DriftReport:
    """Compare two profiles column by column; the metrics are described in :mod:`dvx.quality.drift`."""
    th = thresholds or Thresholds()
    cols: list[ColumnDrift] = []
    added: list[str] = []
    removed: list[str] = []
    retyped: list[str] = []
    names = _ordered_names([current.columns, current.skipped, baseline.columns, baseline.skipped])
    for name in names:
        a, b = baseline.columns.get(name), current.columns.get(name)
        sa, sb = baseline.skipped.get(name), current.skipped.get(name)
        ta = a.type if a else (sa.type if sa else None)
        tb = b.type if b else (sb.type if sb else None)
        if ta is None:
            added.append(name)
            cols.append(ColumnDrift(name, "added", b.kind if b else None, None, tb))
            continue
        if tb is None:
            removed.append(name)
            cols.append(ColumnDrift(name, "removed", a.kind if a else None, ta, None))
            continue
        if ta != tb:
            retyped.append(name)
        if a is None or b is None:
            skipped = sb or sa
            reason = skipped.reason if skipped else ""
            cols.append(ColumnDrift(name, "retyped" if ta != tb else "skipped", None, ta, tb, note=reason))
            continue
        t = th.for_column(name)
        status = "retyped" if ta != tb else "ok"
        cd = ColumnDrift(name, status, a.kind, ta, tb)
        cd.metrics.append(null_metric(a, b, t))
        if a.kind != b.kind:
            cd.note = f"kind changed from {a.kind} to {b.kind}: no distribution metrics"
        elif a.kind == NUMERIC:
            cd.metrics.extend(numeric_metrics(a, b, t))
        elif a.kind == CATEGORICAL:
            cd.metrics.extend(categorical_metrics(a, b, t))
        if a.kind == b.kind and a.kind in (NUMERIC, CATEGORICAL) and not (a.valid_count and b.valid_count):
            cd.note = "no non-null values on one side: distribution metrics undefined"
        cols.append(cd)
    schema_drifted = th.schema and bool(removed or retyped)
    row_drift = False
    if th.row_count is not None:
        if baseline.row_count:
            row_drift = abs(current.row_count / baseline.row_count - 1.0) > th.row_count
        else:
            row_drift = current.row_count > 0
    return DriftReport(baseline.row_count, current.row_count, cols, added, removed, retyped,
                       schema_drifted, row_drift, th.row_count)


def _ordered_names(maps: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for m in maps:
        for n in m:
            seen.setdefault(n, None)
    return list(seen)
