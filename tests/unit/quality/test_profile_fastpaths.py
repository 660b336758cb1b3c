"""The profile's fast paths give the same sketches as the plain algorithms:
equal-length string hashing, the HLL register update, the singleton filter
before Misra-Gries counting, and dictionary counts summed across batches."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dvx.quality.profile import TOPK_CAP, profile_path, profile_table
from dvx.quality.sketches import (
    HLL_P,
    DistinctSketch,
    FrequentItems,
    hash32,
    hash_strings,
)


def _offsets_data(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    return offsets, np.frombuffer(arr.buffers()[2], dtype=np.uint8)


def test_equal_length_hash_matches_general_path() -> None:
    rng = np.random.default_rng(1)
    tokens = [bytes(rng.integers(97, 123, 16, dtype=np.uint8)).decode() for _ in range(500)]
    # the same strings hashed alone (all 16 bytes: fast path) and among
    # strings of other lengths (segmented sum) must hash alike
    fast = hash_strings(*_offsets_data(pa.array(tokens)))
    mixed = hash_strings(*_offsets_data(pa.array(tokens + ["x", "", "longer string"])))
    assert np.array_equal(fast, mixed[:500])
    assert len(np.unique(fast)) == 500


def test_hll_update_matches_per_hash_maximum() -> None:
    rng = np.random.default_rng(2)
    cases = [hash32(rng.integers(-(2**62), 2**62, n)) for n in (1, 7, 5000, 300_000)]
    # hashes at the register bounds, 2**32 - 1 (also the empty marker) included
    cases += [np.array([0xFFFFFFFF], np.uint32), np.array([0xFFF00000, 0xFFFFFFFF, 0], np.uint32)]
    for h in cases:
        n = len(h)
        sk = DistinctSketch()
        sk.update_hashes(h)
        # reference: rank of every hash, then a register-wise maximum
        w = h & np.uint32((1 << (32 - HLL_P)) - 1)
        rank = np.where(w > 0, (32 - HLL_P) - np.floor(np.log2(np.maximum(w, 1))).astype(int),
                        33 - HLL_P).astype(np.uint8)
        ref = np.zeros(1 << HLL_P, np.uint8)
        np.maximum.at(ref, (h >> np.uint32(32 - HLL_P)).astype(np.intp), rank)
        assert np.array_equal(sk.registers, ref), n


def _reference_top(arr: pa.Array, chunk: int) -> FrequentItems:
    fi = FrequentItems(TOPK_CAP)
    for start in range(0, len(arr), chunk):
        vc = pc.value_counts(arr.slice(start, chunk))
        fi.update_counts(vc.field("values"), vc.field("counts").to_numpy().astype(np.int64))
    return fi


def test_singleton_filter_gives_the_same_misra_gries_summary() -> None:
    rng = np.random.default_rng(3)
    n = 300_000
    frequent = np.array([f"hot-{i}" for i in range(50)])
    tokens = np.array([f"{x:016x}" for x in rng.integers(0, 2**63, n)])
    hot = rng.random(n) < 0.2
    tokens[hot] = frequent[rng.integers(0, 50, int(hot.sum()))]
    arr = pa.array(tokens)
    prof = profile_table(pa.table({"t": arr}), batch_size=n)
    col = prof.columns["t"]
    ref = _reference_top(arr, 131072)
    assert col.top is not None and not col.top.exact
    assert col.top.as_dict() == ref.as_dict()
    assert set(list(col.top.as_dict())[:50]) == set(frequent.tolist())
    assert col.min == min(tokens.tolist()) and col.max == max(tokens.tolist())
    assert abs(col.distinct_count - len(set(tokens.tolist()))) / len(set(tokens.tolist())) < 0.05


def test_few_distinct_strings_stay_exact() -> None:
    rng = np.random.default_rng(4)
    vals = np.array([f"v{i}" for i in range(TOPK_CAP)])
    arr = pa.array(vals[rng.integers(0, TOPK_CAP, 50_000)], mask=rng.random(50_000) < 0.1)
    col = profile_table(pa.table({"s": arr}), batch_size=20_000).columns["s"]
    vc = pc.value_counts(pc.drop_null(arr))
    expect = dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))
    assert col.top is not None and col.top.exact
    assert col.top.as_dict() == expect
    assert col.null_count == arr.null_count


def test_dictionary_counts_summed_across_batches(tmp_path) -> None:
    rng = np.random.default_rng(5)
    n = 400_000
    cities = np.array([f"city-{i:04d}" for i in range(3000)])
    arr = pa.array(cities[rng.integers(0, 3000, n)])
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"c": arr}), path, row_group_size=200_000)
    col = profile_path(path).columns["c"]
    # 3000 distinct values > cap: a Misra-Gries summary, but the per-row-group
    # dictionary counts must equal the true counts less at most rows / 1001
    assert col.top is not None and not col.top.exact
    vc = pc.value_counts(arr)
    truth = dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))
    for v, cnt in col.top.as_dict().items():
        assert truth[v] - n / (TOPK_CAP + 1) <= cnt <= truth[v]
    assert col.min == "city-0000" and col.max == "city-2999"
    assert abs(col.distinct_count - 3000) < 3000 * 0.05
