"""Statistics without scipy: divergences and the sampling critical values thresholds use."""

from __future__ import annotations

import math
import statistics

import numpy as np

# Share floor in PSI's log ratio so an empty bin gives a large, finite value.
_PSI_EPS = 1e-4


def ks_critical(alpha: float, n: int, m: int) -> float:
    """Two-sample KS critical value c(alpha) * sqrt((n + m) / (n m)) with
    c(alpha) = sqrt(-ln(alpha / 2) / 2) (asymptotic, conservative)."""
    return math.sqrt(-0.5 * math.log(alpha / 2.0)) * math.sqrt((n + m) / (n * m))


def normal_quantile(p: float) -> float:
    """Standard normal quantile."""
    return statistics.NormalDist().inv_cdf(p)


def chi2_quantile(q: float, dof: int) -> float:
    """Wilson-Hilferty approximation of the chi-square quantile (no scipy)."""
    dof = max(1, dof)
    z = normal_quantile(q)
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
