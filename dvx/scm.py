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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


# Hooks, staged pointers and history (issue 6) ----------------------------

HOOK_NAMES = ("pre-commit", "pre-push", "post-checkout", "post-merge")
HOOK_MARKER = "# dvx-hook: installed by `dvx hooks install`"
CHAIN_SUFFIX = ".pre-dvx"
ZERO_SHA = "0" * 40
# A pathspec matching pointer files at any depth (git's default glob lets * cross /).
POINTER_SPEC = "*.dvx"

# Git runs hooks with stdin from /dev/null except those fed data: only
# pre-push reads "<local ref> <local sha> <remote ref> <remote sha>" lines.
_STDIN_HOOKS = ("pre-push",)

# Shell prefilters: skip starting Python (~0.1-0.2 s) when the git operation
# touches no pointer file, so a commit without datasets costs a few ms.
_PREFILTER = {
    "pre-commit": (
        'if [ -z "$(git diff --cached --name-only --diff-filter=ACMR -- \'' + POINTER_SPEC + '\' 2>/dev/null | head -n 1)" ]; then\n'
        "  exit 0\nfi\n"
    ),
    # A branch checkout (flag 1) that changes no pointer file (or creates a
    # branch: same commit) needs nothing; file checkouts (flag 0) may restore
    # pointers, and a clone (old sha 0000...) needs everything.
    "post-checkout": (
        'if [ "$3" = 1 ] && [ "$1" != ' + "'" + ZERO_SHA + "'" + " ] && { [ \"$1\" = \"$2\" ] || \\\n"
        '   [ -z "$(git diff --name-only "$1" "$2" -- \'' + POINTER_SPEC + '\' 2>/dev/null | head -n 1)" ]; }; then\n'
        "  exit 0\nfi\n"
    ),
}

# When dvx cannot be found: gates refuse (a commit or push must not pass
# unchecked), the checkout followers only warn.
_MISSING = {
    "pre-commit": 1,
    "pre-push": 1,
    "post-checkout": 0,
    "post-merge": 0,
}


def hook_script(name: str, python: str = "") -> str:
    """The POSIX sh program dvx installs as hook ``name``.

    ``python`` is the interpreter that has dvx installed (recorded at install
    time); empty means "find ``dvx`` on PATH". The hook runs the hook that was
    there before dvx (``NAME.pre-dvx``) first, with the same arguments and
    stdin, and stops when it fails.
    """
    if name not in HOOK_NAMES:
        raise UsageError(f"{name}: not a dvx hook (one of {', '.join(HOOK_NAMES)})")
    q = "'" + python.replace("'", "'\\''") + "'"
    lines = [
        "#!/bin/sh",
        HOOK_MARKER,
        f"# git {name} hook: runs `dvx hook-run {name}` (docs/hooks.md).",
        f"# A {name} hook that was here before dvx is kept as {name}{CHAIN_SUFFIX} and runs first.",
        f"dvx_python={q}",
        "",
    ]
    body = "\n".join(lines)
    if name in _STDIN_HOOKS:
        body += (
            f'if [ -x "$0{CHAIN_SUFFIX}" ]; then\n'
            "  # git gives the refs on stdin once; both hooks need them.\n"
            '  dvx_stdin=$(mktemp "${TMPDIR:-/tmp}/dvx-hook.XXXXXX") || exit 1\n'
            '  cat > "$dvx_stdin"\n'
            f'  "$0{CHAIN_SUFFIX}" "$@" < "$dvx_stdin" || {{ dvx_rc=$?; rm -f "$dvx_stdin"; exit $dvx_rc; }}\n'
            '  exec < "$dvx_stdin"\n'
            '  rm -f "$dvx_stdin"\n'
            "fi\n"
        )
    else:
        body += f'if [ -x "$0{CHAIN_SUFFIX}" ]; then\n  "$0{CHAIN_SUFFIX}" "$@" || exit $?\nfi\n'
    body += _PREFILTER.get(name, "")
    body += (
        'if [ -n "$dvx_python" ] && [ -x "$dvx_python" ]; then\n'
        f'  exec "$dvx_python" -m dvx hook-run {name} "$@"\n'
        "fi\n"
        "if command -v dvx >/dev/null 2>&1; then\n"
        f'  exec dvx hook-run {name} "$@"\n'
        "fi\n"
    )
    if _MISSING[name]:
        body += (
            f'echo "dvx: {name} hook: dvx is not installed; install it and run \\`dvx hooks install\\`'
            f' (or bypass once with --no-verify)" >&2\n'
            "exit 1\n"
        )
    else:
        body += f'echo "warning: dvx: {name} hook: dvx is not installed; data files were not updated" >&2\nexit 0\n'
    return body


