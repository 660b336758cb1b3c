"""Drift between two profiles: schema, row count, null rate and distributions.

``compare(baseline, current, thresholds)`` returns a :class:`DriftReport`.
Per column it computes (docs/drift.md has the definitions and defaults):

- ``ks``: two-sample Kolmogorov-Smirnov statistic of numeric columns, both
  CDFs read from the KLL sketches on the union of their retained items;
- ``psi``: population stability index on the baseline's deciles;
- ``js``: Jensen-Shannon distance, base 2 (in [0, 1]), on 20 common bins (the
  pooled sketch's quantiles) or on the categories plus an "other" bucket;
- ``linf``: L-infinity distance of category shares (as TFDV);
- ``null_rate_delta``: change of the share of null (or NaN) values.

Every threshold is ``max(configured value, sampling critical value at
alpha)``: the configured value says how much change matters, the critical
value keeps small tables from raising false alarms from sampling noise alone
(a resample of the same distribution stays below it with probability about
1 - alpha). No metric is ever NaN: undefined ones are None and not drifted.
"""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
from collections.abc import Iterable
from typing import Any

import numpy as np

from dvx._textfile import load_toml
from dvx.errors import ConfigError
from dvx.quality.profile import CATEGORICAL, NUMERIC, ColumnProfile, Profile

METRICS = ("psi", "ks", "js", "linf", "null_rate_delta")

_PSI_BINS = 10
_JS_BINS = 20
# Share floor in PSI's log ratio so an empty bin gives a large, finite value.
_PSI_EPS = 1e-4


