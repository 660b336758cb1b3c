"""Arrow kernels the evaluators share: type tests, literals, set membership, duplicates.

pyarrow imports pandas (~0.3 s) the first time it converts a Python object
(pa.array, pa.scalar, or a Python number passed to a compute function). The
engine builds its few literals from numpy buffers instead, so validating
Parquet never imports pandas. pyarrow itself is imported inside the functions:
importing this package costs nothing until a suite runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

# Arrow type name -> numpy dtype name, for the fixed-width numeric types.
NUMPY_DTYPES = {"int64": "int64", "uint64": "uint64", "double": "float64", "float": "float32",
                "halffloat": "float16", "int8": "int8", "int16": "int16", "int32": "int32", "uint8": "uint8",
                "uint16": "uint16", "uint32": "uint32"}


def is_numeric(t: pa.DataType) -> bool:
    """Integer or floating-point Arrow type."""
    import pyarrow as pa

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def is_string(t: pa.DataType) -> bool:
    """Any of Arrow's UTF-8 string types."""
    import pyarrow as pa

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def is_dictionary(t: pa.DataType) -> bool:
    """A dictionary-encoded Arrow type."""
    import pyarrow as pa

    return bool(pa.types.is_dictionary(t))


def is_number(v: object) -> bool:
    """A Python int or float (bool excluded, as GX's kwargs checks do)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def literal_array(values: list[Any], t: pa.DataType) -> pa.Array:
    """An Arrow array of int/float/bool/string ``values`` built without pyarrow's Python conversion."""
    import numpy as np
    import pyarrow as pa

    n = len(values)
    if pa.types.is_boolean(t):
        bits = np.packbits(np.array(values, dtype=bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits.tobytes())])
    if is_string(t):
        enc = [str(v).encode() for v in values]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum([len(e) for e in enc], out=offsets[1:])
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.tobytes()),
                                                      pa.py_buffer(b"".join(enc))])
    if pa.types.is_null(t):
        return pa.nulls(n)
    arr = np.array(values, dtype=NUMPY_DTYPES[str(t)])
    return pa.Array.from_buffers(t, n, [None, pa.py_buffer(arr.tobytes())])


def literal(v: bool | int | float | str, t: pa.DataType | None = None) -> pa.Scalar:
    """An Arrow scalar for a Python bool/int/float/str (type inferred when ``t`` is None)."""
    import pyarrow as pa

    if t is None:
        if isinstance(v, bool):
            t = pa.bool_()
        elif isinstance(v, int):
            t = pa.int64() if -(2 ** 63) <= v < 2 ** 63 else pa.float64()
        elif isinstance(v, float):
            t = pa.float64()
        else:
            t = pa.string()
    return literal_array([v], t)[0]


def and_valid(mask: pa.Array, valid: pa.Array | None) -> pa.Array:
    """``mask`` with nulls as False, restricted to the present values (``valid`` None: all)."""
    import pyarrow.compute as pc

    mask = pc.fill_null(mask, literal(False))
    return mask if valid is None else pc.and_(mask, valid)


def value_set(values: Iterable[Any], t: pa.DataType) -> pa.Array | None:
    """The value set as an array of the column type; None when pandas would compare
    values this engine cannot reproduce (mixed types), so the slow path decides."""
    import pyarrow as pa

    vals = [v for v in values if v is not None]
    if is_numeric(t):
        if not all(is_number(v) for v in vals):
            return None
        if pa.types.is_integer(t):
            # 1.5 can never equal an integer; 2.0 equals 2 in pandas.
            vals = [int(v) for v in vals if float(v).is_integer()]
            lo, hi = (-(2 ** 63), 2 ** 63 - 1) if pa.types.is_signed_integer(t) else (0, 2 ** 64 - 1)
            vals = [v for v in vals if lo <= v <= hi]
            return literal_array(vals, pa.int64() if pa.types.is_signed_integer(t) else pa.uint64())
        return literal_array([float(v) for v in vals], pa.float64())
    if is_string(t):
        if not all(isinstance(v, str) for v in vals):
            return None
        return literal_array(vals, pa.string())
    return None


def set_column(a: pa.Array) -> pa.Array:
    """Cast a column to the type :func:`value_set` uses, so is_in compares like pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_signed_integer(a.type):
        return pc.cast(a, pa.int64())
    if pa.types.is_unsigned_integer(a.type):
        return pc.cast(a, pa.uint64())
    if pa.types.is_floating(a.type):
        return pc.add(pc.cast(a, pa.float64()), literal(0.0))  # -0.0 -> 0.0, as pandas compares
    if is_string(a.type):
        return pc.cast(a, pa.string())
    return a


def sortable(t: pa.DataType) -> bool:
    """Integer and float columns: numpy's sort beats Arrow's hash table 2-3x at 10M distinct."""
    return is_numeric(t) and str(t) in NUMPY_DTYPES


def sorted_duplicates(col: pa.ChunkedArray) -> tuple[int, pa.Array | None]:
    """(count of values that repeat, counting every occurrence; array of the repeated values)."""
    import numpy as np
    import pyarrow as pa

    s = np.sort(col.to_numpy())
    eq = s[1:] == s[:-1]
    if not eq.any():
        return 0, None
    rep = np.zeros(len(s), dtype=bool)
    rep[1:] |= eq
    rep[:-1] |= eq
    dups = np.unique(s[1:][eq])
    arr = pa.Array.from_buffers(col.type, len(dups), [None, pa.py_buffer(dups.tobytes())])
    return int(rep.sum()), arr


def distinct_count(col: pa.ChunkedArray) -> int:
    """Number of distinct values of a null-free column."""
    import pyarrow.compute as pc

    if sortable(col.type):
        import numpy as np

        s = np.sort(col.to_numpy())
        return int((s[1:] != s[:-1]).sum()) + 1 if len(s) else 0
    return len(pc.unique(col))
