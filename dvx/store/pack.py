"""Pack files (docs/format.md, "Pack format"), zstd, and the pack builders.

A pack is ``blob || blob || ... || header || u32 header length || b"DVXPACK1"``;
the header lists each blob's type, flags, raw and stored length and id, so a
pack describes itself and an index can be rebuilt from packs alone.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import IO, Any

import xxhash

from dvx._fsutil import create_tmp, fsync_dir
from dvx.store.index import Record, record_problem
from dvx.store.layout import index_path, pack_path, put_file
from dvx.store.limits import MAX_PACK_ENTRIES

__all__ = [
    "ENTRY_SIZE", "PACK_MAGIC", "TRAILER_SIZE", "FinishedPack", "LocalPackBuilder", "PackBuilder",
    "encode_header", "index_path", "pack_id_of", "pack_path", "parse_header", "parse_trailer", "records_from_pack",
    "sync_pack_dirs",
]

PACK_MAGIC = b"DVXPACK1"
# otype u8 | flags u8 | raw length u32 | stored length u32 | id 16s
_ENTRY = struct.Struct("<BBII16s")
# header length u32 | magic 8s
_TRAILER = struct.Struct("<I8s")
ENTRY_SIZE = _ENTRY.size
TRAILER_SIZE = _TRAILER.size
MAX_OBJECT = 0xFFFFFFFF

def encode_header(records: list[Record]) -> bytes:
    """Header + trailer for a pack whose blobs are ``records`` in order."""
    pack = _ENTRY.pack
    head = b"".join([pack(r[5], r[6], r[4], r[3], r[0]) for r in records])
    return head + _TRAILER.pack(len(head), PACK_MAGIC)


def parse_trailer(tail: bytes, pack_size: int) -> int:
    """Header length from a pack's last 12 bytes; ValueError when they are wrong."""
    if len(tail) != TRAILER_SIZE:
        raise ValueError(f"pack of {pack_size} bytes is too short for its {TRAILER_SIZE}-byte trailer")
    hlen, magic = _TRAILER.unpack(tail)
    if magic != PACK_MAGIC:
        raise ValueError(f"bad pack magic {magic!r}, expected {PACK_MAGIC!r} (truncated or not a pack)")
    if hlen % ENTRY_SIZE or hlen + TRAILER_SIZE > pack_size:
        raise ValueError(f"pack header length {hlen} does not fit a pack of {pack_size} bytes")
    if hlen // ENTRY_SIZE > MAX_PACK_ENTRIES:
        raise ValueError(f"pack header lists {hlen // ENTRY_SIZE} blobs, over the limit of {MAX_PACK_ENTRIES}")
    return int(hlen)


def parse_header(header: bytes, pack_id: bytes, pack_size: int) -> list[Record]:
    """Index records of a pack from its header bytes (offsets are the running sum of stored lengths).

    ValueError when an entry breaks a cap (docs/format.md, "Limits") or the
    lengths do not add up to the pack's size.
    """
    out: list[Record] = []
    offset = 0
    for i, (otype, flags, raw, stored, oid) in enumerate(_ENTRY.iter_unpack(header)):
        rec = Record(oid, pack_id, offset, stored, raw, otype, flags)
        problem = record_problem(rec)
        if problem:
            raise ValueError(f"pack header entry {i} (object {oid.hex()}): {problem}")
        out.append(rec)
        offset += stored
    if offset + len(header) + TRAILER_SIZE != pack_size:
        raise ValueError(
            f"pack blobs sum to {offset} bytes but the pack has {pack_size - len(header) - TRAILER_SIZE}"
        )
    return out


def records_from_pack(data: bytes, pack_id: bytes) -> list[Record]:
    """Rebuild a pack's index records from the whole pack's bytes."""
    hlen = parse_trailer(data[-TRAILER_SIZE:], len(data))
    return parse_header(data[len(data) - TRAILER_SIZE - hlen : len(data) - TRAILER_SIZE], pack_id, len(data))


def pack_id_of(tail: bytes) -> bytes:
    """A pack's id: xxh3-128 of its tail (header entries, header length, magic)."""
    return xxhash.xxh3_128_digest(tail)


def sync_pack_dirs(root: str, pack_ids: list[bytes]) -> None:
    """fsync the folders that new local packs were renamed into: each distinct
    ``packs/<xx>/`` once, then ``packs/`` and the store root (a new ``<xx>``
    or ``packs`` entry), so the names survive a power cut."""
    dirs = sorted({os.path.dirname(pack_path(root, p)) for p in pack_ids})
    for d in [*dirs, os.path.join(root, "packs"), root]:
        fsync_dir(d)


