"""Accepting intended drift (issue 13, item 5), end to end with real git and the installed hooks:
``dvx accept`` records (data id, baseline id, who, when, why) in expectations/accepted.toml;
the pre-commit hook reads it as staged; `dvx check --rev` and `dvx.require_valid` honour it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dvxtest import env, git, run_dvx
from hookkit import commit, write_csv

DATA = "data/train.csv"
ACCEPTED = "expectations/accepted.toml"


def _head_subject(repo: Path) -> str:
    return git(repo, "log", "--format=%s", "-1").stdout.strip()


def _commit_staged(repo: Path, msg: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` of the index as it is (no ``git add -A``): the hook sees only what is staged."""
    return git(repo, "commit", "-q", "-m", msg, check=False)


def _drifted(repo: Path, shift: float = 1.5, seed: int = 2) -> str:
    """Add and stage a valid but drifted version of DATA; its data id."""
    write_csv(repo / DATA, seed=seed, shift=shift)
    run_dvx(repo, "add", DATA)
    git(repo, "add", "-A")
    return json.loads(run_dvx(repo, "check", "--staged", "--json", check=False).stdout)["datasets"][0]["data_id"]


def test_drift_refused_then_accepted_commits_and_passes_check_rev_and_require_valid(drepo: Path) -> None:
    data_id = _drifted(drepo)
    base_id = json.loads(run_dvx(drepo, "check", "--rev", "HEAD", "--json").stdout)["datasets"][0]["data_id"]
    cp = _commit_staged(drepo, "shifted")
    assert cp.returncode == 1 and _head_subject(drepo) == "v1"
    hint = [ln for ln in cp.stderr.splitlines() if ln.startswith("hint: ")]
    assert len(hint) == 1 and f"`dvx accept {DATA} -m REASON`" in hint[0], cp.stderr  # the hook names the way through
    hinted = re.findall(r"`([^`]+)`", hint[0])
    assert hinted[:2] == [f"dvx accept {DATA} -m REASON", f"git add {ACCEPTED}"], hinted

    cp = run_dvx(drepo, "accept", DATA, "-m", "new sensor, x is recalibrated")
    assert "accepted: drift of data/train.csv" in cp.stdout and f"hint: git add {ACCEPTED}" in cp.stdout, cp.stdout
    text = (drepo / ACCEPTED).read_text()
    assert f'data_id = "{data_id}"' in text and f'baseline_id = "{base_id}"' in text
    assert 'by = "dvx test <test@example.invalid>"' in text and 'reason = "new sensor, x is recalibrated"' in text
    assert 'column = "x"' in text  # the drift figures at acceptance
    assert git(drepo, "diff", "--cached", "--name-only").stdout.split() == [DATA + ".dvx"]  # accept stages nothing

    # the hint's command, then the commit goes through and says the drift was accepted, by whom and why
    subprocess.run(hinted[1], shell=True, cwd=drepo, check=True, env=env(), capture_output=True)
    cp = _commit_staged(drepo, "shifted, accepted")
    assert cp.returncode == 0, cp.stderr
    assert _head_subject(drepo) == "shifted, accepted"
    assert "drift from" in cp.stderr and "accepted by dvx test" in cp.stderr and "recalibrated" in cp.stderr

    js = json.loads(run_dvx(drepo, "check", "--rev", "HEAD", "--json").stdout)
    d = js["datasets"][0]
    assert js["ok"] and d["drift"] == "accepted" and d["validation"] == "passed"
    assert d["accepted"]["data_id"] == data_id and d["accepted"]["reason"] == "new sensor, x is recalibrated"
    out = run_dvx(drepo, "check", "--rev", "HEAD").stdout
    assert "drift accepted (by dvx test <test@example.invalid> at " in out
    prog = "import dvx, sys; r = dvx.require_valid(sys.argv[1], rev='HEAD'); print(r.datasets[0].drift)"
    cp = subprocess.run([sys.executable, "-c", prog, DATA], cwd=drepo, capture_output=True, text=True, env=env())
    assert cp.returncode == 0 and cp.stdout.strip() == "accepted", cp.stderr
    # the parent commit is what it was: not accepted, nothing to do with this pair
    assert json.loads(run_dvx(drepo, "check", "--rev", "HEAD~1", "--json").stdout)["datasets"][0]["drift"] == "new"

    # dvx log and dvx diff show the acceptance of the versions they list
    log = json.loads(run_dvx(drepo, "log", DATA, "--json").stdout)
    assert log[0]["drift"] == "accepted" and log[0]["accepted"]["by"] == "dvx test <test@example.invalid>"
    assert log[1]["accepted"] is None
    assert "accepted: " in run_dvx(drepo, "log", DATA).stdout
    diff = json.loads(run_dvx(drepo, "diff", "HEAD~1", "HEAD", "--json").stdout)["datasets"][0]
    assert diff["accepted"]["data_id"] == data_id
    assert "accepted (x)" in run_dvx(drepo, "diff", "HEAD~1", "HEAD").stdout

    # a later change of the same data (another id) is checked again: refused, although the file is committed
    new_id = _drifted(drepo, shift=3.5, seed=5)
    assert new_id != data_id
    cp = commit(drepo, "shifted again")
    assert cp.returncode == 1 and _head_subject(drepo) == "shifted, accepted", cp.stderr
    assert any(ln.startswith(DATA) and " drift " in ln for ln in cp.stderr.splitlines()), cp.stderr


