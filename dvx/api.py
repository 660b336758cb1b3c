"""The Python API: any version of any tracked dataset in one line, without a checkout.

::

    import dvx
    t = dvx.read_table("data/train.parquet", rev="v1.0", columns=["a", "b"])
    df = dvx.read_pandas("data/train.csv", rev="HEAD~1")
    with dvx.open("data/labels.txt", rev="main", mode="r") as f:
        first = f.readline()

Paths are relative to the repository root. ``rev=None`` reads the workspace
version (what the pointer files in the work tree name; the workspace copy
itself when it is unchanged); any commit, branch or tag is read from git
without checking it out. ``repo`` is a local path or a git URL (cloned once
per process). Only the bytes a read needs are fetched from the remote, and
they stay in the local cache (:mod:`dvx.versions`).

pyarrow, pandas and polars are imported inside the functions that need them.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from dvx import versions
from dvx.errors import DataFormatError, UsageError

if TYPE_CHECKING:
    import dask.dataframe
    import pandas
    import polars
    import pyarrow
    import pyarrow.dataset

    from dvx.datasets import DriftResult
    from dvx.quality.profile import Profile
    from dvx.quality.results import DatasetValidation

__all__ = ["dataset", "drift", "open", "read_pandas", "read_polars", "read_table", "stats", "to_dask", "validate"]

PathLike = str | os.PathLike[str]
_READ_MODES = {"r": "r", "rt": "r", "tr": "r", "rb": "rb", "br": "rb"}
# Buffer of files returned by dvx.open: large enough that line-by-line reads
# of remote-backed data make few ranged reads.
_BUFFER = 1 << 20
_FORMATS = ("parquet", "csv", "tsv", "json", "ipc", "ipcstream")


def open(  # noqa: A001 - the public name mirrors builtins.open / dvc.api.open
    path: PathLike,
    rev: str | None = None,
    repo: PathLike = ".",
    remote: str | None = None,
    mode: str = "rb",
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
) -> BinaryIO | TextIO:
    """Open a tracked (or git) file at ``rev`` for reading; ``mode`` "rb" or "r" (text, UTF-8 by default).

    The file is seekable; only the bytes read are fetched. Use it as a
    context manager. FileNotFoundError when ``path`` is not there at ``rev``.
    """
    m = _READ_MODES.get(mode)
    if m is None:
        raise ValueError(f"dvx.open reads only: mode must be 'rb' or 'r', got {mode!r}")
    view = versions.open_view(repo, rev, remote)
    node = view.resolve(path)
    raw = view.open(node)
    f = io.BufferedReader(raw, buffer_size=_BUFFER)
    if m == "rb":
        return f
    return io.TextIOWrapper(f, encoding=encoding or "utf-8", errors=errors, newline=newline)


def read_table(
    path: PathLike,
    rev: str | None = None,
    columns: list[str] | None = None,
    filter: Any = None,  # noqa: A002 - pyarrow's name for it
    repo: PathLike = ".",
    remote: str | None = None,
    format: str | None = None,  # noqa: A002
) -> pyarrow.Table:
    """A Parquet, CSV/TSV, JSON Lines or Arrow IPC/Feather file, or a directory of them, as one Arrow table.

    ``columns`` selects columns, ``filter`` is a ``pyarrow.compute``
    expression (``pc.field("x") > 0``) applied while scanning; for Parquet
    only the footer and the selected column chunks are read. ``format``
    overrides detection by file extension.
    """
    view = versions.open_view(repo, rev, remote)
    node = view.resolve(path)
    fmt = format or _format_of(view, node)
    what = view.describe(node.path)
    import pyarrow as pa

    fs = None
    try:
        if fmt == "ipcstream":
            return _read_ipc_stream(view, node, columns, filter)
        fs = None if _native_path(view, node) is not None else versions.arrow_filesystem(view)
        d = _dataset(view, node, fmt, native=True, fs=fs)
        _check_columns(d.schema, columns, what)
        return d.to_table(columns=columns, filter=filter)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        raise _format_error(what, e) from e
    finally:
        # Also after success: Arrow's scanner may still read ahead past the
        # last batch it returned, and a thread inside a dvx read at interpreter
        # exit aborts the process (apache/arrow#34314; seen 3 times in 6 runs).
        _release(fs)


def _release(fs: Any) -> None:
    """Stop and wait for Arrow's read-ahead through ``fs`` before a read returns or fails (defect 7:
    an Arrow thread still inside a dvx read when the interpreter exits aborts it)."""
    if fs is not None:
        versions.release_arrow(fs)


def read_pandas(
    path: PathLike,
    rev: str | None = None,
    columns: list[str] | None = None,
    filter: Any = None,  # noqa: A002
    repo: PathLike = ".",
    remote: str | None = None,
    format: str | None = None,  # noqa: A002
    **to_pandas: Any,
) -> pandas.DataFrame:
    """``read_table(...).to_pandas(**to_pandas)``."""
    return read_table(path, rev, columns, filter, repo, remote, format).to_pandas(**to_pandas)


def read_polars(
    path: PathLike,
    rev: str | None = None,
    columns: list[str] | None = None,
    filter: Any = None,  # noqa: A002
    repo: PathLike = ".",
    remote: str | None = None,
    format: str | None = None,  # noqa: A002
) -> polars.DataFrame:
    """``read_table(...)`` as a polars DataFrame (needs polars installed)."""
    try:
        import polars as pl
    except ImportError:
        raise ImportError("dvx.read_polars needs polars, which is not installed: pip install polars") from None
    return pl.from_arrow(read_table(path, rev, columns, filter, repo, remote, format))  # type: ignore[return-value]


def dataset(
    path: PathLike,
    rev: str | None = None,
    repo: PathLike = ".",
    remote: str | None = None,
    format: str | None = None,  # noqa: A002
    partitioning: Any = None,
) -> pyarrow.dataset.Dataset:
    """A lazy ``pyarrow.dataset.Dataset`` over the file or directory at ``rev``.

    Nothing but the listing is read until it is scanned; scans read byte
    ranges through the dvx filesystem, fetching missing chunks on demand.
    """
    view = versions.open_view(repo, rev, remote)
    node = view.resolve(path)
    fmt = format or _format_of(view, node)
    if fmt == "ipcstream":
        raise DataFormatError(view.describe(node.path), "Arrow IPC streams cannot be scanned as a dataset",
                              hint="use dvx.read_table, or store the data as an Arrow IPC file (.arrow/.feather)")
    return _dataset(view, node, fmt, native=False, partitioning=partitioning)


def stats(path: PathLike, rev: str | None = None, repo: PathLike = ".", remote: str | None = None, *,
          staged: bool = False, scheduler: str | None = None, repo_url: str | None = None) -> Profile:
    """The profile of a tracked dataset, as ``dvx stats`` gives it, of the version
    the quality rule selects: ``rev=None`` the file on disk (even when modified
    since ``dvx add``), ``staged=True`` the version last added, ``rev`` a
    committed one.

    Stored by data id (side store), else computed once from the data
    (streamed; missing bytes come from the remote) and stored; no pointer file
    is written. A file inside a tracked folder, or a table git tracks, is
    profiled from its data each time. ``scheduler`` (else ``DVX_SCHEDULER``, ``[compute]
    scheduler``) computes a tracked dataset's profile on a Dask cluster (docs/cluster.md).
    """
    from dvx import gate
    from dvx.cluster import compute_settings
    from dvx.gate import reading

    if staged and rev is not None:
        raise UsageError("dvx.stats: staged and rev exclude each other", "pass one of them")
    view = versions.open_view(repo, rev, remote)
    node = view.resolve(path)
    if node.tracked == node.path:
        compute = compute_settings(scheduler, repo_url, view.ws.config)
        if rev is None:
            v = reading.resolve(view.ws, node.path, staged=staged)
            return gate.profile_version(view.ws, node.path, v.pointer, None, fetch=True, remote=remote, compute=compute)
        return gate.profile_version(view.ws, node.path, view.pointer(node.path), view.sha, fetch=True, remote=remote,
                                    compute=compute)
    from dvx.quality.profile import profile_path
    from dvx.quality.sources import TableSource

    local = _native_path(view, node)
    if local is not None:
        return profile_path(local)
    fs = versions.arrow_filesystem(view)
    try:
        return profile_path(TableSource(fs, node.path, view.describe(node.path)))
    finally:
        _release(fs)  # also after success: see read_table


def validate(paths: PathLike | list[PathLike] | None = None, rev: str | None = None, repo: PathLike = ".", *,
             staged: bool = False, scheduler: str | None = None, repo_url: str | None = None
             ) -> list[DatasetValidation]:
    """``dvx validate``: each dataset's results against its bound suites (all bound datasets
    when ``paths`` is None), of the version the quality rule selects (as :func:`stats`).
    Each result's ``version`` names what was measured; nothing raises for a failed
    expectation (see ``success``; :func:`dvx.require_valid` raises)."""
    from dvx import datasets
    from dvx.workspace import Workspace

    root = str(Workspace.find(repo).root)
    items = None if paths is None else [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    names = None if items is None else [os.fspath(p) for p in items]
    return datasets.validate(names, rev=rev, cwd=root, staged=staged, scheduler=scheduler, repo_url=repo_url)


def drift(path: PathLike, baseline: str = "HEAD", rev: str | None = None, repo: PathLike = ".", *,
          staged: bool = False, scheduler: str | None = None, repo_url: str | None = None) -> DriftResult:
    """``dvx drift``: the version the quality rule selects (as :func:`stats`) against
    ``baseline``. ``.drifted``, ``.report``, and ``.current_version`` /
    ``.baseline_version`` naming both sides."""
    from dvx import datasets
    from dvx.workspace import Workspace

    root = str(Workspace.find(repo).root)
    return datasets.drift(os.fspath(path), baseline=baseline, rev=rev, cwd=root, staged=staged, scheduler=scheduler,
                          repo_url=repo_url)


def to_dask(path: PathLike, rev: str | None = None, repo: PathLike = ".", columns: list[str] | None = None,
            remote: str | None = None, *, repo_url: str | None = None, **kwargs: Any) -> dask.dataframe.DataFrame:
    """A lazy ``dask.dataframe`` over the Parquet file or directory ``path`` at ``rev``,
    read by Dask's workers through ``dvx://`` (``kwargs`` go to ``dask.dataframe.read_parquet``).

    Workers read a commit by its git URL (:func:`dvx.cluster.source.dask_location`):
    for a local ``repo``, ``repo_url``, else its ``origin`` URL, else its own path
    (workers on this machine only); ``rev=None`` is the commit at ``HEAD``, never the
    workspace's uncommitted changes (use :func:`read_table` for those). Workers fetch
    chunks from the remote with their own credentials. Needs ``dask[dataframe]``.
    """
    try:
        import dask.dataframe as dd
    except ImportError:
        raise ImportError("dvx.to_dask needs dask: pip install 'dvx-data[dask]'") from None
    from dvx.cluster.source import dask_location

    url, sha = dask_location(repo, rev, repo_url)
    options = {"repo": url, "rev": sha, **({"remote": remote} if remote else {})}
    rel = os.fspath(path).strip("/")
    return dd.read_parquet(f"dvx://{rel}", columns=columns, storage_options=options, **kwargs)


# ------------------------------------------------------------------ helpers


def _native_path(view: versions.RepoView, node: versions.Node) -> str | None:
    """A workspace path pyarrow may read itself: a file, or a tracked directory found unchanged.

    An untracked workspace folder is not: it holds pointer files the dvx view hides.
    """
    if node.kind == versions.FILE or node.source == "dvx":
        return view.local_path(node)
    return None


def _format_of(view: versions.RepoView, node: versions.Node) -> str:
    from dvx.quality.tables import table_format

    what = view.describe(node.path)
    if node.kind == versions.FILE:
        fmt = table_format(node.path)
        if fmt is None:
            raise DataFormatError(what, "unknown table format (by extension)",
                                  hint=f"pass format= one of {', '.join(_FORMATS)}")
        return fmt
    seen: set[str] = set()
    base = len(node.path) + 1 if node.path else 0
    for f in view.walk_files(node.path):
        rel = f.path[base:]
        if any(part.startswith((".", "_")) for part in rel.split("/")):
            continue
        fmt = table_format(f.name)
        if fmt is not None:
            seen.add(fmt)
    if not seen:
        raise DataFormatError(what, "directory holds no Parquet, CSV, JSON Lines or Arrow files")
    if len(seen) > 1:
        raise DataFormatError(what, f"directory mixes table formats ({', '.join(sorted(seen))})",
                              hint="pass format= to read one of them")
    return seen.pop()


def _file_format(fmt: str) -> Any:
    import pyarrow.dataset as ds

    if fmt == "parquet":
        # pre_buffer: the column chunks a scan needs are read as a few coalesced ranges.
        return ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=True))
    if fmt == "csv":
        return ds.CsvFileFormat()
    if fmt == "tsv":
        import pyarrow.csv as pacsv

        return ds.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter="\t"))
    if fmt == "json":
        return ds.JsonFileFormat()
    if fmt == "ipc":
        return ds.IpcFileFormat()
    raise UsageError(f"unknown format {fmt!r}", f"use one of {', '.join(_FORMATS)}")


def _dataset(view: versions.RepoView, node: versions.Node, fmt: str, native: bool,
             partitioning: Any = None, fs: Any = None) -> pyarrow.dataset.Dataset:
    import pyarrow.dataset as ds

    local = _native_path(view, node) if native else None
    if local is not None:
        return ds.dataset(local, format=_file_format(fmt), partitioning=partitioning)
    return ds.dataset(node.path, filesystem=fs if fs is not None else versions.arrow_filesystem(view),
                      format=_file_format(fmt), partitioning=partitioning)


def _read_ipc_stream(view: versions.RepoView, node: versions.Node, columns: list[str] | None,
                     filter: Any) -> pyarrow.Table:  # noqa: A002
    import pyarrow as pa

    if node.kind != versions.FILE:
        raise DataFormatError(view.describe(node.path), "a directory of Arrow IPC streams cannot be read as one table")
    with view.open(node) as raw:
        t = pa.ipc.open_stream(io.BufferedReader(raw, _BUFFER)).read_all()
    _check_columns(t.schema, columns, view.describe(node.path))
    if filter is not None:
        t = t.filter(filter)
    return t.select(columns) if columns is not None else t


def _check_columns(schema: Any, columns: Any, what: str) -> None:
    if not isinstance(columns, list | tuple):
        return
    missing = [c for c in columns if isinstance(c, str) and schema.get_field_index(c) < 0]
    if missing:
        raise UsageError(f"{what}: no column {', '.join(map(repr, missing))}",
                         f"columns are: {', '.join(schema.names[:20])}{' ...' if len(schema.names) > 20 else ''}")


def _format_error(what: str, e: BaseException) -> DataFormatError:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return DataFormatError(what, f"cannot read as a table: {msg}")
