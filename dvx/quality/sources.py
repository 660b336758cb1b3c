"""Where a table is read from: a local path, or a path on a pyarrow filesystem.

A :class:`TableSource` lets the readers of :mod:`dvx.quality.tables` stream
a dataset from any ``pyarrow.fs.FileSystem`` (dvx passes its versioned
reader, so a version is validated and profiled straight from the cache,
without a copy on disk). A plain path is handed to pyarrow as before.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TableSource:
    """A file or directory on a pyarrow filesystem, read like a local path.

    ``label`` names it in errors (``data/x.csv at revision v1``).
    """

    filesystem: Any  # pyarrow.fs.FileSystem (pyarrow ships no type information)
    path: str
    label: str

    def __str__(self) -> str:
        return self.label


# A dataset: a local path, or a path on a pyarrow filesystem.
TableRef = str | os.PathLike[str] | TableSource


def label_of(ref: TableRef) -> str:
    """How errors name a dataset."""
    return ref.label if isinstance(ref, TableSource) else os.fspath(ref)


def is_dir(ref: TableRef) -> bool:
    """Whether ``ref`` is a directory (False when it does not exist)."""
    if isinstance(ref, TableSource):
        import pyarrow.fs as pafs

        return bool(ref.filesystem.get_file_info(ref.path).type == pafs.FileType.Directory)
    return Path(ref).is_dir()


def exists(ref: TableRef) -> bool:
    """Whether ``ref`` names a file or directory."""
    if isinstance(ref, TableSource):
        import pyarrow.fs as pafs

        return bool(ref.filesystem.get_file_info(ref.path).type != pafs.FileType.NotFound)
    return Path(ref).exists()


def _visible(rel: str) -> bool:
    return not any(part.startswith((".", "_")) for part in rel.split("/"))


def files_below(ref: TableRef) -> list[TableRef]:
    """Every file below the directory ``ref`` in path order, hidden and ``_`` names skipped."""
    if isinstance(ref, TableSource):
        import pyarrow.fs as pafs

        base = ref.path.rstrip("/")
        infos = ref.filesystem.get_file_info(pafs.FileSelector(base, recursive=True))
        names = sorted((i.path[len(base) + 1:] for i in infos if i.type == pafs.FileType.File), key=lambda n: n.split("/"))
        return [child(ref, n) for n in names if _visible(n)]
    root = os.fspath(ref)
    out: list[str] = []
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        out.extend(os.path.join(dirpath, n) for n in names if not n.startswith((".", "_")))
    out.sort(key=lambda f: Path(f).relative_to(root).parts)
    return list[TableRef](out)


def child(ref: TableRef, rel: str) -> TableRef:
    """The file ``rel`` (a "/"-separated path) below the directory ``ref``; ``ref`` itself when ``rel`` is ""."""
    if not rel:
        return ref
    if isinstance(ref, TableSource):
        base = ref.path.rstrip("/")
        # "data/parts at revision v1" -> "data/parts/a.csv at revision v1"
        suffix = ref.label[len(ref.path):] if ref.label.startswith(ref.path) else ""
        return TableSource(ref.filesystem, f"{base}/{rel}", f"{base}/{rel}{suffix}")
    return os.path.join(os.fspath(ref), *rel.split("/"))


def relative_name(ref: TableRef, below: TableRef) -> str:
    """The "/"-separated path of ``below`` (a file of :func:`files_below`) relative to the directory ``ref``."""
    if isinstance(ref, TableSource) and isinstance(below, TableSource):
        return below.path[len(ref.path.rstrip("/")) + 1:]
    return Path(os.fspath(below)).relative_to(os.fspath(ref)).as_posix()  # type: ignore[arg-type]


def open_input(ref: str | TableSource, stream: bool = False) -> Any:
    """What pyarrow's readers take: the local path itself, or an open file of the filesystem."""
    if not isinstance(ref, TableSource):
        return ref
    if stream:  # CSV/JSON: decompressed by extension, as pyarrow does for a local path
        return ref.filesystem.open_input_stream(ref.path, compression="detect")
    return ref.filesystem.open_input_file(ref.path)
