"""Issue 5: profile speed, drift from stored profiles, and evidently side by side.

    .venv/bin/python bench/bench_drift.py            # full size (10M rows x 20 columns)
    .venv/bin/python bench/bench_drift.py --quick    # 1M rows
    .venv/bin/python bench/run.py --only drift       # the same through the runner

Data: the shared 20-column Parquet (`_common.parquet_file`, 10M rows ~ 1 GiB)
as the baseline and a drifted copy (float0 shifted by 0.1 sd, colour 'red'
from 20 % to 30 %, float_nulls from 10 % to 15 % null). Measured as whole
processes (imports included), medians of several runs:

- profile of the 10M-row file, default threads and pinned to one core
  (`taskset -c 0`, `pyarrow.set_cpu_count(1)`), in MB/s of Parquet input;
  peak RSS;
- drift between the two stored profiles (load both, compare, write JSON);
- evidently's DataDriftPreset on the same two datasets in pandas. evidently
  lives in its own venv (bench/.venv-evidently, pandas < 3: evidently 0.7
  imports pandas internals that pandas 3 removed), never in the project's.
  It runs once (no warm-up) on the first 1M rows of each file: one 1M-row
  run already takes minutes and GiBs. dvx is timed on the same 1M-row files
  (profile both + compare) so the ratio compares equal work; a per-row
  normalised ratio against dvx's full-size run is printed too, labelled.

`--parts profile` or `--parts evidently` runs one half (the evidently half
reads the profile half's figures from bench/.work/drift/ for the per-row
ratio).
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import textwrap
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import _common as c  # noqa: E402

ISSUE = 5
TITLE = "Drift: profiles, drift from stored profiles, evidently (issue 5)"

# evidently (0.7.x) imports pandas internals that pandas 3 removed
EVIDENTLY_PACKAGES = ["evidently", "pyarrow", "pandas<3"]
EVIDENTLY_ROWS = 1_000_000

_PROFILE_SCRIPT = textwrap.dedent("""
    import sys, time
    if sys.argv[3] == "1":
        import pyarrow as pa
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
    from dvx.quality.profile import profile_path
    t0 = time.perf_counter()
    p = profile_path(sys.argv[1])
    open(sys.argv[2], "wb").write(p.to_bytes())
    print(time.perf_counter() - t0)
""")

_DRIFT_SCRIPT = textwrap.dedent("""
    import sys
    from dvx.quality.profile import Profile
    from dvx.quality.drift import compare
    a = Profile.from_bytes(open(sys.argv[1], "rb").read())
    b = Profile.from_bytes(open(sys.argv[2], "rb").read())
    r = compare(a, b)
    open(sys.argv[3], "w").write(r.to_json())
""")

_BOTH_SCRIPT = textwrap.dedent("""
    import sys
    from dvx.quality.profile import profile_path
    from dvx.quality.drift import compare
    r = compare(profile_path(sys.argv[1]), profile_path(sys.argv[2]))
    open(sys.argv[3], "w").write(r.to_json())
""")

# Works with evidently >= 0.7 (Report/presets at the top level) and with the
# older evidently.report / evidently.metric_preset layout.
_EVIDENTLY_SCRIPT = textwrap.dedent("""
    import sys, json, warnings
    warnings.filterwarnings("ignore")
    import pandas as pd
    ref = pd.read_parquet(sys.argv[1])
    cur = pd.read_parquet(sys.argv[2])
    try:
        from evidently import Report
        from evidently.presets import DataDriftPreset
        snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
        out = snap.dict()
    except ImportError:
        from evidently.report import Report
        from evidently.metric_preset import DataDriftPreset
        rep = Report(metrics=[DataDriftPreset()])
        rep.run(reference_data=ref, current_data=cur)
        out = rep.as_dict()
    open(sys.argv[3], "w").write(json.dumps(out, default=str)[:1000000])
