"""``dvx add --external URL --out PATH``: track data that stays in object storage (docs/external.md).

The objects under ``URL`` are chunked where they are (``dvx.remote.external.chunk_batch``, one task per
batch of objects, on a Dask cluster with ``--scheduler`` or in this process) straight into the default
remote; the pointer ``PATH.dvx`` is written on the client once everything it names is durable there:

1. list the source; every key checked (``dvx._paths``), before anything is written;
2. take a shared lock on the remote (gc's sweep waits; docs/format.md "Locks and gc protocol");
3. the tasks: chunks and file manifests in packs, then an index file per task;
4. the tree manifest (a prefix) in a pack of its own, then its index file;
5. a roots marker naming the pointer's id (a gc whose mark came earlier keeps it), lock released;
6. the tree manifest into the local cache (listing and status without the data); the chunks stay remote;
7. the pointer (temp file + rename) and the ``.gitignore`` line.

A crash before 7 leaves no pointer and a remote whose packs are all indexed (or unnamed, which readers
ignore); a rerun finds the chunks the remote has and sends only the rest.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dvx import scm
from dvx._fsutil import atomic_write
from dvx._paths import path_problem
from dvx.cluster import run_tasks, scheduler_address
from dvx.errors import PointerError, UsageError, WorkspaceWriteError
from dvx.external.seen import SeenObjects
from dvx.hashing import to_hex
from dvx.remote import Remote, open_remote
from dvx.remote.common import load_index
from dvx.remote.errors import translate_errors
from dvx.remote.external import (
    BatchResult,
    ChunkBatch,
    ChunkedObject,
    SourceObject,
    batches,
    chunk_batch,
    list_source,
    source_options,
)
from dvx.store import ObjectType
from dvx.store.locks import clone_id, shared
from dvx.store.objects import TreeEntry, TreeManifest
from dvx.store.roots import write_roots
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.add import AddedPath
from dvx.workspace.ignore import add_ignore

__all__ = ["ExternalAddResult", "add_external"]


@dataclass
class ExternalAddResult:
    """What ``add_external`` did: the pointer written, and what moved."""

    added: AddedPath
    url: str
    remote: str  # the remote's label
    objects: int = 0  # objects listed at the URL
    skipped: int = 0  # unchanged since the last run (same ETag and size, manifest on the remote): not read
    bytes_read: int = 0  # bytes streamed from the source
    bytes_sent: int = 0  # bytes of new packs written to the remote (after compression)
    packs: int = 0
    tasks: int = 0
    scheduler: str | None = None
    to_stage: list[str] = field(default_factory=list)
    staged: bool = False


def _check_out(ws: Workspace, rel: str) -> None:
    """UsageError unless ``rel`` may become a tracked path with no workspace copy."""
    shown = ws.display(rel)
    why = path_problem(rel)
    if why is None and rel.endswith(ptr.SUFFIX):
        why = f"ends in {ptr.SUFFIX}"
    if why is not None:
        raise UsageError(f"--out {shown}: {why}", "name a path inside the repository, such as data/raw")
    if os.path.lexists(ws.abspath(rel)):
        raise UsageError(f"--out {shown}: exists in the workspace; --external tracks data that stays in the bucket",
                         "move it away, or choose another --out")
    parts = rel.split("/")
    for i in range(1, len(parts)):
        if os.path.exists(ws.abspath("/".join(parts[:i]) + ptr.SUFFIX)):
            raise UsageError(f"--out {shown}: is inside the tracked directory {ws.display('/'.join(parts[:i]))}",
                             "choose a path outside it")
    scm.refuse_git_tracked(ws.root, [rel])


def add_external(url: str, out: str, *, scheduler: str | None = None, options: Sequence[str] = (),
                 remote: str | None = None, cwd: str | None = None, autostage: bool | None = None,
                 progress: Callable[[str, int], None] | None = None) -> ExternalAddResult:
    """Track the object or prefix ``url`` as ``out`` (see the module docstring).

    ``scheduler``: a Dask scheduler address as ``--scheduler`` takes it (None: ``$DVX_SCHEDULER``, then
    ``[compute] scheduler``, else the tasks run in this process); ``options``: ``key=value`` source
    options over ``DVX_EXTERNAL_*`` over the remote's (``dvx.remote.external.source_options``);
    ``progress(key, bytes)``: called per object chunked when the tasks run in this process.
    """
    ws = Workspace.find(cwd or ".")
    rel = ws.relpath(out, cwd).rstrip("/")
    _check_out(ws, rel)
    address = scheduler_address(scheduler, ws.config)
    url, recorded = _local_url(ws, url, cwd)
    rem = open_remote(ws.config, remote)
    opts = source_options(url, rem, options)
    kind, objects = list_source(url, opts)
    seen = SeenObjects.load(ws.side_dir, url, rem.cache_key, ws.chunker)
    stats = ExternalAddResult(AddedPath(rel, ptr.pointer_path(rel), ptr.Pointer(kind, "0" * 32, 0, 0, 0), "added"),
                              url, rem.label, objects=len(objects), scheduler=address)
    clone = clone_id(ws.cache.root)
    stack = contextlib.ExitStack()
    with translate_errors(rem):
        held = stack.enter_context(shared(rem.store, "add", clone=clone, stale=rem.lock_stale, wait=rem.lock_wait,
                                          remote=rem.name))
    with stack:
        chunked = _chunk_all(ws, rem, url, opts, objects, seen, address, stats, progress)
        tree = None
        if kind == "dir":
            tree = TreeManifest(tuple(TreeEntry(c.key.encode("utf-8", "surrogateescape"), c.file_oid, c.size, False)
                                      for c in chunked))
            root = _put_tree(rem, tree, stats)
        else:
            root = chunked[0].file_oid
        with translate_errors(rem):
            held.check()  # no gc swept while the tasks wrote
            write_roots(rem.store, [root], op="add", clone=clone)
    seen.save(chunked)
    p = ptr.Pointer(kind, to_hex(root), sum(c.size for c in chunked), len(chunked), sum(c.chunks for c in chunked),
                    external=recorded)
    with ws.lock():
        if tree is not None:
            with ws.cache.writer() as lw:
                lw.put(root, ObjectType.TREE, tree.encode())
        stats.added = _write_pointer(ws, rel, p)
    stats.to_stage = [stats.added.pointer_path, _gitignore_of(rel)]
    stage = ws.config.get("core", "autostage", False) if autostage is None else autostage
    if stage:
        scm.stage(ws.root, stats.to_stage)
        stats.staged = True
    return stats


def _local_url(ws: Workspace, url: str, cwd: str | None) -> tuple[str, str]:
    """(the URL to read, the URL the pointer records): a folder path is read by its absolute path (the
    same on workers sharing the file system) and recorded relative to the repository's root, as
    ``dvx import`` records a local source; other URLs as given."""
    if "://" in url:
        return url, url
    slash = "/" if url.endswith("/") else ""
    absolute = os.path.abspath(os.path.join(cwd or os.getcwd(), url))
    return absolute + slash, os.path.relpath(absolute, ws.root).replace(os.sep, "/") + slash


def _chunk_all(ws: Workspace, rem: Remote, url: str, opts: dict[str, Any], objects: list[SourceObject],
               seen: SeenObjects, scheduler: str | None, stats: ExternalAddResult,
               progress: Callable[[str, int], None] | None) -> list[ChunkedObject]:
    """What each object became, in listing order: from the last run's record when certainly unchanged,
    else from the tasks (the remote's shared lock held)."""
    with translate_errors(rem):
        rem.store.forget_index()  # what a gc removed before this lock was taken is gone
        load_index(ws.cache, rem, must_exist=False)
    done: dict[str, ChunkedObject] = {}
    todo = []
    for o in objects:
        known = seen.get(o, rem.store.has)
        if known is not None:
            done[o.key] = known
        else:
            todo.append(o)
    stats.skipped = len(done)
    params = ws.chunker
    # A folder remote by its absolute path: a relative URL means the repository's root, not a worker's cwd.
    local = "://" not in rem.url or rem.url.startswith("file://")
    base = ChunkBatch(url, opts, rem.root if local else rem.url, rem.name, rem.options,
                      (params.min_size, params.avg_size, params.max_size), ())
    tasks = batches(todo, base)
    stats.tasks = len(tasks)
    task: Callable[[ChunkBatch], BatchResult] = chunk_batch
    if scheduler is None and progress is not None:
        def task(batch: ChunkBatch) -> BatchResult:  # in this process: no pickling, so a closure may report
            out = chunk_batch(batch)
            for c in out.objects:
                progress(c.key, c.size)
            return out
    for br in run_tasks(task, tasks, [t.key for t in tasks], scheduler, what="dvx add --external"):
        _count(stats, br)
        done.update((c.key, c) for c in br.objects)
    return [done[o.key] for o in objects]


def _put_tree(rem: Remote, tree: TreeManifest, stats: ExternalAddResult) -> bytes:
    """Write the tree manifest to the remote (its pack, then its index file); its id."""
    with translate_errors(rem):
        rem.store.refresh()
        with rem.store.writer() as w:
            root = bytes(w.put_manifest(tree))
    stats.bytes_sent += w.stats.bytes_stored
    stats.packs += w.stats.packs_written
    return root


def _count(result: ExternalAddResult, br: BatchResult) -> None:
    result.bytes_read += br.bytes_read
    result.bytes_sent += br.bytes_sent
    result.packs += br.packs


def _gitignore_of(rel: str) -> str:
    parent = rel.rpartition("/")[0]
    return f"{parent}/.gitignore" if parent else ".gitignore"


def _write_pointer(ws: Workspace, rel: str, p: ptr.Pointer) -> AddedPath:
    """Write ``rel.dvx`` (the caller holds the repository lock) and the ``.gitignore`` line."""
    pp = ptr.pointer_path(rel)
    old: ptr.Pointer | None = None
    try:
        old = ptr.load(ws.abspath(pp), ws.display(pp))
    except (FileNotFoundError, PointerError):
        old = None
    change = "added" if old is None else ("unchanged" if old.oid == p.oid else "modified")
    text = p.dumps(rel).encode("utf-8")
    target = ws.abspath(pp)
    try:
        if not target.exists() or target.read_bytes() != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, text)
        add_ignore(ws.root, rel)
    except OSError as e:
        raise WorkspaceWriteError.from_os_error(e, ws.display(pp), "dvx add --external") from e
    return AddedPath(rel, pp, p, change)
