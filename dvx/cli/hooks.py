"""Git hooks and the gate: ``hooks install/uninstall``, ``check`` and the hidden ``hook-run``.

``hook-run`` is what the installed hook programs execute; it must stay cheap
when a commit touches no dataset, so this module imports only click, scm and
the workspace at the top (the gate's heavy parts load inside the calls).
"""

from __future__ import annotations

import os
import sys

import click

from dvx import scm
from dvx.cli import State, common_options
from dvx.cli.options import force_option, json_option
from dvx.errors import CheckFailedError, DvxError

pass_state = click.make_pass_decorator(State, ensure=True)


@click.group("hooks")
def hooks_group() -> None:
    """Install or remove the dvx git hooks (pre-commit gate, pre-push data upload, checkout followers)."""


@hooks_group.command("install")
@common_options
@force_option("Also when NAME.pre-dvx exists already (it becomes NAME.pre-dvx.old).")
@pass_state
def hooks_install(state: State, force: bool) -> None:
    """Install pre-commit, pre-push, post-checkout and post-merge hooks (honours core.hooksPath).

    Hooks already there are kept as NAME.pre-dvx and run first.
    """
    r = scm.install_hooks(scm.toplevel("."), force=force)
    if not state.quiet:
        click.echo(f"installed {', '.join(r.installed)} in {os.path.relpath(r.dir)}")
        for n in r.chained:
            click.echo(f"kept your {n} hook as {n}{scm.CHAIN_SUFFIX}; it runs before dvx's")


@hooks_group.command("uninstall")
@common_options
@pass_state
def hooks_uninstall(state: State) -> None:
    """Remove the dvx hooks and put back the hooks they had chained."""
    r = scm.uninstall_hooks(scm.toplevel("."))
    if not state.quiet:
        click.echo(f"removed {', '.join(r.removed) or 'no dvx hooks'} from {os.path.relpath(r.dir)}")
        for n in r.restored:
            click.echo(f"restored your {n} hook")
        for n in r.skipped:
            click.echo(f"left {n} alone: it is not a dvx hook")


def gate_table(result) -> str:
    """The failing checks of a GateResult as an aligned table."""
    from dvx.cli._render import table

    rows = []
    for d in result.datasets:
        for f in d.failures:
            rows.append((d.path, f.check, f.name, f.column or "", f.observed, f.expected))
    return table(rows, ["dataset", "check", "name", "column", "observed", "expected"])


def _summary(result) -> list[str]:
    out = []
    for d in result.datasets:
        verdict = "ok" if d.ok else "FAILED"
        suites = f" ({', '.join(d.suites)})" if d.suites else ""
        out.append(f"{verdict:6} {d.path}: validation {d.validation}{suites}, drift {d.drift}"
                   + (" [stored]" if d.cached else ""))
    return out


def _print_gate(result, quiet: bool, err: bool = False) -> None:
    if not quiet or not result.ok:
        for line in _summary(result):
            click.echo(line, err=err)
    for d in result.datasets:
        for n in d.notes:
            if not quiet:
                click.echo(f"note: {n}", err=err)
    if not result.ok:
        click.echo("", err=err)
        click.echo(gate_table(result), err=err)


@click.command("check")
@common_options
@click.argument("paths", nargs=-1)
@click.option("--staged", is_flag=True, help="Check the datasets whose pointer files are staged (as staged).")
@click.option("--rev", help="Check the versions committed at REV (drift against its parent).")
@click.option("--baseline", metavar="REV", help="Drift baseline (default: HEAD, or REV's parent with --rev).")
@json_option
@pass_state
def check_cmd(state: State, paths: tuple[str, ...], staged: bool, rev: str | None, baseline: str | None,
              as_json: bool) -> None:
    """The gate: validation of the bound suites plus drift against the committed baseline.

    Exits 1 with a table of the failing checks (2 when a pointer file cannot
    be parsed: bad input, not a failed check). Results are stored, so a rerun
    on unchanged data reads no data.
    """
    from dvx.gate import run_gate

    result = run_gate(list(paths) or None, staged=staged, rev=rev, baseline=baseline)
    if as_json:
        from dvx.cli._render import emit_json

        emit_json(result.to_json())
    else:
        if not result.datasets and not state.quiet:
            click.echo("no tracked datasets to check" + (" (none staged)" if staged else ""))
        _print_gate(result, state.quiet)
    broken = [f.observed for d in result.datasets for f in d.failures if f.check == "pointer" and f.name == "parse"]
    from dvx.cli._render import exit_on_errors

    exit_on_errors(broken)  # bad input, not a failed check: exit 2 like every other command
    if not result.ok:
        sys.exit(1)


# hook-run ----------------------------------------------------------------------


def _warn(msg: str) -> None:
    click.echo(f"warning: dvx: {msg}", err=True)


def _pre_commit() -> int:
    from dvx.gate import run_gate

    result = run_gate(staged=True)
    if result.ok:
        return 0
    _print_gate(result, quiet=True, err=True)
    n = len(result.failures)
    click.echo(f"\ndvx: commit refused: {n} failing check(s) in {sum(not d.ok for d in result.datasets)} dataset(s)",
               err=True)
    click.echo("hint: fix the data or the suites (expectations/), or bypass once with `git commit --no-verify`",
               err=True)
    return 1


