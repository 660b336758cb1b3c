"""zstd in the store: the 1/8 rule, forced modes, and auto mode's back-off on incompressible data."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from storekit import local_store, make_store, memory_root  # noqa: F401 - pytest fixtures

from dvx.hashing import hash_bytes
from dvx.store import ObjectStore, ObjectType
from dvx.store import pack as _pack
from dvx.store.store import _AutoCompress

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


def test_auto_mode_backs_off_on_incompressible_runs_and_probes_again() -> None:
    a = _AutoCompress()
    tried = 0
    for _ in range(8):
        assert a.should_try()
        a.record(False)
        tried += 1
    # after 8 failures it skips SKIP0 objects, then probes one
    skipped = 0
    while not a.should_try():
        skipped += 1
    assert skipped == _AutoCompress.SKIP0
    a.record(False)  # failed probe: the next skip is twice as long
    skipped = 0
    while not a.should_try():
        skipped += 1
    assert skipped == 2 * _AutoCompress.SKIP0
    a.record(True)  # a probe that compresses resets everything
    assert a.should_try() and a.backoff == _AutoCompress.SKIP0


def test_auto_mode_in_the_writer_stores_random_raw_then_text_compressed(local_store: ObjectStore) -> None:
    rng = random.Random(3)
    randoms = [rng.randbytes(20000) for _ in range(40)]
    texts = [TEXT + str(i).encode() * 50 for i in range(2 * _AutoCompress.SKIP_MAX)]
    flags = _put(local_store, randoms + texts)
    assert not any(flags[:40])
    # text right after the random run is skipped for a while, but probing
    # resumes compression well before the end
    text_flags = flags[40:]
    assert not all(text_flags) and text_flags[-1] is True
    # at most one back-off period (plus the pool's lag) of text is stored raw
    assert text_flags.count(False) <= 2 * _AutoCompress.SKIP0 + 16
    assert all(text_flags[-_AutoCompress.SKIP_MAX :])
