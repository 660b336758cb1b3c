"""The one number formatter (dvx.quality.numbers, issue 13 item 6): properties over many numbers.

Never scientific notation for 1e-4 <= |x| < 1e15, never a truncation marker,
6 significant digits below 1,000 (at most 2 decimals above, as money), thousands
separators, and the text parses back to x within what those digits allow.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.quality.numbers import approx, clamp, expected, number, value

ORDINARY = st.floats(min_value=1e-4, max_value=1e15, exclude_max=True, allow_nan=False, allow_infinity=False)


def _parse(s: str) -> float:
    return float(s.replace(",", ""))


def _significant(s: str) -> int:
    digits = s.replace(",", "").replace("-", "").replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in s else len(digits)


@settings(max_examples=500, deadline=None)
@given(ORDINARY, st.booleans())
def test_ordinary_magnitudes_are_plain_uncut_and_accurate(x: float, negative: bool) -> None:
    x = -x if negative else x
    s = number(x)
    assert "e" not in s.lower() and "…" not in s and "..." not in s, s
    back = _parse(s)
    if abs(x) < 1000:
        assert math.isclose(back, x, rel_tol=5.01e-6), (x, s)  # 6 significant digits
        assert _significant(s) <= 6, (x, s)
    else:
        assert abs(back - x) <= 0.005 + abs(x) * 1e-15, (x, s)  # every integer digit, cents at most
        frac = s.partition(".")[2]
        assert len(frac) <= 2, s
    integer = s.lstrip("-").partition(".")[0]
    assert integer == f"{int(integer.replace(',', '')):,}", s  # thousands separators


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-10**18, max_value=10**18))
def test_counts_are_whole_with_separators(n: int) -> None:
    s = number(n)
    assert int(s.replace(",", "")) == n and s == f"{n:,}"


def test_examples_from_the_issue() -> None:
    assert number(0.0002433) == "0.0002433"
    assert number(1234567.89) == "1,234,567.89"
    assert number(202350) == "202,350"
    assert number(7.2) == "7.2"
    assert number(3.14159265) == "3.14159"
    assert number(2.433e-05) == "2.433e-05"  # below 1e-4: scientific, 4 digits
    assert number(0.0) == "0" and number(None) == "–" and number(float("nan")) == "nan"


def test_approximate_counts_are_marked_and_clamped() -> None:
    assert approx(202350.4, cap=200_000) == "~200,000"
    assert approx(1234.6) == "~1,235"
    assert clamp(-3, 10) == 0 and clamp(11.2, 10) == 10


def test_expected_names_the_bounds_or_the_set() -> None:
    assert expected("expect_column_values_to_be_between", {"column": "x", "min_value": 0, "max_value": 5}) == "0 ≤ x ≤ 5"
    assert expected("expect_column_mean_to_be_between", {"column": "x", "min_value": 0.5, "strict_min": True}) == "mean > 0.5"
    assert expected("expect_column_values_to_be_in_set", {"column": "l", "value_set": ["a", "b"]}) == "in {a, b}"
    assert expected("expect_column_values_to_not_be_null", {"column": "l", "mostly": 0.95}) == "no nulls, mostly ≥ 95%"
    assert value(list(range(20))).endswith(", … +12 more]")
