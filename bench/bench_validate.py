"""Issue 4: dvx's Arrow engine against great-expectations 1.x on the same suite.

One 20-column Parquet file (``_common.parquet_file``: 10M rows = 1.07 GiB,
seeded), one GX suite of 16 expectations, two whole processes measured side by
side (wall, peak RSS via GNU time):

- dvx: ``validate_dataset(file, [suite])``: streaming Arrow engine, only the
  13 referenced columns read;
- GX: the way a GX user validates a Parquet file: ``pd.read_parquet`` of the
  same columns, an ephemeral context, ``batch.validate(suite)``.

Both workers print their per-expectation (success, unexpected_count) so the
run also checks that they agree. Goal: dvx >= 5x faster, dvx peak RSS <= 1 GiB.

    .venv/bin/python bench/bench_validate.py [--rows N] [--runs K]
    .venv/bin/python bench/run.py --only validate
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ISSUE = 4
TITLE = "Validation: Arrow engine vs great-expectations on pandas (issue 4)"

COLUMNS_ALL = (["id"] + [f"int{j}" for j in range(6)] + [f"float{j}" for j in range(7)]
               + ["float32", "float_nulls", "color", "region", "city", "token"])

SUITE: list[tuple[str, dict[str, Any]]] = [
    ("expect_table_row_count_to_be_between", {"min_value": 1}),
    ("expect_table_columns_to_match_set", {"column_set": COLUMNS_ALL}),
    ("expect_column_values_to_not_be_null", {"column": "id"}),
    ("expect_column_values_to_be_unique", {"column": "id"}),
    ("expect_column_values_to_be_between", {"column": "int0", "min_value": 0, "max_value": 99}),
    ("expect_column_values_to_be_between", {"column": "float0", "min_value": -4, "max_value": 4, "mostly": 0.99}),
    ("expect_column_values_to_be_in_set", {"column": "color",
                                           "value_set": ["red", "green", "blue", "cyan", "magenta"]}),
    ("expect_column_values_to_be_in_set", {"column": "region", "value_set": [f"region-{i}" for i in range(11)],
                                           "mostly": 0.9}),
    ("expect_column_values_to_match_regex", {"column": "token", "regex": "^[0-9a-f]{16}$"}),
    ("expect_column_values_to_not_be_null", {"column": "float_nulls", "mostly": 0.85}),
    ("expect_column_mean_to_be_between", {"column": "float1", "min_value": 0.9, "max_value": 1.1}),
    ("expect_column_stdev_to_be_between", {"column": "float2", "min_value": 2.9, "max_value": 3.1}),
    ("expect_column_median_to_be_between", {"column": "float3", "min_value": 2.5, "max_value": 3.5}),
    ("expect_column_max_to_be_between", {"column": "int1", "max_value": 999}),
    ("expect_column_values_to_be_of_type", {"column": "float32", "type_": "float32"}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "city", "max_value": 0.5}),
]


def _suite_file(work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    p = work / "bench_suite.json"
    doc = {"name": "bench", "expectations": [{"type": t, "kwargs": k, "meta": {}} for t, k in SUITE]}
    p.write_text(json.dumps(doc, indent=1))
    return p


def _columns() -> list[str]:
    want = {k["column"] for _, k in SUITE if "column" in k}
    return [c for c in COLUMNS_ALL if c in want]


# ---------------------------------------------------------------- workers


def worker_dvx(data: str, suite: str) -> None:
    t0 = time.perf_counter()
    from dvx.quality.validate import validate_dataset

    dv = validate_dataset(data, [suite])
    out = [(r.expectation_type, r.success, r.result.get("unexpected_count")) for r in dv.results]
    print(json.dumps({"engine": [r.engine for r in dv.results], "results": out,
                      "validate_s": round(dv.elapsed, 3), "total_s": round(time.perf_counter() - t0, 3)}))


def worker_gx(data: str, suite: str) -> None:
    t0 = time.perf_counter()
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        import pandas as pd
        from great_expectations.data_context.types.base import ProgressBarsConfig
    t_import = time.perf_counter()
    doc = json.loads(Path(suite).read_text())
    cols = sorted({e["kwargs"]["column"] for e in doc["expectations"] if "column" in e["kwargs"]},
                  key=COLUMNS_ALL.index)
    # expect_table_columns_to_match_set needs every column name: GX reads them all
    df = pd.read_parquet(data)
    t_read = time.perf_counter()
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    bd = ctx.data_sources.add_pandas("b").add_dataframe_asset("d").add_batch_definition_whole_dataframe("all")
    batch = bd.get_batch(batch_parameters={"dataframe": df})
    res = batch.validate(gx.ExpectationSuite(**doc), result_format="SUMMARY")
    t_val = time.perf_counter()
    out = []
    for r in res.results:
        d = r.to_json_dict()
        out.append((d["expectation_config"]["type"], d["success"], (d.get("result") or {}).get("unexpected_count")))
    print(json.dumps({"results": out, "columns_used": cols, "import_s": round(t_import - t0, 3),
                      "read_s": round(t_read - t_import, 3), "validate_s": round(t_val - t_read, 3),
                      "total_s": round(t_val - t0, 3)}))


# ---------------------------------------------------------------- harness


def _worker_output(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    import subprocess

    cp = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(cp.stdout.strip().splitlines()[-1])


def run(ctx: Any) -> list[Any]:
    """Entry point for bench/run.py."""
    import _common as c

    rows = 600_000 if ctx.quick else 10_000_000
    return _bench(c, rows, ctx.n(3), ctx.env(), ctx.work)


def _interleaved(c: Any, cmd_a: list[str], cmd_b: list[str], env: dict[str, str], runs: int) -> tuple[Any, Any]:
    """Alternate the two commands run by run (after one warm-up each), so a change
    in machine load hits both sides alike; returns their merged Stats."""
    a: list[Any] = []
    b: list[Any] = []
    for i in range(runs):
        a.append(c.measure(cmd_a, cwd=HERE.parent, env=env, runs=1, warmup=i == 0))
        b.append(c.measure(cmd_b, cwd=HERE.parent, env=env, runs=1, warmup=i == 0))
        print(f"  run {i + 1}/{runs}: dvx {a[-1].median:.2f} s ({a[-1].rss_mib:.0f} MiB), "
              f"GX {b[-1].median:.2f} s ({b[-1].rss_mib:.0f} MiB)", file=sys.stderr)

    def merge(parts: list[Any]) -> Any:
        return c.Stats(cmd=parts[0].cmd, walls=[w for p in parts for w in p.walls],
                       rss_kib=[r for p in parts for r in p.rss_kib],
                       tree_rss_kib=[r for p in parts for r in p.tree_rss_kib],
                       cpu=[u for p in parts for u in p.cpu])

    return merge(a), merge(b)


def _bench(c: Any, rows: int, runs: int, env: dict[str, str], work: Path) -> list[Any]:
    data = c.parquet_file(rows)
    suite = _suite_file(work / "validate")
    py = sys.executable
    me = str(Path(__file__).resolve())
    cmd_dvx = [py, me, "--worker", "dvx", str(data), str(suite)]
    cmd_gx = [py, me, "--worker", "gx", str(data), str(suite)]
    env = {**env, "PYTHONPATH": str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")}
    a = _worker_output(cmd_dvx, env)
    b = _worker_output(cmd_gx, env)
    agree = [tuple(x) for x in a["results"]] == [tuple(x) for x in b["results"]]
    if not agree:
        for x, y in zip(a["results"], b["results"], strict=True):
            if tuple(x) != tuple(y):
                print(f"  disagreement: dvx={x} gx={y}", file=sys.stderr)
    slow = [e for e in a["engine"] if e != "arrow"]
    st_dvx, st_gx = _interleaved(c, cmd_dvx, cmd_gx, env, runs)
    import statistics

    size = data.stat().st_size / 2**30
    ratio = st_gx.median / st_dvx.median
    cpu_dvx, cpu_gx = statistics.median(st_dvx.cpu), statistics.median(st_gx.cpu)
    details = {"rows": rows, "file_gib": round(size, 3), "expectations": len(SUITE), "agree": agree,
               "cpu_dvx_s": round(cpu_dvx, 2), "cpu_gx_s": round(cpu_gx, 2),
               "slow_path": len(slow), "dvx_inner": a, "gx_inner": b}
    name = f"validate {len(SUITE)} expectations, {rows:,} rows x 20 cols Parquet ({size:.2f} GiB)"
    return [
        c.Result(bench="validate", issue=ISSUE, name=name, goal="ratio >= 5", ok=ratio >= 5 and agree,
                 dvx=st_dvx, anchor=st_gx, anchor_name="gx", details=details,
                 note=f"CPU (user+sys) dvx {cpu_dvx:.1f} s, GX {cpu_gx:.1f} s ({cpu_gx / cpu_dvx:.1f}x); "
                     f"GX in-process: read {b['read_s']} s + validate {b['validate_s']} s; "
                      f"dvx in-process validate {a['validate_s']} s; results agree: {agree}"),
        c.Result(bench="validate", issue=ISSUE, name="dvx peak memory while validating", goal="<= 1024 MiB",
                 ok=st_dvx.rss_mib <= 1024, value=st_dvx.rss_mib, anchor_value=st_gx.rss_mib, unit="MiB",
                 anchor_name="gx"),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--worker", nargs=3, metavar=("ENGINE", "DATA", "SUITE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        engine, data, suite = args.worker
        (worker_dvx if engine == "dvx" else worker_gx)(data, suite)
        return 0
    import _common as c

    env = dict(os.environ)
    env.update(GX_ANALYTICS_ENABLED="false", PYTHONWARNINGS="ignore")
    results = _bench(c, args.rows, args.runs, env, c.WORK_DIR)
    c.print_table(results)
    r = results[0]
    print(f"\nratio (GX / dvx wall, median of {args.runs}): {r.ratio:.1f}x; dvx peak RSS "
          f"{results[1].value:.0f} MiB, GX peak RSS {results[1].anchor_value:.0f} MiB")
    print(r.note)
    return 0 if all(x.ok for x in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
