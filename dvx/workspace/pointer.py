"""Pointer files: ``PATH.dvx`` beside each tracked path, committed to git.

A pointer is a few ``key: value`` lines in a fixed order (so ``git diff``
shows one changed line per changed fact), in the spirit of git-lfs pointers::

    # dvx pointer file: data/train.parquet is stored in dvx (docs/format.md)
    format: 1
    type: file
    id: 8f3c...32 hex digits...
    size: 1048576
    files: 1
    chunks: 17
    profile: 5b1e...   (optional)

Parsing is strict and speaks like packaging's parsers: ``file:line: what``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dvx._paths import path_problem
from dvx.errors import PointerError, UnsafePathError
from dvx.hashing import is_oid

FORMAT = 1
SUFFIX = ".dvx"
KINDS = ("file", "dir")
_ORDER = ("format", "type", "id", "size", "files", "chunks", "profile")
_REQUIRED = ("format", "type", "id", "size", "files", "chunks")
_INTS = ("format", "size", "files", "chunks")
_CONFLICT = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")


@dataclass(frozen=True)
class Pointer:
    """What a pointer file says about one tracked path."""

    kind: str  # "file" or "dir"
    oid: str  # hex id of the FileManifest or TreeManifest
    size: int
    files: int
    chunks: int
    profile: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def dumps(self, tracked: str) -> str:
        """The pointer file's text; ``tracked`` is named in the header comment."""
        # Non-UTF-8 names (surrogate-escaped) are shown with \x escapes so the
        # file itself stays valid UTF-8.
        shown = tracked.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        lines = [
            f"# dvx pointer file: {shown} is stored in dvx (docs/format.md)",
            f"format: {FORMAT}",
            f"type: {self.kind}",
            f"id: {self.oid}",
            f"size: {self.size}",
            f"files: {self.files}",
            f"chunks: {self.chunks}",
        ]
        if self.profile:
            lines.append(f"profile: {self.profile}")
        return "\n".join(lines) + "\n"


def pointer_path(tracked: str | os.PathLike[str]) -> str:
    """``data/train.csv`` -> ``data/train.csv.dvx``."""
    return os.fspath(tracked) + SUFFIX


def tracked_path(pointer: str | os.PathLike[str]) -> str:
    """``data/train.csv.dvx`` -> ``data/train.csv``."""
    p = os.fspath(pointer)
    if not p.endswith(SUFFIX):
        raise ValueError(f"{p} is not a pointer file name")
    return p[: -len(SUFFIX)]


def check_tracked(tracked: str, shown_pointer: str) -> None:
    """UnsafePathError unless ``tracked`` (what the pointer ``shown_pointer`` names) is a path dvx may write.

    Pointers come from git, so from whoever wrote the repository: ``.git.dvx``
    would make checkout write into ``.git`` (dvx._paths has the rules).
    """
    why = path_problem(tracked)
    if why is None and tracked.endswith(SUFFIX):
        why = f"ends in {SUFFIX}: it would be read as a pointer file"
    if why is not None:
        shown = tracked.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UnsafePathError(
            f"{shown_pointer}: names the tracked path {shown!r}, which {why}; nothing was written",
            f"dvx never wrote this pointer: delete it (`git rm -f -- {shown_pointer}`) and ask where it came from",
        )


def parse(text: str, source: str = "<pointer>") -> Pointer:
    """Parse a pointer file's text; ``PointerError(source:line: what)`` when it is wrong."""
    values: dict[str, str] = {}
    lines_of: dict[str, int] = {}
    last = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        last = lineno
        line = raw.strip()
        if line.startswith(_CONFLICT):
            raise PointerError(
                source,
                lineno,
                "contains git merge conflict markers",
                f"keep one side with `git checkout --ours {source}` or `--theirs`, then `dvx checkout`",
            )
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise PointerError(source, lineno, f"expected 'key: value', got {raw.strip()!r}")
        if key in values:
            raise PointerError(source, lineno, f"duplicate key {key!r}")
        if key not in _ORDER:
            # Unknown keys are kept (a newer dvx may add some) but must be well formed.
            pass
        values[key] = value
        lines_of[key] = lineno
    for key in _REQUIRED:
        if key not in values:
            where = last if last else None
            what = "is empty" if not values else f"missing '{key}'"
            raise PointerError(source, where, f"{what} (truncated or hand-edited?)", "restore it with `git checkout -- FILE` or re-run `dvx add`")
    for key in _INTS:
        v = values[key]
        if not v.isdigit():
            raise PointerError(source, lines_of[key], f"'{key}' must be a non-negative integer, got {v!r}")
    fmt = int(values["format"])
    if fmt != FORMAT:
        raise PointerError(source, lines_of["format"], f"pointer format {fmt} is not supported (this dvx reads format {FORMAT})", "upgrade dvx")
    kind = values["type"]
    if kind not in KINDS:
        raise PointerError(source, lines_of["type"], f"'type' must be one of {', '.join(KINDS)}, got {kind!r}")
    oid = values["id"]
    if not is_oid(oid):
        raise PointerError(source, lines_of["id"], f"'id' must be 32 lowercase hex digits, got {oid!r}")
    profile = values.get("profile") or None
    if profile is not None and not is_oid(profile):
        raise PointerError(source, lines_of["profile"], f"'profile' must be 32 lowercase hex digits, got {profile!r}")
    extra = {k: v for k, v in values.items() if k not in _ORDER}
    return Pointer(kind, oid, int(values["size"]), int(values["files"]), int(values["chunks"]), profile, extra)


def load(path: str | os.PathLike[str], display: str | None = None) -> Pointer:
    """Read and parse the pointer file at ``path``."""
    name = display or os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 16)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise PointerError(name, None, f"cannot read: {e.strerror}") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PointerError(name, None, "is not UTF-8 text (binary or corrupted)") from e
    return parse(text, name)
