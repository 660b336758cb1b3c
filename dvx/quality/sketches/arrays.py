"""Arrow arrays over numpy buffers, built without pyarrow's Python conversion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa


def arrow_int64(a: np.ndarray) -> pa.Int64Array:
    """An Arrow int64 array over a numpy array's buffer.

    ``pyarrow.array(...)`` imports pandas on first use (0.9 s here) to check
    for pandas inputs; building from buffers does not, which keeps drift
    between stored profiles fast in a fresh process.
    """
    import pyarrow as pa

    a = np.ascontiguousarray(a, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(a), [None, pa.py_buffer(a)])


def arrow_strings(items: list[str]) -> pa.LargeStringArray:
    """An Arrow large_string array of ``items`` (no nulls), built from buffers."""
    import pyarrow as pa

    encoded = [x.encode("utf-8") for x in items]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    data = b"".join(encoded)
    return pa.Array.from_buffers(pa.large_string(), len(encoded),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])

