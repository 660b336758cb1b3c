"""Issue 15: profile and validation of a Parquet directory in one process and on a 2-worker Dask cluster.

    python bench/bench_cluster.py            # full size: 20 files, 10M rows x 20 columns (~1 GiB)
    python bench/bench_cluster.py --quick    # 20 files, 1M rows
    python bench/run.py --only cluster       # the same through the runner

Data: the shared 20-column Parquet (`_common.parquet_file`) cut into a
directory of 20 files (several row groups each), tracked by dvx in a
repository whose remote is a local folder and whose git URL is a bare copy
(`file://`). A local cluster: `dask scheduler` and two `dask worker`
processes (one thread each) on 127.0.0.1, started by this script, which
see the repository only by its git URL and the remote.

Measured as whole processes, runs alternated A B A B (the machine is shared):

- A, the anchor: `dvx stats data/parts --rev v1 --json` in one process
  (the data read from the workspace copy), its stored profiles removed
  before each run; B: the same with `--scheduler` (the client reads footers,
  the workers read their partitions through `dvx://`; their clones' caches
  stay warm across runs, as on a long-lived cluster). The two profiles must
  be byte-identical.
- the same pair for `dvx validate data/parts --rev v1 --json` with a suite
  of Arrow-engine expectations (stored results removed before each run).
- the machine's ceiling for the profile: the same plan cut in two and run
  by two plain processes at once (no Dask, no client, no merge; one Arrow
  thread each, as the workers), alternated with the two above (A B C A B C).
- the pair again for `dvx validate data/parts --rev v2` with the work trees
  at v2, whose suite is the one `dvx expectations init` infers from this data
  (every column checked; two whole-column uniqueness checks, whose partials
  carry the values).
- the client's merge time against the number of partitions (in process:
  `merge_profiles` of n partial profiles of one file, n = 10 ... 1000).
- peak memory of each worker (VmHWM of the worker processes after the runs),
  and the bytes the cluster client's cache holds after the runs (metadata).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import _common as c  # noqa: E402

ISSUE = 15
TITLE = "Dask cluster: profile and validation, one process vs 2 workers (issue 15)"
FILES = 20
SUITE = {
    "expectation_suite_name": "parts",
    "expectations": [
        {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"expectation_type": "expect_column_values_to_be_between",
         "kwargs": {"column": "float0", "min_value": -10, "max_value": 10}},
        {"expectation_type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "color", "value_set": ["red", "green", "blue", "cyan", "magenta"]}},
        {"expectation_type": "expect_column_mean_to_be_between",
         "kwargs": {"column": "int1", "min_value": 0, "max_value": 1000}},
        {"expectation_type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
    ],
}


def parts_dir(rows: int) -> Path:
    """The shared Parquet file of ``rows`` rows cut into FILES files of ~4 row groups each."""
    import pyarrow.parquet as pq

    out = c.DATA_DIR / f"parts-{rows}"
    if (out / ".done").exists():
        return out
    c.fresh_dir(out)
    src = pq.ParquetFile(c.parquet_file(rows))
    per_file = -(-rows // FILES)
    for n, batch in enumerate(src.iter_batches(batch_size=per_file)):
        pq.write_table(__import__("pyarrow").Table.from_batches([batch]), out / f"part-{n:02d}.parquet",
                       row_group_size=max(1, per_file // 4))
    (out / ".done").write_text("")
    return out


def _repo(work: Path, data: Path, env: dict[str, str]) -> tuple[Path, Path, str]:
    """(work tree with the data added, a clone for the cluster client, the bare git URL)."""
    root = c.fresh_dir(work / "repo")
    c.git_init(root)
    dvx = [sys.executable, "-m", "dvx"]
    c.run_cmd([*dvx, "init"], cwd=root, env=env)
    c.run_cmd([*dvx, "remote", "add", "-d", "local", str(work / "remote")], cwd=root, env=env)
    shutil.copytree(data, root / "data" / "parts", ignore=shutil.ignore_patterns(".done"))
    (root / "expectations" / "parts.json").write_text(json.dumps(SUITE, indent=1))
    (root / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/parts"\nsuites = ["parts.json"]\n')
    c.run_cmd([*dvx, "add", "data/parts"], cwd=root, env=env)
    c.run_cmd(["git", "add", "-A"], cwd=root)
    c.run_cmd(["git", "commit", "--no-verify", "-qm", "v1"], cwd=root)
    c.run_cmd(["git", "tag", "v1"], cwd=root)
    # v2: the same data, the suite `dvx expectations init` infers from it (every column)
    c.run_cmd([*dvx, "expectations", "init", "data/parts", "--rev", "v1", "--force"], cwd=root, env=env)
    c.run_cmd(["git", "add", "-A"], cwd=root)
    c.run_cmd(["git", "commit", "--no-verify", "-qm", "v2: inferred suite"], cwd=root)
    c.run_cmd(["git", "tag", "v2"], cwd=root)
    bare = work / "hub.git"
    c.run_cmd(["git", "init", "-q", "--bare", "-b", "main", str(bare)])
    url = f"file://{bare}"
    c.run_cmd(["git", "remote", "add", "origin", url], cwd=root)
    c.run_cmd(["git", "push", "-q", "origin", "main", "--tags"], cwd=root)
    c.run_cmd([*dvx, "push"], cwd=root, env=env)
    client = work / "client"
    if client.exists():
        shutil.rmtree(client)
    c.run_cmd(["git", "clone", "-q", url, str(client)])
    return root, client, url


class LocalCluster:
    """`dask scheduler` + 2 `dask worker` processes (one thread each) on 127.0.0.1."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        logs = c.fresh_dir(work / "dask")
        py = sys.executable
        self.procs = [subprocess.Popen([py, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                                        str(port), "--no-dashboard"], cwd=logs, env=env, start_new_session=True,
                                       stdout=open(logs / "scheduler.log", "wb"), stderr=subprocess.STDOUT)]  # noqa: SIM115
        self.workers = [subprocess.Popen([py, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1",
                                          "--no-dashboard", "--no-nanny", "--host", "127.0.0.1"], cwd=logs, env=env,
                                         start_new_session=True, stdout=open(logs / f"worker{i}.log", "wb"),  # noqa: SIM115
                                         stderr=subprocess.STDOUT) for i in range(2)]
        self.procs += self.workers
        from distributed import Client

        with Client(self.address, timeout="60s", set_as_default=False) as cl:
            cl.wait_for_workers(2, timeout=120)

    def peak_rss_mib(self) -> list[float]:
        """VmHWM (peak resident set) of each worker process, in MiB."""
        out = []
        for w in self.workers:
            with open(f"/proc/{w.pid}/status") as f:
                hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
            out.append(hwm / 1024)
        return out

    def stop(self) -> None:
        import signal

        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)


