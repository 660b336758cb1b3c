"""Readable results (issue 13, item 6), through the real CLI in real repositories: bounds
beside observed values, numbers neither cut nor in scientific notation, approximate
distinct counts marked and clamped, `stats --json` summaries (sketches only with --raw),
and drift output and HTML that name both versions and their ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dvxtest import git, run_dvx

DATA = "data/sales.parquet"
ROWS = 50_000


def _table(shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(5)
    amount = rng.uniform(1, 1000, ROWS).round(2)
    amount[0] = 1234567.89
    return pa.table({
        "id": np.arange(ROWS, dtype=np.int64),  # all distinct: the HyperLogLog estimate is what is shown
        "amount": amount,
        "m": np.full(ROWS, 7.2) + shift,
        "rate": np.full(ROWS, 0.0002433),
        "label": rng.choice(["a", "b"], ROWS),
    })


SUITE = {"name": "sales", "expectations": [
    {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "m", "min_value": 0, "max_value": 5}},
    {"type": "expect_column_max_to_be_between", "kwargs": {"column": "amount", "max_value": 1000000}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["a"]}},
]}


@pytest.fixture
def srepo(repo: Path) -> Path:
    (repo / "data").mkdir()
    pq.write_table(_table(), repo / DATA)
    (repo / "expectations" / "sales.json").write_text(json.dumps(SUITE))
    (repo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/*.parquet"\nsuites = ["sales.json"]\n')
    run_dvx(repo, "add", DATA)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    return repo


def _row(out: str, needle: str) -> str:
    return next(ln for ln in out.splitlines() if needle in ln)


def test_failed_expectations_show_observed_and_expected(srepo: Path) -> None:
    cp = run_dvx(srepo, "validate", check=False)
    assert cp.returncode == 1
    mean = _row(cp.stdout, "expect_column_mean_to_be_between")
    assert "7.2" in mean and "0 ≤ mean ≤ 5" in mean, cp.stdout
    money = _row(cp.stdout, "expect_column_max_to_be_between")
    assert "1,234,567.89" in money and "max ≤ 1,000,000" in money, cp.stdout
    labels = _row(cp.stdout, "expect_column_values_to_be_in_set")
    assert "in {a}" in labels, cp.stdout
    assert "…" not in cp.stdout and "e+" not in cp.stdout
    # the gate's table says the same: observed, then expected
    cp = run_dvx(srepo, "check", check=False)
    assert cp.returncode == 1
    mean = _row(cp.stdout, "expect_column_mean_to_be_between")
    assert "observed 7.2" in mean and "0 ≤ mean ≤ 5" in mean, cp.stdout
    # and the HTML report has an expected column
    report = srepo / "v.html"
    run_dvx(srepo, "validate", "--report", str(report), check=False)
    text = report.read_text()
    assert "<th>expected</th>" in text and "0 ≤ mean ≤ 5" in text and "1,234,567.89" in text
    # JSON keeps full precision
    js = json.loads(run_dvx(srepo, "validate", "--json", check=False).stdout)
    observed = {r["expectation_type"]: r["result"].get("observed_value") for r in js["datasets"][0]["results"]}
    assert observed["expect_column_max_to_be_between"] == 1234567.89


def test_stats_summaries_distinct_marked_and_clamped(srepo: Path) -> None:
    js = json.loads(run_dvx(srepo, "stats", DATA, "--json").stdout)
    assert js["row_count"] == ROWS
    flat = json.dumps(js)
    assert "registers" not in flat and '"m2"' not in flat and "kll" not in flat.lower()
    ident = js["columns"]["id"]
    assert set(ident["quantiles"]) == {"p01", "p05", "p25", "p50", "p75", "p95", "p99"}
    assert ident["distinct_approximate"] is True and ident["distinct"] <= ident["count"] - ident["nulls"]
    assert ident["min"] == 0 and ident["max"] == ROWS - 1 and ident["mean"] == pytest.approx((ROWS - 1) / 2)
    label = js["columns"]["label"]
    assert label["distinct"] == 2 and label["distinct_approximate"] is False
    assert {t["value"] for t in label["top_values"]} == {"a", "b"}
    raw = json.loads(run_dvx(srepo, "stats", DATA, "--json", "--raw").stdout)
    assert "registers" in json.dumps(raw) and "m2" in next(c for c in raw["columns"] if c["name"] == "id")
    cp = run_dvx(srepo, "stats", DATA)
    assert f"{ROWS:,} rows" in cp.stdout
    id_row = _row(cp.stdout, "int64")
    assert f"~{ident['distinct']:,}" in id_row, cp.stdout
    assert "0.0002433" in _row(cp.stdout, "rate") and "1,234,567.89" in _row(cp.stdout, "amount"), cp.stdout


def test_drift_names_both_versions_and_ids_in_text_and_html(srepo: Path) -> None:
    head_id = json.loads(run_dvx(srepo, "stats", DATA, "--json").stdout)["data_id"][:12]
    pq.write_table(_table(shift=3.0), srepo / DATA)
    report = srepo / "d.html"
    cp = run_dvx(srepo, "drift", DATA, "--report", str(report), check=False)
    js = json.loads(run_dvx(srepo, "drift", DATA, "--json", check=False).stdout)
    disk_id = js["current_id"][:12]
    assert disk_id != head_id
    assert f"workspace (modified since dvx add) {disk_id} vs HEAD {head_id}" in cp.stdout
    text = report.read_text()
    assert f'<b class="current-version">workspace (modified since dvx add) {disk_id}</b>' in text
    assert f'<b class="baseline-version">HEAD {head_id}</b>' in text
