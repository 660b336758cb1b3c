"""Granular pull (issue 14): `dvx pull data/images/c0/s0` against `dvc pull data/images/c0/s0`.

    .venv/bin/python bench/run.py --only granular          # 20,000 files, pull of 200 (1%)
    .venv/bin/python bench/run.py --only granular --quick  # 2,000 files, pull of 20

A fresh clone pulls one leaf folder (1% of the files) of a tracked directory
of 20,000 x 4 KiB files laid out three levels deep (images/c<i>/s<j>/, 100
leaf folders), then the whole directory for reference. Both tools talk to
the same local S3 server through the counting proxy of bench_remote.py, so
requests and bytes received are measured the same way for both. The runs
alternate dvx, dvc, dvx, dvc; each starts from an empty cache and no data.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402
import bench_remote as br  # noqa: E402

ISSUE = 14
TITLE = "Granular pull: 1% of a 20,000-file directory (issue 14)"

FULL = {"classes": 10, "subs": 10, "per_leaf": 200}   # 20,000 files
QUICK = {"classes": 10, "subs": 10, "per_leaf": 20}   # 2,000 files
SIZE = 4096
TARGET = "data/images/c0/s0"


def images_dir(classes: int, subs: int, per_leaf: int, seed: int = 14) -> Path:
    """``classes`` x ``subs`` leaf folders of ``per_leaf`` random 4 KiB files (images/c<i>/s<j>/f<k>.bin)."""
    path = c.DATA_DIR / f"granular-{classes}x{subs}x{per_leaf}"
    params = {"kind": "granular", "classes": classes, "subs": subs, "per_leaf": per_leaf, "size": SIZE, "seed": seed}
    with c._generated(path, params) as tmp:
        if tmp is not None:
            import numpy as np

            rng = np.random.default_rng(seed)
            n = 0
            for i in range(classes):
                for j in range(subs):
                    leaf = tmp / f"c{i}" / f"s{j}"
                    leaf.mkdir(parents=True)
                    blob = rng.integers(0, 256, per_leaf * SIZE, dtype=np.uint8).tobytes()
                    for k in range(per_leaf):
                        (leaf / f"f{n:05d}.bin").write_bytes(blob[k * SIZE:(k + 1) * SIZE])
                        n += 1
    return path


class Side:
    """One tool: an origin repository pushed to s3://bench/<prefix> and a clone that pulls."""

    def __init__(self, tool: br.Tool, root: Path) -> None:
        self.tool = tool
        self.origin = root / f"granular-{tool.name}"
        self.clone = root / f"granular-{tool.name}-clone"

    def setup(self, data: Path) -> None:
        t = self.tool
        t.repo = self.origin
        t.init(f"{t.name}-granular-{uuid.uuid4().hex[:6]}")
        c.link_into(data, self.origin / "data" / "images")
        t.add("data/images")
        c.run_cmd(["git", "-C", str(self.origin), "add", "-A"])
        c.run_cmd(["git", "-C", str(self.origin), "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "data"])
        c.run_cmd(t.push_cmd(), cwd=self.origin, env=t.env)
        c.remove(self.clone)
        c.run_cmd(["git", "clone", "-q", str(self.origin), str(self.clone)])
        t.repo = self.clone
        if isinstance(t, br.Dvc):
            t.site_cache = self.clone.with_name(self.clone.name + ".site-cache")
            t.run("config", "--local", "core.site_cache_dir", t.site_cache)

    def reset(self) -> None:
        """No data and an empty cache (DVC: no tmp index or site cache either)."""
        self.tool.repo = self.clone
        self.tool.drop_cache()
        c.remove(self.clone / "data" / "images")

    def pull(self, *targets: str) -> list[str]:
        return [*self.tool.pull_cmd(), *targets]


def _alternate(proxy: br.CountingProxy, sides: dict[str, Side], targets: tuple[str, ...], runs: int,
               label: str) -> dict[str, tuple[c.Stats, list[dict[str, Any]]]]:
    """Runs alternated side by side (one warm-up round), with each run's traffic through the proxy."""
    walls: dict[str, list[c.Stats]] = {k: [] for k in sides}
    traffic: dict[str, list[dict[str, Any]]] = {k: [] for k in sides}
    for i in range(runs + 1):
        for name, s in sides.items():
            s.reset()
            before = proxy.snapshot()
            st = c.measure(s.pull(*targets), cwd=s.clone, env=s.tool.env, runs=1, warmup=False)
            if i:
                walls[name].append(st)
                traffic[name].append(br.CountingProxy.delta(before, proxy.snapshot()))
    out = {}
    for name, sts in walls.items():
        st = c.Stats(cmd=sts[0].cmd, walls=[w for s in sts for w in s.walls], rss_kib=[r for s in sts for r in s.rss_kib],
                     tree_rss_kib=[r for s in sts for r in s.tree_rss_kib], cpu=[u for s in sts for u in s.cpu])
        out[name] = (st, traffic[name])
        print(f"  {name} {label:<40} median {st.median:7.3f} s  requests {_mid(traffic[name], 'requests')}  "
              f"received {_mid(traffic[name], 'received') / c.MiB:.2f} MiB", file=sys.stderr)
    return out


def _mid(runs: list[dict[str, Any]], key: str) -> int:
    return int(statistics.median(t[key] for t in runs))


def _check(side: Side, expected: int) -> None:
    """The pull wrote exactly the target's files."""
    files = [p for p in (side.clone / "data" / "images").rglob("*") if p.is_file()]
    if len(files) != expected or any(not str(p.parent).endswith("/c0/s0") for p in files):
        raise c.BenchError(f"{side.tool.name}: pull of {TARGET} wrote {len(files)} files, expected {expected} under it")


def run(ctx: c.Context) -> list[c.Result]:
    p = QUICK if ctx.quick else FULL
    total = p["classes"] * p["subs"] * p["per_leaf"]
    data = images_dir(p["classes"], p["subs"], p["per_leaf"])
    root = ctx.work / "repos"
    runs = ctx.n(5)
    results: list[c.Result] = []
    with br.s3_server(ctx.work) as (kind, port):
        proxy = br.CountingProxy(port)
        print(f"[bench] granular: {kind} on 127.0.0.1:{port}, counting proxy on {proxy.port}", file=sys.stderr)
        sides: dict[str, Side] = {}
        if not ctx.skip_dvx:
            sides["dvx"] = Side(br.Dvx(ctx, root / "granular-dvx", proxy.endpoint), root)
        if not ctx.skip_anchor:
            sides["dvc"] = Side(br.Dvc(ctx, root / "granular-dvc", proxy.endpoint), root)
        for s in sides.values():
            s.setup(data)
        part = _alternate(proxy, sides, (TARGET,), runs, f"pull {p['per_leaf']} of {total} files")
        for s in sides.values():
            _check(s, p["per_leaf"])
        full = _alternate(proxy, sides, (), 1, f"pull all {total} files")
        proxy.close()
    name = f"pull {TARGET} ({p['per_leaf']} of {total:,} x 4 KiB files), empty cache"
    dvx, dvc = part.get("dvx"), part.get("dvc")
    details: dict[str, Any] = {}
    notes = []
    for who in sides:
        pr, fr = part[who][1], full[who][1]
        details[who] = {"granular": pr, "full": fr}
        notes.append(f"{who}: {_mid(pr, 'requests')} req / {_mid(pr, 'received') / 1024:.0f} KiB received "
                     f"(full pull: {_mid(fr, 'requests')} req / {_mid(fr, 'received') / c.MiB:.1f} MiB)")
    ratio = None
    if dvx and dvc:
        ratio = statistics.median(b / a for a, b in zip(dvx[0].walls, dvc[0].walls, strict=True) if a > 0)
    results.append(c.Result(bench="granular", issue=ISSUE, name=name, goal="faster than dvc", ok=None if ratio is None
                            else ratio > 1, dvx=None if dvx is None else dvx[0], anchor=None if dvc is None else dvc[0],
                            ratio=ratio, note="; ".join(notes) + "; ratio = median over alternated pairs",
                            details=details))
    for key, what in (("received", "bytes received"), ("requests", "requests")):
        pct = {who: 100.0 * _mid(part[who][1], key) / max(1, _mid(full[who][1], key)) for who in sides}
        results.append(c.Result(bench="granular", issue=ISSUE, name=f"granular pull: {what} / those of a full pull",
                                goal="", ok=None, value=pct.get("dvx"), anchor_value=pct.get("dvc"), unit="%"))
    if not ctx.keep_repos:
        for s in sides.values():
            c.remove(s.origin, s.clone, s.clone.with_name(s.clone.name + ".site-cache"))
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--help":
        print(__doc__)
        sys.exit(0)
    subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "run.py"), "--only", "granular", *sys.argv[1:]],
                   check=False)
