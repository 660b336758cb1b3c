"""Planning: which evaluator answers an expectation on a given schema.

:func:`plan` returns an :class:`~dvx.quality.arrow.evaluators.Evaluator`, an
immediate :data:`~dvx.quality.gx_results.Outcome` (schema-only expectations),
:class:`Missing` (the expectation names a column the data lacks) or None: an
expectation, kwarg, column type or regex this engine does not handle, which
validate.py then runs on the slow path through great_expectations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from dvx.quality.arrow.collect import CollectEval
from dvx.quality.arrow.compute import and_valid, is_number, is_numeric, is_string, literal, literal_array, set_column, value_set
from dvx.quality.arrow.dtypes import arrow_type_supported
from dvx.quality.arrow.evaluators import (
    CompoundUniqueEval,
    Evaluator,
    MapEval,
    RowCountEval,
    StatsEval,
    TypeEval,
    bad_not_null,
    bad_present,
)
from dvx.quality.gx_results import Outcome, schema_result
from dvx.quality.suite import Expectation

if TYPE_CHECKING:
    import pyarrow as pa


class Missing:
    """Plan outcome: the expectation names a column the data lacks (GX fails it)."""

    def __init__(self, column: str) -> None:
        self.column = column


Planned: TypeAlias = Evaluator | Outcome | Missing | None

# kwargs that change the meaning of an expectation in ways this engine does not
# implement: such expectations go to the slow path.
_UNSUPPORTED_KWARGS = {"row_condition", "condition_parser", "parse_strings_as_datetimes", "output_strftime_format",
                       "allow_cross_type_comparisons", "result_format"}

# A column planner gets (column name, its Arrow type, kwargs, mostly) for a column
# the schema has, of a type pandas_type maps; None sends the expectation to GX.
ColumnPlanner = Callable[[str, "pa.DataType", dict[str, Any], float], Evaluator | None]


def _regex_ok(pattern: object) -> bool:
    """True when RE2 (Arrow) and Python re both accept the pattern."""
    if not isinstance(pattern, str):
        return False
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        re.compile(pattern)
        pc.match_substring_regex(literal_array([""], pa.string()), pattern=pattern)
    except Exception:  # noqa: BLE001 - any failure means: let GX decide
        return False
    return True


def _not_null(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
    return MapEval(col, mostly, bad_not_null, over_all_rows=True, elementwise=False, missing_listed_as_null=True)


def _null(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
    return MapEval(col, mostly, bad_present, over_all_rows=True, elementwise=False)


def _of_type(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
    tp = kw.get("type_")
    if tp is not None and not isinstance(tp, str):
        return None
    return TypeEval(col, ctype, tp, None, mostly)


def _in_type_list(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
    tl = kw.get("type_list")
    if tl is not None and not (isinstance(tl, list) and all(isinstance(x, str) for x in tl)):
        return None
    return TypeEval(col, ctype, None, tl, mostly)


def _between(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    lo, hi = kw.get("min_value"), kw.get("max_value")
    if not is_numeric(ctype) or (lo is None and hi is None) or not all(x is None or is_number(x) for x in (lo, hi)):
        return None
    smin, smax = bool(kw.get("strict_min")), bool(kw.get("strict_max"))
    integral = pa.types.is_integer(ctype)
    lo_s = None if lo is None else literal(lo if isinstance(lo, int) and integral else float(lo))
    hi_s = None if hi is None else literal(hi if isinstance(hi, int) and integral else float(hi))

    def bad_between(a: pa.Array, v: pa.Array | None) -> pa.Array:
        ok = None
        if lo_s is not None:
            ok = pc.greater(a, lo_s) if smin else pc.greater_equal(a, lo_s)
        if hi_s is not None:
            up = pc.less(a, hi_s) if smax else pc.less_equal(a, hi_s)
            ok = up if ok is None else pc.and_(ok, up)
        return and_valid(pc.invert(ok), v)

    return MapEval(col, mostly, bad_between)


def _set_planner(mode: str) -> ColumnPlanner:
    """in_set / not_in_set (map expectations) or distinct_in_set (whole column)."""

    def planner(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
        import pyarrow.compute as pc

        vs_raw = kw.get("value_set")
        if not isinstance(vs_raw, (list, tuple, set)):
            return None
        vs = value_set(vs_raw, ctype)
        if vs is None:
            return None
        if mode == "distinct_in_set":
            return CollectEval(col, "distinct_in_set", kw, value_set=vs)
        inside = mode == "in_set"

        def bad_set(a: pa.Array, v: pa.Array | None) -> pa.Array:
            hit = pc.is_in(set_column(a), value_set=vs)
            return and_valid(pc.invert(hit) if inside else hit, v)

        return MapEval(col, mostly, bad_set)

    return planner


def _regex_planner(match: bool) -> ColumnPlanner:
    def planner(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
        import pyarrow.compute as pc

        rx = kw.get("regex")
        if not is_string(ctype) or not _regex_ok(rx):
            return None

        def bad_regex(a: pa.Array, v: pa.Array | None) -> pa.Array:
            hit = pc.match_substring_regex(a, pattern=rx)
            return and_valid(pc.invert(hit) if match else hit, v)

        return MapEval(col, mostly, bad_regex)

    return planner


def _unique(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
    return CollectEval(col, "unique", kw, mostly=mostly)


def _aggregate_planner(make: Callable[[str, dict[str, Any]], Evaluator], numeric_only: bool) -> ColumnPlanner:
    """An aggregate "to be between": numeric bounds; min/max/mean/... of strings or
    dates follow GX's rules, so those go to the slow path."""

    def planner(col: str, ctype: pa.DataType, kw: dict[str, Any], mostly: float) -> Evaluator | None:
        if not all(x is None or is_number(x) for x in (kw.get("min_value"), kw.get("max_value"))):
            return None
        if numeric_only and not is_numeric(ctype):
            return None
        return make(col, kw)

    return planner


