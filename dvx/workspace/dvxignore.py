"""``.dvxignore``: paths inside tracked directories that dvx does not store, with gitignore's rules.

A ``.dvxignore`` file applies to the folder it sits in and everything below
it, as a ``.gitignore`` does. The files that count for a tracked directory
``D`` are the ones in the repository root, in each folder between the root and
``D`` (the *outer* files, committed to git) and in any folder inside ``D``
(stored in the tree with the data, so every clone skips the same paths).

The decision for one path is git's (gitignore(5)): the deepest file that
has a matching pattern decides, within a file the last matching pattern
wins, ``!`` re-includes, and a path below an ignored folder stays ignored
(the walk never enters the folder). Patterns are compiled by ``pathspec``'s
``GitIgnoreSpec``, the implementation DVC and black use; a property test
checks the decisions against ``git`` itself (tests/property/test_dvxignore_vs_git.py).
"""

from __future__ import annotations

import errno
import os
import re
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dvx.errors import ConfigError

if TYPE_CHECKING:
    import pathspec

NAME = ".dvxignore"
BNAME = os.fsencode(NAME)
# An honest .dvxignore is a few lines; a hostile one is not read whole.
MAX_BYTES = 1 << 20

Rule = tuple[bool, "re.Pattern[str]", "re.Pattern[str]"]  # (ignores, regex, the regex anchored at the end)


@dataclass(frozen=True)
class _Spec:
    """One ``.dvxignore`` file's patterns, placed relative to the walk's top.

    A path ``r`` below the top (``/``-separated) is shown to the patterns as
    ``prefix + r[len(base) + 1:]``: ``base`` is the file's folder inside the
    tree (``""`` for an outer file), ``prefix`` the way from an outer file's
    folder down to the top (``"images/"`` for ``data/.dvxignore`` and the
    tree ``data/images``).
    """

    base: str
    prefix: str
    rules: tuple[Rule, ...]


def _load(path: Path | bytes, shown: str) -> pathspec.GitIgnoreSpec | None:
    """The patterns of the ``.dvxignore`` at ``path``; None when it does not exist or has none."""
    raw = _read(path, shown)
    return None if raw is None else _compile(raw, shown)


def _read(path: Path | bytes, shown: str) -> bytes | None:
    """The bytes of the ``.dvxignore`` at ``path``; None when there is no such regular file."""
    try:
        # Never through a symbolic link: it could name any file on the machine.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ConfigError(f"{shown}: is a symbolic link; dvx reads only a regular .dvxignore file",
                              "replace the link with a copy of the file") from e
        raise ConfigError(f"{shown}: cannot read: {e.strerror or e}", "fix the file's permissions") from e
    with os.fdopen(fd, "rb") as f:
        if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
            return None  # a folder or a device named .dvxignore holds no patterns
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{shown}: is larger than {MAX_BYTES >> 20} MiB; not an ignore file", "fix the file by hand")
    return raw


def _compile(raw: bytes, shown: str) -> pathspec.GitIgnoreSpec | None:
    # Names on disk are bytes; surrogateescape maps them and the patterns alike.
    import pathspec  # only when a .dvxignore exists: 15-45 ms that status and the hooks need not pay

    lines = [_fix(x) for x in raw.decode("utf-8", "surrogateescape").split("\n")]
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError) as e:
        lineno = next((i for i, line in enumerate(lines, 1) if _bad(line)), None)
        where = f"{shown}:{lineno}" if lineno else shown
        raise ConfigError(f"{where}: not a gitignore pattern: {e}", "fix the file by hand") from e
    return spec if spec.patterns else None


def _fix(line: str) -> str:
    """``X/**/`` as git reads it: the folders *inside* X. pathspec lets the ``**`` match no folder and
    so X itself; ``X/**/*/`` says the same thing to both."""
    body = line.rstrip(" ")
    if body.endswith("/**/") and len(body) > 4 and not body.endswith("\\/**/"):
        return body[:-1] + "/*/"
    return line


