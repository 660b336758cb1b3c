"""The pandas dtype great_expectations sees for an Arrow type, and GX's type names.

GX's pandas path checks ``expect_column_values_to_be_of_type`` against the
dtype ``tbl.to_pandas()`` would give: an integer column holding nulls is
``float64``, a bool column with nulls is ``object``, strings are ``str``
(pandas 3), naive timestamps ``datetime64``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dvx.quality.arrow.compute import NUMPY_DTYPES, is_string

if TYPE_CHECKING:
    import pyarrow as pa


def pandas_type(t: pa.DataType, has_nulls: bool) -> tuple[str, type]:
    """(GX observed name, pandas dtype.type) for an Arrow type, as tbl.to_pandas() gives it;
    ValueError for a type without a mapping here."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_integer(t):
        if has_nulls:
            return "float64", np.float64
        nt = np.dtype(NUMPY_DTYPES[str(t)]).type
        return nt.__name__, nt
    if pa.types.is_floating(t):
        nt = np.dtype(NUMPY_DTYPES[str(t)]).type
        return nt.__name__, nt
    if pa.types.is_boolean(t):
        return ("object_", np.object_) if has_nulls else ("bool", np.bool_)
    if is_string(t):
        return "str", str
    if pa.types.is_timestamp(t) and t.tz is None:
        return "datetime64", np.datetime64
    raise ValueError(f"no pandas mapping for {t}")


def arrow_type_supported(t: pa.DataType) -> bool:
    """True when :func:`pandas_type` maps ``t`` (else the slow path runs GX)."""
    try:
        pandas_type(t, False)
        return True
    except ValueError:
        return False


_NATIVE_TYPES: dict[str, tuple[type, ...]] = {
    "none": (type(None),), "bool": (bool,), "int": (int,), "long": (int,), "float": (float,),
    "bytes": (bytes,), "complex": (complex,), "str": (str,), "string_types": (str,), "list": (list,),
    "dict": (dict,),
}


def comparison_types(expected: str) -> tuple[type, ...]:
    """The types GX's pandas path accepts for a type name (numpy dtype + native names)."""
    import numpy as np

    out: list[type] = []
    try:
        out.append(np.dtype(expected).type)
    except TypeError:
        pass
    native = _NATIVE_TYPES.get(expected.lower())
    if native:
        out.extend(native)
    return tuple(out)
