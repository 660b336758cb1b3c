"""Partitions: the plan, partial profiles and validations that merge into the one-pass results."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from partkit import same_results, single_pass, write_parts

from dvx.errors import DataFormatError, UsageError
from dvx.quality import arrow
from dvx.quality import partitions as P
from dvx.quality.profile import profile_path
from dvx.quality.suite import Suite, suite_from_expectations
from dvx.quality.validate import run_suite

NAN = float("nan")


def _table(n: int = 40) -> pa.Table:
    """Duplicates, nulls, NaN and failures spread over every row so they cross partition cuts."""
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "dup": pa.array([i % 17 for i in range(n)], pa.int64()),
        "f": pa.array([None if i % 7 == 3 else NAN if i % 11 == 5 else (i * 1.75) - 20 for i in range(n)]),
        "s": pa.array([None if i % 9 == 4 else ["cat", "dog", "bird", "cow", ""][i % 5] for i in range(n)]),
        "b": pa.array([i % 3 == 0 for i in range(n)]),
        "n": pa.array([None if i % 4 == 1 else i for i in range(n)], pa.int64()),
    })


CASES: list[tuple[str, dict[str, Any]]] = [
    ("expect_column_to_exist", {"column": "id"}),
    ("expect_column_to_exist", {"column": "nope"}),
    ("expect_table_columns_to_match_ordered_list", {"column_list": ["id", "dup", "f", "s", "b", "n"]}),
    ("expect_table_columns_to_match_set", {"column_set": ["id", "s"], "exact_match": False}),
    ("expect_table_column_count_to_equal", {"value": 6}),
    ("expect_table_column_count_to_be_between", {"min_value": 1, "max_value": 5}),
    ("expect_table_row_count_to_be_between", {"min_value": 0, "max_value": 30}),
    ("expect_table_row_count_to_equal", {"value": 40}),
    ("expect_column_values_to_not_be_null", {"column": "f"}),
    ("expect_column_values_to_not_be_null", {"column": "n", "mostly": 0.7}),
    ("expect_column_values_to_be_null", {"column": "s"}),
    ("expect_column_values_to_be_between", {"column": "f", "min_value": -5, "max_value": 10}),
    ("expect_column_values_to_be_between", {"column": "n", "min_value": 3, "max_value": 30, "strict_min": True}),
    ("expect_column_values_to_be_between", {"column": "nope", "min_value": 0}),
    ("expect_column_values_to_be_in_set", {"column": "s", "value_set": ["cat", "dog"]}),
    ("expect_column_values_to_not_be_in_set", {"column": "dup", "value_set": [1, 2, 3]}),
    ("expect_column_distinct_values_to_be_in_set", {"column": "s", "value_set": ["cat", "dog"]}),
    ("expect_column_values_to_match_regex", {"column": "s", "regex": "^c"}),
    ("expect_column_values_to_not_match_regex", {"column": "s", "regex": "o"}),
    ("expect_column_values_to_be_unique", {"column": "id"}),
    ("expect_column_values_to_be_unique", {"column": "dup"}),
    ("expect_column_values_to_be_unique", {"column": "s", "mostly": 0.1}),
    ("expect_column_values_to_be_of_type", {"column": "n", "type_": "float64"}),
    ("expect_column_values_to_be_in_type_list", {"column": "s", "type_list": ["int", "float"]}),
    ("expect_column_min_to_be_between", {"column": "f", "min_value": -5}),
    ("expect_column_max_to_be_between", {"column": "dup", "max_value": 16}),
    ("expect_column_mean_to_be_between", {"column": "f", "min_value": 0, "max_value": 20}),
    ("expect_column_median_to_be_between", {"column": "n", "min_value": 7}),
    ("expect_column_stdev_to_be_between", {"column": "f", "min_value": 1}),
    ("expect_column_sum_to_be_between", {"column": "id", "min_value": 780, "max_value": 780}),
    ("expect_column_sum_to_be_between", {"column": "f", "max_value": 10}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "dup", "min_value": 0.9}),
    ("expect_column_unique_value_count_to_be_between", {"column": "s", "min_value": 5}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["dup", "b"]}),
]


def _partials(ref: Path, suite: Suite, target: int, batch: int = 3) -> tuple[Any, list[P.Partition],
                                                                           list[P.PartialValidation]]:
    sp = P.plan_suite(ref, suite)
    plan = P.plan_partitions(ref, target_bytes=target)
    parts = [pickle.loads(pickle.dumps(P.validate_partition(ref, p, suite, schema=sp.schema, batch_size=batch)))
             for p in plan]
    return sp, plan, parts


def test_plan_cuts_large_parquet_files_into_row_group_runs(tmp_path: Path) -> None:
    d = write_parts(tmp_path / "d", _table(), [13, 27], row_group_size=3)
    whole = P.plan_partitions(d)
    assert [(p.file, p.row_groups, p.rows) for p in whole] == [
        ("part-0.parquet", None, 13), ("part-1.parquet", None, 14), ("part-2.parquet", None, 13)]
    cut = P.plan_partitions(d, target_bytes=1)  # every row group alone
    assert [p.index for p in cut] == list(range(len(cut)))
    assert [p.row_groups for p in cut if p.file == "part-0.parquet"] == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert sum(p.rows or 0 for p in cut) == 40
    sizes = [b for b, _ in P._row_group_bytes(d / "part-1.parquet")]
    target = sizes[0] + sizes[1]
    runs = [p.row_groups for p in P.plan_partitions(d, target_bytes=target) if p.file == "part-1.parquet"]
    assert runs[0] == (0, 2) and runs[-1][1] == len(sizes)
    for (a, b), nxt in zip(runs, runs[1:], strict=False):  # consecutive runs, each as full as the target allows
        assert nxt[0] == b and sum(sizes[a:b]) <= target < sum(sizes[a:b + 1])
    assert P.plan_partitions(d, target_bytes=1) == cut  # from the data alone: the same every time
    one = P.plan_partitions(d / "part-0.parquet", target_bytes=1)
    assert {p.file for p in one} == {""} and len(one) == 5
    assert P.partition_ref(d, cut[-1]) == str(d / "part-2.parquet")
    assert P.partition_ref(d / "part-0.parquet", one[0]) == d / "part-0.parquet"


def test_plan_of_csv_files_and_bad_inputs(tmp_path: Path) -> None:
    import pyarrow.csv as pcsv

    d = tmp_path / "c"
    (d / "sub").mkdir(parents=True)
    pcsv.write_csv(_table().slice(0, 5), d / "b.csv")
    pcsv.write_csv(_table().slice(5, 5), d / "sub" / "a.csv")
    (d / "_SUCCESS").write_text("")
    assert P.plan_partitions(d, target_bytes=1) == [P.Partition(0, "b.csv", None, None),
                                                    P.Partition(1, "sub/a.csv", None, None)]
    with pytest.raises(UsageError, match="no such file"):
        P.plan_partitions(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="holds no Parquet"):
        P.plan_partitions(tmp_path / "empty")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataFormatError, match="bad.parquet"):
        P.plan_partitions(tmp_path / "bad.parquet")


def test_profile_is_the_merge_of_the_plan(tmp_path: Path) -> None:
    d = write_parts(tmp_path / "d", _table(), [13, 27], row_group_size=3)
    for target in (1, 600, 1 << 30):
        plan = P.plan_partitions(d, target_bytes=target)
        parts = [pickle.loads(pickle.dumps(P.profile_partition(d, p))) for p in plan]
        merged = P.merge_profiles(parts, plan)
        assert merged.to_bytes() == profile_path(d, target_bytes=target).to_bytes()
        assert merged.row_count == 40 and merged.columns["n"].null_count == 10
    # a file's profile is the same alone and inside its directory (dvx caches profiles per file)
    plan = P.plan_partitions(d, target_bytes=1)
    files = [P.merge_profiles([P.profile_partition(d, p) for p in plan if p.file == f])
             for f in ("part-0.parquet", "part-1.parquet", "part-2.parquet")]
    assert P.merge_profiles(files).to_bytes() == profile_path(d, target_bytes=1).to_bytes()
    assert files[0].to_bytes() == profile_path(d / "part-0.parquet", target_bytes=1).to_bytes()
    with pytest.raises(ValueError, match="no profiles"):
        P.merge_profiles([])
    parts = [P.profile_partition(d, p) for p in plan]
    with pytest.raises(ValueError, match="partitions"):
        P.merge_profiles(parts[:-1], plan)
    with pytest.raises(ValueError, match="partitions"):
        P.merge_profiles([*parts, parts[0]], plan)
    assert P.merge_profiles(iter(parts), plan).to_bytes() == P.merge_profiles(parts, plan).to_bytes()


def test_validation_partials_merge_into_the_single_pass(tmp_path: Path) -> None:
    tbl = _table()
    d = write_parts(tmp_path / "d", tbl, [13, 27], row_group_size=3)
    suite = suite_from_expectations("parts", CASES)
    assert {t for t, _ in CASES} == set(arrow.SUPPORTED)
    ref = single_pass(tbl, suite, batch=4)
    for target in (1, 600, 1 << 30):
        sp, plan, parts = _partials(d, suite, target)
        assert sp.partitionable and sp.evaluated and P.is_partitionable(suite, sp.schema)
        merged = P.merge_validation(suite, sp.schema, parts)
        bad = same_results(ref, merged.results, CASES)
        assert not bad, "\n".join(bad)
        # any order of arrival merges the same (partials are keyed by partition index)
        again = P.merge_validation(suite, sp.schema, list(reversed(parts)))
        assert [r.result for r in again.results] == [r.result for r in merged.results]
    ran = run_suite(d, suite, batch_size=3)  # the one-machine path: the default plan, merged
    sp, plan, parts = _partials(d, suite, P.DEFAULT_TARGET_BYTES)
    assert [r.result for r in ran.results] == [r.result for r in P.merge_validation(suite, sp.schema, parts).results]
    idx = ran.results[[t for t, _ in CASES].index("expect_column_values_to_be_between")].result
    f = tbl.column("f").to_pylist()
    bad = [i for i, v in enumerate(f) if v is not None and v == v and not -5 <= v <= 10]
    assert idx["unexpected_count"] == len(bad) and idx["partial_unexpected_index_list"] == bad[:20]
    assert bad[:20][-1] > 27  # row numbers of the third file, shifted by the rows of the first two


def test_merge_refuses_repeated_or_mismatched_partials(tmp_path: Path) -> None:
    d = write_parts(tmp_path / "d", _table(), [20], row_group_size=5)
    suite = suite_from_expectations("parts", CASES[8:12])
    sp, plan, parts = _partials(d, suite, 1)
    with pytest.raises(ValueError, match="repeat"):
        P.merge_validation(suite, sp.schema, [*parts, parts[0]])
    with pytest.raises(ValueError, match="one each"):
        P.merge_validation(suite, sp.schema, parts[1:])  # a lost partition is not merged as absent rows
    with pytest.raises(ValueError, match="one each"):
        P.merge_validation(suite, sp.schema, parts[:-1], partitions=len(plan))
    assert P.merge_validation(suite, sp.schema, parts, partitions=len(plan)).results
    other = suite_from_expectations("other", CASES[8:9])
    with pytest.raises(ValueError, match="states"):
        P.merge_validation(other, sp.schema, parts)


def test_schema_only_suite_reads_no_rows(tmp_path: Path) -> None:
    d = write_parts(tmp_path / "d", _table(), [20], row_group_size=5)
    suite = suite_from_expectations("schema", CASES[:6])
    sp = P.plan_suite(d, suite)
    assert not sp.evaluated
    part = P.validate_partition(d, P.plan_partitions(d)[0], suite)
    assert part.rows == 0 and part.states == ()
    assert [r.success for r in P.merge_validation(suite, sp.schema, []).results] == [
        True, False, True, True, True, False]


def test_files_of_a_directory_are_read_as_the_dataset_schema(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    pq.write_table(pa.table({"a": pa.array([1, 2, 3], pa.int64()), "s": ["x", "y", None]}), d / "p0.parquet")
    pq.write_table(pa.table({"a": pa.array([4, 4], pa.int32())}), d / "p1.parquet")  # narrower, no "s"
    suite = suite_from_expectations("s", [
        ("expect_column_values_to_not_be_null", {"column": "s"}),
        ("expect_column_values_to_be_unique", {"column": "a"}),
        ("expect_column_values_to_be_of_type", {"column": "a", "type_": "int64"}),
    ])
    res = run_suite(d, suite).results
    assert res[0].result["unexpected_count"] == 3 and res[0].result["partial_unexpected_index_list"] == [2, 3, 4]
    assert res[1].result["unexpected_count"] == 2 and res[1].result["partial_unexpected_list"] == [4, 4]
    assert res[2].success
    pq.write_table(pa.table({"a": ["not a number"]}), d / "p2.parquet")
    with pytest.raises(DataFormatError, match="p2.parquet"):
        run_suite(d, suite)


def test_slow_path_runs_once_on_the_client(tmp_path: Path) -> None:
    d = write_parts(tmp_path / "d", _table(), [20], row_group_size=5)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("expect_column_values_to_not_be_null", {"column": "f"}),
        ("expect_column_value_lengths_to_be_between", {"column": "s", "min_value": 1}),  # GX only
    ]
    suite = suite_from_expectations("slow", cases)
    sp, plan, parts = _partials(d, suite, 1)
    assert sp.slow == (1,) and not sp.partitionable and not P.is_partitionable(suite, sp.schema)
    assert all(len(p.states) == 1 for p in parts)  # partitions carry the Arrow part only
    with pytest.raises(ValueError, match="slow path"):
        P.merge_validation(suite, sp.schema, parts)
    slow = P.validate_slow(d, suite, sp)
    merged = P.merge_validation(suite, sp.schema, parts, slow)
    assert [r.engine for r in merged.results] == ["arrow", "gx"]
    assert merged.results[1].result["unexpected_count"] == 7  # the empty strings
    assert [r.result for r in merged.results] == [r.result for r in run_suite(d, suite).results]
    assert any("slow path" in n for n in merged.notes)
    pandera = Suite(name="p", path="p.yaml", kind="pandera", id="0")
    assert not P.is_partitionable(pandera, sp.schema)
    with pytest.raises(ValueError, match="pandera"):
        P.plan_suite(d, pandera)


def test_infinities_give_pandas_moments_whatever_the_cut(tmp_path: Path) -> None:
    inf = float("inf")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("expect_column_mean_to_be_between", {"column": "x", "min_value": 0}),
        ("expect_column_stdev_to_be_between", {"column": "x", "min_value": 0}),
        ("expect_column_mean_to_be_between", {"column": "y", "max_value": 0}),
    ]
    tbl = pa.table({"x": [1.0, 2.0, inf, 4.0, 5.0, 6.0], "y": [1.0, -inf, 3.0, 4.0, inf, 6.0]})
    suite = suite_from_expectations("inf", cases)
    for cuts in ([], [1], [2, 3], [5]):
        d = write_parts(tmp_path / f"d{len(cuts)}{cuts}", tbl, cuts, row_group_size=1)
        for batch in (1, 4):
            res = run_suite(d, suite, batch_size=batch).results
            assert res[0].result["observed_value"] == inf and res[0].success  # pandas: mean inf
            assert res[1].result["observed_value"] is None and not res[1].success  # pandas: std NaN
            assert res[2].result["observed_value"] is None and not res[2].success  # inf and -inf: NaN


def test_partitions_of_a_table_source(tmp_path: Path) -> None:
    import pyarrow.fs as pafs

    from dvx.quality.sources import TableSource

    d = write_parts(tmp_path / "d", _table(), [13, 27], row_group_size=3)
    src = TableSource(pafs.LocalFileSystem(), str(d), f"{d} at revision v1")
    plan = P.plan_partitions(src, target_bytes=1)
    assert plan == P.plan_partitions(d, target_bytes=1)  # the plan names files relative to the root
    f = P.partition_ref(src, plan[-1])
    assert isinstance(f, TableSource) and f.label == f"{d}/part-2.parquet at revision v1"
    merged = P.merge_profiles([pickle.loads(pickle.dumps(P.profile_partition(src, p))) for p in plan], plan)
    assert merged.to_bytes() == profile_path(d, target_bytes=1).to_bytes()
    suite = suite_from_expectations("parts", CASES)
    assert [r.result for r in run_suite(src, suite).results] == [r.result for r in run_suite(d, suite).results]


def test_csv_directory_validates_file_by_file(tmp_path: Path) -> None:
    import pyarrow.csv as pcsv

    from dvx.quality.tables import open_batches

    tbl = _table()
    d = tmp_path / "c"
    d.mkdir()
    for k, (a, b) in enumerate([(0, 13), (13, 14), (27, 13)]):
        pcsv.write_csv(tbl.slice(a, b).drop_columns(["f"]), d / f"part-{k}.csv")  # NaN has no CSV spelling
    cases = [c for c in CASES if c[1].get("column") != "f" and "f" not in c[1].get("column_list", [])
             and c[0] not in ("expect_table_columns_to_match_ordered_list", "expect_table_column_count_to_equal",
                              "expect_column_values_to_be_of_type")]
    suite = suite_from_expectations("csv", cases)
    sp, plan, parts = _partials(d, suite, 1)
    assert len(plan) == 3
    schema, batches = open_batches(d)  # the directory as one pyarrow.dataset scan: the reference's rows
    whole = pa.Table.from_batches(list(batches), schema)
    assert whole.num_rows == 40
    bad = same_results(single_pass(whole, suite, 4), P.merge_validation(suite, sp.schema, parts).results, cases)
    assert not bad, "\n".join(bad)
