"""``Workspace``: paths, configuration and caches of one repository."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dvx._fsutil import atomic_write, is_within, remove_stale_in
from dvx._paths import path_problem
from dvx._tomledit import dumps_toml
from dvx.chunking import ChunkerParams
from dvx.config import DEFAULTS, REPO_FORMAT, Config
from dvx.errors import (
    ConfigError,
    FormatVersionError,
    NotARepoError,
    UnsafePathError,
    UsageError,
    WorkspaceWriteError,
)
from dvx.workspace.lock import cache_lock, repo_lock
from dvx.workspace.statcache import StatCache

if TYPE_CHECKING:
    from dvx.store.store import ObjectStore

DVX_DIR = ".dvx"
_GITIGNORE = "# dvx: the object cache and temporary files stay out of git\n/cache/\n/tmp/\n/config.local\n"


def find_git_root(start: str | os.PathLike[str]) -> Path | None:
    """The nearest enclosing directory holding ``.git`` (a dir or a worktree file)."""
    p = Path(start).absolute()
    for d in (p, *p.parents):
        if (d / ".git").exists():
            return d
    return None


def init_workspace(start: str | os.PathLike[str] = ".", force: bool = False, subdir: bool = False) -> Workspace:
    """Create ``.dvx/`` (config, cache, tmp, .gitignore) and ``expectations/`` at the git root
    (with ``subdir``: in ``start`` itself, a project inside a larger work tree, as DVC's ``--subdir``)."""
    git_root = find_git_root(start)
    if git_root is None:
        raise NotARepoError(f"{Path(start).absolute()}: not inside a git work tree", "run `git init` first")
    root = Path(os.path.normpath(Path(start).absolute())) if subdir else git_root
    if subdir:
        why = path_problem(root.relative_to(git_root).as_posix()) if root != git_root else None
        if why is not None:
            raise UnsafePathError(f"{root}: {why}")
    dvx_dir = root / DVX_DIR
    if (dvx_dir / "config").exists() and not force:
        raise UsageError(f"{dvx_dir}: dvx is already initialised here", "use `dvx init --force` to rewrite the defaults")
    for sub in ("cache", "tmp"):
        (dvx_dir / sub).mkdir(parents=True, exist_ok=True)
    atomic_write(dvx_dir / "config", dumps_toml(DEFAULTS).encode())
    from dvx.store.marker import write_marker

    write_marker(None, True, str(dvx_dir / "cache"))
    atomic_write(dvx_dir / ".gitignore", _GITIGNORE.encode())
    (root / "expectations").mkdir(exist_ok=True)
    keep = root / "expectations" / ".gitkeep"
    if not any((root / "expectations").iterdir()):
        keep.touch()
    return Workspace(root)


def check_cache_folder(c: Path, where: str) -> bool:
    """Whether ``c`` is a dvx cache (True) or absent or empty (False, may be made one); ConfigError naming
    ``where`` (the config line) for anything else: dvx never writes into a folder of the user's."""
    from dvx.store.marker import check_marker

    if c.exists() and not c.is_dir():
        raise ConfigError(f"{where}: [cache] dir = {str(c)!r}: not a folder", "fix the file by hand")
    if check_marker(None, True, str(c), str(c)):
        return True
    if c.is_dir() and any(os.scandir(c)):
        raise ConfigError(f"{where}: [cache] dir = {str(c)!r} holds files but is not a dvx cache (no dvx-store "
                          "file): dvx will not write into it", "point it at an empty or new folder")
    return False


def _remove_dead_gate_copies(tmp_dir: Path) -> list[str]:
    """``gate-<id>-<pid>`` folders (gate.data_path) whose process is gone."""
    out: list[str] = []
    try:
        it = [e for e in os.scandir(tmp_dir) if e.name.startswith("gate-") and e.is_dir(follow_symlinks=False)]
    except OSError:
        return out
    for e in it:
        pid = e.name.rpartition("-")[2]
        if not pid.isascii() or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive (or a reused pid: kept until it is gone)
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, ValueError):
            continue
        shutil.rmtree(e.path, ignore_errors=True)
        out.append(e.path)
    return out


