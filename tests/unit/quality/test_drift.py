"""Drift metrics: statistical soundness on synthetic data (the issue's
acceptance tests), metric definitions, schema changes, thresholds from TOML,
bad input and speed from stored profiles."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pyarrow as pa
import pytest

from dvx.errors import ConfigError
from dvx.quality.drift import (
    METRICS,
    MetricThresholds,
    Thresholds,
    chi2_quantile,
    compare,
    js_distance,
    ks_critical,
    load_thresholds,
    psi,
)
from dvx.quality.profile import Profile, profile_table

CATS = np.array(list("abcdefghij"))
_CATS_ARROW = pa.array(CATS.tolist())


def _table(rng: np.random.Generator, n: int, shift: float = 0.0, share_a: float = 0.1,
           null_frac: float = 0.0) -> pa.Table:
    """x ~ N(shift, 1) (optionally with nulls), k: 10 categories, 'a' with share_a."""
    p = np.full(10, (1 - share_a) / 9)
    p[0] = share_a
    x = rng.normal(shift, 1.0, n)
    mask = rng.random(n) < null_frac if null_frac else None
    idx = np.minimum(np.searchsorted(np.cumsum(p), rng.random(n)), 9)
    # Arrow's take builds the string column ~20x faster than numpy str arrays
    return pa.table({"x": pa.array(x, mask=mask), "k": _CATS_ARROW.take(pa.array(idx))})


def _strict_json(text: str) -> object:
    def bad(c: str) -> None:
        raise AssertionError(f"non-finite {c} in JSON")
    return json.loads(text, parse_constant=bad)


# -- soundness ---------------------------------------------------------------


@pytest.fixture(scope="module")
def base_1m() -> Profile:
    return profile_table(_table(np.random.default_rng(11), 1_000_000))


def test_mean_shift_of_a_tenth_sd_is_flagged(base_1m: Profile) -> None:
    cur = profile_table(_table(np.random.default_rng(12), 1_000_000, shift=0.1))
    r = compare(base_1m, cur)
    assert r.drifted and r.drifted_columns == ["x"]
    ks = r.column("x").metric("ks")
    assert ks is not None and ks.drifted and ks.threshold is not None
    # D for a 0.1 sd shift of a normal is 2 * Phi(0.05) - 1 = 0.0399
    assert ks.value == pytest.approx(0.0399, abs=0.006)


def test_category_share_10_to_15_percent_is_flagged(base_1m: Profile) -> None:
    cur = profile_table(_table(np.random.default_rng(13), 1_000_000, share_a=0.15))
    r = compare(base_1m, cur)
    assert r.drifted_columns == ["k"]
    linf = r.column("k").metric("linf")
    assert linf is not None and linf.drifted and linf.value == pytest.approx(0.05, abs=0.005)


def test_five_percent_nulls_are_flagged(base_1m: Profile) -> None:
    cur = profile_table(_table(np.random.default_rng(14), 1_000_000, null_frac=0.05))
    r = compare(base_1m, cur)
    assert r.drifted_columns == ["x"]
    m = r.column("x").metric("null_rate_delta")
    assert m is not None and m.drifted and m.value == pytest.approx(0.05, abs=0.003)
    ks = r.column("x").metric("ks")
    assert ks is not None and not ks.drifted  # the values themselves did not move


def test_small_shifts_are_flagged_at_100k_too() -> None:
    rng = np.random.default_rng(21)
    base = profile_table(_table(rng, 100_000))
    r = compare(base, profile_table(_table(rng, 100_000, share_a=0.15, null_frac=0.05, shift=0.1)))
    assert r.drifted_columns == ["x", "k"]


def test_iid_resamples_are_not_flagged_over_100_seeds() -> None:
    """False-alarm rate at the default thresholds: 0 of 100 (issue: < 1 %)."""
    alarms = []
    worst = 0.0
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        r = compare(profile_table(_table(rng, 100_000)), profile_table(_table(rng, 100_000)))
        if r.drifted:
            alarms.append((seed, r.drifted_columns))
        for c in r.columns:
            for m in c.metrics:
                if m.value is not None and m.threshold:
                    worst = max(worst, abs(m.value) / m.threshold)
    assert alarms == []
    assert worst < 1.0


# -- metric definitions --------------------------------------------------------


def test_metric_functions() -> None:
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    assert psi(np.array([0.9, 0.1]), np.array([0.1, 0.9])) == pytest.approx(2 * 0.8 * math.log(9))
    assert js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert js_distance(np.array([0.3, 0.7]), np.array([0.3, 0.7])) == 0.0
    assert 0 < js_distance(np.array([0.5, 0.5]), np.array([0.6, 0.4])) < 0.1
    assert ks_critical(0.05, 1000, 1000) == pytest.approx(1.358 * math.sqrt(2 / 1000), rel=1e-3)
    # Wilson-Hilferty against known chi-square quantiles
    assert chi2_quantile(0.95, 9) == pytest.approx(16.919, rel=0.01)
    assert chi2_quantile(0.9999, 19) == pytest.approx(50.80, rel=0.02)


def test_identical_profiles_have_zero_drift() -> None:
    p = profile_table(_table(np.random.default_rng(5), 50_000))
    r = compare(p, p)
    assert not r.drifted
    for c in r.columns:
        for m in c.metrics:
            assert m.value is not None and abs(m.value) < 1e-12, (c.name, m.name)


def test_json_shape() -> None:
    rng = np.random.default_rng(6)
    r = compare(profile_table(_table(rng, 20_000)), profile_table(_table(rng, 20_000, shift=1.0)))
    d = _strict_json(r.to_json())
    assert isinstance(d, dict) and d["drifted"] is True and d["drifted_columns"] == ["x"]
    col = {c["name"]: c for c in d["columns"]}
    names = {m["name"] for m in col["x"]["metrics"]}
    assert names == {"ks", "psi", "js", "null_rate_delta"}
    assert {m["name"] for m in col["k"]["metrics"]} == {"linf", "js", "null_rate_delta"}
    for m in col["x"]["metrics"]:
        assert set(m) == {"name", "value", "threshold", "drifted", "gated"}
    assert set(METRICS) == {"psi", "ks", "js", "linf", "null_rate_delta"}
    assert d["row_count"] == {"baseline": 20_000, "current": 20_000, "change": 0, "relative_change": 0.0,
                              "threshold": None, "drifted": False}


# -- schema and rows -----------------------------------------------------------


def test_schema_changes() -> None:
    a = profile_table(pa.table({"keep": [1.0, 2.0], "gone": [1, 2], "re": [1, 2], "blob": [b"x", b"y"]}))
    b = profile_table(pa.table({"keep": [1.0, 2.0], "new": ["a", "b"], "re": [1.0, 2.0], "blob": [b"x", b"z"]}))
    r = compare(a, b)
    assert r.added == ["new"] and r.removed == ["gone"] and r.retyped == ["re"]
    assert r.schema_drifted and r.drifted
    assert r.column("re").status == "retyped" and r.column("blob").status == "skipped"
    assert not compare(a, b, Thresholds(schema=False)).drifted


def test_row_count_threshold() -> None:
    a = profile_table(pa.table({"x": np.arange(100.0)}))
    b = profile_table(pa.table({"x": np.arange(40.0) * 2.5}))
    assert not compare(a, b).row_count_drifted
    assert compare(a, b, Thresholds(row_count=0.5)).row_count_drifted


# -- bad input -----------------------------------------------------------------


def test_empty_all_null_constant_nan_inf_never_crash() -> None:
    empty = profile_table(pa.table({"x": pa.array([], pa.float64()), "k": pa.array([], pa.string())}))
    nulls = profile_table(pa.table({"x": pa.array([None] * 50, pa.float64()), "k": pa.array([None] * 50, pa.string())}))
    const = profile_table(pa.table({"x": np.full(50, 3.0), "k": ["a"] * 50}))
    const2 = profile_table(pa.table({"x": np.full(50, 4.0), "k": ["b"] * 50}))
    weird = profile_table(pa.table({"x": np.array([np.nan, np.inf, -np.inf, 1.0] * 20), "k": ["a"] * 80}))
    infs = profile_table(pa.table({"x": np.full(30, np.inf), "k": ["a"] * 30}))
    profiles = [empty, nulls, const, const2, weird, infs]
    for a in profiles:
        for b in profiles:
            r = compare(a, b)
            _strict_json(r.to_json())
    assert not compare(empty, empty).drifted
    assert not compare(const, const).drifted
    r = compare(const, const2)
    assert r.column("x").metric("ks").value == 1.0 and r.drifted_columns == ["x", "k"]
    r = compare(const, nulls)
    assert r.column("x").metric("null_rate_delta").value == 1.0
    assert r.column("x").metric("ks").value is None and not r.column("x").metric("ks").drifted
    r = compare(const, infs)
    assert r.column("x").metric("ks").value == 1.0


def test_tiny_tables_do_not_raise_false_alarms() -> None:
    alarms = 0
    for seed in range(50):
        rng = np.random.default_rng(seed)
        alarms += compare(profile_table(_table(rng, 200)), profile_table(_table(rng, 200))).drifted
    assert alarms == 0


# -- thresholds ----------------------------------------------------------------


def test_load_thresholds(tmp_path) -> None:
    assert load_thresholds(tmp_path / "missing.toml") == Thresholds()
    f = tmp_path / "dvx.toml"
    f.write_text('[drift]\npsi = 0.3\nks = 0.05\nrow_count = 0.2\ngate = ["psi", "ks"]\n'
                 '[drift.columns.x]\nks = 0.5\n[drift.columns.k]\ngate = []\n')
    t = load_thresholds(f)
    assert t.default.psi == 0.3 and t.default.ks == 0.05 and t.row_count == 0.2
    assert t.for_column("x").ks == 0.5 and t.for_column("x").psi == 0.3  # inherits the defaults
    assert t.for_column("k").gate == frozenset()
    assert t.for_column("other") == t.default
    rng = np.random.default_rng(8)
    a = profile_table(_table(rng, 20_000))
    b = profile_table(_table(rng, 20_000, shift=0.3, share_a=0.3))
    r = compare(a, b, t)
    ks = r.column("x").metric("ks")
    assert ks.threshold == 0.5 and not ks.drifted
    linf = r.column("k").metric("linf")
    assert linf.drifted and not linf.gated and "k" not in r.drifted_columns
    assert MetricThresholds().psi == 0.2 and MetricThresholds().js == 0.1


@pytest.mark.parametrize("text", ['[drift]\npsi = "high"\n', "[drift]\nbogus = 1\n", "[drift]\nalpha = 2\n",
                                  '[drift]\ngate = ["nope"]\n', "[drift\n", "[drift]\npsi = -1\n",
                                  "[drift]\ncolumns = 3\n"])
def test_bad_thresholds_name_the_file(tmp_path, text: str) -> None:
    f = tmp_path / "dvx.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_thresholds(f)
    assert "dvx.toml" in str(e.value) and e.value.exit_code == 2


# -- stored profiles (their speed is measured by bench/bench_drift.py) -------------


def test_drift_from_stored_profiles_of_equal_data_is_none() -> None:
    rng = np.random.default_rng(4)
    n = 30_000
    cols = {f"f{i}": rng.normal(i, 1, n) for i in range(14)}
    cols.update({f"s{i}": pa.array(CATS[rng.integers(0, 10, n)]) for i in range(6)})
    a = profile_table(pa.table(cols)).to_bytes()
    b = profile_table(pa.table(cols)).to_bytes()
    r = compare(Profile.from_bytes(a), Profile.from_bytes(b))
    assert not r.drifted and len(r.columns) == 20 and not r.drifted_columns
