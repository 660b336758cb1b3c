"""``dvx cache dir``: render the cache folder setting (logic in ``dvx.workspace.cachedir``)."""

from __future__ import annotations

import click

from dvx.cli._render import emit_json
from dvx.cli.options import State, common_options, json_option, pass_state


@click.group("cache")
def cache_group() -> None:
    """The object cache of this work tree."""


@cache_group.command("dir")
@common_options
@click.option("--local", is_flag=True, help="Write to .dvx/config.local (this machine only) instead of .dvx/config.")
@click.option("-u", "--unset", is_flag=True, help="Remove [cache] dir: back to .dvx/cache.")
@json_option
@click.argument("path", required=False)
@pass_state
def cache_dir_cmd(state: State, path: str | None, local: bool, unset: bool, as_json: bool) -> None:
    """Show the cache folder, or set it to PATH ([cache] dir; a relative PATH is stored relative to the
    repository's root). Several repositories may share one cache; `dvx gc` then needs --projects.
    Objects are not moved."""
    from dvx.errors import UsageError
    from dvx.workspace.cachedir import cache_dir

    if path is not None and unset:
        raise UsageError("dvx cache dir: give PATH or --unset, not both")
    r = cache_dir(path, local=local, unset=unset)
    if as_json:
        emit_json(r.to_json())
    elif not state.quiet:
        click.echo(r.dir + (f"  ([cache] dir = {r.value!r} in {r.where})" if r.value else "  (the default)"))
