"""A source repository: a bare temporary clone of a git URL, one commit of it, its pointers and its remote.

Nothing is written to the source: it is cloned bare (``git clone --bare``:
no work tree, no hooks run) into a temporary folder removed when the
command ends. Pointer files and ``.dvx/config`` are read from git objects
at the commit, never from a work tree, and both are hostile until checked
(docs/imports.md, "What is trusted").
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx import scm
from dvx.errors import ConfigError, DvxError, RemoteConfigError, UsageError
from dvx.versions.pointers import Pointers
from dvx.versions.tree import GitTree
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.remote import Remote

# "scheme://..." or scp-like "user@host:path": not a local path.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[\w.-]+@[\w.-]+:")
CONFIG = ".dvx/config"
_CONFIG_MAX = 1 << 20  # a config is a few hundred bytes
# fsspec protocols a source's remote may use: object stores and the like. Others (memory://,
# chained caches, zip, http) are refused: the URL comes from someone else's repository.
PROTOCOLS = frozenset({"file", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss", "hf", "ssh", "sftp", "webdav"})
# Remote keys taken from a source's config (anything else, secrets included, is ignored): where
# the data is and how to reach it; credentials come from this machine (environment, profiles).
_STR_KEYS = frozenset({"endpoint_url", "region", "profile", "compression"})
_BOOL_KEYS = frozenset({"anon", "use_ssl", "verify"})
_INT_KEYS = {"jobs": 16, "connect_timeout": 120, "read_timeout": 600, "retries": 10}  # key -> largest value taken


def norm_path(path: str) -> str:
    """``path`` of a source repository as a "/"-separated path from its root ("" for the root);
    UsageError when it leads out of it."""
    p = posixpath.normpath(path.replace(os.sep, "/")).strip("/") if path else ""
    if p == ".." or p.startswith("../"):
        raise UsageError(f"{path}: outside the source repository", "give a path relative to its root")
    return "" if p == "." else p


def is_local(url: str) -> bool:
    """True for a path or ``file://`` URL (the source is on this machine)."""
    return url.startswith("file://") or not _URL.match(url)


def local_dir(url: str, base: Path) -> Path | None:
    """The folder of a local source (a relative path is taken from ``base``); None for a network URL."""
    if url.startswith("file://"):
        folder = Path(url[len("file://"):])
    elif _URL.match(url):
        return None
    else:
        folder = Path(os.path.normpath(base / url))
    # `repo/.git` names the repository whose folder is `repo` (where its relative remotes start).
    return folder.parent if folder.name == ".git" else folder


@dataclass
class RemoteChoice:
    """The source's default remote as its committed config names it (checked)."""

    name: str
    url: str
    options: dict[str, Any]


