"""Quality commands: validate, expectations init, stats, drift."""

from __future__ import annotations

import click

from dvx.cli._render import emit_json, table
from dvx.cli.options import (
    State,
    common_options,
    force_option,
    json_option,
    pass_state,
    scheduler_options,
    staged_option,
)


def _short(v: object) -> str:
    """A value for a table cell (:func:`dvx.quality.numbers.value`; numbers are never cut)."""
    from dvx.quality.numbers import value

    return value(v, "")


def _named(label: str, oid: str | None) -> str:
    """A version's label with its content id (``workspace 3f2a…``) when the label lacks it."""
    return label if not oid or oid[:12] in label else f"{label} {oid[:12]}"


def _write_report(path: str, html: str) -> None:
    from dvx._fsutil import atomic_write

    atomic_write(path, html.encode("utf-8"), fsync=False)
    click.echo(f"report written to {path}")


@click.command("validate")
@common_options
@click.argument("paths", nargs=-1)
@staged_option
@click.option("--rev", help="Validate the version committed at REV (commit, branch, tag).")
@json_option
@click.option("--report", "report", metavar="FILE.html", help="Write a self-contained HTML report.")
@click.option("--all", "show_all", is_flag=True, help="List passing expectations too.")
@scheduler_options
@pass_state
def validate_cmd(state: State, paths: tuple[str, ...], staged: bool, rev: str | None, as_json: bool, report: str | None,
                 show_all: bool, scheduler: str | None, repo_url: str | None) -> None:
    """Run the suites bound in expectations/dvx.toml; exit 1 when an expectation fails.

    Reads the file on disk by default, even when modified since `dvx add`;
    --staged the version last added; --rev a committed version. --json speaks
    Great Expectations' result vocabulary, with the version measured.
    """
    from dvx import datasets
    from dvx.cli.progress import reading
    from dvx.errors import CheckFailedError
    from dvx.quality.numbers import expected, number, percent

    with reading("validating"):
        results = datasets.validate(list(paths) or None, rev=rev, staged=staged, scheduler=scheduler,
                                    repo_url=repo_url)
    if report:
        from dvx.quality.report import render_validation_html

        _write_report(report, render_validation_html(results, title="dvx validate"))
    if as_json:
        from dvx.quality.validate import to_gx_json

        emit_json(to_gx_json(results))
    elif not state.quiet:
        if not results:
            click.echo("no dataset has a bound suite (see expectations/dvx.toml)")
        for dv in results:
            failed = [r for r in dv.results if not r.success]
            cached = all(s.cached for s in dv.suites)
            verdict = "passed" if dv.success else "FAILED"
            click.echo(
                f"{dv.dataset} [{dv.version}]: {verdict} ({len(dv.results) - len(failed)}/{len(dv.results)} expectations"
                f"{', stored result' if cached else ''}, {dv.elapsed:.2f} s)"
            )
            rows = [
                (
                    "ok" if r.success else "FAIL",
                    r.expectation_type,
                    r.column or "",
                    _short(r.observed_value),
                    expected(r.expectation_type, r.kwargs),
                    number(r.unexpected_count, ""),
                    percent(r.unexpected_percent, ""),
                    _short((r.partial_unexpected_list or [])[:3]) if r.partial_unexpected_list else "",
                )
                for r in dv.results
                if show_all or not r.success
            ]
            if rows:
                click.echo(table(rows, ["", "expectation", "column", "observed", "expected", "unexpected", "%", "examples"]))
            for n in dv.notes:
                click.echo(f"note: {n}")
    if any(not dv.success for dv in results):
        bad = ", ".join(dv.dataset for dv in results if not dv.success)
        raise CheckFailedError(f"validation failed: {bad}", "fix the data or the suite, then run `dvx validate` again")


@click.group("expectations")
def expectations_group() -> None:
    """Manage the suites in expectations/."""


@expectations_group.command("init")
@common_options
@click.argument("path")
@click.option("--engine", type=click.Choice(["gx", "pandera"]), default="gx", show_default=True)
@force_option("Overwrite an existing suite file.")
@staged_option
@click.option("--rev", help="Infer from the version committed at REV.")
@pass_state
def expectations_init_cmd(state: State, path: str, engine: str, force: bool, staged: bool, rev: str | None) -> None:
    """Infer a starter suite from the data at PATH and bind it to PATH.

    Reads the file on disk by default, even when modified since `dvx add`;
    --staged the version last added; --rev a committed version.
    """
    import os

    from dvx import datasets, repo
    from dvx.cli._render import git_add_hint

    r = datasets.expectations_init(path, engine=engine, force=force, staged=staged, rev=rev)
    if not state.quiet:
        root = repo.open_workspace(".").root
        suite, binding = (os.path.relpath(root / p) for p in (r.suite_path, r.binding_path))
        click.echo(f"wrote {suite} ({r.engine}, inferred from {r.version}) and bound it in {binding}")
        click.echo(f"hint: review it, then {git_add_hint(root, [r.suite_path, r.binding_path])}")


