"""Garbage collection (issue 12): `dvx gc -w` against `dvc gc -w -f` on the same git history.

Both tools get the same two commits in their own repo: commit 1 tracks a
folder of 20,000 random files (v1), commit 2 the same folder with every
other file replaced (v2). The caches then hold about 2 GiB, a third of it
only v1 needs (the replaced halves); `gc -w` keeps v2 only. dvx's cache is
packs (each about half garbage: dvx repacks those above `[gc] repack`),
DVC's one file per object.

Each timed run works on a fresh copy of the prepared repository (made in
the setup, outside the timing: the cache is hard-linked, since neither tool
rewrites a cache file in place, and everything else is copied). The runs
alternate (dvx, dvc, dvx, dvc, ...); the figure is the median of the
per-pair ratios. dvx runs with `[gc] grace = "0s"` in `.dvx/config.local`:
its packs were written seconds ago, and the default 1h grace would keep them.
"""

from __future__ import annotations

import os
import shutil
import statistics
from pathlib import Path

import _common as c
from bench_core import Dvc, Dvx, Tool

ISSUE = 12
TITLE = "Garbage collection: gc -w (issue 12)"

# Two histories of 20,000 files. "replaced": commit 2 replaces every file, so
# the 2 GiB cache is half garbage (the issue's figure; v1's packs are wholly
# garbage). "every other": commit 2 replaces every other file, so each of v1's
# packs is about half garbage and dvx repacks those above [gc] repack: 2 x 1.33
# GiB written, 2.0 GiB cached, a third of it garbage.
SCENARIOS = {
    "replaced": {"files": 20_000, "size": 53_687, "every": 1},
    "every other": {"files": 20_000, "size": 71_600, "every": 2},
}
QUICK = {"files": 2_000, "size": 16_384}
GOAL = 5.0  # dvc gc time / dvx gc time

_MADE: list[Path] = []


def _other(v1: Path, seed: int = 5) -> Path:
    """New random bytes for every file of ``v1`` (same names and sizes)."""
    path = c.DATA_DIR / f"gc-other-{v1.name}"
    with c._generated(path, {"kind": "gc-other", "of": v1.name, "seed": seed}) as tmp:
        if tmp is not None:
            import numpy as np

            rng = np.random.default_rng(seed)
            for src in sorted(p for p in v1.rglob("*") if p.is_file()):
                dst = tmp / src.relative_to(v1)
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(rng.integers(0, 256, src.stat().st_size, dtype=np.uint8).tobytes())
    return path


def _version2(v1: Path, other: Path, dst: Path, every: int) -> None:
    """v1 with every ``every``-th file taken from ``other`` (hard links: no bytes copied)."""
    c.fresh_dir(dst)
    for k, src in enumerate(sorted(p for p in v1.rglob("*") if p.is_file())):
        rel = src.relative_to(v1)
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(other / rel if k % every == every - 1 else src, dst / rel)


def _commit(tool: Tool, src: Path, msg: str) -> None:
    c.link_into(src, tool.repo / "data")
    c.run_cmd(tool.add_cmd("data"), cwd=tool.repo, env=tool.env)
    c.run_cmd(["git", "add", "-A"], cwd=tool.repo)
    c.run_cmd(["git", "commit", "-qm", msg], cwd=tool.repo)


def _copy(src: Path, dst: Path) -> None:
    """``src`` to ``dst``: cache files and data hard-linked, the rest (git, tmp, state DBs) copied."""
    c.remove(dst)

    def copy(s: str, d: str) -> None:
        rel = os.path.relpath(s, src)
        linked = rel.startswith((".dvx/cache/", ".dvc/cache/", "data/"))
        if linked:
            os.link(s, d)
        else:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=copy, symlinks=True)


def _gc_cmd(tool: Tool) -> list[str]:
    if isinstance(tool, Dvc):
        return [str(tool.exe), "gc", "-w", "-f", "-q"]
    return [str(tool.ctx.dvx), "gc", "-w", "-f", "-q"]


def run(ctx: c.Context) -> list[c.Result]:
    return [_run(ctx, name, {**sc, **QUICK} if ctx.quick else sc) for name, sc in SCENARIOS.items()]


def _run(ctx: c.Context, scenario: str, p: dict[str, int]) -> c.Result:
    v1 = c.small_files_dir(p["files"], size=p["size"], seed=3)
    other = _other(v1)
    root = ctx.work / "repos"
    v2 = root / "gc-v2"
    _version2(v1, other, v2, p["every"])
    _MADE.append(v2)
    tools: list[Tool] = []
    if not ctx.skip_dvx:
        tools.append(Dvx(ctx, root / "dvx-gc-prepared"))
    if not ctx.skip_anchor:
        tools.append(Dvc(ctx, root / "dvc-gc-prepared"))
    specs: dict[str, c.Spec] = {}
    before: dict[str, int] = {}
    for tool in tools:
        _MADE.append(tool.repo)
        tool.setup_repo()
        if isinstance(tool, Dvx):
            (tool.repo / ".dvx" / "config.local").write_text('[gc]\ngrace = "0s"\n')
        else:
            _MADE.append(tool.site_cache)
        _commit(tool, v1, "v1")
        _commit(tool, v2, "v2")
        before[tool.name] = c.tree_bytes(tool.cache)
        work = root / f"{tool.name}-gc-run"
        _MADE.append(work)
        specs[tool.name] = c.Spec(_gc_cmd(tool), work, tool.env, lambda t=tool, w=work: _copy(t.repo, w))
    stats = c.measure_interleaved(specs, runs=ctx.n(3), label=f"gc -w, {p['files']} files, {scenario}")
    after: dict[str, int] = {}
    for tool in tools:  # the last timed run's result is in place
        cache = root / f"{tool.name}-gc-run" / (".dvx" if isinstance(tool, Dvx) else ".dvc") / "cache"
        after[tool.name] = c.tree_bytes(cache)
    ratio = None
    if "dvx" in stats and "dvc" in stats:
        pairs = [b / a for a, b in zip(stats["dvx"].walls, stats["dvc"].walls, strict=True) if a > 0]
        ratio = statistics.median(pairs) if pairs else None
    if not ctx.keep_repos:
        c.remove(*(q for q in dict.fromkeys(_MADE) if q.exists()))
        _MADE.clear()
    mib = {k: round(v / c.MiB, 1) for k, v in after.items()}
    note = ", ".join(f"{k} cache {before[k] / c.MiB:.0f} -> {mib[k]:.0f} MiB" for k in after)
    share = {1: "half", 2: "a third"}.get(p["every"], "some")
    return c.Result(
        bench="gc", issue=ISSUE,
        name=f"gc -w, {p['files']} files, {scenario} ({share} garbage), {before.get('dvx', 0) / c.GiB:.2f} GiB cache",
        goal=f"ratio >= {GOAL:g}", ok=None if ratio is None else ratio >= GOAL,
        dvx=stats.get("dvx"), anchor=stats.get("dvc"), ratio=ratio, note=note,
        details={"cache_bytes_before": before, "cache_bytes_after": after, "files": p["files"],
                 "file_size": p["size"], "scenario": scenario,
                 "ratio": "median of per-pair ratios (runs alternated)"},
    )