def _push_refs(remote: str) -> list[tuple[str, str, str, str]]:
    refs: list[tuple[str, str, str, str]] = []
    data = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    for line in data.splitlines():
        parts = line.split()
        if len(parts) == 4:
            refs.append((parts[0], parts[1], parts[2], parts[3]))
    local = os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "")
    to = os.environ.get("PRE_COMMIT_TO_REF", "")
    if not refs and (to or local):
        # The pre-commit framework passes the refs in the environment, not on
        # stdin; it leaves out the from/to refs when the whole history is new.
        if not to:
            out = scm.git(".", "rev-parse", "--verify", "-q", local, check=False).decode().strip()
            to = out or ""
        frm = os.environ.get("PRE_COMMIT_FROM_REF", "")
        if to:
            refs.append((local, to, os.environ.get("PRE_COMMIT_REMOTE_BRANCH", ""),
                         frm if frm and frm != to else scm.ZERO_SHA))
    return refs


def _pre_push(args: tuple[str, ...]) -> int:
    from dvx.workspace import Workspace

    remote = args[0] if args else os.environ.get("PRE_COMMIT_REMOTE_NAME", "")
    refs = _push_refs(remote)
    ws = Workspace.find(".")
    commits = scm.commits_to_push(ws.root, remote, refs)
    if not commits:
        return 0
    from dvx import repo
    from dvx.cli._render import human_size

    try:
        r = repo.push(revs=commits, cwd=str(ws.root))
    except DvxError as e:
        click.echo(f"error: {e.format_message()}", err=True)
        click.echo(f"dvx: git push refused: the data named by {len(commits)} commit(s) is not on the dvx remote, "
                   "and git must not publish pointers without their data", err=True)
        click.echo("hint: fix the dvx remote (`dvx remote list`, `dvx push`), or bypass once with `git push --no-verify`",
                   err=True)
        return 1
    click.echo(f"dvx: pushed {r.objects} objects ({human_size(r.raw_bytes)}) of {len(commits)} commit(s) "
               f"to the dvx remote; {r.present} already there", err=True)
    return 0


def _follow_checkout(rels: list[str] | None) -> int:
    """``dvx checkout`` of ``rels`` (all when None); never fails: warnings name what is missing."""
    from dvx import repo
    from dvx.workspace import Workspace
    from dvx.workspace import pointer as ptr

    ws = Workspace.find(".")
    if rels is None:
        rels = [ptr.tracked_path(pp) for pp in ws.find_pointers()]
    restored = 0
    missing: list[str] = []
    for rel in rels:
        if not os.path.exists(ws.abspath(ptr.pointer_path(rel))):
            continue  # the pointer is gone in this commit; the data file stays (git-ignored)
        try:
            r = repo.checkout([rel], cwd=str(ws.root))
            restored += len(r.restored) + len(r.removed)
        except DvxError as e:
            from dvx.errors import ObjectMissingError

            if isinstance(e, ObjectMissingError):
                missing.append(rel)
            else:
                _warn(e.format_message())
    if restored:
        click.echo(f"dvx: updated {restored} data file(s) to match the pointer files", err=True)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        _warn(f"data not in the cache for {shown}; run `dvx pull` to get it")
    return 0


def _post_checkout(args: tuple[str, ...]) -> int:
    prev, new, flag = (list(args) + ["", "", ""])[:3]
    rels: list[str] | None = None
    if flag == "1" and prev and prev != scm.ZERO_SHA:
        from dvx.workspace import pointer as ptr

        root = scm.toplevel(".")
        rels = [ptr.tracked_path(p) for p in scm.changed_pointers(root, prev, new)]
        if not rels:
            return 0
    return _follow_checkout(rels)


def _post_merge(_args: tuple[str, ...]) -> int:
    from dvx.workspace import pointer as ptr

    root = scm.toplevel(".")
    try:
        rels: list[str] | None = [ptr.tracked_path(p) for p in scm.changed_pointers(root, "ORIG_HEAD", "HEAD")]
    except DvxError:
        rels = None
    if rels == []:
        return 0
    return _follow_checkout(rels)


@click.command("hook-run", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook_run_cmd(name: str, args: tuple[str, ...]) -> None:
    """Run the dvx part of git hook NAME (called by the installed hook programs)."""
    from dvx.errors import NotARepoError, UsageError

    if name not in scm.HOOK_NAMES:
        raise UsageError(f"hook-run {name}: unknown hook (one of {', '.join(scm.HOOK_NAMES)})")
    follower = name in ("post-checkout", "post-merge")
    try:
        if name == "pre-commit":
            code = _pre_commit()
        elif name == "pre-push":
            code = _pre_push(args)
        elif name == "post-checkout":
            code = _post_checkout(args)
        else:
            code = _post_merge(args)
    except NotARepoError:
        code = 0  # hooks in a repository where dvx is not initialised have nothing to do
    except CheckFailedError:
        raise
    except DvxError as e:
        if not follower:
            raise
        # post-checkout/post-merge never fail the git command: one warning line.
        _warn(e.format_message())
        code = 0
    sys.exit(code)
