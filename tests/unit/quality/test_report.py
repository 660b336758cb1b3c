"""HTML reports: self-contained, drifted/failed rows first, escaped, and
rendered by a real headless Chromium (screenshot kept in the test's tmp dir)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dvx.quality.drift import compare
from dvx.quality.profile import Profile, profile_table
from dvx.quality.report import render_drift_html, render_validation_html

COLOURS = ["red", "green", "blue", "yellow", "purple"]


def _profiles() -> tuple[Profile, Profile]:
    rng = np.random.default_rng(0)
    n = 50_000
    colours = pa.array(COLOURS)

    def table(shift: float, p: list[float], nulls: float, extra: str) -> pa.Table:
        idx = np.searchsorted(np.cumsum(p), rng.random(n) * sum(p))
        return pa.table({
            "income": rng.lognormal(10, 1, n),
            "age": rng.normal(40 + shift, 10, n),
            "colour": colours.take(pa.array(np.minimum(idx, 4))),
            "flag": rng.random(n) < 0.5,
            "score": pa.array(rng.random(n), mask=rng.random(n) < nulls),
            extra: np.ones(n),
            "<b>odd & name</b>": rng.normal(0, 1, n),
        })

    base = profile_table(table(0, [0.3, 0.3, 0.2, 0.1, 0.1], 0.0, "old_col"))
    cur = profile_table(table(2, [0.3, 0.25, 0.2, 0.15, 0.1], 0.05, "new_col"))
    return base, cur


@pytest.fixture(scope="module")
def drift_page() -> str:
    base, cur = _profiles()
    return render_drift_html(compare(base, cur), base, cur, "Drift: data/train.parquet")


def _metric_rows(page: str) -> list[str]:
    table = page[page.index('<table id="metrics"'): page.index("</table>")]
    return re.findall(r'<tr class="[^"]*" data-column="([^"]*)"', table)


def test_drift_page_is_self_contained(drift_page: str) -> None:
    assert drift_page.startswith("<!DOCTYPE html>")
    assert "<script" not in drift_page and "<link" not in drift_page and "@import" not in drift_page
    urls = set(re.findall(r"https?://[^\s\"'<>]+", drift_page))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert drift_page.count("<svg") == 6  # a chart per column present on both sides


def test_drifted_columns_come_first_and_are_highlighted(drift_page: str) -> None:
    rows = _metric_rows(drift_page)
    assert rows[:3] == ["age", "colour", "score"]
    assert set(rows) == {"income", "age", "colour", "flag", "score", "old_col", "new_col",
                         "&lt;b&gt;odd &amp; name&lt;/b&gt;"}
    for name in ("age", "colour", "score"):
        assert f'<tr class="bad" data-column="{name}">' in drift_page
    assert '<tr class="" data-column="income">' in drift_page
    assert "DRIFT in 3 columns" in drift_page
    assert "<b>odd & name</b>" not in drift_page  # escaped everywhere


@dataclasses.dataclass
class _Result:
    expectation_type: str
    column: str | None
    success: bool
    observed_value: object = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    partial_unexpected_list: list[object] | None = None


def test_validation_page_lists_failures_first() -> None:
    results = [
        {"expectation_type": "expect_column_values_to_not_be_null", "column": "id", "success": True,
         "observed_value": None, "unexpected_count": 0, "unexpected_percent": 0.0, "partial_unexpected_list": []},
        _Result("expect_column_values_to_be_between", "x", False, None, 12, 6.0, [11.2, 13.5, "<script>"]),
        {"expectation_type": "expect_table_row_count_to_equal", "column": None, "success": True,
         "observed_value": 200},
    ]
    page = render_validation_html([{"dataset": "data/train.parquet", "suite": "train.json", "results": results},
                                   {"dataset": "data/ok.csv", "results": results[:1], "success": True}],
                                  "Validation")
    order = re.findall(r'data-expectation="([^"]+)"', page)
    assert order[0] == "expect_column_values_to_be_between"
    assert "FAILED: 1 expectation" in page and "<script>" not in page and "&lt;script&gt;" in page
    ok = render_validation_html([{"dataset": "d", "results": results[:1]}], "Validation")
    assert "all expectations passed" in ok and 'class="verdict ok"' in ok


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.chromium
@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (make chromium installs it)")
def test_chromium_renders_the_drift_report(drift_page: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(drift_page, encoding="utf-8")
    shot = tmp_path / "report.png"
    flags = [_chromium() or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"]
    proc = subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a blank page is ~5 KB
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'id="verdict"' in dom.stdout and "DRIFT in 3 columns" in dom.stdout
    assert _metric_rows(dom.stdout)[:3] == ["age", "colour", "score"]
    assert dom.stdout.count("<svg") == 6
