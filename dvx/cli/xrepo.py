"""Commands across repositories: list, get, import, update (as DVC's ``dvc list|get|import|update``)."""

from __future__ import annotations

import os

import click

from dvx.cli._render import emit_json, git_add_hint, human_size, table
from dvx.cli.options import State, common_options, force_option, jobs_option, json_option, pass_state
from dvx.cli.progress import Progress

_REV_HELP = "Branch, tag or commit of the source repository (default: its default branch)."


def _short(commit: str) -> str:
    return commit[:7]


@click.command("list")
@common_options
@click.argument("url")
@click.argument("path", required=False, default="")
@click.option("--rev", metavar="REV", help=_REV_HELP)
@click.option("-R", "--recursive", is_flag=True, help="List folders and tracked directories recursively.")
@click.option("--all", "all_files", is_flag=True, help="List the files git tracks too (default: dvx-tracked paths only).")
@json_option
@pass_state
def list_cmd(state: State, url: str, path: str, rev: str | None, recursive: bool, all_files: bool, as_json: bool) -> None:
    """List what the repository at URL tracks under PATH (its root by default), without downloading data.

    URL is anything git clones: a path, file://, ssh:// or https:// URL.
    """
    from dvx.xrepo import list_repo

    r = list_repo(url, path, rev, all_files=all_files, recursive=recursive)
    if as_json:
        emit_json(r.to_json())
        return
    if state.quiet:
        return
    rows = [(e.path + ("/" if e.type == "dir" else ""), e.tracked or "", "" if e.size is None else human_size(e.size),
             "" if e.files is None or e.type == "file" else e.files) for e in r.entries]
    if rows:
        click.echo(table(rows, ["path", "tracked", "size", "files"]))
    click.echo(f"{len(rows)} entries at {r.rev or 'HEAD'} ({_short(r.commit)})")


@click.command("get")
@common_options
@click.argument("url")
@click.argument("path")
@click.option("-o", "--out", metavar="OUT", help="Where to write it (default: its name in the current folder).")
@click.option("--rev", metavar="REV", help=_REV_HELP)
@force_option("Replace OUT when it exists.")
@jobs_option
@json_option
@pass_state
def get_cmd(state: State, url: str, path: str, out: str | None, rev: str | None, force: bool, jobs: int | None,
            as_json: bool) -> None:
    """Download PATH of the repository at URL without tracking it (from that repository's remote)."""
    from dvx.xrepo import get

    with Progress("get", not state.quiet and not as_json) as prog:
        r = get(url, path, out, rev, force=force, jobs=jobs, progress=prog.transfer)
    if as_json:
        emit_json(r.to_json())
        return
    if not state.quiet:
        what = f"{r.files} files, " if r.kind == "dir" else ""
        click.echo(f"got {r.path} at {r.rev or 'HEAD'} ({_short(r.commit)}) -> {os.path.relpath(r.out)}  "
                   f"({what}{human_size(r.size)})")


@click.command("import")
@common_options
@click.argument("url")
@click.argument("path")
@click.option("-o", "--out", metavar="OUT", help="Where to track it (default: its name in the current folder).")
@click.option("--rev", metavar="REV", help=_REV_HELP + " Recorded: `dvx update` follows it.")
@force_option("Replace OUT (and its pointer) when it exists.")
@jobs_option
@json_option
@pass_state
def import_cmd(state: State, url: str, path: str, out: str | None, rev: str | None, force: bool, jobs: int | None,
               as_json: bool) -> None:
    """Download PATH of the repository at URL and track it, the source recorded in its pointer file."""
    from dvx.xrepo import import_path

    with Progress("import", not state.quiet and not as_json) as prog:
        r = import_path(url, path, out, rev, force=force, jobs=jobs, progress=prog.transfer)
    _render(state, r, as_json, f"dvx import {path}")


@click.command("update")
@common_options
@click.argument("paths", nargs=-1)
@click.option("--rev", metavar="REV", help="Move to this revision of the source (recorded from now on).")
@force_option("Discard local changes to the imported paths.")
@jobs_option
@json_option
@pass_state
def update_cmd(state: State, paths: tuple[str, ...], rev: str | None, force: bool, jobs: int | None, as_json: bool) -> None:
    """Move imported paths (all of them by default) to the newest commit of their recorded revision."""
    from dvx.xrepo import update

    with Progress("update", not state.quiet and not as_json) as prog:
        r = update(list(paths) or None, rev, force=force, jobs=jobs, progress=prog.transfer)
    _render(state, r, as_json, "dvx update")


def _render(state: State, r: object, as_json: bool, message: str) -> None:
    from dvx.repo import open_workspace
    from dvx.xrepo import ImportResult

    assert isinstance(r, ImportResult)
    if as_json:
        emit_json({"paths": [p.to_json() for p in r.paths], "staged": r.staged})
        return
    if state.quiet:
        return
    root = open_workspace(".").root
    if not r.paths:
        click.echo("no imported paths")
    for p in r.paths:
        src = p.pointer.source
        assert src is not None
        shown = os.path.relpath(root / p.path)
        at = f"{src.url} {src.rev or 'HEAD'} ({_short(src.commit)})"
        if p.change == "unchanged":
            click.echo(f"unchanged  {shown}  (already at {at})")
            continue
        moved = f", was {_short(p.old_commit)}" if p.old_commit else ""
        data = " (same data)" if p.change == "moved" else f", {human_size(p.fetched.bytes)} fetched"
        click.echo(f"{p.change:9}  {shown}  from {at}{moved}{data}")
    if r.to_stage and not r.staged:
        click.echo(f"hint: {git_add_hint(root, r.to_stage, message)}")
