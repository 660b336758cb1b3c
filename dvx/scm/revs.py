"""Reading what a revision (or the index) holds: trees, blobs, pointer files, history.

Every read of several files at a revision goes through ``read_objects``: one
``git cat-file --batch`` for all of them, a missing object answered as None.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dvx.errors import UsageError
from dvx.scm.git import git, resolve_rev, run, split_z

ZERO_SHA = "0" * 40
# A pathspec matching pointer files at any depth (git's default glob lets * cross /).
POINTER_SPEC = "*.dvx"
_POINTER_SUFFIX = ".dvx"


def show_prefix(root: str | os.PathLike[str]) -> str:
    """The folder ``root`` is in, relative to the top of its git work tree (``sub/``; ``""`` at the top).

    A project made with ``dvx init --subdir`` lives below the top: git's
    ``rev:path`` and porcelain paths are relative to the top, dvx's to the project.
    """
    key = os.path.abspath(root)
    if key not in _PREFIXES:
        _PREFIXES[key] = git(root, "rev-parse", "--show-prefix").decode("utf-8", "surrogateescape").strip()
    return _PREFIXES[key]


_PREFIXES: dict[str, str] = {}


def _in_project(spec: str, prefix: str) -> str:
    """``rev:path`` (or ``:path``) with ``path`` taken from the project folder; other specs as they are."""
    rev, colon, path = spec.partition(":")
    return f"{rev}:{prefix}{path}" if colon and path and not path.startswith(("/", "./")) else spec


def _pointer_files(paths: list[str]) -> list[str]:
    # ".dvx/" holds dvx's own files (config, cache), never pointers.
    return [p for p in paths if p.endswith(_POINTER_SUFFIX) and not p.startswith(".dvx/")]


def read_objects(root: Path, specs: Sequence[str]) -> list[tuple[str, bytes] | None]:
    """(sha, content) of each object spec (``HEAD``, ``:path``, ``rev:path``, a blob id) in one
    ``git cat-file --batch`` process; None for a spec that names nothing or whose object git lacks.

    The pre-commit hook reads its staged pointers and their HEAD versions this
    way: one fork instead of two per file.
    """
    if not specs:
        return []
    if any("\n" in s for s in specs):
        raise UsageError("a path with a newline cannot be read from git in batch")
    pre = show_prefix(root)
    asked = [_in_project(s, pre) for s in specs] if pre else specs
    out = git(root, "cat-file", "--batch", input=("\n".join(asked) + "\n").encode("utf-8", "surrogateescape"))
    res: list[tuple[str, bytes] | None] = []
    pos = 0
    for spec in specs:
        nl = out.find(b"\n", pos)
        if nl < 0:
            raise UsageError(f"git cat-file --batch gave no answer for {spec!r} in {root}")
        header = out[pos:nl].split(b" ")
        pos = nl + 1
        # "<sha> <type> <size>", else "<spec> missing" or "<spec> ambiguous" (a spec may hold spaces)
        if len(header) == 3 and len(header[0]) in (40, 64) and header[2].isdigit() and header[1] != b"missing":
            size = int(header[2])
            res.append((header[0].decode(), out[pos : pos + size]))
            pos += size + 1  # content, then a newline
        else:
            res.append(None)
    return res


def read_blobs_at(root: Path, rev: str, rels: Sequence[str]) -> dict[str, bytes | None]:
    """Content of each repo-relative file of ``rels`` at ``rev`` (a commit sha is cheapest), in one
    ``git cat-file --batch``; None for a file that is not there or whose blob git lacks."""
    objs = read_objects(root, [f"{rev}:{rel}" for rel in rels])
    return {rel: (obj[1] if obj is not None else None) for rel, obj in zip(rels, objs, strict=True)}


def read_at_rev(root: Path, rev: str, rel: str) -> bytes | None:
    """Content of the repo-relative file ``rel`` at ``rev``; None when it does not exist there."""
    sha = resolve_rev(root, rev)
    cp = run(root, "cat-file", "blob", f"{sha}:{show_prefix(root)}{rel}")
    return cp.stdout if cp.returncode == 0 else None


def read_blob(root: Path, blob: str) -> bytes:
    """The content of the blob ``blob`` (an id from ``ls_tree``); GitError when git lacks it."""
    return git(root, "cat-file", "blob", blob)


def ls_tree(root: Path, sha: str) -> dict[str, tuple[str, int]]:
    """Every file of commit ``sha``: repo-relative path -> (blob id, size). Submodules are left out."""
    # No --full-tree: from a project in a subfolder (dvx init --subdir) git lists that folder, paths relative to it.
    out = git(root, "ls-tree", "-r", "-z", "-l", sha)
    files: dict[str, tuple[str, int]] = {}
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, _, name = rec.partition(b"\t")
        parts = meta.split()
        if len(parts) != 4 or parts[1] != b"blob":
            continue  # submodules (commits) have no content here
        size = int(parts[3]) if parts[3].isdigit() else 0
        files[os.fsdecode(name)] = (parts[2].decode(), size)
    return files


def ls_files_at_rev(root: Path, rev: str, prefix: str = "") -> list[str]:
    """Repo-relative paths of every file at ``rev`` (optionally below ``prefix``)."""
    sha = resolve_rev(root, rev)
    args = ["ls-tree", "-r", "-z", "--name-only", sha]
    if prefix:
        args += ["--", prefix]
    return split_z(git(root, *args))


def pointers_at_rev(root: Path, rev: str) -> list[str]:
    """Repo-relative pointer files (``*.dvx``) committed at ``rev``."""
    return _pointer_files(ls_files_at_rev(root, rev))


def commit_time(root: Path, sha: str) -> float:
    """Committer time of ``sha`` in seconds since the epoch."""
    return float(git(root, "show", "-s", "--format=%ct", sha).strip() or 0)


def staged_pointers(root: Path) -> list[str]:
    """Pointer files (``*.dvx``) added, copied, modified or renamed in the index."""
    out = git(root, "diff", "--cached", "--relative", "--name-only", "-z", "--diff-filter=ACMR", "--", POINTER_SPEC)
    return _pointer_files(split_z(out))


EXPECTATIONS_DIR = "expectations/"


def expectations_status(root: Path) -> tuple[list[str], list[str], list[str]]:
    """The files under ``expectations/`` that differ, in one ``git status`` that takes no lock
    (the pre-commit hook runs while git commit holds the index): (staged: the index against
    HEAD, added, modified or deleted; unstaged: the work tree against the index, or untracked;
    ignored: on disk, ignored and not in the index)."""
    entries = split_z(git(root, "--no-optional-locks", "status", "--porcelain=v1", "-z", "--no-renames",
                          "--untracked-files=all", "--ignored=matching", "--", EXPECTATIONS_DIR))
    staged: list[str] = []
    unstaged: list[str] = []
    ignored: list[str] = []
    pre = show_prefix(root)  # porcelain paths are relative to the top of the work tree
    for e in entries:
        x, y, path = e[0], e[1], e[3:].removeprefix(pre)
        if x in "?!":
            (unstaged if x == "?" else ignored).append(path)
            continue
        if x != " ":
            staged.append(path)
        if y != " ":
            unstaged.append(path)
    return sorted(staged), sorted(unstaged), sorted(ignored)


def indexed_pointers(root: Path) -> list[str]:
    """Every pointer file (``*.dvx``) in the index."""
    return _pointer_files(split_z(git(root, "ls-files", "-z", "--", POINTER_SPEC)))


def read_staged(root: Path, rel: str) -> bytes | None:
    """Content of ``rel`` in the index (stage 0); None when it is not there."""
    cp = run(root, "cat-file", "blob", f":{show_prefix(root)}{rel}")
    return cp.stdout if cp.returncode == 0 else None


def changed_pointers(root: Path, rev_a: str, rev_b: str | None = None) -> list[str]:
    """Pointer files that differ between two commits (or a commit and the work tree)."""
    args = ["diff", "--relative", "--name-only", "-z", "--no-renames", rev_a] + ([rev_b] if rev_b else []) + ["--", POINTER_SPEC]
    return _pointer_files(split_z(git(root, *args)))


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
        # Only a sha we have can be excluded (a remote ahead of us is git's business).
        if rsha and rsha != ZERO_SHA and run(root, "cat-file", "-e", f"{rsha}^{{commit}}").returncode == 0:
            args.append(rsha)
    args += ["--", POINTER_SPEC]
    return git(root, *args).decode().split()


@dataclass
class PointerVersion:
    """One commit that changed a pointer file, with that pointer's text (None: deleted there)."""

    sha: str
    date: str  # ISO 8601 author date
    author: str
    message: str  # first line
    text: str | None


