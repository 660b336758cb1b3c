"""Tabular datasets as streams of Arrow record batches.

A dataset is one Parquet, CSV, JSON Lines or Arrow IPC/Feather file, or a
directory of such files read as one dataset through ``pyarrow.dataset``. The
format is chosen by extension. Every reader streams: memory is bounded by one
batch (plus the format's own read-ahead), never by the file.

Unreadable data (a corrupt Parquet footer, a ragged CSV row) raises
:class:`dvx.errors.DataFormatError`, exit code 1: the data failed its check,
the configuration is fine. The message names the file and, for CSV, the row.

A dataset is a local path or a :class:`dvx.quality.sources.TableSource`.

pyarrow is imported inside the functions so ``is_tabular`` costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dvx.errors import DataFormatError, UsageError
from dvx.quality.sources import TableRef, TableSource, files_below, is_dir, label_of
from dvx.quality.sources import exists as _exists
from dvx.quality.sources import open_input as _input

if TYPE_CHECKING:
    import pyarrow as pa


def data_files(ref: TableRef) -> list[TableRef]:
    """The table files of a directory in path order (hidden and ``_`` names skipped, as Spark writes them)."""
    return [f for f in files_below(ref) if table_format(f) is not None]


# Extension -> format name. Compressed CSV/JSON are decompressed by pyarrow
# from the extension (.gz, .bz2, .zst, .lz4).
_FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".parq": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
    ".arrows": "ipcstream",
}
_COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")

# CSV/JSON blocks: 16 MiB gives the type inference enough rows to see
# (pyarrow infers from the first block only) and keeps memory bounded.
_TEXT_BLOCK = 16 << 20

DEFAULT_BATCH = 131072


def table_format(path: TableRef) -> str | None:
    """The format name of a file path by its extension, or None when not tabular."""
    name = (path.path if isinstance(path, TableSource) else os.fspath(path)).lower()
    for c in _COMPRESSED:
        if name.endswith(c):
            name = name[: -len(c)]
            fmt = _FORMATS.get(os.path.splitext(name)[1])
            return fmt if fmt in ("csv", "tsv", "json") else None
    return _FORMATS.get(os.path.splitext(name)[1])


def _dir_format(path: TableRef) -> str | None:
    """The one format of the data files in a directory (hidden and _ files skipped)."""
    seen = {table_format(f) for f in data_files(path)} - {None}
    if not seen:
        return None
    if len(seen) > 1:
        raise DataFormatError(label_of(path), f"directory mixes table formats ({', '.join(sorted(map(str, seen)))})",
                              hint="keep one format per dataset directory")
    return seen.pop()


def is_tabular(path: TableRef) -> bool:
    """True when ``path`` is a file or directory dvx can read as a table."""
    if is_dir(path):
        try:
            return _dir_format(path) is not None
        except DataFormatError:
            return False
    return table_format(path) is not None


def _wrap(path: str, e: BaseException) -> DataFormatError:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    line = None
    # pyarrow CSV errors read "CSV parse error: Row #4: ..." when single-threaded.
    marker = "Row #"
    if marker in msg:
        rest = msg.split(marker, 1)[1]
        digits = rest.split(":", 1)[0]
        if digits.isascii() and digits.isdigit():
            line = int(digits)
            msg = msg.replace(f"{marker}{digits}: ", "")
    return DataFormatError(path, f"cannot read as a table: {msg}", line=line)


def _guard(path: str | TableSource, it: Iterator[pa.RecordBatch], csv_delimiter: str | None = None
           ) -> Iterator[pa.RecordBatch]:
    """Re-raise reader errors met mid-stream as DataFormatError naming the file."""
    import pyarrow as pa

    try:
        yield from it
    except (pa.ArrowException, OSError, ValueError) as e:
        err = _wrap(label_of(path), e)
        if csv_delimiter is not None and err.line is None:
            err = _csv_error_row(path, csv_delimiter) or err
        raise err from e


def _csv_error_row(path: str | TableSource, delimiter: str) -> DataFormatError | None:
    """Re-read a CSV single-threaded, where pyarrow reports the row of a parse error.

    The fast path parses with threads and gets no row number; this costs a
    second read, but only once the file has already failed.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        reader = pcsv.open_csv(_input(path, stream=True), read_options=pcsv.ReadOptions(use_threads=False, block_size=_TEXT_BLOCK),
                               parse_options=pcsv.ParseOptions(delimiter=delimiter))
        for _ in reader:
            pass
    except (pa.ArrowException, OSError, ValueError) as e:
        return _wrap(label_of(path), e)
    return None


def _check_columns(path: str, schema: pa.Schema, columns: list[str] | None) -> None:
    if columns is None:
        return
    missing = [c for c in columns if schema.get_field_index(c) < 0]
    if missing:
        raise DataFormatError(path, f"no column {', '.join(repr(c) for c in missing)} "
                              f"(has {', '.join(schema.names)})")


