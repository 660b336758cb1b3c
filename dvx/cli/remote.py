"""Remote commands: remote add/modify/list/remove/default, push, fetch, pull."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

import click

from dvx import repo
from dvx.cli._render import emit_json, human_size
from dvx.cli.options import (
    State,
    common_options,
    force_option,
    jobs_option,
    json_option,
    pass_state,
    remote_option,
    revision_options,
    scope_option,
)
from dvx.cli.progress import Progress

if TYPE_CHECKING:
    from dvx.config import Config
    from dvx.scope import Revisions, ScopedTransfer


class _Transferred(Protocol):
    """The counters of a push or fetch result that the summary line shows."""

    objects: int
    raw_bytes: int
    bytes: int
    packs: int
    present: int
    requests: int
    bytes_sent: int
    bytes_received: int
    elapsed: float


def _config(scope: str | None = None) -> Config:
    """The configuration of the repository enclosing the current directory (outside one:
    the user and system files, for --global and --system)."""
    from dvx.errors import NotARepoError

    try:
        return repo.open_workspace(".").config
    except NotARepoError:
        if scope not in ("global", "system"):
            raise
        from dvx.config import Config

        return Config(None)


@click.group("remote")
def remote_group() -> None:
    """Configure remotes (stored in .dvx/config; secrets in .dvx/config.local)."""


@remote_group.command("add")
@common_options
@click.option("-d", "--default", "default", is_flag=True, help="Make it the default remote.")
@scope_option
@click.argument("name")
@click.argument("url")
@pass_state
def remote_add(state: State, name: str, url: str, default: bool, scope: str | None) -> None:
    """Add remote NAME at URL (s3://bucket/prefix, a folder, any fsspec URL)."""
    from dvx.remote.config import add_remote

    spec = add_remote(_config(scope), name, url, default=default, scope=scope)
    if not state.quiet:
        click.echo(f"remote {spec.name} -> {spec.url}" + (" (default)" if default else ""))


@remote_group.command("modify")
@common_options
@scope_option
@click.option("--unset", is_flag=True, help="Remove KEY.")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
def remote_modify(name: str, key: str, value: str | None, scope: str | None, unset: bool) -> None:
    """Set KEY (endpoint_url, region, profile, jobs, ...) of remote NAME."""
    from dvx.errors import UsageError
    from dvx.remote.config import modify_remote

    if value is None and not unset:
        raise UsageError(f"remote modify {name} {key}: give a VALUE or --unset")
    if value is not None and unset:
        raise UsageError(f"remote modify {name} {key}: --unset takes no VALUE")
    modify_remote(_config(scope), name, key, None if unset else value, scope=scope)


@remote_group.command("list")
@common_options
@json_option
def remote_list(as_json: bool) -> None:
    """List remotes; the default is marked with *."""
    from dvx.remote.config import list_remotes, masked

    specs = list_remotes(_config())
    if as_json:
        emit_json([{"name": s.name, "url": s.url, "default": s.default, "options": masked(s.options)} for s in specs])
        return
    for s in specs:
        click.echo(f"{'*' if s.default else ' '} {s.name}\t{s.url}")


@remote_group.command("remove")
@common_options
@click.argument("name")
def remote_remove(name: str) -> None:
    """Remove remote NAME."""
    from dvx.remote.config import remove_remote

    remove_remote(_config(), name)


@remote_group.command("default")
@common_options
@scope_option
@click.argument("name")
def remote_default(name: str, scope: str | None) -> None:
    """Make NAME the default remote."""
    from dvx.remote.config import set_default

    set_default(_config(scope), name, scope=scope)


def _summary(verb: str, r: _Transferred) -> str:
    return (
        f"{verb} {r.objects} objects ({human_size(r.raw_bytes)}, {human_size(r.bytes)} stored) in {r.packs} packs; "
        f"{r.present} already there; {r.requests} requests, {human_size(r.bytes_sent)} sent, "
        f"{human_size(r.bytes_received)} received, {r.elapsed:.2f} s"
    )


def _chosen(all_branches: bool, all_tags: bool, all_commits: bool, revs: tuple[str, ...]) -> Revisions:
    from dvx.scope import Revisions

    return Revisions(all_branches, all_tags, all_commits, revs)


def _report(state: State, verb: str, r: ScopedTransfer, as_json: bool) -> None:
    if not state.quiet:
        for s in r.skipped:
            click.echo(f"warning: skipped pointer {s}", err=True)
    if as_json:
        emit_json({k: v for k, v in r.__dict__.items() if k != "missing"})
    elif not state.quiet:
        click.echo(_summary(verb, r))


@click.command("push")
@common_options
@click.argument("paths", nargs=-1)
@remote_option
@jobs_option
@revision_options("Push")
@json_option
@pass_state
def push_cmd(state: State, paths: tuple[str, ...], remote: str | None, jobs: int | None, all_branches: bool,
             all_tags: bool, all_commits: bool, revs: tuple[str, ...], as_json: bool) -> None:
    """Upload what the remote lacks of the tracked paths (all by default) and, with -a, -T, -A or --rev,
    of the pointers committed at those revisions (read from git, not the work tree)."""
    chosen = _chosen(all_branches, all_tags, all_commits, revs)
    with Progress("push", not state.quiet and not as_json) as prog:
        r = repo.push(list(paths) or None, remote, jobs, progress=prog.transfer, revisions=chosen)
    _report(state, "pushed", r, as_json)


@click.command("fetch")
@common_options
@click.argument("paths", nargs=-1)
@remote_option
@jobs_option
@revision_options("Fetch")
@json_option
@pass_state
def fetch_cmd(state: State, paths: tuple[str, ...], remote: str | None, jobs: int | None, all_branches: bool,
              all_tags: bool, all_commits: bool, revs: tuple[str, ...], as_json: bool) -> None:
    """Download into the cache what the tracked paths need and, with -a, -T, -A or --rev, what the
    pointers committed at those revisions need."""
    chosen = _chosen(all_branches, all_tags, all_commits, revs)
    with Progress("fetch", not state.quiet and not as_json) as prog:
        r = repo.fetch(list(paths) or None, remote, jobs, progress=prog.transfer, revisions=chosen)
    _report(state, "fetched", r, as_json)


@click.command("pull")
@common_options
@click.argument("paths", nargs=-1)
@remote_option
@jobs_option
@force_option("Overwrite local changes that are not in the cache.")
@revision_options("Fetch")
@json_option
@pass_state
def pull_cmd(state: State, paths: tuple[str, ...], remote: str | None, jobs: int | None, force: bool,
             all_branches: bool, all_tags: bool, all_commits: bool, revs: tuple[str, ...], as_json: bool) -> None:
    """fetch, then checkout (all tracked paths, or folders and files inside a tracked directory). With
    -a, -T, -A or --rev, the fetch also brings what the pointers committed at those revisions need (as
    `dvx fetch`); the checkout is of the work tree's pointers, as in DVC."""
    chosen = _chosen(all_branches, all_tags, all_commits, revs)
    with Progress("pull", not state.quiet and not as_json) as prog:
        r = repo.pull(list(paths) or None, remote, jobs, force=force, progress=prog.transfer, revisions=chosen)
    f = cast(_Transferred, r.fetch)  # PullResult.fetch is typed object
    c = r.checkout
    if as_json:
        emit_json({"fetch": {k: v for k, v in f.__dict__.items() if k != "missing"}, "checkout": c.__dict__})
    elif not state.quiet:
        click.echo(_summary("fetched", f))
        click.echo(f"{len(c.restored)} restored, {len(c.removed)} removed, {c.unchanged} unchanged")
