"""Which repository-relative paths dvx will create: one checker for pointers and tree entries.

Modelled on git's ``verify_path`` (read-cache.c) with ``core.protectHFS`` and
``core.protectNTFS`` both on, as git does on the platforms that need them:
a path named by a pointer file or a tree entry comes from a repository or a
remote, so it is treated as hostile until checked. Refused:

- an empty path, an absolute one, a NUL byte, an empty, ``.`` or ``..``
  component; ``\\`` counts as a separator (a Windows checkout would split there);
- a component that some file system treats as ``.git`` or ``.dvx``: any case
  (``.GIT``), HFS+ ignorable code points removed (``.g\\u200cit``), NTFS
  trailing dots and spaces or an alternate stream (``.git.``, ``.git::$DATA``)
  and the 8.3 short name (``git~1``); Unicode compatibility forms and case
  folding are applied too (a superset of git's ASCII folding);
- a component over 255 bytes or a path over 4096 bytes (Linux NAME_MAX and
  PATH_MAX: such a name could never be written, and a 5,000-byte name in a
  tree is a sign of a crafted object).

Pure functions over ``str`` or ``bytes`` (``os.fsencode`` form); no I/O.
"""

from __future__ import annotations

import re
import unicodedata

MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4096
RESERVED = (".git", ".dvx")

# Code points HFS+ ignores when comparing names (git's next_hfs_char).
_HFS_IGNORABLE = dict.fromkeys(
    [0x200C, 0x200D, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)
_SEP = re.compile(r"[/\\]")
# After folding: .git/.dvx or the 8.3 short names git~1/dvx~1, then any
# trailing dots and spaces (NTFS drops them) and an optional ":stream".
_RESERVED_FOLDED = re.compile(r"(?:\.git|git~1|\.dvx|dvx~1)[. ]*(?::.*)?", re.DOTALL)
# Cheap pre-filter: a component can only fold to a reserved name if it holds
# one of these letters sequences (ASCII, any case) or a non-ASCII character.
_MAYBE_RESERVED = re.compile(r"(?i)git|dvx|[^\x00-\x7f]")
# Fast path for ASCII paths (nearly all): one search finds every component
# that could be refused (empty, ".", "..", a reserved name, over 255 bytes);
# only then are the components looked at one by one for the reason.
_ASCII_SUSPECT = re.compile(
    rb"(?:^|[/\\])(?:\.{0,2}|(?i:\.git|git~1|\.dvx|dvx~1)[. ]*(?::[^/\\]*)?)(?:[/\\]|$)|[^/\\]{%d}"
    % (MAX_COMPONENT_BYTES + 1)
)


def _fold(component: str) -> str:
    """The component as a case-insensitive, normalising file system compares it."""
    c = component.translate(_HFS_IGNORABLE)
    return unicodedata.normalize("NFKC", c).casefold()


def _component_problem(c: str) -> str | None:
    if c == "":
        return "has an empty component"
    if c in (".", ".."):
        return f"has a {c!r} component"
    n = len(c.encode("utf-8", "surrogateescape"))
    if n > MAX_COMPONENT_BYTES:
        return f"has a {n}-byte component (the limit is {MAX_COMPONENT_BYTES})"
    if not _MAYBE_RESERVED.search(c):
        return None
    folded = _fold(c)
    if folded in ("", ".", ".."):
        return f"has a component {c!r} that file systems may read as {folded or 'an empty name'!r}"
    if _RESERVED_FOLDED.fullmatch(folded):
        which = ".dvx" if "dvx" in folded else ".git"
        if c == which:
            return f"has a component {c!r}: dvx never writes into {which}"
        return f"has a component {c!r}, which file systems may treat as {which}: dvx never writes into {which}"
    return None


def path_problem(path: str | bytes) -> str | None:
    """Why ``path`` (repository-relative, "/"-separated) is unsafe to create; None when it is safe.

    The reason reads after the path: ``f"{path!r} {reason}"``.
    """
    if isinstance(path, bytes):
        raw = path
        text = path.decode("utf-8", "surrogateescape")
    else:
        text = path
        try:
            raw = path.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return "is not a valid file name (it holds a lone surrogate)"
    if not raw:
        return "is empty"
    if len(raw) > MAX_PATH_BYTES:
        return f"is {len(raw)} bytes long (the limit is {MAX_PATH_BYTES})"
    if b"\x00" in raw:
        return "contains a NUL byte"
    if raw[:1] in (b"/", b"\\"):
        return "is absolute"
    if raw.isascii() and _ASCII_SUSPECT.search(raw) is None:
        return None
    for c in _SEP.split(text):
        why = _component_problem(c)
        if why is not None:
            return why
    return None


def _plainly_safe(blob: bytes) -> bool:
    """True when the "/"-joined ASCII paths ``blob`` certainly hold no suspect component: no
    backslash, no empty component, none starting with "." and no "git"/"dvx" in any case, none
    over 255 bytes. False means "look closer" (five times faster than ``_ASCII_SUSPECT``)."""
    if b"\\" in blob or b"//" in blob or b"/." in blob or blob[:1] in (b"/", b".", b"") or blob[-1:] == b"/":
        return False
    low = blob.lower()
    return b"git" not in low and b"dvx" not in low and max(map(len, blob.split(b"/"))) <= MAX_COMPONENT_BYTES


def first_path_problem(paths: list[bytes]) -> tuple[bytes, str] | None:
    """The first of ``paths`` that ``path_problem`` refuses, with why; None when all are safe.

    One regex search over the paths joined by "/" answers for a whole tree of
    ASCII paths (a tree of 20,000 files: 4 ms instead of 45 ms one by one, ``_plainly_safe``):
    joined, every component of every path is a component of the blob, an
    empty or absolute path shows as an empty component, and only the
    per-path length and NUL checks remain. Any doubt: one by one.
    """
    try:
        blob = b"/".join(paths)
    except TypeError:
        blob = None
    if (blob is not None and blob.isascii() and b"\x00" not in blob
            and max(map(len, paths), default=0) <= MAX_PATH_BYTES
            and (_plainly_safe(blob) or _ASCII_SUSPECT.search(blob) is None)):
        return None
    for p in paths:
        why = path_problem(p)
        if why is not None:
            return p, why
    return None


def is_safe_path(path: str | bytes) -> bool:
    """True when ``path_problem(path)`` is None."""
    return path_problem(path) is None


def is_reserved_name(component: str | bytes) -> bool:
    """True when a single name is (a file system variant of) ``.git`` or ``.dvx``."""
    c = component.decode("utf-8", "surrogateescape") if isinstance(component, bytes) else component
    return bool(_MAYBE_RESERVED.search(c)) and _RESERVED_FOLDED.fullmatch(_fold(c)) is not None
