"""Random tables cut into files and row groups: partial results merged in plan order are the whole's.

Profiles: the merge of the plan's partition profiles is ``profile_path``'s
bytes, for Parquet row-group runs and CSV files alike, and whatever the
regrouping (target size) the exact parts of the profile (counts, bounds,
exact value counts) are the same. Validation: the partials of any regrouping,
pickled as a Dask worker would send them, merge into the Arrow engine's single
pass over the whole table: unexpected counts, examples and row numbers
identical across partition boundaries.
"""

from __future__ import annotations

import math
import pickle
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from partkit import same_results, single_pass, write_parts

from dvx.quality import partitions as P
from dvx.quality.profile import Profile, profile_path
from dvx.quality.suite import suite_from_expectations

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ints = st.one_of(st.none(), st.integers(-5, 5))
floats = st.one_of(st.none(), st.just(math.nan), st.just(math.inf), st.floats(-100, 100, allow_nan=False))
words = st.one_of(st.none(), st.sampled_from(["a", "b", "cc", "", "dd"]))


@st.composite
def tables(draw: st.DrawFn) -> tuple[pa.Table, list[int], int]:
    """(table, file cut rows, row group size)."""
    n = draw(st.integers(1, 60))
    tbl = pa.table({
        "i": pa.array(draw(st.lists(ints, min_size=n, max_size=n)), pa.int64()),
        "f": pa.array(draw(st.lists(floats, min_size=n, max_size=n)), pa.float64()),
        "s": pa.array(draw(st.lists(words, min_size=n, max_size=n)), pa.string()),
    })
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=3))) if n > 1 else []
    return tbl, cuts, draw(st.integers(1, 9))


def _exact(p: Profile) -> dict[str, Any]:
    """What no regrouping may change: counts, bounds and exact value counts."""
    out: dict[str, Any] = {"rows": p.row_count}
    for name, c in p.columns.items():
        out[name] = (c.count, c.null_count, c.nan_count, c.posinf_count, c.neginf_count, c.finite_count, c.min,
                     c.max, c.top.as_dict() if c.top is not None and c.top.exact else None)
    return out


def _merged_profile(d: Path, target: int) -> Profile:
    plan = P.plan_partitions(d, target_bytes=target)
    parts = [pickle.loads(pickle.dumps(P.profile_partition(d, p))) for p in plan]
    return P.merge_profiles(parts, plan)


@SETTINGS
@given(tables(), st.sampled_from([1, 300, 1 << 30]))
def test_parquet_profile_merge_is_profile_path(case: tuple[pa.Table, list[int], int], target: int) -> None:
    tbl, cuts, rg = case
    with tempfile.TemporaryDirectory() as tmp:
        d = write_parts(Path(tmp) / "d", tbl, cuts, rg)
        merged = _merged_profile(d, target)
        assert merged.to_bytes() == profile_path(d, target_bytes=target).to_bytes()
        assert P.plan_partitions(d, target_bytes=target) == P.plan_partitions(d, target_bytes=target)
        # every regrouping of the same rows keeps the exact parts
        assert _exact(merged) == _exact(_merged_profile(d, 1)) == _exact(_merged_profile(d, 1 << 30))


@SETTINGS
@given(tables())
def test_csv_profile_merge_is_profile_path(case: tuple[pa.Table, list[int], int]) -> None:
    tbl, cuts, _ = case
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "d"
        d.mkdir()
        bounds = [0, *cuts, tbl.num_rows]
        for k, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            pcsv.write_csv(tbl.slice(a, b - a), d / f"part-{k}.csv")
        plan = P.plan_partitions(d)
        assert [p.file for p in plan] == [f"part-{k}.csv" for k in range(len(bounds) - 1)]
        assert _merged_profile(d, P.DEFAULT_TARGET_BYTES).to_bytes() == profile_path(d).to_bytes()
        assert _merged_profile(d, P.DEFAULT_TARGET_BYTES).row_count == tbl.num_rows


