"""Shared options mean the same in every command; the one progress display renders both kinds of work."""

from __future__ import annotations

import click
import pytest

from dvx.cli import COMMANDS, cli
from dvx.cli.progress import Progress


def _commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli, info_name="dvx")
    out: list[tuple[str, click.Command]] = []
    for name in sorted(COMMANDS):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None, name
        subs = cmd.commands.items() if isinstance(cmd, click.Group) else [("", cmd)]
        out += [(f"{name} {sub}".strip(), c) for sub, c in subs]
    return out


SHARED = {"as_json": ["--json"], "remote": ["-r", "--remote"], "jobs": ["-j", "--jobs"], "force": ["-f", "--force"]}


@pytest.mark.parametrize("param", sorted(SHARED))
def test_shared_options_have_one_spelling_and_help(param: str) -> None:
    found = {name: p for name, c in _commands() for p in c.params if p.name == param}
    assert len(found) >= 2, f"{param} is used by fewer than two commands: {sorted(found)}"
    for name, p in found.items():
        assert isinstance(p, click.Option)
        assert p.opts + p.secondary_opts == SHARED[param], (name, p.opts)
    helps = {p.help for p in found.values() if isinstance(p, click.Option)}
    if param != "force":  # what --force overwrites differs per command; its spelling and type do not
        assert len(helps) == 1, helps
    assert len({(p.type.name, p.is_flag) for p in found.values() if isinstance(p, click.Option)}) == 1


def test_every_command_takes_verbose_and_quiet() -> None:
    for name, c in _commands():
        opts = {o for p in c.params for o in p.opts}
        if c.hidden:
            continue
        assert {"-v", "-q", "--verbose", "--quiet"} <= opts, name


def test_jobs_must_be_positive() -> None:
    from click.testing import CliRunner

    r = CliRunner().invoke(cli, ["push", "-j", "0"])
    assert r.exit_code == 2 and "0 is not a positive number" in r.output


def test_progress_renders_transfers_and_items() -> None:
    p = Progress("push")
    p.transfer("total", 4096)
    p.transfer("bytes", 1024)
    assert p.line(2.0) == "push: 1.0 KiB / 4.0 KiB  25.0% 512 B/s"
    q = Progress("adding")
    q.item("data/a.csv")
    q.item("data/b.csv")
    assert q.line(3.0).startswith("adding 2: data/b.csv ") and q.line(3.0).endswith("  3.0s")


def test_progress_stays_silent_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress("push", delay=0.0) as p:  # pytest's captured streams are not terminals
        p.transfer("total", 10)
        p.transfer("bytes", 10)
    assert not p.shown and capsys.readouterr().err == ""


@pytest.mark.parametrize("name", sorted(n for n in COMMANDS if n != "hook-run"))
def test_every_command_and_subcommand_help(name: str) -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    r = runner.invoke(cli, [name, "--help"], prog_name="dvx")
    assert r.exit_code == 0 and r.output.startswith(f"Usage: dvx {name} [OPTIONS]"), r.output
    cmd = cli.get_command(click.Context(cli), name)
    for sub in sorted(cmd.commands) if isinstance(cmd, click.Group) else []:
        r = runner.invoke(cli, [name, sub, "--help"], prog_name="dvx")
        assert r.exit_code == 0 and r.output.startswith(f"Usage: dvx {name} {sub} [OPTIONS]"), r.output
