"""Every change that can change a verdict is gated (issue 13, item 4), with real git, the
installed hook and the real `pre-commit` tool: a commit that stages only a suite, a binding
or a threshold re-checks the datasets bound to it against the suites as staged (the git
index), never as edited on disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dvxtest import env, git, make_git_repo, run_dvx
from hookkit import SUITE, write_csv

DATA = "data/train.csv"
SUITE_FILE = "expectations/train.json"


def _tight() -> str:
    """The suite with x bounded to [-1, 1]: the committed data (x ~ N(0, 1), 3,000 rows) fails it."""
    doc = json.loads(json.dumps(SUITE))
    doc["expectations"][1]["kwargs"].update(min_value=-1, max_value=1)
    return json.dumps(doc, indent=1)


def _subject(repo: Path) -> str:
    return git(repo, "log", "--format=%s", "-1").stdout.strip()


def _commit(repo: Path, msg: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` of the index as it is: the hook sees only what is staged."""
    return git(repo, "commit", "-q", "-m", msg, check=False)


def test_a_tightened_suite_the_committed_data_fails_is_refused(drepo: Path) -> None:
    (drepo / SUITE_FILE).write_text(_tight())
    git(drepo, "add", SUITE_FILE)
    assert git(drepo, "diff", "--cached", "--name-only").stdout.split() == [SUITE_FILE]  # no pointer staged
    cp = _commit(drepo, "tighten x")
    assert cp.returncode == 1, cp.stderr
    assert _subject(drepo) == "v1"
    assert f"{DATA} [staged " in cp.stderr and f"(re-checked: {SUITE_FILE} changed)" in cp.stderr, cp.stderr
    row = next(ln for ln in cp.stderr.splitlines() if "expect_column_values_to_be_between" in ln)
    assert " x " in row and "unexpected" in row and "-1 ≤ x ≤ 1" in row, row  # observed next to the bounds
    # the same verdict from `dvx check --staged`, in JSON
    js = json.loads(run_dvx(drepo, "check", "--staged", "--json", check=False).stdout)
    (d,) = js["datasets"]
    assert js["ok"] is False and d["path"] == DATA and d["because"] == f"{SUITE_FILE} changed"
    assert d["validation"] == "failed" and d["drift"] == "unchanged"
    # loosened again: the suite-only commit goes in, and no pointer file is touched
    doc = json.loads(_tight())
    doc["expectations"][1]["kwargs"].update(min_value=-8, max_value=8)
    (drepo / SUITE_FILE).write_text(json.dumps(doc))
    git(drepo, "add", SUITE_FILE)
    cp = _commit(drepo, "x within 8")
    assert cp.returncode == 0, cp.stderr
    assert git(drepo, "show", "--name-only", "--format=", "HEAD").stdout.split() == [SUITE_FILE]
    assert git(drepo, "status", "--porcelain").stdout == ""


def test_an_unstaged_suite_edit_does_not_count(drepo: Path) -> None:
    # the tightened suite on disk only; a valid new data version staged: the index's suite gates it
    (drepo / SUITE_FILE).write_text(_tight())
    write_csv(drepo / DATA, seed=7)  # same distribution: no drift
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", f"{DATA}.dvx")
    assert run_dvx(drepo, "check", "--json", check=False).returncode == 1  # the work tree's suite fails it
    cp = _commit(drepo, "v2")
    assert cp.returncode == 0, cp.stderr
    assert f"{SUITE_FILE}: changes not staged are not checked" in cp.stderr
    assert git(drepo, "status", "--porcelain").stdout.split() == ["M", SUITE_FILE]
    # the other way round: the tightened suite staged, the file on disk loosened again
    git(drepo, "add", SUITE_FILE)
    (drepo / SUITE_FILE).write_text(json.dumps(SUITE, indent=1))
    cp = _commit(drepo, "tighten x, staged")
    assert cp.returncode == 1 and _subject(drepo) == "v2", cp.stderr
    assert "expect_column_values_to_be_between" in cp.stderr


