"""Shared fixtures for dvx.quality tests: small real datasets written to tmp_path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest


def demo_table(n: int = 200, seed: int = 7) -> pa.Table:
    """The demo dataset's shape: id unique, label in {cat,dog,bird}, x in [-10,10], y nullable, ts."""
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = np.array(["cat", "dog", "bird"])[rng.integers(0, 3, n)]
    y = rng.normal(0, 1, n)
    y_mask = rng.random(n) < 0.1
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "label": pa.array(labels.tolist(), pa.string()),
        "x": pa.array(rng.uniform(-10, 10, n)),
        "y": pa.array(y, mask=y_mask),
        "ts": pa.array(np.datetime64("2026-01-01", "us") + np.arange(n).astype("timedelta64[m]")),
    })


def write_table(path: Path, table: pa.Table, row_group_size: int | None = None) -> Path:
    """Write ``table`` in the format named by ``path``'s extension."""
    import pyarrow.csv as pcsv
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    ext = path.suffix.lower()
    if ext == ".parquet":
        pq.write_table(table, path, row_group_size=row_group_size)
    elif ext == ".csv":
        pcsv.write_csv(table, path)
    elif ext in (".arrow", ".feather"):
        feather.write_feather(table, path, chunksize=row_group_size)
    elif ext == ".jsonl":
        rows = table.to_pylist()
        path.write_text("\n".join(json.dumps(r, default=str) for r in rows) + ("\n" if rows else ""))
    else:
        raise ValueError(ext)
    return path


@pytest.fixture
def demo() -> pa.Table:
    return demo_table()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, table, row_group_size=None) -> path under tmp_path."""

    def _w(name: str, table: pa.Table, row_group_size: int | None = None) -> Path:
        return write_table(tmp_path / name, table, row_group_size)

    return _w


class TableHelpers:
    """Plain helpers for tests that need them outside tmp_path-bound fixtures."""

    demo_table = staticmethod(demo_table)
    write_table = staticmethod(write_table)


@pytest.fixture(scope="session")
def qt() -> type[TableHelpers]:
    return TableHelpers