""")


def drifted_file(base: Path, rows: int) -> Path:
    """The baseline with three columns drifted (see the module docstring)."""
    path = c.DATA_DIR / f"drifted-{rows}.parquet"
    with c._generated(path, {"kind": "parquet-drifted", "rows": rows, "base": base.name}) as tmp:
        if tmp is None:
            return path
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        rng = np.random.default_rng(55)
        src = pq.ParquetFile(base)
        writer = pq.ParquetWriter(tmp, src.schema_arrow)
        colours = pa.array(["red", "green", "blue", "cyan", "magenta"])
        for i in range(src.num_row_groups):
            t = src.read_row_group(i)
            n = t.num_rows
            f0 = pc.add(t.column("float0"), 0.1)  # float0 ~ N(0, 1): +0.1 sd
            p = np.array([0.3, 0.175, 0.175, 0.175, 0.175])
            col = colours.take(pa.array(np.searchsorted(np.cumsum(p), rng.random(n) * 0.99999999)))
            vals = t.column("float_nulls").combine_chunks().fill_null(0.0)
            fn = pa.array(vals.to_numpy(), mask=rng.random(n) < 0.15)
            for name, arr in (("float0", f0), ("color", col), ("float_nulls", fn)):
                t = t.set_column(t.schema.get_field_index(name), name, arr)
            writer.write_table(t, row_group_size=1_048_576)
        writer.close()
    return path


def head_file(src: Path, rows: int) -> Path:
    """The first `rows` rows of a Parquet file (for the evidently comparison)."""
    path = c.DATA_DIR / f"{src.stem}-head{rows}.parquet"
    with c._generated(path, {"kind": "parquet-head", "rows": rows, "src": src.name,
                             "src_bytes": src.stat().st_size}) as tmp:
        if tmp is None:
            return path
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(src)
        writer = pq.ParquetWriter(tmp, pf.schema_arrow)
        done = 0
        for batch in pf.iter_batches(batch_size=1_048_576):
            batch = batch.slice(0, min(batch.num_rows, rows - done))
            writer.write_batch(batch)
            done += batch.num_rows
            if done >= rows:
                break
        writer.close()
    return path


def _py() -> Path:
    return c.PROJECT_DIR / ".venv" / "bin" / "python"


def _mbps(size: int, st: c.Stats) -> float:
    return size / 1e6 / st.median


# Which parts run: "profile" (10M-row profile and drift from stored profiles)
# and "evidently" (the side-by-side); `--parts` of main() sets it.
PARTS = {"profile", "evidently"}


def run(ctx: c.Context) -> list[c.Result]:
    """Measure and return the rows of the report (see the module docstring)."""
    rows = 1_000_000 if ctx.quick else 10_000_000
    base = c.parquet_file(rows)
    cur = drifted_file(base, rows)
    work = ctx.work / "drift"
    work.mkdir(parents=True, exist_ok=True)
    results: list[c.Result] = []
    if "profile" in PARTS:
        results += _profile_part(ctx, base, cur, rows, work)
    if "evidently" in PARTS and not ctx.skip_anchor:
        results += _evidently_part(ctx, base, cur, rows, work)
    return results


def _profile_part(ctx: c.Context, base: Path, cur: Path, rows: int, work: Path) -> list[c.Result]:
    size = base.stat().st_size
    env = ctx.env()
    env_1 = dict(env, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    runs = ctx.n(3)
    results: list[c.Result] = []
    py = _py()
    pa_prof, pb_prof = work / "base.profile.json", work / "cur.profile.json"

    # profile, default threads (the second file's profile is the stored current one)
    st_multi = c.measure([py, "-c", _PROFILE_SCRIPT, base, pa_prof, "0"], cwd=work, env=env, runs=runs,
                         label=f"dvx profile {rows:,} rows")
    c.measure([py, "-c", _PROFILE_SCRIPT, cur, pb_prof, "0"], cwd=work, env=env, runs=1, warmup=False)
    taskset = shutil.which("taskset")
    cmd_1 = [py, "-c", _PROFILE_SCRIPT, base, work / "one.profile.json", "1"]
    st_one = c.measure(([taskset, "-c", "0"] if taskset else []) + cmd_1, cwd=work, env=env_1, runs=runs,
                       label="dvx profile, one core")
    mb_multi, mb_one = _mbps(size, st_multi), _mbps(size, st_one)
    # MB per CPU-second of the pinned run: the per-core figure that a busy
    # machine (other processes on the same cores) distorts least.
    mb_cpu = size / 1e6 / statistics.median(st_one.cpu)
    results.append(c.Result(
        bench="drift", issue=ISSUE, name=f"profile {rows:,} x 20 Parquet ({size / 1e6:,.0f} MB), one core",
        goal=">= 200 MB/s per core, <= 1 GiB", ok=(mb_one >= 200 and st_one.rss_mib <= 1024),
        dvx=st_one, note=(f"{mb_one:,.0f} MB/s wall on one core, {mb_cpu:,.0f} MB per CPU-second; "
                          f"{mb_multi:,.0f} MB/s with default threads ({st_multi.median:.2f} s)"),
        details={"mb_per_s_one_core": mb_one, "mb_per_cpu_s_one_core": mb_cpu,
                 "mb_per_s_default": mb_multi, "parquet_bytes": size,
                 "default_threads": st_multi.to_dict()}))

    # drift between the two stored profiles
    st_drift = c.measure([py, "-c", _DRIFT_SCRIPT, pa_prof, pb_prof, work / "drift.json"], cwd=work,
                         env=env, runs=ctx.n(5), label="dvx drift from stored profiles")
    report = json.loads((work / "drift.json").read_text())
    results.append(c.Result(
        bench="drift", issue=ISSUE, name="drift between two stored profiles (whole process)",
        goal="< 1 s", ok=st_drift.median < 1.0, dvx=st_drift,
        note=f"drifted columns: {', '.join(report['drifted_columns'])}; profile sizes "
             f"{pa_prof.stat().st_size / 1024:,.0f} KiB",
        details={"drifted_columns": report["drifted_columns"]}))

    (work / "profile-part.json").write_text(json.dumps(
        {"profile_default_median_s": st_multi.median, "drift_median_s": st_drift.median}))
    return results


def _evidently_part(ctx: c.Context, base: Path, cur: Path, rows: int, work: Path) -> list[c.Result]:
    """evidently and dvx on the same first EVIDENTLY_ROWS rows of both files."""
    env = ctx.env()
    py = _py()
    runs = ctx.n(3)
    n_ev = min(EVIDENTLY_ROWS, rows)
    hb, hc = head_file(base, n_ev), head_file(cur, n_ev)
    venv = c.ensure_venv("evidently", EVIDENTLY_PACKAGES)
    st_dvx = c.measure([py, "-c", _BOTH_SCRIPT, hb, hc, work / "dvx-both.json"], cwd=work, env=env,
                       runs=runs, label=f"dvx profile both + drift, {n_ev:,} rows")
    # One run, no warm-up: a single evidently run on 1M rows takes minutes.
    st_ev = c.measure([venv / "bin" / "python", "-c", _EVIDENTLY_SCRIPT, hb, hc, work / "evidently.json"],
                      cwd=work, env=env, runs=1, warmup=False, label=f"evidently DataDriftPreset, {n_ev:,} rows")
    ratio = st_ev.median / st_dvx.median
    part = work / "profile-part.json"
    per_row = None
    per_row_note = "run the profile part for a per-row figure"
    if part.exists():
        prev = json.loads(part.read_text())
        dvx_both_full = 2 * prev["profile_default_median_s"] + prev["drift_median_s"]
        per_row = (st_ev.median / (2 * n_ev)) / (dvx_both_full / (2 * rows))
        per_row_note = (f"per-row normalised against dvx's {rows:,}-row run (profile x2 + drift = "
                        f"{dvx_both_full:.1f} s): {per_row:.1f}x")
    both = json.loads((work / "dvx-both.json").read_text())
    return [c.Result(
        bench="drift", issue=ISSUE, name=f"drift of two datasets from scratch, {n_ev:,} rows each",
        goal="ratio >= 10", ok=ratio >= 10, dvx=st_dvx, anchor=st_ev, anchor_name="evidently",
        note=(f"same {n_ev:,}-row files for both; evidently 1 run; {per_row_note}; dvx flags "
              f"{', '.join(both['drifted_columns'])}"),
        details={"rows": n_ev, "per_row_ratio_vs_full_dvx": per_row,
                 "evidently_version": c.run_cmd([venv / "bin" / "python", "-c",
                                                 "import evidently; print(evidently.__version__)"]).strip()})]


def main(argv: list[str] | None = None) -> int:
    """`python bench/bench_drift.py [--quick] [--runs N] [--skip-anchor]`: run and print."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--skip-anchor", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--parts", default="profile,evidently",
                    help="comma list of parts to run: profile, evidently (default both)")
    args = ap.parse_args(argv)
    PARTS.clear()
    PARTS.update(p.strip() for p in args.parts.split(",") if p.strip())
    ctx = c.Context(quick=args.quick, runs=args.runs, dvx=c.PROJECT_DIR / ".venv" / "bin" / "dvx",
                    skip_anchor=args.skip_anchor)
    c.report(run(ctx), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
