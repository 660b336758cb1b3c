"""Durable writes (issue 12): what ordered, synced writes cost on `add` and `push`.

    .venv/bin/python bench/run.py --only durable          # 1 GiB CSV, 20,000 files
    .venv/bin/python bench/run.py --only durable --quick  # smoke run

- `dvx add` of the 1 GiB CSV, cold cache, with the default configuration
  (every pack fsync'ed, its folder synced, before the index names it)
  against `[cache] fsync = false` (the opt-out, which is the behaviour before
  issue 12: index files synced, packs not). Goal: at most 10% slower.
- `dvx push` of 20,000 x 4 KiB files to a fresh folder remote and to a fresh
  prefix of the loopback S3 server of bench_remote.py (SeaweedFS, or moto
  with DVX_BENCH_S3=moto), with each pack's size read back after its PUT
  (one HEAD per pack and per index; on a folder, a stat and a folder fsync)
  against the same dvx with those checks patched out (the driver below
  replaces `put_file` by the one before issue 12: no read-back; nothing in
  dvx itself turns the checks off).

Each row alternates the two sides run by run (A B A B ...) after one warm-up
pair; the figure is the median over the pairs of opt-out / durable wall time
(1.0: no cost; 0.909: 10% slower). Before every run, outside the timing, the
cache or remote is reset and `sync` is called, so no run pays for the
writeback of the one before it. Peak RSS is in the usual columns.
"""

from __future__ import annotations

import os
import runpy
import statistics
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

ISSUE = 12
TITLE = "Durable writes: add and push with fsync / size checks against without (issue 12)"

FULL = {"csv_rows": 7_150_000, "files": 20_000}
QUICK = {"csv_rows": 430_000, "files": 2_000}
GOAL = 1 / 1.10  # opt-out time / durable time: at most 10% slower
_KEEP = {"config", "config.local", ".gitignore"}


def _driver_cmd(mode: str, *args: str) -> list[str]:
    """dvx run in-process by this file (``plain``: as it is; ``nocheck``: without size checks)."""
    return [sys.executable, str(Path(__file__).resolve()), "driver", mode, *args]


def _env(ctx: c.Context) -> dict[str, str]:
    env = ctx.env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(c.PROJECT_DIR), env.get("PYTHONPATH", "")) if p)
    return env


def _reset_cache(repo: Path, target: str) -> None:
    d = repo / ".dvx"
    for p in d.iterdir():
        if p.name not in _KEEP:
            c.remove(p)
    (d / "cache").mkdir()
    (d / "tmp").mkdir()
    c.remove(repo / f"{target}.dvx", repo / ".gitignore")
    os.sync()


def _pair_ratio(fast: c.Stats, durable: c.Stats) -> float:
    return statistics.median(a / b for a, b in zip(fast.walls, durable.walls, strict=True) if b > 0)


def _row(name: str, durable: c.Stats, fast: c.Stats, fast_name: str, note: str) -> c.Result:
    ratio = _pair_ratio(fast, durable)
    return c.Result(bench="durable", issue=ISSUE, name=name, goal=f"ratio >= {GOAL:.3f} (<= 10% slower)",
                    ok=ratio >= GOAL, dvx=durable, anchor=fast, anchor_name=fast_name, ratio=ratio,
                    note=f"ratio = median over alternated pairs of {fast_name} / durable wall time; {note}",
                    details={"slowdown_pct": round(100 * (1 / ratio - 1), 1) if ratio > 0 else None})


def _bench_add(ctx: c.Context, csv: Path) -> c.Result:
    env = ctx.env()
    sides: dict[str, Path] = {}
    for name, fsync in (("durable", True), ("nofsync", False)):
        repo = ctx.work / "repos" / f"durable-add-{name}"
        c.fresh_dir(repo)
        c.git_init(repo)
        c.run_cmd([ctx.dvx, "init"], cwd=repo, env=env)
        cfg = repo / ".dvx" / "config"
        text = cfg.read_text()
        if not fsync:
            if "fsync = true" not in text:
                raise c.BenchError(f"{cfg}: no `fsync = true` to turn off")
            cfg.write_text(text.replace("fsync = true", "fsync = false"))
        c.link_into(csv, repo / "data.csv")
        sides[name] = repo
    specs = {name: c.Spec([str(ctx.dvx), "add", "data.csv"], repo, env,
                          lambda repo=repo: _reset_cache(repo, "data.csv"))
             for name, repo in sides.items()}
    gib = csv.stat().st_size / c.GiB
    st = c.measure_interleaved(specs, runs=ctx.n(5), label=f"add {gib:.2f} GiB CSV")
    if not ctx.keep_repos:
        c.remove(*sides.values())
    return _row(f"add {gib:.2f} GiB CSV, cold: default (durable) vs fsync = false", st["durable"],
                st["nofsync"], "dvx fsync=false", "same dvx, [cache] fsync = false in the other repo")


