"""Hook installation (chaining, core.hooksPath, uninstall), pre-push data upload,
the pre-commit framework, and `dvx diff` / `dvx log`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dvxtest import env, git, make_git_repo, run_dvx
from hookkit import commit, write_csv

from dvx import scm

DATA = "data/train.csv"
ROOT = Path(__file__).resolve().parents[2]


def test_hook_programs_in_repo_match_what_install_writes() -> None:
    for name in scm.HOOK_NAMES:
        f = ROOT / "hooks" / name
        assert f.read_text() == scm.hook_script(name, ""), f"regenerate hooks/{name}"
        assert os.access(f, os.X_OK)
        # POSIX sh syntax (dash is /bin/sh on Debian)
        assert subprocess.run(["sh", "-n", str(f)]).returncode == 0


def _user_hook(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_existing_hooks_are_chained_and_restored(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "repo")
    log = tmp_path / "ran.log"
    hooks = repo / ".git" / "hooks"
    _user_hook(hooks / "pre-commit", f'echo "user pre-commit $#" >> "{log}"\n')
    # pre-push must see the same stdin as dvx does: it records it
    _user_hook(hooks / "pre-push", f'echo "user pre-push $1" >> "{log}"; cat >> "{log}"\n')
    run_dvx(repo, "init")
    assert (hooks / "pre-commit.pre-dvx").exists() and scm.installed_hooks(repo) == list(scm.HOOK_NAMES)
    (repo / "a.txt").write_text("x")
    assert commit(repo, "c1").returncode == 0
    assert log.read_text().splitlines() == ["user pre-commit 0"]
    # a user hook that fails still stops the commit
    _user_hook(hooks / "pre-commit.pre-dvx", "echo 'user says no' >&2; exit 3\n")
    (repo / "b.txt").write_text("y")
    cp = commit(repo, "c2")
    assert cp.returncode != 0 and "user says no" in cp.stderr
    # pre-push: both hooks get the refs
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    text = log.read_text()
    assert "user pre-push origin" in text and "refs/heads/main" in text
    # install again is idempotent; uninstall puts the user hooks back
    run_dvx(repo, "hooks", "install")
    assert not (hooks / "pre-commit.pre-dvx.old").exists()
    out = run_dvx(repo, "hooks", "uninstall").stdout
    assert "restored your pre-commit hook" in out
    assert "user says no" in (hooks / "pre-commit").read_text()
    assert not (hooks / "pre-commit.pre-dvx").exists() and not (hooks / "post-merge").exists()
    assert scm.installed_hooks(repo) == []


def test_install_refuses_to_clobber_then_force(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "repo")
    hooks = repo / ".git" / "hooks"
    _user_hook(hooks / "pre-commit", "exit 0\n")
    _user_hook(hooks / "pre-commit.pre-dvx", "exit 0 # older\n")
    run_dvx(repo, "init", "--no-hooks")
    assert scm.installed_hooks(repo) == []
    cp = run_dvx(repo, "hooks", "install", check=False)
    assert cp.returncode == 2 and "pre-commit.pre-dvx" in cp.stderr and "--force" in cp.stderr
    assert scm.installed_hooks(repo) == []  # nothing half-installed
    run_dvx(repo, "hooks", "install", "--force")
    assert "older" in (hooks / "pre-commit.pre-dvx.old").read_text()
    assert (hooks / "pre-commit.pre-dvx").read_text() == "#!/bin/sh\nexit 0\n"


def test_core_hooks_path_is_honoured(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "repo")
    git(repo, "config", "core.hooksPath", ".githooks")
    _user_hook(repo / ".githooks" / "pre-commit", f'touch "{tmp_path}/user-ran"\n')
    run_dvx(repo, "init")
    assert (repo / ".githooks" / "pre-commit.pre-dvx").exists()
    assert scm.HOOK_MARKER in (repo / ".githooks" / "post-checkout").read_text()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    (repo / "expectations" / "s.json").write_text(json.dumps(
        {"name": "s", "expectations": [{"type": "expect_column_values_to_be_in_set",
                                        "kwargs": {"column": "label", "value_set": ["a"]}}]}))
    (repo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "my d.csv"\nsuites = ["s.json"]\n')
    write_csv(repo / "my d.csv")  # labels a and b: fails the suite (and a space in the name)
    run_dvx(repo, "add", "my d.csv")
    cp = commit(repo, "bad")
    assert cp.returncode != 0 and "expect_column_values_to_be_in_set" in cp.stderr
    assert (tmp_path / "user-ran").exists()


def _push_setup(tmp_path: Path, drepo: Path, with_remote: bool = True) -> Path:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(drepo, "remote", "add", "origin", str(bare))
    if with_remote:
        run_dvx(drepo, "remote", "add", "-d", "store", str(tmp_path / "dvx-remote"))
        assert commit(drepo, "remote").returncode == 0
    return bare


def test_git_push_uploads_data_first_and_clone_pulls(drepo: Path, tmp_path: Path) -> None:
    bare = _push_setup(tmp_path, drepo)
    write_csv(drepo / DATA, seed=5)
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "v2").returncode == 0
    cp = git(drepo, "push", "origin", "main", check=False)
    assert cp.returncode == 0, cp.stderr
    assert "dvx: pushed" in cp.stderr and "2 commit(s)" in cp.stderr
    assert any((tmp_path / "dvx-remote").rglob("*"))
    # nothing new to push: the hook does not start a transfer
    cp = git(drepo, "push", "origin", "main", check=False)
    assert cp.returncode == 0 and "dvx: pushed" not in cp.stderr
    # a fresh clone gets both versions from the dvx remote
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True, env=env())
    run_dvx(clone, "pull")
    assert (clone / DATA).read_bytes() == (drepo / DATA).read_bytes()
    run_dvx(clone, "hooks", "install")
    git(clone, "checkout", "-q", "HEAD~2")  # v1, fetched? only v2 was pulled: warning, no failure
    git(clone, "checkout", "-q", "main")
    run_dvx(clone, "fetch")
    assert run_dvx(clone, "status", "--json").stdout.count('"unchanged"') == 1


def test_push_is_refused_when_data_cannot_be_uploaded(drepo: Path, tmp_path: Path) -> None:
    bare = _push_setup(tmp_path, drepo, with_remote=False)
    cp = git(drepo, "push", "origin", "main", check=False)
    assert cp.returncode != 0
    assert "git push refused" in cp.stderr and "--no-verify" in cp.stderr
    assert git(bare, "rev-parse", "--verify", "-q", "refs/heads/main", check=False).stdout.strip() == ""
    # once a remote exists the same push goes through, data first
    run_dvx(drepo, "remote", "add", "-d", "store", str(tmp_path / "dvx-remote"))
    cp = git(drepo, "push", "origin", "main", check=False)
    assert cp.returncode == 0 and "dvx: pushed" in cp.stderr


def test_diff_and_log_from_stored_results(drepo: Path) -> None:
    write_csv(drepo / DATA, seed=6)
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "v2 ok").returncode == 0
    write_csv(drepo / DATA, seed=6, shift=2.0)
    run_dvx(drepo, "add", DATA)
    assert commit(drepo, "v3 drifted").returncode != 0
    # workspace vs HEAD: drift known from the refused commit's stored report
    d = json.loads(run_dvx(drepo, "diff", "--json").stdout)
    (ds,) = d["datasets"]
    assert ds["path"] == DATA and ds["change"] == "modified" and ds["drifted"] is True and "x" in ds["drifted_columns"]
    assert ds["rows_a"] == ds["rows_b"] == 3000 and ds["rows_change"] == 0
    assert ds["validation_a"] == "passed" and ds["validation_b"] == "passed"
    assert commit(drepo, "v3 forced", "--no-verify").returncode == 0
    two = json.loads(run_dvx(drepo, "diff", "HEAD~2", "HEAD~1", "--json").stdout)
    assert [x["drifted"] for x in two["datasets"]] == [False]
    assert json.loads(run_dvx(drepo, "diff", "HEAD", "--json").stdout)["datasets"] == []
    text = run_dvx(drepo, "diff", "HEAD~1", "HEAD").stdout
    assert DATA in text and "x" in text
    log = json.loads(run_dvx(drepo, "log", DATA, "--json").stdout)
    assert [e["message"] for e in log] == ["v3 forced", "v2 ok", "v1"]
    assert [e["change"] for e in log] == ["modified", "modified", "added"]
    assert [e["drift"] for e in log] == ["drifted", "ok", "new"]
    assert all(e["validation"] == "passed" and e["rows"] == 3000 for e in log)
    human = run_dvx(drepo, "log", DATA + ".dvx").stdout
    assert "v3 forced" in human and "drifted (x" in human


def _doc_snippets() -> list[str]:
    """The two .pre-commit-config.yaml snippets of docs/hooks.md, as the page shows them."""
    page = (ROOT / "docs" / "hooks.md").read_text()
    section = page[page.index("## The pre-commit framework"):]
    section = section[: section.index("\n## ", 5)]
    return re.findall(r"```yaml\n(.*?)```", section, re.S)


def _pre_commit_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    exe = Path(sys.executable).parent / "pre-commit"
    if not exe.exists():
        pytest.skip("pre-commit is not installed in the venv")
    e = env()
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e.get('PATH', '')}"
    e["PRE_COMMIT_HOME"] = str(tmp_path / "pc-home")
    return exe, e


def _bad_commit_refused_by_pre_commit(drepo: Path, exe: Path, e: dict[str, str], *stages: str) -> None:
    """``pre-commit install`` for ``stages``, commit its config, then a commit of data the suite fails is refused."""
    subprocess.run([str(exe), "install", *(a for s in stages for a in ("-t", s))], cwd=drepo, env=e, check=True,
                   capture_output=True)
    git(drepo, "add", ".pre-commit-config.yaml")
    cp = subprocess.run(["git", "commit", "-qm", "pc"], cwd=drepo, env=e, capture_output=True, text=True)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    write_csv(drepo / DATA, seed=14, labels=("a", "b", "nope"))
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", "-A")
    cp = subprocess.run(["git", "commit", "-qm", "bad"], cwd=drepo, env=e, capture_output=True, text=True)
    out = cp.stdout + cp.stderr
    assert cp.returncode != 0 and "dvx check" in out and "expect_column_values_to_be_in_set" in out, out


def test_pre_commit_framework_runs_dvx_hooks(drepo: Path, tmp_path: Path) -> None:
    exe, e = _pre_commit_env(tmp_path)
    snippet = _doc_snippets()[0]
    url = re.search(r"- repo: (\S+)", snippet)
    rev = re.search(r"rev: (\S+)", snippet)
    assert url and rev and rev.group(1).startswith("v"), snippet
    # this repository's hook file at the tag the snippet names (a copy: the
    # clone under test may be shallow or carry no tags)
    hooks_repo = make_git_repo(tmp_path / "hooks-repo")
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks_repo / ".pre-commit-hooks.yaml")
    git(hooks_repo, "add", "-A")
    git(hooks_repo, "commit", "-qm", "hooks")
    git(hooks_repo, "tag", rev.group(1))
    run_dvx(drepo, "hooks", "uninstall")
    (drepo / ".pre-commit-config.yaml").write_text(snippet.replace(url.group(1), str(hooks_repo)))
    _bad_commit_refused_by_pre_commit(drepo, exe, e, "pre-commit", "pre-push")
    # dvx-push: the data goes to the dvx remote before git pushes
    git(drepo, "reset", "-q", "--hard")
    bare = _push_setup(tmp_path, drepo, with_remote=False)
    run_dvx(drepo, "remote", "add", "-d", "store", str(tmp_path / "dvx-remote"))
    git(drepo, "add", "-A")
    cp = subprocess.run(["git", "commit", "-qm", "remote"], cwd=drepo, env=e, capture_output=True, text=True)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    cp = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=drepo, env=e, capture_output=True, text=True)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert any((tmp_path / "dvx-remote").rglob("*")) and git(bare, "rev-parse", "main").returncode == 0


def test_pre_commit_local_snippet_refuses_bad_data(drepo: Path, tmp_path: Path) -> None:
    exe, e = _pre_commit_env(tmp_path)
    run_dvx(drepo, "hooks", "uninstall")
    (drepo / ".pre-commit-config.yaml").write_text(_doc_snippets()[1])
    _bad_commit_refused_by_pre_commit(drepo, exe, e, "pre-commit")
