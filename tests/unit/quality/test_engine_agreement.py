"""The Arrow engine agrees with great_expectations itself, expectation by expectation.

GX (imported once for this module, ~2.3 s) validates ``tbl.to_pandas()``; the
Arrow engine validates the same table written as Parquet and read back in
batches of 4 rows, so uniqueness, medians and distinct sets cross batch
boundaries. Both must report the same success and unexpected_count, and the
same observed_value where GX reports one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dvx.quality import arrow as engine_arrow
from dvx.quality.suite import suite_from_expectations
from dvx.quality.validate import run_suite

NAN = float("nan")


def _table() -> pa.Table:
    n = 13
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        # 1 appears in the first and the last batch
        "dup": pa.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1], pa.int64()),
        "f": pa.array([0.5, NAN, None, 2.0, -3.5, 10.0, 7.25, NAN, 1.0, 1.0, -0.0, 0.0, 100.0], pa.float64()),
        "s": pa.array(["cat", "dog", None, "bird", "cat", "cow", "dog", "", "Cat", "bird", None, "dog", "cat"]),
        "b": pa.array([True, False] * 6 + [True]),
        "bn": pa.array([True, None, False] * 4 + [None]),
        "n": pa.array([1, None, 3, 3, 5, None, 7, 8, 9, 10, None, 12, 13], pa.int64()),
        "i32": pa.array(range(n), pa.int32()),
        "ts": pa.array([i * 60_000_000 for i in range(n)], pa.timestamp("us")),
        "e": pa.array([None] * n, pa.float64()),
    })


CASES: list[tuple[str, dict[str, Any]]] = [
    ("expect_column_to_exist", {"column": "id"}),
    ("expect_column_to_exist", {"column": "nope"}),
    ("expect_column_to_exist", {"column": "dup", "column_index": 1}),
    ("expect_column_to_exist", {"column": "dup", "column_index": 0}),
    ("expect_table_columns_to_match_ordered_list", {"column_list": ["id", "dup", "f", "s", "b", "bn", "n", "i32", "ts", "e"]}),
    ("expect_table_columns_to_match_ordered_list", {"column_list": ["dup", "id"]}),
    ("expect_table_columns_to_match_set", {"column_set": ["id", "dup", "f", "s", "b", "bn", "n", "i32", "ts", "e"]}),
    ("expect_table_columns_to_match_set", {"column_set": ["id", "s"], "exact_match": False}),
    ("expect_table_columns_to_match_set", {"column_set": ["id", "s", "zz"]}),
    ("expect_table_column_count_to_equal", {"value": 10}),
    ("expect_table_column_count_to_be_between", {"min_value": 1, "max_value": 5}),
    ("expect_table_row_count_to_be_between", {"min_value": 0, "max_value": 100}),
    ("expect_table_row_count_to_be_between", {"min_value": 20}),
    ("expect_table_row_count_to_be_between", {"max_value": 13, "strict_max": True}),
    ("expect_table_row_count_to_equal", {"value": 13}),
    ("expect_column_values_to_not_be_null", {"column": "f"}),
    ("expect_column_values_to_not_be_null", {"column": "f", "mostly": 0.7}),
    ("expect_column_values_to_not_be_null", {"column": "f", "mostly": 0.8}),
    ("expect_column_values_to_not_be_null", {"column": "s"}),
    ("expect_column_values_to_not_be_null", {"column": "id"}),
    ("expect_column_values_to_not_be_null", {"column": "e"}),
    ("expect_column_values_to_be_null", {"column": "f"}),
    ("expect_column_values_to_be_null", {"column": "e"}),
    ("expect_column_values_to_be_null", {"column": "f", "mostly": 0.2}),
    ("expect_column_values_to_be_between", {"column": "f", "min_value": 0, "max_value": 10}),
    ("expect_column_values_to_be_between", {"column": "f", "min_value": 0}),
    ("expect_column_values_to_be_between", {"column": "f", "max_value": 10, "strict_max": True}),
    ("expect_column_values_to_be_between", {"column": "f", "min_value": -5, "max_value": 10, "mostly": 0.9}),
    ("expect_column_values_to_be_between", {"column": "id", "min_value": 0, "max_value": 12}),
    ("expect_column_values_to_be_between", {"column": "id", "min_value": 0, "max_value": 12, "strict_min": True}),
    ("expect_column_values_to_be_between", {"column": "n", "min_value": 0, "max_value": 5, "mostly": 0.4}),
    ("expect_column_values_to_be_between", {"column": "e", "min_value": 0, "max_value": 1}),
    ("expect_column_values_to_be_in_set", {"column": "s", "value_set": ["cat", "dog", "bird"]}),
    ("expect_column_values_to_be_in_set", {"column": "s", "value_set": ["cat", "dog", "bird"], "mostly": 0.6}),
    ("expect_column_values_to_be_in_set", {"column": "f", "value_set": [0.5, 1, 2.0, 0]}),
    ("expect_column_values_to_be_in_set", {"column": "id", "value_set": [0, 1, 2.0, 3.5]}),
    ("expect_column_values_to_be_in_set", {"column": "n", "value_set": [1, 3, 5]}),
    ("expect_column_values_to_not_be_in_set", {"column": "s", "value_set": ["cow", ""]}),
    ("expect_column_values_to_not_be_in_set", {"column": "id", "value_set": [1, 2]}),
    ("expect_column_values_to_not_be_in_set", {"column": "s", "value_set": ["cow"], "mostly": 0.9}),
    ("expect_column_values_to_be_unique", {"column": "id"}),
    ("expect_column_values_to_be_unique", {"column": "dup"}),
    ("expect_column_values_to_be_unique", {"column": "dup", "mostly": 0.8}),
    ("expect_column_values_to_be_unique", {"column": "f"}),
    ("expect_column_values_to_be_unique", {"column": "s"}),
    ("expect_column_values_to_be_unique", {"column": "n"}),
    ("expect_column_values_to_be_unique", {"column": "e"}),
    ("expect_column_values_to_match_regex", {"column": "s", "regex": "^c"}),
    ("expect_column_values_to_match_regex", {"column": "s", "regex": "a"}),
    ("expect_column_values_to_match_regex", {"column": "s", "regex": "[a-z]+", "mostly": 0.8}),
    ("expect_column_values_to_not_match_regex", {"column": "s", "regex": "^d"}),
    ("expect_column_values_to_be_of_type", {"column": "id", "type_": "int64"}),
    ("expect_column_values_to_be_of_type", {"column": "id", "type_": "int"}),
    ("expect_column_values_to_be_of_type", {"column": "id", "type_": "int32"}),
    ("expect_column_values_to_be_of_type", {"column": "i32", "type_": "int32"}),
    ("expect_column_values_to_be_of_type", {"column": "f", "type_": "float64"}),
    ("expect_column_values_to_be_of_type", {"column": "f", "type_": "float"}),
    ("expect_column_values_to_be_of_type", {"column": "s", "type_": "str"}),
    ("expect_column_values_to_be_of_type", {"column": "s", "type_": "object"}),
    ("expect_column_values_to_be_of_type", {"column": "b", "type_": "bool"}),
    ("expect_column_values_to_be_of_type", {"column": "bn", "type_": "bool"}),
    ("expect_column_values_to_be_of_type", {"column": "bn", "type_": "str"}),
    ("expect_column_values_to_be_of_type", {"column": "n", "type_": "int64"}),
    ("expect_column_values_to_be_of_type", {"column": "n", "type_": "float64"}),
    ("expect_column_values_to_be_of_type", {"column": "ts", "type_": "datetime64"}),
    ("expect_column_values_to_be_of_type", {"column": "ts", "type_": "datetime64[ns]"}),
    ("expect_column_values_to_be_in_type_list", {"column": "id", "type_list": ["float64", "int64"]}),
    ("expect_column_values_to_be_in_type_list", {"column": "s", "type_list": ["int", "float"]}),
    ("expect_column_min_to_be_between", {"column": "f", "min_value": -5, "max_value": 0}),
    ("expect_column_min_to_be_between", {"column": "id", "min_value": 1}),
    ("expect_column_min_to_be_between", {"column": "n", "max_value": 1, "strict_max": True}),
    ("expect_column_max_to_be_between", {"column": "f", "max_value": 100}),
    ("expect_column_max_to_be_between", {"column": "dup", "min_value": 13}),
    ("expect_column_mean_to_be_between", {"column": "f", "min_value": 0, "max_value": 20}),
    ("expect_column_mean_to_be_between", {"column": "id", "min_value": 6, "max_value": 6}),
    ("expect_column_mean_to_be_between", {"column": "n", "max_value": 5}),
    ("expect_column_mean_to_be_between", {"column": "e", "min_value": 0}),
    ("expect_column_median_to_be_between", {"column": "f", "min_value": 0, "max_value": 2}),
    ("expect_column_median_to_be_between", {"column": "id", "min_value": 6, "max_value": 6}),
    ("expect_column_median_to_be_between", {"column": "n", "min_value": 7}),
    ("expect_column_median_to_be_between", {"column": "e", "min_value": 0}),
    ("expect_column_stdev_to_be_between", {"column": "f", "min_value": 0, "max_value": 10}),
    ("expect_column_stdev_to_be_between", {"column": "id", "min_value": 3, "max_value": 4}),
    ("expect_column_stdev_to_be_between", {"column": "n", "min_value": 5}),
    ("expect_column_sum_to_be_between", {"column": "f", "min_value": 0, "max_value": 200}),
    ("expect_column_sum_to_be_between", {"column": "id", "min_value": 78, "max_value": 78}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "s", "min_value": 0.5, "max_value": 1}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "f", "max_value": 0.5}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "dup", "min_value": 1}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "e", "min_value": 0, "max_value": 1}),
    ("expect_column_unique_value_count_to_be_between", {"column": "s", "min_value": 5, "max_value": 7}),
    ("expect_column_unique_value_count_to_be_between", {"column": "f", "max_value": 5}),
    ("expect_column_distinct_values_to_be_in_set", {"column": "s", "value_set": ["cat", "dog", "bird"]}),
    ("expect_column_distinct_values_to_be_in_set", {"column": "s", "value_set": ["cat", "dog", "bird", "cow", "", "Cat"]}),
    ("expect_column_distinct_values_to_be_in_set", {"column": "id", "value_set": list(range(13))}),
    ("expect_column_distinct_values_to_be_in_set", {"column": "f", "value_set": [0.5, 1.0, 2.0]}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["dup", "s"]}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["dup", "b"]}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["id", "s"]}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["s", "n"]}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["dup", "b"], "mostly": 0.8}),
]


@pytest.fixture(scope="module")
def gx_engine() -> Any:
    from dvx.quality import engine_gx

    engine_gx._batch_definition()  # the ~2.3 s import, once per module
    return engine_gx


def _gx_results(gx_engine: Any, tbl: pa.Table, cases: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    suite = suite_from_expectations("gx", cases)
    objs = [gx_engine.to_domain(e, suite) for e in suite.expectations]
    return gx_engine.validate_frame(tbl.to_pandas(), objs)


def _arrow_results(tmp_path: Path, tbl: pa.Table, cases: list[tuple[str, dict[str, Any]]], name: str) -> list[Any]:
    import pyarrow.parquet as pq

    path = tmp_path / f"{name}.parquet"
    pq.write_table(tbl, path, row_group_size=4)
    sv = run_suite(path, suite_from_expectations("arrow", cases), batch_size=4)
    return sv.results


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _compare(gx: list[dict[str, Any]], ours: list[Any], cases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    bad = []
    for (typ, kw), g, o in zip(cases, gx, ours, strict=True):
        assert o.engine == "arrow", f"{typ} {kw} fell to the slow path"
        gr = g.get("result") or {}
        why = []
        if bool(g["success"]) != o.success:
            why.append(f"success gx={g['success']} arrow={o.success}")
        for key in ("unexpected_count", "element_count", "missing_count"):
            if key in gr and gr[key] != o.result.get(key):
                why.append(f"{key} gx={gr[key]} arrow={o.result.get(key)}")
        if "observed_value" in gr and not _same(gr["observed_value"], o.result.get("observed_value")):
            why.append(f"observed_value gx={gr['observed_value']!r} arrow={o.result.get('observed_value')!r}")
        if "unexpected_percent" in gr and not _same(gr["unexpected_percent"], o.result.get("unexpected_percent")):
            why.append(f"unexpected_percent gx={gr['unexpected_percent']} arrow={o.result.get('unexpected_percent')}")
        if why:
            bad.append(f"{typ} {kw}: {'; '.join(why)}")
    return bad


def test_every_supported_type_is_covered() -> None:
    assert {t for t, _ in CASES} == set(engine_arrow.SUPPORTED)


def test_agreement_mixed_table(gx_engine: Any, tmp_path: Path) -> None:
    tbl = _table()
    bad = _compare(_gx_results(gx_engine, tbl, CASES), _arrow_results(tmp_path, tbl, CASES, "mixed"), CASES)
    assert not bad, "\n".join(bad)


def test_agreement_empty_table(gx_engine: Any, tmp_path: Path) -> None:
    tbl = _table().slice(0, 0)
    bad = _compare(_gx_results(gx_engine, tbl, CASES), _arrow_results(tmp_path, tbl, CASES, "empty"), CASES)
    assert not bad, "\n".join(bad)


def test_agreement_single_batch_all_nulls(gx_engine: Any, tmp_path: Path) -> None:
    # Rows 1, 2, 7 hold NaN / null in f: every column's edge at once.
    tbl = _table().take([1, 2, 7, 10])
    bad = _compare(_gx_results(gx_engine, tbl, CASES), _arrow_results(tmp_path, tbl, CASES, "nulls"), CASES)
    assert not bad, "\n".join(bad)


def test_agreement_random_multibatch(gx_engine: Any, tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    n = 3000
    f = rng.normal(0, 5, n)
    f[rng.random(n) < 0.05] = np.nan
    tbl = pa.table({
        "k": pa.array(rng.integers(0, 2500, n)),
        "f": pa.array(f, mask=rng.random(n) < 0.05),
        "c": pa.array(np.array(["a", "b", "c", "dd"])[rng.integers(0, 4, n)].tolist()),
    })
    cases: list[tuple[str, dict[str, Any]]] = [
        ("expect_column_values_to_be_unique", {"column": "k"}),
        ("expect_column_values_to_be_unique", {"column": "k", "mostly": 0.5}),
        ("expect_column_proportion_of_unique_values_to_be_between", {"column": "k", "min_value": 0.9}),
        ("expect_column_median_to_be_between", {"column": "f", "min_value": 0}),
        ("expect_column_mean_to_be_between", {"column": "f", "min_value": 0}),
        ("expect_column_stdev_to_be_between", {"column": "f", "max_value": 5}),
        ("expect_column_values_to_be_between", {"column": "f", "min_value": -8, "max_value": 8, "mostly": 0.9}),
        ("expect_column_values_to_match_regex", {"column": "c", "regex": "^[abc]$", "mostly": 0.7}),
        ("expect_compound_columns_to_be_unique", {"column_list": ["k", "c"]}),
        ("expect_column_unique_value_count_to_be_between", {"column": "k", "min_value": 1}),
    ]
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    pq.write_table(tbl, path, row_group_size=256)
    ours = run_suite(path, suite_from_expectations("r", cases), batch_size=100).results
    bad = _compare(_gx_results(gx_engine, tbl, cases), ours, cases)
    assert not bad, "\n".join(bad)
