"""The ``dvx`` command line: a lazy click group.

Command modules are imported only when their command runs, so ``dvx --help``
and hooks that touch no dataset stay fast (no pyarrow, fsspec, pandas or
great_expectations at start-up). Every ``DvxError`` becomes one line on
stderr and its exit code (1 a failed check, 2 usage); any other exception is
a bug or an unanticipated failure: one line and exit 255, as DVC. A traceback
is shown only with ``-v``.
"""

from __future__ import annotations

import sys

import click

from dvx import __version__
from dvx.cli.options import State, common_options
from dvx.errors import DvxError

__all__ = ["COMMANDS", "HIDDEN", "INTERNAL_ERROR", "SHORT_HELP", "State", "cli", "common_options", "main"]

# name -> "module:attribute"; modules are imported on first use.
COMMANDS: dict[str, str] = {
    "init": "dvx.cli.data:init_cmd",
    "add": "dvx.cli.data:add_cmd",
    "checkout": "dvx.cli.data:checkout_cmd",
    "status": "dvx.cli.data:status_cmd",
    "ls": "dvx.cli.data:ls_cmd",
    "mv": "dvx.cli.move:mv_cmd",
    "rm": "dvx.cli.move:rm_cmd",
    "remote": "dvx.cli.remote:remote_group",
    "push": "dvx.cli.remote:push_cmd",
    "fetch": "dvx.cli.remote:fetch_cmd",
    "pull": "dvx.cli.remote:pull_cmd",
    "validate": "dvx.cli.quality:validate_cmd",
    "expectations": "dvx.cli.quality:expectations_group",
    "stats": "dvx.cli.quality:stats_cmd",
    "drift": "dvx.cli.quality:drift_cmd",
    "hooks": "dvx.cli.hooks:hooks_group",
    "check": "dvx.cli.hooks:check_cmd",
    "hook-run": "dvx.cli.hooks:hook_run_cmd",
    "merge-driver": "dvx.cli.hooks:merge_driver_cmd",
    "diff": "dvx.cli.history:diff_cmd",
    "log": "dvx.cli.history:log_cmd",
    "fsck": "dvx.cli.fsck:fsck_cmd",
    "accept": "dvx.cli.accept:accept_cmd",
    "gc": "dvx.cli.gc:gc_cmd",
    "config": "dvx.cli.config:config_cmd",
    "doctor": "dvx.cli.doctor:doctor_cmd",
    "list": "dvx.cli.xrepo:list_cmd",
    "get": "dvx.cli.xrepo:get_cmd",
    "import": "dvx.cli.xrepo:import_cmd",
    "update": "dvx.cli.xrepo:update_cmd",
    "cache": "dvx.cli.cache:cache_group",
}

# Short help shown by `dvx --help` without importing the command modules.
SHORT_HELP: dict[str, str] = {
    "init": "Initialise dvx in this git repository.",
    "add": "Store files or directories and write their pointer files.",
    "checkout": "Make the workspace match the pointer files.",
    "status": "Show which tracked paths changed.",
    "ls": "List tracked paths.",
    "mv": "Move a tracked path with its pointer and .gitignore line.",
    "rm": "Stop tracking a path (the data stays unless --outs).",
    "remote": "Configure remotes (add, modify, list, remove, default).",
    "push": "Upload what the remote lacks.",
    "fetch": "Download what the cache lacks.",
    "pull": "fetch, then checkout.",
    "validate": "Run the expectation suites bound to datasets.",
    "expectations": "Write starter suites (expectations init).",
    "stats": "Show a dataset's statistical profile.",
    "drift": "Compare a dataset with its baseline version.",
    "hooks": "Install or remove the dvx git hooks.",
    "check": "The gate: validation plus drift against the committed baseline.",
    "diff": "Which tracked datasets changed between two revisions.",
    "log": "A dataset's history across commits.",
    "fsck": "Check the cache (and remote) and that pointers resolve.",
    "gc": "Remove what the workspace and chosen revisions do not need.",
    "cache": "Show or set the cache folder (cache dir), shared between projects.",
    "hook-run": "(internal) What the installed git hooks run.",
    "merge-driver": "(internal) git's merge driver for pointer files.",
    "accept": "Accept a dataset version's intended drift, with a reason.",
    "config": "Get, set, unset or list configuration (as git config).",
    "doctor": "Show versions, config files, remotes, hooks and cache (for bug reports).",
    "list": "List what another repository tracks (URL, any revision).",
    "get": "Download a path of another repository without tracking it.",
    "import": "Download a path of another repository and track it with its source.",
    "update": "Move imported paths to a newer revision of their source.",
}


# Exit code of an unexpected internal error (any exception that is not a DvxError), as DVC's:
# distinct from 1 (a failed check or operation) and 2 (usage, configuration, bad input).
INTERNAL_ERROR = 255

# Commands that exist for git (hooks, the merge driver), not for people.
HIDDEN = {"hook-run", "merge-driver"}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when invoked (click docs, "Lazily Loading Subcommands")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            import importlib

            mod, _, attr = COMMANDS[name].partition(":")
            cmd = getattr(importlib.import_module(mod), attr)
            assert isinstance(cmd, click.Command), COMMANDS[name]
            return cmd
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, SHORT_HELP.get(n, "")) for n in self.list_commands(ctx) if n not in HIDDEN]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dvx")
@common_options
@click.option("-C", "chdir", metavar="DIR", help="Run as if started in DIR.")
def cli(chdir: str | None) -> None:
    """dvx: version, validate and monitor datasets beside your code in git."""
    if chdir:
        import os

        try:
            os.chdir(chdir)
        except OSError as e:
            raise click.UsageError(f"-C {chdir}: {e.strerror}") from e


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dvx`` script."""
    args = argv if argv is not None else sys.argv[1:]
    verbose = any(a in ("--verbose",) or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in args)
    try:
        # Not standalone: click returns the code of a `ctx.exit(N)` (status --exit-code) instead of exiting.
        rc = cli.main(args=argv, prog_name="dvx", standalone_mode=False)
        if type(rc) is int and rc:
            sys.exit(rc)
    except click.exceptions.Abort:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except DvxError as e:
        if verbose:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted; run the command again to finish", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:  # a bug or a failure dvx did not anticipate: DVC's 255, not a failed check's 1
        if verbose:
            import traceback

            traceback.print_exc()
        tail = "" if verbose else " (run with -v for a traceback)"
        click.echo(f"error: {type(e).__name__}: {e}{tail}", err=True)
        sys.exit(INTERNAL_ERROR)
