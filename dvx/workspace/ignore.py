"""Keep tracked data out of git: one anchored line per path in its folder's .gitignore."""

from __future__ import annotations

from pathlib import Path

from dvx._fsutil import TMP_GLOB, atomic_write

# Partial copies of a killed checkout or pull (``.NAME.dvxtmp-<hex>``) sit
# beside the tracked path until the next dvx command removes them; the same
# committed .gitignore keeps them out of `git status` in every clone.
_TMP_LINES = ("# dvx: partial copies of an interrupted dvx command (the next dvx command removes them)", TMP_GLOB)


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
    lines = text.splitlines()
    new = [x for x in (*(() if TMP_GLOB in lines else _TMP_LINES), line) if x not in lines]
    if not new:
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(gi, (text + "\n".join(new) + "\n").encode("utf-8", "surrogateescape"), fsync=False)
    return gi


def remove_ignore(root: Path, rel: str) -> Path | None:
    """Take ``rel``'s line out of its folder's .gitignore (``dvx mv``, ``dvx rm``).

    A .gitignore left with nothing but dvx's own temp-file lines is deleted,
    as DVC does. Returns the .gitignore path when it changed, else None.
    """
    parent, _, name = rel.rpartition("/")
    gi = root / parent / ".gitignore" if parent else root / ".gitignore"
    line = ignore_line(name)
    try:
        text = gi.read_text(encoding="utf-8", errors="surrogateescape")
    except (FileNotFoundError, NotADirectoryError):
        return None
    lines = text.splitlines()
    if line not in lines:
        return None
    kept = [x for x in lines if x != line]
    if all(not x.strip() or x in _TMP_LINES for x in kept):
        gi.unlink()
        return gi
    atomic_write(gi, ("\n".join(kept) + "\n").encode("utf-8", "surrogateescape"), fsync=False)
    return gi
