"""Data commands: init, add, checkout, status, ls."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from dvx import repo
from dvx.cli._render import emit_json, exit_on_errors, file_lines, git_add_hint, human_size, shown_path, table
from dvx.cli.options import State, common_options, force_option, json_option, pass_state, remote_option
from dvx.cli.progress import Progress

if TYPE_CHECKING:
    from dvx.workspace.status import StatusResult
    from dvx.xrepo import UpdateCheck


@click.command("init")
@common_options
@force_option("Rewrite .dvx/config with the defaults when dvx is initialised already.")
@click.option("--no-hooks", is_flag=True, help="Do not install the git hooks (`dvx hooks install` later).")
@click.option("--subdir", is_flag=True,
              help="Make the project in this folder, not at the top of the git work tree (a monorepo).")
@pass_state
def init_cmd(state: State, force: bool, no_hooks: bool, subdir: bool) -> None:
    """Initialise dvx in the enclosing git work tree: .dvx/, expectations/ and the git hooks.

    With --subdir the project is this folder: tracked paths, pointer files and
    expectations/ are relative to it, commands run below it find it, and the
    git hooks (shared by the whole work tree) serve each such project.
    """
    r = repo.init(".", force=force, hooks=not no_hooks, subdir=subdir)
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
@click.argument("paths", nargs=-1)
@click.option("--external", "external", metavar="URL",
              help="Track the object or prefix URL (s3://bucket/prefix/) where it lives: chunked from the bucket "
                   "straight into the remote, no local copy (docs/external.md). Needs --out.")
@click.option("--out", "out", metavar="PATH", help="With --external: the tracked path (PATH.dvx is written).")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --external: chunk on this Dask scheduler's workers (default: $DVX_SCHEDULER, "
                   "[compute] scheduler, else in this process).")
@click.option("-o", "--source-option", "source_options", metavar="KEY=VALUE", multiple=True,
              help="With --external: a filesystem option of the source (as in [remote.*], e.g. endpoint_url=...); "
                   "repeatable.")
@remote_option
@pass_state
def add_cmd(state: State, paths: tuple[str, ...], external: str | None, out: str | None, scheduler: str | None,
            source_options: tuple[str, ...], remote: str | None) -> None:
    """Store files or directories in the cache and write PATH.dvx pointer files.

    With --external URL --out PATH: track data that stays in object storage;
    its objects are chunked where they are into the remote (-r, default: the
    default remote) and only PATH.dvx is written here.
    """
    if external is not None or out is not None:
        _add_external(state, paths, external, out, scheduler, source_options, remote)
        return
    if scheduler is not None or source_options or remote is not None:
        from dvx.errors import UsageError

        raise UsageError("dvx add: --scheduler, -o and -r go with --external", "add --external URL --out PATH")
    if not paths:
        from dvx.errors import UsageError

        raise UsageError("nothing to add", "give one or more paths: `dvx add data/train.csv`")
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


def _add_external(state: State, paths: tuple[str, ...], external: str | None, out: str | None, scheduler: str | None,
                  source_options: tuple[str, ...], remote: str | None) -> None:
    from dvx.errors import UsageError
    from dvx.external import add_external

    if paths or external is None or out is None:
        raise UsageError("dvx add --external takes a URL and --out PATH, and no other paths",
                         "dvx add --external s3://bucket/prefix/ --out data/raw")
    with Progress("adding", enabled=not state.quiet) as prog:
        r = add_external(external, out, scheduler=scheduler, options=source_options, remote=remote, progress=prog.item)
    if state.quiet:
        return
    ws = repo.open_workspace(".")
    p = r.added
    what = f"{p.pointer.files} files, " if p.pointer.kind == "dir" else ""
    where = f" on {r.scheduler}" if r.scheduler else ""
    click.echo(f"{p.change:9} {os.path.relpath(ws.root / p.path)}  ({what}{human_size(p.pointer.size)} from "
               f"{r.url}; {r.objects - r.skipped} objects read{where}, {r.skipped} unchanged; "
               f"{human_size(r.bytes_sent)} new on remote {r.remote})")
    if r.to_stage and not r.staged:
        click.echo(f"hint: {git_add_hint(ws.root, r.to_stage)}")


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
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when anything is modified, deleted, not in the cache or (-c) not pushed; -q implies it.")
@click.option("--check-updates", is_flag=True, help="Also ask each imported path's source whether its revision moved.")
@pass_state
def status_cmd(state: State, paths: tuple[str, ...], as_json: bool, cloud: bool, all_commits: bool,
               remote: str | None, exit_code: bool, check_updates: bool) -> None:
    """Show tracked paths that are modified, deleted or not in the cache (or, with --cloud, not on the remote,
    and how many versions committed on the current branch are not on it either).

    A modified directory lists its files added, deleted, modified and renamed
    (a summary and the first few when more than 20 changed; all with -v or
    --json). Exit codes: 0 clean (or changes without --exit-code/-q), 1 changes
    with --exit-code or -q (with -c: committed versions not on the remote count
    too), 2 a pointer file cannot be read.
    """
    if all_commits and not cloud:
        from dvx.errors import UsageError

        raise UsageError("dvx status: --all-commits goes with -c (it widens the look for committed versions "
                         "not on the remote)", "add -c")
    r = repo.cloud_status(list(paths) or None, remote) if cloud else repo.status(list(paths) or None)
    history = repo.unpushed_history(remote, all_commits) if cloud and not paths else None
    unpushed = history is not None and bool(history.versions)
    updates = _check_updates(list(paths)) if check_updates and not cloud else []
    if as_json:
        doc = r.to_json()
        doc["clean"] = r.clean and not unpushed
        doc["unpushed_history"] = None if history is None else history.to_json()
        if check_updates:
            doc["updates"] = [u.to_json() for u in updates]
        emit_json(doc)
    elif not state.quiet:
        _print_status(r, cloud, state.verbose > 0)
        for u in updates:
            if u.available:
                click.echo(f"{'update available':24} {u.path}  ({u.source.rev or 'HEAD'}: {u.source.commit[:7]} -> "
                           f"{u.latest[:7]}; `dvx update {u.path}`)")
        if history is not None and history.versions:
            n, (sha, rel) = len(history.versions), history.versions[-1]
            click.echo(f"{n} committed version{'' if n == 1 else 's'} not on remote '{history.remote}' (oldest: "
                       f"{sha[:7]} {rel}); run `dvx push --all-commits{f' -r {remote}' if remote else ''}`")
    exit_on_errors(r.errors)
    if (exit_code or state.quiet) and (not r.clean or unpushed):
        raise click.exceptions.Exit(1)


def _print_status(r: StatusResult, cloud: bool, verbose: bool) -> None:
    if not r.paths:
        click.echo("no tracked paths")
        return
    if not r.changed:
        where = "all on the remote" if cloud else "all unchanged"
        imported = sum(1 for p in r.paths if p.source)
        click.echo(f"{len(r.paths)} tracked paths, {where}" + (f" ({imported} imported)" if imported else ""))
        return
    for p in r.changed:
        what = p.problems_text
        if p.missing_objects:
            what += f" ({p.missing_objects} objects)"
        files = p.files
        more = ""
        if files is not None and files.large:
            more = f"  ({files.counts()}{'' if verbose else '; -v or --json for all'})"
        origin = f"  (imported from {p.source['url']})" if p.source else ""
        click.echo(f"{what:24} {shown_path(p.path)}{origin}{more}")
        if files is not None:
            click.echo(file_lines(files, verbose, indent="    "), nl=False)


def _check_updates(paths: list[str]) -> list[UpdateCheck]:
    from dvx.xrepo import check_updates

    return check_updates(paths or None)


@click.command("ls")
@common_options
@click.argument("paths", nargs=-1)
@remote_option
@json_option
def ls_cmd(paths: tuple[str, ...], remote: str | None, as_json: bool) -> None:
    """List tracked paths with their size, number of files and id; the files of a tracked
    directory, or of a folder inside one, when named (data/images/cats)."""
    entries = repo.ls(list(paths) or None, remote=remote)
    if as_json:
        emit_json([e.__dict__ for e in entries])
        return
    rows = [(e.path, e.kind, human_size(e.size), e.files, "-" if e.chunks is None else e.chunks, e.id[:12])
            for e in entries]
    click.echo(table(rows, ["path", "type", "size", "files", "chunks", "id"]))
