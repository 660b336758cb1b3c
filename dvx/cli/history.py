"""History commands: ``diff`` and ``log`` (from pointer files and stored results)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dvx.cli._render import FIRST_FEW, emit_json, exit_on_errors, human_size, shown_path, table
from dvx.cli.options import State, common_options, json_option, pass_state

if TYPE_CHECKING:
    from dvx.history import DatasetDiff


def _signed_size(n: int | None) -> str:
    if n is None:
        return "?"
    return ("+" if n >= 0 else "-") + human_size(abs(n))


def _signed(n: int | None) -> str:
    return "?" if n is None else f"{n:+,}"


def _cols(d: DatasetDiff) -> str:
    if d.columns_added is None:
        return "?"
    parts = [f"+{c}" for c in d.columns_added] + [f"-{c}" for c in d.columns_removed or []]
    parts += [f"~{c}" for c in d.columns_retyped or []]
    return " ".join(parts) or "same"


@click.command("diff")
@common_options
@click.argument("rev_a", required=False)
@click.argument("rev_b", required=False)
@json_option
@pass_state
def diff_cmd(state: State, rev_a: str | None, rev_b: str | None, as_json: bool) -> None:
    """Tracked datasets that changed between REV_A (default HEAD) and REV_B (default: the workspace's pointer files).

    Shows size and row changes, schema changes (+added -removed ~retyped
    columns), columns that drifted and the validation status of each side,
    from stored profiles and results (`dvx check` stores them); ? is unknown.
    Then, as `dvc diff`, the files added, deleted, modified and renamed,
    inside tracked directories too (a summary and the first few for a
    directory with more than 20 changed files; all with -v or --json).
    Changes not yet added are shown by `dvx status`.
    """
    from dvx.history import diff

    r = diff(rev_a, rev_b)
    errors = [d.error for d in r.datasets if d.error]
    if as_json:
        emit_json(r.to_json())
        exit_on_errors(errors)
        return
    if not r.datasets:
        if not state.quiet:
            click.echo(f"no tracked dataset changed between {r.rev_a} and {r.rev_b or 'the workspace'}")
        return
    if state.quiet:
        exit_on_errors(errors)
        return
    rows = []
    for d in r.datasets:
        drift = "?" if d.drifted is None else (", ".join(d.drifted_columns or []) or "schema/rows" if d.drifted else "no")
        if d.accepted:
            drift = f"accepted ({drift})" if d.drifted else "accepted"
        rows.append((d.path, d.change, _signed_size(d.size_change), _signed(d.rows_change), _cols(d), drift,
                     f"{d.validation_a} -> {d.validation_b}"))
    click.echo(table(rows, ["dataset", "change", "size", "rows", "columns", "drift", "validation"]))
    _accepted_notes([(d.path, d.accepted) for d in r.datasets])
    click.echo(_file_sections(r.datasets, state.verbose > 0), nl=False)
    exit_on_errors(errors)


# dvc diff's sections, in its order; a dataset's change word -> section.
_SECTIONS = (("added", "Added"), ("deleted", "Deleted"), ("modified", "Modified"), ("renamed", "Renamed"))
_CHANGE = {"added": "added", "removed": "deleted", "modified": "modified"}


def _file_sections(datasets: list[DatasetDiff], verbose: bool) -> str:
    """``dvc diff``'s text: Added / Deleted / Modified / Renamed sections, then a files summary.

    A directory with more than 20 changed files lists its first few per
    section and a count line; -v lists them all.
    """
    out: list[str] = []
    counts = dict.fromkeys(("added", "deleted", "modified", "renamed"), 0)
    for key, title in _SECTIONS:
        lines: list[str] = []
        for d in datasets:
            if _CHANGE[d.change] == key:
                lines.append(d.path + "/" if d.kind == "dir" else d.path)
                counts[key] += d.kind != "dir"
            if d.files is None:
                continue
            paths = [f"{a} -> {b}" for a, b in d.files.renamed] if key == "renamed" else getattr(d.files, key)
            counts[key] += len(paths)
            few = paths if verbose or not d.files.large else paths[:FIRST_FEW]
            lines += few
            if len(few) < len(paths):
                lines.append(f"... {len(paths) - len(few)} more in {d.path}/")
        if lines:
            out.append(f"\n{title}:\n" + "".join(f"    {shown_path(x)}\n" for x in lines))
    for d in datasets:
        if d.files is not None and d.files.large:
            out.append(f"\n{shown_path(d.path)}/: {d.files.counts()}" + ("" if verbose else " (-v or --json for all)"))
        if d.not_in_cache:
            out.append(f"\n{shown_path(d.path)}/: files unknown: a tree of it is not in the cache")
    if not out:
        return ""
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if k != "renamed" or n)
    return "".join(out) + f"\nfiles summary: {summary}\n"


def _accepted_notes(accs: list[tuple[str, dict[str, object] | None]]) -> None:
    from dvx.gate.render import accepted_by

    for what, acc in accs:
        if acc:
            click.echo(f"accepted: {what}: {accepted_by(acc)}")


@click.command("log")
@common_options
@click.argument("path")
@click.option("--rev", default="HEAD", show_default=True, help="Walk history from REV.")
@click.option("-n", "--max-count", type=int, help="At most N commits.")
@json_option
@pass_state
def log_cmd(state: State, path: str, rev: str, max_count: int | None, as_json: bool) -> None:
    """A dataset's history: every commit that changed PATH.dvx, newest first.

    Size from the pointer; rows, validation and drift (against the previous
    version) from stored results; ? is unknown.
    """
    from dvx.history import log

    entries = log(path, rev=rev, max_count=max_count)
    errors = [e.error for e in entries if e.error]
    if as_json:
        emit_json([e.to_json() for e in entries])
        exit_on_errors(errors)
        return
    rows = []
    for e in entries:
        drift = e.drift
        if e.drifted_columns:
            drift += f" ({', '.join(e.drifted_columns[:3])}{'...' if len(e.drifted_columns) > 3 else ''})"
        rows.append((e.rev[:10], e.date[:19].replace("T", " "), e.author, e.message[:40], e.change,
                     "-" if e.size is None else human_size(e.size), "?" if e.rows is None else f"{e.rows:,}",
                     e.validation, drift))
    click.echo(table(rows, ["rev", "date", "author", "message", "change", "size", "rows", "validation", "drift"]))
    _accepted_notes([(e.rev[:10], e.accepted) for e in entries])
    exit_on_errors(errors)