@dataclass
class FinishedPack:
    """A pack that is written, verified and in place: its id, size and index records."""

    pack_id: bytes
    size: int
    records: list[Record]


class PackBuilder:
    """Collects blobs into one pack; ``finish`` puts it in place. Base: in memory, for any fsspec fs."""

    def __init__(self, fs: Any, root: str, *, local: bool = False, check: bool = True) -> None:
        self.fs = fs
        self.root = root
        self.local = local
        self.check = check
        self.records: list[Record] = []
        self.size = 0
        self._hash = xxhash.xxh3_128()
        self._buf = bytearray()

    def add(self, oid: bytes, otype: int, flags: int, raw_length: int, blob: bytes | memoryview) -> None:
        """Append one stored blob."""
        self._write(blob)
        self.records.append(Record(oid, b"", self.size, len(blob), raw_length, otype, flags))
        self.size += len(blob)

    def _write(self, b: bytes | memoryview) -> None:
        self._buf += b

    def _tail(self) -> bytes:
        # The pack's id is the hash of its tail (header + trailer), which lists
        # every blob's id, type, flags and lengths: that names the content (each
        # blob is verified against its own id on read) without hashing every
        # byte of the pack a second time (0.35 s per GiB of `add`).
        tail = encode_header(self.records)
        self._hash.update(tail)
        return tail

    def finish(self) -> FinishedPack:
        """Write header and trailer, put the pack at its final name, verify it; return its records."""
        tail = self._tail()
        self._buf += tail
        pack_id = self._hash.digest()
        total = len(self._buf)
        path = pack_path(self.root, pack_id)
        # An S3 PUT is atomic: the key is absent until the whole body is there;
        # a folder gets temp file + rename. put_file checks the size written.
        data, self._buf = bytes(self._buf), bytearray()
        put_file(self.fs, self.local, path, data, check=self.check)
        return FinishedPack(pack_id, total, self._records_for(pack_id))

    def _records_for(self, pack_id: bytes) -> list[Record]:
        return [r._replace(pack=pack_id) for r in self.records]

    def abort(self) -> None:
        """Drop the unfinished pack."""
        self._buf = bytearray()


class LocalPackBuilder(PackBuilder):
    """Streams the pack to ``root/tmp/<random>`` while hashing it; fsync, verify, rename into place.

    Memory stays at one blob: nothing of the pack is held once written.
    (Handing the writes to a thread was measured and gave nothing on 2 cores.)
    """

    def __init__(self, fs: Any, root: str, fsync: bool = True) -> None:
        super().__init__(fs, root, local=True)
        self.fsync = fsync
        tmpdir = os.path.join(root, "tmp")
        os.makedirs(tmpdir, exist_ok=True)
        # A locked dvx temp file (_fsutil.create_tmp): the next writer removes
        # it if this process is killed, never while it lives.
        tmp, fd = create_tmp(os.path.join(tmpdir, "pack"))
        self.tmp = str(tmp)
        self._f: IO[bytes] = open(fd, "r+b")  # noqa: SIM115 - closed in commit/abort

    def _write(self, b: bytes | memoryview) -> None:
        self._f.write(b)

    def seal(self) -> None:
        """Write header and trailer (the cheap part of ``finish``; ``commit`` may run in another thread)."""
        self._tail_bytes = self._tail()
        self._f.write(self._tail_bytes)
        self._f.flush()

    def commit(self) -> FinishedPack:
        """fsync, re-read the tail, rename into ``packs/``; on failure the temp file is removed.

        The folders the new name was added to are not synced here: the
        caller syncs them (``sync_pack_dirs``) before an index names the pack,
        once per folder for all the packs of one index, not once per pack.
        """
        tail = self._tail_bytes
        f = self._f
        try:
            fd = f.fileno()
            if self.fsync:
                os.fsync(fd)
            total = self.size + len(tail)
            st = os.fstat(fd)
            back = os.pread(fd, len(tail), self.size)
            if st.st_size != total or back != tail:
                raise OSError(f"pack {self.tmp}: read back {st.st_size} bytes or another header after writing {total}")
            pack_id = self._hash.digest()
            final = pack_path(self.root, pack_id)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(self.tmp, final)  # still locked: no cleaner takes it for debris
            f.close()
        except BaseException:
            self.abort()
            raise
        return FinishedPack(pack_id, total, self._records_for(pack_id))

    def finish(self) -> FinishedPack:
        """Write header and trailer, fsync, re-read the tail, rename into ``packs/``, sync its folders."""
        self.seal()
        fp = self.commit()
        if self.fsync:
            sync_pack_dirs(self.root, [fp.pack_id])
        return fp

    def abort(self) -> None:
        """Close and delete the temp file."""
        try:
            self._f.close()
        finally:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
