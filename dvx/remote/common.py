"""What push, fetch and status share: the result type, request counting, the remote's index, closures."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from dvx.errors import RemoteError
from dvx.remote.errors import translate_errors
from dvx.remote.session import Remote
from dvx.store import FileManifest, ObjectStore, ObjectType

# progress(kind, n): ("total", bytes to move) once, then ("bytes", n) as they move.
Progress = Callable[[str, int], None]

# Chunks first, manifests last: nothing is ever named before what it names.
ORDER = {ObjectType.CHUNK: 0, ObjectType.PROFILE: 1, ObjectType.RESULT: 1, ObjectType.FILE: 2, ObjectType.TREE: 3}


@dataclass
class TransferResult:
    """What a push or fetch did."""

    objects: int = 0              # objects moved
    bytes: int = 0                # stored (possibly compressed) object bytes moved
    raw_bytes: int = 0            # the same objects' raw size
    bytes_sent: int = 0           # request bodies sent (packs, indexes)
    bytes_received: int = 0       # response bodies received (index files, ranges)
    packs: int = 0                # packs written (push) or read from (fetch)
    indexes: int = 0              # index files written (push)
    requests: int = 0             # HTTP requests (s3) or filesystem calls (others)
    present: int = 0              # objects already at the destination
    elapsed: float = 0.0
    missing: list[builtins.bytes] = field(default_factory=list)  # objects neither side has

    def add(self, other: TransferResult) -> None:
        """Count ``other``, another transfer of the same command, in this result."""
        for f in fields(TransferResult):  # a subclass (scope.ScopedTransfer) adds fields of its own
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class Counter:
    """Requests and bytes of one transfer: real HTTP requests for s3fs (the remote's hook),
    else the remote store's filesystem calls; bytes as the remote store counted them."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.hooked = remote.hook_requests()
        self.start = remote.requests.count
        self.io0 = remote.store.io.snapshot()

    def fill(self, res: TransferResult) -> None:
        """Set ``res``'s request and byte counts."""
        calls, received, sent = (a - b for a, b in zip(self.remote.store.io.snapshot(), self.io0, strict=True))
        res.requests = self.remote.requests.count - self.start if self.hooked else calls
        res.bytes_sent = sent
        res.bytes_received = received


def load_index(local: ObjectStore, remote: Remote, *, must_exist: bool) -> None:
    """Load the remote's index (verified copies of its index files kept under the local cache).

    RemoteError when the remote's bucket does not exist, or (``must_exist``)
    its folder does not.
    """
    remote.use_index_cache(local.root)
    with translate_errors(remote):
        remote.store.refresh()
        if remote.store.index_names():
            return
        if remote.store.local:
            if must_exist and not os.path.isdir(remote.root):
                raise RemoteError(f"remote {remote.label}: folder {remote.root} does not exist",
                                  "check the remote URL, or push to it first")
        elif remote.is_s3:
            _check_bucket(remote)


def _check_bucket(remote: Remote) -> None:
    bucket = remote.root.split("/", 1)[0]
    try:
        with translate_errors(remote):
            remote.fs.call_s3("head_bucket", Bucket=bucket)
    except RemoteError as e:
        if "does not exist" in e.message or "not found" in e.message:
            raise RemoteError(
                f"remote {remote.label}: the bucket {bucket!r} does not exist",
                "create the bucket first or fix the remote URL (`dvx remote modify NAME url ...`)",
            ) from None
        raise


def closure(
    local: ObjectStore, roots: list[tuple[bytes, ObjectType]], remote_has: Callable[[bytes], bool]
) -> tuple[list[dict[bytes, ObjectType]], list[bytes]]:
    """Per root, every object it reaches through local manifests; and ids found nowhere.

    A manifest absent locally but on the remote is taken as complete there
    (push writes manifests after what they name), so its subtree is skipped.
    """
    per_root: list[dict[bytes, ObjectType]] = []
    nowhere: dict[bytes, None] = {}
    for oid, otype in roots:
        objs: dict[bytes, ObjectType] = {}
        per_root.append(objs)
        if not local.has(oid):
            if not remote_has(oid):
                nowhere[oid] = None
            continue
        objs[oid] = otype
        files: list[bytes] = []
        if otype == ObjectType.TREE:
            for e in local.get_tree_manifest(oid).entries:
                if e.file_oid in objs:
                    continue
                if local.has(e.file_oid):
                    objs[e.file_oid] = ObjectType.FILE
                    files.append(e.file_oid)
                elif not remote_has(e.file_oid):
                    nowhere[e.file_oid] = None
        elif otype == ObjectType.FILE:
            files.append(oid)
        datas = local.get_many(files) if otype == ObjectType.TREE else ((oid, local.get(oid)),)
        for foid, data in datas if files else ():
            m = local.decode_manifest(foid, data, FileManifest)
            for c in m.chunks:
                if c.oid in objs:
                    continue
                if local.has(c.oid):
                    objs[c.oid] = ObjectType.CHUNK
                elif not remote_has(c.oid):
                    nowhere[c.oid] = None
    return per_root, list(nowhere)