@dataclasses.dataclass(frozen=True)
class MetricThresholds:
    """Thresholds of one column (or the defaults of all columns).

    psi, js, ks, linf, null_rate_delta: the smallest value that counts as
    drift; alpha: false-alarm rate of the sampling critical values; gate: the
    metrics whose drift fails the check (the others are only reported).
    """

    psi: float = 0.2
    js: float = 0.1
    ks: float = 0.01
    linf: float = 0.02
    null_rate_delta: float = 0.01
    alpha: float = 1e-4
    gate: frozenset[str] = frozenset(METRICS)


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Defaults, per-column overrides and the dataset-level checks.

    schema: removed or retyped columns are drift (gated); row_count: relative
    row count change |current/baseline - 1| that is drift (None: reported only).
    """

    default: MetricThresholds = MetricThresholds()
    columns: dict[str, MetricThresholds] = dataclasses.field(default_factory=dict)
    schema: bool = True
    row_count: float | None = None

    def for_column(self, name: str) -> MetricThresholds:
        """The thresholds that apply to column ``name``."""
        return self.columns.get(name, self.default)


_KEYS = {"psi", "js", "ks", "linf", "null_rate_delta", "alpha", "gate"}


def _metric_thresholds(where: str, table: dict[str, Any], base: MetricThresholds) -> MetricThresholds:
    values: dict[str, Any] = {}
    for key, val in table.items():
        if key in ("columns", "schema", "row_count"):
            continue
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown drift key {key!r}",
                              hint=f"use one of {', '.join(sorted(_KEYS | {'schema', 'row_count'}))}")
        if key == "gate":
            if not isinstance(val, list) or not all(v in METRICS for v in val):
                raise ConfigError(f"{where}: gate must be a list of {', '.join(METRICS)}")
            values["gate"] = frozenset(val)
            continue
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val) or val < 0:
            raise ConfigError(f"{where}: {key} must be a non-negative number, got {val!r}")
        if key == "alpha" and not 0 < val < 1:
            raise ConfigError(f"{where}: alpha must be between 0 and 1, got {val!r}")
        values[key] = float(val)
    return dataclasses.replace(base, **values)


def thresholds_from_dict(drift: dict[str, Any], source: str = "[drift]") -> Thresholds:
    """Thresholds from the ``[drift]`` table of a TOML document (see
    :func:`load_thresholds`); ConfigError naming ``source`` when invalid."""
    if not isinstance(drift, dict):
        raise ConfigError(f"{source}: [drift] must be a table")
    default = _metric_thresholds(source, drift, MetricThresholds())
    cols: dict[str, MetricThresholds] = {}
    raw_cols = drift.get("columns", {})
    if not isinstance(raw_cols, dict):
        raise ConfigError(f"{source}: drift.columns must be a table of tables")
    for name, table in raw_cols.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: drift.columns.{name} must be a table")
        cols[name] = _metric_thresholds(f"{source} [drift.columns.{name}]", table, default)
    schema = drift.get("schema", True)
    if not isinstance(schema, bool):
        raise ConfigError(f"{source}: drift.schema must be true or false")
    row_count = drift.get("row_count")
    if row_count is not None and (isinstance(row_count, bool) or not isinstance(row_count, (int, float))
                                  or row_count < 0):
        raise ConfigError(f"{source}: drift.row_count must be a non-negative number")
    return Thresholds(default, cols, schema, None if row_count is None else float(row_count))


def load_thresholds(toml_path: str | os.PathLike[str] | None) -> Thresholds:
    """Thresholds from the ``[drift]`` table of a TOML file (normally
    ``expectations/dvx.toml``); the defaults when the file or table is absent.

    Example::

        [drift]
        psi = 0.2
        ks = 0.01
        gate = ["psi", "ks", "js", "linf", "null_rate_delta"]
        [drift.columns.age]
        psi = 0.3

    Raises ConfigError (exit 2) naming the file for bad TOML or values.
    """
    if toml_path is None:
        return Thresholds()
    doc = load_toml(toml_path)
    if doc is None:
        return Thresholds()
    return thresholds_from_dict(doc.get("drift", {}), os.fspath(toml_path))


# --------------------------------------------------------------------------
# results


@dataclasses.dataclass
class Metric:
    """One metric of one column: value (None when undefined), the effective
    threshold, whether it drifted and whether it gates the check."""

    name: str
    value: float | None
    threshold: float | None
    drifted: bool
    gated: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"name": self.name, "value": _clean(self.value), "threshold": _clean(self.threshold),
                "drifted": self.drifted, "gated": self.gated}


@dataclasses.dataclass
class ColumnDrift:
    """Drift of one column; ``status`` is ok, added, removed, retyped or skipped."""

    name: str
    status: str
    kind: str | None
    baseline_type: str | None
    current_type: str | None
    metrics: list[Metric] = dataclasses.field(default_factory=list)
    note: str = ""

    @property
    def drifted(self) -> bool:
        """True when a gated metric drifted."""
        return any(m.drifted and m.gated for m in self.metrics)

    def metric(self, name: str) -> Metric | None:
        """The metric called ``name``, if computed."""
        return next((m for m in self.metrics if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"name": self.name, "status": self.status, "kind": self.kind,
                "baseline_type": self.baseline_type, "current_type": self.current_type,
                "drifted": self.drifted, "note": self.note,
                "metrics": [m.to_dict() for m in self.metrics]}


@dataclasses.dataclass
class DriftReport:
    """Result of :func:`compare`. ``drifted`` is the dataset's verdict."""

    baseline_rows: int
    current_rows: int
    columns: list[ColumnDrift]
    added: list[str]
    removed: list[str]
    retyped: list[str]
    schema_drifted: bool
    row_count_drifted: bool
    row_count_threshold: float | None

    @property
    def drifted(self) -> bool:
        """True when the schema, row count or any column drifted (gated metrics)."""
        return self.schema_drifted or self.row_count_drifted or any(c.drifted for c in self.columns)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the columns with a gated metric beyond its threshold."""
        return [c.name for c in self.columns if c.drifted]

    def column(self, name: str) -> ColumnDrift:
        """The drift of column ``name`` (KeyError when absent)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the shape of ``dvx drift --json``)."""
        change = self.current_rows - self.baseline_rows
        return {
            "drifted": self.drifted,
            "drifted_columns": self.drifted_columns,
            "row_count": {"baseline": self.baseline_rows, "current": self.current_rows,
                          "change": change,
                          "relative_change": _clean(change / self.baseline_rows) if self.baseline_rows else None,
                          "threshold": self.row_count_threshold, "drifted": self.row_count_drifted},
            "schema": {"added": self.added, "removed": self.removed, "retyped": self.retyped,
                       "drifted": self.schema_drifted},
            "columns": [c.to_dict() for c in self.columns],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (never contains NaN or infinity)."""
        import json

        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


# --------------------------------------------------------------------------
# statistics helpers


def ks_critical(alpha: float, n: int, m: int) -> float:
    """Two-sample KS critical value c(alpha) * sqrt((n + m) / (n m)) with
    c(alpha) = sqrt(-ln(alpha / 2) / 2) (asymptotic, conservative)."""
    return math.sqrt(-0.5 * math.log(alpha / 2.0)) * math.sqrt((n + m) / (n * m))


