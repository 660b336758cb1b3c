"""Caps on every size read from a pack, an index or a manifest (docs/format.md, "Limits").

A remote, or a cache filled from one, is untrusted: each length it declares
is checked here before anything is allocated, read or decompressed, so a
crafted 100-byte index entry cannot make a reader allocate gigabytes.
"""

from __future__ import annotations

from dvx.chunking import MAX_CHUNK, MIN_CHUNK

__all__ = ["MAX_CHUNK", "MAX_INDEX", "MAX_MANIFEST", "MAX_PACK", "MAX_PACK_ENTRIES", "MIN_CHUNK", "zstd_bound"]

# File and tree manifests, profiles and validation results. A FileManifest of
# 64 MiB lists 3.3 million chunks (a 205 GiB file at the default 64 KiB
# average); a TreeManifest of 64 MiB about 1 million files with 40-byte paths.
# Larger ones would cost a reader more memory than the 256 MiB budget allows.
MAX_MANIFEST = 64 << 20
# No pack offset or pack reaches 1 TiB (packs are 32 MiB by default): larger
# offsets in an index entry are refused (an offset of 2**63 overflowed pread).
MAX_PACK = 1 << 40
# A pack's header lists at most this many blobs (40 MiB of 40-byte entries);
# a 32 MiB pack of 64-byte chunks holds about 320,000.
MAX_PACK_ENTRIES = 1 << 20

# One index file is read whole: 64 MiB is 1.4 million entries, where a local
# flush writes at most 65,536 per file and a push one per few packs.
MAX_INDEX = 64 << 20


def zstd_bound(raw_length: int) -> int:
    """Largest stored length accepted for a zstd blob of ``raw_length`` bytes (>= ZSTD_COMPRESSBOUND)."""
    return raw_length + (raw_length >> 7) + 1024
