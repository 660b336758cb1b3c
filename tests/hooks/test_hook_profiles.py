"""The pre-commit hook is the one check that writes a pointer file: a passing commit
names the staged dataset's stored profile (``profile:``) and commits it; `dvx check
--staged`, which runs the same gate, writes nothing."""

from __future__ import annotations

from pathlib import Path

from dvxtest import git, run_dvx
from hookkit import commit, write_csv

DATA = "data/train.csv"


def test_passing_commit_names_the_profile_and_check_does_not(drepo: Path) -> None:
    write_csv(drepo / DATA, seed=7)  # the same distribution: passes validation and drift
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", "-A")
    pointer = (drepo / f"{DATA}.dvx").read_bytes()
    assert b"profile: " not in pointer
    # dvx check --staged profiles both versions (drift) but leaves the pointer and the index alone
    run_dvx(drepo, "check", "--staged")
    assert (drepo / f"{DATA}.dvx").read_bytes() == pointer
    assert git(drepo, "diff", "--cached", "--name-only").stdout.split() == [f"{DATA}.dvx"]
    assert git(drepo, "diff", "--name-only").stdout == ""
    # the hook names the stored profile and the commit carries it
    cp = commit(drepo, "v2")
    assert cp.returncode == 0, cp.stderr
    committed = git(drepo, "show", f"HEAD:{DATA}.dvx").stdout
    assert "profile: " in committed
    assert committed.encode() == (drepo / f"{DATA}.dvx").read_bytes()
    assert git(drepo, "status", "--porcelain").stdout == ""
