"""Helpers of the cluster tests (import as ``from clusterkit import ...``; never from conftest)."""

from __future__ import annotations

import io
from typing import Any

MANY = 40  # files of data/many: a job long enough to lose a worker in the middle of it


def parquet_bytes(seed: int, nrows: int, row_group_size: int, shift: float = 0.0) -> bytes:
    """A Parquet file of several row groups: ids, a float with a few out-of-range values, a category, nulls."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(nrows) + shift
    x[rng.integers(0, nrows, 3)] = 50.0  # outside the suite's bounds: unexpected values in several partitions
    kind = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, nrows)]
    label = pa.array([None if i % 97 == 0 else f"l{i % 13}" for i in range(nrows)])
    t = pa.table({"id": np.arange(nrows, dtype="int64") + seed * 100_000, "x": x, "kind": kind, "label": label})
    buf = io.BytesIO()
    pq.write_table(t, buf, compression="none", row_group_size=row_group_size)
    return buf.getvalue()


def held_results(client: Any, prefix: str = "dvx-profile-") -> dict[str, int]:
    """Worker name -> how many task results whose key starts with ``prefix`` it holds in memory."""
    names = {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
    return {str(names.get(a, a)): sum(str(k).startswith(prefix) for k in keys) for a, keys in client.has_what().items()}
