"""`dvx doctor` in a real repository: versions without importing the packages, the config files in
effect, each remote's reachability (a folder, a folder that cannot be, an S3 endpoint nobody
answers), the hooks and the cache; text and JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path

from dvxtest import env, make_dvx_repo, run_dvx
from s3kit import _S3_ENV, free_port


def test_doctor_text_and_json(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / "data.csv").write_text("id,x\n1,2\n")
    run_dvx(repo, "add", "data.csv")
    (tmp_path / "a-file").write_text("not a folder\n")
    run_dvx(repo, "remote", "add", "-d", "folder", str(tmp_path / "store"))
    run_dvx(repo, "remote", "add", "blocked", str(tmp_path / "a-file" / "store"))
    run_dvx(repo, "remote", "add", "s3", "s3://bucket/prefix")
    run_dvx(repo, "remote", "modify", "s3", "endpoint_url", f"http://127.0.0.1:{free_port()}")
    user = tmp_path / "user"
    user.mkdir()
    (user / "config").write_text("[hooks]\nfetch = true\n")
    e = dict(env(), **_S3_ENV, DVX_GLOBAL_CONFIG_DIR=str(user))

    t0 = time.monotonic()
    r = json.loads(run_dvx(repo, "doctor", "--json", env=e).stdout)
    assert time.monotonic() - t0 < 30
    assert r["dvx"] and r["git"] and r["packages"]["click"] and r["packages"]["pyarrow"]
    files = {f["scope"]: f for f in r["config_files"]}
    assert files["global"] == {"scope": "global", "path": str(user / "config"), "exists": True}
    assert files["local"]["exists"] is False and files["project"]["path"] == str(repo / ".dvx" / "config")
    remotes = {c["name"]: c for c in r["remotes"]}
    assert remotes["folder"]["reachable"] is True and remotes["folder"]["default"] is True
    assert remotes["blocked"]["reachable"] is False and "not a writable folder" in remotes["blocked"]["detail"]
    assert remotes["s3"]["reachable"] is False and remotes["s3"]["detail"]
    assert r["hooks"] == {"pre-commit": True, "pre-push": True, "post-checkout": True, "post-merge": True}
    assert r["cache"]["packs"] >= 1 and r["cache"]["bytes"] > 0
    assert len([p for p in r["problems"] if p.startswith("remote ")]) == 2

    text = run_dvx(repo, "doctor", "--no-remotes", env=e).stdout
    assert f"  global   {user / 'config'}\n" in text and "(absent)" in text
    assert "* folder" in text and "not checked" in text and "problem:" not in text
    assert "pack files" in text and "post-checkout" in text
    assert run_dvx(repo, "doctor", "-q", "--no-remotes", env=e).stdout == ""
    # outside any repository it still reports what it can
    out = run_dvx(tmp_path, "doctor", "--json", env=e).stdout
    assert json.loads(out)["repository"] is None


def test_shell_completion_as_documented(tmp_path: Path) -> None:
    """docs/setup.md: click's completion, `_DVX_COMPLETE=bash_source dvx`, offers dvx's commands and options."""
    import os
    import subprocess
    import sys

    def complete(words: str) -> str:
        e = dict(env(), COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - 1), _DVX_COMPLETE="bash_complete")
        return subprocess.run([sys.executable, "-m", "dvx"], cwd=tmp_path, env=e, capture_output=True, text=True).stdout

    assert "plain,config" in complete("dvx con").splitlines()
    assert "plain,--global" in complete("dvx config --gl").splitlines()
    script = subprocess.run([sys.executable, "-m", "dvx"], cwd=tmp_path, capture_output=True, text=True,
                            env=dict(env(), _DVX_COMPLETE="bash_source")).stdout
    assert "_dvx_completion" in script and os.linesep in script
