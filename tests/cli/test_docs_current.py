"""docs/cli.md is generated from the commands; it must match them."""

from pathlib import Path

from dvx.cli._docs import render_markdown


def test_cli_reference_is_current() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
    assert page.read_text() == render_markdown(), "run `python -m dvx.cli._docs > docs/cli.md`"
