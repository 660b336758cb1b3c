"""pandera schemas (YAML and Python modules) run batch by batch; uniqueness exact across batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dvx.errors import SuiteError
from dvx.quality.validate import validate_dataset

YAML = """\
schema_type: dataframe
version: 0.35.0
columns:
  id:
    dtype: int64
    nullable: false
    unique: true
  label:
    dtype: str
    nullable: false
    checks:
      isin:
        value: [cat, dog, bird]
  x:
    dtype: float64
    nullable: false
    checks:
      in_range:
        min_value: -10
        max_value: 10
        include_min: true
        include_max: true
  y:
    dtype: float64
    nullable: true
  ts:
    dtype: datetime64[ns]
    nullable: false
strict: true
name: train
"""

PY = """\
import pandera.pandas as pa

schema = pa.DataFrameSchema(
    {
        "id": pa.Column("int64", unique=True),
        "label": pa.Column(str, pa.Check.isin(["cat", "dog", "bird"])),
        "x": pa.Column(float, pa.Check.in_range(-10, 10)),
        "y": pa.Column(float, nullable=True),
        "ts": pa.Column("datetime64[ns]"),
    },
    name="train_py",
)
"""

MODEL = """\
import pandera.pandas as pa
from pandera.typing import Series


class Train(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True)
    label: Series[str] = pa.Field(isin=["cat", "dog", "bird"])
    x: Series[float] = pa.Field(ge=-10, le=10)


schema = Train
"""


def _corrupt(t: pa.Table) -> pa.Table:
    ids = t.column("id").to_pylist()
    ids[-1] = ids[0]  # duplicate in the first and the last batch
    x = t.column("x").to_pylist()
    x[5] = 50.0
    x[150] = -11.0
    return t.set_column(0, "id", pa.array(ids)).set_column(2, "x", pa.array(x))


@pytest.fixture
def files(tmp_path: Path, qt: Any) -> dict[str, Path]:
    (tmp_path / "train.yaml").write_text(YAML)
    (tmp_path / "train_py.py").write_text(PY)
    (tmp_path / "train_model.py").write_text(MODEL)
    good = qt.write_table(tmp_path / "good.parquet", qt.demo_table(200), row_group_size=32)
    bad = qt.write_table(tmp_path / "bad.parquet", _corrupt(qt.demo_table(200)), row_group_size=32)
    return {"yaml": tmp_path / "train.yaml", "py": tmp_path / "train_py.py", "model": tmp_path / "train_model.py",
            "good": good, "bad": bad}


@pytest.mark.parametrize("kind", ["yaml", "py", "model"])
def test_schema_passes_good_data(files: dict[str, Path], kind: str) -> None:
    dv = validate_dataset(files["good"], [files[kind]], batch_size=32)
    assert dv.success, [r.to_gx() for r in dv.failed]
    assert all(r.engine == "pandera" for r in dv.results)
    assert any(r.expectation_type == "pandera:unique" for r in dv.results)


@pytest.mark.parametrize("kind", ["yaml", "py", "model"])
def test_schema_fails_bad_data_with_exact_counts(files: dict[str, Path], kind: str) -> None:
    dv = validate_dataset(files["bad"], [files[kind]], batch_size=32)
    assert not dv.success
    failed = {r.expectation_type: r for r in dv.failed}
    assert set(failed) == {"pandera:unique", "pandera:in_range"} or set(failed) == {
        "pandera:unique", "pandera:greater_than_or_equal_to", "pandera:less_than_or_equal_to"}
    uniq = failed["pandera:unique"]
    assert uniq.unexpected_count == 2 and uniq.column == "id"  # rows 0 and 199, different batches
    if "pandera:in_range" in failed:
        rng = failed["pandera:in_range"]
        assert rng.unexpected_count == 2 and rng.column == "x"
        assert rng.result["partial_unexpected_list"] == [50.0, -11.0]
        assert rng.result["partial_unexpected_index_list"] == [5, 150]


def test_strict_schema_reports_extra_and_missing_columns(tmp_path: Path, files: dict[str, Path], qt: Any) -> None:
    t = qt.demo_table(50).drop_columns(["y"]).append_column("extra", pa.array([1] * 50))
    p = qt.write_table(tmp_path / "cols.parquet", t, row_group_size=10)
    dv = validate_dataset(p, [files["yaml"]], batch_size=10)
    failed = {r.expectation_type: r for r in dv.failed}
    assert failed["pandera:column_in_schema"].observed_value == ["extra"]
    assert "pandera:column_in_dataframe" in failed


def test_dtype_failure_counted_once(tmp_path: Path, files: dict[str, Path], qt: Any) -> None:
    t = qt.demo_table(64)
    t = t.set_column(2, "x", pa.array([str(v) for v in t.column("x").to_pylist()]))
    p = qt.write_table(tmp_path / "dt.parquet", t, row_group_size=16)
    dv = validate_dataset(p, [files["yaml"]], batch_size=16)
    dtype = [r for r in dv.failed if r.expectation_type == "pandera:dtype"]
    assert len(dtype) == 1 and dtype[0].column == "x" and dtype[0].observed_value == "str"


def test_bad_pandera_files(tmp_path: Path, qt: Any) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(5))
    bad_py = tmp_path / "boom.py"
    bad_py.write_text("schema = 1 / 0\n")
    with pytest.raises(SuiteError, match="ZeroDivisionError") as ei:
        validate_dataset(data, [bad_py])
    assert str(bad_py) in ei.value.message
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("schema_type: dataframe\ncolumns:\n  id:\n    dtype: no_such_dtype\n")
    with pytest.raises(SuiteError, match="pandera schema") as ei:
        validate_dataset(data, [bad_yaml])
    assert str(bad_yaml) in ei.value.message


def test_polars_schema_module(tmp_path: Path, qt: Any) -> None:
    (tmp_path / "pl.py").write_text(
        "import pandera.polars as pa\n"
        "schema = pa.DataFrameSchema({'id': pa.Column(int, unique=True),"
        " 'x': pa.Column(float, pa.Check.in_range(-10, 10))})\n")
    t = _corrupt(qt.demo_table(200)).select(["id", "x"])
    p = qt.write_table(tmp_path / "d.parquet", t, row_group_size=25)
    dv = validate_dataset(p, [tmp_path / "pl.py"], batch_size=25)
    failed = {r.expectation_type: r.unexpected_count for r in dv.failed}
    assert failed == {"pandera:unique": 2, "pandera:in_range": 2}
