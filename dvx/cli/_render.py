"""Output helpers for the commands: tables, sizes, JSON, and the errors left after a partial answer."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from dvx.workspace.changes import FileChanges


def exit_on_errors(errors: Sequence[str]) -> None:
    """After a command printed what it could: exit 2 when some input (a pointer
    file) could not be parsed, so scripts see an incomplete answer. Every
    error is printed; the last one by the CLI's error handler."""
    if not errors:
        return
    from dvx.errors import ConfigError

    for e in errors[:-1]:
        click.echo(f"error: {e}", err=True)
    raise ConfigError(errors[-1])


def git_add_hint(root: str | os.PathLike[str], rels: Sequence[str], message: str | None = None) -> str:
    """``git add PATHS`` for repo-relative ``rels``, as a shell line to run from the current directory
    (paths relative to it and quoted), followed by ``git commit -m MESSAGE`` when one is given."""
    paths = " ".join(shlex.quote(os.path.relpath(os.path.join(root, r))) for r in rels)
    commit = f" && git commit -m {shlex.quote(message)}" if message else ""
    return f"git add {paths}{commit}"


def human_size(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def emit_json(obj: object) -> None:
    """``obj`` as indented JSON on stdout (values JSON does not know are written with ``str``)."""
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))


def shown_path(path: str) -> str:
    """A path for a line of text: as it is when printable, else quoted with escapes (as git's core.quotePath),
    so a crafted name holding a newline or undecodable bytes cannot forge or break a line."""
    if path.isprintable():
        return path
    return json.dumps(path)


# Changed files listed per kind when a directory has more than changes.LARGE: the rest with -v or --json.
FIRST_FEW = 5


def file_lines(files: FileChanges, verbose: bool, indent: str) -> str:
    """One line per changed file (``added  PATH``); for a large change the first few of each kind
    and how many more."""
    out = []
    kinds = (("added", files.added), ("deleted", files.deleted), ("modified", files.modified),
             ("renamed", [f"{a} -> {b}" for a, b in files.renamed]))
    for what, paths in kinds:
        few = paths if verbose or not files.large else paths[:FIRST_FEW]
        out += [f"{indent}{what:9} {shown_path(p)}\n" for p in few]
        if len(few) < len(paths):
            out.append(f"{indent}... {len(paths) - len(few)} more {what}\n")
    return "".join(out)
