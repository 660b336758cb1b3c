"""Long mode of the kill-point suite: at least 1,000 SIGKILLs, with the figures for docs/reliability.md.

    .venv/bin/python bench/reliability.py                 # 1,000 kill points
    .venv/bin/python bench/reliability.py --points 5000 --jobs 2

It runs tests/reliability/test_killpoints.py with ``DVX_KILLPOINTS`` set,
collects each campaign's figures (JSON lines written by the harness) and
prints one table. Not a benchmark (run.py does not pick it up): it measures
nothing about speed; exit status 1 when a kill point failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--points", type=int, default=1000, help="kill points in total (default 1000)")
    ap.add_argument("--jobs", type=int, default=2, help="campaigns run side by side (pytest -n)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dvx-killpoints-") as tmp:
        report = Path(tmp) / "report.jsonl"
        env = dict(os.environ, DVX_KILLPOINTS=str(args.points), DVX_KILLPOINTS_REPORT=str(report))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(args.jobs),
               "tests/reliability/test_killpoints.py"]
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=ROOT, env=env)
        wall = time.perf_counter() - t0
        rows = [json.loads(ln) for ln in report.read_text().splitlines()] if report.exists() else []
    killed: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    for r in rows:
        killed.update(r["killed"])
        finished.update(r["finished"])
        print(f"{r['remote']:6} seed {r['seed']}: {r['points']} kills in {r['rounds']} rounds, "
              f"{r['versions']} versions ({r['versions_checked']} fresh-clone pulls checked), "
              f"{r['debris_after_kill']} kills left work-tree temp files, "
              f"{r['cache_tmp_after_kill']} left cache temp files; {r['seconds']} s")
    print(f"total: {sum(r['points'] for r in rows)} kill points, {sum(r['rounds'] for r in rows)} rounds, "
          f"wall {wall:.0f} s, exit {rc}")
    print("kills landed per command:", dict(sorted(killed.items())))
    print("finished before the kill:", dict(sorted(finished.items())))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
