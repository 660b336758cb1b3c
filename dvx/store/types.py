"""Types shared by the store and its callers: object ids, and what a source of verified bytes offers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, NewType, Protocol

if TYPE_CHECKING:
    from dvx.store.objects import FileManifest, TreeManifest

# An object's id: the 16-byte xxh3-128 of its raw bytes (docs/format.md).
# Functions take plain ``bytes`` (ids come from hex, manifests and indexes)
# and return ``ObjectId`` where they name an object they stored or verified.
ObjectId = NewType("ObjectId", bytes)


class BlobSource(Protocol):
    """Where verified object bytes come from: an ``ObjectStore`` (the cache or a remote).

    Every method returns bytes checked against their id, or raises
    ``ObjectMissingError`` / ``CorruptObjectError`` naming the object.
    """

    @property
    def display_root(self) -> str: ...

    def has(self, oid: bytes) -> bool: ...

    def get(self, oid: bytes) -> bytes: ...

    def get_many(self, oids: Iterable[bytes], *, jobs: int = 1) -> Iterator[tuple[bytes, bytes]]: ...

    def read_range(self, oid: bytes, start: int, end: int) -> bytes: ...

    def get_file_manifest(self, oid: bytes) -> FileManifest: ...

    def get_tree_manifest(self, oid: bytes) -> TreeManifest: ...

    def iter_file(self, m: FileManifest, name: str) -> Iterator[bytes]: ...

    def write_file(self, m: FileManifest, out: IO[bytes], name: str) -> int: ...
