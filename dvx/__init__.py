"""dvx: git-native data version control, validation and drift for ML datasets.

The public Python API is imported on first use (``import dvx`` stays cheap:
no pyarrow, fsspec or pandas until a function is called)::

    import dvx
    table = dvx.read_table("data/train.parquet", rev="v1.0", columns=["a", "b"])
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# public name -> module defining it (imported by __getattr__ on first access)
_LAZY = {
    "open": "dvx.api",
    "read_table": "dvx.api",
    "read_pandas": "dvx.api",
    "read_polars": "dvx.api",
    "dataset": "dvx.api",
    "stats": "dvx.api",
    "validate": "dvx.api",
    "drift": "dvx.api",
    "to_dask": "dvx.api",
    "DvxFileSystem": "dvx.fs",
    "require_valid": "dvx.gate",
}

__all__ = ["__version__", *_LAZY]  # noqa: PLE0604 - the keys of _LAZY are the strings


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'dvx' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
