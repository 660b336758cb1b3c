"""Strategies for fuzzing parsers: arbitrary bytes and structured mutations of valid input.

A mutation starts from bytes a parser accepts and changes them the way a
damaged disk, a torn write or a hostile author would: cut short, extended,
bits flipped, one field overwritten with an edge value (0, all ones, 2**31,
2**63, ...), a slice repeated or removed.

``DVX_FUZZ_EXAMPLES`` sets the examples per test (default ``FAST``, the
budget of ``make test``; e.g. ``DVX_FUZZ_EXAMPLES=20000`` for a long run).
"""

from __future__ import annotations

import os
import struct

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

FAST = 150
EXAMPLES = int(os.environ.get("DVX_FUZZ_EXAMPLES", FAST))


def fuzz_settings(scale: float = 1.0, *, shrink: bool = True) -> settings:
    """Hypothesis settings for one fuzz test: ``EXAMPLES * scale`` examples, no deadline
    (a loaded machine must not fail a test; hangs are caught by pytest-timeout).
    ``shrink=False`` where an example costs processes: a failure is reported as found."""
    phases = list(Phase) if shrink else [p for p in Phase if p not in (Phase.shrink, Phase.explain)]
    return settings(
        max_examples=max(3, int(EXAMPLES * scale)),
        deadline=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# Integers at the edges of every width a format uses, little-endian.
_EDGE_INTS = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**40,
              2**62, 2**63 - 1, 2**63, 2**64 - 1]
EDGE_FIELDS: list[bytes] = sorted(
    {struct.pack(fmt, v) for v in _EDGE_INTS for fmt in ("<B", "<H", "<I", "<Q") if v < 256 ** struct.calcsize(fmt)},
    key=lambda b: (len(b), b),
)


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for pos, mask in flips:
        out[pos % len(out)] ^= mask
    return bytes(out)


def _overwrite(data: bytes, pos: int, field: bytes) -> bytes:
    if not data:
        return field
    pos %= len(data)
    return data[:pos] + field + data[pos + len(field):]


def _splice(data: bytes, a: int, b: int, repeat: bool) -> bytes:
    if not data:
        return data
    a, b = sorted((a % (len(data) + 1), b % (len(data) + 1)))
    return data[:b] + data[a:b] + data[b:] if repeat else data[:a] + data[b:]


def mutations(valid: bytes, *, fields: list[int] | None = None) -> st.SearchStrategy[bytes]:
    """Bytes derived from ``valid``; ``fields`` are offsets of integer fields worth hitting exactly."""
    pos = st.integers(0, max(len(valid) - 1, 0))
    at = st.sampled_from(fields) if fields else pos
    return st.one_of(
        st.just(valid),
        st.integers(0, len(valid)).map(lambda n: valid[:n]),  # truncated
        st.binary(min_size=1, max_size=64).map(lambda tail: valid + tail),  # extended
        st.lists(st.tuples(pos, st.integers(1, 255)), min_size=1, max_size=4).map(lambda f: _flip(valid, f)),
        st.tuples(at, st.sampled_from(EDGE_FIELDS)).map(lambda t: _overwrite(valid, *t)),  # one field
        st.tuples(pos, pos, st.booleans()).map(lambda t: _splice(valid, *t)),  # repeated or cut out
        st.binary(max_size=len(valid) + 64),  # anything
    )


def text_mutations(valid: str) -> st.SearchStrategy[str]:
    """Text derived from ``valid``: byte mutations decoded leniently, plus arbitrary text."""
    return st.one_of(
        mutations(valid.encode()).map(lambda b: b.decode("utf-8", "replace")),
        st.text(max_size=200),
    )


# JSON-like values that break assumptions: wrong types, huge and negative
# numbers, NaN, deep-ish nesting.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([0, -1, 2**63, 2**64])
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _replace(doc: object, path: tuple, value: object, delete: bool) -> object:  # type: ignore[type-arg]
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        out = dict(doc)
        if delete and not rest:
            out.pop(head, None)
        else:
            out[head] = _replace(doc[head], rest, value, delete)
        return out
    out_l = list(doc)  # type: ignore[call-overload]
    if delete and not rest:
        del out_l[head]
    else:
        out_l[head] = _replace(out_l[head], rest, value, delete)
    return out_l


def doc_mutations(doc: object) -> st.SearchStrategy[object]:
    """``doc`` (parsed JSON/YAML/TOML) with one value replaced by ``json_values`` or one key removed."""
    return st.tuples(st.sampled_from(_paths(doc)), json_values, st.booleans()).map(
        lambda t: _replace(doc, t[0], t[1], t[2])
    )