def _z(p: float) -> float:
    """Standard normal quantile."""
    return statistics.NormalDist().inv_cdf(p)


def chi2_quantile(q: float, dof: int) -> float:
    """Wilson-Hilferty approximation of the chi-square quantile (no scipy)."""
    dof = max(1, dof)
    z = _z(q)
    h = 2.0 / (9.0 * dof)
    return dof * max(0.0, 1.0 - h + z * math.sqrt(h)) ** 3


def psi(p: np.ndarray, q: np.ndarray) -> float:
    """Population stability index sum((q - p) ln(q / p)), shares floored at 1e-4."""
    p = np.maximum(np.asarray(p, float), _PSI_EPS)
    q = np.maximum(np.asarray(q, float), _PSI_EPS)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance, base 2: sqrt of the JS divergence, in [0, 1]."""
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    sp, sq = p.sum(), q.sum()
    if sp <= 0 or sq <= 0:
        return 0.0
    p, q = p / sp, q / sq
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return math.sqrt(max(0.0, min(1.0, 0.5 * kl(p) + 0.5 * kl(q))))


def _clean(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------
# distributions of one column


class _NumericDist:
    """CDF of a numeric column: the sketch for finite values plus the exact
    counts of -inf and +inf."""

    def __init__(self, c: ColumnProfile) -> None:
        assert c.quantiles is not None
        self.sk = c.quantiles
        self.fin = self.sk.n
        self.neg = c.neginf_count
        self.pos = c.posinf_count
        self.total = self.fin + self.neg + self.pos
        self.err = self.sk.rank_error

    def cdf(self, xs: np.ndarray) -> np.ndarray:
        xs = np.asarray(xs, float)
        f = self.sk.cdf(xs) if self.fin else np.zeros(xs.shape)
        out = (self.neg + self.fin * f) / self.total
        return np.where(xs == np.inf, 1.0, out)

    def shares(self, edges: np.ndarray) -> np.ndarray:
        """Shares of the bins (-inf, e1], (e1, e2], ..., (ek, +inf]."""
        c = self.cdf(edges)
        return np.diff(np.concatenate(([0.0], c, [1.0])))


def _unique_finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float)
    return np.unique(x[np.isfinite(x)])


def _numeric_metrics(a: ColumnProfile, b: ColumnProfile, t: MetricThresholds) -> list[Metric]:
    da, db = _NumericDist(a), _NumericDist(b)
    na, nb = da.total, db.total
    gate = t.gate
    if na == 0 or nb == 0:
        return [Metric(m, None, None, False, m in gate) for m in ("ks", "psi", "js")]
    # KS on every point where either CDF steps
    assert a.quantiles is not None and b.quantiles is not None
    grid = np.union1d(a.quantiles.support(), b.quantiles.support())
    if len(grid):
        ks = float(np.max(np.abs(da.cdf(grid) - db.cdf(grid))))
    else:  # only infinities on both sides
        ks = abs(da.neg / na - db.neg / nb)
    ks_thr = max(t.ks, ks_critical(t.alpha, na, nb) + da.err + db.err)
    inv = 1.0 / na + 1.0 / nb
    # PSI on the baseline's deciles
    edges = _unique_finite(a.quantiles.quantiles(np.arange(1, _PSI_BINS) / _PSI_BINS)) \
        if a.quantiles.n else np.empty(0)
    pv = psi(da.shares(edges), db.shares(edges))
    psi_thr = max(t.psi, chi2_quantile(1 - t.alpha, len(edges)) * inv)
    # JS on 20 bins at the pooled sketch's quantiles
    pooled = a.quantiles.merge(b.quantiles)
    jedges = _unique_finite(pooled.quantiles(np.arange(1, _JS_BINS) / _JS_BINS)) if pooled.n else np.empty(0)
    jv = js_distance(da.shares(jedges), db.shares(jedges))
    js_thr = max(t.js, math.sqrt(chi2_quantile(1 - t.alpha, len(jedges)) * inv / (8 * math.log(2))))
    return [
        Metric("ks", ks, ks_thr, ks > ks_thr, "ks" in gate),
        Metric("psi", pv, psi_thr, pv > psi_thr, "psi" in gate),
        Metric("js", jv, js_thr, jv > js_thr, "js" in gate),
    ]


def category_shares(a: ColumnProfile, b: ColumnProfile) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Union of both columns' counted values (baseline order first) and each
    side's shares of the non-null values; the last entry is "other" (values
    outside the counted ones)."""
    assert a.top is not None and b.top is not None
    ca, cb = a.top.as_dict(), b.top.as_dict()
    names = list(ca) + [v for v in cb if v not in ca]
    va, vb = max(a.valid_count, 1), max(b.valid_count, 1)
    pa_ = np.array([ca.get(v, 0) for v in names], float) / va
    pb_ = np.array([cb.get(v, 0) for v in names], float) / vb
    pa_ = np.append(pa_, max(0.0, 1.0 - pa_.sum()))
    pb_ = np.append(pb_, max(0.0, 1.0 - pb_.sum()))
    return names, pa_, pb_


