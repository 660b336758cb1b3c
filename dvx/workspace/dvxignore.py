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
checks the decisions against ``git`` itself (tests/property/test_dvxignore.py).
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from dvx.errors import ConfigError

NAME = ".dvxignore"
BNAME = os.fsencode(NAME)
# An honest .dvxignore is a few lines; a hostile one is not read whole.
MAX_BYTES = 1 << 20


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
    spec: pathspec.GitIgnoreSpec


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
    lines = raw.decode("utf-8", "surrogateescape").split("\n")
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError) as e:
        lineno = next((i for i, line in enumerate(lines, 1) if _bad(line)), None)
        where = f"{shown}:{lineno}" if lineno else shown
        raise ConfigError(f"{where}: not a gitignore pattern: {e}", "fix the file by hand") from e
    return spec if spec.patterns else None


def _bad(line: str) -> bool:
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
            specs.append(_Spec("", "/".join(parts[i:]) + "/", spec))
        return cls(specs, b"".join(salt))

    def ignores_top(self) -> bool:
        """Whether the outer rules ignore the tracked directory itself (or a folder above it)."""
        for s in reversed(self.specs):
            r = s.spec.check_file(s.prefix)  # the tracked directory seen from the file's folder, as a folder
            if r.include is not None:
                return bool(r.include)
        return False

    def enter(self, top: bytes, rel: bytes) -> bool:
        """Take in the ``.dvxignore`` of the folder ``rel`` below ``top``; whether any rule is in force
        (so the walk can skip the checks when none is)."""
        path = top + b"/" + rel + b"/" + BNAME if rel else top + b"/" + BNAME
        spec = _load(path, os.fsdecode(path))
        if spec is not None:
            self.specs.append(_Spec(os.fsdecode(rel), "", spec))
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
            res = s.spec.check_file(p + "/" if is_dir else p)
            if res.include is not None:
                return bool(res.include)
        return False