def log_pointer(root: Path, rel_pointer: str, rev: str = "HEAD", max_count: int | None = None) -> list[PointerVersion]:
    """Newest-first history of ``rel_pointer`` along ``rev`` (gitpython: its object model earns its import here)."""
    import git as gitpython  # ~70 ms to import, only for history walks

    repo = gitpython.Repo(os.fspath(root), search_parent_directories=True)  # root may be a --subdir project
    try:
        rel_pointer = show_prefix(root) + rel_pointer  # gitpython reads paths from the top of the work tree
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


# For the gate (dvx/gate) and the hooks (dvx/cli/hooks.py) ------------------


def first_parent(root: Path, sha: str) -> str | None:
    """The first parent of commit ``sha``; None for a root commit."""
    parents = git(root, "rev-list", "--parents", "-n", "1", sha).decode().split()
    return parents[1] if len(parents) > 1 else None


def try_resolve(root: str | os.PathLike[str], name: str) -> str | None:
    """The object ``name`` resolves to (``git rev-parse --verify``), or None when it names nothing."""
    return git(root, "rev-parse", "--verify", "--quiet", name, check=False).decode().strip() or None



def all_commits(root: Path) -> list[str]:
    """Every commit reachable from any ref (``git rev-list --all``), newest first."""
    return git(root, "rev-list", "--all").decode().split()


