"""Remote commands: remote add/modify/list/remove/default, push, fetch, pull."""

from __future__ import annotations

import sys
import time

import click

from dvx import repo
from dvx.cli import State, common_options
from dvx.cli._render import emit_json, human_size

pass_state = click.make_pass_decorator(State, ensure=True)


class ByteProgress:
    """Bytes and throughput on stderr when stdout is a terminal and work lasts > ~1 s."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled and sys.stdout.isatty() and sys.stderr.isatty()
        self.total = 0
        self.done = 0
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, kind: str, n: int) -> None:
        if kind == "total":
            self.total = n
            return
        self.done += n
        if not self.enabled:
            return
        dt = time.monotonic() - self.start
        if dt < 1.0:
            return
        self.shown = True
        pct = f"{100 * self.done / self.total:5.1f}%" if self.total else ""
        sys.stderr.write(
            f"\r{self.label}: {human_size(self.done)} / {human_size(self.total)} {pct} {human_size(self.done / dt)}/s   "
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def _ws():
    from dvx.workspace import Workspace

    return Workspace.find(".")


@click.group("remote")
def remote_group() -> None:
    """Configure remotes (stored in .dvx/config; secrets in .dvx/config.local)."""


@remote_group.command("add")
@common_options
@click.option("-d", "--default", "default", is_flag=True, help="Make it the default remote.")
@click.option("--local", is_flag=True, help="Write to .dvx/config.local (not committed).")
@click.argument("name")
@click.argument("url")
def remote_add(name: str, url: str, default: bool, local: bool) -> None:
    """Add remote NAME at URL (s3://bucket/prefix, a folder, any fsspec URL)."""
    from dvx.remote.config import add_remote

    spec = add_remote(_ws().config, name, url, default=default, local=local)
    click.echo(f"remote {spec.name} -> {spec.url}" + (" (default)" if default else ""))


@remote_group.command("modify")
@common_options
@click.option("--local", is_flag=True, help="Write to .dvx/config.local (for secrets).")
@click.option("--unset", is_flag=True, help="Remove KEY.")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
def remote_modify(name: str, key: str, value: str | None, local: bool, unset: bool) -> None:
    """Set KEY (endpoint_url, region, profile, jobs, ...) of remote NAME."""
    from dvx.errors import UsageError
    from dvx.remote.config import modify_remote

    if value is None and not unset:
        raise UsageError(f"remote modify {name} {key}: give a VALUE or --unset")
    modify_remote(_ws().config, name, key, None if unset else value, local=local)


@remote_group.command("list")
@common_options
@click.option("--json", "as_json", is_flag=True)
def remote_list(as_json: bool) -> None:
    """List remotes; the default is marked with *."""
    from dvx.remote.config import list_remotes

    specs = list_remotes(_ws().config)
    if as_json:
        emit_json([{"name": s.name, "url": s.url, "default": s.default, "options": s.options} for s in specs])
        return
    for s in specs:
        click.echo(f"{'*' if s.default else ' '} {s.name}\t{s.url}")


@remote_group.command("remove")
@common_options
@click.argument("name")
def remote_remove(name: str) -> None:
    """Remove remote NAME."""
    from dvx.remote.config import remove_remote

    remove_remote(_ws().config, name)


@remote_group.command("default")
@common_options
@click.option("--local", is_flag=True)
@click.argument("name")
def remote_default(name: str, local: bool) -> None:
    """Make NAME the default remote."""
    from dvx.remote.config import set_default

    set_default(_ws().config, name, local=local)


def _summary(verb: str, r) -> str:
    return (
        f"{verb} {r.objects} objects ({human_size(r.raw_bytes)}, {human_size(r.bytes)} stored) in {r.packs} packs; "
        f"{r.present} already there; {r.requests} requests, {human_size(r.bytes_sent)} sent, "
        f"{human_size(r.bytes_received)} received, {r.elapsed:.2f} s"
    )


@click.command("push")
@common_options
@click.argument("paths", nargs=-1)
@click.option("-r", "--remote", help="Remote name (default: core.remote).")
@click.option("-j", "--jobs", type=int, help="Parallel transfers.")
@click.option("--rev", "revs", multiple=True, help="Push the data of the pointers committed at REV (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def push_cmd(state: State, paths: tuple[str, ...], remote: str | None, jobs: int | None, revs: tuple[str, ...], as_json: bool) -> None:
    """Upload what the remote lacks of the tracked paths (all by default)."""
    prog = ByteProgress("push", not state.quiet and not as_json)
    try:
        r = repo.push(list(paths) or None, remote, jobs, revs=list(revs) or None, progress=prog)
    finally:
        prog.close()
    if as_json:
        emit_json({k: v for k, v in r.__dict__.items() if k != "missing"})
    elif not state.quiet:
        click.echo(_summary("pushed", r))


@click.command("fetch")
@common_options
@click.argument("paths", nargs=-1)
@click.option("-r", "--remote", help="Remote name (default: core.remote).")
@click.option("-j", "--jobs", type=int, help="Parallel transfers.")
@pass_state
def fetch_cmd(state: State, paths: tuple[str, ...], remote: str | None, jobs: int | None) -> None:
    """Download into the cache what the tracked paths need."""
    prog = ByteProgress("fetch", not state.quiet)
    try:
        r = repo.fetch(list(paths) or None, remote, jobs, progress=prog)
    finally:
        prog.close()
    if not state.quiet:
        click.echo(_summary("fetched", r))


@click.command("pull")
@common_options
@click.argument("paths", nargs=-1)
@click.option("-r", "--remote", help="Remote name (default: core.remote).")
@click.option("-j", "--jobs", type=int, help="Parallel transfers.")
@click.option("-f", "--force", is_flag=True, help="Overwrite local changes that are not in the cache.")
@pass_state
def pull_cmd(state: State, paths: tuple[str, ...], remote: str | None, jobs: int | None, force: bool) -> None:
    """fetch, then checkout."""
    prog = ByteProgress("pull", not state.quiet)
    try:
        r = repo.pull(list(paths) or None, remote, jobs, force=force, progress=prog)
    finally:
        prog.close()
    if not state.quiet:
        click.echo(_summary("fetched", r.fetch))
        c = r.checkout
        click.echo(f"{len(c.restored)} restored, {len(c.removed)} removed, {c.unchanged} unchanged")
