"""``dvx gc``: render garbage collection (logic in ``dvx.gc``)."""

from __future__ import annotations

import sys
from typing import Any

import click

from dvx.cli._render import emit_json, human_size
from dvx.cli.options import (
    State,
    common_options,
    force_option,
    json_option,
    pass_state,
    remote_option,
    revision_options,
)


@click.command("gc")
@common_options
@click.option("-w", "--workspace", is_flag=True, help="Keep what the workspace's pointer files need (always kept).")
@revision_options("Keep")
@click.option("-c", "--cloud", is_flag=True, help="Collect the remote too (irreversible there).")
@remote_option
@click.option("-p", "--projects", "projects", multiple=True, metavar="PATH",
              help="Another project using the same cache ([cache] dir): keep what its workspace (and the same "
                   "--all-* scopes) needs too. Repeat for each; gc refuses while one is not named.")
@click.option("--dry-run", "--dry", "dry_run", is_flag=True, help="Say what would go; change nothing.")
@click.option("--break-lock", "break_lock", is_flag=True,
              help="Remove the remote's stale lock files (with -f: every lock file) and do nothing else.")
@force_option("Remove without asking (needed when there is no terminal to ask on).")
@json_option
@pass_state
def gc_cmd(state: State, workspace: bool, all_branches: bool, all_tags: bool, all_commits: bool,
           revs: tuple[str, ...], cloud: bool, remote: str | None, projects: tuple[str, ...], dry_run: bool,
           break_lock: bool, force: bool, as_json: bool) -> None:
    """Remove from the cache (and, with --cloud, the remote) every object that the workspace and the
    chosen revisions do not need. Packs mostly garbage are rewritten ([gc] repack), many index files
    are compacted into few, and files younger than [gc] grace are never removed. Refuses without -w,
    --all-branches, --all-tags, --all-commits or --rev."""
    from dvx.errors import UsageError
    from dvx.gc import GcResult, gc

    if break_lock:
        _break_lock(state, remote, force, as_json)
        return

    def confirm(r: GcResult) -> bool:
        if force:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"dvx gc would remove {_what(r)}; no terminal to ask on", "add -f to remove without asking")
        for line in _lines(r):
            click.echo(line, err=True)
        return click.confirm("Remove them?", default=False, err=True)

    r = gc(workspace=workspace, all_branches=all_branches, all_tags=all_tags, all_commits=all_commits, revs=revs,
           cloud=cloud, remote=remote, projects=projects, dry_run=dry_run, force=force, confirm=confirm)
    if as_json:
        emit_json(r.to_json())
        return
    if not r.confirmed:
        click.echo("nothing removed", err=True)
        return
    if not state.quiet:
        for line in _lines(r):
            click.echo(line)


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _what(r: Any) -> str:
    objs = sum(s.plan.garbage_objects for s in r.stores)
    freed = sum(s.plan.bytes_freed for s in r.stores)
    return f"{_n(objs, 'object')} ({human_size(freed)})"


def _lines(r: Any) -> list[str]:
    kept = "the workspace" + (f" and {_n(len(r.revisions), 'commit')}" if r.revisions else "")
    if r.projects:
        kept += f" and of {_n(len(r.projects), 'other project')} sharing the cache"
    verb = "would remove" if r.dry_run else "removed"
    out = [f"kept {_n(r.live_objects, 'object')} reached by {_n(r.pointers, 'pointer')} of {kept}"]
    if r.not_cached:
        out.append(f"{_n(r.not_cached, 'manifest')} the kept pointers name {'is' if r.not_cached == 1 else 'are'} not "
                   "in the cache (not fetched): nothing below them is in it (`dvx fetch` brings them)")
    for s in r.stores:
        p, d = s.plan, s.stats
        n_obj = d.objects_removed if d else p.garbage_objects
        freed = d.bytes_freed if d else p.bytes_freed
        deleted = d.packs_deleted if d else len(p.delete) + len(p.orphans) + len(p.repack_packs)
        repacked = d.packs_repacked if d else len(p.repack_packs)
        out.append(f"{s.label}: {verb} {_n(n_obj, 'object')}, {human_size(freed)} freed ({_n(deleted, 'pack')} deleted, "
                   f"{repacked} of them repacked); kept {_n(p.live_objects, 'object')} ({human_size(p.live_bytes)})")
        idx_after = len(p.new_indexes) + p.young_indexes
        if len(p.old_indexes) + p.young_indexes != idx_after:
            out.append(f"{s.label}: index files {len(p.old_indexes) + p.young_indexes} -> {idx_after}")
        if p.kept_garbage:
            out.append(f"{s.label}: kept {_n(len(p.kept_garbage), 'pack')} holding {human_size(sum(p.kept_garbage.values()))} "
                       f"of garbage (at most {p.repack:.0%} of each: below [gc] repack)")
        if p.young_packs or p.young_indexes:
            out.append(f"{s.label}: kept {_n(p.young_packs, 'new pack')} and {_n(p.young_indexes, 'new index file')}, "
                       f"younger than {r.grace} ([gc] grace)")
        if p.kept_orphans:
            out.append(f"{s.label}: kept {_n(p.kept_orphans, 'pack')} no index names: an index file is damaged "
                       f"({', '.join(p.damaged_indexes[:3])})")
        if d and d.repack_refused:
            out.append(f"{s.label}: {_n(len(d.repack_refused), 'pack')} kept whole: a live object in them fails verification")
        if p.quarantine_bytes:
            out.append(f"{s.label}: quarantine/ holds {human_size(p.quarantine_bytes)} (never removed by gc)")
    if r.side.removed:
        out.append(f"side folders: {verb} {_n(r.side.removed, 'file')} ({human_size(r.side.bytes)})")
    return out


def _break_lock(state: State, remote: str | None, force: bool, as_json: bool) -> None:
    import time

    from dvx.gc import break_lock

    r = break_lock(remote=remote, force=force)
    if as_json:
        emit_json(r.to_json())
        return
    if state.quiet:
        return
    now = time.time()
    for info in r.removed:
        click.echo(f"remote {r.remote}: removed lock {info.name} ({info.describe(now)})")
    if not r.removed:
        click.echo(f"remote {r.remote}: no {'' if force else 'stale '}lock files")
