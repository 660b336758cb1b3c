"""Options shared by the commands: one spelling, help text, type and check each.

``--json``, ``-r/--remote``, ``-j/--jobs``, ``-f/--force`` and ``-q/--quiet``
(with ``-v/--verbose``) mean the same in every command that has them. This
module imports only click: ``dvx --help`` loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

VERBOSE_HELP = "More output; tracebacks on errors."
QUIET_HELP = "Only errors."


class State:
    """Options every command sees (``-v``/``-q``, given before or after its name)."""

    def __init__(self, verbose: int = 0, quiet: bool = False) -> None:
        self.verbose = verbose
        self.quiet = quiet


pass_state = click.make_pass_decorator(State, ensure=True)


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        ctx.ensure_object(State).verbose += value


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).quiet = True


def quiet_option(f: F) -> F:
    """``-q/--quiet``: only errors (recorded in ``State.quiet``)."""
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet, help=QUIET_HELP)(f)


def verbose_option(f: F) -> F:
    """``-v/--verbose`` (repeatable): more output, a traceback on errors (``State.verbose``)."""
    return click.option("-v", "--verbose", count=True, expose_value=False, callback=_set_verbose, help=VERBOSE_HELP)(f)


def common_options(f: F) -> F:
    """``-v``/``-q`` accepted after any subcommand too (``dvx add -q x``)."""
    return verbose_option(quiet_option(f))


def json_option(f: F) -> F:
    """``--json`` -> parameter ``as_json``: the result as JSON on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON on stdout).")(f)


def remote_option(f: F) -> F:
    """``-r/--remote NAME`` -> parameter ``remote`` (None: the default remote)."""
    return click.option("-r", "--remote", metavar="NAME", help="Remote name (default: core.remote).")(f)


def _positive(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter(f"{value} is not a positive number")
    return value


def jobs_option(f: F) -> F:
    """``-j/--jobs N`` -> parameter ``jobs``, a positive integer (None: the remote's ``jobs`` setting)."""
    return click.option(
        "-j", "--jobs", type=int, callback=_positive, metavar="N", help="Parallel transfers (default: the remote's jobs, else 4)."
    )(f)


def force_option(help: str) -> Callable[[F], F]:
    """``-f/--force`` -> parameter ``force``; ``help`` says what this command overwrites."""

    def deco(f: F) -> F:
        return click.option("-f", "--force", is_flag=True, help=help)(f)

    return deco


def staged_option(f: F) -> F:
    """``--staged`` -> parameter ``staged``: read the version last added (what the pointer file
    names), not the file on disk (dvx.gate.reading)."""
    return click.option(
        "--staged", is_flag=True, help="Read the version last added (the pointer file), not the file on disk."
    )(f)


def scheduler_options(f: F) -> F:
    """``--scheduler ADDRESS`` and ``--repo-url URL`` -> parameters ``scheduler``, ``repo_url``:
    run the data-heavy work on a Dask cluster (dvx.cluster; docs/cluster.md)."""
    f = click.option("--repo-url", metavar="URL",
                     help="Git URL the Dask workers clone (default: [compute] repo_url, else the origin remote's URL).")(f)
    return click.option("--scheduler", metavar="ADDRESS",
                        help="Run on the Dask scheduler at ADDRESS (default: $DVX_SCHEDULER, [compute] scheduler; "
                             "\"local\": here).")(f)


def revision_options(verb: str) -> Callable[[F], F]:
    """DVC's revision selection: ``-a/--all-branches``, ``-T/--all-tags``, ``-A/--all-commits`` and
    ``--rev REV`` (repeatable, parameter ``revs``); ``verb`` says what the command does with what a
    revision needs ("Keep", "Push", "Fetch")."""

    def deco(f: F) -> F:
        f = click.option("--rev", "revs", multiple=True, metavar="REV",
                         help=f"{verb} what the commit REV needs (repeatable).")(f)
        f = click.option("-A", "--all-commits", is_flag=True,
                         help=f"{verb} what every commit needs (git rev-list --all).")(f)
        f = click.option("-T", "--all-tags", is_flag=True, help=f"{verb} what all tags need.")(f)
        return click.option("-a", "--all-branches", is_flag=True,
                            help=f"{verb} what the tips of all local branches need.")(f)

    return deco
_SCOPE_HELP = {
    "local": ".dvx/config.local (git-ignored: secrets, personal settings)",
    "project": ".dvx/config (committed; the default for writes)",
    "global": "the user's file (~/.config/dvx/config)",
    "system": "the system file (/etc/dvx/config)",
}


def scope_option(f: F) -> F:
    """``--local|--project|--global|--system`` -> parameter ``scope`` (None: not given), as ``dvc config``."""
    for name in reversed(_SCOPE_HELP):
        f = click.option(f"--{name}", "scope", flag_value=name, help=f"Use {_SCOPE_HELP[name]}.")(f)
    return f
