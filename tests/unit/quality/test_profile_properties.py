"""Property tests: profiles merge like concatenation, bytes round-trip, and
the sketches keep their error bounds on arbitrary input."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.quality.drift import compare
from dvx.quality.profile import Profile, profile_table
from dvx.quality.sketches import QuantileSketch, hash_strings

floats = (st.floats(min_value=-1e12, max_value=1e12) | st.sampled_from([math.nan, math.inf, -math.inf, -0.0])
          | st.none())
texts = st.text(alphabet="abcxyzé€ ", max_size=6) | st.none()


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 60))
    return pa.table({
        "f": pa.array(draw(st.lists(floats, min_size=n, max_size=n)), pa.float64()),
        "i": pa.array(draw(st.lists(st.integers(-5, 5) | st.none(), min_size=n, max_size=n)), pa.int64()),
        "s": pa.array(draw(st.lists(texts, min_size=n, max_size=n)), pa.string()),
        "b": pa.array(draw(st.lists(st.booleans() | st.none(), min_size=n, max_size=n)), pa.bool_()),
    })


@pytest.mark.property
@settings(max_examples=25, deadline=None)
@given(tables(), st.data())
def test_merge_of_any_split_matches_the_whole(t: pa.Table, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, t.num_rows))
    whole = profile_table(t, batch_size=16)
    merged = profile_table(t.slice(0, cut)).merge(profile_table(t.slice(cut)))
    assert merged.row_count == whole.row_count
    for name, w in whole.columns.items():
        m = merged.columns[name]
        assert (m.count, m.null_count, m.nan_count, m.posinf_count, m.neginf_count, m.finite_count) == \
               (w.count, w.null_count, w.nan_count, w.posinf_count, w.neginf_count, w.finite_count)
        assert m.min == w.min and m.max == w.max
        if w.mean is None:
            assert m.mean is None
        else:
            assert m.mean is not None and math.isclose(m.mean, w.mean, rel_tol=1e-9, abs_tol=1e-6)
        if w.top is not None:
            assert m.top is not None and m.top.as_dict() == w.top.as_dict()
        if w.quantiles is not None and w.quantiles.exact:
            assert m.quantiles is not None
            grid = np.array([-1e13, -1.0, 0.0, 1.0, 1e13])
            assert np.array_equal(m.quantiles.cdf(grid), w.quantiles.cdf(grid), equal_nan=True)
    raw = merged.to_bytes()
    assert Profile.from_bytes(raw).to_bytes() == raw
    compare(whole, merged).to_json()  # never raises, never NaN


@pytest.mark.property
@settings(max_examples=25, deadline=None)
@given(st.integers(1, 400_000), st.integers(0, 2**32 - 1), st.sampled_from([1, 1000, 65536]))
def test_quantile_sketch_rank_error_bound(n: int, seed: int, chunk: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_t(3, n)
    sk = QuantileSketch()
    for i in range(0, n, chunk):
        sk.update(x[i:i + chunk])
    xs = np.sort(x)
    grid = xs[:: max(1, n // 500)]
    true = np.searchsorted(xs, grid, side="right") / n
    assert np.max(np.abs(sk.cdf(grid) - true)) <= max(sk.rank_error, 1e-12)
    assert sk.n == n and sk.min == xs[0] and sk.max == xs[-1]


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=50))
def test_string_hash_depends_only_on_content(items: list[str]) -> None:
    arr = pa.array(items + items, pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], np.int64)[: len(arr) + 1]
    buf = arr.buffers()[2]
    data = np.frombuffer(buf, np.uint8) if buf is not None else np.empty(0, np.uint8)
    h = hash_strings(offsets, data)
    assert len(h) == 2 * len(items)
    assert np.array_equal(h[: len(items)], h[len(items):])
    distinct = {s: v for s, v in zip(items, h[: len(items)].tolist(), strict=True)}
    assert len(set(distinct.values())) == len(distinct)  # no collision among a few strings
