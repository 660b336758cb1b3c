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
    external: s3://bucket/prefix   (optional: data tracked where it lives, `dvx add --external`)
    source-url: ../shared-data     (optional, with the next three: an imported path)
    source-rev: v1.0
    source-commit: 3f2a...40 hex digits...
    source-path: data/train.parquet

Parsing is strict and speaks like packaging's parsers: ``file:line: what``.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from dvx._paths import path_problem
from dvx.errors import PointerError, UnsafePathError
from dvx.hashing import is_oid

FORMAT = 1
SUFFIX = ".dvx"
KINDS = ("file", "dir")
_ORDER = ("format", "type", "id", "size", "files", "chunks", "profile", "external")
# An imported path (`dvx import`): where it came from. `source-rev` is optional
# (absent: the source's default branch); the other three come together.
_SOURCE_KEYS = ("source-url", "source-rev", "source-commit", "source-path")
_SOURCE_REQUIRED = ("source-url", "source-commit", "source-path")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REQUIRED = ("format", "type", "id", "size", "files", "chunks")
_INTS = ("format", "size", "files", "chunks")
# A pointer is about 250 bytes; anything past 64 KiB is not one.
MAX_BYTES = 1 << 16
_CONFLICT = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")
# ASCII digits only: str.isdigit accepts "²" and other Unicode digits that
# int() then rejects, and int() accepts "_", signs and spaces. Values must
# also fit in 63 bits (file sizes and offsets are signed 64-bit everywhere).
_UINT = re.compile(r"[0-9]{1,19}")
_UINT_MAX = (1 << 63) - 1
_KEY = re.compile(r"[a-z][a-z0-9_-]{0,63}")


def _show(value: str) -> str:
    """``repr`` of a value quoted in an error, cut so a hostile line stays one short line."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


def source_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be written as a pointer value (it would not read back as itself), or None."""
    if not value:
        return "is empty"
    if value != value.strip():
        return "starts or ends with white space"
    if any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return "holds a control character"
    if len(value) > 4096:
        return "is longer than 4096 characters"
    return None


@dataclass(frozen=True)
class Source:
    """Where an imported path came from: a git URL, the revision asked for (None: the default
    branch), the commit it resolved to, and the path in that repository."""

    url: str
    rev: str | None
    commit: str
    path: str

    def lines(self) -> list[str]:
        """The pointer lines, in their fixed order."""
        out = [f"source-url: {self.url}"]
        if self.rev is not None:
            out.append(f"source-rev: {self.rev}")
        return [*out, f"source-commit: {self.commit}", f"source-path: {self.path}"]

    def to_json(self) -> dict[str, str | None]:
        return {"url": self.url, "rev": self.rev, "commit": self.commit, "path": self.path}


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
    source: Source | None = None  # set for a path `dvx import` wrote
    external: str | None = None  # the object-store URL `dvx add --external` chunked the data from

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
        if self.external:
            lines.append(f"external: {self.external}")
        if self.source is not None:
            lines.extend(self.source.lines())
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
    # Lines are split on "\n" only, so line numbers match git, grep and editors
    # (str.splitlines also splits on \x0b, \x1c, \u2028 and others).
    for lineno, raw in enumerate(text.split("\n"), 1):
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
            raise PointerError(source, lineno, f"expected 'key: value', got {_show(raw.strip())}")
        if key in values:
            raise PointerError(source, lineno, f"duplicate key {_show(key)}")
        if key not in _ORDER and key not in _SOURCE_KEYS and not _KEY.fullmatch(key):
            # Unknown keys are kept (a newer dvx may add some) but must be well formed.
            raise PointerError(source, lineno, f"invalid key {_show(key)} (letters, digits, '_' and '-')")
        values[key] = value
        lines_of[key] = lineno
    for key in _REQUIRED:
        if key not in values:
            where = last if last else None
            what = "is empty" if not values else f"missing '{key}'"
            raise PointerError(source, where, f"{what} (truncated or hand-edited?)")
    for key in _INTS:
        v = values[key]
        if not _UINT.fullmatch(v) or int(v) > _UINT_MAX:
            raise PointerError(source, lines_of[key], f"'{key}' must be a non-negative integer below 2**63, got {_show(v)}")
    fmt = int(values["format"])
    if fmt != FORMAT:
        raise PointerError(source, lines_of["format"], f"pointer format {fmt} is not supported (this dvx reads format {FORMAT})", "upgrade dvx")
    kind = values["type"]
    if kind not in KINDS:
        raise PointerError(source, lines_of["type"], f"'type' must be one of {', '.join(KINDS)}, got {_show(kind)}")
    oid = values["id"]
    if not is_oid(oid):
        raise PointerError(source, lines_of["id"], f"'id' must be 32 lowercase hex digits, got {_show(oid)}")
    profile = values.get("profile") or None
    if profile is not None and not is_oid(profile):
        raise PointerError(source, lines_of["profile"], f"'profile' must be 32 lowercase hex digits, got {_show(profile)}")
    external = values.get("external")
    if external is not None:
        why = source_value_problem(external)
        if why is not None:
            raise PointerError(source, lines_of["external"], f"'external' {why}")
    extra = {k: v for k, v in values.items() if k not in _ORDER and k not in _SOURCE_KEYS}
    origin = _parse_source(values, lines_of, source)
    return Pointer(kind, oid, int(values["size"]), int(values["files"]), int(values["chunks"]), profile, extra, origin,
                   external)


