"""Every hint that names a command: running that command really fixes the state.

Each test makes the state, reads the hint from the one-line error (or the
``hint:`` line a command printed), runs the command the hint names (from the
hint's backticks, placeholders filled in) and checks that the state is fixed.
Remotes, hooks and versioned reads: test_hints_remote.py. Hints already
followed by other tests are not repeated: broken pointer and remote option
(test_bad_input_parsers), merge conflict (hooks), damaged cache
(reliability/test_power_loss), full disk (reliability/test_disk_full),
hostile paths and links (security/test_hostile_repo), versions a Dask cluster
cannot read (cluster/test_cluster_errors).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from dvxtest import env, git, make_dvx_repo, make_git_repo, run_dvx
from hintkit import commands, follow, printed_hint, tracked

# -- repository set-up -------------------------------------------------------------


def test_init_outside_git_hint_git_init(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    cp = run_dvx(plain, "init", check=False)
    assert cp.returncode == 2
    assert commands(cp) == ["git init"]
    follow(plain, "git init")
    run_dvx(plain, "init")
    assert (plain / ".dvx" / "config").is_file()


def test_command_outside_git_hint_git_init_and_dvx_init(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    cp = run_dvx(plain, "status", check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == ["git init", "dvx init"]
    for c in cmds:
        follow(plain, c)
    assert run_dvx(plain, "status").stdout.strip() == "no tracked paths"


def test_not_initialised_hint_dvx_init(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "repo")
    cp = run_dvx(repo, "status", check=False)
    assert cp.returncode == 2 and commands(cp) == ["dvx init"]
    follow(repo, "dvx init")
    assert run_dvx(repo, "status").stdout.strip() == "no tracked paths"


def test_init_again_hint_force_rewrites_the_defaults(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    config = repo / ".dvx" / "config"
    defaults = config.read_bytes()
    config.write_bytes(defaults + b"\n[remote.old]\nurl = \"/nowhere\"\n")
    cp = run_dvx(repo, "init", check=False)
    assert cp.returncode == 2 and commands(cp) == ["dvx init --force"]
    follow(repo, "dvx init --force")
    assert config.read_bytes() == defaults


def test_init_hint_commits_everything_init_made(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "repo")
    line = printed_hint(run_dvx(repo, "init"))
    subprocess.run(line, shell=True, cwd=repo, check=True, env=env(), capture_output=True)
    assert git(repo, "status", "--porcelain", "--untracked-files=all").stdout == ""
    assert ".dvx/config" in git(repo, "ls-files").stdout


def test_add_hint_from_a_subfolder_stages_the_pointers(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init", "--no-verify")
    sub = repo / "data" / "raw"
    sub.mkdir(parents=True)
    (sub / "my file.csv").write_bytes(b"a\n1\n")
    (sub / "b.csv").write_bytes(b"b\n2\n")
    cp = run_dvx(sub, "add", "my file.csv", "b.csv")
    assert "added     my file.csv" in cp.stdout
    subprocess.run(printed_hint(cp), shell=True, cwd=sub, check=True, env=env(), capture_output=True)
    staged = set(git(repo, "diff", "--cached", "--name-only").stdout.splitlines())
    assert staged == {"data/raw/my file.csv.dvx", "data/raw/b.csv.dvx", "data/raw/.gitignore"}
    assert "??" not in git(repo, "status", "--porcelain", "--untracked-files=all").stdout  # nothing left unstaged


def test_autostaged_add_prints_no_git_add_hint(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    cfg = repo / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace("autostage = false", "autostage = true"))
    (repo / "a.csv").write_bytes(b"a\n")
    cp = run_dvx(repo, "add", "a.csv")
    assert "hint:" not in cp.stdout
    assert "a.csv.dvx" in git(repo, "diff", "--cached", "--name-only").stdout.split()


# -- tracked paths ----------------------------------------------------------------


@pytest.mark.parametrize(("cmd", "tracked_first", "body", "hint", "after"), [
    # status of a path dvx does not track: add it
    ("status", False, b"a\n1\n", "dvx add x.csv", "all unchanged"),
    # stats of an untracked dataset: add it
    ("stats", False, b"a,b\n1,2\n3,4\n", "dvx add x.csv", "x.csv [workspace]: 2 rows, 2 columns"),
    # validate with no suite bound: infer one
    ("validate", True, b"a,b\n1,2\n3,4\n5,6\n", "dvx expectations init x.csv", "x.csv [workspace]: passed"),
])
def test_one_command_hint_fixes_the_state(tmp_path: Path, cmd: str, tracked_first: bool, body: bytes, hint: str,
                                          after: str) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    if tracked_first:
        tracked(repo, "x.csv", body)
    else:
        (repo / "x.csv").write_bytes(body)
    cp = run_dvx(repo, cmd, "x.csv", check=False)
    assert cp.returncode == 2 and commands(cp) == [hint]
    follow(repo, hint)
    assert after in run_dvx(repo, cmd, "x.csv").stdout


def test_expectations_init_hint_from_a_subfolder_stages_suite_and_binding(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / "data").mkdir()
    tracked(repo, "data/x.csv", b"a,b\n1,2\n3,4\n")
    cp = run_dvx(repo / "data", "expectations", "init", "x.csv")
    line = printed_hint(cp)
    assert line.startswith("review it, then git add ../expectations/"), line
    subprocess.run(line.removeprefix("review it, then "), shell=True, cwd=repo / "data", check=True, env=env(),
                   capture_output=True)
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert "expectations/dvx.toml" in staged and len(staged) == 2, staged


def test_adding_a_file_git_tracks_hint_git_rm_cached(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / "code.py").write_text("print(1)\n")
    git(repo, "add", "code.py")
    git(repo, "commit", "-qm", "code", "--no-verify")
    cp = run_dvx(repo, "add", "code.py", check=False)
    assert cp.returncode == 2
    cmds = commands(cp)
    assert cmds == ["git rm --cached code.py"], cmds
    follow(repo, cmds[0])
    run_dvx(repo, "add", "code.py")
    assert (repo / "code.py.dvx").is_file() and "all unchanged" in run_dvx(repo, "status").stdout


# -- checkout ---------------------------------------------------------------------


def test_checkout_over_local_change_hint_force_discards_it(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    data = tracked(repo)
    data.write_bytes(b"id,x\n7,7\n")  # newer than the pointer, stored nowhere
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1
    cmds = commands(cp)
    assert cmds == ["dvx add", "dvx checkout --force"], cmds
    follow(repo, cmds[1])
    assert data.read_bytes() == b"id,x\n1,2\n2,3\n"


def test_checkout_over_local_change_hint_add_keeps_it(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    data = tracked(repo)
    data.write_bytes(b"id,x\n7,7\n")
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 1 and commands(cp)[0] == "dvx add"
    run_dvx(repo, "add", "data.csv")  # "`dvx add` them": the path the error names
    run_dvx(repo, "checkout")
    assert data.read_bytes() == b"id,x\n7,7\n"
    assert "all unchanged" in run_dvx(repo, "status").stdout


def _origin_and_clone(tmp_path: Path, push: bool) -> tuple[Path, Path, Path]:
    """A repository with a folder remote and one tracked file (pushed or not), and its git clone."""
    origin = make_dvx_repo(tmp_path / "origin")
    store = tmp_path / "store"
    run_dvx(origin, "remote", "add", "-d", "store", str(store))
    tracked(origin)
    if push:
        run_dvx(origin, "push")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, env=env())
    return origin, clone, store


def test_checkout_without_data_hint_pull(tmp_path: Path) -> None:
    _origin, clone, _store = _origin_and_clone(tmp_path, push=True)
    cp = run_dvx(clone, "checkout", check=False)
    assert cp.returncode == 1
    cmds = commands(cp)
    assert cmds[0] == "dvx pull", cmds
    follow(clone, cmds[0])
    assert (clone / "data.csv").read_bytes() == b"id,x\n1,2\n2,3\n"


def test_fetch_of_unpushed_data_hint_push_from_the_clone_that_has_it(tmp_path: Path) -> None:
    origin, clone, _store = _origin_and_clone(tmp_path, push=True)
    tracked(origin, "more.csv", b"id\n5\n")  # committed, never pushed
    git(clone, "pull", "-q")
    cp = run_dvx(clone, "fetch", check=False)
    assert cp.returncode == 1 and commands(cp) == ["dvx push"]
    follow(origin, "dvx push")  # "from a clone that has them"
    run_dvx(clone, "pull")
    assert (clone / "more.csv").read_bytes() == b"id\n5\n"


def test_push_with_data_missing_from_the_cache_hint_add_again(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    store = tmp_path / "store"
    run_dvx(repo, "remote", "add", "-d", "store", str(store))
    tracked(repo)
    shutil.rmtree(repo / ".dvx" / "cache")
    cp = run_dvx(repo, "push", check=False)
    assert cp.returncode == 1
    cmds = commands(cp)
    assert cmds[0] == "dvx add", cmds
    run_dvx(repo, "add", "data.csv")  # "`dvx add` on the data again"
    run_dvx(repo, "push")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, env=env())
    run_dvx(clone, "pull")
    assert (clone / "data.csv").read_bytes() == b"id,x\n1,2\n2,3\n"
