"""Strict expectation kwargs: what each expectation type accepts, checked before anything runs.

One table, :data:`TYPES`, names the keys every expectation type of dvx's Arrow
engine accepts and how each value is checked. It follows the pydantic fields of
great_expectations 1.x's expectation classes (tests/unit/quality/test_kwargs.py
compares the two), so a suite GX accepts for these types is accepted here, and
a misspelled key, a value of the wrong type, ``min_value > max_value``, an
empty ``value_set`` or a ``mostly`` outside [0, 1] is refused: GX forbids extra
keys too, while an engine that ignored them would evaluate a different check
than the one written. Types only GX knows are checked from GX's own classes
(``engine_gx.check_expectations``) plus the value rules here that apply to any
type (:func:`check_values`). This module imports nothing heavy: suites of
Arrow-engine types are checked at load time without GX.

Each check returns what is wrong as a short phrase, or None.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

Check = Callable[[Any], str | None]


def show(v: Any, width: int = 40) -> str:
    """A value for a one-line message: its repr, cut."""
    s = repr(v)
    return s if len(s) <= width else s[: width - 3] + "..."


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))


def _is_date(v: Any) -> bool:
    if not isinstance(v, str) or not 8 <= len(v) <= 40:
        return False
    try:
        dt.datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def _number(v: Any) -> str | None:
    return None if _is_num(v) else f"must be a number (got {show(v)})"


def _bound(v: Any) -> str | None:
    if v is None or _is_num(v) or _is_date(v):
        return None
    return f"must be a number or an ISO 8601 date (got {show(v)})"


def _num_bound(v: Any) -> str | None:
    return None if v is None else _number(v)


def _int_bound(v: Any) -> str | None:
    if v is None or (isinstance(v, int) and not isinstance(v, bool)):
        return None
    return f"must be a whole number (got {show(v)})"


def _count(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return None
    return f"must be a whole number >= 0 (got {show(v)})"


def _index(v: Any) -> str | None:
    return None if v is None else _count(v)


def _mostly(v: Any) -> str | None:
    if _is_num(v) and 0 <= v <= 1:
        return None
    return f"must be a number between 0 and 1 (got {show(v)})"


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false (got {show(v)})"


def _opt_bool(v: Any) -> str | None:
    return None if v is None else _bool(v)


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v else f"must be a non-empty string (got {show(v)})"


def _names(v: Any) -> str | None:
    if isinstance(v, list) and v and all(isinstance(x, str) and x for x in v):
        return None
    return f"must be a non-empty list of column names (got {show(v)})"


def _type_names(v: Any) -> str | None:
    if isinstance(v, list) and v and all(isinstance(x, str) and x for x in v):
        return None
    return f"must be a non-empty list of type names (got {show(v)})"


def _value_set(v: Any) -> str | None:
    if not isinstance(v, list):
        return f"must be a list of values (got {show(v)})"
    if not v:
        return "is empty (a value set needs at least one value)"
    for x in v:
        if not (x is None or isinstance(x, (str, bool, int)) or _is_num(x)):
            return f"holds {show(x)}; values must be strings, numbers, booleans or null"
    return None


def _regex(v: Any) -> str | None:
    if not isinstance(v, str):
        return f"must be a regular expression string (got {show(v)})"
    try:
        re.compile(v)
    except (re.error, RecursionError, OverflowError) as e:
        return f"is not a valid regular expression: {e}"
    return None


def _enum(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of {', '.join(choices)} (got {show(v)})"

    return check


def _row_condition(v: Any) -> str | None:
    if (isinstance(v, str) and v.strip()) or isinstance(v, dict):
        return None
    return f"must be a non-empty condition string (got {show(v)})"


def _result_format(v: Any) -> str | None:
    if isinstance(v, dict) or v in ("BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE"):
        return None
    return f"must be BOOLEAN_ONLY, BASIC, SUMMARY, COMPLETE or an object (got {show(v)})"


def _notes(v: Any) -> str | None:
    if v is None or isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)):
        return None
    return f"must be a string or a list of strings (got {show(v)})"


def _object(v: Any) -> str | None:
    return None if v is None or isinstance(v, dict) else f"must be an object (got {show(v)})"


def _list(v: Any) -> str | None:
    return None if v is None or isinstance(v, list) else f"must be a list (got {show(v)})"


def _opt_text(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else f"must be a string (got {show(v)})"


def partition_object(v: Any) -> str | None:
    """GX's rule (``is_valid_partition_object``): weights summing to 1 with ``values`` of the
    same length, or ``bins`` increasing, one more than the weights (``tail_weights``: two)."""
    if not isinstance(v, dict):
        return f"must be an object with 'weights' and 'bins' or 'values' (got {show(v)})"
    w = v.get("weights")
    if not isinstance(w, list) or not w or not all(_is_num(x) and x >= 0 for x in w):
        return "needs 'weights', a non-empty list of numbers >= 0"
    total = float(sum(w))
    if "bins" in v:
        bins = v["bins"]
        if not isinstance(bins, list) or not all(_is_num(x) for x in bins):
            return "'bins' must be a list of numbers"
        if len(bins) != len(w) + 1:
            return f"has {len(bins)} bins for {len(w)} weights (need one more bin edge than weights)"
        if any(b <= a for a, b in zip(bins, bins[1:], strict=False)):
            return "'bins' must be strictly increasing"
        tail = v.get("tail_weights")
        if tail is not None:
            if not isinstance(tail, list) or len(tail) != 2 or not all(_is_num(x) and x >= 0 for x in tail):
                return "'tail_weights' must be two numbers >= 0"
            total += float(sum(tail))
    elif "values" in v:
        vals = v["values"]
        if not isinstance(vals, list) or len(vals) != len(w):
            return "'values' must be a list as long as 'weights'"
    else:
        return "needs 'bins' (continuous) or 'values' (categorical)"
    if not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-8):
        return f"weights sum to {total:.6g}, not 1"
    return None


# ------------------------------------------------------------------ the table

# Keys every GX 1.x expectation accepts in its kwargs (fields of the base class).
COMMON: dict[str, Check] = {
    "result_format": _result_format, "catch_exceptions": _bool,
    "meta": _object, "notes": _notes, "id": _opt_text, "description": _opt_text, "batch_id": _opt_text,
    "severity": _enum("critical", "warning", "info"), "windows": _list,
}
_CONDITION: dict[str, Check] = {
    "row_condition": _row_condition,
    "condition_parser": _enum("great_expectations", "great_expectations__experimental__", "pandas", "spark"),
}
_COLUMN: dict[str, Check] = {"column": _text, **_CONDITION}
_MAP: dict[str, Check] = {**_COLUMN, "mostly": _mostly}
_BETWEEN: dict[str, Check] = {"min_value": _bound, "max_value": _bound, "strict_min": _bool, "strict_max": _bool}


def _between(bound: Check) -> dict[str, Check]:
    return {**_BETWEEN, "min_value": bound, "max_value": bound}


TYPES: dict[str, dict[str, Check]] = {
    "expect_column_to_exist": {"column": _text, "column_index": _index},
    "expect_table_columns_to_match_ordered_list": {"column_list": _names},
    "expect_table_columns_to_match_set": {"column_set": _names, "exact_match": _opt_bool},
    "expect_table_column_count_to_equal": {"value": _count},
    "expect_table_column_count_to_be_between": {"min_value": _int_bound, "max_value": _int_bound},
    "expect_table_row_count_to_be_between": {**_between(_int_bound), **_CONDITION},
    "expect_table_row_count_to_equal": {"value": _count, **_CONDITION},
    "expect_column_values_to_not_be_null": _MAP,
    "expect_column_values_to_be_null": _MAP,
    "expect_column_values_to_be_of_type": {**_MAP, "type_": _text},
    "expect_column_values_to_be_in_type_list": {**_MAP, "type_list": _type_names},
    "expect_column_values_to_be_between": {**_MAP, **_BETWEEN},
    "expect_column_values_to_be_in_set": {**_MAP, "value_set": _value_set},
    "expect_column_values_to_not_be_in_set": {**_MAP, "value_set": _value_set},
    "expect_column_values_to_be_unique": _MAP,
    "expect_column_values_to_match_regex": {**_MAP, "regex": _regex},
    "expect_column_values_to_not_match_regex": {**_MAP, "regex": _regex},
    "expect_column_min_to_be_between": {**_COLUMN, **_BETWEEN},
    "expect_column_max_to_be_between": {**_COLUMN, **_BETWEEN},
    "expect_column_mean_to_be_between": {**_COLUMN, **_BETWEEN},
    "expect_column_median_to_be_between": {**_COLUMN, **_BETWEEN},
    "expect_column_sum_to_be_between": {**_COLUMN, **_BETWEEN},
    "expect_column_stdev_to_be_between": {**_COLUMN, **_between(_num_bound)},
    "expect_column_proportion_of_unique_values_to_be_between": {**_COLUMN, **_between(_num_bound)},
    "expect_column_unique_value_count_to_be_between": {**_COLUMN, **_between(_int_bound)},
    "expect_column_distinct_values_to_be_in_set": {**_COLUMN, "value_set": _value_set},
    "expect_compound_columns_to_be_unique": {
        **_CONDITION, "mostly": _mostly, "column_list": _names,
        "ignore_row_if": _enum("all_values_are_missing", "any_value_is_missing", "never")},
}

# keys that must be present (as in GX: fields without a default)
REQUIRED: dict[str, tuple[str, ...]] = {
    t: ("column_list",) if t == "expect_compound_columns_to_be_unique" else
    ("value",) if t.endswith("_to_equal") else ("column",) if "column" in spec else ()
    for t, spec in TYPES.items()
}
for _t, _k in (("expect_column_values_to_be_of_type", "type_"), ("expect_column_values_to_not_match_regex", "regex"),
               ("expect_column_values_to_be_in_set", "value_set"), ("expect_column_values_to_not_be_in_set", "value_set"),
               ("expect_column_distinct_values_to_be_in_set", "value_set")):
    REQUIRED[_t] = (*REQUIRED[_t], _k)

# Value rules for any type, GX-only ones included (GX's own classes check the rest).
GENERIC: dict[str, Check] = {
    **COMMON, **_CONDITION, "column": _text, "column_A": _text, "column_B": _text, "column_list": _names,
    "mostly": _mostly, "value_set": _value_set, "regex": _regex, "regex_list": _list,
    "strict_min": _bool, "strict_max": _bool, "partition_object": partition_object,
}


# ------------------------------------------------------------------ checking


def suggest(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known word, or ''."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_key(key: Any, allowed: Iterable[str], own: Iterable[str]) -> str:
    """What is wrong with a key the type does not accept."""
    hint = suggest(str(key), allowed)
    if not hint:
        listed = ", ".join(sorted(own)) or "none besides the common ones"
        hint = f" (this type accepts: {listed})"
    return f"unknown key {show(key)}{hint}"


def _parameter(v: Any) -> bool:
    return isinstance(v, dict) and any(isinstance(k, str) and k.startswith("$") for k in v)


def check_values(kwargs: dict[str, Any], checks: dict[str, Check]) -> str | None:
    """The value rules: each key's check, then the rules across keys."""
    for key, value in kwargs.items():
        if _parameter(value):
            return f"{key}: suite parameters ({show(value)}) are not supported; write the value itself"
        check = checks.get(key)
        what = check(value) if check is not None else None
        if what:
            return f"{key} {what}"
    return _relations(kwargs)


