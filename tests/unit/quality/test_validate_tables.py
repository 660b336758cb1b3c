"""open_batches over every format, directories as one dataset, and unreadable data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dvx.errors import DataFormatError, UsageError
from dvx.quality.tables import is_tabular, open_batches, read_schema, table_format


@pytest.mark.parametrize("ext", ["parquet", "csv", "jsonl", "arrow", "feather"])
def test_every_format_streams_the_same_rows(tmp_path: Path, qt: Any, ext: str) -> None:
    t = qt.demo_table(300).select(["id", "label", "x"])
    p = qt.write_table(tmp_path / f"d.{ext}", t, row_group_size=64)
    assert is_tabular(p)
    schema, batches = open_batches(p, columns=["x", "id"], batch_size=64)
    assert schema.names == ["x", "id"]
    got = pa.Table.from_batches(list(batches), schema=schema)
    assert got.num_rows == 300
    assert got.column("id").to_pylist() == list(range(300))
    assert got.column("x").to_pylist() == pytest.approx(t.column("x").to_pylist())


def test_parquet_batches_are_bounded(tmp_path: Path, qt: Any) -> None:
    p = qt.write_table(tmp_path / "d.parquet", qt.demo_table(1000), row_group_size=250)
    _, batches = open_batches(p, batch_size=100)
    sizes = [b.num_rows for b in batches]
    assert max(sizes) <= 100 and sum(sizes) == 1000


def test_directory_is_one_dataset(tmp_path: Path, qt: Any) -> None:
    t = qt.demo_table(100)
    qt.write_table(tmp_path / "ds" / "part-0.parquet", t.slice(0, 40))
    qt.write_table(tmp_path / "ds" / "sub" / "part-1.parquet", t.slice(40))
    (tmp_path / "ds" / "_SUCCESS").write_text("")
    (tmp_path / "ds" / ".hidden.parquet").write_bytes(b"junk")
    assert is_tabular(tmp_path / "ds")
    schema, batches = open_batches(tmp_path / "ds", columns=["id"])
    ids = sorted(v for b in batches for v in b.column(0).to_pylist())
    assert ids == list(range(100))


def test_mixed_directory_is_an_error(tmp_path: Path, qt: Any) -> None:
    t = qt.demo_table(10)
    qt.write_table(tmp_path / "m" / "a.parquet", t)
    qt.write_table(tmp_path / "m" / "b.csv", t)
    assert not is_tabular(tmp_path / "m")
    with pytest.raises(DataFormatError, match="mixes"):
        open_batches(tmp_path / "m")


def test_non_tabular_paths(tmp_path: Path) -> None:
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    assert not is_tabular(tmp_path / "img.png")
    assert table_format("a.csv.gz") == "csv" and table_format("a.parquet.gz") is None
    with pytest.raises(DataFormatError, match="not a tabular file"):
        open_batches(tmp_path / "img.png")
    with pytest.raises(UsageError, match="no such file"):
        open_batches(tmp_path / "absent.parquet")


def test_corrupt_parquet_names_the_file(tmp_path: Path, qt: Any) -> None:
    p = qt.write_table(tmp_path / "c.parquet", qt.demo_table(50))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2] + data[-8:])  # footer kept, body cut
    with pytest.raises(DataFormatError) as ei:
        _, batches = open_batches(p)
        list(batches)
    assert str(p) in ei.value.message and ei.value.exit_code == 1
    p.write_bytes(b"PAR1 definitely not parquet")
    with pytest.raises(DataFormatError, match="cannot read as a table"):
        open_batches(p)


def test_ragged_csv_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("id,label\n1,cat\n2,dog\n3\n4,bird\n")
    with pytest.raises(DataFormatError) as ei:
        _, batches = open_batches(p)
        list(batches)
    assert ei.value.message.startswith(f"{p}:4: ")
    assert "Expected 2 columns" in ei.value.message and ei.value.line == 4


def test_missing_requested_column(tmp_path: Path, qt: Any) -> None:
    p = qt.write_table(tmp_path / "d.parquet", qt.demo_table(5))
    with pytest.raises(DataFormatError, match="no column 'zz'"):
        open_batches(p, columns=["id", "zz"])


def test_read_schema_without_rows(tmp_path: Path) -> None:
    p = tmp_path / "e.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.int32())}), p)
    assert read_schema(p).field("a").type == pa.int32()


def test_dictionary_reading_gives_the_same_results(tmp_path: Path) -> None:
    import numpy as np

    from dvx.quality import arrow as engine_arrow
    from dvx.quality.suite import suite_from_expectations
    from dvx.quality.tables import dictionary_columns

    rng = np.random.default_rng(5)
    n = 5000
    low = np.array(["red", "green", "blue", "cyan"])[rng.integers(0, 4, n)].tolist()
    low[17] = None
    low[4000] = "mauve"
    high = [f"{v:016x}" for v in rng.integers(0, 2**62, n)]
    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"low": low, "high": high}), p, row_group_size=1000)
    assert dictionary_columns(p, ["low", "high"]) == ["low"]  # random hex falls back to plain pages
    cases = [
        ("expect_column_values_to_be_in_set", {"column": "low", "value_set": ["red", "green", "blue", "cyan"]}),
        ("expect_column_values_to_not_be_in_set", {"column": "low", "value_set": ["mauve"]}),
        ("expect_column_values_to_match_regex", {"column": "low", "regex": "^[a-z]+n$"}),
        ("expect_column_proportion_of_unique_values_to_be_between", {"column": "low", "max_value": 0.5}),
        ("expect_column_unique_value_count_to_be_between", {"column": "low", "min_value": 5}),
        ("expect_column_distinct_values_to_be_in_set", {"column": "low", "value_set": ["red", "blue"]}),
        ("expect_column_values_to_be_unique", {"column": "low"}),
        ("expect_compound_columns_to_be_unique", {"column_list": ["low", "high"]}),
        ("expect_column_values_to_not_be_null", {"column": "low"}),
        ("expect_column_values_to_be_of_type", {"column": "low", "type_": "str"}),
    ]
    suite = suite_from_expectations("d", cases)
    schema = pq.read_schema(p)

    def results(dictionary: list[str] | None) -> list[Any]:
        evals = [engine_arrow.plan(e, schema) for e in suite.expectations]
        _, batches = open_batches(p, columns=["low", "high"], batch_size=300, dictionary=dictionary)
        return engine_arrow.run(evals, batches)

    plain, encoded = results(None), results(["low"])
    assert plain == encoded
    assert plain[0][1]["unexpected_count"] == 1 and plain[0][1]["partial_unexpected_list"] == ["mauve"]
    assert plain[4][1]["observed_value"] == 5
