"""The slow path: expectation types the Arrow engine lacks run through great_expectations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dvx.errors import SuiteError
from dvx.quality.results import ResultStore
from dvx.quality.validate import validate_dataset


@pytest.fixture(scope="module")
def gx_ready() -> None:
    from dvx.quality import engine_gx

    engine_gx._batch_definition()  # import GX once for this module


def _suite(tmp_path: Path, exps: list[dict[str, Any]], indent: int = 2) -> Path:
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"name": "s", "expectations": exps}, indent=indent))
    return p


def test_slow_path_runs_and_is_noted(tmp_path: Path, qt: Any, gx_ready: None) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(100))
    suite = _suite(tmp_path, [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_value_lengths_to_be_between", "kwargs": {"column": "label", "min_value": 3,
                                                                          "max_value": 3}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",
         "kwargs": {"column_A": "id", "column_B": "x", "or_equal": True, "mostly": 0.5}},
    ])
    store = ResultStore(tmp_path / "results")
    dv = validate_dataset(data, [suite], data_id="ab" * 16, store=store)
    assert [r.engine for r in dv.results] == ["arrow", "gx", "gx"]
    lengths = dv.results[1]
    assert not lengths.success  # "bird" has 4 letters
    assert lengths.unexpected_count == sum(1 for v in qt.demo_table(100).column("label").to_pylist() if v == "bird")
    assert dv.results[2].success
    assert len(dv.notes) == 2 and "slow path" in dv.notes[0]
    assert "expect_column_value_lengths_to_be_between" in dv.notes[0]
    assert re.fullmatch(r"s: great_expectations: \d+\.\d s", dv.notes[1]), dv.notes  # the time it took
    # a stored result took no great_expectations time: no timing note then
    again = validate_dataset(data, [suite], data_id="ab" * 16, store=store)
    assert all(s.cached for s in again.suites) and again.notes == dv.notes[:1]


def test_unknown_expectation_type_names_file_and_line(tmp_path: Path, qt: Any, gx_ready: None) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(10))
    suite = _suite(tmp_path, [
        {"type": "expect_column_to_exist", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_purple", "kwargs": {"column": "id"}},
    ])
    with pytest.raises(SuiteError) as ei:
        validate_dataset(data, [suite])
    msg = ei.value.message
    assert msg.startswith(f"{suite}: expectation 2 (expect_column_values_to_be_purple): unknown expectation type")
    line = ei.value.line
    assert line is not None and "expect_column_values_to_be_purple" in suite.read_text().splitlines()[line - 1]
    assert ei.value.exit_code == 2


def test_invalid_kwargs_on_slow_path(tmp_path: Path, qt: Any, gx_ready: None) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(10))
    suite = _suite(tmp_path, [{"type": "expect_column_value_lengths_to_equal", "kwargs": {"column": "label"}}])
    with pytest.raises(SuiteError, match="expectation 1 .expect_column_value_lengths_to_equal.: missing required key 'value'"):
        validate_dataset(data, [suite])


def test_slow_path_missing_column_fails_like_gx(tmp_path: Path, qt: Any, gx_ready: None) -> None:
    data = qt.write_table(tmp_path / "d.parquet", qt.demo_table(10))
    suite = _suite(tmp_path, [{"type": "expect_column_value_lengths_to_equal",
                               "kwargs": {"column": "nope", "value": 3}}])
    dv = validate_dataset(data, [suite])
    (r,) = dv.results
    assert not r.success and r.engine == "gx" and "nope" in (r.exception or "")
