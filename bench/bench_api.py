"""API reads (issue 7): lazy ranged reads from a remote at an old revision; cached reads vs pyarrow.

    .venv/bin/python bench/run.py --only api            # full size (1 GiB Parquet, 20 columns)
    .venv/bin/python bench/run.py --only api --quick    # smoke run (100 MiB)
    .venv/bin/python bench/bench_api.py [--quick]       # the same, this module alone

(a) A repository whose ``data/train.parquet`` is 1 GiB at tag ``v1`` and
something else at HEAD is pushed to a local S3 server; a fresh clone (empty
cache) reads 2 of its 20 columns at ``v1`` with ``dvx.read_table``. A
loopback proxy (bench_remote.CountingProxy) counts the HTTP requests and the
bytes the server sent. Goal: at most 20% of the file's bytes.

(b) In the original repository (the chunks are in the local cache, the
workspace holds the HEAD version) ``dvx.read_table(rev="v1")`` of the whole
file, and of 2 columns, against ``pyarrow.parquet.read_table`` of the same
file on local disk: in-process medians of interleaved runs. Goal: ratio <= 1.5.

The S3 server is moto_server (DVX_BENCH_S3=seaweedfs for SeaweedFS). moto
answers a ranged GET in time proportional to the object's size (about 50 ms
per range of a 100 MiB object, ../shared/notes/s3-servers.md); dvx's remote
packs are 32 MiB, so each range costs ~15 ms there: the request and byte
counts are the figures to read, the wall time of (a) is moto-bound.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402
import bench_remote as br  # noqa: E402

ISSUE = 7
TITLE = "API reads: lazy ranged reads at an old revision, cached reads vs pyarrow (issue 7)"

FULL_ROWS = 9_400_000  # c.parquet_file: 20 columns, 1.00 GiB
QUICK_ROWS = 940_000
COLUMNS = ["float0", "int3"]
LAZY_GOAL = 0.20  # fraction of the file's bytes fetched for 2 of 20 columns
SPEED_GOAL = 1.5  # dvx.read_table (cached) / pyarrow (local file)


@contextlib.contextmanager
def _s3(work: Path) -> Any:
    """moto_server (default) or SeaweedFS on loopback; yields its port."""
    if os.environ.get("DVX_BENCH_S3", "moto") != "moto":
        with br.s3_server(work) as (_kind, port):
            yield port
        return
    port = br._free_port()
    base = c.fresh_dir(work / "s3server-api")
    with open(base / "server.log", "wb") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        br._wait_ready(f"http://127.0.0.1:{port}", proc)
        yield port
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _git(repo: Path, *args: str) -> None:
    c.run_cmd(["git", "-C", str(repo), *args])


def _build(ctx: c.Context, repo: Path, data: Path, endpoint: str, env: dict[str, str]) -> None:
    """v1 = the big Parquet file (tag v1); HEAD = a small one; both pushed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dvx = [str(ctx.dvx)]
    c.fresh_dir(repo)
    c.git_init(repo)
    c.run_cmd([*dvx, "init"], cwd=repo, env=env)
    c.run_cmd([*dvx, "remote", "add", "-d", "bench", f"s3://{br.BUCKET}/api-{uuid.uuid4().hex[:8]}"], cwd=repo, env=env)
    c.run_cmd([*dvx, "remote", "modify", "bench", "endpoint_url", endpoint], cwd=repo, env=env)
    c.link_into(data, repo / "data" / "train.parquet")
    c.run_cmd([*dvx, "add", "data/train.parquet"], cwd=repo, env=env)
    _git(repo, "add", "-A")
    _git(repo, "commit", "--no-verify", "-qm", "v1")
    _git(repo, "tag", "v1")
    (repo / "data" / "train.parquet").unlink()
    pq.write_table(pa.table({"float0": [1.0, 2.0]}), repo / "data" / "train.parquet")
    c.run_cmd([*dvx, "add", "data/train.parquet"], cwd=repo, env=env)
    _git(repo, "add", "-A")
    _git(repo, "commit", "--no-verify", "-qm", "v2")
    c.run_cmd([*dvx, "push", "--rev", "v1", "--rev", "HEAD"], cwd=repo, env=env)