def _order(v: Any) -> tuple[int, Any] | None:
    if _is_num(v):
        return (0, v)
    if _is_date(v):
        d = dt.datetime.fromisoformat(v)
        return (1, d.replace(tzinfo=None)) if d.tzinfo is None else (2, d)
    return None


def _relations(kwargs: dict[str, Any]) -> str | None:
    lo, hi = _order(kwargs.get("min_value")), _order(kwargs.get("max_value"))
    if lo is not None and hi is not None and lo[0] == hi[0] and lo[1] > hi[1]:
        return (f"min_value {show(kwargs['min_value'])} is greater than max_value {show(kwargs['max_value'])}")
    if "condition_parser" in kwargs and kwargs.get("row_condition") is None:
        return "condition_parser is set but row_condition is not"
    return None


def check(type_: str, kwargs: dict[str, Any]) -> str | None:
    """What is wrong with ``kwargs`` for a type of :data:`TYPES`, or None."""
    own = TYPES[type_]
    allowed = {**COMMON, **own}
    for key in kwargs:
        if key not in allowed:
            return unknown_key(key, allowed, own)
    for key in REQUIRED[type_]:
        if kwargs.get(key) is None:
            return f"missing required key '{key}'"
    if type_ == "expect_column_values_to_be_between" and kwargs.get("min_value") is None \
            and kwargs.get("max_value") is None:
        return "needs min_value or max_value"
    return check_values(kwargs, allowed)
