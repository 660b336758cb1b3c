"""Issue 6: latency of the dvx pre-commit hook on a real `git commit`.

Two repositories' worth of work in one: a dvx repository with its hooks
installed (`dvx init`), one 200k-row CSV bound to a 3-expectation suite.
Each timed run is a whole `git commit` process; the anchor is the same commit
with `--no-verify` (git alone, no hook), runs interleaved so both see the
same machine load:

- a commit touching no tracked dataset (a README edit): the hook's shell
  prefilter answers without starting Python. Goal: < 0.3 s;
- a commit of a dataset version whose validation and drift results are
  stored (the data flips between two versions A and B that were both gated
  once before timing): Python starts, reads the staged pointer, the stored
  results and the stored drift report, and reads no data. Goal: < 0.5 s;
- a commit that changes only the suite bound to the dataset (issue 13): the
  hook re-checks the dataset against the staged suite; both suite versions
  were gated once, so their results are stored. Goal: < 0.5 s;
- for reference, `dvx check --staged` with nothing staged (the cost of the
  Python path alone, as the pre-commit framework's `dvx-check` pays it).

    .venv/bin/python bench/bench_hooks.py [--runs N]
    .venv/bin/python bench/run.py --only hooks
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as c  # noqa: E402

ISSUE = 6
TITLE = "Hooks: pre-commit latency on a real git commit (issue 6)"

ROWS = 200_000
SUITE = {"name": "bench", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": -10, "max_value": 10}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["a", "b", "c"]}},
]}


def _python(ctx: c.Context) -> str:
    """The interpreter next to the dvx executable under test."""
    py = Path(ctx.dvx).parent / "python"
    return str(py if py.exists() else Path(sys.executable))


def _write_csv(path: Path, seed: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pc

    rng = np.random.default_rng(seed)
    t = pa.table({"id": np.arange(ROWS), "x": rng.normal(0, 1, ROWS), "label": rng.choice(["a", "b", "c"], ROWS)})
    pc.write_csv(t, str(path))


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    cp = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if cp.returncode != 0:
        raise c.BenchError(f"{' '.join(cmd)} exited {cp.returncode}: {cp.stdout}{cp.stderr}")


def run(ctx: c.Context) -> list[c.Result]:
    env = ctx.env()
    env.update(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@dvx.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@dvx.invalid")
    py = _python(ctx)
    dvx = [py, "-m", "dvx"]
    # As `make install` does: this machine sets PYTHONDONTWRITEBYTECODE, and
    # compiling the hook's modules on every start would be measured otherwise.
    _run([py, "-m", "compileall", "-q", str(c.PROJECT_DIR / "dvx")], c.PROJECT_DIR, env)
    repo = c.fresh_dir(ctx.work / "repos" / "hooks")
    c.git_init(repo)
    _run([*dvx, "init"], repo, env)
    (repo / "expectations" / "bench.json").write_text(json.dumps(SUITE))
    (repo / "expectations" / "dvx.toml").write_text(
        '[[bind]]\npath = "train.csv"\nsuites = ["bench.json"]\n[drift]\nalpha = 1e-6\n')
    versions = repo.parent / "hooks-versions"
    versions.mkdir(exist_ok=True)
    for name, seed in (("a.csv", 1), ("b.csv", 2)):
        if not (versions / name).exists():
            _write_csv(versions / name, seed)
    state = {"next": "b.csv", "n": 0}

    def stage_other_version() -> None:
        shutil.copyfile(versions / state["next"], repo / "train.csv")
        state["next"] = "a.csv" if state["next"] == "b.csv" else "b.csv"
        _run([*dvx, "add", "-q", "train.csv"], repo, env)
        _run(["git", "add", "-A"], repo, env)

    def stage_readme() -> None:
        state["n"] += 1
        (repo / "README.md").write_text(f"edit {state['n']}\n")
        _run(["git", "add", "README.md"], repo, env)

    # v1 (A) committed; then B and A once each so both drift directions and
    # both versions' validation results are stored before timing.
    shutil.copyfile(versions / "a.csv", repo / "train.csv")
    state["next"] = "b.csv"
    _run([*dvx, "add", "-q", "train.csv"], repo, env)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-qm", "A"], repo, env)
    for _ in range(2):
        stage_other_version()
        _run(["git", "commit", "-qm", "warm"], repo, env)

    runs = ctx.n(9)
    commit = ["git", "commit", "-qm", "bench"]
    out: list[c.Result] = []
    st = c.measure_interleaved({
        "hooks": c.Spec(commit, repo, env, stage_readme),
        "none": c.Spec([*commit, "--no-verify"], repo, env, stage_readme),
    }, runs=runs, label="commit, no dataset")
    out.append(c.Result(bench="hooks", issue=ISSUE, name="git commit touching no dataset", goal="< 0.3 s",
                        ok=st["hooks"].median < 0.3, dvx=st["hooks"], anchor=st["none"],
                        anchor_name="git --no-verify",
                        note="dvx hooks add the shell prefilter only (one `git diff --cached`)"))
    st = c.measure_interleaved({
        "hooks": c.Spec(commit, repo, env, stage_other_version),
        "none": c.Spec([*commit, "--no-verify"], repo, env, stage_other_version),
    }, runs=runs, label="commit, dataset with stored results")
    out.append(c.Result(bench="hooks", issue=ISSUE, name="git commit of a dataset, results stored",
                        goal="< 0.5 s", ok=st["hooks"].median < 0.5, dvx=st["hooks"], anchor=st["none"],
                        anchor_name="git --no-verify",
                        note=f"{ROWS:,}-row CSV, 3 expectations + drift, all answered from .dvx/cache/results"))
    # A commit that changes only the suite (issue 13): the hook re-checks the
    # bound dataset against the staged suite. The suite flips between two
    # versions, both gated once on the committed data before timing, so the
    # results of (data id, suite id) are stored: no data is read.
    suites = [json.dumps(SUITE), json.dumps(SUITE).replace('"max_value": 10', '"max_value": 11')]
    flip = {"n": 0}

    def stage_other_suite() -> None:
        flip["n"] += 1
        (repo / "expectations" / "bench.json").write_text(suites[flip["n"] % 2])
        _run(["git", "add", "expectations/bench.json"], repo, env)

    for _ in range(2):
        stage_other_suite()
        _run(["git", "commit", "-qm", "warm suite"], repo, env)
    st = c.measure_interleaved({
        "hooks": c.Spec(commit, repo, env, stage_other_suite),
        "none": c.Spec([*commit, "--no-verify"], repo, env, stage_other_suite),
    }, runs=runs, label="commit, suite only, results stored")
    out.append(c.Result(bench="hooks", issue=13, name="git commit of a suite only, results stored",
                        goal="< 0.5 s", ok=st["hooks"].median < 0.5, dvx=st["hooks"], anchor=st["none"],
                        anchor_name="git --no-verify",
                        note="the bound dataset re-checked against the staged suite; (data id, suite id) stored"))
    chk = c.measure([*dvx, "check", "--staged", "-q"], cwd=repo, env=env, runs=runs, label="dvx check --staged")
    out.append(c.Result(bench="hooks", issue=ISSUE, name="dvx check --staged, nothing staged (Python start)",
                        goal="-", ok=None, dvx=chk, note="what the pre-commit framework's dvx-check costs"))
    # `dvx validate` on data unchanged since it was validated (issue 13): the stat cache gives the
    # content id of the file on disk and the stored results answer; no data is read.
    _run([*dvx, "validate", "-q", "train.csv"], repo, env)  # warm: results of the workspace id stored
    val = c.measure([*dvx, "validate", "-q", "train.csv"], cwd=repo, env=env, runs=runs, label="dvx validate, unchanged")
    out.append(c.Result(bench="hooks", issue=13, name="dvx validate of unchanged data, results stored",
                        goal="-", ok=None, dvx=val,
                        note=f"{ROWS:,}-row CSV on disk, 3 expectations answered from .dvx/cache/results"))
    if not ctx.keep_repos:
        c.remove(repo)
    return out


def main(argv: list[str] | None = None) -> int:
    """`python bench/bench_hooks.py [--runs N] [--json PATH]`: run and print."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    ctx = c.Context(quick=args.quick, runs=args.runs, dvx=c.PROJECT_DIR / ".venv" / "bin" / "dvx")
    results = run(ctx)
    print()
    c.print_table(results)
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in results], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
