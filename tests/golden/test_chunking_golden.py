"""Chunk boundaries and ids pinned on seeded data.

Changing the gear table, the masks or the normalisation changes every chunk
id in every repository; this test makes such a change impossible to miss
(as restic/chunker pins its vectors). Data: 4 MiB from Python's
``random.Random(23).randbytes``, default parameters 16/64/256 KiB.
"""

from __future__ import annotations

import random

import xxhash

from dvx.chunking import ChunkerParams, cut_points
from dvx.hashing import hash_hex

DATA = random.Random(23).randbytes(4 << 20)

EXPECTED_COUNT = 56
EXPECTED_FIRST_CUTS = [69212, 144212, 241698, 309015, 385057, 453231, 519069, 603862]
# xxh3-128 over the concatenated 16-byte ids of all 56 chunks.
EXPECTED_DIGEST = "f0caa2d446a0c9484ef644fafc2fd9d1"


def _digest(ends: list[int]) -> str:
    h = xxhash.xxh3_128()
    start = 0
    for e in ends:
        h.update(bytes.fromhex(hash_hex(DATA[start:e])))
        start = e
    return h.hexdigest()


def test_golden_boundaries() -> None:
    ends = cut_points(DATA, ChunkerParams())
    assert ends[:8] == EXPECTED_FIRST_CUTS
    assert len(ends) == EXPECTED_COUNT
    assert _digest(ends) == EXPECTED_DIGEST
