"""Profiles are content-addressed: the encoded bytes of a fixed table's profile
never change unless the profile format version does. These pins catch any
refactor that alters a count, a sketch's retained items or the JSON layout.

The pinned ids were taken from the code before issue 11 split profile.py,
sketches.py and drift.py; a drift report is pinned too (not stored by id, but
the same refactor must not move a metric)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dvx.hashing import hash_hex
from dvx.quality.drift import compare
from dvx.quality.profile import Profile, profile_path, profile_table

ROWS = 300_000  # above 128 k values: the KLL's chunked compaction runs too


def _table(seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    f = rng.normal(5 + shift, 2, ROWS)
    f[rng.random(ROWS) < 0.02] = np.nan
    f[:3] = [np.inf, -np.inf, -0.0]
    tokens = rng.integers(97, 123, (ROWS, 12), dtype=np.uint8).view("S12").ravel().astype(str)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    return pa.table({
        "f": pa.array(f, mask=rng.random(ROWS) < 0.05),
        "i": pa.array(rng.integers(-1000, 1000, ROWS), mask=rng.random(ROWS) < 0.1),
        "u8": pa.array(rng.integers(0, 255, ROWS).astype(np.uint8)),
        "tok": pa.array(tokens),  # > 1000 distinct: Misra-Gries top-k
        "w": pa.array(words[rng.integers(0, 5, ROWS)], mask=rng.random(ROWS) < 0.01),
        "d": pa.array(words[rng.integers(0, 3, ROWS)]).dictionary_encode(),
        "b": pa.array(rng.random(ROWS) < 0.3, mask=rng.random(ROWS) < 0.02),
        "ts": pa.array(np.datetime64("2026-01-01", "us") + rng.integers(0, 10**10, ROWS).astype("timedelta64[us]")),
        "n": pa.nulls(ROWS),
        "bin": pa.array([b"x"] * ROWS, pa.binary()),  # skipped
    })


def _pin(p: Profile) -> tuple[str, int]:
    raw = p.to_bytes()
    assert Profile.from_bytes(raw).to_bytes() == raw
    return p.oid, len(raw)


def test_profile_bytes_of_a_fixed_table_are_pinned() -> None:
    p = profile_table(_table(11))
    assert _pin(p) == PINNED["table"]


def test_merged_profile_bytes_are_pinned() -> None:
    t = _table(11)
    half = ROWS // 2
    merged = profile_table(t.slice(0, half), batch_size=50_000).merge(profile_table(t.slice(half)))
    assert _pin(merged) == PINNED["merged"]


def test_parquet_file_profile_bytes_are_pinned(tmp_path: Path) -> None:
    # Parquet gives low-cardinality strings as dictionary arrays: the bincount path
    pq.write_table(_table(11), tmp_path / "t.parquet", row_group_size=100_000)
    assert _pin(profile_path(tmp_path / "t.parquet")) == PINNED["parquet"]


def test_drift_report_is_pinned() -> None:
    report = compare(profile_table(_table(11)), profile_table(_table(12, shift=0.05)))
    assert hash_hex(report.to_json().encode()) == PINNED["drift"]


PINNED: dict[str, object] = {
    "table": ("03d7e517104b357421e0fb0e1f10ada7", 103656),
    "merged": ("14c1e7ce85babfe77a16ee61eb37372c", 95489),
    "parquet": ("46c6a81a3192bc78a7902f1e91fd3432", 72196),
    "drift": "a6da0d0f3b073ef3f0a5e19f7e545901",
}
