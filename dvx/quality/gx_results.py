"""Results in great_expectations' vocabulary, shared by the Arrow and pandera engines.

An :data:`Outcome` is ``(success, result)`` where ``result`` holds the keys GX
1.x puts in an expectation's result at ``result_format="SUMMARY"``: map
expectations report counts and the first :data:`PARTIAL` unexpected values,
aggregates an ``observed_value``. Schema-only expectations are answered from
the column names alone, without reading a row.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TypeAlias

from dvx.quality.suite import Expectation

PARTIAL = 20  # GX's default partial_unexpected_count (result_format SUMMARY)

Outcome: TypeAlias = tuple[bool, dict[str, Any]]


def between(v: Any, lo: Any, hi: Any, strict_lo: bool, strict_hi: bool) -> bool:
    """``lo <= v <= hi`` (``<`` where strict); a None bound is open."""
    if lo is not None and not (v > lo if strict_lo else v >= lo):
        return False
    return not (hi is not None and not (v < hi if strict_hi else v <= hi))


def agg_result(v: Any, kw: dict[str, Any]) -> Outcome:
    """GX's _validate_metric_value_between: None or NaN observed fails."""
    if v is None or (isinstance(v, float) and v != v):
        return False, {"observed_value": None}
    ok = between(v, kw.get("min_value"), kw.get("max_value"), bool(kw.get("strict_min")),
                 bool(kw.get("strict_max")))
    return ok, {"observed_value": v}


def map_result(n: int, nonnull: int | None, unexpected: int, mostly: float, values: list[Any],
               index: list[int] | None) -> Outcome:
    """GX's map-expectation success and ``_format_map_output`` (SUMMARY).

    ``nonnull`` is None for expectations counted over all rows (not_be_null,
    be_null); ``index`` None leaves the row positions out (not empty)."""
    considered = n if nonnull is None else nonnull
    ok = True if n == 0 or considered == 0 else (considered - unexpected) / considered >= mostly
    res: dict[str, Any] = {"element_count": n, "unexpected_count": unexpected}
    pct_total = unexpected / n * 100 if n else None
    if nonnull is None:
        res["unexpected_percent"] = pct_total
    else:
        pct_nm = unexpected / nonnull * 100 if n and nonnull else None
        res["unexpected_percent"] = pct_nm
    res["partial_unexpected_list"] = values[:PARTIAL]
    if nonnull is not None:
        res["missing_count"] = n - nonnull
        res["missing_percent"] = (n - nonnull) / n * 100 if n else None
        res["unexpected_percent_total"] = pct_total
        res["unexpected_percent_nonmissing"] = res["unexpected_percent"]
    try:
        counts = Counter(values[:PARTIAL]).most_common(PARTIAL)
        res["partial_unexpected_counts"] = [{"value": v, "count": c} for v, c in counts]
    except TypeError:  # unhashable values
        pass
    if index is not None:
        res["partial_unexpected_index_list"] = index[:PARTIAL]
    return ok, res


def missing_column_result(column: str) -> tuple[bool, dict[str, Any], str]:
    """What GX reports for a column the data lacks: a failed result with an exception."""
    return False, {}, f'Error: The column "{column}" in BatchData does not exist.'


def schema_result(exp: Expectation, names: list[str]) -> Outcome | None:
    """Table-level expectations answered from the column names alone (None: not one of them)."""
    kw = exp.kwargs
    t = exp.type
    if t == "expect_column_to_exist":
        col = kw.get("column")
        idx = kw.get("column_index")
        if idx:  # GX tests truthiness: column_index 0 means "anywhere"
            try:
                return names[idx] == col, {}
            except (IndexError, TypeError):
                return False, {}
        return col in names, {}
    if t == "expect_table_columns_to_match_ordered_list":
        want = kw.get("column_list")
        if want is None or names == list(want):
            return True, {"observed_value": names}
        want = list(want)
        details = [{"Expected Column Position": i, "Expected": want[i] if i < len(want) else None,
                    "Found": names[i] if i < len(names) else None}
                   for i in range(max(len(names), len(want)))
                   if (want[i] if i < len(want) else None) != (names[i] if i < len(names) else None)]
        return False, {"observed_value": names, "details": {"mismatched": details}}
    if t == "expect_table_columns_to_match_set":
        want_s = set(kw.get("column_set") or [])
        got_s = set(names)
        observed = sorted(names)
        if got_s == want_s:
            return True, {"observed_value": observed}
        mism: dict[str, Any] = {}
        if got_s - want_s:
            mism["unexpected"] = sorted(got_s - want_s)
        if want_s - got_s:
            mism["missing"] = sorted(want_s - got_s)
        res: dict[str, Any] = {"observed_value": observed, "details": {"mismatched": mism}}
        exact = kw.get("exact_match", True)
        ok = False if exact else not (want_s - got_s)
        return ok, res
    if t == "expect_table_column_count_to_equal":
        return len(names) == kw.get("value"), {"observed_value": len(names)}
    if t == "expect_table_column_count_to_be_between":
        return agg_result(len(names), kw)
    return None
