"""``dvx fsck``: render the store check (logic in ``dvx.fsck``)."""

from __future__ import annotations

import click

from dvx.cli._render import emit_json, human_size
from dvx.cli.options import State, common_options, json_option, pass_state, remote_option


@click.command("fsck")
@common_options
@click.argument("paths", nargs=-1)
@click.option("--rev", metavar="REV", help="Check the pointers committed at REV instead of the workspace's.")
@click.option("--all-commits", is_flag=True, help="Check the pointers of every commit (git rev-list --all).")
@click.option("-c", "--cloud", is_flag=True, help="Check the remote's packs and indexes too.")
@click.option("--repair", is_flag=True,
              help="Repair the cache: salvage and quarantine damaged packs, rewrite indexes, index orphan packs, "
                   "fetch lost objects from the remote or rebuild them from matching workspace files.")
@remote_option
@json_option
@pass_state
def fsck_cmd(
    state: State, paths: tuple[str, ...], rev: str | None, all_commits: bool, cloud: bool, repair: bool,
    remote: str | None, as_json: bool,
) -> None:
    """Check every pack, index and object of the cache (and, with --cloud, of the remote) and that
    everything the chosen pointers reach is there intact. Read-only unless --repair; exit 1 when
    something is wrong (with --repair: when something is left unrepaired)."""
    from dvx.errors import CheckFailedError
    from dvx.fsck import fsck

    if repair:
        _repair(state, paths, rev, all_commits, cloud, remote, as_json)
        return
    r = fsck(list(paths) or None, rev=rev, all_commits=all_commits, cloud=cloud, remote=remote)
    if as_json:
        emit_json(r.to_json())
    else:
        for p in r.problems:
            click.echo(p.line())
        if not state.quiet:
            for s in r.stores:
                click.echo(
                    f"checked {s.where}: {s.indexes} index files, {s.packs} packs, "
                    f"{s.objects} objects ({human_size(s.checked_bytes)})", err=bool(r.problems),
                )
            click.echo(f"{r.pointers} pointers, {r.roots} root objects", err=bool(r.problems))
    if r.problems:
        raise CheckFailedError(f"fsck found {len(r.problems)} problem{'s' if len(r.problems) != 1 else ''}")


_SHOWN = 20  # repairs listed one per line; the rest are counted


def _repair(
    state: State, paths: tuple[str, ...], rev: str | None, all_commits: bool, cloud: bool, remote: str | None,
    as_json: bool,
) -> None:
    from dvx.errors import CheckFailedError
    from dvx.fsck.repair import repair

    r = repair(list(paths) or None, rev=rev, all_commits=all_commits, cloud=cloud, remote=remote)
    if as_json:
        emit_json(r.to_json())
    else:
        for d in r.repaired[:_SHOWN]:
            click.echo(d.line())
        if len(r.repaired) > _SHOWN:
            click.echo(f"... and {len(r.repaired) - _SHOWN} more repairs (--json lists them all)")
        for p in r.left:
            click.echo(p.line())
        if not state.quiet:
            click.echo(
                f"found {len(r.found)} problems, made {len(r.repaired)} repairs, {len(r.left)} problems left",
                err=bool(r.left),
            )
    if r.left:
        raise CheckFailedError(f"fsck --repair left {len(r.left)} problem{'s' if len(r.left) != 1 else ''} unrepaired")
