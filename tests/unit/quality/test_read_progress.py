"""Progress of table reads (issue 13, item 6): validation and profiling report the bytes
they read to an observer (the CLI's progress line); with none, nothing is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dvx.quality.profile import profile_path
from dvx.quality.progress import observing
from dvx.quality.suite import suite_from_expectations
from dvx.quality.validate import validate_dataset


def test_validation_and_profiling_report_the_bytes_they_read(tmp_path: Path) -> None:
    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": np.arange(300_000, dtype="float64")}), data, row_group_size=50_000)
    seen: list[tuple[str, int]] = []
    suite = suite_from_expectations("s", [("expect_column_values_to_be_between", {"column": "x", "min_value": 0})])
    with observing(lambda kind, n: seen.append((kind, n))):
        assert validate_dataset(data, [suite]).success
    assert {k for k, _ in seen} == {"bytes"} and sum(n for _, n in seen) >= 300_000 * 8
    seen.clear()
    with observing(lambda kind, n: seen.append((kind, n))):
        profile_path(data)
    assert sum(n for _, n in seen) >= 300_000 * 8
    seen.clear()
    validate_dataset(data, [suite])  # no observer: nothing reported
    assert seen == []
