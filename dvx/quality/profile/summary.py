"""A profile as people and scripts read it: per-column summaries, not sketches.

``dvx stats --json`` prints :func:`profile_summary`: for each column the row
count, nulls, NaN, min, max, mean, standard deviation, the quantiles p01, p05,
p25, p50, p75, p95 and p99 (numeric columns), the distinct count with whether
it is an estimate, and the most frequent values. The raw sketches (KLL items,
HyperLogLog registers, ``m2``) are ``Profile.to_dict()``, shown only with
``--raw``. Numbers keep full precision (JSON); text formats them with
:mod:`dvx.quality.numbers`.
"""

from __future__ import annotations

from typing import Any

from dvx.quality.profile.model import ColumnProfile, Profile

QUANTILES = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
TOP = 10  # most frequent values listed


def column_summary(c: ColumnProfile) -> dict[str, Any]:
    """One column: counts, range, moments, quantiles, distinct (``distinct_approximate``), top values."""
    quantiles = None
    if c.quantiles is not None and c.quantiles.n:
        quantiles = {k: c.quantile(q) for k, q in QUANTILES.items()}
    top = None
    if c.top is not None and len(c.top.counts):
        top = [{"value": v, "count": int(n)} for v, n in zip(c.top.value_list()[:TOP], c.top.counts[:TOP].tolist(),
                                                           strict=False)]
    return {
        "type": c.type,
        "kind": c.kind,
        "count": c.count,
        "nulls": c.null_count,
        "nan": c.nan_count,
        "min": c.min,
        "max": c.max,
        "mean": c.mean,
        "std": c.std,
        "quantiles": quantiles,
        "distinct": c.distinct_count,
        "distinct_approximate": c.distinct_approximate,
        "top_values": top,
        "top_values_exact": None if c.top is None else bool(c.top.exact),
    }


def profile_summary(p: Profile) -> Any:
    """The whole profile: row count, one summary per column, skipped columns and why."""
    from dvx.quality.results import jsonable  # NaN and numpy scalars never reach the JSON

    return jsonable({
        "row_count": p.row_count,
        "columns": {name: column_summary(c) for name, c in p.columns.items()},
        "skipped": {name: {"type": s.type, "reason": s.reason} for name, s in p.skipped.items()},
    })