def _categorical_metrics(a: ColumnProfile, b: ColumnProfile, t: MetricThresholds) -> list[Metric]:
    na, nb = a.valid_count, b.valid_count
    gate = t.gate
    if na == 0 or nb == 0 or a.top is None or b.top is None:
        return [Metric(m, None, None, False, m in gate) for m in ("linf", "js")]
    names, pa_, pb_ = category_shares(a, b)
    inv = 1.0 / na + 1.0 / nb
    diff = np.abs(pa_[:-1] - pb_[:-1])
    linf = float(diff.max()) if len(diff) else 0.0
    k = max(1, len(names))
    pooled = (pa_[:-1] * na + pb_[:-1] * nb) / (na + nb)
    var = float(np.max(pooled * (1 - pooled))) if len(pooled) else 0.25
    # Bonferroni over the k categories; Misra-Gries counts may be short by
    # rows / (cap + 1) on each side once they are no longer exact.
    mg = sum(1.0 / (c.top.cap + 1) for c in (a, b) if c.top is not None and not c.top.exact)
    linf_thr = max(t.linf, _z(1 - t.alpha / (2 * k)) * math.sqrt(var * inv) + mg)
    jv = js_distance(pa_, pb_)
    js_thr = max(t.js, math.sqrt(chi2_quantile(1 - t.alpha, k) * inv / (8 * math.log(2))))
    return [
        Metric("linf", linf, linf_thr, linf > linf_thr, "linf" in gate),
        Metric("js", jv, js_thr, jv > js_thr, "js" in gate),
    ]


def _null_metric(a: ColumnProfile, b: ColumnProfile, t: MetricThresholds) -> Metric:
    gated = "null_rate_delta" in t.gate
    ra, rb = a.missing_rate, b.missing_rate
    if ra is None or rb is None:
        return Metric("null_rate_delta", None, None, False, gated)
    delta = rb - ra
    pooled = (a.null_count + a.nan_count + b.null_count + b.nan_count) / (a.count + b.count)
    crit = _z(1 - t.alpha / 2) * math.sqrt(pooled * (1 - pooled) * (1 / a.count + 1 / b.count))
    thr = max(t.null_rate_delta, crit)
    return Metric("null_rate_delta", delta, thr, abs(delta) > thr, gated)


def compare(baseline: Profile, current: Profile, thresholds: Thresholds | None = None) -> DriftReport:
    """Compare two profiles column by column; see the module docstring."""
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
        cd.metrics.append(_null_metric(a, b, t))
        if a.kind != b.kind:
            cd.note = f"kind changed from {a.kind} to {b.kind}: no distribution metrics"
        elif a.kind == NUMERIC:
            cd.metrics.extend(_numeric_metrics(a, b, t))
        elif a.kind == CATEGORICAL:
            cd.metrics.extend(_categorical_metrics(a, b, t))
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


def histogram_pair(a: ColumnProfile, b: ColumnProfile, bins: int = 30
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Equal-width bins over both numeric columns' finite range (0.5 % tails
    folded into the end bins) and each side's share per bin, for charts.
    None when a side has no finite values."""
    if a.quantiles is None or b.quantiles is None or not a.quantiles.n or not b.quantiles.n:
        return None
    pooled = a.quantiles.merge(b.quantiles)
    lo, hi = (float(x) for x in pooled.quantiles(np.array([0.005, 0.995])))
    if not hi > lo:
        lo, hi = float(pooled.min), float(pooled.max)
    if not hi > lo:
        lo, hi = lo - 0.5, lo + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    da, db = _NumericDist(a), _NumericDist(b)
    return edges, da.shares(edges[1:-1]), db.shares(edges[1:-1])
