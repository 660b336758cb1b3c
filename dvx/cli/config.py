"""``dvx config``: get, set, unset or list configuration keys (the logic is in :mod:`dvx.settings`)."""

from __future__ import annotations

import click

from dvx.cli._render import emit_json
from dvx.cli.options import State, common_options, json_option, pass_state, scope_option


@click.command("config")
@common_options
@scope_option
@click.option("--unset", is_flag=True, help="Remove KEY from the file.")
@click.option("-l", "--list", "list_all", is_flag=True, help="List every key set, file by file, then the environment (secrets as ***).")
@click.option("--show-origin", is_flag=True, help="Name the file (or environment variable) each value comes from.")
@json_option
@click.argument("key", required=False)
@click.argument("value", required=False)
@pass_state
def config_cmd(state: State, key: str | None, value: str | None, scope: str | None, unset: bool, list_all: bool,
               show_origin: bool, as_json: bool) -> None:
    """Get, set (KEY VALUE) or --unset KEY; --list all keys. As `git config` and `dvc config`.

    KEY is SECTION.KEY (core.remote, cache.fsync, hooks.fetch) or
    remote.NAME.KEY. Without a file option a get answers the value dvx uses
    (environment, then .dvx/config.local, .dvx/config, the user's and the
    system file, then the default); writes go to .dvx/config. Comments and
    the order of the file are kept.
    """
    from dvx.settings import config, display_value

    r = config(key, value, scope=scope, unset=unset, list_all=list_all)
    if as_json:
        emit_json(r.to_json())
        return
    if state.quiet or r.action in ("set", "unset"):
        return
    for e in r.entries:
        origin = f"{e.origin}\t" if show_origin else ""
        click.echo(f"{origin}{e.key}={display_value(e.value)}" if r.action == "list" else f"{origin}{display_value(e.value)}")
