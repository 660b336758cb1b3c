"""Profile summaries (``dvx stats --json``) and the distinct count: an estimate is marked
approximate and never exceeds the non-null values it counts (issue 13, item 6)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from dvx.quality.profile import profile_table
from dvx.quality.profile.summary import QUANTILES, profile_summary


def test_a_distinct_estimate_is_clamped_to_the_non_null_values() -> None:
    rng = np.random.default_rng(11)
    # 200,000 distinct values: HyperLogLog's estimate is off by ~1.6% either way
    p = profile_table(pa.table({"x": rng.permutation(200_000).astype("float64")}))
    c = p.columns["x"]
    assert c.distinct_approximate and c.distinct is not None
    raw = c.distinct.estimate()
    assert c.distinct_count == min(round(raw), 200_000)
    # the same sketch over fewer rows (as a merge of parts can give): clamped to them
    c.count, c.null_count = 150_000, 10_000
    assert c.distinct_count == 140_000 and raw > 140_000


def test_summary_has_no_sketches_and_full_precision() -> None:
    t = pa.table({"x": pa.array([0.0002433, 1234567.89, None, 3.0]), "s": pa.array(["a", "b", "a", None])})
    s = profile_summary(profile_table(t))
    text = json.dumps(s, allow_nan=False)
    assert "registers" not in text and "m2" not in text and "items" not in text
    x = s["columns"]["x"]
    assert (x["count"], x["nulls"], x["min"], x["max"]) == (4, 1, 0.0002433, 1234567.89)
    assert set(x["quantiles"]) == set(QUANTILES) and x["distinct_approximate"] is True
    cat = s["columns"]["s"]
    assert cat["distinct"] == 2 and cat["distinct_approximate"] is False and cat["quantiles"] is None
    assert cat["top_values"] == [{"value": "a", "count": 2}, {"value": "b", "count": 1}]
