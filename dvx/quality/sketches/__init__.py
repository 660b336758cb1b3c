"""Mergeable, deterministic sketches for column profiles, vectorised in numpy.

- :class:`QuantileSketch` (``kll``): a KLL quantile sketch (Karnin, Lang, Liberty 2016)
  over float64 values: levels of items, an item on level ``h`` standing for
  ``2**h`` input values. Rank error about 0.3 % at the default ``k = 1024``.
- :class:`DistinctSketch` (``hll``, over ``hashes``): HyperLogLog with ``2**12`` registers over a 32-bit
  hash (relative error about 1.6 %).
- :class:`FrequentItems` (``topk``): exact value counts while a column has at most
  ``cap`` distinct values, then the mergeable Misra-Gries summary (Agarwal et
  al. 2012): counts are under-estimated by at most ``n / (cap + 1)``.

Why not ``datasketches``' classes (measured here, 2 slow cores):
``kll_doubles_sketch.update(ndarray)`` costs 30 ns a value and its random
compactions are seeded from the clock, so the same data gives different bytes
and a profile could not be content-addressed; ``hll_sketch`` and
``frequent_strings_sketch`` accept one value per Python call, a per-row loop.
These classes take whole numpy/Arrow arrays, use a fixed-seed generator (same
input, same bytes) and serialise to plain little-endian arrays.

Speed and the KLL's sampling are described in :mod:`dvx.quality.sketches.kll`.
"""

from dvx.quality.sketches.arrays import arrow_int64, arrow_strings
from dvx.quality.sketches.hashes import hash32, hash_float64, hash_int64, hash_strings
from dvx.quality.sketches.hll import HLL_P, DistinctSketch
from dvx.quality.sketches.kll import DEFAULT_K, SAMPLE_START, QuantileSketch, kll_rank_error
from dvx.quality.sketches.topk import FrequentItems

__all__ = [
    "DEFAULT_K", "HLL_P", "SAMPLE_START", "DistinctSketch", "FrequentItems", "QuantileSketch", "arrow_int64",
    "arrow_strings", "hash32", "hash_float64", "hash_int64", "hash_strings", "kll_rank_error",
]