def hooks_dir(root: Path) -> Path:
    """The folder git runs hooks from (``core.hooksPath`` when set, else ``.git/hooks``)."""
    out = git(root, "rev-parse", "--git-path", "hooks").decode("utf-8", "surrogateescape").strip()
    p = Path(out)
    return p if p.is_absolute() else (Path(root) / p)


def _is_dvx_hook(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return HOOK_MARKER.encode() in head


@dataclass
class HooksResult:
    """What ``install_hooks``/``uninstall_hooks`` did, per hook name."""

    dir: str
    installed: list[str] = field(default_factory=list)  # written (new or updated)
    chained: list[str] = field(default_factory=list)  # an existing hook kept as NAME.pre-dvx
    restored: list[str] = field(default_factory=list)  # uninstall: NAME.pre-dvx moved back
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # uninstall: not dvx's hook, left alone


def install_hooks(root: Path, python: str | None = None, force: bool = False) -> HooksResult:
    """Install the dvx hooks into the repository's hooks folder (honours ``core.hooksPath``).

    An existing hook that is not dvx's is renamed ``NAME.pre-dvx`` and run
    first by the dvx hook (chained, like pre-commit's ``.legacy``). When a
    ``NAME.pre-dvx`` is already there as well, UsageError unless ``force``,
    which moves that older one to ``NAME.pre-dvx.old``. ``python`` defaults to
    the running interpreter (``sys.executable``), so hooks find the venv that
    installed them.
    """
    import sys

    from dvx._fsutil import atomic_write

    d = hooks_dir(root)
    d.mkdir(parents=True, exist_ok=True)
    py = python if python is not None else sys.executable
    res = HooksResult(str(d))
    # Check every hook before changing any, so a refusal leaves the folder as it was.
    for name in HOOK_NAMES:
        path, saved = d / name, d / (name + CHAIN_SUFFIX)
        if os.path.lexists(path) and not _is_dvx_hook(path) and os.path.lexists(saved) and not force:
            raise UsageError(
                f"{path}: a {name} hook exists and so does {saved.name}; dvx will not overwrite either",
                f"merge them into one, or run `dvx hooks install --force` (moves {saved.name} to {saved.name}.old)",
            )
    for name in HOOK_NAMES:
        path, saved = d / name, d / (name + CHAIN_SUFFIX)
        if os.path.lexists(path) and not _is_dvx_hook(path):
            if os.path.lexists(saved):
                os.replace(saved, str(saved) + ".old")
            os.replace(path, saved)
            res.chained.append(name)
        atomic_write(path, hook_script(name, py).encode())
        os.chmod(path, 0o755)
        res.installed.append(name)
    return res


def uninstall_hooks(root: Path) -> HooksResult:
    """Remove the dvx hooks; a chained ``NAME.pre-dvx`` is moved back to ``NAME``."""
    d = hooks_dir(root)
    res = HooksResult(str(d))
    for name in HOOK_NAMES:
        path, saved = d / name, d / (name + CHAIN_SUFFIX)
        if os.path.lexists(path) and not _is_dvx_hook(path):
            res.skipped.append(name)
            continue
        if os.path.lexists(path):
            os.unlink(path)
            res.removed.append(name)
        if os.path.lexists(saved):
            os.replace(saved, path)
            res.restored.append(name)
    return res


def installed_hooks(root: Path) -> list[str]:
    """Names of the dvx hooks present in the hooks folder."""
    d = hooks_dir(root)
    return [n for n in HOOK_NAMES if _is_dvx_hook(d / n)]


def _paths(out: bytes) -> list[str]:
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def staged_pointers(root: Path) -> list[str]:
    """Pointer files (``*.dvx``) added, copied, modified or renamed in the index."""
    out = git(root, "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR", "--", POINTER_SPEC)
    return [p for p in _paths(out) if not p.startswith(".dvx/")]


def read_staged(root: Path, rel: str) -> bytes | None:
    """Content of ``rel`` in the index (stage 0); None when it is not there."""
    cp = subprocess.run(["git", "-C", os.fspath(root), "cat-file", "blob", f":{rel}"], capture_output=True)
    return cp.stdout if cp.returncode == 0 else None


def changed_pointers(root: Path, rev_a: str, rev_b: str | None = None) -> list[str]:
    """Pointer files that differ between two commits (or a commit and the work tree)."""
    args = ["diff", "--name-only", "-z", "--no-renames", rev_a] + ([rev_b] if rev_b else []) + ["--", POINTER_SPEC]
    return [p for p in _paths(git(root, *args)) if not p.startswith(".dvx/")]


def head_sha(root: Path) -> str | None:
    """The commit HEAD names, or None on an unborn branch."""
    cp = subprocess.run(["git", "-C", os.fspath(root), "rev-parse", "--verify", "--quiet", "HEAD"], capture_output=True)
    sha = cp.stdout.decode().strip()
    return sha or None


def commits_to_push(root: Path, remote: str, refs: Sequence[tuple[str, str, str, str]]) -> list[str]:
    """Commits being pushed that change a pointer file, as git-lfs finds them.

    ``refs`` are pre-push's stdin lines (local ref, local sha, remote ref,
    remote sha); commits reachable from a local sha but not from any
    ``refs/remotes/<remote>/*`` ref nor from the remote's old sha.
    """
    tips = [lsha for _lref, lsha, _rref, _rsha in refs if lsha and lsha != ZERO_SHA]
    if not tips:
        return []
    args = ["rev-list", *tips, "--not"]
    if remote and "/" not in remote and ":" not in remote:
        args.append(f"--remotes={remote}")
    for _lref, _lsha, _rref, rsha in refs:
        if rsha and rsha != ZERO_SHA:
            # Only a sha we have can be excluded (a remote ahead of us is git's business).
            if subprocess.run(["git", "-C", os.fspath(root), "cat-file", "-e", f"{rsha}^{{commit}}"],
                              capture_output=True).returncode == 0:
                args.append(rsha)
    args += ["--", POINTER_SPEC]
    out = git(root, *args).decode().split()
    return out


@dataclass
class PointerVersion:
    """One commit that changed a pointer file, with that pointer's text (None: deleted there)."""

    sha: str
    date: str  # ISO 8601 author date
    author: str
    message: str  # first line
    text: str | None


def log_pointer(root: Path, rel_pointer: str, rev: str = "HEAD", max_count: int | None = None) -> list[PointerVersion]:
    """Newest-first history of ``rel_pointer`` along ``rev`` (gitpython)."""
    import git as gitpython  # gitpython: ~70 ms to import, only for history walks

    repo = gitpython.Repo(os.fspath(root))
    try:
        kw: dict[str, Any] = {"paths": rel_pointer}
        if max_count:
            kw["max_count"] = max_count
        out: list[PointerVersion] = []
        for c in repo.iter_commits(resolve_rev(root, rev), **kw):
            try:
                blob = c.tree / rel_pointer
                text: str | None = blob.data_stream.read().decode("utf-8", "replace")
            except KeyError:
                text = None
            msg = c.message if isinstance(c.message, str) else c.message.decode("utf-8", "replace")
            out.append(PointerVersion(
                c.hexsha, c.authored_datetime.isoformat(), str(c.author.name or ""),
                (msg.strip().splitlines() or [""])[0], text,
            ))
        return out
    finally:
        repo.close()


def read_objects(root: Path, specs: Sequence[str]) -> list[tuple[str, bytes] | None]:
    """(sha, content) of each object spec (``HEAD``, ``:path``, ``rev:path``) in one
    ``git cat-file --batch`` process; None for a spec that names nothing.

    The pre-commit hook reads its staged pointers and their HEAD versions this
    way: one fork instead of two per file.
    """
    if not specs:
        return []
    if any("\n" in s for s in specs):
        raise UsageError("a path with a newline cannot be read from git in batch")
    out = git(root, "cat-file", "--batch", input=("\n".join(specs) + "\n").encode("utf-8", "surrogateescape"))
    res: list[tuple[str, bytes] | None] = []
    pos = 0
    for _ in specs:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split(b" ")
        pos = nl + 1
        # "<sha> <type> <size>", else "<spec> missing" (a spec may hold spaces)
        if len(header) == 3 and len(header[0]) in (40, 64) and header[2].isdigit() and header[1] != b"missing":
            size = int(header[2])
            res.append((header[0].decode(), out[pos : pos + size]))
            pos += size + 1  # content, then a newline
        else:
            res.append(None)  # "<spec> missing" or "ambiguous"
    return res
