"""Strict suites (issue 13, item 3) through the real CLI: bad kwargs are refused before anything runs.

Each refusal is exit 2 and one line ``FILE: expectation N (TYPE): what is wrong``
on both engines; row_condition works on the great_expectations path; an
exception raised while GX evaluates is one line too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dvxtest import run_dvx
from hypothesis import given, settings
from hypothesis import strategies as st

FIRST = {"type": "expect_column_to_exist", "kwargs": {"column": "x"}}


@pytest.fixture
def srepo(repo: Path) -> Path:
    """x = 1..5 (and s4 = x, name) in data/t.parquet, bound to expectations/s.json."""
    (repo / "data").mkdir()
    pq.write_table(pa.table({"x": [1, 2, 3, 4, 5], "s4": [1.0, 2.0, 3.0, 4.0, 5.0],
                             "name": ["a", "b", "c", "d", "ee"]}), repo / "data" / "t.parquet")
    (repo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/t.parquet"\nsuites = ["s.json"]\n')
    _suite(repo, [FIRST])
    run_dvx(repo, "add", "data/t.parquet")
    return repo


def _suite(repo: Path, exps: list[dict[str, Any]]) -> Path:
    p = repo / "expectations" / "s.json"
    p.write_text(json.dumps({"name": "s", "expectations": exps}, indent=2))
    return p


def _refused(repo: Path, exps: list[dict[str, Any]], *args: str) -> str:
    """Run ``dvx validate``; assert exit 2 with one line on stderr, no stdout report; return that line."""
    suite = _suite(repo, exps)
    cp = run_dvx(repo, "validate", *args, check=False)
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    lines = cp.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in cp.stderr, cp.stderr
    assert lines[0].startswith(f"error: {suite}: "), lines[0]
    return lines[0][len(f"error: {suite}: "):]


BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"


@pytest.mark.parametrize(("exp", "what"), [
    ({"type": BETWEEN, "kwargs": {"column": "x", "min_value": 0, "max_valeu": 3}},
     "unknown key 'max_valeu' (did you mean 'max_value'?)"),
    ({"type": BETWEEN, "kwargs": {"column": "x", "min_value": "quack"}},
     "min_value must be a number or an ISO 8601 date (got 'quack')"),
    ({"type": BETWEEN, "kwargs": {"column": "x", "min_value": 5, "max_value": 3}},
     "min_value 5 is greater than max_value 3"),
    ({"type": BETWEEN, "kwargs": {"column": "x"}}, "needs min_value or max_value"),
    ({"type": BETWEEN, "kwargs": {"column": "x", "min_value": 1, "strict_min": "yes"}},
     "strict_min must be true or false (got 'yes')"),
    ({"type": IN_SET, "kwargs": {"column": "x", "value_set": []}},
     "value_set is empty (a value set needs at least one value)"),
    ({"type": IN_SET, "kwargs": {"column": "x", "value_set": [1], "mostly": 1.5}},
     "mostly must be a number between 0 and 1 (got 1.5)"),
    ({"type": IN_SET, "kwargs": {"column": "x", "value_set": [1], "mostly": "0.5"}},
     "mostly must be a number between 0 and 1 (got '0.5')"),
    ({"type": IN_SET, "kwargs": {"value_set": [1]}}, "missing required key 'column'"),
    ({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "x", "min_value": 1, "mostly": 0.5}},
     "unknown key 'mostly' (this type accepts: column, condition_parser, max_value, min_value, row_condition, "
     "strict_max, strict_min)"),
    ({"type": "expect_column_values_to_match_regex", "kwargs": {"column": "name", "regex": "("}},
     "regex is not a valid regular expression: missing ), unterminated subpattern at position 0"),
    ({"type": "expect_table_row_count_to_equal", "kwargs": {"value": -1}},
     "value must be a whole number >= 0 (got -1)"),
    ({"type": BETWEEN, "kwargs": {"column": "x", "min_value": {"$PARAMETER": "lo"}}},
     "min_value: suite parameters ({'$PARAMETER': 'lo'}) are not supported; write the value itself"),
])
def test_bad_kwargs_refused_on_the_arrow_engine(srepo: Path, exp: dict[str, Any], what: str) -> None:
    assert _refused(srepo, [FIRST, exp]) == f"expectation 2 ({exp['type']}): {what}"


def test_misspelled_key_was_a_pass_now_exit_2_and_valid_suite_passes(srepo: Path) -> None:
    bad = {"type": BETWEEN, "kwargs": {"column": "x", "min_value": 0, "max_valeu": 3}}
    assert _refused(srepo, [bad]) == f"expectation 1 ({BETWEEN}): unknown key 'max_valeu' (did you mean 'max_value'?)"
    _suite(srepo, [{"type": BETWEEN, "kwargs": {"column": "x", "min_value": 0, "max_value": 3}}])
    cp = run_dvx(srepo, "validate", check=False)
    assert cp.returncode == 1 and "expect_column_values_to_be_between" in cp.stdout  # 4 and 5 are above 3
    _suite(srepo, [{"type": BETWEEN, "kwargs": {"column": "x", "min_value": 0, "max_value": 5}}])
    run_dvx(srepo, "validate")


def test_a_changed_suite_is_checked_although_the_data_has_stored_results(srepo: Path) -> None:
    ok = {"type": BETWEEN, "kwargs": {"column": "x", "min_value": 0, "max_value": 5}}
    _suite(srepo, [ok])
    run_dvx(srepo, "validate")
    assert "stored result" in run_dvx(srepo, "validate").stdout
    line = _refused(srepo, [{**ok, "kwargs": {**ok["kwargs"], "strict_mni": True}}])
    assert line == f"expectation 1 ({BETWEEN}): unknown key 'strict_mni' (did you mean 'strict_min'?)"


def test_great_expectations_path_refusals(srepo: Path) -> None:
    """Types only GX knows: keys from GX's own classes, the same value rules, GX's pydantic types."""
    kl = "expect_column_kl_divergence_to_be_less_than"
    lengths = "expect_column_value_lengths_to_be_between"
    assert _refused(srepo, [FIRST, {"type": kl, "kwargs": {
        "column": "x", "partition_object": {"bins": [3, 1], "weights": [1]}, "threshold": 0.1}}]) == (
        f"expectation 2 ({kl}): partition_object 'bins' must be strictly increasing")
    assert _refused(srepo, [{"type": kl, "kwargs": {
        "column": "x", "partition_object": {"bins": [0, 1, 2], "weights": [0.5, 0.2]}, "threshold": 0.1}}]) == (
        f"expectation 1 ({kl}): partition_object weights sum to 0.7, not 1")
    assert _refused(srepo, [{"type": lengths, "kwargs": {"column": "name", "min_valeu": 1}}]) == (
        f"expectation 1 ({lengths}): unknown key 'min_valeu' (did you mean 'min_value'?)")
    assert _refused(srepo, [{"type": lengths, "kwargs": {"column": "name", "min_value": "quack"}}]) == (
        f"expectation 1 ({lengths}): min_value 'quack' is invalid: value is not a valid integer")
    assert _refused(srepo, [FIRST, FIRST, {"type": "expect_column_value_lenghts_to_be_between",
                                           "kwargs": {"column": "name", "min_value": 1}}]) == (
        "expectation 3 (expect_column_value_lenghts_to_be_between): unknown expectation type "
        f"(did you mean '{lengths}'?)")


def test_row_condition_on_another_column_and_gx_exception_is_one_line(srepo: Path) -> None:
    # row_condition sends the expectation to great_expectations; s4 is not its own column
    cond = {"type": BETWEEN, "kwargs": {"column": "x", "min_value": 3, "row_condition": "s4 > 2",
                                        "condition_parser": "pandas"}}
    _suite(srepo, [cond])
    cp = run_dvx(srepo, "validate", "--json")
    res = json.loads(cp.stdout)["datasets"][0]["results"][0]
    assert res["meta"]["engine"] == "gx" and res["success"] is True
    assert res["result"]["element_count"] == 3  # only the rows where s4 > 2
    # without the condition, 1 and 2 are below 3: the condition was applied, not ignored
    _suite(srepo, [{"type": BETWEEN, "kwargs": {"column": "x", "min_value": 3}}])
    assert run_dvx(srepo, "validate", check=False).returncode == 1
    # a condition naming a column the data lacks: a failed expectation (exit 1), said in one note
    _suite(srepo, [{**cond, "kwargs": {**cond["kwargs"], "row_condition": "zz > 2"}}])
    cp = run_dvx(srepo, "validate", check=False)
    assert cp.returncode == 1 and "Traceback" not in cp.stderr
    assert f"note: s: expectation 1 ({BETWEEN}) failed: row_condition names 'zz', which is not a column of the data" \
        in cp.stdout.splitlines()
    # GX raises while evaluating (a date bound on an integer column): one line, exit 2
    assert _refused(srepo, [{"type": BETWEEN, "kwargs": {"column": "x", "min_value": "2020-01-01"}}]) == (
        f"expectation 1 ({BETWEEN}): great_expectations could not evaluate it: "
        "'>=' not supported between instances of 'int' and 'datetime.date'")


def test_pandera_bad_check_argument_names_file_column_and_check(srepo: Path) -> None:
    schema = srepo / "expectations" / "s.yaml"
    (srepo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/t.parquet"\nsuites = ["s.yaml"]\n')

    def yaml_with(checks: str) -> str:
        schema.write_text("schema_type: dataframe\ncolumns:\n  x:\n    dtype: int64\n    nullable: false\n"
                          f"    checks:\n{checks}")
        cp = run_dvx(srepo, "validate", check=False)
        assert cp.returncode == 2 and len(cp.stderr.splitlines()) == 1, cp.stderr
        return cp.stderr.strip()

    assert yaml_with("      in_range:\n        min_value: 0\n        max_valeu: 3\n") == (
        f"error: {schema}: column x, check in_range: unknown argument 'max_valeu' (did you mean 'max_value'?)")
    assert yaml_with("      isin:\n        value: []\n") == f"error: {schema}: column x, check isin: the list of values is empty"
    assert yaml_with("      greater_than:\n        value: quack\n") == (
        f"error: {schema}: column x, check greater_than: 'quack' is not a number, and column dtype is int64")
    assert yaml_with("      greater_thn: 1\n") == f"error: {schema}: column x: unknown check 'greater_thn' (did you mean 'greater_than'?)"
    assert yaml_with("      in_range:\n        min_value: 5\n        max_value: 3\n").startswith(
        f"error: {schema}: column x, check in_range: ValueError: The combination of min_value = 5 and max_value = 3")
    schema.write_text("schema_type: dataframe\ncolumns:\n  x:\n    dtype: int64\n    checks:\n"
                      "      in_range:\n        min_value: 0\n        max_value: 5\n")
    run_dvx(srepo, "validate")


def test_pandera_check_that_raises_is_one_line(srepo: Path) -> None:
    mod = srepo / "expectations" / "s.py"
    (srepo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/t.parquet"\nsuites = ["s.py"]\n')
    mod.write_text("import pandera.pandas as pa\n"
                   "schema = pa.DataFrameSchema({'x': pa.Column(int, pa.Check(lambda s: s > 'a', name='gt_a'))})\n")
    cp = run_dvx(srepo, "validate", check=False)
    assert cp.returncode == 2 and "Traceback" not in cp.stderr, cp.stderr
    assert cp.stderr.splitlines() == [f'error: {mod}: column x, check gt_a: pandera could not run it: '
                                      'TypeError("Invalid comparison between dtype=int64 and str")']


# ---------------------------------------------------------------- random kwargs never crash

_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["quack", "x", "s4", "", "(", "[a-z]+", "int64", "2020-01-01", "BASIC"]),
    st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.sampled_from(["bins", "weights", "$PARAMETER"]), st.integers(0, 2), max_size=2),
)
_TYPES = [BETWEEN, IN_SET, "expect_column_values_to_be_unique", "expect_column_mean_to_be_between",
          "expect_column_values_to_match_regex", "expect_table_row_count_to_be_between",
          "expect_column_values_to_be_of_type", "expect_compound_columns_to_be_unique"]
_KEYS = ["column", "min_value", "max_value", "max_valeu", "value_set", "mostly", "strict_min", "regex", "type_",
         "column_list", "value", "result_format", "catch_exceptions", "ignore_row_if"]


@settings(max_examples=15, deadline=None)  # each example is a dvx process
@given(st.sampled_from(_TYPES), st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=4))
def test_random_kwargs_never_crash_the_cli(tmp_path_factory: pytest.TempPathFactory, type_: str,
                                          kwargs: dict[str, Any]) -> None:
    from dvxtest import make_dvx_repo

    repo = _random_repo(tmp_path_factory, make_dvx_repo)
    (repo / "expectations" / "s.json").write_text(json.dumps({"name": "s", "expectations": [
        {"type": type_, "kwargs": kwargs}]}))
    cp = run_dvx(repo, "validate", check=False)
    assert cp.returncode in (0, 1, 2), cp.stderr
    assert "Traceback" not in cp.stderr and len(cp.stderr.splitlines()) == (cp.returncode != 0), cp.stderr
    if cp.returncode == 2:
        assert len(cp.stderr.splitlines()) == 1 and "s.json: expectation 1 (" in cp.stderr, cp.stderr


_REPO: dict[str, Path] = {}


def _random_repo(factory: pytest.TempPathFactory, make: Any) -> Path:
    if "r" not in _REPO:
        repo = make(factory.mktemp("strict") / "repo")
        (repo / "data").mkdir()
        pq.write_table(pa.table({"x": [1, 2, 3, 4, 5], "s4": [1.0, 2.0, None, 4.0, 5.0]}), repo / "data" / "t.parquet")
        (repo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/t.parquet"\nsuites = ["s.json"]\n')
        run_dvx(repo, "add", "data/t.parquet")
        _REPO["r"] = repo
    return _REPO["r"]


def test_progress_and_gx_time_shown_on_a_terminal_not_when_piped(srepo: Path) -> None:
    """A terminal gets the reading line on stderr while the slow great_expectations path runs (it
    imports for seconds, past the one-second delay); a pipe gets no progress, only the timing note."""
    import os
    import pty
    import subprocess
    import sys

    from dvxtest import env

    _suite(srepo, [{"type": BETWEEN, "kwargs": {"column": "x", "min_value": 3, "row_condition": "s4 > 2",
                                                "condition_parser": "pandas"}}])
    out_m, out_s = pty.openpty()
    err_m, err_s = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dvx", "validate"], cwd=srepo, env=env(),
                            stdin=subprocess.DEVNULL, stdout=out_s, stderr=err_s)
    os.close(out_s)
    os.close(err_s)
    chunks: dict[int, bytes] = {out_m: b"", err_m: b""}
    import select

    open_fds = [out_m, err_m]
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [], 60)
        assert ready, "dvx validate produced nothing for 60 s"
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its end of the terminal
                data = b""
            if data:
                chunks[fd] += data
            else:
                open_fds.remove(fd)
    assert proc.wait(60) == 0
    err = chunks[err_m].decode()
    assert "\r" in err and "validat" in err.lower(), repr(err)  # the progress line, redrawn in place
    out = chunks[out_m].decode()
    assert re.search(r"great_expectations: [0-9.]+ s", out), out  # the time the slow path took
    piped = run_dvx(srepo, "validate")
    assert "\r" not in piped.stderr and "great_expectations" in piped.stdout
