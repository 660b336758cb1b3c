"""``dvx://``: an fsspec filesystem over one repository at one revision.

Registered for the ``dvx`` protocol through the package's ``fsspec.specs``
entry point, so any fsspec-aware reader takes it::

    pandas.read_parquet("dvx://data/train.parquet", storage_options={"rev": "v1.0"})
    fsspec.filesystem("dvx", repo="/path/to/repo", rev="main").ls("data")

Paths are relative to the repository root. Tracked files and directories
(and the files inside tracked directories) are listed, stat'ed and read as
they were at the revision; files git tracks itself are served from git at
that revision (from the workspace when ``rev`` is None). Pointer files are
not listed. Reads are ranged: only the chunks covering the requested bytes
are read, fetched from the remote into the local cache when missing (see
:mod:`dvx.versions`). Modelled on ``fsspec.implementations.data``.

Instances are not cached by fsspec (``cachable = False``): a workspace view
(``rev=None``) is a snapshot taken as paths are first used; call
``invalidate_cache()`` (or make a new instance) after changing the workspace.

Instances pickle as ``(repo, rev, remote)`` only (Dask sends the filesystem of
``dask.dataframe.read_parquet("dvx://...", storage_options=...)`` to its
workers): the view, its cache and any credentials stay behind; the copy
re-opens the repository where it is unpickled (a git URL is cloned once per
process; a local path is made absolute first). Credentials come from the
unpickling process's environment or the remote's profile.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.spec import AbstractBufferedFile
from fsspec.utils import stringify_path

from dvx import versions

# fsspec's read-ahead default is 5 MiB; 1 MiB keeps what a remote-backed
# ranged reader (Parquet column chunks) over-fetches small.
DEFAULT_BLOCK_SIZE = 1 << 20


class DvxFileSystem(AbstractFileSystem):
    """Read-only view of tracked data (and git files) of ``repo`` at ``rev``.

    ``repo``: a local path inside the repository or a git URL (cloned once
    per process). ``rev``: a commit, branch or tag; None is the workspace.
    ``remote``: the remote to fetch missing chunks from (default: the
    configured default remote).
    """

    protocol = "dvx"
    root_marker = ""
    cachable = False

    def __init__(
        self, repo: str | os.PathLike[str] = ".", rev: str | None = None, remote: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.repo = os.fspath(repo)
        self.rev = rev
        self.remote = remote
        self.view = versions.open_view(self.repo, rev, remote)

    def __reduce__(self) -> tuple[Any, ...]:
        from dvx.versions.clone import is_url

        # A local path (work tree or bare repository) names the same repository only once
        # absolute: workers run in other folders.
        repo = self.repo if is_url(self.repo) else os.path.abspath(self.repo)
        return _rebuild, (repo, self.rev, self.remote)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = stringify_path(path)
        if path.startswith("dvx://"):
            path = path[len("dvx://") :]
        elif path.startswith("dvx:"):
            path = path[len("dvx:") :]
        return path.strip("/")

    def unstrip_protocol(self, name: str) -> str:
        return f"dvx://{name}"

    def _info(self, node: versions.Node) -> dict[str, Any]:
        out: dict[str, Any] = {"name": node.path, "size": node.size, "type": node.kind, "source": node.source}
        if node.oid is not None:
            out["oid"] = node.oid.hex()
        if node.blob is not None:
            out["blob"] = node.blob
        return out

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """name, size, type ("file"/"directory"), source ("dvx"/"git"/"workspace") and the object id."""
        return self._info(self.view.resolve(self._strip_protocol(path)))

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """Children of a directory (a file lists as itself); FileNotFoundError when absent."""
        nodes = self.view.ls(self._strip_protocol(path))
        if detail:
            return [self._info(n) for n in nodes]
        return [n.path for n in nodes]

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """Bytes ``[start, end)`` of a file (negative values count from the end, as in fsspec)."""
        node = self.view.resolve(self._strip_protocol(path))
        if node.kind != versions.FILE:
            raise IsADirectoryError(f"{node.path}: is a directory ({self.view.label})")
        size = node.size
        start = 0 if start is None else (max(0, size + start) if start < 0 else start)
        end = size if end is None else (max(0, size + end) if end < 0 else end)
        return self.view.read(node, start, end)

    def ukey(self, path: str) -> str:
        """The content id: FileManifest id for tracked data, blob id for git files."""
        node = self.view.resolve(self._strip_protocol(path))
        if node.oid is not None:
            return node.oid.hex()
        if node.blob is not None:
            return node.blob
        return super().ukey(path)

    def modified(self, path: str) -> datetime.datetime:
        """Commit time of the revision; for the workspace, the file's (or its pointer's) mtime."""
        node = self.view.resolve(self._strip_protocol(path))
        return datetime.datetime.fromtimestamp(self.view.mtime(node), tz=datetime.UTC)

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget the workspace snapshot (``rev=None``); views of a commit never change."""
        if self.rev is None:
            self.view = versions.open_view(self.repo, None, self.remote)
        super().invalidate_cache(path)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> DvxFile:
        if mode != "rb":
            raise PermissionError(f"dvx:// is read-only; cannot open {path} with mode {mode!r}")
        node = self.view.resolve(self._strip_protocol(path))
        if node.kind != versions.FILE:
            raise IsADirectoryError(f"{node.path}: is a directory ({self.view.label})")
        return DvxFile(
            self,
            node,
            block_size=block_size or DEFAULT_BLOCK_SIZE,
            cache_type=kwargs.pop("cache_type", "readahead"),
            cache_options=cache_options,
        )


def _rebuild(repo: str, rev: str | None, remote: str | None) -> DvxFileSystem:
    """Unpickle a DvxFileSystem: a new view of the same repository, revision and remote."""
    return DvxFileSystem(repo=repo, rev=rev, remote=remote)


class DvxFile(AbstractBufferedFile):
    """A file of a DvxFileSystem: fsspec's buffering over ranged ``cat_file``."""

    def __init__(self, fs: DvxFileSystem, node: versions.Node, **kwargs: Any) -> None:
        self.node = node
        super().__init__(fs, node.path, mode="rb", size=node.size, **kwargs)

    def _fetch_range(self, start: int, end: int) -> bytes:
        return self.fs.view.read(self.node, start, end)
