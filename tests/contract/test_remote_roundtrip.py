"""Property: any tree pushed to a remote and fetched into a fresh store comes back byte-identical."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit.remote.remotekit import build_tree, local_store, read_tree

from dvx.remote import fetch, open_url, push
from dvx.store import ObjectType

_names = st.text(alphabet="abcdefgh_0123456789", min_size=1, max_size=8)
_paths = st.lists(_names, min_size=1, max_size=3).map("/".join)
_content = st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=50), st.integers(1, 200)),  # repetitive: compresses
)


def _valid_tree(files: dict[str, bytes]) -> bool:
    paths = set(files)
    return not any(p.startswith(q + "/") for p in paths for q in paths)


@pytest.fixture(scope="module")
def prop_bucket(moto_server: str) -> Any:
    from s3kit import _make_bucket

    return _make_bucket(moto_server, "prop")


_trees = st.dictionaries(_paths, _content, min_size=1, max_size=12).filter(_valid_tree)


@pytest.mark.property
@pytest.mark.s3
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=_trees, pack_size=st.sampled_from([4096, 1 << 20]))
def test_push_then_fetch_into_fresh_store_is_identical(prop_bucket: Any, files: dict[str, bytes],
                                                       pack_size: int) -> None:
    bk = prop_bucket
    url = f"{bk.url}/{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as d:
        a = local_store(Path(d) / "a")
        tree = build_tree(a, files)
        sent = push(a, open_url(url, bk.options | {"pack_size": pack_size}), [(tree, ObjectType.TREE)])
        assert sent.objects == len(a.entries()) and not sent.missing
        b = local_store(Path(d) / "b")
        got = fetch(open_url(url, bk.options), b, [(tree, ObjectType.TREE)])
        assert not got.missing and got.objects == sent.objects
        assert read_tree(b, tree) == files
        assert set(b.entries()) == set(a.entries())
