"""What start-up imports, instead of how long it takes (the time is measured in bench/bench_hooks.py).

``dvx --help`` and a hook on a commit that touches no dataset must not load
the data stack: these imports are what made them slow.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dvxtest import env, git, make_dvx_repo

HEAVY = {"pyarrow", "numpy", "pandas", "great_expectations", "pandera", "s3fs", "fsspec", "botocore", "yaml", "tomlkit"}


def _imported(cwd: Path, *args: str) -> set[str]:
    cp = subprocess.run([sys.executable, "-X", "importtime", "-m", "dvx", *args], cwd=cwd,
                        capture_output=True, text=True, env=env())
    top = {ln.split("|")[-1].strip().split(".")[0] for ln in cp.stderr.splitlines() if ln.startswith("import time:")}
    assert "dvx" in top and "click" in top, cp.stderr[-2000:]  # the probe itself works
    return top


def test_help_loads_no_data_stack(tmp_path: Path) -> None:
    assert not _imported(tmp_path, "--help") & HEAVY
    assert not _imported(tmp_path, "push", "--help") & HEAVY


def test_pre_commit_hook_without_a_dataset_loads_no_data_stack(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / "README.md").write_text("hello\n")
    git(repo, "add", "README.md")
    assert not _imported(repo, "hook-run", "pre-commit") & HEAVY