def _project(schema: pa.Schema, columns: list[str] | None) -> pa.Schema:
    import pyarrow as pa

    if columns is None:
        return schema
    return pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)


def dictionary_columns(path: TableRef, columns: list[str]) -> list[str]:
    """The string columns of a Parquet file worth reading as dictionary arrays.

    A column qualifies when every row group stores it with a dictionary page
    under 512 KiB and under a quarter of the column chunk: a writer falls back
    to plain pages once its dictionary nears 1 MiB (pyarrow's default limit),
    and a dictionary that is most of the chunk means mostly distinct values.
    Only speed depends on this guess: evaluators handle both kinds of array
    alike.
    """
    import pyarrow.parquet as pq

    if table_format(path) != "parquet" or is_dir(path):
        return []
    try:
        pf = pq.ParquetFile(_input(path if isinstance(path, TableSource) else os.fspath(path)))
        md = pf.metadata
        arrow_schema = pf.schema_arrow
    except Exception:  # noqa: BLE001 - the real read reports the problem
        return []
    import pyarrow as pa

    names: dict[str, int] = {}
    for i in range(md.num_columns):
        names.setdefault(md.schema.column(i).path, i)
    out = []
    for c in columns:
        j = names.get(c)
        if j is None or arrow_schema.get_field_index(c) < 0:
            continue
        t = arrow_schema.field(c).type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            continue
        ok = md.num_row_groups > 0
        for rg in range(md.num_row_groups):
            cc = md.row_group(rg).column(j)
            if not cc.has_dictionary_page or cc.dictionary_page_offset is None:
                ok = False
                break
            dict_bytes = cc.data_page_offset - cc.dictionary_page_offset
            # a dictionary near the fallback limit, or most of the chunk: many distinct values
            if dict_bytes > 512 * 1024 or dict_bytes > cc.total_compressed_size // 4:
                ok = False
                break
        if ok:
            out.append(c)
    return out


def _usable_cpus() -> int:
    """Cores this process may run on: its CPU affinity, capped by pyarrow's
    thread count."""
    import pyarrow as pa

    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, pa.cpu_count()))


