"""File-level `status` and `diff` (issue 14): a 20,000-file directory with 10 files changed, dvx vs DVC.

    .venv/bin/python bench/run.py --only status_diff
    .venv/bin/python bench/run.py --only status_diff --quick     # 2,000 files: a smoke run

Each tool has its own repository holding the directory (`add` and commit not
timed). Ten files are then changed (6 rewritten, 2 deleted, 2 added: the
same files for both tools) and timed are:

- `status`: the workspace against the committed directory (`dvx status`,
  `dvc status`); both must name the directory as changed, and dvx lists the
  10 files;
- `diff HEAD~1 HEAD`: after the change is added and committed, the two
  commits' trees compared file by file (`dvx diff`, `dvc diff`); both must
  list the 10 files.

Runs alternate (dvx, dvc, dvx, dvc, ...) after one warm-up each, so both see
the same load; the warm-up also fills each tool's stat cache / state database.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import _common as c

TITLE = "File-level status and diff of a 20,000-file directory, 10 files changed (issue 14)"
ISSUE = 14
GOAL = 3.0  # dvc time / dvx time
FILES = 20_000
QUICK_FILES = 2_000


class Side:
    """One tool's repository and its commands."""

    def __init__(self, ctx: c.Context, name: str, exe: list[str]) -> None:
        self.name = name
        self.exe = exe
        self.env = ctx.env()
        self.repo = c.WORK_DIR / "repos" / f"status-diff-{name}"
        self.site_cache = self.repo.with_name(self.repo.name + ".site-cache")

    def run(self, *args: str) -> str:
        return c.run_cmd([*self.exe, *args], cwd=self.repo, env=self.env)

    def git(self, *args: str) -> None:
        subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True)

    def setup(self, src: Path) -> None:
        c.remove(self.repo, self.site_cache)
        c.fresh_dir(self.repo)
        c.git_init(self.repo)
        if self.name == "dvc":
            for cmd in (["init", "-q"], ["config", "core.analytics", "false"],
                        ["config", "core.site_cache_dir", str(self.site_cache)]):
                self.run(*cmd)
        else:
            self.run("init")
        c.link_into(src, self.repo / "small")
        self.run("add", "small")
        self.git("add", "-A")
        self.git("commit", "-qm", "v1")

    def add_and_commit(self) -> None:
        self.run("add", "small")
        self.git("add", "-A")
        self.git("commit", "-qm", "v2")


def _change(top: Path) -> list[str]:
    """Rewrite 6 files, delete 2, add 2 (hard links are broken first: the generated data is shared)."""
    files = sorted(p for p in top.rglob("*.bin"))
    step = len(files) // 8
    picked = [files[i * step] for i in range(8)]
    changed = []
    for i, p in enumerate(picked):
        p.unlink()
        if i < 6:
            p.write_bytes(b"changed %d\n" % i * 400)
        changed.append(p.relative_to(top.parent).as_posix())
    for i in range(2):
        p = top / "d00" / f"new{i}.bin"
        p.write_bytes(b"added %d\n" % i * 400)
        changed.append(p.relative_to(top.parent).as_posix())
    return changed


def _names_all(out: str, changed: list[str]) -> bool:
    return all(f in out for f in changed)


def _result(name: str, stats: dict[str, c.Stats], ok_output: bool, quick: bool, details: dict) -> c.Result:
    dvx, dvc = stats.get("dvx"), stats.get("dvc")
    ok = None if dvx is None or dvc is None or quick else dvc.median / dvx.median >= GOAL and ok_output
    return c.Result(bench="status_diff", issue=ISSUE, name=name, goal=f"ratio >= {GOAL:g}" + (" (full size)" if quick else ""),
                    ok=ok, dvx=dvx, anchor=dvc, note="" if ok_output else "an output did not name the changed files",
                    details=details)


def run(ctx: c.Context) -> list[c.Result]:
    files = QUICK_FILES if ctx.quick else FILES
    src = c.small_files_dir(files)
    sides: list[Side] = []
    if not ctx.skip_dvx:
        sides.append(Side(ctx, "dvx", [str(ctx.dvx)]))
    if not ctx.skip_anchor:
        sides.append(Side(ctx, "dvc", [str(c.ensure_venv("dvc", c.DVC_PACKAGES) / "bin" / "dvc")]))
    changed: list[str] = []
    for s in sides:
        s.setup(src)
        changed = _change(s.repo / "small")
    runs = ctx.n(5)
    label = f"{files:,}-file dir, 10 files changed"
    out: list[c.Result] = []

    st = c.measure_interleaved({s.name: c.Spec([*s.exe, "status"], s.repo, s.env) for s in sides}, runs,
                               label=f"status, {label}")
    texts = {s.name: s.run("status") for s in sides}
    # dvc status names the directory only; dvx lists the files.
    ok = all("small" in t for t in texts.values()) and ("dvx" not in texts or _names_all(texts["dvx"], changed))
    out.append(_result(f"status, {label}", st, ok, ctx.quick, {"output": {k: v[-2000:] for k, v in texts.items()}}))

    for s in sides:
        s.add_and_commit()
    st = c.measure_interleaved({s.name: c.Spec([*s.exe, "diff", "HEAD~1", "HEAD"], s.repo, s.env) for s in sides},
                               runs, label=f"diff HEAD~1 HEAD, {label}")
    texts = {s.name: s.run("diff", "HEAD~1", "HEAD", "--json") for s in sides}
    listed = {k: json.dumps(json.loads(v)) for k, v in texts.items()}
    ok = all(_names_all(t, changed) for t in listed.values())
    out.append(_result(f"diff HEAD~1 HEAD, {label}", st, ok, ctx.quick, {"output": {k: v[-2000:] for k, v in texts.items()}}))

    if not ctx.keep_repos:
        for s in sides:
            c.remove(s.repo, s.site_cache)
    return out
