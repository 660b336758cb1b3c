"""Render the CLI reference (docs/cli.md) from the click commands themselves.

``python -m dvx.cli._docs > docs/cli.md``; a test fails when the page and the
commands disagree, so the reference cannot go stale.
"""

from __future__ import annotations

import click

from dvx.cli import COMMANDS, HIDDEN, cli

INTRO = """# dvx command reference

Generated from the commands' own help by `python -m dvx.cli._docs > docs/cli.md`
(a test checks it is current). Every command accepts `-v` (more output, and a
traceback on errors) and `-q` (only errors), before or after its name.
Options of the same name mean the same in every command that has them:
`--json` (the result as JSON on stdout), `-r/--remote NAME` (default:
`core.remote`), `-j/--jobs N` (parallel transfers, a positive number) and
`-f/--force` (overwrite what the command would otherwise refuse to).

Exit codes: 0 success; 1 a failed check or operation (validation failed, data
drifted, a file could not be read, an object is missing or corrupt, a remote
failed); 2 a usage or configuration error (bad arguments, not a repository,
a bad pointer file, config or suite); 130 interrupted; 255 an unexpected
internal error (a bug or a failure dvx did not anticipate, as DVC). Errors are
one line on stderr, `error: <what> (hint: <next step>)`. `dvx status
--exit-code` (or `-q`) exits 1 when anything changed (docs/status.md).

Paths: data paths are given relative to the current directory and must lie
inside the repository. `dvx add` refuses symbolic links and paths below a
symbolically linked folder (add the real path instead); inside an added
directory, symbolic links and special files are skipped (not stored, not
followed), and `.git`/`.dvx` folders are never entered. No path is created
inside `.git` or `.dvx` (in any case or file-system variant) or outside the
work tree, and checkout never writes or deletes through a symbolic link: such
a pointer, tree entry or link stops the command before it writes anything
(exit 2; docs/security.md).
"""


def _help(cmd: click.Command, path: list[str]) -> str:
    ctx = click.Context(cmd, info_name=" ".join(path), terminal_width=88, max_content_width=88)
    return cmd.get_help(ctx)


def _render(cmd: click.Command, path: list[str], out: list[str]) -> None:
    level = "#" * min(len(path) + 1, 4)
    out.append(f"\n{level} `{' '.join(path)}`\n")
    out.append("```text\n" + _help(cmd, path).rstrip() + "\n```\n")
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            _render(cmd.commands[name], [*path, name], out)


def render_markdown() -> str:
    """The whole reference page."""
    out = [INTRO]
    out.append("## `dvx`\n")
    out.append("```text\n" + _help(cli, ["dvx"]).rstrip() + "\n```\n")
    ctx = click.Context(cli, info_name="dvx")
    for name in sorted(COMMANDS):
        cmd = cli.get_command(ctx, name)
        if cmd is None or name in HIDDEN or getattr(cmd, "hidden", False):
            continue
        _render(cmd, ["dvx", name], out)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
