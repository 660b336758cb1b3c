"""`hooks.fetch = true`: after a real `git checkout` of a branch whose data is on the remote but not
in the cache, the post-checkout hook fetches it and checks it out, as git-lfs does; without it the
hook only says what is missing."""

from __future__ import annotations

from pathlib import Path

from dvxtest import git, make_dvx_repo, run_dvx


def test_post_checkout_fetches_missing_data_when_asked(tmp_path: Path) -> None:
    origin = make_dvx_repo(tmp_path / "origin")
    run_dvx(origin, "remote", "add", "-d", "store", str(tmp_path / "store"))
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "dvx", "--no-verify")
    git(origin, "checkout", "-qb", "data")
    body = "id,x\n" + "".join(f"{i},{i * 3}\n" for i in range(500))
    (origin / "data.csv").write_text(body)
    run_dvx(origin, "add", "data.csv")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "data", "--no-verify")
    run_dvx(origin, "push")
    git(origin, "checkout", "-q", "main")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    run_dvx(clone, "hooks", "install")
    cp = git(clone, "checkout", "data")
    assert not (clone / "data.csv").exists()
    assert "data not in the cache for data.csv; run `dvx pull`" in cp.stderr

    git(clone, "checkout", "-q", "main")
    run_dvx(clone, "config", "--local", "hooks.fetch", "true")
    cp = git(clone, "checkout", "data")
    assert (clone / "data.csv").read_text() == body, cp.stderr
    assert "(hooks.fetch)" in cp.stderr and "warning" not in cp.stderr
    assert run_dvx(clone, "status", "--json").returncode == 0
