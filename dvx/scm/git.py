"""Running git, and the work-tree operations ``add`` needs (root, revision names, staging).

Hot paths (hooks, ``add``'s tracked-file check, staging) run the ``git``
binary directly: one fork costs ~3 ms where importing gitpython costs 70 ms
(../shared/notes/deps.md).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from dvx.errors import DvxError, NotARepoError, UsageError


class GitError(DvxError):
    """A git command failed."""


def run(
    root: str | os.PathLike[str], *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``git -C root args...`` with output captured, whatever its exit status."""
    try:
        return subprocess.run(
            ["git", "-C", os.fspath(root), *args], input=input, capture_output=True, check=False, env=env
        )
    except FileNotFoundError as e:
        raise NotARepoError("git is not installed or not on PATH", "install git") from e


def last_line(stderr: bytes, default: str) -> str:
    """The last line git wrote to stderr (its actual complaint), or ``default``."""
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else default


def git(root: str | os.PathLike[str], *args: str, check: bool = True, input: bytes | None = None) -> bytes:
    """Run ``git -C root args...`` and return stdout; GitError with git's message on failure."""
    cp = run(root, *args, input=input)
    if check and cp.returncode != 0:
        raise GitError(f"git {args[0]}: {last_line(cp.stderr, 'failed')}")
    return cp.stdout


def split_z(out: bytes) -> list[str]:
    """Paths from git's ``-z`` output (NUL-separated, undecodable bytes kept as surrogates)."""
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def tracked_by_git(root: Path, rels: Sequence[str]) -> list[str]:
    """Which of ``rels`` (or files below them) git already tracks."""
    if not rels:
        return []
    return split_z(git(root, "ls-files", "-z", "--cached", "--", *[f":(literal){r}" for r in rels]))


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


def recordable(root: Path, rels: Sequence[str]) -> list[str]:
    """Which of ``rels`` a ``git add`` can record: those that exist, and deleted ones git tracks
    (``git add`` of a deleted tracked path stages its removal; of an unknown one, it fails)."""
    gone = [r for r in rels if not os.path.lexists(root / r)]
    known = set(tracked_by_git(root, gone)) if gone else set()
    return [r for r in rels if r not in gone or r in known]


def stage_changes(root: Path, rels: Sequence[str]) -> list[str]:
    """``git add`` the ``recordable`` paths of ``rels`` (new, changed and deleted pointer and
    .gitignore files, as ``git mv`` and ``git rm`` leave the index); the paths staged."""
    paths = recordable(root, rels)
    if paths:
        git(root, "add", "--", *[f":(literal){r}" for r in paths])
    return paths


def toplevel(start: str | os.PathLike[str]) -> Path:
    """The root of the git work tree enclosing ``start``."""
    try:
        out = git(start, "rev-parse", "--show-toplevel")
    except GitError as e:
        raise NotARepoError(f"{os.fspath(start)}: not inside a git work tree", "run `git init`") from e
    return Path(out.decode("utf-8", "surrogateescape").strip())


def resolve_rev(root: Path, rev: str) -> str:
    """Full commit sha of ``rev`` (sha, branch, tag, HEAD~2, ...); UsageError when unknown."""
    sha = git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False)
    name = sha.decode().strip()
    if not name:
        raise UsageError(f"{rev}: unknown revision in {root}", "use a commit, branch or tag name (`git log --oneline`)")
    return name


def head_sha(root: Path) -> str | None:
    """The commit HEAD names, or None on an unborn branch."""
    return git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).decode().strip() or None


def clone(url: str, dest: str) -> None:
    """``git clone url dest`` without prompting for credentials; UsageError when it fails."""
    cp = run(".", "clone", "--quiet", "--", url, dest, env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
    if cp.returncode != 0:
        raise UsageError(
            f"{url}: cannot clone: {last_line(cp.stderr, 'git clone failed')}",
            "check the URL and that git can reach it (`git ls-remote URL`)",
        )


def fetch_origin(root: str | os.PathLike[str]) -> bool:
    """``git fetch origin`` (branches and tags) in a clone, without prompting; False when it fails."""
    cp = run(root, "fetch", "--quiet", "--tags", "origin", env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
    return cp.returncode == 0


# Transports a clone of a URL from a pointer file or the command line may use; git's
# `ext::` and `fd::` (which run commands) and any other are refused.
_CLONE_PROTOCOLS = ("file", "git", "http", "https", "ssh")


def clone_bare(url: str, dest: str) -> None:
    """``git clone --bare url dest`` (no work tree, no hooks run, nothing written to the source),
    allowing only the file, git, http(s) and ssh transports; UsageError when it fails."""
    allow = [a for p in _CLONE_PROTOCOLS for a in ("-c", f"protocol.{p}.allow=always")]
    cp = run(".", "-c", "protocol.allow=never", *allow, "clone", "--bare", "--quiet", "--", url, dest,
             env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
    if cp.returncode != 0:
        raise UsageError(
            f"{url}: cannot clone: {last_line(cp.stderr, 'git clone failed')}",
            "check the URL, and that git can reach it from here",
        )


def index_commit(root: str | os.PathLike[str]) -> str:
    """An unreferenced commit of the index as it is now (``git stash`` makes the same objects).

    Lets a reader see exactly what is staged through the same code that reads
    a revision; git's gc collects the commit later.
    """
    tree = git(root, "write-tree").decode().strip()
    out = git(root, "-c", "user.name=dvx", "-c", "user.email=dvx@localhost", "commit-tree", tree, "-m", "dvx: the index")
    return out.decode().strip()


def identity(root: str | os.PathLike[str]) -> str:
    """``NAME <EMAIL>`` as git would record the author of a commit (``user.name``,
    ``user.email`` or ``GIT_AUTHOR_*``); UsageError when git does not know who you are."""
    cp = run(root, "var", "GIT_AUTHOR_IDENT")
    ident = cp.stdout.decode("utf-8", "replace").strip()
    # "<name> <<email>> <timestamp> <tz>": drop the time, git's own part of the line
    parts = ident.rsplit(" ", 2)
    if cp.returncode != 0 or len(parts) != 3 or not parts[0].endswith(">"):
        raise UsageError(f"git does not know who you are: {last_line(cp.stderr, 'no author identity')}",
                         "set user.name and user.email in git's config, as for a commit")
    return parts[0]


def git_version() -> str | None:
    """``git --version``'s version, None when git is not installed."""
    try:
        cp = subprocess.run(["git", "--version"], capture_output=True, check=False)
    except OSError:
        return None
    return cp.stdout.decode("utf-8", "replace").strip().removeprefix("git version ") or None


def config_value(root: str | os.PathLike[str], key: str) -> str | None:
    """``git config --get KEY`` in the repository at ``root``; None when unset."""
    out = run(root, "config", "--get", key)
    return out.stdout.decode("utf-8", "surrogateescape").strip() if out.returncode == 0 else None


def project_configs(top: str | os.PathLike[str]) -> list[str]:
    """``.dvx/config`` files below the top of the work tree, committed or not yet (``dvx init --subdir``
    projects), relative to ``top``; git's ignore rules apply, so dvx's own caches are never walked."""
    out = git(top, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ":(glob)**/.dvx/config")
    return sorted(set(split_z(out)))
