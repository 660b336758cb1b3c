"""validate_dataset: Arrow engine results, GX-vocabulary JSON, and the result store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dvx.quality.results import ExpectationResult, ResultStore, SuiteValidation
from dvx.quality.suite import suite_from_expectations
from dvx.quality.validate import bound_suites, run_suite, to_gx_json, validate_dataset

SUITE = [
    ("expect_table_columns_to_match_set", {"column_set": ["id", "label", "x", "y", "ts"]}),
    ("expect_column_values_to_be_unique", {"column": "id"}),
    ("expect_column_values_to_be_in_set", {"column": "label", "value_set": ["cat", "dog", "bird"]}),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": -10, "max_value": 10}),
    ("expect_column_values_to_not_be_null", {"column": "y", "mostly": 0.8}),
    ("expect_column_values_to_be_of_type", {"column": "ts", "type_": "datetime64"}),
]


def _suite_file(tmp_path: Path, exps: list[tuple[str, dict[str, Any]]] = SUITE) -> Path:
    p = tmp_path / "expectations" / "train.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"name": "train", "expectations": [{"type": t, "kwargs": k} for t, k in exps]}))
    return p


@pytest.mark.parametrize("ext", ["parquet", "csv", "jsonl", "feather"])
def test_demo_passes_in_every_format(tmp_path: Path, qt: Any, ext: str) -> None:
    t = qt.demo_table(400)
    if ext in ("csv", "jsonl"):
        t = t.drop_columns(["ts"])
        exps = [e for e in SUITE if e[1].get("column") != "ts"]
        exps[0] = ("expect_table_columns_to_match_set", {"column_set": ["id", "label", "x", "y"]})
    else:
        exps = SUITE
    data = qt.write_table(tmp_path / f"train.{ext}", t, row_group_size=50)
    dv = validate_dataset(data, [_suite_file(tmp_path, exps)], batch_size=50)
    assert dv.success, [r.to_gx() for r in dv.failed]
    assert all(r.engine == "arrow" for r in dv.results) and dv.notes == []


def test_corrupted_demo_fails_with_counts_and_examples(tmp_path: Path, qt: Any) -> None:
    t = qt.demo_table(400)
    ids = t.column("id").to_pylist()
    ids[399] = 0  # duplicate across batches (row 0 and row 399)
    labels = t.column("label").to_pylist()
    labels[10] = "cow"
    labels[250] = "cow"
    t = t.set_column(0, "id", pa.array(ids)).set_column(1, "label", pa.array(labels))
    data = qt.write_table(tmp_path / "bad.parquet", t, row_group_size=64)
    dv = validate_dataset(data, [_suite_file(tmp_path)], batch_size=64, label="data/bad.parquet")
    assert not dv.success and dv.dataset == "data/bad.parquet"
    failed = {r.expectation_type: r for r in dv.failed}
    assert set(failed) == {"expect_column_values_to_be_unique", "expect_column_values_to_be_in_set"}
    uniq = failed["expect_column_values_to_be_unique"]
    assert uniq.unexpected_count == 2 and uniq.examples == [0, 0]
    inset = failed["expect_column_values_to_be_in_set"]
    assert inset.result["unexpected_count"] == 2
    assert inset.result["partial_unexpected_list"] == ["cow", "cow"]
    assert inset.result["partial_unexpected_index_list"] == [10, 250]
    assert inset.unexpected_percent == pytest.approx(0.5)
    out = to_gx_json(dv)
    json.dumps(out, allow_nan=False)  # plain JSON
    assert out["success"] is False
    ds = out["datasets"][0]
    assert ds["statistics"]["unsuccessful_expectations"] == 2
    r0 = next(r for r in ds["results"] if r["expectation_type"] == "expect_column_values_to_be_in_set")
    assert r0["kwargs"]["column"] == "label" and r0["expectation_config"]["type"] == r0["expectation_type"]
    assert r0["result"]["element_count"] == 400 and r0["success"] is False


def test_missing_column_is_a_failed_result_like_gx(tmp_path: Path, qt: Any) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(20))
    exps = [("expect_column_values_to_be_between", {"column": "z", "min_value": 0}),
            ("expect_column_to_exist", {"column": "z"}),
            ("expect_compound_columns_to_be_unique", {"column_list": ["id", "z"]})]
    dv = validate_dataset(data, [suite_from_expectations("s", exps)])
    assert [r.success for r in dv.results] == [False, False, False]
    assert 'The column "z" in BatchData does not exist' in (dv.results[0].exception or "")
    assert dv.results[0].to_gx()["exception_info"]["raised_exception"] is True


def test_empty_dataset_passes_vacuously(tmp_path: Path, qt: Any) -> None:
    data = qt.write_table(tmp_path / "e.parquet", qt.demo_table(10).slice(0, 0))
    dv = validate_dataset(data, [_suite_file(tmp_path)])
    assert dv.success
    assert dv.results[1].result["element_count"] == 0


def test_store_answers_unchanged_data_without_reading_it(tmp_path: Path, qt: Any) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(100))
    store = ResultStore(tmp_path / "cache")
    suite = _suite_file(tmp_path)
    first = validate_dataset(data, [suite], data_id="ab" * 16, store=store)
    assert not first.cached and first.success
    stored = list((tmp_path / "cache" / "ab").glob("*.json"))
    assert len(stored) == 1 and stored[0].name.startswith("ab" * 16 + "-")
    data.unlink()  # the cache must not need the data
    again = validate_dataset(data, [suite], data_id="ab" * 16, store=store)
    assert again.cached and again.success
    assert [r.to_gx() for r in again.results] == [r.to_gx() for r in first.results]
    # another suite version is another key: the (now missing) data is read and fails loudly
    _suite_file(tmp_path, SUITE[:2])
    with pytest.raises(Exception, match="no such file"):
        validate_dataset(data, [suite], data_id="ab" * 16, store=store)


def test_store_ignores_unreadable_or_old_entries(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    sv = SuiteValidation("s", "f" * 32, "s.json", True, [ExpectationResult("expect_x", {"column": "a"}, True)])
    p = store.put("cd" * 16, "f" * 32, sv)
    assert store.get("cd" * 16, "f" * 32).results[0].column == "a"
    p.write_text("{not json")
    assert store.get("cd" * 16, "f" * 32) is None
    p.write_text(json.dumps({**sv.to_json(), "format": 0}))
    assert store.get("cd" * 16, "f" * 32) is None
    assert store.get("ee" * 16, "f" * 32) is None


def test_cached_rerun_imports_nothing_heavy(tmp_path: Path, qt: Any) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(100))
    suite = _suite_file(tmp_path)
    store_root = tmp_path / "cache"
    validate_dataset(data, [suite], data_id="12" * 16, store=ResultStore(store_root))
    code = (
        "import sys, time\n"
        "from dvx.quality.results import ResultStore\n"
        "from dvx.quality.validate import validate_dataset\n"
        f"dv = validate_dataset({str(data)!r}, [{str(suite)!r}], data_id={'12' * 16!r},"
        f" store=ResultStore({str(store_root)!r}))\n"
        "assert dv.cached and dv.success\n"
        "heavy = [m for m in ('pyarrow', 'pandas', 'great_expectations', 'pandera', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    # The cost itself is measured by bench/bench_hooks.py (a commit with stored results).
    assert out.stdout.strip() == ""


def test_bound_suites_from_repo(tmp_path: Path) -> None:
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/*.parquet"\nsuites = ["t.json"]\n')
    assert bound_suites(tmp_path, "data/train.parquet") == [str(tmp_path / "expectations" / "t.json")]
    assert bound_suites(tmp_path, "data/train.csv") == []


def test_multibatch_uniqueness_and_median_are_exact(tmp_path: Path) -> None:
    import numpy as np

    n = 20_000
    vals = np.arange(n, dtype=np.int64)
    vals[-1] = 0  # one repeat, 20k rows apart
    t = pa.table({"k": vals, "f": np.linspace(0, 1, n)})
    import pyarrow.parquet as pq

    p = tmp_path / "u.parquet"
    pq.write_table(t, p, row_group_size=1000)
    exps = [("expect_column_values_to_be_unique", {"column": "k"}),
            ("expect_column_median_to_be_between", {"column": "f", "min_value": 0.4999, "max_value": 0.5001}),
            ("expect_column_proportion_of_unique_values_to_be_between", {"column": "k", "min_value": 1})]
    sv = run_suite(p, suite_from_expectations("u", exps), batch_size=777)
    uniq, med, prop = sv.results
    assert not uniq.success and uniq.unexpected_count == 2
    assert med.success and med.observed_value == pytest.approx(0.5)
    assert prop.observed_value == pytest.approx((n - 1) / n) and not prop.success


def test_results_render_in_the_html_report(tmp_path: Path, qt: Any) -> None:
    from dvx.quality.report import render_validation_html

    t = qt.demo_table(50)
    labels = t.column("label").to_pylist()
    labels[3] = "cow"
    data = qt.write_table(tmp_path / "d.parquet", t.set_column(1, "label", pa.array(labels)))
    dv = validate_dataset(data, [_suite_file(tmp_path)], label="data/d.parquet")
    page = render_validation_html([dv], "validation")
    assert "data/d.parquet" in page and "expect_column_values_to_be_in_set" in page and "cow" in page
