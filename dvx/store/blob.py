"""One stored blob: encoding (zstd, decided per blob), decoding and verification against its id.

Every read of a blob, from the cache or a remote, for ``get``, a transfer
or healing, goes through ``decode_blob``; every write picks its encoding
with ``encode_blob``. Errors state facts (which object, which pack, which
store, what is wrong); which command could help is the application's call.
"""

from __future__ import annotations

import threading
from typing import Any

from dvx.errors import CorruptObjectError, UnsafePathError
from dvx.hashing import hash_bytes
from dvx.store.index import FLAG_ZSTD, Record, record_problem
from dvx.store.limits import MAX_CHUNK
from dvx.store.objects import UnsafeTreePathError, shown_path

# A bad index entry is not repaired by fetching or adding again (the entry
# makes the object look present): the hint names no command.
HINT_BAD_ENTRY = "an index file lists it wrongly (damaged or tampered with); nothing of it was read"

# Blobs shorter than this are stored raw: zstd's frame overhead eats the gain.
MIN_COMPRESS = 64
# The per-blob rule. A blob is stored compressed when zstd level 1 saves at
# least 1/8 of it (less is not worth a decompress on every read). Blobs over
# SAMPLE_FROM bytes first compress their first SAMPLE bytes and skip the
# whole when the sample saves under 1/16. Measured with pyarrow's zstd on a
# loaded 2-core machine, per 64 KiB chunk: random bytes cost 23 us to try
# whole, 13 us to refuse by sample (a fixed ~12 us per call dominates);
# CSV costs 168 us whole plus 19 us for its sample (2 KiB of CSV compresses
# to 0.27, random to 1.005, so the sample separates them by a wide margin).
# The decision depends only on the blob's bytes, never on the blobs before
# it: a CSV pushed after a random file is stored as compressed as alone.
SAMPLE = 2 << 10
SAMPLE_FROM = 8 << 10
DISTINCT_SAMPLE = 256

_codec_lock = threading.Lock()
_codec: Any = None


def _zstd() -> Any:
    # pyarrow costs ~0.14 s to import: only when something is (de)compressed.
    global _codec
    if _codec is None:
        with _codec_lock:
            if _codec is None:
                import pyarrow

                _codec = pyarrow.Codec("zstd", compression_level=1)
    return _codec


def compress(data: bytes | memoryview) -> bytes | None:
    """zstd level 1 of ``data``, or None when it saves less than 1/8 (not worth a decompress)."""
    out: bytes = _zstd().compress(data, asbytes=True)
    raw = len(data)
    return out if len(out) <= raw - raw // 8 else None


def stays_raw(data: bytes | memoryview) -> bool:
    """The cheap half of the per-blob rule: True when ``data`` is stored raw without trying it whole
    (too short, or a blob over SAMPLE_FROM bytes whose first SAMPLE bytes save under 1/16)."""
    n = len(data)
    if n < MIN_COMPRESS:
        return True
    if n > SAMPLE_FROM:
        sample = _zstd().compress(data[:SAMPLE], asbytes=True)
        return len(sample) > SAMPLE - SAMPLE // 16
    # Small blobs (a 4 KiB file, a manifest): a zstd call costs ~12 us whatever the size, so 20,000
    # random files cost 0.3 s of push. Their first 256 bytes decide instead (~6 us): random bytes
    # show 138-184 distinct values there, CSV ~20; over half distinct is stored raw (random float64
    # and uncompressed Parquet pages, 140-158 distinct, save only ~6% anyway).
    head = bytes(data[:DISTINCT_SAMPLE])
    return len(set(head)) * 2 > len(head)


def encode_blob(data: bytes | memoryview) -> bytes | None:
    """The per-blob compression decision: the compressed blob, or None to store ``data`` raw.

    ``stays_raw`` then ``compress``; safe to call from several threads
    (pyarrow releases the GIL).
    """
    return None if stays_raw(data) else compress(data)


def decompress(data: bytes | memoryview, raw_length: int) -> bytes:
    """Inverse of ``compress``; raises ValueError on bad input."""
    try:
        out: bytes = _zstd().decompress(data, decompressed_size=raw_length, asbytes=True)
    except Exception as e:  # pyarrow.ArrowException and friends
        raise ValueError(f"zstd: {e}") from e
    if len(out) != raw_length:
        raise ValueError(f"zstd: got {len(out)} bytes, expected {raw_length}")
    return out


def check_record(rec: Record, where: str, max_chunk: int = MAX_CHUNK) -> Record:
    """``rec`` when its lengths, type and flags are within the caps (docs/format.md, "Limits");
    else CorruptObjectError naming the object, its pack and ``where``. Call before reading it."""
    problem = record_problem(rec, max_chunk)
    if problem is not None:
        raise CorruptObjectError(
            f"object {rec[0].hex()} in pack {rec[1].hex()} of {where} has a bad index entry: {problem}",
            HINT_BAD_ENTRY,
        )
    return rec


def decode_blob(rec: Record, blob: bytes | memoryview, where: str, max_chunk: int = MAX_CHUNK) -> bytes:
    """The raw bytes of a stored blob read from a pack, verified against its id.

    CorruptObjectError naming the object, its pack and ``where`` (a store
    root or a remote) when the entry breaks a cap, the blob is short, does
    not decompress to exactly its raw length (the output buffer is that
    length, so a bomb cannot grow it), or does not hash to its id.
    """
    raw = decode_blob_view(rec, blob, where, max_chunk)
    return raw if isinstance(raw, bytes) else bytes(raw)


def decode_blob_view(rec: Record, blob: bytes | memoryview, where: str, max_chunk: int = MAX_CHUNK) -> bytes | memoryview:
    """``decode_blob`` without the copy of an uncompressed blob: ``blob`` itself once verified.

    For readers that copy the bytes onwards anyway (versioned reads): the
    copy saved is a third of the time of a cached whole-file read.
    """
    check_record(rec, where, max_chunk)
    oid, pid, offset, stored, raw_len, _otype, flags = rec
    if len(blob) != stored:
        raise CorruptObjectError(f"{_what(rec, where)} is truncated (got {len(blob)} of {stored} bytes at offset {offset})")
    raw: bytes | memoryview
    if flags & FLAG_ZSTD:
        try:
            raw = decompress(blob, raw_len)
        except ValueError as e:
            raise CorruptObjectError(f"{_what(rec, where)} is corrupt: it does not decompress ({e})") from None
    else:
        raw = blob  # verified below, not copied
    if len(raw) != raw_len or hash_bytes(raw) != oid:
        raise CorruptObjectError(f"{_what(rec, where)} is corrupt: its bytes do not match its id")
    return raw


def _what(rec: Record, where: str) -> str:
    """How a message names a stored object (built only for a message: reads verify millions)."""
    return f"object {rec[0].hex()} in pack {rec[1].hex()} of {where}"


def unsafe_tree_error(oid: bytes, where: str, e: UnsafeTreePathError) -> UnsafePathError:
    """The error for a tree object whose entry names a path dvx refuses to create.

    Exit 2, not "corrupt": the object hashes to its id; someone wrote it on
    purpose. ``oid`` lets a caller name the pointer that led to it.
    """
    err = UnsafePathError(
        f"tree {oid.hex()} in {where} names {shown_path(e.path)}, which {e.reason}",
        "the tree was crafted or written by a broken tool: do not check it out; restore the pointer "
        "from a trusted commit (`git checkout COMMIT -- PATH.dvx`)",
    )
    err.oid = oid  # type: ignore[attr-defined]
    return err
