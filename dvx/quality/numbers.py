"""The one way dvx writes numbers and expectations for people (text and HTML).

JSON keeps full precision and never goes through here. Text:

- counts (``int``) in full with thousands separators: ``1,234,567``;
- other numbers with 6 significant digits, trailing zeros dropped, never cut
  and never in scientific notation for ``1e-4 <= |x| < 1e15``; numbers of
  1,000 and more keep up to two decimals, as money does: ``1,234,567.89``,
  ``0.0002433``, ``3.14159``; outside that range ``2.433e-05``;
- approximate counts (HyperLogLog distinct) marked ``~202,350``;
- what an expectation wants, next to what was observed: ``0 ≤ x ≤ 5``,
  ``in {a, b}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

MISSING = "–"
SIG = 6  # significant digits of a non-integral number below 1,000
MAX_ITEMS = 8  # items of a list or set shown before "… +N more"
MAX_TEXT = 80  # characters of a string value shown before it is cut


def number(x: float | int | None, missing: str = MISSING) -> str:
    """``x`` for people (see the module docstring); ``missing`` for None."""
    if x is None:
        return missing
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return f"{x:,}"
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    ax = abs(x)
    if ax < 1e-4 or ax >= 1e15:
        return _sci(x)
    e = math.floor(math.log10(ax))
    decimals = max(SIG - 1 - e, 2)
    s = f"{x:,.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _sci(x: float) -> str:
    """Scientific notation with 4 significant digits, trailing zeros dropped: ``2.433e-05``."""
    mant, _, exp = f"{x:.3e}".partition("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{exp}"


def approx(n: int | float | None, cap: int | None = None, missing: str = MISSING) -> str:
    """An approximate count, clamped to ``cap`` (say the non-null rows): ``~202,350``."""
    if n is None:
        return missing
    return f"~{clamp(n, cap):,}"


def clamp(n: int | float, cap: int | None) -> int:
    """``n`` rounded, never more than ``cap`` (an estimate cannot exceed what it counts) nor below 0."""
    v = max(0, int(round(n)))
    return min(v, cap) if cap is not None else v


def value(v: Any, missing: str = MISSING) -> str:
    """Any observed or expected value for people: numbers by :func:`number`, lists item by item."""
    if v is None:
        return missing
    if isinstance(v, (bool, int, float)):
        return number(v, missing)
    if isinstance(v, Integral):  # numpy and Arrow scalars
        return number(int(v), missing)
    if isinstance(v, Real):
        return number(float(v), missing)
    if isinstance(v, str):
        return v if len(v) <= MAX_TEXT else v[: MAX_TEXT - 1] + "…"
    if isinstance(v, (list, tuple, set, frozenset)):
        items = list(v)
        shown = ", ".join(value(i, "null") for i in items[:MAX_ITEMS])
        more = f", … +{len(items) - MAX_ITEMS} more" if len(items) > MAX_ITEMS else ""
        return f"[{shown}{more}]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {value(x, 'null')}" for k, x in list(v.items())[:MAX_ITEMS]) + "}"
    text = json.dumps(v, default=str)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def percent(p: float | None, missing: str = MISSING) -> str:
    """A percentage: ``12.5%``, ``0.0123%``."""
    return missing if p is None else f"{number(float(p))}%"


def _set(v: Any) -> str:
    items = list(v) if isinstance(v, (list, tuple, set, frozenset)) else [v]
    shown = ", ".join(value(i, "null") for i in items[:MAX_ITEMS])
    more = f", … +{len(items) - MAX_ITEMS} more" if len(items) > MAX_ITEMS else ""
    return "{" + shown + more + "}"


def _between(kw: Mapping[str, Any], name: str = "x") -> str | None:
    lo, hi = kw.get("min_value"), kw.get("max_value")
    if lo is None and hi is None:
        return None
    lt_lo = "<" if kw.get("strict_min") else "≤"
    lt_hi = "<" if kw.get("strict_max") else "≤"
    if lo is not None and hi is not None:
        return f"{value(lo)} {lt_lo} {name} {lt_hi} {value(hi)}"
    if lo is not None:
        return f"{name} {'>' if kw.get('strict_min') else '≥'} {value(lo)}"
    return f"{name} {lt_hi} {value(hi)}"


_QUANTITY = {  # expect_column_<quantity>_to_be_between
    "expect_column_mean_to_be_between": "mean",
    "expect_column_median_to_be_between": "median",
    "expect_column_stdev_to_be_between": "sd",
    "expect_column_sum_to_be_between": "sum",
    "expect_column_min_to_be_between": "min",
    "expect_column_max_to_be_between": "max",
    "expect_column_unique_value_count_to_be_between": "distinct",
    "expect_column_proportion_of_unique_values_to_be_between": "unique share",
    "expect_table_row_count_to_be_between": "rows",
    "expect_table_column_count_to_be_between": "columns",
    "expect_column_value_lengths_to_be_between": "length",
    "expect_table_row_count_to_equal": "rows",
    "expect_table_column_count_to_equal": "columns",
}
_FIXED = {
    "expect_column_values_to_not_be_null": "no nulls",
    "expect_column_values_to_be_null": "all null",
    "expect_column_values_to_be_unique": "unique values",
    "expect_column_to_exist": "the column present",
    "expect_compound_columns_to_be_unique": "unique rows over the columns",
}
_SKIP = {"column", "column_list", "batch_id", "result_format", "include_config", "catch_exceptions", "mostly",
         "min_value", "max_value", "strict_min", "strict_max", "value_set", "value", "row_condition", "condition_parser", "meta"}


def expected(expectation_type: str, kwargs: Mapping[str, Any]) -> str:
    """What an expectation wants, in words: ``0 ≤ x ≤ 5``, ``in {a, b}``, ``no nulls``, ``mostly ≥ 95%``."""
    kw = dict(kwargs)
    parts: list[str] = []
    if expectation_type in _FIXED:
        parts.append(_FIXED[expectation_type])
    between = _between(kw, _QUANTITY.get(expectation_type, "x"))
    if between:
        parts.append(between)
    if "value" in kw:
        parts.append(f"{_QUANTITY.get(expectation_type, 'x')} = {value(kw['value'])}")
    if expectation_type.startswith("expect_table_columns_to_match") and "column_list" in kw:
        parts.append(("columns in order " if "ordered" in expectation_type else "columns ") + _set(kw["column_list"]))
    if "value_set" in kw:
        parts.append(("not in " if "not_be_in_set" in expectation_type else "in ") + _set(kw["value_set"]))
    for k, v in kw.items():
        if k in _SKIP:
            continue
        if k == "regex":
            parts.append(f"{'not ' if 'not_match' in expectation_type else ''}matching /{v}/")
        elif k in ("type_", "type_list"):
            parts.append(f"type {value(v)}")
        else:
            parts.append(f"{k}={value(v)}")
    if kw.get("mostly") is not None:
        try:
            parts.append(f"mostly ≥ {percent(float(kw['mostly']) * 100)}")
        except (TypeError, ValueError):
            parts.append(f"mostly={value(kw['mostly'])}")
    if kw.get("row_condition") is not None:
        parts.append(f"where {value(kw['row_condition'])}")
    return ", ".join(parts) or "true"
