"""Shared helpers for tests: real git repositories and the real ``dvx`` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "dvx test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "dvx test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.update(GIT_ENV)
    e["GX_ANALYTICS_ENABLED"] = "false"
    return e


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env(), check=check)


def make_git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "dvx test")
    git(path, "config", "user.email", "test@example.invalid")
    git(path, "config", "commit.gpgsign", "false")
    return path


def run_dvx(repo: Path, *args: str, check: bool = True, timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    """Run the real CLI as a child process in ``repo``."""
    cp = subprocess.run(
        [sys.executable, "-m", "dvx", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=kw.pop("env", None) or env(),
        timeout=timeout,
        **kw,
    )
    if check and cp.returncode != 0:
        raise AssertionError(f"dvx {' '.join(args)} exited {cp.returncode}\nstdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
    return cp


def make_dvx_repo(path: Path) -> Path:
    make_git_repo(path)
    run_dvx(path, "init")
    return path


def write_files(root: Path, files: dict[str, bytes]) -> None:
    """Write ``{relative path: bytes}`` below ``root``, making folders as needed."""
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def tree_bytes(top: Path) -> dict[str, tuple[bytes, bool]]:
    """{relative path: (content, executable)} of every regular file under ``top``."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(top)):
        dirnames[:] = [d for d in dirnames if d not in (b".git", b".dvx")]
        for f in filenames:
            p = os.path.join(dirpath, f)
            if os.path.islink(p):
                continue
            rel = os.path.relpath(p, os.fsencode(top))
            with open(p, "rb") as fh:
                out[os.fsdecode(rel)] = (fh.read(), bool(os.stat(p).st_mode & 0o100))
    return out
