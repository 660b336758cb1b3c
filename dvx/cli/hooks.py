"""Git hooks and the gate: ``hooks install/uninstall``, ``check``, the hidden ``hook-run`` and ``merge-driver``.

The commands parse options and print; the logic is in :mod:`dvx.gate`
(``run_gate``, ``dvx.gate.hooks.run_hook``). ``hook-run`` is what the
installed hook programs execute; it must stay cheap when a commit touches no
dataset, so this module imports only click and scm at the top.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from dvx import scm
from dvx.cli.options import State, common_options, force_option, json_option, pass_state, scheduler_options
from dvx.errors import CheckFailedError

if TYPE_CHECKING:
    from dvx.gate.result import GateResult


@click.group("hooks")
def hooks_group() -> None:
    """Install or remove the dvx git hooks (pre-commit gate, pre-push data upload, checkout followers)."""


@hooks_group.command("install")
@common_options
@force_option("Also when NAME.pre-dvx exists already (it becomes NAME.pre-dvx.old).")
@pass_state
def hooks_install(state: State, force: bool) -> None:
    """Install pre-commit, pre-push, post-checkout and post-merge hooks (honours core.hooksPath),
    and register the merge driver for pointer files (git config merge.dvx.*, .gitattributes).

    Hooks already there are kept as NAME.pre-dvx and run first. Run it in every
    clone: git's config, which names the merge driver, is not cloned.
    """
    root = scm.toplevel(".")
    r = scm.install_hooks(root, force=force)
    if not state.quiet:
        click.echo(f"installed {', '.join(r.installed)} in {os.path.relpath(r.dir)}")
        for n in r.chained:
            click.echo(f"kept your {n} hook as {n}{scm.CHAIN_SUFFIX}; it runs before dvx's")
        click.echo("registered the merge driver for pointer files (git config merge.dvx.driver)")
        if r.attributes_changed:
            from dvx.cli._render import git_add_hint

            click.echo(f"hint: {git_add_hint(str(root), [scm.ATTRIBUTES])}")


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
        if r.merge_driver:
            click.echo("removed the merge driver's git config (merge.dvx); .gitattributes is left as committed")


def _print_gate(result: GateResult, quiet: bool, err: bool = False) -> None:
    from dvx.cli._render import table
    from dvx.gate.render import FAILURE_HEADERS, failure_rows, summary_lines

    for line in summary_lines(result, quiet):
        click.echo(line, err=err)
    if not result.ok:
        click.echo("", err=err)
        click.echo(table(failure_rows(result), FAILURE_HEADERS), err=err)


@click.command("check")
@common_options
@click.argument("paths", nargs=-1)
@click.option("--staged", is_flag=True, help="Check the pointer files staged in git, as staged (what the pre-commit hook checks).")
@click.option("--rev", help="Check the versions committed at REV (drift against its parent).")
@click.option("--baseline", metavar="REV", help="Drift baseline (default: HEAD, or REV's parent with --rev).")
@json_option
@scheduler_options
@pass_state
def check_cmd(state: State, paths: tuple[str, ...], staged: bool, rev: str | None, baseline: str | None,
              as_json: bool, scheduler: str | None, repo_url: str | None) -> None:
    """The gate: validation of the bound suites plus drift against the committed baseline.

    Reads the files on disk by default, even when modified since `dvx add`;
    --staged the pointer files staged in git (what the pre-commit hook
    checks); --rev a committed version. Writes no pointer file.

    Exits 1 with a table of the failing checks (2 when a pointer file cannot
    be parsed: bad input, not a failed check). Results are stored, so a rerun
    on unchanged data reads no data.
    """
    from dvx.cli._render import emit_json, exit_on_errors
    from dvx.cli.progress import reading
    from dvx.gate import run_gate
    from dvx.gate.render import refusal

    with reading("checking"):
        result = run_gate(list(paths) or None, staged=staged, rev=rev, baseline=baseline, scheduler=scheduler,
                          repo_url=repo_url)
    if as_json:
        emit_json(result.to_json())
    else:
        if not result.datasets and not state.quiet:
            click.echo("no tracked datasets to check" + (" (none staged)" if staged else ""))
        _print_gate(result, state.quiet)
    exit_on_errors(result.unparsable)  # bad input, not a failed check: exit 2 like every other command
    if not result.ok:
        raise CheckFailedError(f"check failed: {refusal(result)}", "fix the data or the suites (expectations/)")


@click.command("hook-run", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook_run_cmd(name: str, args: tuple[str, ...]) -> None:
    """Run the dvx part of git hook NAME (called by the installed hook programs)."""
    from dvx.gate.hooks import run_hook

    # pre-push reads the refs being pushed on stdin; other hooks get none.
    stdin = sys.stdin.read() if name == "pre-push" and sys.stdin is not None and not sys.stdin.isatty() else ""
    out = run_hook(name, args, stdin)
    if out.gate is not None:
        _print_gate(out.gate, quiet=True, err=True)
    for line in out.lines:
        click.echo(line, err=True)
    if out.pushed is not None:
        from dvx.cli._render import human_size

        p = out.pushed
        click.echo(f"dvx: pushed {p.objects} objects ({human_size(p.raw_bytes)}) of {p.commits} commit(s) "
                   f"to the dvx remote; {p.present} already there", err=True)
    sys.exit(out.code)


@click.command("merge-driver", hidden=True)
@click.argument("base")
@click.argument("ours")
@click.argument("theirs")
@click.argument("path")
def merge_driver_cmd(base: str, ours: str, theirs: str, path: str) -> None:
    """Merge pointer file PATH (git's merge driver for *.dvx: `%O %A %B %P`); the result goes to OURS.

    Exits 0 when merged, 1 when left as a conflict (git then marks PATH unmerged).
    """
    from dvx.workspace.merge import merge_pointer_files

    out = merge_pointer_files(base, ours, theirs, path)
    click.echo(out.line, err=True)
    sys.exit(0 if out.clean else 1)