CASES: list[tuple[str, dict[str, Any]]] = [
    ("expect_column_values_to_not_be_null", {"column": "f"}),
    ("expect_column_values_to_be_between", {"column": "i", "min_value": -2, "max_value": 3}),
    ("expect_column_values_to_be_between", {"column": "f", "min_value": -50, "max_value": 50, "mostly": 0.5}),
    ("expect_column_values_to_be_in_set", {"column": "s", "value_set": ["a", "b"]}),
    ("expect_column_values_to_match_regex", {"column": "s", "regex": "^[a-c]"}),
    ("expect_column_values_to_be_unique", {"column": "i"}),
    ("expect_column_values_to_be_unique", {"column": "s"}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["i", "s"]}),
    ("expect_column_distinct_values_to_be_in_set", {"column": "s", "value_set": ["a", "cc"]}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "i", "min_value": 0.5}),
    ("expect_column_unique_value_count_to_be_between", {"column": "s", "max_value": 3}),
    ("expect_column_min_to_be_between", {"column": "i", "min_value": -4}),
    ("expect_column_max_to_be_between", {"column": "f", "max_value": 90}),
    ("expect_column_sum_to_be_between", {"column": "i", "min_value": 0}),
    ("expect_column_mean_to_be_between", {"column": "f", "min_value": 0}),
    ("expect_column_stdev_to_be_between", {"column": "i", "max_value": 3}),
    ("expect_column_median_to_be_between", {"column": "i", "min_value": 0}),
    ("expect_column_values_to_be_of_type", {"column": "i", "type_": "int64"}),
    ("expect_table_row_count_to_be_between", {"min_value": 10}),
]


@SETTINGS
@given(tables(), st.sampled_from([1, 300, 1 << 30]), st.integers(1, 7))
def test_validation_partials_merge_into_one_pass(case: tuple[pa.Table, list[int], int], target: int,
                                                 batch: int) -> None:
    tbl, cuts, rg = case
    suite = suite_from_expectations("p", CASES)
    with tempfile.TemporaryDirectory() as tmp:
        d = write_parts(Path(tmp) / "d", tbl, cuts, rg)
        sp = P.plan_suite(d, suite)
        plan = P.plan_partitions(d, target_bytes=target)
        parts = [pickle.loads(pickle.dumps(P.validate_partition(d, p, suite, schema=sp.schema, batch_size=batch)))
                 for p in plan]
        merged = P.merge_validation(suite, sp.schema, parts)
    bad = same_results(single_pass(tbl, suite, batch), merged.results, CASES)
    assert not bad, "\n".join(bad)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "é", "Z", "", "ab", "\u20ac", "x" * 5, "b\u0301"]) | st.text(max_size=3),
                          st.integers(1, 50)), max_size=40),
       st.lists(st.tuples(st.text(max_size=3), st.integers(1, 50)), max_size=40),
       st.integers(1, 12), st.booleans())
def test_frequent_items_merge_equals_the_arrow_group_by(left, right, cap, exact) -> None:
    """The counter merge gives what the Arrow group-by merge gives: values, counts, order and exactness."""
    import numpy as np

    from dvx.quality.sketches.topk import FrequentItems

    def summary(pairs):
        acc: dict[str, int] = {}
        for v, c in pairs:
            acc[v] = acc.get(v, 0) + c
        f = FrequentItems(cap)
        f.exact = exact
        if acc:
            f.update_counts(pa.array(list(acc), pa.large_string()), np.array(list(acc.values()), np.int64))
        return f

    a, b = summary(left), summary(right)
    fast, ref = a.merge(b), a.merge_arrow(b)
    assert fast.value_list() == ref.value_list() and fast.counts.tolist() == ref.counts.tolist()
    assert fast.exact == ref.exact and fast.to_dict() == ref.to_dict()