@click.command("stats")
@common_options
@click.argument("path")
@staged_option
@click.option("--rev", help="The version committed at REV.")
@json_option
@click.option("--raw", is_flag=True, help="JSON of the stored profile with its raw sketches (KLL, HyperLogLog registers, m2); implies --json.")
@scheduler_options
def stats_cmd(path: str, staged: bool, rev: str | None, as_json: bool, raw: bool, scheduler: str | None,
              repo_url: str | None) -> None:
    """Show the statistical profile of a tracked dataset.

    Reads the file on disk by default, even when modified since `dvx add`;
    --staged the version last added; --rev a committed version. The profile
    is stored in the cache by content id; no pointer file is written.
    --json gives per-column summaries (counts, min, max, mean, std, quantiles
    p01-p99, distinct with an approximate flag, top values); --raw the sketches.
    """
    from dvx import datasets
    from dvx.cli.progress import reading
    from dvx.quality.numbers import approx, number

    with reading("profiling"):
        v, prof = datasets.stats_version(path, rev=rev, staged=staged, scheduler=scheduler, repo_url=repo_url)
    if as_json or raw:
        from dvx.quality.profile.summary import profile_summary

        body = prof.to_dict() if raw else profile_summary(prof)  # raw: "version" is the profile format
        emit_json({"path": v.rel, "measured": v.label, "data_id": v.oid, **body})
        return
    click.echo(f"{path} [{v.label}]: {number(prof.row_count)} rows, {len(prof.columns)} columns")
    rows = []
    for name, c in prof.columns.items():
        q = [c.quantile(x) for x in (0.25, 0.5, 0.75)] if c.quantiles is not None else [None] * 3
        distinct = c.distinct_count
        rows.append(
            (
                name,
                c.type,
                f"{number(c.null_count)}/{number(c.nan_count)}" if c.nan_count else number(c.null_count),
                _short(c.min),
                _short(c.max),
                _short(c.mean),
                _short(c.std),
                " / ".join(_short(x) for x in q) if any(x is not None for x in q) else "",
                "" if distinct is None else (approx(distinct) if c.distinct_approximate else number(distinct)),
            )
        )
    click.echo(table(rows, ["column", "type", "nulls[/NaN]", "min", "max", "mean", "std", "q25 / q50 / q75", "distinct"]))
    for s in getattr(prof, "skipped", []) or []:
        click.echo(f"skipped: {getattr(s, 'name', s)} ({getattr(s, 'reason', '')})")


@click.command("drift")
@common_options
@click.argument("path")
@click.option("--baseline", default="HEAD", show_default=True, help="Revision of the baseline version.")
@staged_option
@click.option("--rev", help="Compare the version committed at REV instead of the file on disk.")
@json_option
@click.option("--report", "report", metavar="FILE.html", help="Write a self-contained HTML report.")
@click.option("--accept", "accept_", is_flag=True, help="If it drifted, accept the drift (as `dvx accept`); needs -m.")
@click.option("-m", "--message", "reason", metavar="REASON", help="With --accept: why the drift is intended.")
@scheduler_options
@pass_state
def drift_cmd(state: State, path: str, baseline: str, staged: bool, rev: str | None, as_json: bool,
              report: str | None, accept_: bool, reason: str | None, scheduler: str | None, repo_url: str | None) -> None:
    """Compare a dataset with its baseline; exit 1 when a gated metric crosses its threshold.

    Reads the file on disk by default, even when modified since `dvx add`;
    --staged the version last added; --rev a committed version.
    --accept -m REASON records a drift as intended (see `dvx accept`).
    """
    from dvx import datasets
    from dvx.errors import CheckFailedError

    if accept_ and not (reason or "").strip():
        raise click.UsageError("--accept needs -m REASON (recorded with the acceptance)")
    from dvx.cli.progress import reading

    with reading("profiling"):
        r = datasets.drift(path, baseline=baseline, rev=rev, staged=staged, scheduler=scheduler, repo_url=repo_url)
    current, base = _named(r.current_version, r.current_id), _named(r.baseline_version, r.baseline_id)
    versus = f"{current} vs {base}"
    if report:
        from dvx.quality.report import render_drift_html

        _write_report(report, render_drift_html(r.report, r.baseline, r.current, title=f"dvx drift {r.path}: {versus}",
                                                current_version=current, baseline_version=base))
    if as_json:
        emit_json(r.to_json())
    elif not state.quiet:
        rep = r.report
        click.echo(
            f"{r.path}: {'DRIFTED' if rep.drifted else 'no drift'}: {versus} "
            f"(rows {_short(rep.baseline_rows)} -> {_short(rep.current_rows)})"
        )
        for what, cols in (("added", rep.added), ("removed", rep.removed), ("retyped", rep.retyped)):
            if cols:
                click.echo(f"schema: {what} {', '.join(cols)}")
        rows = []
        for c in sorted(rep.columns, key=lambda c: (not c.drifted, c.name)):
            for m in c.metrics:
                if m.value is None:
                    continue
                rows.append((c.name, m.name, _short(m.value), _short(m.threshold), "DRIFT" if m.drifted and m.gated else ""))
        if rows:
            click.echo(table(rows, ["column", "metric", "value", "threshold", ""]))
    if r.drifted and accept_ and reason:
        from dvx.cli.accept import print_accepted
        from dvx.gate.accept import accept

        print_accepted(accept(path, reason, staged=staged, rev=rev, baseline=baseline), state.quiet or as_json)
        return
    if r.drifted:
        raise CheckFailedError(
            f"{r.path} ({r.current_version}) drifted from {r.baseline_version}: "
            f"{', '.join(r.report.drifted_columns) or 'schema/row count'}",
            "inspect with `dvx drift --report drift.html`; raise the thresholds in expectations/dvx.toml if intended",
        )
