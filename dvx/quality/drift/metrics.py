"""Per-column drift metrics from two column profiles: ks, psi and js of numeric
columns (from the KLL sketches), linf and js of categories, null rate change."""

from __future__ import annotations

import math

import numpy as np

from dvx.quality.drift.report import Metric
from dvx.quality.drift.stats import chi2_quantile, js_distance, ks_critical, normal_quantile, psi
from dvx.quality.drift.thresholds import MetricThresholds
from dvx.quality.profile import ColumnProfile

_PSI_BINS = 10
_JS_BINS = 20


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


def numeric_metrics(a: ColumnProfile, b: ColumnProfile, t: MetricThresholds) -> list[Metric]:
    """ks on every step of either CDF, psi on the baseline's deciles, js on 20 pooled bins."""
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


def categorical_metrics(a: ColumnProfile, b: ColumnProfile, t: MetricThresholds) -> list[Metric]:
    """linf and js of the category shares (see :func:`category_shares`)."""
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
    linf_thr = max(t.linf, normal_quantile(1 - t.alpha / (2 * k)) * math.sqrt(var * inv) + mg)
    jv = js_distance(pa_, pb_)
    js_thr = max(t.js, math.sqrt(chi2_quantile(1 - t.alpha, k) * inv / (8 * math.log(2))))
    return [
        Metric("linf", linf, linf_thr, linf > linf_thr, "linf" in gate),
        Metric("js", jv, js_thr, jv > js_thr, "js" in gate),
    ]


def null_metric(a: ColumnProfile, b: ColumnProfile, t: MetricThresholds) -> Metric:
    """Change of the share of missing (null or NaN) values."""
    gated = "null_rate_delta" in t.gate
    ra, rb = a.missing_rate, b.missing_rate
    if ra is None or rb is None:
        return Metric("null_rate_delta", None, None, False, gated)
    delta = rb - ra
    pooled = (a.null_count + a.nan_count + b.null_count + b.nan_count) / (a.count + b.count)
    crit = normal_quantile(1 - t.alpha / 2) * math.sqrt(pooled * (1 - pooled) * (1 / a.count + 1 / b.count))
    thr = max(t.null_rate_delta, crit)
    return Metric("null_rate_delta", delta, thr, abs(delta) > thr, gated)



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
