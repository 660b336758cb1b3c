"""dvx against an earlier dvx: add, status, push and pull at a base commit and at
the working tree, alternated run by run.

    .venv/bin/python bench/run.py --only revs --base b6ccc67

A refactoring must not make the everyday commands slower. The base commit is
checked out with `git worktree` into bench/.work/base-<sha> (the compiled
chunker is copied from this tree when the base's C source is the same, else
built there), and both sides run as `python -m dvx` from the project's .venv
with PYTHONPATH pointing at their source tree, so they start the same way.
Each side has its own repository and folder remote; the runs alternate
(base, head, base, head, ...) and the figure is the median of the per-pair
ratios base/head (above 1: the working tree is faster). Without --base the
module does nothing.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import _common as c

TITLE = "dvx at a base commit against the working tree (add, status, push, pull)"
ISSUE = 11
GOAL = "ratio >= 0.95"  # no worse than before, within the noise of a shared machine


def _base_tree(rev: str) -> Path:
    """A worktree of ``rev`` with a compiled chunker, made once per commit."""
    sha = c.run_cmd(["git", "-C", str(c.PROJECT_DIR), "rev-parse", "--short=12", rev]).strip()
    tree = c.DEFAULT_WORK_DIR / f"base-{sha}"
    if not (tree / "dvx").is_dir():
        c.remove(tree)
        subprocess.run(["git", "-C", str(c.PROJECT_DIR), "worktree", "prune"], check=False)
        c.run_cmd(["git", "-C", str(c.PROJECT_DIR), "worktree", "add", "--detach", str(tree), sha])
    if not list((tree / "dvx").glob("_cdc*.so")):
        same = subprocess.run(["git", "-C", str(c.PROJECT_DIR), "diff", "--quiet", sha, "--", "dvx/_cdc.c"]).returncode == 0
        built = list((c.PROJECT_DIR / "dvx").glob("_cdc*.so"))
        if same and built:
            shutil.copy2(built[0], tree / "dvx" / built[0].name)
        else:
            c.run_cmd([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tree)
    return tree


class Side:
    """One dvx source tree with its own repository, clone and folder remote."""

    def __init__(self, ctx: c.Context, name: str, src: Path) -> None:
        self.name = name
        self.env = ctx.env()
        self.env["PYTHONPATH"] = str(src)
        self.cmd = [str(c.PROJECT_DIR / ".venv" / "bin" / "python"), "-m", "dvx"]
        # Bytecode compiled as `make install` does (PYTHONDONTWRITEBYTECODE is set here): otherwise
        # every run compiles each module it imports, and a tree of more, smaller modules pays more.
        c.run_cmd([self.cmd[0], "-m", "compileall", "-q", str(src / "dvx")])
        base = c.WORK_DIR / "repos" / f"revs-{name}"
        self.repo, self.clone, self.remote = base / "repo", base / "clone", base / "remote"

    def dvx(self, *args: str) -> list[str]:
        return [*self.cmd, *args]

    def run(self, cwd: Path, *args: str) -> str:
        return c.run_cmd(self.dvx(*args), cwd=cwd, env=self.env)

    def setup(self, data: Path) -> None:
        c.fresh_dir(self.repo.parent)
        c.fresh_dir(self.repo)
        c.git_init(self.repo)
        self.run(self.repo, "init")
        self.remote.mkdir()
        self.run(self.repo, "remote", "add", "-d", "store", str(self.remote))
        c.link_into(data, self.repo / "data" / data.name)
        self.target = f"data/{data.name}"

    def reset_cache(self) -> None:
        """Drop everything dvx keeps (cache, stat cache) and the pointer: a cold add."""
        d = self.repo / ".dvx"
        for p in d.iterdir():
            if p.name not in ("config", "config.local", ".gitignore"):
                c.remove(p)
        c.remove(self.repo / f"{self.target}.dvx")

    def empty_remote(self) -> None:
        c.remove(self.remote)
        self.remote.mkdir()

    def make_clone(self) -> None:
        subprocess.run(["git", "-C", str(self.repo), "add", "-A"], check=True, capture_output=True)
        subprocess.run(["git", "-C", str(self.repo), "-c", "user.name=b", "-c", "user.email=b@b",
                        "commit", "-qm", "data"], check=True, capture_output=True)
        c.remove(self.clone)
        c.run_cmd(["git", "clone", "-q", str(self.repo), str(self.clone)])

    def reset_clone(self) -> None:
        """The clone without data or cache: a pull fetches and checks out everything."""
        for p in (self.clone / ".dvx").iterdir():
            if p.name not in ("config", "config.local", ".gitignore"):
                c.remove(p)
        c.remove(self.clone / self.target)


def _pair_ratio(stats: dict[str, c.Stats]) -> float:
    """Median of base/head over the alternated pairs."""
    return statistics.median(b / h for b, h in zip(stats["base"].walls, stats["head"].walls, strict=True) if h > 0)


def _result(name: str, stats: dict[str, c.Stats], rev: str) -> c.Result:
    ratio = _pair_ratio(stats)
    return c.Result(bench="revs", issue=ISSUE, name=name, goal=GOAL, ok=ratio >= 0.95,
                    dvx=stats["head"], anchor=stats["base"], anchor_name=f"dvx@{rev}", ratio=ratio,
                    note="ratio = median over alternated pairs of base/head wall time")


def run(ctx: c.Context) -> list[c.Result]:
    rev = ctx.base
    if not rev:
        print("[bench] revs: no --base REV given; skipped", file=sys.stderr)
        return []
    rows = 200_000 if ctx.quick else 4_000_000
    data = c.csv_file(rows)
    sides = {"base": Side(ctx, "base", _base_tree(rev)), "head": Side(ctx, "head", c.PROJECT_DIR)}
    for s in sides.values():
        s.setup(data)
    runs = ctx.n(5)
    size = f"{data.stat().st_size / c.MiB:.0f} MiB CSV"
    out: list[c.Result] = []

    def specs(cmd: tuple[str, ...], cwd: str, setup: str | None) -> dict[str, c.Spec]:
        return {k: c.Spec(s.dvx(*cmd), getattr(s, cwd), s.env, getattr(s, setup) if setup else None)
                for k, s in sides.items()}

    st = c.measure_interleaved(specs(("add", sides["head"].target), "repo", "reset_cache"), runs, label="add (cold)")
    out.append(_result(f"dvx add, {size}, cold cache", st, rev))
    files = 2_000 if ctx.quick else 20_000
    many = c.small_files_dir(files)
    for s in sides.values():
        c.link_into(many, s.repo / "data" / "many")
        s.run(s.repo, "add", "data/many")
    st = c.measure_interleaved(specs(("status",), "repo", None), runs, label="status")
    out.append(_result(f"dvx status, {size} and {files:,} small files unchanged", st, rev))
    st = c.measure_interleaved(specs(("push",), "repo", "empty_remote"), runs, label="push")
    out.append(_result(f"dvx push to a folder remote, {size} and {files:,} files", st, rev))
    for s in sides.values():
        s.run(s.repo, "push")
        s.make_clone()
    st = c.measure_interleaved(specs(("pull",), "clone", "reset_clone"), runs, label="pull")
    out.append(_result(f"dvx pull from a folder remote, {size} and {files:,} files, empty cache", st, rev))
    # Versioned read of the whole file from the cache (the work-tree copy removed, so every byte
    # goes through the chunk reader and its verification).
    code = ("import sys, dvx\n"
            "with dvx.open(sys.argv[1], rev='HEAD') as f:\n"
            "    while f.read(8 << 20): pass\n")
    for s in sides.values():
        c.remove(s.clone / s.target)
    st = c.measure_interleaved({k: c.Spec([s.cmd[0], "-c", code, s.target], s.clone, s.env) for k, s in sides.items()},
                               runs, label="read")
    out.append(_result(f"dvx.open(rev='HEAD').read() of the {size} from the cache", st, rev))
    if not ctx.keep_repos:
        for s in sides.values():
            c.remove(s.repo.parent)
    return out