def test_a_new_binding_or_threshold_alone_is_gated(drepo: Path) -> None:
    # a second suite bound by dvx.toml only: the binding's change re-checks the dataset
    (drepo / "expectations" / "labels.json").write_text(json.dumps({"name": "labels", "expectations": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["a"]}}]}))
    git(drepo, "add", "expectations/labels.json")
    assert _commit(drepo, "unbound suite").returncode == 0  # bound to nothing yet: nothing to re-check
    toml = drepo / "expectations" / "dvx.toml"
    toml.write_text(toml.read_text() + '\n[[bind]]\npath = "data/*.csv"\nsuites = ["labels.json"]\n')
    git(drepo, "add", "expectations/dvx.toml")
    cp = _commit(drepo, "bind labels")
    assert cp.returncode == 1 and _subject(drepo) == "unbound suite", cp.stderr
    assert "re-checked: expectations/dvx.toml binds other suites" in cp.stderr
    assert "expect_column_values_to_be_in_set" in cp.stderr and "in {a}" in cp.stderr
    # thresholds alone: the data is unchanged against HEAD, the commit goes in
    git(drepo, "reset", "-q", "--hard")
    toml.write_text(toml.read_text() + "\n[drift]\nalpha = 0.5\n")
    git(drepo, "add", "expectations/dvx.toml")
    cp = _commit(drepo, "thresholds")
    assert cp.returncode == 0, cp.stderr


def test_the_pre_commit_framework_gates_a_suite_only_commit(drepo: Path, tmp_path: Path) -> None:
    """Through the real `pre-commit` tool and this project's .pre-commit-hooks.yaml (dvx-check)."""
    exe = Path(sys.executable).parent / "pre-commit"
    if not exe.exists():
        pytest.skip("pre-commit is not installed in the venv")
    hooks_repo = make_git_repo(tmp_path / "hooks-repo")
    shutil.copy(Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml", hooks_repo / ".pre-commit-hooks.yaml")
    git(hooks_repo, "add", "-A")
    git(hooks_repo, "commit", "-qm", "hooks")
    sha = git(hooks_repo, "rev-parse", "HEAD").stdout.strip()
    run_dvx(drepo, "hooks", "uninstall")
    (drepo / ".pre-commit-config.yaml").write_text(f"repos:\n- repo: {hooks_repo}\n  rev: {sha}\n  hooks:\n  - id: dvx-check\n")
    e = env()
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e.get('PATH', '')}"
    e["PRE_COMMIT_HOME"] = str(tmp_path / "pc-home")
    subprocess.run([str(exe), "install", "-t", "pre-commit"], cwd=drepo, env=e, check=True, capture_output=True)
    git(drepo, "add", ".pre-commit-config.yaml")

    def commit_staged(msg: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "commit", "-qm", msg], cwd=drepo, env=e, capture_output=True, text=True)

    assert commit_staged("pc").returncode == 0
    (drepo / SUITE_FILE).write_text(_tight())
    git(drepo, "add", SUITE_FILE)
    cp = commit_staged("tighten x")
    out = cp.stdout + cp.stderr
    assert cp.returncode != 0 and _subject(drepo) == "pc", out
    assert "expect_column_values_to_be_between" in out and "-1 ≤ x ≤ 1" in out, out


def test_a_bound_suite_that_is_not_staged_is_named_and_git_add_fixes_it(drepo: Path) -> None:
    (drepo / "expectations" / "extra.json").write_text(json.dumps({"name": "extra", "expectations": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["a", "b"]}}]}))
    toml = drepo / "expectations" / "dvx.toml"
    toml.write_text(toml.read_text().replace('suites = ["train.json"]', 'suites = ["train.json", "extra.json"]'))
    git(drepo, "add", "expectations/dvx.toml")  # the binding staged, the suite it names not
    cp = _commit(drepo, "bind extra")
    assert cp.returncode != 0 and _subject(drepo) == "v1", cp.stderr
    assert "extra.json: suite file not staged" in cp.stderr and "`git add expectations/extra.json`" in cp.stderr
    git(drepo, "add", "expectations/extra.json")
    cp = _commit(drepo, "bind extra")
    assert cp.returncode == 0, cp.stderr
    assert _subject(drepo) == "bind extra"


