"""Data commands: init, add, checkout, status, ls."""

from __future__ import annotations

import os

import click

from dvx import repo
from dvx.cli._render import emit_json, exit_on_errors, git_add_hint, human_size, table
from dvx.cli.options import State, common_options, force_option, json_option, pass_state, remote_option
from dvx.cli.progress import Progress


@click.command("init")
@common_options
@force_option("Rewrite .dvx/config with the defaults when dvx is initialised already.")
@click.option("--no-hooks", is_flag=True, help="Do not install the git hooks (`dvx hooks install` later).")
@pass_state
def init_cmd(state: State, force: bool, no_hooks: bool) -> None:
    """Initialise dvx in the enclosing git work tree: .dvx/, expectations/ and the git hooks."""
    r = repo.init(".", force=force, hooks=not no_hooks)
    if not state.quiet:
        click.echo(f"Initialised dvx in {r.dvx_dir}")
    if r.merge_driver_error:
        click.echo(f"warning: merge driver for pointer files not registered: {r.merge_driver_error}", err=True)
    if r.hooks_error:
        click.echo(f"warning: git hooks not installed: {r.hooks_error}", err=True)
    elif r.hooks and not state.quiet:
        chained = f" (kept {', '.join(r.hooks.chained)} as NAME.pre-dvx)" if r.hooks.chained else ""
        click.echo(f"Installed git hooks: {', '.join(r.hooks.installed)}{chained}")
    if not state.quiet:
        click.echo(f"hint: {git_add_hint(r.root, r.to_stage, 'dvx init')}")


@click.command("add")
@common_options
@click.argument("paths", nargs=-1, required=True)
@pass_state
def add_cmd(state: State, paths: tuple[str, ...]) -> None:
    """Store files or directories in the cache and write PATH.dvx pointer files."""
    with Progress("adding", enabled=not state.quiet) as prog:
        result = repo.add(list(paths), progress=prog.item)
    if state.quiet:
        return
    root = repo.open_workspace(".").root
    for p in result.paths:
        what = f"{p.pointer.files} files, " if p.pointer.kind == "dir" else ""
        shown = os.path.relpath(root / p.path)
        click.echo(f"{p.change:9} {shown}  ({what}{human_size(p.pointer.size)}, {human_size(p.bytes_stored)} new in cache)")
    if result.to_stage and not result.staged:
        click.echo(f"hint: {git_add_hint(root, result.to_stage)}")


@click.command("checkout")
@common_options
@click.argument("paths", nargs=-1)
@force_option("Overwrite local changes that are not in the cache.")
@pass_state
def checkout_cmd(state: State, paths: tuple[str, ...], force: bool) -> None:
    """Make the workspace match the pointer files (all tracked paths by default)."""
    with Progress("checking out", enabled=not state.quiet) as prog:
        r = repo.checkout(list(paths) or None, force=force, progress=prog.item)
    if not state.quiet:
        click.echo(
            f"{len(r.restored)} restored, {len(r.removed)} removed, {r.unchanged} unchanged"
            f" ({human_size(r.bytes_written)} written"
            + (f", {human_size(r.bytes_cloned)} of it cloned from the cache" if r.bytes_cloned else "") + ")"
        )
        if state.verbose:
            for p in r.restored:
                click.echo(f"restored {p}")
            for p in r.removed:
                click.echo(f"removed  {p}")


@click.command("status")
@common_options
@click.argument("paths", nargs=-1)
@json_option
@click.option("-c", "--cloud", is_flag=True, help="Compare the cache with the remote instead: what is not pushed yet.")
@click.option("-A", "--all-commits", is_flag=True,
              help="With -c: look for versions not on the remote in all of HEAD's history (default: its last 100 "
                   "commits that change a pointer file).")
@remote_option
@pass_state
def status_cmd(state: State, paths: tuple[str, ...], as_json: bool, cloud: bool, all_commits: bool,
               remote: str | None) -> None:
    """Show tracked paths that are modified, deleted or not in the cache (or, with --cloud, not on the remote,
    and how many versions committed on the current branch are not on it either)."""
    if all_commits and not cloud:
        from dvx.errors import UsageError

        raise UsageError("dvx status: --all-commits goes with -c (it widens the look for committed versions "
                         "not on the remote)", "add -c")
    if cloud:
        rows = repo.cloud_status(list(paths) or None, remote)
        if as_json:
            emit_json([c.to_json() for c in rows])
            return
        todo = [c for c in rows if not c.pushed]
        if not todo:
            click.echo(f"{len(rows)} tracked paths, all on the remote")
        for c in todo:
            click.echo(f"not pushed ({c.missing_objects} objects)  {c.path}")
        history = repo.unpushed_history(remote, all_commits) if not paths else None
        if history is not None and history.versions:
            n, (sha, rel) = len(history.versions), history.versions[-1]
            click.echo(f"{n} committed version{'' if n == 1 else 's'} not on remote '{history.remote}' (oldest: "
                       f"{sha[:7]} {rel}); run `dvx push --all-commits{f' -r {remote}' if remote else ''}`")
        return
    r = repo.status(list(paths) or None)
    if as_json:
        emit_json({"clean": r.clean, "paths": [p.to_json() for p in r.paths]})
        exit_on_errors(r.errors)
        return
    if not r.paths:
        click.echo("no tracked paths")
        return
    if not r.changed and not state.quiet:
        click.echo(f"{len(r.paths)} tracked paths, all unchanged")
    for p in r.changed:
        click.echo(f"{', '.join(p.problems):24} {p.path}")
    exit_on_errors(r.errors)


@click.command("ls")
@common_options
@json_option
def ls_cmd(as_json: bool) -> None:
    """List tracked paths with their size, number of files and id."""
    entries = repo.ls()
    if as_json:
        emit_json([e.__dict__ for e in entries])
        return
    rows = [(e.path, e.kind, human_size(e.size), e.files, e.chunks, e.id[:12]) for e in entries]
    click.echo(table(rows, ["path", "type", "size", "files", "chunks", "id"]))
