"""Profiles: exact counts are exact, sketches within their bounds, merge ==
profile of the concatenation, deterministic canonical bytes, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dvx.quality.profile import (
    CATEGORICAL,
    NULL,
    NUMERIC,
    Profile,
    profile_batches,
    profile_path,
    profile_table,
)


def _mixed(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    f = rng.normal(5, 2, n)
    f[rng.random(n) < 0.03] = np.nan
    f[:2] = [np.inf, -np.inf] if n >= 2 else f[:2]
    cats = np.array(["a", "b", "c", "d"])
    return pa.table({
        "f": pa.array(f, mask=rng.random(n) < 0.05),
        "i": pa.array(rng.integers(-50, 50, n), mask=rng.random(n) < 0.1),
        "s": pa.array(cats[rng.integers(0, 4, n)]),
        "b": pa.array(rng.random(n) < 0.25),
        "d": pa.array(cats[rng.integers(0, 2, n)]).dictionary_encode(),
        "ts": pa.array(np.datetime64("2026-01-01", "us") + rng.integers(0, 10**9, n).astype("timedelta64[us]")),
    })


def test_exact_counts_match_numpy() -> None:
    t = _mixed(50_000)
    p = profile_table(t, batch_size=7_000)
    assert p.row_count == 50_000
    f = p.columns["f"]
    raw = t.column("f").to_numpy(zero_copy_only=False)
    valid = t.column("f").is_valid().to_numpy(zero_copy_only=False)
    vals = raw[valid]
    assert f.kind == NUMERIC and f.type == "double"
    assert f.null_count == t.column("f").null_count
    assert f.nan_count == int(np.isnan(vals).sum())
    assert f.posinf_count == int((vals == np.inf).sum())
    assert f.neginf_count == int((vals == -np.inf).sum())
    fin = vals[np.isfinite(vals)]
    assert f.finite_count == len(fin)
    assert f.min == fin.min() and f.max == fin.max()
    assert f.mean == pytest.approx(fin.mean(), rel=1e-12)
    assert f.variance == pytest.approx(fin.var(), rel=1e-9)
    assert f.missing_rate == pytest.approx((f.null_count + f.nan_count) / 50_000)
    s = p.columns["s"]
    assert s.kind == CATEGORICAL and s.top is not None and s.top.exact
    counts = dict(zip(*np.unique(t.column("s").to_numpy(zero_copy_only=False), return_counts=True), strict=True))
    assert s.top.as_dict() == {k: int(v) for k, v in counts.items()}
    assert s.distinct_count == 4 and s.min == "a" and s.max == "d"
    b = p.columns["b"]
    assert b.type == "bool" and b.top is not None
    assert b.top.as_dict()["true"] == int(t.column("b").to_numpy(zero_copy_only=False).sum())
    d = p.columns["d"]
    assert d.type == "string" and d.top is not None and sum(d.top.as_dict().values()) == 50_000
    ts = p.columns["ts"]
    assert ts.kind == NUMERIC and ts.type == "timestamp[us]"
    assert ts.min == float(t.column("ts").cast(pa.int64()).to_numpy().min())
    i = p.columns["i"]
    assert i.distinct_count == pytest.approx(100, abs=3)  # HLL linear counting


def test_quantiles_within_rank_error() -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(0, 1, 1_500_000)
    p = profile_table(pa.table({"x": x}))
    sk = p.columns["x"].quantiles
    assert sk is not None and not sk.exact
    xs = np.sort(x)
    grid = xs[:: len(xs) // 3000]
    true = np.searchsorted(xs, grid, side="right") / len(xs)
    assert np.max(np.abs(sk.cdf(grid) - true)) <= sk.rank_error
    assert p.columns["x"].quantile(0.5) == pytest.approx(np.median(x), rel=0.02)
    assert sk.retained < 4000  # bounded memory


def test_small_column_quantiles_are_exact() -> None:
    x = np.array([3.0, 1.0, 2.0, 2.0, 10.0])
    sk = profile_table(pa.table({"x": x})).columns["x"].quantiles
    assert sk is not None and sk.exact and sk.rank_error == 0
    assert sk.cdf(np.array([0.5, 1.0, 2.0, 9.0, 10.0])).tolist() == [0.0, 0.2, 0.6, 0.8, 1.0]


def test_merge_equals_profile_of_concatenation() -> None:
    t = _mixed(120_000, seed=5)
    whole = profile_table(t)
    merged = profile_table(t.slice(0, 30_000)).merge(profile_table(t.slice(30_000, 50_000))).merge(
        profile_table(t.slice(80_000)))
    assert merged.row_count == whole.row_count
    for name, w in whole.columns.items():
        m = merged.columns[name]
        for attr in ("count", "null_count", "nan_count", "posinf_count", "neginf_count", "finite_count",
                     "min", "max"):
            assert getattr(m, attr) == getattr(w, attr), (name, attr)
        if w.mean is not None:
            assert m.mean == pytest.approx(w.mean, rel=1e-9, abs=1e-9)
            assert m.m2 == pytest.approx(w.m2, rel=1e-9)
        if w.top is not None:
            assert m.top is not None and m.top.as_dict() == w.top.as_dict()
        if w.quantiles is not None:
            assert m.quantiles is not None and w.quantiles is not None
            grid = np.linspace(w.min, w.max, 200)
            tol = m.quantiles.rank_error + w.quantiles.rank_error
            assert np.max(np.abs(m.quantiles.cdf(grid) - w.quantiles.cdf(grid))) <= tol
        if w.distinct is not None:
            assert m.distinct is not None
            assert m.distinct.estimate() == pytest.approx(w.distinct.estimate(), rel=1e-12)


def test_serialisation_is_canonical_and_round_trips() -> None:
    t = _mixed(300_000, seed=1)
    a, b = profile_table(t), profile_table(t)
    assert a.to_bytes() == b.to_bytes() and a.oid == b.oid and len(a.oid) == 32
    back = Profile.from_bytes(a.to_bytes())
    assert back.to_bytes() == a.to_bytes()
    assert back.columns["f"].quantiles is not None
    grid = np.linspace(0, 10, 50)
    assert np.array_equal(back.columns["f"].quantiles.cdf(grid), a.columns["f"].quantiles.cdf(grid))
    doc = json.loads(a.to_bytes())
    assert doc["format"] == "dvx-profile" and doc["version"] == 1
    # merged after a round trip is still deterministic
    assert back.merge(back).oid == a.merge(a).oid


@pytest.mark.parametrize("data", [b"", b"{}", b"not json", b'{"format":"dvx-profile","version":99}',
                                  b'{"format":"dvx-profile","version":1}'])
def test_from_bytes_rejects_garbage(data: bytes) -> None:
    with pytest.raises(ValueError):
        Profile.from_bytes(data)


def test_nested_and_binary_columns_are_skipped() -> None:
    t = pa.table({
        "x": [1.0, 2.0, 3.0],
        "blob": pa.array([b"a", b"b", None]),
        "lst": pa.array([[1], [2, 3], None]),
        "st": pa.array([{"a": 1}, {"a": 2}, None]),
        "fsb": pa.array([b"ab", b"cd", b"ef"], pa.binary(2)),
    })
    p = profile_table(t)
    assert list(p.columns) == ["x"]
    assert set(p.skipped) == {"blob", "lst", "st", "fsb"}
    assert "binary" in p.skipped["blob"].reason and "nested" in p.skipped["lst"].reason
    Profile.from_bytes(p.to_bytes())


def test_empty_all_null_and_constant_columns() -> None:
    empty = profile_table(pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())}))
    assert empty.row_count == 0 and empty.columns["x"].mean is None and empty.columns["x"].missing_rate is None
    assert empty.columns["x"].quantile(0.5) is None
    t = pa.table({"n": pa.nulls(10), "nf": pa.array([None] * 10, pa.float64()),
                  "c": np.full(10, 7.0), "nan": np.full(10, np.nan), "inf": np.full(10, np.inf)})
    p = profile_table(t)
    assert p.columns["n"].kind == NULL and p.columns["n"].null_count == 10
    assert p.columns["nf"].null_count == 10 and p.columns["nf"].mean is None
    c = p.columns["c"]
    assert c.min == c.max == 7.0 and c.variance == 0.0 and c.quantile(0.3) == 7.0
    assert p.columns["nan"].nan_count == 10 and p.columns["nan"].finite_count == 0
    assert p.columns["inf"].posinf_count == 10 and p.columns["inf"].max is None
    raw = p.to_bytes()
    assert b"NaN" not in raw and b"Infinity" not in raw
    json.loads(raw)  # strict JSON


def test_merge_with_missing_column_and_null_part() -> None:
    a = profile_table(pa.table({"x": [1.0, 2.0], "s": ["u", "v"]}))
    b = profile_table(pa.table({"x": pa.nulls(3), "t": [1, 2, 3]}))
    m = a.merge(b)
    assert m.row_count == 5
    assert m.columns["x"].null_count == 3 and m.columns["x"].kind == NUMERIC
    assert m.columns["s"].null_count == 3 and m.columns["t"].null_count == 2
    c = profile_table(pa.table({"x": ["a", "b"]}))
    assert "x" in a.merge(c).skipped


def test_many_distinct_strings_switch_to_misra_gries() -> None:
    rng = np.random.default_rng(2)
    n = 200_000
    ids = np.char.add("id", rng.integers(0, 50_000, n).astype(str))
    ids[: n // 5] = "hot"  # one heavy hitter: 20 %
    p = profile_table(pa.table({"s": ids}), batch_size=20_000)
    top = p.columns["s"].top
    assert top is not None and not top.exact and len(top.counts) <= 1000
    hot = top.as_dict()["hot"]
    assert n // 5 - n / 1001 <= hot <= n // 5
    assert p.columns["s"].distinct_count == pytest.approx(len(np.unique(ids)), rel=0.05)


def test_profile_path_file_and_directory(tmp_path) -> None:
    t = _mixed(30_000, seed=9)
    f = tmp_path / "one.parquet"
    pq.write_table(t, f, row_group_size=4_000)
    d = tmp_path / "dir"
    d.mkdir()
    pq.write_table(t.slice(0, 10_000), d / "a.parquet")
    pq.write_table(t.slice(10_000), d / "b.parquet")
    pf, pd = profile_path(f), profile_path(d)
    assert pf.row_count == pd.row_count == 30_000
    assert pf.columns["s"].top is not None and pd.columns["s"].top is not None
    assert pf.columns["s"].top.as_dict() == pd.columns["s"].top.as_dict()
    assert pf.columns["f"].mean == pytest.approx(pd.columns["f"].mean)
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,x\n2,y\n,z\n")
    pc_ = profile_path(csv)
    assert pc_.columns["a"].null_count == 1 and pc_.columns["b"].distinct_count == 3


def test_profile_batches_accepts_an_iterator() -> None:
    t = _mixed(1000)
    p = profile_batches(t.schema, iter(t.to_batches(max_chunksize=100)))
    assert p.row_count == 1000 and math.isfinite(p.columns["f"].mean or math.nan)