def test_acceptance_not_staged_does_not_pass_the_hook(drepo: Path) -> None:
    _drifted(drepo)
    run_dvx(drepo, "accept", DATA, "-m", "intended")
    cp = _commit_staged(drepo, "shifted")
    assert cp.returncode == 1 and _head_subject(drepo) == "v1"
    # the work tree's file counts for the work tree's check, the index's for --staged and the hook
    assert json.loads(run_dvx(drepo, "check", "--json").stdout)["datasets"][0]["drift"] == "accepted"
    staged = json.loads(run_dvx(drepo, "check", "--staged", "--json", check=False).stdout)["datasets"][0]
    assert staged["drift"] == "drifted"
    # accepting again changes nothing and says so
    cp = run_dvx(drepo, "accept", DATA, "-m", "intended")
    assert cp.stdout.startswith("already accepted")
    js = json.loads(run_dvx(drepo, "accept", DATA, "-m", "intended", "--json").stdout)
    assert js["added"] is False and js["file"] == ACCEPTED and js["reason"] == "intended" and js["figures"]
    assert (drepo / ACCEPTED).read_text().count("\n[[accept]]\n") == 1


def test_validation_failure_cannot_be_accepted(drepo: Path) -> None:
    write_csv(drepo / DATA, seed=3, shift=1.5, labels=("a", "b", "zz"))  # drifted and failing its suite
    run_dvx(drepo, "add", DATA)
    cp = run_dvx(drepo, "accept", DATA, "-m", "please", check=False)
    assert cp.returncode == 1, cp.stderr
    err = cp.stderr.strip().splitlines()
    assert len(err) == 1 and "fails validation" in err[0] and "fix the data or the suite" in err[0]
    assert "expect_column_values_to_be_in_set" in err[0]
    assert not (drepo / ACCEPTED).exists()
    cp = run_dvx(drepo, "drift", DATA, "--accept", "-m", "please", check=False)  # the shortcut refuses too
    assert cp.returncode == 1 and "fails validation" in cp.stderr
    assert not (drepo / ACCEPTED).exists()


def test_nothing_to_accept_and_reason_required(drepo: Path) -> None:
    write_csv(drepo / DATA, seed=7)  # same distribution: no drift
    run_dvx(drepo, "add", DATA)
    cp = run_dvx(drepo, "accept", DATA, "-m", "why not", check=False)
    assert cp.returncode == 2 and "nothing to accept: drift is ok" in cp.stderr
    cp = run_dvx(drepo, "accept", DATA, "-m", "  ", check=False)
    assert cp.returncode == 2 and "-m REASON" in cp.stderr
    assert not (drepo / ACCEPTED).exists()


def test_drift_accept_shortcut(drepo: Path) -> None:
    data_id = _drifted(drepo)
    cp = run_dvx(drepo, "drift", DATA, "--accept", check=False)
    assert cp.returncode == 2 and "-m REASON" in cp.stderr
    cp = run_dvx(drepo, "drift", DATA, "--accept", "-m", "seasonal shift")
    assert "DRIFTED" in cp.stdout and "accepted: drift of" in cp.stdout
    assert f'data_id = "{data_id}"' in (drepo / ACCEPTED).read_text()
    git(drepo, "add", ACCEPTED)
    assert _commit_staged(drepo, "seasonal").returncode == 0