class SourceRepo:
    """One commit of a cloned source repository."""

    def __init__(self, url: str, rev: str | None, clone: Path, sha: str, folder: Path | None) -> None:
        self.url = url
        self.rev = rev
        self.clone = clone
        self.sha = sha
        self.folder = folder  # the source's own folder when it is on this machine
        self.label = f"{url}@{rev}" if rev else url
        self.pointers = Pointers(clone, self.label, sha)

    @property
    def tree(self) -> GitTree:
        return self.pointers.git_tree

    def describe(self, path: str) -> str:
        """``path in URL@REV (3f2a1b9)`` for messages."""
        return f"{path or '.'} in {self.label} ({self.sha[:7]})"

    def not_found(self, path: str) -> UsageError:
        return UsageError(f"{self.describe(path)}: not there (neither tracked by dvx nor by git)",
                          "paths are relative to the source repository's root; check the path and --rev")

    def pointer(self, tracked: str) -> ptr.Pointer:
        """The pointer of ``tracked``; PointerError (exit 2) naming ``URL@REV:PATH.dvx`` when it is broken."""
        p = self.pointers.get(tracked)
        if p is None:
            raise self.not_found(tracked)
        return p

    def tracked_at_or_above(self, path: str) -> str | None:
        """The tracked path ``path`` is or lies below, if any."""
        if self.pointers.is_tracked(path):
            return path
        return self.pointers.tracked_ancestor(path)

    # ------------------------------------------------------------------ remote
    def remote_choice(self) -> RemoteChoice:
        """The default remote of the source's ``.dvx/config`` at this commit, checked (docs/imports.md)."""
        where = f"{self.label}:{CONFIG}"
        hit = self.tree.files.get(CONFIG)
        if hit is None:
            raise RemoteConfigError(f"{self.describe('')}: has no {CONFIG}: it is not a dvx repository")
        if hit[1] > _CONFIG_MAX:
            raise ConfigError(f"{where}: is larger than {_CONFIG_MAX} bytes; not a configuration file")
        from dvx._textfile import decode_utf8, parse_toml

        def error(what: str, line: int | None) -> DvxError:
            return ConfigError(f"{where}:{line}: {what}" if line is not None else f"{where}: {what}")

        raw = scm.read_objects(self.clone, [hit[0]])[0]
        data = parse_toml(decode_utf8(raw[1] if raw else b"", error), error)
        core = data.get("core", {})
        name = core.get("remote") if isinstance(core, dict) else None
        remotes = data.get("remote", {})
        if name is None:
            raise RemoteConfigError(
                f"{where}: names no default remote ([core] remote), so the data it tracks cannot be fetched",
                "in the source repository, `dvx remote add -d NAME URL`, `dvx push`, then commit .dvx/config",
            )
        spec = remotes.get(name) if isinstance(remotes, dict) and isinstance(name, str) else None
        if not isinstance(spec, dict):
            raise RemoteConfigError(f"{where}: the default remote {str(name)[:80]!r} is not configured there")
        url = spec.get("url")
        if not isinstance(url, str) or not url or url != url.strip():
            raise RemoteConfigError(f"{where}: remote {name!r} has no valid url")
        proto = url.partition("://")[0].lower() if "://" in url else "file"
        if proto not in PROTOCOLS:
            raise RemoteConfigError(f"{where}: remote {name!r} uses {proto}://, which dvx does not read from "
                                    f"another repository's config (it reads {', '.join(sorted(PROTOCOLS))})")
        if proto == "file" and self.folder is None:
            raise RemoteConfigError(f"{where}: remote {name!r} is the folder {url[:200]!r}, on the source's machine "
                                    "(a folder remote is read only when the source itself is a local path)")
        return RemoteChoice(name, url, _options(where, name, spec))

    def open_remote(self, max_chunk: int) -> Remote:
        """The source's default remote; a folder path is taken relative to the source's own folder."""
        from dvx.remote import open_url

        choice = self.remote_choice()
        base = self.folder if self.folder is not None else Path.cwd()
        return open_url(choice.url, choice.options, name=choice.name, base_dir=base, max_chunk=max_chunk)


def _options(where: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The keys dvx takes from a source's remote table, each of the right type (ConfigError otherwise)."""
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key in _STR_KEYS:
            ok = isinstance(value, str) and len(value) <= 4096
        elif key in _BOOL_KEYS:
            ok = isinstance(value, bool)
        elif key in _INT_KEYS:
            ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _INT_KEYS[key]
            ok = ok and (value >= 1 or key == "retries")
        else:
            continue  # not ours to take from someone else's repository
        if not ok:
            raise ConfigError(f"{where}: remote {name!r}: {key} = {value!r:.80} is not a valid value")
        out[key] = value
    return out


class Sources:
    """The clones one command makes (one per URL), removed when it ends."""

    def __init__(self, base: Path) -> None:
        self.base = base  # local relative URLs are taken from here
        self._tmp: str | None = None
        self._clones: dict[str, tuple[Path, Path | None]] = {}

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _clone(self, url: str) -> tuple[Path, Path | None]:
        hit = self._clones.get(url)
        if hit is not None:
            return hit
        if url.startswith("-"):
            raise UsageError(f"{url}: not a repository URL")
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="dvx-source-")
        folder = local_dir(url, self.base)
        dest = os.path.join(self._tmp, f"{len(self._clones)}.git")
        scm.clone_bare(str(folder) if folder is not None else url, dest)
        self._clones[url] = (Path(dest), folder)
        return self._clones[url]

    def open(self, url: str, rev: str | None) -> SourceRepo:
        """The source at ``rev`` (None: its HEAD, the default branch)."""
        clone, folder = self._clone(url)
        try:
            sha = scm.resolve_rev(clone, rev or "HEAD")
        except UsageError:
            raise UsageError(f"{rev or 'HEAD'}: unknown revision in {url}",
                             "give a branch, tag or commit of the source repository") from None
        return SourceRepo(url, rev, clone, sha, folder)


@contextlib.contextmanager
def open_source(url: str, rev: str | None, base: Path | None = None) -> Iterator[SourceRepo]:
    """One source at ``rev``, its clone removed on exit."""
    with Sources(base or Path.cwd()) as s:
        yield s.open(url, rev)
