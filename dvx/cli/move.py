"""Commands that move and untrack tracked paths: mv, rm."""

from __future__ import annotations

import os

import click

from dvx import moves
from dvx.cli._render import emit_json, git_add_hint
from dvx.cli.options import State, common_options, force_option, json_option, pass_state


def _hint(state: State, to_stage: list[str], staged: bool) -> None:
    if to_stage and not staged and not state.quiet:
        from dvx import repo

        click.echo(f"hint: {git_add_hint(repo.open_workspace('.').root, to_stage)}")


@click.command("mv")
@common_options
@click.argument("src")
@click.argument("dst")
@force_option("Overwrite a file (and its pointer) at DST.")
@json_option
@pass_state
def mv_cmd(state: State, src: str, dst: str, force: bool, as_json: bool) -> None:
    """Move or rename a tracked file or directory with its pointer file and .gitignore line.

    When DST is an existing folder (or ends with /), SRC goes inside it. The
    pointer keeps its ids; the new pointer, the old one's removal and both
    .gitignore files are staged with core.autostage, else the `git add` line
    to run is printed.
    """
    r = moves.move(src, dst, force=force)
    if as_json:
        emit_json(r.to_json())
        return
    if not state.quiet:
        from dvx import repo

        root = repo.open_workspace(".").root
        note = "" if r.data_moved else " (pointer only: the data is not in the workspace)"
        click.echo(f"moved {os.path.relpath(root / r.src)} -> {os.path.relpath(root / r.dst)}{note}")
    _hint(state, r.to_stage, r.staged)


@click.command("rm")
@common_options
@click.argument("paths", nargs=-1, required=True)
@click.option("--outs", is_flag=True, help="Delete the data in the workspace too (it stays in the cache until `dvx gc`).")
@force_option("With --outs: delete data whose changes are not in the cache.")
@json_option
@pass_state
def rm_cmd(state: State, paths: tuple[str, ...], outs: bool, force: bool, as_json: bool) -> None:
    """Stop tracking paths: remove their pointer files and .gitignore lines, keep the data (unless --outs).

    The cache is left alone; `dvx gc` collects what no pointer names any more.
    """
    rs = moves.remove(list(paths), outs=outs, force=force)
    if as_json:
        emit_json([r.to_json() for r in rs])
        return
    if not state.quiet:
        from dvx import repo

        root = repo.open_workspace(".").root
        for r in rs:
            what = "data deleted" if r.data_removed else "data kept, no longer ignored by git"
            click.echo(f"removed {os.path.relpath(root / r.path)}.dvx ({what})")
    staged = all(r.staged for r in rs)
    _hint(state, list(dict.fromkeys(p for r in rs for p in r.to_stage)), staged)
