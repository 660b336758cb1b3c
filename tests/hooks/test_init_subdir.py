"""`dvx init --subdir`: a dvx project in a folder of a larger git work tree (a monorepo), end to end
through the CLI and real git: paths relative to the project, commands run below it find it, git
operations use the enclosing repository, and the shared hooks gate and follow only the project's
pointer files."""

from __future__ import annotations

import json
from pathlib import Path

from dvxtest import git, make_git_repo, run_dvx
from hookkit import SUITE, write_csv


def test_init_subdir_end_to_end(tmp_path: Path) -> None:
    mono = make_git_repo(tmp_path / "mono")
    (mono / "README.md").write_text("a monorepo\n")
    git(mono, "add", "README.md")
    git(mono, "commit", "-qm", "start")
    proj = mono / "ml" / "proj"
    proj.mkdir(parents=True)

    out = run_dvx(proj, "init", "--subdir").stdout
    assert (proj / ".dvx" / "config").is_file() and (proj / "expectations").is_dir()
    assert not (mono / ".dvx").exists() and "post-checkout" in out
    assert (mono / ".git" / "hooks" / "pre-commit").is_file()

    write_csv(proj / "data" / "train.csv", rows=300)
    run_dvx(proj / "data", "add", "train.csv")  # from below the project
    assert (proj / "data" / "train.csv.dvx").is_file()
    assert "train.csv" in (proj / "data" / ".gitignore").read_text()
    st = json.loads(run_dvx(proj / "data", "status", "--json").stdout)
    assert "data/train.csv" in json.dumps(st)  # project-relative
    run_dvx(proj, "remote", "add", "-d", "store", str(tmp_path / "store"))
    run_dvx(proj / "data", "push")

    # The gate of the shared pre-commit hook checks the project's datasets against its suites,
    # and ignores pointer-like files elsewhere in the work tree.
    (proj / "expectations" / "train.json").write_text(json.dumps(SUITE))
    (proj / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/train.csv"\nsuites = ["train.json"]\n')
    (mono / "elsewhere.dvx").write_text("not a dvx pointer\n")
    git(mono, "add", "-A")
    cp = git(mono, "commit", "-qm", "data", check=False)
    assert cp.returncode == 0, cp.stderr
    assert "elsewhere" not in cp.stderr

    git(mono, "checkout", "-qb", "bad")
    write_csv(proj / "data" / "train.csv", rows=300, shift=50.0)  # x far outside [-10, 10]
    run_dvx(proj, "add", "data/train.csv")
    git(mono, "add", "-A")
    cp = git(mono, "commit", "-qm", "bad data", check=False)
    assert cp.returncode != 0 and "commit refused" in cp.stderr
    git(mono, "commit", "-qm", "bad data", "--no-verify")
    bad = (proj / "data" / "train.csv").read_bytes()

    # post-checkout brings the project's data back in line with its pointers
    cp = git(mono, "checkout", "main")
    assert (proj / "data" / "train.csv").read_bytes() != bad
    assert "updated 1 data file" in cp.stderr, cp.stderr
    assert run_dvx(proj, "status", "--json").returncode == 0
    # reads of other revisions find the project's pointers in the enclosing repository's commits
    run_dvx(proj, "push", "--rev", "bad")
    log = run_dvx(proj / "data", "log", "train.csv", "--rev", "bad").stdout
    assert "added" in log and "modified" in log and "bad data" in log
    assert "data/train.csv  modified" in run_dvx(proj, "diff", "main", "bad").stdout