def _bench_push(ctx: c.Context, small: Path, files: int, kind: str, new_url: Callable[[str], str],
                env: dict[str, str], endpoint: str | None) -> c.Result:
    """Push the tracked folder to a new remote location per run (``new_url(side)``)."""
    repo = ctx.work / "repos" / f"durable-push-{kind}"
    c.fresh_dir(repo)
    c.git_init(repo)
    c.run_cmd(_driver_cmd("plain", "init"), cwd=repo, env=env)
    c.link_into(small, repo / "files")
    c.run_cmd(_driver_cmd("plain", "add", "files"), cwd=repo, env=env)
    first = new_url("setup")
    c.run_cmd(_driver_cmd("plain", "remote", "add", "-d", "bench", first), cwd=repo, env=env)
    if endpoint:
        c.run_cmd(_driver_cmd("plain", "remote", "modify", "bench", "endpoint_url", endpoint), cwd=repo, env=env)

    def fresh(side: str) -> None:
        url = new_url(side)
        c.run_cmd(_driver_cmd("plain", "remote", "modify", "bench", "url", url), cwd=repo, env=env)
        os.sync()

    specs = {side: c.Spec(_driver_cmd(mode, "push"), repo, env, lambda side=side: fresh(side))
             for side, mode in (("durable", "plain"), ("nocheck", "nocheck"))}
    st = c.measure_interleaved(specs, runs=ctx.n(5), label=f"push {files:,} files ({kind})")
    if not ctx.keep_repos:
        c.remove(repo)
    what = "a stat and a folder fsync per pack and index" if kind == "folder" else "one HEAD per pack and index"
    return _row(f"push {files:,} x 4 KiB files to a {kind} remote: size checks vs none", st["durable"],
                st["nocheck"], "dvx without checks", f"the checks cost {what}")


def run(ctx: c.Context) -> list[c.Result]:
    if ctx.skip_dvx:
        return []
    p = QUICK if ctx.quick else FULL
    csv = c.csv_file(p["csv_rows"])
    small = c.small_files_dir(p["files"])
    results = [_bench_add(ctx, csv)]
    env = _env(ctx)

    remotes = ctx.work / "repos" / "durable-remotes"
    c.fresh_dir(remotes)
    count = [0]

    def new_folder(side: str) -> str:
        count[0] += 1
        return str(remotes / f"{side}-{count[0]}")

    results.append(_bench_push(ctx, small, p["files"], "folder", new_folder, env, None))
    c.remove(remotes)

    import bench_remote as br

    with br.s3_server(ctx.work) as (kind, port):
        s3env = br._s3_env(ctx)
        s3env["PYTHONPATH"] = env["PYTHONPATH"]
        tag = uuid.uuid4().hex[:6]

        def new_prefix(side: str) -> str:
            count[0] += 1
            return f"s3://{br.BUCKET}/durable-{tag}-{side}-{count[0]}"

        results.append(_bench_push(ctx, small, p["files"], f"S3 ({kind})", new_prefix, s3env,
                                   f"http://127.0.0.1:{port}"))
    if ctx.quick:
        for r in results:
            r.ok = None
            r.goal += " (full size)"
    return results


def _driver(mode: str, args: list[str]) -> None:
    """Run the dvx CLI in this process; ``nocheck`` first puts back the pre-issue-12 ``put_file``."""
    if mode == "nocheck":
        import dvx.store.copy
        import dvx.store.pack
        from dvx._fsutil import atomic_write
        from dvx.store import layout

        def put_file(fs: object, local: bool, path: str, data: bytes, *, fsync: bool = True,
                     check: bool = True) -> None:
            del check  # no read-back, no folder fsync: as before issue 12
            if local:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                atomic_write(path, data, fsync=fsync)
                return
            layout.pipe(fs, path, data)

        dvx.store.copy.put_file = put_file  # type: ignore[assignment]
        dvx.store.pack.put_file = put_file  # type: ignore[assignment]
    elif mode != "plain":
        raise SystemExit(f"unknown driver mode {mode!r}")
    sys.argv = ["dvx", *args]
    runpy.run_module("dvx", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "driver":
        _driver(sys.argv[2], sys.argv[3:])
    else:
        print(__doc__)