@pytest.mark.parametrize(
    ("mutate", "line", "what"),
    [
        (lambda t: t.replace('data_id = "', 'data_id = "zz', 1), 9, "data_id must be 32 lowercase hex digits"),
        (lambda t: t + "\n[[accept]\n", None, "invalid TOML"),
        (lambda t: t.replace('reason = "', 'reasn = "', 1), 13, "unknown key 'reasn'"),
        (lambda t: t.replace('at = "', 'at = "yesterday', 1), 12, "at must be a UTC time"),
        (lambda t: t + "#" * (5 << 20), None, "larger than 4 MiB"),
    ],
    ids=["bad-id", "bad-toml", "unknown-key", "bad-time", "huge"],
)
def test_hostile_accepted_file_is_refused_with_file_line(drepo: Path, mutate, line: int | None, what: str) -> None:
    _drifted(drepo)
    run_dvx(drepo, "accept", DATA, "-m", "intended")
    path = drepo / ACCEPTED
    path.write_text(mutate(path.read_text()))
    for args in (("check",), ("accept", DATA, "-m", "again")):
        cp = run_dvx(drepo, *args, check=False)
        err = cp.stderr.strip().splitlines()
        assert cp.returncode == 2 and len(err) == 1, cp.stderr
        prefix = f"error: {ACCEPTED}:{line}: " if line else f"error: {ACCEPTED}"
        assert err[0].startswith(prefix) and what in err[0], err[0]
    # staged, it refuses the commit the same way (exit 2 from the hook, nothing committed)
    git(drepo, "add", ACCEPTED)
    cp = _commit_staged(drepo, "hostile")
    assert cp.returncode != 0 and what in cp.stderr and _head_subject(drepo) == "v1"


def test_accepting_a_committed_version_later(drepo: Path) -> None:
    """A drifted version committed with --no-verify fails `check --rev` until an acceptance of its
    ids is committed; the acceptance committed at HEAD counts for the older commit too."""
    data_id = _drifted(drepo)
    assert _commit_staged(drepo, "shifted, unchecked").returncode == 1
    assert git(drepo, "commit", "-q", "--no-verify", "-m", "shifted, unchecked", check=False).returncode == 0
    cp = run_dvx(drepo, "check", "--rev", "HEAD", check=False)
    assert cp.returncode == 1
    run_dvx(drepo, "accept", DATA, "--rev", "HEAD", "-m", "shipped already; intended")
    assert f'data_id = "{data_id}"' in (drepo / ACCEPTED).read_text()
    git(drepo, "add", ACCEPTED)
    assert _commit_staged(drepo, "accept the shift").returncode == 0
    d = json.loads(run_dvx(drepo, "check", "--rev", "HEAD~1", "--json").stdout)["datasets"][0]
    assert d["drift"] == "accepted" and d["data_id"] == data_id
    prog = "import dvx, sys; dvx.require_valid(sys.argv[1], rev='HEAD~1')"
    cp = subprocess.run([sys.executable, "-c", prog, DATA], cwd=drepo, capture_output=True, text=True, env=env())
    assert cp.returncode == 0, cp.stderr
    # the same data against another baseline (another id) is checked again
    write_csv(drepo / DATA, seed=9)
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", "-A")
    assert git(drepo, "commit", "-q", "--no-verify", "-m", "v3", check=False).returncode == 0
    cp = run_dvx(drepo, "check", "--rev", "HEAD~2", "--baseline", "HEAD", "--json", check=False)
    d = json.loads(cp.stdout)["datasets"][0]
    assert cp.returncode == 1 and d["data_id"] == data_id and d["drift"] == "drifted" and d["accepted"] is None


def test_pre_commit_framework_honours_only_the_staged_acceptance(drepo: Path, tmp_path: Path) -> None:
    """The same through the real `pre-commit` tool and this project's .pre-commit-hooks.yaml (dvx-check)."""
    import shutil

    from dvxtest import make_git_repo

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
    _drifted(drepo)
    cp = commit_staged("shifted")
    assert cp.returncode != 0 and "drifted" in cp.stdout + cp.stderr and _head_subject(drepo) == "pc"
    run_dvx(drepo, "accept", DATA, "-m", "intended")
    cp = commit_staged("shifted, accepted but not staged")
    assert cp.returncode != 0 and _head_subject(drepo) == "pc", cp.stdout + cp.stderr
    assert "drift drifted" in cp.stdout + cp.stderr, cp.stdout + cp.stderr
    git(drepo, "add", ACCEPTED)
    cp = commit_staged("shifted, accepted")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert _head_subject(drepo) == "shifted, accepted"
