"""The git hooks dvx installs: their scripts, install, uninstall and chaining with an existing hook."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dvx.errors import UsageError
from dvx.scm.git import git
from dvx.scm.mergedriver import register_merge_driver, unregister_merge_driver
from dvx.scm.revs import POINTER_SPEC, ZERO_SHA

HOOK_NAMES = ("pre-commit", "pre-push", "post-checkout", "post-merge")
HOOK_MARKER = "# dvx-hook: installed by `dvx hooks install`"
CHAIN_SUFFIX = ".pre-dvx"

# Git runs hooks with stdin from /dev/null except those fed data: only
# pre-push reads "<local ref> <local sha> <remote ref> <remote sha>" lines.
_STDIN_HOOKS = ("pre-push",)

# Shell prefilters: skip starting Python (~0.1-0.2 s) when the git operation
# touches no pointer file (nor, for pre-commit, anything in an expectations/
# folder: suites, bindings, thresholds; at any depth, for `dvx init --subdir`
# projects), so a commit without datasets costs a few ms.
_PREFILTER = {
    "pre-commit": (
        # one git diff for both; a deleted pointer has nothing to check, a deleted suite has
        'if [ -z "$(git diff --cached --name-status --diff-filter=ACMRD -- \'' + POINTER_SPEC + '\' \':(glob)**/expectations/**\' '
        '2>/dev/null | grep -v \'^D.*\\.dvx$\' | head -n 1)" ]; then\n'
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
    merge_driver: bool = False  # install: registered; uninstall: its git config removed
    attributes_changed: bool = False  # install: `*.dvx merge=dvx` appended to .gitattributes (commit it)


def install_hooks(root: Path, python: str | None = None, force: bool = False) -> HooksResult:
    """Install the dvx hooks into the repository's hooks folder (honours ``core.hooksPath``),
    and register the merge driver for pointer files (``scm.mergedriver``).

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
    # The merge driver's config is local to a clone like the hooks, so it is set up with them.
    res.attributes_changed = register_merge_driver(root, py)
    res.merge_driver = True
    return res


def uninstall_hooks(root: Path) -> HooksResult:
    """Remove the dvx hooks (a chained ``NAME.pre-dvx`` is moved back to ``NAME``) and the merge driver's config."""
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
    res.merge_driver = unregister_merge_driver(root)
    return res


def installed_hooks(root: Path) -> list[str]:
    """Names of the dvx hooks present in the hooks folder."""
    d = hooks_dir(root)
    return [n for n in HOOK_NAMES if _is_dvx_hook(d / n)]
