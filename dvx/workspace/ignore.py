"""Keep tracked data out of git: one anchored line per path in its folder's .gitignore."""

from __future__ import annotations

from pathlib import Path

from dvx._fsutil import atomic_write


def _escape(name: str) -> str:
    # gitignore treats these as glob/meta characters; a leading '#' or '!'
    # would turn the line into a comment or a negation.
    out = "".join("\\" + c if c in "*?[]\\" else c for c in name)
    if out[:1] in ("#", "!"):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def ignore_line(name: str) -> str:
    """The .gitignore line for ``name`` in the same folder."""
    return "/" + _escape(name)


def add_ignore(root: Path, rel: str) -> Path | None:
    """Add ``rel`` (repo-relative, '/'-separated) to its folder's .gitignore.

    Returns the .gitignore path when it changed, else None.
    """
    parent, _, name = rel.rpartition("/")
    gi = root / parent / ".gitignore" if parent else root / ".gitignore"
    line = ignore_line(name)
    try:
        text = gi.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        text = ""
    if line in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(gi, (text + line + "\n").encode("utf-8", "surrogateescape"), fsync=False)
    return gi
