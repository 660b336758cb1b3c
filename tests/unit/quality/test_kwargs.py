"""dvx.quality.kwargs: the table of Arrow-engine expectation kwargs against GX 1.x's own classes."""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.errors import SuiteError
from dvx.quality import kwargs as K
from dvx.quality.suite import Expectation


@pytest.fixture(scope="module")
def gx_fields() -> dict[str, dict[str, Any]]:
    from dvx.quality import engine_gx

    out = {}
    for t in K.TYPES:
        f = engine_gx._fields(t)
        assert f is not None, t
        out[t] = f
    return out


def test_table_names_the_keys_gx_accepts(gx_fields: dict[str, dict[str, Any]]) -> None:
    from dvx.quality.engine_gx import _INTERNAL

    for t, spec in K.TYPES.items():
        gx_keys = set(gx_fields[t]) - _INTERNAL
        assert set(spec) | set(K.COMMON) == gx_keys, t


def test_required_keys_are_gx_required(gx_fields: dict[str, dict[str, Any]]) -> None:
    for t in K.TYPES:
        gx_required = {k for k, f in gx_fields[t].items() if f.required}
        assert set(K.REQUIRED[t]) == gx_required, t


@pytest.mark.parametrize(("type_", "kwargs", "what"), [
    ("expect_column_values_to_be_between", {"column": "x", "min_value": 0, "max_valeu": 3},
     "unknown key 'max_valeu' (did you mean 'max_value'?)"),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": "2024-02-01", "max_value": "2024-01-01"},
     "min_value '2024-02-01' is greater than max_value '2024-01-01'"),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": 1, "max_value": "2024-01-01"}, None),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": float("nan")},
     "min_value must be a number or an ISO 8601 date (got nan)"),
    ("expect_column_values_to_be_between", {"column": "x", "min_value": True},
     "min_value must be a number or an ISO 8601 date (got True)"),
    ("expect_column_values_to_be_in_set", {"column": "x", "value_set": [[1]]},
     "value_set holds [1]; values must be strings, numbers, booleans or null"),
    ("expect_column_values_to_be_in_set", {"column": "x", "value_set": [1], "condition_parser": "pandas"},
     "condition_parser is set but row_condition is not"),
    ("expect_table_row_count_to_be_between", {"min_value": 1.5}, "min_value must be a whole number (got 1.5)"),
    ("expect_compound_columns_to_be_unique", {"column_list": []},
     "column_list must be a non-empty list of column names (got [])"),
    ("expect_compound_columns_to_be_unique", {"column_list": ["a"], "ignore_row_if": "sometimes"},
     "ignore_row_if must be one of all_values_are_missing, any_value_is_missing, never (got 'sometimes')"),
    ("expect_column_to_exist", {"column": "x", "column_index": -1}, "column_index must be a whole number >= 0 (got -1)"),
    ("expect_column_to_exist", {"column": "x", "result_format": "SUMMARY", "catch_exceptions": True}, None),
])
def test_check_messages(type_: str, kwargs: dict[str, Any], what: str | None) -> None:
    assert K.check(type_, kwargs) == what


