"""``dvx accept``: record intended drift in expectations/accepted.toml (the logic is in :mod:`dvx.gate.accept`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dvx.cli.options import State, common_options, json_option, pass_state

if TYPE_CHECKING:
    from dvx.gate.accept import AcceptResult


def print_accepted(r: AcceptResult, quiet: bool) -> None:
    """What ``accept`` (and ``drift --accept``) say: the ids, who and why, then what to stage."""
    from dvx.cli._render import git_add_hint
    from dvx.workspace import Workspace

    if quiet:
        return
    a = r.acceptance
    ws = Workspace.find(".")
    shown = ws.display(r.file)
    verb = "accepted" if r.added else "already accepted"
    click.echo(f"{verb}: drift of {ws.display(a.path)} version {a.data_id[:12]} from baseline version {a.baseline_id[:12]}"
               + (f" (commit {r.baseline_rev[:12]})" if r.baseline_rev else ""))
    click.echo(f"  by {a.by} at {a.at}: {' '.join(a.reason.split())}")
    for f in a.figures:
        click.echo(f"  {f.name}{' [' + f.column + ']' if f.column else ''}: {f.observed} (expected {f.expected})")
    if r.added:
        click.echo(f"recorded in {shown}; the pre-commit hook reads it as staged")
    click.echo(f"hint: {git_add_hint(ws.root, [r.file])}")


@click.command("accept")
@common_options
@click.argument("path")
@click.option("-m", "--message", "reason", required=True, metavar="REASON", help="Why the drift is intended (recorded).")
@click.option("--staged", is_flag=True, help="Accept the version as staged (what the pre-commit hook checks).")
@click.option("--rev", help="Accept the version committed at REV (drift against its parent).")
@click.option("--baseline", metavar="REV", help="Drift baseline (default: HEAD, or REV's parent with --rev).")
@json_option
@pass_state
def accept_cmd(state: State, path: str, reason: str, staged: bool, rev: str | None, baseline: str | None,
               as_json: bool) -> None:
    """Accept the drift of PATH's version against its baseline, with a reason.

    Records the data id, the baseline id, who (git's user.name and
    user.email), when and why in expectations/accepted.toml; `git add` it and
    the pre-commit hook, `dvx check` and dvx.require_valid pass that version
    as "accepted". Changed data (another id) is checked again. A version that
    fails validation cannot be accepted (exit 1): fix the data or the suite.
    """
    from dvx.cli._render import emit_json
    from dvx.gate.accept import accept

    r = accept(path, reason, staged=staged, rev=rev, baseline=baseline)
    if as_json:
        emit_json(r.to_json())
    else:
        print_accepted(r, state.quiet)