def _open_parquet(path: str | TableSource, columns: list[str] | None, batch_size: int, dictionary: list[str] | None = None,
                  row_groups: tuple[int, int] | None = None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow.parquet as pq

    # No memory map: mapped file pages count as resident, so RSS would grow with
    # the file (a 1.1 GiB file gave 1.1 GiB RSS) although nothing holds them.
    pf = pq.ParquetFile(_input(path), memory_map=False, pre_buffer=True, read_dictionary=dictionary or None)
    # Decode threads only pay with a second core: on one (taskset, or
    # pyarrow.set_cpu_count(1)) they cost 0.4-0.8 s of system time a GB in
    # thread hand-offs for no gain (1.1 GB file: 2.1-2.6 s CPU against 1.75).
    threads = _usable_cpus() > 1
    schema = pf.schema_arrow
    _check_columns(label_of(path), schema, columns)

    def gen() -> Iterator[pa.RecordBatch]:
        # One reader call per row group: a single iter_batches over the whole file
        # keeps every pre-buffered column chunk until it ends (measured: 790 MiB
        # of Arrow memory at 10M rows x 13 columns, against 280 MiB this way).
        for rg in range(*(row_groups or (0, pf.num_row_groups))):
            yield from pf.iter_batches(batch_size=batch_size, row_groups=[rg], columns=columns,
                                       use_threads=threads)

    return _project(schema, columns), gen()


def _open_csv(path: str | TableSource, columns: list[str] | None, tsv: bool
              ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow.csv as pcsv

    # Threaded parsing reports no row number for a parse error; _guard then
    # re-reads single-threaded to name the row.
    read = pcsv.ReadOptions(use_threads=True, block_size=_TEXT_BLOCK)
    parse = pcsv.ParseOptions(delimiter="\t" if tsv else ",")
    conv = pcsv.ConvertOptions(include_columns=columns) if columns is not None else None
    if columns is not None:
        head = pcsv.open_csv(_input(path, stream=True), read_options=read, parse_options=parse)
        _check_columns(label_of(path), head.schema, columns)
        head.close()
    reader = pcsv.open_csv(_input(path, stream=True), read_options=read, parse_options=parse, convert_options=conv)
    return reader.schema, iter(reader)


def _open_json(path: str | TableSource, columns: list[str] | None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow.json as pjson

    reader = pjson.open_json(_input(path, stream=True), read_options=pjson.ReadOptions(use_threads=True, block_size=_TEXT_BLOCK))
    schema = reader.schema
    _check_columns(label_of(path), schema, columns)
    if columns is None:
        return schema, iter(reader)

    def gen() -> Iterator[pa.RecordBatch]:
        for b in reader:
            yield b.select(columns)

    return _project(schema, columns), gen()


def _open_ipc(path: str | TableSource, columns: list[str] | None, stream: bool
              ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow as pa

    # A plain file, not a memory map: mapped pages would count as resident memory.
    source = _input(path) if isinstance(path, TableSource) else pa.OSFile(path, "rb")
    try:
        reader = pa.ipc.open_stream(source) if stream else pa.ipc.open_file(source)
    except pa.ArrowInvalid:
        if stream:
            raise
        source.seek(0)
        reader = pa.ipc.open_stream(source)  # an .arrow file holding the stream format
    schema = reader.schema
    _check_columns(label_of(path), schema, columns)

    def gen() -> Iterator[pa.RecordBatch]:
        if isinstance(reader, pa.ipc.RecordBatchFileReader):
            batches: Iterator[pa.RecordBatch] = (reader.get_batch(i) for i in range(reader.num_record_batches))
        else:
            batches = iter(reader)
        for b in batches:
            yield b.select(columns) if columns is not None else b

    return _project(schema, columns), gen()


def _open_dir(path: str | TableSource, fmt: str, columns: list[str] | None, batch_size: int
              ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow.dataset as ds

    if fmt in ("csv", "tsv"):
        import pyarrow.csv as pcsv

        file_format: ds.FileFormat | str = ds.CsvFileFormat(
            parse_options=pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
            read_options=pcsv.ReadOptions(use_threads=False, block_size=_TEXT_BLOCK))
    elif fmt == "ipcstream":
        raise DataFormatError(label_of(path), "directories of Arrow IPC stream files are not supported",
                              hint="write them as Arrow IPC files (.arrow/.feather)")
    else:
        file_format = fmt
    files = [f for f in data_files(path) if table_format(f) == fmt]
    if isinstance(path, TableSource):
        dataset = ds.dataset([f.path for f in files if isinstance(f, TableSource)], format=file_format,
                             filesystem=path.filesystem)
    else:
        dataset = ds.dataset([os.fspath(f) for f in files if not isinstance(f, TableSource)], format=file_format)
    schema = dataset.schema
    _check_columns(label_of(path), schema, columns)
    return _project(schema, columns), dataset.to_batches(columns=columns, batch_size=batch_size)


def open_batches(path: TableRef, columns: list[str] | None = None,
                 batch_size: int = DEFAULT_BATCH, *, dictionary: list[str] | None = None,
                 row_groups: tuple[int, int] | None = None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Open a tabular file or directory and stream it as record batches.

    Returns the (projected) schema and an iterator of batches holding only
    ``columns`` (all when None), in that order. ``batch_size`` is the row count
    per batch for Parquet and datasets; CSV/JSON come in 16 MiB blocks and IPC
    in the batches the file holds. ``dictionary`` names Parquet string columns
    to read as dictionary arrays (no effect on other formats; see
    :func:`dictionary_columns`). ``row_groups`` = [start, end) reads only
    those row groups of a Parquet file (a partition, dvx.quality.partitions). Raises DataFormatError (exit 1) naming the
    file (and CSV row) when the data cannot be read or lacks a requested
    column; UsageError when ``path`` does not exist.
    """
    import pyarrow as pa

    src: str | TableSource = path if isinstance(path, TableSource) else os.fspath(path)
    spath = label_of(path)
    if not _exists(src):
        raise UsageError(f"{spath}: no such file or directory")
    directory = is_dir(src)
    if directory:
        fmt = _dir_format(src)
        if fmt is None:
            raise DataFormatError(spath, "directory holds no Parquet, CSV, JSON Lines or Arrow files")
    else:
        fmt = table_format(src)
        if fmt is None:
            raise DataFormatError(spath, "not a tabular file (expected .parquet, .csv, .jsonl, .arrow/.feather)")
    try:
        if directory:
            schema, it = _open_dir(src, fmt, columns, batch_size)
        elif fmt == "parquet":
            schema, it = _open_parquet(src, columns, batch_size, dictionary, row_groups)
        elif fmt in ("csv", "tsv"):
            schema, it = _open_csv(src, columns, fmt == "tsv")
        elif fmt == "json":
            schema, it = _open_json(src, columns)
        else:
            schema, it = _open_ipc(src, columns, fmt == "ipcstream")
    except DataFormatError:
        raise
    except (pa.ArrowException, OSError, ValueError) as e:
        err = _wrap(spath, e)
        if fmt in ("csv", "tsv") and not directory and err.line is None:
            err = _csv_error_row(src, "\t" if fmt == "tsv" else ",") or err
        raise err from e
    delim = {"csv": ",", "tsv": "\t"}.get(fmt) if not directory else None
    from dvx.quality.progress import observed

    return schema, observed(_guard(src, it, delim))


def read_schema(path: TableRef) -> pa.Schema:
    """The schema of a tabular dataset without reading its rows (Parquet/IPC footers)."""
    schema, it = open_batches(path, columns=None)
    close = getattr(it, "close", None)
    if close is not None:
        close()
    return schema