def _halves_cmd() -> list[str]:
    """Two processes at once, each profiling every other partition of the plan (workspace copy)."""
    one = ("from dvx.quality import partitions as p; plan = p.plan_partitions('data/parts'); "
           "[p.profile_partition('data/parts', x) for x in plan[{k}::2]]")
    py = f"'{sys.executable}'"
    return ["bash", "-c", f'{py} -c "{one.format(k=0)}" & a=$!; {py} -c "{one.format(k=1)}" && wait $a']


def _forget(repo: Path) -> None:
    """Remove the stored profiles and validation results (the next run computes them)."""
    for sub in ("profiles", "results"):
        shutil.rmtree(repo / ".dvx" / "cache" / sub, ignore_errors=True)


def _merge_times(data: Path) -> dict[int, float]:
    """Seconds to merge n partial profiles (one file's profile, n times) on the client."""
    from dvx.quality.partitions import merge_profiles
    from dvx.quality.profile import profile_path

    part = profile_path(next(iter(sorted(data.glob("*.parquet")))))
    out = {}
    for n in (10, 100, 1000):
        t0 = time.perf_counter()
        merge_profiles([part] * n)
        out[n] = time.perf_counter() - t0
    return out


def _projection(data: Path, stats: c.Result, merges: dict[int, float]) -> list[c.Result]:
    """Projected `dvx stats` time on W workers, from this run's figures.

    Assumptions (stated in the report): every partition costs the same, t_part =
    one-process time / P (an upper bound: it includes the one process's start-up);
    workers read their partitions without slowing each other (the remote's
    bandwidth grows with the workers, as on S3); the client's own part (start-up,
    planning, stores) is what the 2-worker run took beyond its ceil(P/2) rounds of
    partitions, and merging costs merges[1000] / 1000 per partition. Then
    T(W) = client + ceil(P/W) * t_part + P * t_merge, for this dataset (P partitions)
    and for one 50 times larger (P x 50 partitions of the same size)."""
    from dvx.quality.partitions import plan_partitions

    assert stats.anchor is not None and stats.dvx is not None
    p = len(plan_partitions(str(data)))
    t_part = stats.anchor.median / p
    t_merge = merges[1000] / 1000
    client = max(0.0, stats.dvx.median - -(-p // 2) * t_part - p * t_merge)
    out = []
    for label, parts in ((f"this dataset, {p} partitions", p), (f"50x larger, {50 * p} partitions", 50 * p)):
        proj = {w: client + -(-parts // w) * t_part + parts * t_merge for w in (1, 2, 10, 100)}
        out.append(c.Result(
            bench="cluster", issue=ISSUE, name=f"projected stats time, {label}", goal="-", ok=None, value=proj[100],
            unit="s", note=", ".join(f"{w} workers: {t:,.1f} s" for w, t in proj.items())
            + f" (t_part {t_part:.3f} s, client {client:.2f} s, t_merge {t_merge * 1000:.1f} ms)",
            details={"projected_s": proj, "partitions": parts, "t_part": t_part, "client_s": client, "t_merge": t_merge}))
    return out


def run(ctx: c.Context) -> list[c.Result]:
    """Measure and return the rows of the report (see the module docstring)."""
    rows = 1_000_000 if ctx.quick else 10_000_000
    data = parts_dir(rows)
    work = c.fresh_dir(ctx.work / "cluster")
    env = ctx.env()
    env["PYTHONPATH"] = str(c.PROJECT_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env["DASK_DISTRIBUTED__DIAGNOSTICS__NVML"] = "False"
    root, client, _url = _repo(work, data, env)
    size = c.tree_bytes(data)
    cluster = LocalCluster(work, env)
    results: list[c.Result] = []
    try:
        dvx = [sys.executable, "-m", "dvx"]
        runs = ctx.n(3)
        # A fresh cluster: each worker clones the git URL and fetches its partitions' chunks
        # from the remote. Timed once, then every worker's cache is warmed (a task may land on
        # either worker, so a few runs), as on a long-lived cluster, before the alternated runs.
        cold_cmd = [*dvx, "stats", "data/parts", "--rev", "v1", "--json", "--scheduler", cluster.address]
        _forget(client)
        cold = c.measure(cold_cmd, cwd=client, env=env, runs=1, warmup=False)
        for _ in range(3):
            _forget(client)
            c.run_cmd(cold_cmd, cwd=client, env=env)
        results.append(c.Result(
            bench="cluster", issue=ISSUE, name="stats on a fresh cluster (workers clone and fetch from the remote)",
            goal="-", ok=None, value=cold.median, unit="s", note="one run, before the alternated runs"))
        jobs = (("stats", ["stats", "data/parts"], "v1", "profile, 20 partitions"),
                ("validate", ["validate", "data/parts"], "v1", "5 Arrow-engine expectations on 4 columns"),
                ("validate", ["validate", "data/parts"], "v2", "the inferred suite, 60 expectations"))
        for verb, args, rev, what in jobs:
            for r in (root, client):  # the suites of the work tree are the ones validate runs
                c.run_cmd(["git", "checkout", "-q", rev], cwd=r)
            specs = {
                "one process": c.Spec([*dvx, *args, "--rev", rev, "--json"], root, env, lambda: _forget(root)),
                "2 workers": c.Spec([*dvx, *args, "--rev", rev, "--json", "--scheduler", cluster.address], client,
                                    env, lambda: _forget(client)),
            }
            if verb == "stats":
                specs["2 processes, no Dask"] = c.Spec(_halves_cmd(), root, {**env, "OMP_NUM_THREADS": "1"})
            st = c.measure_interleaved(specs, runs=runs, label=f"dvx {verb} --rev {rev} {rows:,} rows")
            same = None
            if verb == "stats":
                from dvx.quality.stores import QualityStores

                pid = json.loads(c.run_cmd([*dvx, *args, "--rev", rev, "--json"], cwd=root, env=env))["data_id"]
                a, b = (QualityStores.at(r / ".dvx" / "cache").profiles.path(pid) for r in (root, client))
                same = a.read_bytes() == b.read_bytes()
                results.append(c.Result(
                    bench="cluster", issue=ISSUE, name="ceiling: the profile's partitions split over 2 plain "
                    "processes (no Dask, no merge)", goal="-", ok=None, dvx=st["2 processes, no Dask"],
                    anchor=st["one process"], anchor_name="dvx, one process",
                    note="what 2 cores give this work with no distribution cost: the bound for 2 workers"))
            # what the cluster client fetched to its cache: listings and footers, not the data
            fetched = c.tree_bytes(client / ".dvx" / "cache" / "packs") if (client / ".dvx" / "cache" / "packs").exists() else 0
            results.insert(len(results) - (verb == "stats"), c.Result(
                bench="cluster", issue=ISSUE,
                name=f"{verb} --rev {rev} ({what}) of {FILES} files, {rows:,} x 20 ({size / 1e6:,.0f} MB)",
                goal="2 workers faster than one process", ok=st["2 workers"].median < st["one process"].median,
                dvx=st["2 workers"], anchor=st["one process"], anchor_name="dvx, one process",
                note=("" if same is None else "profile bytes identical; " if same else "PROFILES DIFFER; ")
                + f"the client's cache holds {fetched / 1e6:,.1f} MB of {size / 1e6:,.0f} MB",
                details={"identical_profile": same, "client_cache_bytes": fetched}))
        merges = _merge_times(data)
        results.append(c.Result(
            bench="cluster", issue=ISSUE, name="client merge of n partial profiles (20 columns)", goal="-", ok=None,
            value=merges[1000], unit="s", note=", ".join(f"{n}: {t * 1000:.1f} ms" for n, t in merges.items()),
            details={"merge_s": merges}))
        results += _projection(data, results[1], merges)
        peaks = cluster.peak_rss_mib()
        results.append(c.Result(
            bench="cluster", issue=ISSUE, name="peak RSS per worker", goal="-", ok=None, value=max(peaks),
            unit="MiB", note=", ".join(f"{p:,.0f} MiB" for p in peaks), details={"worker_peak_rss_mib": peaks}))
    finally:
        cluster.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    """`python bench/bench_cluster.py [--quick] [--runs N]`: run and print."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    ctx = c.Context(quick=args.quick, runs=args.runs, dvx=c.PROJECT_DIR / ".venv" / "bin" / "dvx")
    c.report(run(ctx), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