def _bad(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except (ValueError, TypeError):
        return True
    return False


@dataclass
class Ignore:
    """The ``.dvxignore`` rules in force while walking one tracked directory.

    ``Ignore()`` has no outer rules: only the files inside the walked tree
    count. ``Ignore.outer`` adds the repository's files above the tree.
    """

    specs: list[_Spec] = field(default_factory=list)
    salt: bytes = b""  # the outer files' bytes: a change to them changes the tree's stat signature

    @classmethod
    def outer(cls, root: Path, rel: str) -> Ignore:
        """The rules of the ``.dvxignore`` files in ``root`` and each folder above tracked path ``rel``."""
        specs: list[_Spec] = []
        salt: list[bytes] = []
        parts = rel.split("/")
        for i in range(len(parts)):
            folder = "/".join(parts[:i])
            shown = f"{folder}/{NAME}" if folder else NAME
            raw = _read(root / shown, shown)
            spec = None if raw is None else _compile(raw, shown)
            if raw is None or spec is None:
                continue
            salt.append(shown.encode("utf-8", "surrogateescape") + b"\0" + raw + b"\0")
            specs.append(_Spec("", "/".join(parts[i:]) + "/", _rules(spec)))
        return cls(specs, b"".join(salt))

    def ignores_top(self) -> bool:
        """Whether the outer rules ignore the tracked directory itself or a folder above it."""
        for s in self.specs:
            parts = s.prefix.rstrip("/").split("/")
            for i in range(1, len(parts) + 1):  # each folder on the way down, as the walk would meet it
                if _decide(s.rules, "/".join(parts[:i]), True):
                    return True
        return False

    def enter(self, top: bytes, rel: bytes) -> bool:
        """Take in the ``.dvxignore`` of the folder ``rel`` below ``top``; whether any rule is in force
        (so the walk can skip the checks when none is)."""
        path = top + b"/" + rel + b"/" + BNAME if rel else top + b"/" + BNAME
        spec = _load(path, os.fsdecode(path))
        if spec is not None:
            self.specs.append(_Spec(os.fsdecode(rel), "", _rules(spec)))
        return bool(self.specs)

    def ignored(self, rel: bytes, is_dir: bool) -> bool:
        """Whether the entry ``rel`` (below the top, ``/``-separated) is ignored.

        The folders above ``rel`` were not ignored (the walk does not enter
        ignored folders), so only ``rel``'s own name is decided here.
        """
        r = os.fsdecode(rel)
        # Deepest file first: inner files were appended as the walk went down,
        # but a sibling folder's file must not count, hence the base check.
        for s in reversed(self.specs):
            if s.base:
                if not r.startswith(s.base + "/"):
                    continue
                p = r[len(s.base) + 1:]
            else:
                p = s.prefix + r
            decided = _decide(s.rules, p, is_dir)
            if decided is not None:
                return decided
        return False


# pathspec compiles each pattern to a regex that it *searches* a path with: it
# matches the path or any folder above it (a match through a folder sets this
# group at the "/" after that folder), and a trailing "/**" compiles to a bare
# prefix. The walk decides each folder before it enters it, so only matches of
# the path itself count here (gitignore(5): "it is not possible to re-include
# a file if a parent directory of that file is excluded").
_DIR_MARK = "ps_d"



def _rules(spec: pathspec.GitIgnoreSpec) -> tuple[Rule, ...]:
    """The patterns of ``spec`` that match something, last first (the last matching one wins)."""
    out: list[Rule] = []
    for pat in spec.patterns:
        regex = getattr(pat, "regex", None)
        if pat.include is None or regex is None:
            continue
        out.append((bool(pat.include), regex, re.compile(f"(?:{regex.pattern})\\Z", regex.flags)))
    return tuple(reversed(out))


def _decide(rules: tuple[Rule, ...], p: str, is_dir: bool) -> bool | None:
    """True (ignored), False (re-included by ``!``) or None (no pattern matches ``p`` itself)."""
    for ignores, regex, at_end in rules:
        m = regex.search(p)
        if m is not None and m.groupdict().get(_DIR_MARK) is None:
            return ignores  # the path itself (or, for "x/**", anything below x)
        if at_end.search(p) is not None:
            return ignores
        # a folder-only pattern ("cache/", "*/") meets the folder through the mark at its end
        if is_dir:
            m = at_end.search(p + "/")
            if m is not None and m.groupdict().get(_DIR_MARK) is not None:
                return ignores
    return None
