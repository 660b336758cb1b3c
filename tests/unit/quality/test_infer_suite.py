"""infer_suite: the inferred suite passes on its own data and catches corrupted data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dvx.errors import UsageError
from dvx.quality.infer import infer_suite, profile_columns, suite_name_for
from dvx.quality.suite import load_suite
from dvx.quality.validate import validate_dataset


def _corrupt(t: pa.Table) -> pa.Table:
    ids = t.column("id").to_pylist()
    ids[-1] = ids[0]
    labels = t.column("label").to_pylist()
    labels[3] = "cow"
    x = t.column("x").to_pylist()
    x[7] = 99.0
    return (t.set_column(0, "id", pa.array(ids)).set_column(1, "label", pa.array(labels))
            .set_column(2, "x", pa.array(x)))


@pytest.mark.parametrize("engine", ["gx", "pandera"])
@pytest.mark.parametrize("ext", ["parquet", "csv"])
def test_infer_then_validate(tmp_path: Path, qt: Any, engine: str, ext: str) -> None:
    t = qt.demo_table(300)
    data = qt.write_table(tmp_path / f"train.{ext}", t, row_group_size=64)
    text, name = infer_suite(data, engine)
    assert name == ("train.json" if engine == "gx" else "train.yaml")
    suite = tmp_path / name
    suite.write_text(text)
    dv = validate_dataset(data, [suite], batch_size=64)
    assert dv.success, [r.to_gx() for r in dv.failed]
    bad = qt.write_table(tmp_path / f"bad.{ext}", _corrupt(t), row_group_size=64)
    dv = validate_dataset(bad, [suite], batch_size=64)
    assert not dv.success
    failed_cols = {r.column for r in dv.failed}
    assert {"id", "label", "x"} <= failed_cols


def test_inferred_gx_suite_contents(tmp_path: Path, qt: Any) -> None:
    data = qt.write_table(tmp_path / "train.parquet", qt.demo_table(300), row_group_size=50)
    text, _ = infer_suite(data, "gx")
    doc = json.loads(text)
    by = {(e["type"], e["kwargs"].get("column")): e["kwargs"] for e in doc["expectations"]}
    assert by[("expect_table_columns_to_match_ordered_list", None)]["column_list"] == ["id", "label", "x", "y", "ts"]
    assert ("expect_column_values_to_be_unique", "id") in by
    assert ("expect_column_values_to_be_unique", "label") not in by
    assert by[("expect_column_values_to_be_in_set", "label")]["value_set"] == ["bird", "cat", "dog"]
    assert -10 <= by[("expect_column_values_to_be_between", "x")]["min_value"] < -9
    assert ("expect_column_values_to_not_be_null", "y") not in by  # y has nulls
    assert ("expect_column_values_to_not_be_null", "x") in by
    assert by[("expect_column_values_to_be_of_type", "ts")]["type_"] == "datetime64"
    (tmp_path / "train.json").write_text(text)
    assert load_suite(tmp_path / "train.json").kind == "gx"


def test_uniqueness_inference_crosses_batches(tmp_path: Path, qt: Any) -> None:
    t = qt.demo_table(200)
    ids = t.column("id").to_pylist()
    ids[199] = 0
    data = qt.write_table(tmp_path / "d.parquet", t.set_column(0, "id", pa.array(ids)), row_group_size=50)
    prof = {p.name: p for p in profile_columns(data)}
    assert not prof["id"].unique and prof["y"].nulls > 0


def test_names_and_engine_check(tmp_path: Path) -> None:
    assert suite_name_for("data/train.parquet") == "train"
    assert suite_name_for("data/events.csv.gz") == "events"
    assert suite_name_for("data/parts/") == "parts"
    with pytest.raises(UsageError):
        infer_suite(tmp_path / "x.parquet", engine="tfdv")
