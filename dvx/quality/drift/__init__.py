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

Modules: ``thresholds`` (configuration), ``stats`` (divergences and critical
values), ``metrics`` (one column), ``compare`` (two profiles), ``report``.
"""

from dvx.quality.drift.compare import compare
from dvx.quality.drift.metrics import category_shares, histogram_pair
from dvx.quality.drift.report import ColumnDrift, DriftReport, Metric
from dvx.quality.drift.stats import chi2_quantile, js_distance, ks_critical, psi
from dvx.quality.drift.thresholds import METRICS, MetricThresholds, Thresholds, load_thresholds, thresholds_from_dict

__all__ = [
    "METRICS", "ColumnDrift", "DriftReport", "Metric", "MetricThresholds", "Thresholds", "category_shares",
    "chi2_quantile", "compare", "histogram_pair", "js_distance", "ks_critical", "load_thresholds", "psi",
    "thresholds_from_dict",
]
