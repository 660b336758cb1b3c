"""Suites and bindings: GX JSON, pandera YAML, Python modules, dvx.toml; their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dvx.errors import ConfigError, SuiteError
from dvx.quality.suite import glob_to_regex, load_bindings, load_suite, suite_id, write_binding

GX_SUITE = {
    "name": "train",
    "id": "6f1f4b1e-0000-0000-0000-000000000000",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}, "meta": {},
         "id": "a", "severity": "critical"},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": -10, "max_value": 10},
         "meta": {"owner": "ml"}, "id": "b", "severity": "critical"},
    ],
    "meta": {"great_expectations_version": "1.24.1"},
    "notes": None,
}


def test_gx_suite_json_loads_with_lines(tmp_path: Path) -> None:
    p = tmp_path / "train.json"
    p.write_text(json.dumps(GX_SUITE, indent=2))
    s = load_suite(p)
    assert s.kind == "gx" and s.name == "train"
    assert [e.type for e in s.expectations] == ["expect_column_values_to_not_be_null",
                                                "expect_column_values_to_be_between"]
    assert s.expectations[1].kwargs["max_value"] == 10 and s.expectations[1].meta == {"owner": "ml"}
    text = p.read_text().splitlines()
    assert "expect_column_values_to_be_between" in text[s.expectations[1].line - 1]


def test_legacy_expectation_type_key(tmp_path: Path) -> None:
    p = tmp_path / "old.json"
    p.write_text(json.dumps({"expectation_suite_name": "old", "expectations": [
        {"expectation_type": "expect_column_to_exist", "kwargs": {"column": "a"}}]}))
    s = load_suite(p)
    assert s.name == "old" and s.expectations[0].type == "expect_column_to_exist"


def test_suite_id_is_canonical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(GX_SUITE, indent=2))
    b.write_text(json.dumps(dict(reversed(list(GX_SUITE.items())))))  # other key order, no indent
    assert load_suite(a).id == load_suite(b).id == suite_id(GX_SUITE)
    changed = json.loads(json.dumps(GX_SUITE))
    changed["expectations"][1]["kwargs"]["max_value"] = 11
    assert suite_id(changed) != suite_id(GX_SUITE)
    assert len(load_suite(a).id) == 32


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{\n  "name": "x",\n  "expectations": [\n    {"type": "expect_column_to_exist",}\n  ]\n}\n')
    with pytest.raises(SuiteError) as ei:
        load_suite(p)
    assert str(p) in ei.value.message and f"{p}:4" in ei.value.message
    assert "not valid JSON" in ei.value.message
    assert ei.value.exit_code == 2


def test_not_a_suite_and_bad_type(tmp_path: Path) -> None:
    p = tmp_path / "list.json"
    p.write_text("[1, 2]")
    with pytest.raises(SuiteError, match="expectations"):
        load_suite(p)
    p.write_text(json.dumps({"name": "n", "expectations": [{"type": "Not A Type", "kwargs": {}}]}))
    with pytest.raises(SuiteError, match="expectation 1: no valid .type."):
        load_suite(p)


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "schema.yaml"
    p.write_text("schema_type: dataframe\ncolumns:\n  id:\n    dtype: int64\n   bad: [\n")
    with pytest.raises(SuiteError) as ei:
        load_suite(p)
    assert ei.value.message.startswith(f"{p}:")
    assert "not valid YAML" in ei.value.message


def test_yaml_that_is_not_a_schema(tmp_path: Path) -> None:
    p = tmp_path / "x.yml"
    p.write_text("- just\n- a list\n")
    with pytest.raises(SuiteError, match="pandera"):
        load_suite(p)


def test_python_suite_needs_schema(tmp_path: Path) -> None:
    p = tmp_path / "s.py"
    p.write_text("x = 1\n")
    with pytest.raises(SuiteError, match="schema"):
        load_suite(p)
    p.write_text("import pandera.pandas as pa\nschema = pa.DataFrameSchema({})\n")
    s = load_suite(p)
    assert s.kind == "pandera" and s.name == "s"


def test_missing_and_unknown_suite_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_suite(tmp_path / "nope.json")
    (tmp_path / "s.txt").write_text("x")
    with pytest.raises(SuiteError, match="unknown suite format"):
        load_suite(tmp_path / "s.txt")


def test_glob_patterns() -> None:
    assert glob_to_regex("data/*.parquet").match("data/train.parquet")
    assert not glob_to_regex("data/*.parquet").match("data/sub/train.parquet")
    assert glob_to_regex("data/**/*.parquet").match("data/sub/deep/train.parquet")
    assert glob_to_regex("data/**/*.parquet").match("data/train.parquet")
    assert glob_to_regex("data/train.?sv").match("data/train.csv")
    assert not glob_to_regex("data/train.csv").match("data/train_csv")


def test_bindings(tmp_path: Path) -> None:
    (tmp_path / "dvx.toml").write_text(
        '[[bind]]\npath = "data/*.parquet"\nsuites = ["train.json", "train.yaml"]\n\n'
        '[[bind]]\npath = "data/train.parquet"\nsuites = ["train.json", "extra.json"]\n\n'
        '[[bind]]\npath = "data/images/"\nsuite = "images.json"\n')
    b = load_bindings(tmp_path)
    assert [Path(s).name for s in b.suites_for("data/train.parquet")] == ["train.json", "train.yaml", "extra.json"]
    assert [Path(s).name for s in b.suites_for("data/images")] == ["images.json"]
    assert b.suites_for("other/train.parquet") == []
    assert b.entries[1].line == 5


def test_bad_bindings(tmp_path: Path) -> None:
    assert load_bindings(tmp_path).entries == []  # no dvx.toml: nothing bound
    (tmp_path / "dvx.toml").write_text('[[bind]]\npath = "data/x.csv"\n')
    with pytest.raises(SuiteError, match="suites") as ei:
        load_bindings(tmp_path)
    assert ":1" in ei.value.message
    (tmp_path / "dvx.toml").write_text('[[bind]]\npath = "a\nsuites = []\n')
    with pytest.raises(SuiteError, match="invalid TOML"):
        load_bindings(tmp_path)


def test_write_binding_appends_once(tmp_path: Path) -> None:
    write_binding(tmp_path, "data/train.parquet", "train.json")
    write_binding(tmp_path, "data/train.parquet", "train.json")
    write_binding(tmp_path, "data/eval.parquet", "eval.json")
    b = load_bindings(tmp_path)
    assert [(e.path, e.suites) for e in b.entries] == [("data/train.parquet", ("train.json",)),
                                                       ("data/eval.parquet", ("eval.json",))]
