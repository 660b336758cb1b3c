"""End to end with real git: the pre-commit gate, `dvx check`, post-checkout, merges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dvxtest import env, git, run_dvx
from hookkit import commit, write_csv

DATA = "data/train.csv"


def test_valid_commit_passes_and_breaking_commit_is_refused_with_table(drepo: Path) -> None:
    # a new valid version (same distribution, more rows) passes the gate
    write_csv(drepo / DATA, seed=7)
    run_dvx(drepo, "add", DATA)
    cp = commit(drepo, "v2 valid")
    assert cp.returncode == 0, cp.stderr
    assert git(drepo, "log", "--format=%s", "-1").stdout.strip() == "v2 valid"
    # a label outside the expected set breaks an expectation
    write_csv(drepo / DATA, seed=8, labels=("a", "b", "zz"))
    run_dvx(drepo, "add", DATA)
    cp = commit(drepo, "v3 broken")
    assert cp.returncode != 0
    assert git(drepo, "log", "--format=%s", "-1").stdout.strip() == "v2 valid"
    err = cp.stderr
    assert "commit refused" in err and "--no-verify" in err
    table = [ln for ln in err.splitlines() if ln.startswith(DATA)]
    assert any("expect_column_values_to_be_in_set" in ln and "label" in ln and "zz" in ln for ln in table), err
    # the same check from the CLI: exit 1, a table, and --json agrees; results are stored now
    cp2 = run_dvx(drepo, "check", check=False)
    assert cp2.returncode == 1
    assert "expect_column_values_to_be_in_set" in cp2.stdout and "[stored]" in cp2.stdout
    js = json.loads(run_dvx(drepo, "check", "--json", check=False).stdout)
    assert js["ok"] is False and js["datasets"][0]["validation"] == "failed"
    # the hook's path with stored results imports no heavy package
    cp3 = subprocess.run([sys.executable, "-X", "importtime", "-m", "dvx", "hook-run", "pre-commit"], cwd=drepo,
                         capture_output=True, text=True, env=env())
    assert cp3.returncode == 1 and "expect_column_values_to_be_in_set" in cp3.stderr
    imported = {ln.split("|")[-1].strip().split(".")[0] for ln in cp3.stderr.splitlines() if ln.startswith("import time:")}
    assert imported and not imported & {"pyarrow", "numpy", "pandas", "great_expectations", "fsspec", "git"}, imported
    # git's bypass still works
    cp = commit(drepo, "v3 forced", "--no-verify")
    assert cp.returncode == 0
    assert git(drepo, "log", "--format=%s", "-1").stdout.strip() == "v3 forced"


def test_drifted_commit_is_refused_even_when_suites_pass(drepo: Path) -> None:
    write_csv(drepo / DATA, seed=2, shift=1.5)  # x moves by 1.5 sd: valid but drifted
    run_dvx(drepo, "add", DATA)
    cp = commit(drepo, "shifted")
    assert cp.returncode != 0
    assert git(drepo, "log", "--format=%s", "-1").stdout.strip() == "v1"
    rows = [ln for ln in cp.stderr.splitlines() if ln.startswith(DATA)]
    assert rows and all(" drift " in ln for ln in rows), cp.stderr
    assert any(" x " in ln and ("ks" in ln or "psi" in ln) for ln in rows), cp.stderr
    js = json.loads(run_dvx(drepo, "check", "--staged", "--json", check=False).stdout)
    d = js["datasets"][0]
    assert d["validation"] == "passed" and d["drift"] == "drifted"
    # raising the thresholds in expectations/dvx.toml lets it through
    toml = drepo / "expectations" / "dvx.toml"
    toml.write_text(toml.read_text() + "\n[drift]\ngate = []\nschema = true\n")
    cp = commit(drepo, "shifted, drift accepted")
    assert cp.returncode == 0, cp.stderr


def test_commit_without_dataset_never_starts_python(drepo: Path) -> None:
    # Point the recorded interpreter at nothing and hide dvx from PATH: a commit
    # touching no pointer file still passes (the shell prefilter answers), one
    # touching a pointer is refused because dvx cannot be found.
    hook = drepo / ".git" / "hooks" / "pre-commit"
    text = hook.read_text()
    hook.write_text(text.replace(f"dvx_python='{sys.executable}'", "dvx_python='/nonexistent/python'"))
    e = env()
    e["PATH"] = "/usr/bin:/bin"
    (drepo / "README.md").write_text("hello\n")
    git(drepo, "add", "README.md")
    cp = subprocess.run(["git", "-C", str(drepo), "commit", "-qm", "docs"], capture_output=True, text=True, env=e)
    assert cp.returncode == 0, cp.stderr
    write_csv(drepo / DATA, seed=3)
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", "-A")
    cp = subprocess.run(["git", "-C", str(drepo), "commit", "-qm", "data"], capture_output=True, text=True, env=e)
    assert cp.returncode == 1 and "dvx is not installed" in cp.stderr


def test_checkout_of_older_commit_restores_older_data(drepo: Path) -> None:
    v1 = (drepo / DATA).read_bytes()
    write_csv(drepo / DATA, seed=9)
    v2 = (drepo / DATA).read_bytes()
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "v2").returncode == 0
    git(drepo, "checkout", "-q", "HEAD~1")
    assert (drepo / DATA).read_bytes() == v1
    git(drepo, "checkout", "-q", "main")
    assert (drepo / DATA).read_bytes() == v2
    # a file checkout of the pointer (flag 0) follows too
    git(drepo, "checkout", "-q", "HEAD~1", "--", DATA + ".dvx")
    assert (drepo / DATA).read_bytes() == v1
    git(drepo, "checkout", "-q", "HEAD", "--", DATA + ".dvx")
    assert (drepo / DATA).read_bytes() == v2
    # post-merge: a branch at v1 fast-forwarded to main gets v2's data
    git(drepo, "checkout", "-q", "-b", "old", "main~1")
    assert (drepo / DATA).read_bytes() == v1
    git(drepo, "merge", "-q", "main")
    assert (drepo / DATA).read_bytes() == v2


def test_checkout_with_data_missing_warns_and_does_not_fail(drepo: Path, tmp_path: Path) -> None:
    import shutil

    write_csv(drepo / DATA, seed=9)
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "v2").returncode == 0
    shutil.rmtree(drepo / ".dvx" / "cache")  # as in a fresh clone: no data
    cp = git(drepo, "checkout", "-q", "HEAD~1", check=False)
    assert cp.returncode == 0
    assert git(drepo, "rev-parse", "HEAD").stdout == git(drepo, "rev-parse", "main~1").stdout
    warn = [ln for ln in cp.stderr.splitlines() if ln.startswith("warning: dvx:")]
    assert len(warn) == 1 and DATA in warn[0] and "dvx pull" in warn[0], cp.stderr


def test_merge_with_conflicting_pointers_is_reported(drepo: Path) -> None:
    git(drepo, "checkout", "-q", "-b", "other")
    write_csv(drepo / DATA, seed=11)
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "other data").returncode == 0
    git(drepo, "checkout", "-q", "main")
    write_csv(drepo / DATA, seed=12)
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "main data").returncode == 0
    cp = git(drepo, "merge", "other", check=False)
    assert cp.returncode != 0 and "CONFLICT" in cp.stdout
    pp = DATA + ".dvx"
    for args in (("status",), ("checkout",), ("check",)):
        cp = run_dvx(drepo, *args, check=False)
        out = (cp.stdout + cp.stderr).strip().splitlines()
        hits = [ln for ln in out if "merge conflict" in ln]
        assert hits, (args, cp.stdout, cp.stderr)
        assert pp in hits[0] and "--ours" in hits[0] and "--theirs" in hits[0], hits[0]
        assert cp.returncode != 0 or args == ("status",)
    # committing the markers is refused by the gate, with the same line
    git(drepo, "add", pp)
    cp = git(drepo, "commit", "-qm", "merge", check=False)
    assert cp.returncode != 0 and "merge conflict" in cp.stderr
    # following the hint resolves it (`checkout -m` recreates the unmerged state first)
    git(drepo, "checkout", "-m", "--", pp)
    git(drepo, "checkout", "--theirs", "--", pp)
    run_dvx(drepo, "checkout")
    git(drepo, "add", pp)
    cp = git(drepo, "commit", "-qm", "merge", "--no-edit", check=False)
    assert cp.returncode == 0, cp.stderr
    assert run_dvx(drepo, "status", "--json").stdout.count('"unchanged"') == 1


def test_require_valid_raises_data_gate_error(drepo: Path) -> None:
    write_csv(drepo / DATA, seed=4, labels=("a", "b", "q"))
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "bad", "--no-verify").returncode == 0
    code = (
        "import sys, dvx as g\n"
        "from dvx.errors import DataGateError\n"
        "g.require_valid('data/train.csv', rev='HEAD~1')\n"
        "try:\n"
        "    g.require_valid('data/train.csv')\n"
        "except DataGateError as e:\n"
        "    print('FAILED', e.exit_code, len(e.failures)); print(e.failures[0])\n"
    )
    cp = subprocess.run([sys.executable, "-c", code], cwd=drepo, capture_output=True, text=True, env=env())
    assert cp.returncode == 0, cp.stderr
    first, detail = cp.stdout.splitlines()[:2]
    assert first.startswith("FAILED 1 ")
    assert "expect_column_values_to_be_in_set" in detail and "label" in detail
