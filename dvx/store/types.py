"""Types shared by the store and its callers: object ids, and what a byte source offers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NewType, Protocol

# An object's id: the 16-byte xxh3-128 of its raw bytes (docs/format.md).
# Functions take plain ``bytes`` (ids come from hex, manifests and indexes)
# and return ``ObjectId`` where they name an object they stored or verified.
ObjectId = NewType("ObjectId", bytes)


class BlobSource(Protocol):
    """Where verified object bytes come from: an ``ObjectStore`` (cache or remote)."""

    @property
    def display_root(self) -> str: ...

    def has(self, oid: bytes) -> bool: ...

    def get(self, oid: bytes) -> bytes: ...

    def get_many(self, oids: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]: ...

    def read_range(self, oid: bytes, start: int, end: int) -> bytes: ...
