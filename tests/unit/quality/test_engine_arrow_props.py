"""Property: Arrow engine results do not depend on how the data is cut into batches,
and match a plain-Python reference of GX's pandas semantics."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.quality import arrow
from dvx.quality.suite import suite_from_expectations

floats = st.one_of(st.none(), st.just(math.nan), st.floats(-5, 5, allow_nan=False), st.sampled_from([0.0, -0.0, 1.0]))
ints = st.one_of(st.none(), st.integers(-3, 3))

CASES: list[tuple[str, dict[str, Any]]] = [
    ("expect_column_values_to_be_between", {"column": "f", "min_value": -1, "max_value": 1}),
    ("expect_column_values_to_be_unique", {"column": "f"}),
    ("expect_column_values_to_be_unique", {"column": "i"}),
    ("expect_column_values_to_not_be_null", {"column": "f", "mostly": 0.5}),
    ("expect_column_values_to_be_in_set", {"column": "i", "value_set": [0, 1, 2]}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "i", "min_value": 0.5}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["f", "i"]}),
    ("expect_column_median_to_be_between", {"column": "f", "min_value": 0}),
    ("expect_column_stdev_to_be_between", {"column": "i", "max_value": 2}),
]


def _run(tbl: pa.Table, batch: int) -> list[tuple[bool, dict[str, Any]]]:
    suite = suite_from_expectations("p", CASES)
    evals = [arrow.plan(e, tbl.schema) for e in suite.expectations]
    assert all(isinstance(e, arrow.Evaluator) for e in evals)
    return arrow.run(evals, tbl.to_batches(max_chunksize=batch))


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


@pytest.mark.property
@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(floats, ints), max_size=40), st.integers(1, 7))
def test_batching_does_not_change_results(rows: list[tuple[Any, Any]], batch: int) -> None:
    tbl = pa.table({"f": pa.array([r[0] for r in rows], pa.float64()), "i": pa.array([r[1] for r in rows], pa.int64())})
    whole = _run(tbl, max(len(rows), 1))
    cut = _run(tbl, batch)
    for (s1, r1), (s2, r2) in zip(whole, cut, strict=True):
        assert s1 == s2
        assert r1.get("unexpected_count") == r2.get("unexpected_count")
        o1, o2 = r1.get("observed_value"), r2.get("observed_value")
        assert (o1 is None and o2 is None) or math.isclose(o1, o2, rel_tol=1e-9, abs_tol=1e-12)
    # reference semantics for two map expectations
    f_present = [r[0] + 0.0 for r in rows if _present(r[0])]
    between_bad = sum(1 for v in f_present if not -1 <= v <= 1)
    assert cut[0][1]["unexpected_count"] == between_bad
    assert cut[0][1]["missing_count"] == len(rows) - len(f_present)
    dup_bad = sum(1 for v in f_present if f_present.count(v) > 1)
    assert cut[1][1]["unexpected_count"] == dup_bad
