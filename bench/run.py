"""Run the dvx benchmarks: every bench/bench_*.py, or the ones named by --only.

    .venv/bin/python bench/run.py                      # everything, full size
    .venv/bin/python bench/run.py --quick              # smoke run, small data
    .venv/bin/python bench/run.py --only core --json out.json --markdown out.md

Each module exposes `run(ctx: _common.Context) -> list[_common.Result]` and
optional `TITLE` / `ISSUE`. Results print as one table; --json writes every
figure with the raw per-run numbers, --markdown the tables for
docs/benchmarks.md. Exit status 1 when a benchmark failed to run (with
--strict also when a goal was missed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import _common as c  # noqa: E402


def discover() -> list[str]:
    """Short names ("core", "remote", ...) of every bench/bench_*.py, sorted."""
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unavailable"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError):
        mem_kib = 0
    commit = _version(["git", "-C", str(c.PROJECT_DIR), "rev-parse", "--short", "HEAD"])
    return {"cores": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), "kernel": platform.release(),
            "project_commit": commit}


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the selected benchmarks, print and write results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only bench_NAME.py (repeatable; comma lists allowed)")
    ap.add_argument("--quick", action="store_true", help="small data, 2 runs: a smoke run")
    ap.add_argument("--runs", type=int, help="timed runs per measurement (default: per bench)")
    ap.add_argument("--json", type=Path, metavar="PATH", help="write all results as JSON")
    ap.add_argument("--markdown", type=Path, metavar="PATH", help="write Markdown tables")
    ap.add_argument("--dvx", type=Path, default=c.PROJECT_DIR / ".venv" / "bin" / "dvx",
                    help="dvx executable under test (default: .venv/bin/dvx)")
    ap.add_argument("--skip-dvx", action="store_true", help="run only the anchor side")
    ap.add_argument("--skip-anchor", action="store_true", help="run only the dvx side")
    ap.add_argument("--keep-big", action="store_true", help="keep the 10 GiB file afterwards")
    ap.add_argument("--keep-repos", action="store_true", help="keep bench/.work/repos")
    ap.add_argument("--work", type=Path, metavar="DIR",
                    help="put data and repos under DIR (default bench/.work; e.g. a tmpfs to"
                         " take disk writeback out of the timings)")
    ap.add_argument("--base", metavar="REV",
                    help="bench_revs: the earlier dvx commit to compare the working tree with")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)

    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    wanted = [n.strip().removeprefix("bench_").removesuffix(".py")
              for item in args.only for n in item.split(",") if n.strip()]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        ap.error(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(names)})")
    selected = [n for n in names if not wanted or n in wanted]
    if not args.skip_dvx and not args.dvx.exists():
        ap.error(f"{args.dvx}: no dvx executable; run `make install` or pass --dvx/--skip-dvx")

    if args.work is not None:
        c.use_work_dir(args.work)
    ctx = c.Context(quick=args.quick, runs=args.runs, dvx=args.dvx.resolve(), work=c.WORK_DIR,
                    keep_big=args.keep_big, keep_repos=args.keep_repos,
                    skip_dvx=args.skip_dvx, skip_anchor=args.skip_anchor, base=args.base)
    started = dt.datetime.now(dt.UTC)
    meta: dict[str, Any] = {
        "command": shlex.join([".venv/bin/python", "bench/run.py", *(argv or sys.argv[1:])]),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"), "quick": args.quick,
        "work_dir": str(c.WORK_DIR),
        "machine": machine(), "loadavg_start": os.getloadavg(),
        "dvx_version": "skipped" if args.skip_dvx else _version([str(ctx.dvx), "--version"]),
    }
    results: list[c.Result] = []
    sections: list[dict[str, Any]] = []
    failed: list[str] = []
    for name in selected:
        mod = importlib.import_module(f"bench_{name}")
        title = getattr(mod, "TITLE", name)
        print(f"[bench] {name}: {title}", file=sys.stderr)
        t0 = time.perf_counter()
        load0 = os.getloadavg()
        try:
            got = list(mod.run(ctx))
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(name)
            continue
        results += got
        sections.append({"bench": name, "title": title, "issue": getattr(mod, "ISSUE", None),
                         "seconds": round(time.perf_counter() - t0, 1),
                         "loadavg_before": load0, "loadavg_after": os.getloadavg(),
                         "results": [r.to_dict() for r in got]})
    meta["loadavg_end"] = os.getloadavg()
    meta["dvc_version"] = _version([str(c.BENCH_DIR / ".venv-dvc" / "bin" / "dvc"), "--version"])

    print()
    c.print_table(results)
    if failed:
        print(f"\nfailed to run: {', '.join(failed)}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "sections": sections}, indent=1) + "\n")
    if args.markdown:
        by_bench: dict[str, list[c.Result]] = {}
        for r in results:
            by_bench.setdefault(r.bench, []).append(r)
        la0, la1 = meta["loadavg_start"][0], meta["loadavg_end"][0]
        parts = [f"Command: `{meta['command']}`  \n"
                 f"Date: {meta['date']}; dvx {meta['dvx_version'].split()[-1]}, "
                 f"dvc {meta['dvc_version']}; project commit "
                 f"{meta['machine']['project_commit']}; 1-minute load average "
                 f"{la0:.1f} at start, {la1:.1f} at end ({meta['machine']['cores']} cores)\n"]
        for s in sections:
            rs = by_bench.get(s["bench"], [])
            notes = "".join(f"- {r.name}: {r.note}\n" for r in rs if r.note)
            parts.append(f"### {s['title']}\n\n" + c.markdown_table(rs)
                         + (f"\n{notes}" if notes else ""))
        args.markdown.write_text("\n".join(parts))
    missed = [r.name for r in results if r.ok is False]
    if missed:
        print(f"goals missed: {'; '.join(missed)}", file=sys.stderr)
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
