"""Chunking data where it lives: objects of a bucket streamed into packs of a remote (``dvx add --external``).

The work is split into picklable ``ChunkBatch`` tasks (plain data: URLs,
options, chunker sizes, object paths) that ``chunk_batch`` runs anywhere,
in this process or on a Dask worker: it opens the source filesystem and
the remote itself, streams each object through the repository's chunker
(``dvx.chunking.iter_chunks``, the cuts ``dvx add`` makes of the same
bytes), and writes the chunks and each object's file manifest with the
store's writer (``ObjectStore.writer``: packs, then an index naming them).
A chunk the remote's index already names is not sent again. Nothing here
writes a pointer or the local cache: ``dvx.external`` does, once every
batch is durable on the remote.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dvx._paths import first_path_problem
from dvx.chunking import ChunkerParams, iter_chunks
from dvx.errors import RemoteConfigError, RemoteError, UnsafePathError, UsageError
from dvx.hashing import hash_bytes, hash_hex
from dvx.remote.config import coerce_option
from dvx.remote.errors import translate_errors
from dvx.remote.session import Remote, open_url
from dvx.store.objects import ChunkRef, FileManifest, ObjectType

# A batch holds objects up to this many bytes (one object may be bigger) or this many objects: one
# task each, one remote index file each. Large enough that a task's fixed cost (opening the remote,
# loading its index) is small beside its data; small enough that a cluster gets many tasks to share.
BATCH_BYTES = 256 << 20
BATCH_OBJECTS = 512
# Environment variables DVX_EXTERNAL_<KEY>=value set a source option (as `-o key=value` does).
ENV_PREFIX = "DVX_EXTERNAL_"

__all__ = ["BatchResult", "ChunkBatch", "ChunkedObject", "SourceObject", "batches", "chunk_batch", "list_source",
           "open_source", "source_options"]


@dataclass(frozen=True)
class SourceObject:
    """One object to track: its key relative to the URL ("" for a single-object URL), the filesystem
    path to open, its size and ETag when the listing gave one."""

    key: str
    path: str
    size: int
    etag: str | None = None


@dataclass(frozen=True)
class ChunkBatch:
    """One task: objects of the source to chunk into the remote (everything a worker needs, picklable)."""

    source_url: str
    source_options: dict[str, Any]
    remote_url: str
    remote_name: str
    remote_options: dict[str, Any]
    chunker: tuple[int, int, int]  # min, avg, max: the repository's [chunking]
    objects: tuple[SourceObject, ...]

    @property
    def key(self) -> str:
        """A content key for the task: the remote, the chunker and each object's path, size and ETag."""
        text = "\n".join([self.remote_url, repr(self.chunker)]
                         + [f"{o.path}\t{o.size}\t{o.etag}" for o in self.objects])
        return f"dvx-external-{hash_hex(text.encode('utf-8', 'surrogateescape'))}"


@dataclass(frozen=True)
class ChunkedObject:
    """What one object became: its file manifest id, size and number of chunks."""

    key: str
    file_oid: bytes
    size: int
    chunks: int
    etag: str | None = None


@dataclass
class BatchResult:
    """A finished batch: its objects, and what its writer sent to the remote."""

    objects: list[ChunkedObject] = field(default_factory=list)
    bytes_read: int = 0
    bytes_sent: int = 0
    objects_sent: int = 0
    packs: int = 0