class Workspace:
    """One git work tree with an initialised ``.dvx`` directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        self.dvx_dir = self.root / DVX_DIR
        if not (self.dvx_dir / "config").is_file():
            raise NotARepoError(f"{self.root}: dvx is not initialised here", "run `dvx init`")
        self._private_checked = False

    @classmethod
    def find(cls, start: str | os.PathLike[str] = ".") -> Workspace:
        """The workspace enclosing ``start`` (walks up to the git root)."""
        p = Path(start).absolute()
        for d in (p, *p.parents):
            if (d / DVX_DIR / "config").is_file():
                return cls(d)
            if (d / ".git").exists():
                break
        if find_git_root(p) is None:
            raise NotARepoError(f"{p}: not inside a git work tree", "run `git init` and `dvx init`")
        raise NotARepoError(f"{p}: dvx is not initialised in this repository", "run `dvx init`")

    @cached_property
    def config(self) -> Config:
        cfg = Config(self.dvx_dir)
        for data in (cfg.local_data, cfg.repo_data):
            core = data.get("core")
            fmt = core.get("format") if isinstance(core, dict) else None
            if fmt is not None and fmt != REPO_FORMAT:
                raise FormatVersionError(
                    f"{cfg.where('core', 'format')}: [core] format = {fmt}, this dvx reads format {REPO_FORMAT}",
                    "upgrade dvx" if fmt > REPO_FORMAT else f"set it back to {REPO_FORMAT}",
                )
        return cfg

    @cached_property
    def chunker(self) -> ChunkerParams:
        try:
            return ChunkerParams.from_config(self.config.section("chunking"))
        except (ValueError, TypeError) as e:
            raise ConfigError(
                f"{self.dvx_dir / 'config'}: [chunking] {e}",
                "the chunking parameters are fixed when a repository is created: restore them",
            ) from e

    @cached_property
    def cache_dir(self) -> Path:
        """The object cache: ``[cache] dir`` (relative to the work tree's root, ``~`` expanded) or ``.dvx/cache``."""
        d = self.config.get("cache", "dir")
        if not d:
            return self.dvx_dir / "cache"
        p = Path(os.path.expanduser(d))
        return Path(os.path.realpath(p if p.is_absolute() else self.root / p))

    @property
    def side_dir(self) -> Path:
        """``.dvx/cache``: this work tree's validation results, drift reports and profiles (never shared)."""
        return self.dvx_dir / "cache"

    @property
    def shared_cache(self) -> bool:
        """Whether ``[cache] dir`` points the object cache elsewhere (maybe at a cache other projects use)."""
        return bool(self.config.get("cache", "dir"))

    @property
    def group_shared(self) -> bool:
        """``[cache] shared = "group"``."""
        from dvx.workspace.perms import GROUP

        return bool(self.config.get("cache", "shared") == GROUP)

    @property
    def clones(self) -> bool:
        """Whether checkout may clone file ranges from the cache (``[cache] type``: "auto", the default;
        "copy" never clones)."""
        return bool(self.config.get("cache", "type", "auto") != "copy")

    def shown_cache(self) -> str:
        """The cache folder as the user should read it."""
        return self.display(str(self.cache_dir.relative_to(self.root))) if self.cache_dir.is_relative_to(self.root) \
            else str(self.cache_dir)

    def _open_cache_dir(self) -> None:
        """Check (and on first use create) a configured cache folder; apply ``[cache] shared``; register
        this work tree in ``<cache>/projects/``.

        ``[cache] dir`` comes from a file a repository can commit: a folder that
        exists, holds something and is not a dvx cache (no ``dvx-store`` file)
        is refused, so a cloned repository cannot make dvx write into, or gc
        sweep, an arbitrary folder of the user's.
        """
        from dvx.store.marker import write_marker
        from dvx.workspace import perms
        from dvx.workspace.projects import register

        c = self.cache_dir
        if self.group_shared:
            perms.open_up_umask()
        if self.shared_cache:
            try:
                if not check_cache_folder(c, self.config.where("cache", "dir")):
                    c.mkdir(parents=True, exist_ok=True)
                    write_marker(None, True, str(c))
            except OSError as e:
                raise WorkspaceWriteError.from_os_error(e, str(c)) from e
        if self.group_shared:
            perms.fix_dir(c)
        register(c, self.root)

    @property
    def tmp_dir(self) -> Path:
        return self.dvx_dir / "tmp"

    def check_private_dirs(self) -> None:
        """UnsafePathError when ``.dvx`` or a folder in its cache or tmp is a symbolic link.

        A repository can commit ``.dvx/cache -> ../../elsewhere``; every write
        to the cache would then land outside the work tree. Only folders are
        looked at (d_type from one listing per folder, no stat per file).
        """
        if self._private_checked:
            return
        bad: str | None = None
        if os.path.islink(self.dvx_dir):
            bad = DVX_DIR
        # A configured cache (already resolved: the user chose where it is) is walked below its root.
        stack = [self.cache_dir, self.tmp_dir] + ([self.side_dir] if self.shared_cache else [])
        while stack and bad is None:
            d = stack.pop()
            if os.path.islink(d):
                bad = os.path.relpath(d, self.root)
                break
            try:
                entries = list(os.scandir(d))
            except OSError:
                continue
            for e in entries:
                if e.is_symlink():
                    bad = os.path.relpath(e.path, self.root)
                    break
                if e.is_dir(follow_symlinks=False):
                    stack.append(Path(e.path))
        if bad is not None:
            shown = self.display(bad)
            raise UnsafePathError(
                f"{shown}: is a symbolic link inside dvx's own folder; dvx would write through it, so it "
                "stops here (a repository can commit such a link)",
                f"remove it (`rm {shown}`) and run the command again",
            )
        self._private_checked = True

    @cached_property
    def cache(self) -> ObjectStore:
        """The local object cache (its index is read on first use; fsspec is not imported)."""
        self.check_private_dirs()
        self._open_cache_dir()
        from dvx.store.store import ObjectStore

        compression = self.config.get("cache", "compression", "zstd") or None
        if compression == "none":
            compression = None
        fsync = bool(self.config.get("cache", "fsync", True))
        store = ObjectStore(
            None, str(self.cache_dir), compression=compression, fsync=fsync,
            max_chunk=self.chunker.max_size,
        )
        if self.clones:
            from dvx.store.clone import enable

            enable(store)  # the first clone or writer asks the file system (dvx.store.clone.probe)
        return store

    def cache_has(self, oid: bytes) -> bool:
        """Whether the local cache's index names ``oid`` (verified index files only).

        The store answers the first few questions by binary search in each
        index file, so ``status`` never builds the whole id map.
        """
        return self.cache.has(oid)

    @cached_property
    def statcache(self) -> StatCache:
        self.check_private_dirs()
        return StatCache(self.tmp_dir / "statcache")

    @contextlib.contextmanager
    def lock(self, quiet: bool = False, exclusive_cache: bool = False) -> Iterator[None]:
        """Exclusive repository lock for commands that write, and the cache lock: shared, or with
        ``exclusive_cache`` (gc) exclusive, so no project sharing the cache writes to it meanwhile.

        The holder first removes what killed dvx processes left in ``.dvx``
        (temp files no live writer holds, gate copies of dead processes).
        """
        self.check_private_dirs()
        with repo_lock(self.tmp_dir / "lock", quiet=quiet):
            self.cache  # noqa: B018 - opens (and checks, creates, registers) the cache folder first
            with cache_lock(self.cache_dir / "lock", exclusive=exclusive_cache, quiet=quiet, group=self.group_shared):
                self.remove_debris()
                yield

    def remove_debris(self) -> list[str]:
        """Remove stale dvx temp files under ``.dvx`` (not the work tree); their paths."""
        c = self.cache_dir
        folders: list[str | Path] = [self.dvx_dir, self.tmp_dir, c, c / "tmp", c / "index"]
        with contextlib.suppress(OSError):
            folders += [e.path for e in os.scandir(c / "remote-index") if e.is_dir(follow_symlinks=False)]
        out = remove_stale_in(folders)
        out += _remove_dead_gate_copies(self.tmp_dir)
        return out

    # Paths -----------------------------------------------------------------

    def relpath(self, path: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None) -> str:
        """Repo-relative '/'-separated path of a user-given path; UsageError outside the repo."""
        base = Path(cwd) if cwd is not None else Path.cwd()
        p = Path(path)
        ap = Path(os.path.normpath(p if p.is_absolute() else base / p))
        if not is_within(ap, self.root) or ap == self.root:
            raise UsageError(f"{path}: outside the repository {self.root}", "give a path inside the repository")
        rel = ap.relative_to(self.root).as_posix()
        why = path_problem(rel)
        if why is not None:
            raise UnsafePathError(f"{path}: {why}")
        return rel

    def abspath(self, rel: str) -> Path:
        return self.root / rel

    def display(self, rel: str) -> str:
        """A path as the user should read it (relative to the current directory)."""
        try:
            return os.path.relpath(self.root / rel)
        except ValueError:
            return rel

    def tracked_rel(self, path: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None) -> str:
        """Repo-relative path of a user argument naming data or its pointer (``x`` or ``x.dvx``)."""
        from dvx.workspace.pointer import SUFFIX

        rel = self.relpath(path, cwd).rstrip("/")
        return rel[: -len(SUFFIX)] if rel.endswith(SUFFIX) else rel

    def resolve_tracked(self, paths: list[str] | tuple[str, ...] | None, cwd: str | os.PathLike[str] | None = None) -> list[str]:
        """Tracked paths for user arguments; all when empty. A folder holding
        tracked paths selects them; a path inside a tracked directory, or
        anything else untracked, is a UsageError (``targets.resolve_targets``)."""
        from dvx.workspace.targets import resolve_targets, whole_paths

        return list(dict.fromkeys(whole_paths(self, resolve_targets(self, paths, cwd))))

    def find_pointers(self) -> list[str]:
        """Every ``*.dvx`` pointer file in the work tree (repo-relative), sorted.

        Walks the tree without entering ``.git``, ``.dvx``, tracked data
        directories (``D`` beside ``D.dvx``), symbolic links or common tool
        folders. UnsafePathError when a pointer names a path dvx must not
        write (``.git.dvx``, ``...dvx``; ``pointer.check_tracked``): every
        command that works on all tracked paths stops before writing.
        """
        from dvx.workspace.pointer import check_tracked, tracked_path

        out: list[str] = []
        skip = {".git", DVX_DIR, "node_modules", "__pycache__", ".venv", "venv"}
        stack = [""]
        while stack:
            rel = stack.pop()
            base = self.root / rel if rel else self.root
            try:
                entries = list(os.scandir(base))
            except OSError:
                continue
            names = {e.name for e in entries}
            for e in entries:
                r = f"{rel}/{e.name}" if rel else e.name
                if e.name.endswith(".dvx") and e.is_file(follow_symlinks=False):
                    out.append(r)
                elif e.is_dir(follow_symlinks=False) and e.name not in skip and e.name + ".dvx" not in names \
                        and not os.path.isfile(os.path.join(e.path, DVX_DIR, "config")):  # another project's (--subdir)
                    stack.append(r)
        out.sort()
        for pp in out:
            check_tracked(tracked_path(pp), self.display(pp))
        return out
