"""The projects entries of a shared cache (hostile bytes) and the clone planner's range arithmetic."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fuzzkit import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from dvx.store.clone import Run, _gaps, clonable
from dvx.workspace.projects import _parse, entries, entry_name, register


@fuzz_settings()
@given(st.binary(max_size=300) | st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(
    st.sampled_from(["version", "root", "x"]), st.one_of(st.integers(), st.text(max_size=20), st.none()))))
def test_a_projects_entry_parses_or_is_skipped(data: bytes) -> None:
    p = _parse("0" * 16, data)
    assert p is None or (os.path.isabs(p.root) and "\0" not in p.root)


def test_register_then_entries(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    register(tmp_path / "cache", root)
    register(tmp_path / "cache", root)  # once
    (tmp_path / "cache" / "projects" / ("f" * 16)).write_bytes(b'{"version": 1, "root": "/elsewhere"}')  # name mismatch
    got = entries(tmp_path / "cache")
    assert [(e.name, e.root) for e in got] == [(entry_name(root), os.path.realpath(root))]


@fuzz_settings()
@given(st.integers(0, 10_000), st.integers(0, 10_000),
       st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 500)), max_size=6))
def test_gaps_and_covered_ranges_tile_the_span(lo: int, n: int, spans: list[tuple[int, int]]) -> None:
    hi = lo + n
    covered: list[tuple[int, int]] = []
    for a, w in sorted(spans):
        if not covered or a >= covered[-1][1]:
            covered.append((a, a + w))
    gaps = list(_gaps(lo, hi, covered))
    inside = [(max(a, lo), min(b, hi)) for a, b in covered if min(b, hi) > max(a, lo)]
    pieces = sorted(gaps + inside)
    assert sum(b - a for a, b in pieces) == n
    assert all(pieces[i][1] == pieces[i + 1][0] for i in range(len(pieces) - 1))
    assert not pieces or (pieces[0][0] == lo and pieces[-1][1] == hi)


@fuzz_settings()
@given(st.integers(0, 1 << 20), st.integers(0, 1 << 20), st.integers(1, 1 << 20), st.sampled_from([512, 4096, 65536]))
def test_clonable_ranges_are_whole_blocks_inside_the_run(src: int, dest: int, length: int, block: int) -> None:
    r = Run(b"p" * 16, src, dest, length)
    got = clonable(r, block)
    if (src - dest) % block:
        assert got is None
        return
    if got is not None:
        a, b = got
        assert dest <= a < b <= dest + length
        assert a % block == 0 and b % block == 0 and (src + a - dest) % block == 0
    else:
        assert (dest + length) // block * block <= -(-dest // block) * block