def source_options(url: str, remote: Remote | None, given: Sequence[str],
                   environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The filesystem options for reading ``url``: the default remote's when it speaks the same protocol
    (endpoint, credentials), then ``DVX_EXTERNAL_<KEY>`` variables, then ``-o key=value`` (``given``)."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    if remote is not None and _protocol(remote.url) == _protocol(url):
        out.update(remote.options)
    for k, v in sorted(env.items()):
        if k.startswith(ENV_PREFIX) and len(k) > len(ENV_PREFIX):
            key = k[len(ENV_PREFIX):].lower()
            out[key] = _typed(key, v, f"environment variable {k}")
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-o {item!r}: expected key=value", "e.g. -o endpoint_url=http://127.0.0.1:9000")
        out[key.strip()] = _typed(key.strip(), value, f"-o {key.strip()}")
    return out


def _typed(key: str, value: str, where: str) -> Any:
    """``value`` as the type ``[remote.*]`` gives ``key`` (``anon=false`` is False, not a true string)."""
    try:
        return coerce_option(key, value)
    except RemoteConfigError as e:
        raise UsageError(f"{where}: {e.message}") from None


def _protocol(url: str) -> str:
    proto = url.partition("://")[0].lower() if "://" in url else "file"
    return "s3" if proto == "s3a" else proto


def _source_error(url: str, e: RemoteError) -> RemoteError:
    """A RemoteError about the source, said of the source (``open_url`` names it as a remote)."""
    msg = e.message.replace(f"remote {url}:", f"external source {url}:", 1)
    hint = e.hint
    if hint is None or "dvx remote" in hint or "remote URL" in hint:  # advice about a remote's settings
        hint = "check the URL and the source's options (-o KEY=VALUE, DVX_EXTERNAL_<KEY>; docs/external.md)"
    return RemoteError(msg, hint)


def open_source(url: str, options: Mapping[str, Any]) -> Remote:
    """The filesystem of the source ``url`` (a ``Remote`` for its error messages; its store is never used)."""
    try:
        return open_url(url, dict(options))
    except RemoteError as e:
        raise _source_error(url, e) from None


def list_source(url: str, options: Mapping[str, Any]) -> tuple[str, list[SourceObject]]:
    """("file", [the object]) for a URL naming one object, ("dir", objects under it, by key) for a prefix.

    Every key must be a path dvx may create (``dvx._paths``) and no key may also be a folder of
    another: UnsafePathError naming the first that is not, before anything is read or written.
    """
    src = open_source(url, options)
    fs, root = src.fs, src.root
    try:
        with translate_errors(src):
            info = None if url.endswith("/") else _info(fs, root)
            if info is not None and info.get("type") == "file":
                return "file", [SourceObject("", _name(info, root), int(info.get("size") or 0), _etag(info))]
            found = fs.find(root, detail=True)
    except RemoteError as e:
        raise _source_error(url, e) from None
    objects = []
    prefix = root.rstrip("/") + "/"
    for path, inf in sorted(found.items()):
        if inf.get("type", "file") != "file" or not path.startswith(prefix) or path.endswith("/"):
            continue  # folder markers ("dir/" keys of zero bytes) hold no data
        objects.append(SourceObject(path[len(prefix):], path, int(inf.get("size") or 0), _etag(inf)))
    if not objects:
        raise UsageError(f"external source {url}: no object there", "check the URL (a prefix ends with /)")
    _check_keys(url, [o.key for o in objects])
    return "dir", objects


def _info(fs: Any, path: str) -> dict[str, Any] | None:
    try:
        got = fs.info(path)
    except FileNotFoundError:
        return None
    return dict(got)


def _name(info: Mapping[str, Any], default: str) -> str:
    name = info.get("name")
    return name if isinstance(name, str) and name else default


def _etag(info: Mapping[str, Any]) -> str | None:
    tag = info.get("ETag") or info.get("etag")
    return str(tag) if tag else None


def _pinned_etag(f: Any) -> str | None:
    """The ETag of the bytes just read, when the filesystem pinned every read to it (s3fs sends
    ``If-Match`` with the ETag it saw on open, so a write in the middle fails the read); else None:
    such an object is read again by the next run (``dvx.external.seen``)."""
    details = getattr(f, "details", None)
    read_kw = getattr(f, "read_kw", None)
    if not isinstance(details, Mapping) or not isinstance(read_kw, Mapping):
        return None
    tag = _etag(details)
    return tag if tag is not None and read_kw.get("IfMatch") == tag else None


def _check_keys(url: str, keys: list[str]) -> None:
    encoded = [k.encode("utf-8", "surrogateescape") for k in keys]
    bad = first_path_problem(encoded)
    why = None if bad is None else (bad[0].decode("utf-8", "surrogateescape"), bad[1])
    if why is None:
        folders = {k.rsplit("/", i)[0] for k in keys for i in range(1, k.count("/") + 1)}
        clash = next((k for k in keys if k in folders), None)
        if clash is not None:
            why = (clash, "is both an object and a folder of other objects")
    if why is not None:
        raise UnsafePathError(f"external source {url}: the key {why[0]!r:.120} {why[1]}; nothing was written",
                              "rename that object, or track a narrower prefix")


def batches(objects: Iterable[SourceObject], base: ChunkBatch, max_bytes: int = BATCH_BYTES,
            max_objects: int = BATCH_OBJECTS) -> list[ChunkBatch]:
    """``objects`` cut into tasks like ``base`` (its ``objects`` ignored), in order."""
    out: list[ChunkBatch] = []
    cur: list[SourceObject] = []
    size = 0
    for o in objects:
        if cur and (size + o.size > max_bytes or len(cur) >= max_objects):
            out.append(_with(base, cur))
            cur, size = [], 0
        cur.append(o)
        size += o.size
    if cur:
        out.append(_with(base, cur))
    return out


def _with(base: ChunkBatch, objects: list[SourceObject]) -> ChunkBatch:
    return ChunkBatch(base.source_url, base.source_options, base.remote_url, base.remote_name, base.remote_options,
                      base.chunker, tuple(objects))


def chunk_batch(task: ChunkBatch) -> BatchResult:
    """Chunk every object of ``task`` into the remote; when it returns, the chunks and file manifests are
    in packs an index file on the remote names (the writer's flush). Runs anywhere (a Dask worker)."""
    params = ChunkerParams(*task.chunker)
    src = open_source(task.source_url, task.source_options)
    remote = open_url(task.remote_url, task.remote_options, name=task.remote_name, max_chunk=params.max_size)
    result = BatchResult()
    with translate_errors(remote):
        remote.store.refresh()
        with remote.store.writer() as w:
            for obj in task.objects:
                refs = []
                try:
                    with translate_errors(src), src.fs.open(obj.path, "rb") as f:
                        for chunk in iter_chunks(f, params):
                            cid = hash_bytes(chunk)
                            w.put(cid, ObjectType.CHUNK, chunk)
                            refs.append(ChunkRef(cid, len(chunk)))
                        etag = _pinned_etag(f)
                except RemoteError as e:
                    raise _source_error(task.source_url, e) from None
                m = FileManifest(tuple(refs))
                oid = w.put_manifest(m)
                result.bytes_read += m.size
                result.objects.append(ChunkedObject(obj.key, bytes(oid), m.size, len(refs), etag))
        result.bytes_sent = w.stats.bytes_stored
        result.objects_sent = w.stats.objects_added
        result.packs = w.stats.packs_written
    return result