def _parse_source(values: dict[str, str], lines_of: dict[str, int], source: str) -> Source | None:
    """The ``source-*`` keys of an imported path: all of url, commit and path, or none."""
    present = [k for k in _SOURCE_KEYS if k in values]
    if not present:
        return None
    for key in _SOURCE_REQUIRED:
        if key not in values:
            raise PointerError(source, lines_of[present[0]], f"'{present[0]}' without '{key}' (truncated or hand-edited?)")
    for key in present:
        why = source_value_problem(values[key])
        if why is not None:
            raise PointerError(source, lines_of[key], f"'{key}' {why}")
    commit = values["source-commit"]
    if not _SHA.fullmatch(commit):
        raise PointerError(source, lines_of["source-commit"],
                           f"'source-commit' must be 40 or 64 lowercase hex digits, got {_show(commit)}")
    return Source(values["source-url"], values.get("source-rev"), commit, values["source-path"])


def repair_hint(pointer: str) -> str:
    """The commands that replace the broken workspace pointer file ``pointer``."""
    tracked = pointer[: -len(SUFFIX)] if pointer.endswith(SUFFIX) else pointer
    return (f"rewrite it from the data with `dvx add {shlex.quote(tracked)}`, or restore the committed one "
            f"with `git checkout -- {shlex.quote(pointer)}`")


def load(path: str | os.PathLike[str], display: str | None = None) -> Pointer:
    """Read and parse the workspace pointer file at ``path`` (``display`` names it in errors)."""
    name = display or os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise PointerError(name, None, f"cannot read: {e.strerror}", repair_hint(name)) from e
    try:
        return loads(raw, name)
    except PointerError as e:
        if e.hint is None:
            e.hint = repair_hint(name)
        raise


def loads(raw: bytes, source: str) -> Pointer:
    """Parse a pointer file's bytes: UTF-8 text of at most MAX_BYTES."""
    if len(raw) > MAX_BYTES:
        raise PointerError(source, None, f"is larger than {MAX_BYTES} bytes: not a pointer file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise PointerError(source, line, "is not UTF-8 text (binary or corrupted)") from e
    return parse(text, source)


# Git has no blob for a pointer file its tree lists: a partial or damaged clone.
MISSING_BLOB = "git has no object for this pointer file (a partial or damaged clone)"


def require_blob(raw: bytes | None, source: str) -> bytes:
    """``raw``, the bytes git gave for the pointer file ``source`` (``rev:path``) that a tree lists;
    PointerError when git had no object for it (None)."""
    if raw is None:
        raise PointerError(source, None, MISSING_BLOB)
    return raw


def loads_at(blobs: Mapping[str, bytes | None], rev: str) -> dict[str, Pointer]:
    """Parse pointer files read from git at ``rev`` (pointer path -> bytes, None where git lacks the
    blob of a path the revision lists); PointerError naming ``rev:path`` for a missing or bad one."""
    out: dict[str, Pointer] = {}
    for pp, raw in blobs.items():
        source = f"{rev}:{pp}"
        out[pp] = loads(require_blob(raw, source), source)
    return out