def _driver(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    out = c.run_cmd([sys.executable, str(Path(__file__).resolve()), "driver", *args], env=env)
    return json.loads(out.strip().splitlines()[-1])


def _stats(label: str, walls: list[float]) -> c.Stats:
    return c.Stats(cmd=[label], walls=walls, rss_kib=[0] * len(walls), tree_rss_kib=[0] * len(walls),
                   cpu=[0.0] * len(walls))


def run(ctx: c.Context) -> list[c.Result]:
    rows = QUICK_ROWS if ctx.quick else FULL_ROWS
    data = c.parquet_file(rows)
    size = data.stat().st_size
    work = ctx.work / "repos" / "api"
    results: list[c.Result] = []
    with _s3(ctx.work) as port:
        proxy = br.CountingProxy(port)
        env = br._s3_env(ctx)
        try:
            repo = work / "repo"
            _build(ctx, repo, data, proxy.endpoint, env)

            # (a) fresh clone, empty cache: 2 of 20 columns at the old revision
            clone = work / "clone"
            c.remove(clone)
            c.run_cmd(["git", "clone", "-q", str(repo), str(clone)])
            before = proxy.snapshot()
            lazy = _driver(["lazy", str(clone), "v1", *COLUMNS], env)
            d = br.CountingProxy.delta(before, proxy.snapshot())
            frac = d["received"] / size
            note = (f"{d['requests']} requests ({', '.join(f'{k} {v}' for k, v in sorted(d['methods'].items()))}), "
                    f"{d['received'] / c.MiB:.1f} MiB received of a {size / c.MiB:.0f} MiB file; "
                    f"{lazy['raw_bytes'] / c.MiB:.1f} MiB of chunks in {lazy['fills']} fills; "
                    f"{lazy['elapsed']:.2f} s on moto (ranged GETs cost ~object size there)")
            print(f"  [api] lazy: {note}", file=sys.stderr)
            results.append(c.Result(
                bench="api", issue=ISSUE, name=f"read 2 of 20 columns at an old rev, empty cache ({size / c.GiB:.2f} GiB)",
                goal=f"<= {LAZY_GOAL:.0%} of file bytes", ok=frac <= LAZY_GOAL, value=frac * 100, unit="%",
                anchor_name="file", anchor_value=100.0, note=note,
                details={"proxy": d, "file_bytes": size, "dvx_stats": lazy}))
            again = _driver(["lazy", str(clone), "v1", *COLUMNS], env)
            print(f"  [api] same read again: {again['fills']} fills, {again['elapsed']:.2f} s", file=sys.stderr)

            # (b) cached: dvx.read_table at v1 vs pyarrow on the local file
            runs = ctx.n(5)
            for label, cols in (("whole file", []), ("2 of 20 columns", COLUMNS)):
                got = _driver(["cached", str(repo), "v1", str(data), str(runs), *cols], env)
                dvx_st, pa_st = _stats("dvx.read_table", got["dvx"]), _stats("pyarrow", got["pyarrow"])
                ratio = dvx_st.median / pa_st.median
                print(f"  [api] cached {label}: dvx {dvx_st.median:.3f} s, pyarrow {pa_st.median:.3f} s, "
                      f"ratio {ratio:.2f}", file=sys.stderr)
                results.append(c.Result(
                    bench="api", issue=ISSUE, name=f"read_table {label}, cached, old rev ({size / c.GiB:.2f} GiB)",
                    goal=f"dvx/pyarrow <= {SPEED_GOAL}", ok=ratio <= SPEED_GOAL, dvx=dvx_st, anchor=pa_st,
                    anchor_name="pyarrow local", ratio=pa_st.median / dvx_st.median,
                    note=f"dvx/pyarrow = {ratio:.2f} (median of {runs} interleaved in-process runs)"))
        finally:
            proxy.close()
            if not ctx.keep_repos:
                c.remove(work)
    return results


# --------------------------------------------------------------------------
# driver: the measured reads, in a process of their own


def _lazy(repo: str, rev: str, cols: list[str]) -> dict[str, Any]:
    import dvx
    from dvx import versions

    t0 = time.perf_counter()
    t = dvx.read_table("data/train.parquet", rev=rev, columns=cols, repo=repo)
    elapsed = time.perf_counter() - t0
    st = versions.open_view(repo, rev).stats
    return {"elapsed": elapsed, "rows": t.num_rows, "fills": st.fills, "objects": st.objects,
            "raw_bytes": st.raw_bytes}


def _cached(repo: str, rev: str, path: str, runs: int, cols: list[str]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    import dvx

    columns = cols or None
    walls: dict[str, list[float]] = {"dvx": [], "pyarrow": []}
    for i in range(runs + 1):  # one warm-up round, then alternate
        for name in ("pyarrow", "dvx"):
            t0 = time.perf_counter()
            if name == "dvx":
                t = dvx.read_table("data/train.parquet", rev=rev, columns=columns, repo=repo)
            else:
                t = pq.read_table(path, columns=columns)
            wall = time.perf_counter() - t0
            del t
            if i:
                walls[name].append(wall)
    return walls | {"median_ratio": statistics.median(walls["dvx"]) / statistics.median(walls["pyarrow"])}


def main(argv: list[str]) -> int:
    if argv[:1] == ["driver"]:
        kind, args = argv[1], argv[2:]
        if kind == "lazy":
            print(json.dumps(_lazy(args[0], args[1], args[2:])))
        elif kind == "cached":
            print(json.dumps(_cached(args[0], args[1], args[2], int(args[3]), args[4:])))
        else:
            raise SystemExit(f"unknown driver command {kind}")
        return 0
    import run as runner

    return runner.main(["--only", "api", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
