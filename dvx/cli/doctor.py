"""``dvx doctor``: versions, config files, remotes, hooks and cache in one report (logic: :mod:`dvx.doctor`)."""

from __future__ import annotations

import click

from dvx.cli._render import emit_json, human_size
from dvx.cli.options import State, common_options, json_option, pass_state


@click.command("doctor")
@common_options
@click.option("--no-remotes", is_flag=True, help="Do not contact the remotes.")
@json_option
@pass_state
def doctor_cmd(state: State, no_remotes: bool, as_json: bool) -> None:
    """Show what dvx sees: versions, platform, config files, remotes (reachable?), hooks, cache.

    Paste its output into a bug report. Writes nothing; each remote gets one
    listing of its root with a short timeout. Always exits 0: the problems
    found are listed at the end.
    """
    from dvx.doctor import doctor

    r = doctor(probe=not no_remotes)
    if as_json:
        emit_json(r.to_json())
        return
    if state.quiet:
        return
    click.echo(f"dvx {r.dvx}")
    click.echo(f"python {r.python}")
    click.echo(f"platform {r.platform}")
    click.echo(f"git {r.git or 'not found'}")
    click.echo("packages: " + ", ".join(f"{n} {v}" for n, v in r.packages.items() if v))
    click.echo("config files (lowest precedence first; DVX_* environment variables override them):")
    for f in r.config_files:
        click.echo(f"  {f['scope']:8} {f['path']}" + ("" if f["exists"] else " (absent)"))
    if r.repository is not None:
        click.echo(f"repository {r.repository}")
    if r.cache is not None:
        click.echo(f"cache {r.cache['path']}: {human_size(r.cache['bytes'])} in {r.cache['packs']} pack files")
    if r.remotes:
        click.echo("remotes:")
        for c in r.remotes:
            state_word = {True: "reachable", False: "unreachable", None: "not checked" if no_remotes else "cannot open"}
            detail = f": {c.detail}" if c.detail and c.detail != "not checked" else ""
            click.echo(f"  {'*' if c.default else ' '} {c.name}  {c.url}  {state_word[c.reachable]}{detail}")
    if r.hooks_dir is not None:
        on = [n for n, ok in r.hooks.items() if ok]
        click.echo(f"hooks {r.hooks_dir}: {', '.join(on) or 'none installed'}")
        click.echo(f"merge driver (merge.dvx.driver): {r.merge_driver or 'not set'}")
    for p in r.problems:
        click.echo(f"problem: {p}")