def _collect(mode: str) -> Callable[[str, dict[str, Any]], Evaluator]:
    return lambda col, kw: CollectEval(col, mode, kw)


def _stats(stat: str) -> Callable[[str, dict[str, Any]], Evaluator]:
    return lambda col, kw: StatsEval(col, stat, kw)


_COLUMN_PLANNERS: dict[str, ColumnPlanner] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_null": _null,
    "expect_column_values_to_be_of_type": _of_type,
    "expect_column_values_to_be_in_type_list": _in_type_list,
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": _set_planner("in_set"),
    "expect_column_values_to_not_be_in_set": _set_planner("not_in_set"),
    "expect_column_distinct_values_to_be_in_set": _set_planner("distinct_in_set"),
    "expect_column_values_to_match_regex": _regex_planner(match=True),
    "expect_column_values_to_not_match_regex": _regex_planner(match=False),
    "expect_column_values_to_be_unique": _unique,
    "expect_column_proportion_of_unique_values_to_be_between": _aggregate_planner(_collect("proportion_unique"), False),
    "expect_column_unique_value_count_to_be_between": _aggregate_planner(_collect("unique_value_count"), False),
    "expect_column_median_to_be_between": _aggregate_planner(_collect("median"), True),
    "expect_column_min_to_be_between": _aggregate_planner(_stats("min"), True),
    "expect_column_max_to_be_between": _aggregate_planner(_stats("max"), True),
    "expect_column_mean_to_be_between": _aggregate_planner(_stats("mean"), True),
    "expect_column_stdev_to_be_between": _aggregate_planner(_stats("stdev"), True),
    "expect_column_sum_to_be_between": _aggregate_planner(_stats("sum"), True),
}

# answered from the column names alone (gx_results.schema_result)
_SCHEMA_TYPES = frozenset({
    "expect_column_to_exist", "expect_table_columns_to_match_ordered_list", "expect_table_columns_to_match_set",
    "expect_table_column_count_to_equal", "expect_table_column_count_to_be_between",
})


def _compound_unique(kw: dict[str, Any], schema: pa.Schema, mostly: float) -> Planned:
    import pyarrow as pa

    cols = kw.get("column_list")
    if not isinstance(cols, list) or not cols:
        return None
    for c in cols:
        if c not in schema.names:
            return Missing(c)
    types = [schema.field(c).type for c in cols]
    if not all(is_numeric(t) or is_string(t) or pa.types.is_boolean(t) or pa.types.is_timestamp(t) for t in types):
        return None
    return CompoundUniqueEval(cols, mostly, kw.get("ignore_row_if", "all_values_are_missing"))


def _plan_table(exp: Expectation, schema: pa.Schema, mostly: float) -> Planned:
    kw = exp.kwargs
    if exp.type == "expect_table_row_count_to_be_between":
        return RowCountEval(kw)
    if exp.type == "expect_table_row_count_to_equal":
        return RowCountEval(kw, equal=True)
    if exp.type == "expect_compound_columns_to_be_unique":
        return _compound_unique(kw, schema, mostly)
    return schema_result(exp, list(schema.names))


_TABLE_TYPES = _SCHEMA_TYPES | {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal",
                                "expect_compound_columns_to_be_unique"}
SUPPORTED: frozenset[str] = frozenset(_COLUMN_PLANNERS) | _TABLE_TYPES


def plan(exp: Expectation, schema: pa.Schema) -> Planned:
    """An evaluator, an immediate (success, result), Missing, or None for the slow path."""
    kw = exp.kwargs
    if exp.type not in SUPPORTED or _UNSUPPORTED_KWARGS & set(kw):
        return None
    mostly = kw.get("mostly", 1.0)
    if not is_number(mostly) or not 0 <= mostly <= 1:
        return None
    if exp.type in _TABLE_TYPES:
        return _plan_table(exp, schema, mostly)
    col = kw.get("column")
    if not isinstance(col, str):
        return None
    if col not in schema.names:
        return Missing(col)
    ctype = schema.field(col).type
    if not arrow_type_supported(ctype):
        return None
    return _COLUMN_PLANNERS[exp.type](col, ctype, kw, mostly)
