"""zstd in the store: the 1/8 rule, forced modes, and the per-blob decision in auto mode."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from storekit import local_store, make_store, memory_root  # noqa: F401 - pytest fixtures

from dvx.hashing import hash_bytes
from dvx.store import ObjectStore, ObjectType
from dvx.store import blob as _pack
from dvx.store.blob import SAMPLE_FROM, encode_blob

TEXT = b"".join(b"%d,%d.%02d,category_%d,hello world\n" % (i, i * 7, i % 100, i % 13) for i in range(3000))


def _put(store: ObjectStore, items: list[bytes], **kw: object) -> list[bool]:
    with store.writer() as w:
        for b in items:
            w.put(hash_bytes(b), ObjectType.CHUNK, b, **kw)  # type: ignore[arg-type]
    return [store.locate(hash_bytes(b)).compressed for b in items]  # type: ignore[union-attr]


def test_compress_keeps_only_savings_of_an_eighth() -> None:
    assert _pack.compress(TEXT) is not None
    assert _pack.compress(os.urandom(65536)) is None
    # 1/4 random + 3/4 zeros saves far more than 1/8; 15/16 random does not.
    assert _pack.compress(os.urandom(16384) + bytes(49152)) is not None
    assert _pack.compress(os.urandom(61440) + bytes(4096)) is None
    c = _pack.compress(TEXT)
    assert c is not None and _pack.decompress(c, len(TEXT)) == TEXT


def test_text_is_stored_compressed_and_reads_back(local_store: ObjectStore) -> None:
    big = TEXT * 8  # >= 16 KiB: compressed on the thread pool
    assert _put(local_store, [TEXT, big]) == [True, True]
    assert local_store.get(hash_bytes(big)) == big
    e = local_store.locate(hash_bytes(big))
    assert e is not None and e.length < e.raw_length // 4


def test_forced_modes_and_uncompressed_store(make_store: Callable[..., ObjectStore]) -> None:
    s = make_store()
    a, b = TEXT + b"a", TEXT + b"b"
    assert _put(s, [a], compress=False) == [False]
    assert _put(s, [os.urandom(100)], compress=True) == [False]  # tried, saved nothing: raw
    plain = make_store(compression=None)
    assert _put(plain, [b], compress=True) == [False]
    assert plain.get(hash_bytes(b)) == b


def test_encode_blob_decides_on_each_blob_alone() -> None:
    rng = random.Random(5)
    assert encode_blob(rng.randbytes(65536)) is None
    assert encode_blob(TEXT) is not None
    assert encode_blob(b"x" * 63) is None  # too short to gain
    assert encode_blob(b"x" * (SAMPLE_FROM - 1)) is not None  # small blobs: tried whole


def test_auto_mode_compresses_text_right_after_a_long_random_run(local_store: ObjectStore) -> None:
    rng = random.Random(3)
    randoms = [rng.randbytes(20000) for _ in range(40)]
    texts = [TEXT + str(i).encode() * 50 for i in range(64)]
    flags = _put(local_store, randoms + texts + randoms[:0] + [rng.randbytes(70000)])
    assert not any(flags[:40])
    # every compressible blob is compressed, whatever came before it (the old
    # per-stream back-off stored the text after 8 random chunks raw)
    assert all(flags[40:104])
    assert flags[-1] is False


def test_small_blobs_are_decided_by_their_first_bytes() -> None:
    """Under SAMPLE_FROM the distinct-byte test decides without a zstd call: random bytes stay raw,
    small text is compressed, and each small blob is decided alone."""
    rnd = random.Random(7)
    for _ in range(200):
        assert _pack.stays_raw(rnd.randbytes(4096))
    text = b"".join(b"%d,user%d,%d.%02d\n" % (i, i % 97, i * 13 % 1000, i % 100) for i in range(300))[:4096]
    assert not _pack.stays_raw(text)
    out = encode_blob(text)
    assert out is not None and len(out) < len(text) // 2
    assert encode_blob(rnd.randbytes(4096)) is None
    assert encode_blob(text) == out  # after a random blob: the same decision
