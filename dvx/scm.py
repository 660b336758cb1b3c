"""Git access: the only module that talks to git.

Hot paths (hooks, ``add``'s tracked-file check, staging) run the ``git``
binary directly: one fork costs ~3 ms where importing gitpython costs 70 ms
(../shared/notes/deps.md). gitpython serves history walks (``log``, revision
resolution) where its object model earns its import.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from dvx.errors import DvxError, NotARepoError, UsageError


class GitError(DvxError):
    """A git command failed."""


def git(root: str | os.PathLike[str], *args: str, check: bool = True, input: bytes | None = None) -> bytes:
    """Run ``git -C root args...`` and return stdout; GitError with git's message on failure."""
    try:
        cp = subprocess.run(
            ["git", "-C", os.fspath(root), *args],
            input=input,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as e:
        raise NotARepoError("git is not installed or not on PATH", "install git") from e
    if check and cp.returncode != 0:
        msg = cp.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {args[0]}: {msg[-1] if msg else 'failed'}")
    return cp.stdout


def tracked_by_git(root: Path, rels: Sequence[str]) -> list[str]:
    """Which of ``rels`` (or files below them) git already tracks."""
    if not rels:
        return []
    out = git(root, "ls-files", "-z", "--cached", "--", *[f":(literal){r}" for r in rels])
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def refuse_git_tracked(root: Path, rels: Sequence[str]) -> None:
    """UsageError when git already tracks one of ``rels``."""
    hits = tracked_by_git(root, rels)
    if hits:
        first = hits[0]
        raise UsageError(
            f"{first}: already tracked by git; dvx would store it twice",
            f"stop tracking it in git first with `git rm --cached {first}`",
        )


def stage(root: Path, rels: Sequence[str]) -> None:
    """``git add`` the given repo-relative paths (pointer files, .gitignore files)."""
    existing = [r for r in rels if (root / r).exists()]
    if existing:
        git(root, "add", "--", *existing)


def toplevel(start: str | os.PathLike[str]) -> Path:
    """The root of the git work tree enclosing ``start``."""
    try:
        out = git(start, "rev-parse", "--show-toplevel")
    except GitError as e:
        raise NotARepoError(f"{os.fspath(start)}: not inside a git work tree", "run `git init`") from e
    return Path(out.decode("utf-8", "surrogateescape").strip())


def resolve_rev(root: Path, rev: str) -> str:
    """Full commit sha of ``rev`` (sha, branch, tag, HEAD~2, ...); UsageError when unknown."""
    try:
        out = git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except GitError:
        out = b""
    sha = out.decode().strip()
    if not sha:
        raise UsageError(f"{rev}: unknown revision in {root}", "use a commit, branch or tag name (`git log --oneline`)")
    return sha


def read_at_rev(root: Path, rev: str, rel: str) -> bytes | None:
    """Content of the repo-relative file ``rel`` at ``rev``; None when it does not exist there."""
    sha = resolve_rev(root, rev)
    cp = subprocess.run(["git", "-C", os.fspath(root), "cat-file", "blob", f"{sha}:{rel}"], capture_output=True)
    if cp.returncode != 0:
        return None
    return cp.stdout


def ls_files_at_rev(root: Path, rev: str, prefix: str = "") -> list[str]:
    """Repo-relative paths of every file at ``rev`` (optionally below ``prefix``)."""
    sha = resolve_rev(root, rev)
    args = ["ls-tree", "-r", "-z", "--name-only", "--full-tree", sha]
    if prefix:
        args += ["--", prefix]
    out = git(root, *args)
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def pointers_at_rev(root: Path, rev: str) -> list[str]:
    """Repo-relative pointer files (``*.dvx``) committed at ``rev``."""
    return [p for p in ls_files_at_rev(root, rev) if p.endswith(".dvx") and not p.startswith(".dvx/")]