def _ref_commits(root: Path, prefix: str) -> list[str]:
    """Commits the refs under ``prefix`` point at (annotated tags peeled; refs to trees or blobs left out)."""
    out = git(root, "for-each-ref", "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname)", prefix)
    shas: list[str] = []
    for line in out.decode().splitlines():
        parts = line.split()
        if parts[:1] == ["commit"] and len(parts) >= 2:
            shas.append(parts[1])
        elif parts[:1] == ["tag"] and len(parts) >= 4 and parts[2] == "commit":
            shas.append(parts[3])
    return list(dict.fromkeys(shas))


def branch_heads(root: Path) -> list[str]:
    """The commits at the tips of the local branches (``refs/heads``)."""
    return _ref_commits(root, "refs/heads")


def tag_heads(root: Path) -> list[str]:
    """The commits the tags point at (``refs/tags``; annotated tags peeled)."""
    return _ref_commits(root, "refs/tags")


def pointer_blobs(root: Path, shas: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """``{pointer blob id: [(commit, path), ...]}`` of the pointer files (``*.dvx``) of each commit of
    ``shas``: one ``ls-tree`` per commit; a pointer committed unchanged in many commits is one blob."""
    out: dict[str, list[tuple[str, str]]] = {}
    for sha in shas:
        files = ls_tree(root, sha)
        for path in _pointer_files(list(files)):
            out.setdefault(files[path][0], []).append((sha, path))
    return out


def pointer_versions(root: Path, rev: str = "HEAD", max_count: int | None = None) -> list[tuple[str, str, str]]:
    """``(commit, pointer path, blob id)`` of each version of a pointer file (``*.dvx``) written in
    ``rev``'s history, once, with the oldest commit that wrote it; newest first. ``max_count``
    bounds the history to the commits that change a pointer file, newest first.

    One ``git log``: ``-m`` diffs a merge against each parent, so a version a merge made (the dvx
    merge driver's union) is listed too; ``--root`` lists the first commit's files; deletions are
    left out. Every version at any commit of that history is one some listed commit wrote.
    """
    args = ["log", "-z", "--raw", "--no-abbrev", "--no-renames", "--no-ext-diff", "-m", "--root", "--full-history",
            "--format=C%H"]
    if max_count is not None:
        args.append(f"--max-count={max_count}")
    args += ["--end-of-options", rev, "--", POINTER_SPEC]
    out: list[tuple[str, str, str]] = []
    sha = ""
    blob: str | None = None
    for tok in git(root, *args).split(b"\0"):
        if blob is not None:  # the path of the raw record before: whatever its bytes
            path = os.fsdecode(tok)
            if blob != ZERO_SHA and _pointer_files([path]):
                out.append((sha, path, blob))
            blob = None
            continue
        tok = tok.lstrip(b"\n")
        if tok.startswith(b"C"):
            sha = tok[1:].decode()
        elif tok.startswith(b":"):
            # ":<old mode> <new mode> <old blob> <new blob> <status>"
            meta = tok.split()
            blob = meta[3].decode() if len(meta) >= 5 else ZERO_SHA
    oldest: dict[tuple[str, str], str] = {}
    for sha, path, blob in reversed(out):  # git log lists newest first
        oldest.setdefault((path, blob), sha)
    return [(sha, path, blob) for (path, blob), sha in reversed(oldest.items())]


def on_remote_branches(root: Path, sha: str, remote: str) -> bool:
    """Whether commit ``sha`` is reachable from a remote-tracking branch of ``remote`` (as last fetched or pushed)."""
    out = run(root, "for-each-ref", "--contains", sha, "--count=1", "--format=%(refname)", f"refs/remotes/{remote}/")
    return out.returncode == 0 and bool(out.stdout.strip())
