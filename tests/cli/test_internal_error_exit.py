"""Exit codes of ``dvx.cli.main`` (issue 14, item 3): 255 for an unexpected internal error, as DVC,
distinct from 1 (a failed check) and 2 (usage).

In process: a real click command that raises is registered on the real group for the test and run
through ``main()``, the entry point of the ``dvx`` script.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from dvx.cli import INTERNAL_ERROR, cli, main
from dvx.errors import CheckFailedError


@click.command("boom-test")
@click.option("--kind", type=click.Choice(["bug", "check"]), required=True)
def _boom(kind: str) -> None:
    if kind == "check":
        raise CheckFailedError("3 checks failed")
    {}["missing key"]  # a bug: KeyError


@pytest.fixture
def boom() -> Iterator[None]:
    cli.add_command(_boom)
    try:
        yield
    finally:
        cli.commands.pop("boom-test")


def _run(*args: str) -> int:
    with pytest.raises(SystemExit) as e:
        main(list(args))
    assert isinstance(e.value.code, int)
    return e.value.code


def test_unexpected_exception_exits_255_in_one_line(boom: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert INTERNAL_ERROR == 255
    assert _run("boom-test", "--kind", "bug") == 255
    err = capsys.readouterr().err
    assert err == "error: KeyError: 'missing key' (run with -v for a traceback)\n", err
    # -v: the traceback, then the same line; still 255
    assert _run("-v", "boom-test", "--kind", "bug") == 255
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in _boom" in err
    assert err.endswith("error: KeyError: 'missing key'\n")


def test_failed_check_and_usage_keep_their_codes(boom: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("boom-test", "--kind", "check") == 1
    assert capsys.readouterr().err == "error: 3 checks failed\n"
    assert _run("boom-test", "--kind", "nonsense") == 2
    assert _run("no-such-command") == 2
