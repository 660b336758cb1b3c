"""Infer a starter suite from data, as pandera's infer_schema and TFDV's schema inference do.

One streaming pass with pyarrow.compute gathers, per column: the type, null
count, min and max (numbers), the distinct values while there are at most 20
(strings, integers, booleans), and exact uniqueness (integer and string
columns only: a unique float column is an accident, not a key). The suite
states what the data shows; it passes on the data it came from and is meant to
be edited.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx.errors import UsageError
from dvx.quality import arrow
from dvx.quality.tables import open_batches

if TYPE_CHECKING:
    import pyarrow as pa

MAX_CATEGORIES = 20


@dataclass
class ColumnFacts:
    """What one streaming pass learned about a column (for inference; not a stored
    :class:`dvx.quality.profile.ColumnProfile`)."""

    name: str
    type: pa.DataType
    rows: int = 0
    nulls: int = 0
    lo: Any = None
    hi: Any = None
    distinct: pa.Array | None = None  # Arrow array of distinct values while <= MAX_CATEGORIES, else None
    track_distinct: bool = True
    uniq: list[Any] = field(default_factory=list)
    track_unique: bool = False

    @property
    def unique(self) -> bool:
        if not self.track_unique or self.rows == self.nulls:
            return False
        import pyarrow as pa
        import pyarrow.compute as pc

        col = pa.chunked_array(self.uniq, type=self.uniq[0].type) if self.uniq else None
        return col is not None and len(pc.unique(col)) == self.rows - self.nulls


def profile_columns(path: str | os.PathLike[str]) -> list[ColumnFacts]:
    """The per-column facts ``infer_suite`` writes down, from one pass over ``path``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema, batches = open_batches(path)
    profs = []
    for f in schema:
        p = ColumnFacts(f.name, f.type)
        p.track_distinct = (arrow.is_string(f.type) or pa.types.is_integer(f.type)
                            or pa.types.is_boolean(f.type))
        p.track_unique = arrow.is_string(f.type) or pa.types.is_integer(f.type)
        profs.append(p)
    for b in batches:
        view = arrow.BatchView(b, 0)
        for p in profs:
            a = view.present(p.name)
            p.rows += b.num_rows
            p.nulls += b.num_rows - len(a)
            if not len(a):
                continue
            if arrow.is_numeric(p.type):
                mm = pc.min_max(a)
                lo, hi = mm["min"].as_py(), mm["max"].as_py()
                p.lo = lo if p.lo is None or lo < p.lo else p.lo
                p.hi = hi if p.hi is None or hi > p.hi else p.hi
            if p.track_distinct:
                u = pc.unique(a if p.distinct is None else pa.concat_arrays([p.distinct, pc.unique(a)]))
                if len(u) > MAX_CATEGORIES:
                    p.track_distinct = False
                    p.distinct = None
                else:
                    p.distinct = u
            if p.track_unique:
                p.uniq.append(a)
                # a repeat inside one batch already rules uniqueness out: stop keeping values
                if len(pc.unique(a)) != len(a):
                    p.track_unique = False
                    p.uniq = []
    return profs


def _gx_expectations(profs: list[ColumnFacts]) -> list[tuple[str, dict[str, Any]]]:
    import pyarrow as pa

    out: list[tuple[str, dict[str, Any]]] = [
        ("expect_table_columns_to_match_ordered_list", {"column_list": [p.name for p in profs]})]
    for p in profs:
        try:
            tname, _ = arrow.pandas_type(p.type, p.nulls > 0)
        except ValueError:
            tname = None
        if tname and tname != "object_":
            out.append(("expect_column_values_to_be_of_type", {"column": p.name, "type_": tname}))
        if p.nulls == 0 and p.rows:
            out.append(("expect_column_values_to_not_be_null", {"column": p.name}))
        if p.lo is not None and arrow.is_numeric(p.type):
            out.append(("expect_column_values_to_be_between",
                        {"column": p.name, "min_value": p.lo, "max_value": p.hi}))
        if p.track_distinct and p.distinct is not None and not pa.types.is_boolean(p.type) and not p.unique:
            vals = sorted(p.distinct.to_pylist())
            out.append(("expect_column_values_to_be_in_set", {"column": p.name, "value_set": vals}))
        if p.unique:
            out.append(("expect_column_values_to_be_unique", {"column": p.name}))
    return out


def _pandas_dtype(p: ColumnFacts) -> str:
    import pyarrow as pa

    if pa.types.is_integer(p.type) and p.nulls:
        return "float64"
    if pa.types.is_boolean(p.type) and p.nulls:
        return "object"
    if arrow.is_string(p.type):
        return "str"
    return str(pa.schema([pa.field(p.name, p.type)]).empty_table().to_pandas()[p.name].dtype)


def _pandera_yaml(profs: list[ColumnFacts], name: str) -> str:
    import warnings

    import pyarrow as pa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandera.pandas as pandera

    cols = {}
    for p in profs:
        checks = []
        if p.lo is not None and arrow.is_numeric(p.type):
            checks.append(pandera.Check.in_range(p.lo, p.hi))
        if p.track_distinct and p.distinct is not None and not pa.types.is_boolean(p.type) and not p.unique:
            checks.append(pandera.Check.isin(sorted(p.distinct.to_pylist())))
        cols[p.name] = pandera.Column(_pandas_dtype(p), checks, nullable=p.nulls > 0, unique=p.unique)
    schema = pandera.DataFrameSchema(cols, strict=True, name=name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(schema.to_yaml())


def suite_name_for(path: str | os.PathLike[str]) -> str:
    """A suite name from a dataset path: ``data/train.parquet`` -> ``train``."""
    base = Path(os.fspath(path).rstrip("/\\")).name
    for _ in range(2):
        stem, ext = os.path.splitext(base)
        if ext.lower() in (".gz", ".bz2", ".zst", ".lz4", ".parquet", ".pq", ".parq", ".csv", ".tsv",
                           ".jsonl", ".ndjson", ".arrow", ".feather", ".ipc", ".arrows"):
            base = stem
    return base or "dataset"


def infer_suite(path: str | os.PathLike[str], engine: str = "gx", name: str | None = None) -> tuple[str, str]:
    """Infer a suite from ``path``; returns (suite text, suggested file name).

    ``engine="gx"`` gives a Great Expectations suite as JSON, ``"pandera"`` a
    pandera schema as YAML (pandera's to_yaml).
    """
    if engine not in ("gx", "pandera"):
        raise UsageError(f"unknown engine '{engine}' (expected gx or pandera)")
    suite_name = name or suite_name_for(path)
    profs = profile_columns(path)
    if engine == "pandera":
        return _pandera_yaml(profs, suite_name), f"{suite_name}.yaml"
    exps = _gx_expectations(profs)
    doc = {
        "name": suite_name,
        "expectations": [{"type": t, "kwargs": k, "meta": {}} for t, k in exps],
        "meta": {"generated_by": "dvx expectations init", "source": Path(os.fspath(path)).as_posix()},
        "notes": None,
    }
    return json.dumps(doc, indent=2, default=str) + "\n", f"{suite_name}.json"
