"""Helpers for the git-integration tests (tests/hooks)."""

from __future__ import annotations

import json
from pathlib import Path

from dvxtest import git, make_git_repo, run_dvx

SUITE = {
    "name": "train",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": -10, "max_value": 10}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["a", "b"]}},
    ],
}


def write_csv(path: Path, rows: int = 3000, seed: int = 1, labels: tuple[str, ...] = ("a", "b"),
              shift: float = 0.0) -> None:
    """A CSV with columns id, x ~ N(shift, 1), label drawn from ``labels``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pc

    rng = np.random.default_rng(seed)
    t = pa.table({"id": np.arange(rows), "x": rng.normal(shift, 1.0, rows), "label": rng.choice(list(labels), rows)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pc.write_csv(t, str(path))


def commit(repo: Path, msg: str, *extra: str) -> object:
    """``git add -A`` + ``git commit`` (hooks run); the CompletedProcess, unchecked."""
    git(repo, "add", "-A")
    return git(repo, "commit", "-q", "-m", msg, *extra, check=False)


def make_drepo(repo: Path) -> Path:
    """A git repo with `dvx init` (hooks installed), a suite bound to data/train.csv
    and a first valid commit of it."""
    make_git_repo(repo)
    run_dvx(repo, "init")
    (repo / "expectations" / "train.json").write_text(json.dumps(SUITE, indent=1))
    (repo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/train.csv"\nsuites = ["train.json"]\n')
    write_csv(repo / "data" / "train.csv")
    run_dvx(repo, "add", "data/train.csv")
    cp = commit(repo, "v1")
    assert cp.returncode == 0, cp.stderr
    return repo