@pytest.mark.parametrize("po", [
    {"bins": [0, 1, 2], "weights": [0.5, 0.5]},
    {"bins": [0, 1, 2], "weights": [0.25, 0.25], "tail_weights": [0.25, 0.25]},
    {"values": ["a", "b"], "weights": [0.3, 0.7]},
    {"bins": [0, 1], "weights": [0.5, 0.5]},
    {"bins": [1, 0, 2], "weights": [0.5, 0.5]},
    {"values": ["a"], "weights": [0.5, 0.5]},
    {"weights": [1.0]},
    {"bins": [0, 1], "weights": [0.9]},
    {"bins": [0, 1], "weights": [1.0], "tail_weights": [0.1]},
])
def test_partition_object_agrees_with_gx(po: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        from great_expectations.execution_engine.util import is_valid_partition_object
    assert (K.partition_object(po) is None) == bool(is_valid_partition_object(po)), (po, K.partition_object(po))


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["quack", "x", "", "(", "a+", "int64", "2020-01-01", "SUMMARY", "never", "pandas", "x > 1"]),
    st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=2), st.none()), max_size=3),
    st.dictionaries(st.sampled_from(["$PARAMETER", "a"]), st.integers(0, 2), max_size=1),
)
_KEYS = sorted({k for spec in K.TYPES.values() for k in spec} | {"max_valeu", "colum", "mostly"})


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(K.TYPES)), st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=5))
def test_what_dvx_accepts_gx_accepts(gx_fields: dict[str, dict[str, Any]], type_: str, kwargs: dict[str, Any]) -> None:
    """Never an exception from the check; kwargs dvx accepts build GX's expectation object."""
    from dvx.quality import engine_gx

    what = K.check(type_, kwargs)
    assert what is None or ("\n" not in what and what)
    if what is None:
        if any(isinstance(v, float) and math.isinf(v) for v in kwargs.values()):
            return  # GX's pydantic accepts infinite bounds too; nothing more to compare
        engine_gx.to_domain(Expectation(type_, kwargs))  # SuiteError here: dvx is looser than GX


def test_gx_only_types_checked_from_gx_classes() -> None:
    from dvx.quality import engine_gx
    from dvx.quality.suite import Suite

    suite = Suite("s", "s.json", "gx", "id")
    ok = Expectation("expect_column_value_lengths_to_be_between", {"column": "a", "min_value": 1})
    engine_gx.check_expectations(suite, [ok])
    cases = [
        ({"column": "a", "min_value": 1, "mostly": 2}, "mostly must be a number between 0 and 1 (got 2)"),
        ({"column": "a", "min_value": 3, "max_value": 1}, "min_value 3 is greater than max_value 1"),
        ({"min_value": 1}, "missing required key 'column'"),
        ({"column": "a", "min_value": 1, "batch_id": 3}, "batch_id must be a string (got 3)"),
    ]
    for kwargs, what in cases:
        e = Expectation(ok.type, kwargs, index=4)
        with pytest.raises(SuiteError) as ei:
            engine_gx.check_expectations(suite, [e])
        assert ei.value.message == f"s.json: expectation 5 ({ok.type}): {what}"


def test_in_memory_suites_are_checked_too() -> None:
    from dvx.quality.suite import suite_from_expectations

    suite_from_expectations("ok", [("expect_column_values_to_be_unique", {"column": "id"})])
    with pytest.raises(SuiteError) as ei:
        suite_from_expectations("api", [("expect_column_values_to_be_unique", {"column": "id"}),
                                        ("expect_column_values_to_be_unique", {"colunm": "id"})])
    assert ei.value.message == ("<api>: expectation 2 (expect_column_values_to_be_unique): "
                                "unknown key 'colunm' (did you mean 'column'?)")
    assert ei.value.exit_code == 2


def test_arrow_engine_suites_are_checked_without_importing_gx(tmp_path: Any) -> None:
    import json
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1, 2, 3]}), tmp_path / "d.parquet")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"expectations": [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": 0, "max_value": 3}}]}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"expectations": [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": 0, "max_valeu": 3}}]}))
    code = (
        "import sys\n"
        "from dvx.errors import SuiteError\n"
        "from dvx.quality.validate import validate_dataset\n"
        f"assert validate_dataset({str(tmp_path / 'd.parquet')!r}, [{str(good)!r}]).success\n"
        "try:\n"
        f"    validate_dataset({str(tmp_path / 'd.parquet')!r}, [{str(bad)!r}])\n"
        "except SuiteError as e:\n"
        "    print(e.message)\n"
        "print(sorted(m for m in ('great_expectations', 'pandera', 'pandas') if m in sys.modules))\n"
    )
    cp = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    assert cp.stdout.splitlines() == [
        f"{bad}: expectation 1 (expect_column_values_to_be_between): unknown key 'max_valeu' (did you mean 'max_value'?)",
        "[]"]
