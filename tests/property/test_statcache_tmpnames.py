"""Stat cache file and dvx temp names: hostile bytes never escape, C and Python agree."""

from __future__ import annotations

import contextlib
import io
import marshal
import os
import tempfile
from pathlib import Path

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from dvx import _cdc
from dvx._fsutil import is_tmp_name, tmp_name
from dvx.workspace.statcache import MAGIC, StatCache

pytestmark = pytest.mark.property

_stat = os.stat(__file__)


def _with_checksum(body: bytes) -> bytes:
    return MAGIC + xxhash.xxh3_128_digest(body) + body


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=70) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.binary(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_hostile = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(_with_checksum),  # past the checksum, into marshal
    _values.map(lambda v: _with_checksum(marshal.dumps(v))),  # any shape marshal can carry
    st.dictionaries(st.sampled_from([b"f", b"\0tree\0d"]), st.binary(max_size=70), max_size=3).map(
        lambda d: _with_checksum(marshal.dumps(d))
    ),
)


@settings(max_examples=300, deadline=None)
@given(raw=_hostile)
def test_any_cache_bytes_give_a_usable_cache(raw: bytes) -> None:
    err = io.StringIO()
    with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(err):
        path = Path(d) / "statcache"
        path.write_bytes(raw)
        c = StatCache(path)
        assert c.get(b"f", _stat) is None or isinstance(c.get(b"f", _stat), tuple)
        assert c.get_tree(b"d", b"\0" * 16) is None or isinstance(c.get_tree(b"d", b"\0" * 16), bytes)
        c.put(b"f", _stat, b"\1" * 16, 1, written=True)
        c.save()
        again = StatCache(path)
        assert again.get(b"f", _stat) == (b"\1" * 16, 1)
    assert err.getvalue().count("\n") <= 1  # at most one warning line per damaged cache


_names = st.one_of(
    st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")),
    st.builds(
        lambda a, h: b"." + a + b".dvxtmp-" + h,
        st.binary(max_size=10).filter(lambda b: b"/" not in b and b"\0" not in b),
        st.text(alphabet="0123456789abcdefABCDEFg", min_size=11, max_size=13).map(str.encode),
    ),
)


@settings(max_examples=200, deadline=None)
@given(name=_names)
def test_c_scan_and_python_agree_on_temp_names(name: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        try:
            with open(os.path.join(os.fsencode(d), name), "wb"):
                pass
        except OSError:
            return  # a name this file system refuses
        records, _newest = _cdc.scan_tree(os.fsencode(d))
        assert (records == b"") == is_tmp_name(name)


@given(name=st.text(min_size=1, max_size=300).filter(lambda s: "/" not in s and "\0" not in s and s not in (".", "..")))
def test_every_temp_name_is_recognised_and_fits(name: str) -> None:
    t = tmp_name(Path("/x") / name)
    assert is_tmp_name(t.name)
    assert len(os.fsencode(t.name)) <= 255 or len(os.fsencode(name)) > 255