def _pushed_and_cloned(drepo: Path, tmp_path: Path) -> Path:
    """``drepo`` pushed to a folder remote (commit "remote"), and a clone of it with the hooks and no data."""
    run_dvx(drepo, "remote", "add", "-d", "store", str(tmp_path / "remote"))
    git(drepo, "add", "-A")
    assert _commit(drepo, "remote").returncode == 0
    run_dvx(drepo, "push")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(drepo), str(clone))
    for k, v in (("user.name", "dvx test"), ("user.email", "test@example.invalid")):
        git(clone, "config", k, v)
    run_dvx(clone, "hooks", "install")
    return clone


def test_a_suite_only_commit_in_a_clone_without_the_data_names_dvx_pull_which_fixes_it(
        drepo: Path, tmp_path: Path) -> None:
    from hintkit import commands, follow

    clone = _pushed_and_cloned(drepo, tmp_path)
    (clone / SUITE_FILE).write_text(_tight())
    git(clone, "add", SUITE_FILE)
    cp = _commit(clone, "tighten")
    # the data the suite binds is not in this clone's cache: refused, and the hint names the fix
    assert cp.returncode != 0 and _subject(clone) == "remote", cp.stderr
    assert "not in the cache" in cp.stderr and DATA in cp.stderr
    assert commands(cp)[0] == "dvx pull"
    follow(clone, "dvx pull")
    cp = _commit(clone, "tighten")
    # now the data is there and is checked: it fails the tightened suite (a real verdict, not a gap)
    assert cp.returncode != 0 and "not in the cache" not in cp.stderr, cp.stderr
    assert "expect_column_values_to_be_between" in cp.stdout + cp.stderr
    (clone / SUITE_FILE).write_text(json.dumps(SUITE, indent=1).replace('"max_value": 10', '"max_value": 11'))
    git(clone, "add", SUITE_FILE)
    assert _commit(clone, "loosen").returncode == 0 and _subject(clone) == "loosen"


def test_a_baseline_missing_from_a_clone_is_said_and_the_named_fetch_lets_drift_be_checked(
        drepo: Path, tmp_path: Path) -> None:
    import re

    from hintkit import commands, follow

    clone = _pushed_and_cloned(drepo, tmp_path)
    write_csv(clone / DATA, seed=5, shift=0.8)  # drifted: x moved by 0.8 sd
    run_dvx(clone, "add", DATA)
    git(clone, "add", "-A")
    cp = _commit(clone, "shifted")
    # the gate cannot see the baseline here: the commit goes in, but not silently
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0 and "drift not checked" in out, out
    m = re.search(r"\(run `(dvx fetch --rev [0-9a-f]+)`\)", out)
    assert m, out
    git(clone, "reset", "-q", "--soft", "HEAD~1")
    follow(clone, m.group(1))
    cp = _commit(clone, "shifted")
    assert cp.returncode != 0 and "drift" in cp.stdout + cp.stderr and _subject(clone) == "remote", cp.stdout
    # a read of a committed version the cache lacks names the fetch of that revision
    other = tmp_path / "clone2"
    git(tmp_path, "clone", "-q", str(drepo), str(other))
    cp = run_dvx(other, "drift", DATA, "--rev", "HEAD", "--baseline", "HEAD~1", check=False)
    assert cp.returncode == 1 and commands(cp) == ["dvx fetch --rev HEAD"], cp.stderr
    follow(other, commands(cp)[0])
    cp = run_dvx(other, "drift", DATA, "--rev", "HEAD", "--baseline", "HEAD~1")
    assert "no drift" in cp.stdout.lower() or "unchanged" in cp.stdout.lower(), cp.stdout
