"""add -> delete -> checkout gives back every byte, for arbitrary contents and trees."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from dvxtest import make_git_repo, tree_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvx import repo as dvx_repo

pytestmark = pytest.mark.property

_name = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\\0"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", "..", ".git", ".dvx") and not s.endswith(".dvx"))
_content = st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda seed, n: os.urandom(0) + bytes((seed * i) & 0xFF for i in range(n)), st.integers(1, 255), st.integers(0, 300_000)),
)
_tree = st.dictionaries(st.lists(_name, min_size=1, max_size=3).map(tuple), st.tuples(_content, st.booleans()), min_size=1, max_size=8)


def _materialise(top: Path, tree: dict[tuple[str, ...], tuple[bytes, bool]]) -> dict[str, tuple[bytes, bool]]:
    written: dict[str, tuple[bytes, bool]] = {}
    for parts, (data, exe) in sorted(tree.items(), key=lambda kv: len(kv[0])):
        p = top.joinpath(*parts)
        # skip paths that collide with a file already written as a folder or vice versa
        if any(top.joinpath(*parts[:i]).is_file() for i in range(1, len(parts))) or p.is_dir():
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.chmod(p, 0o755 if exe else 0o644)
        written["/".join(parts)] = (data, exe)
    return written


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=_tree, single=st.tuples(_content, st.booleans()))
def test_add_delete_checkout_is_identity(tree, single) -> None:
    base = Path(tempfile.mkdtemp(prefix="dvx-prop-"))
    try:
        repo = make_git_repo(base / "r")
        dvx_repo.init(repo)
        written = _materialise(repo / "data", tree)
        (repo / "one.bin").write_bytes(single[0])
        before = tree_bytes(repo / "data")
        assert {k: v for k, v in before.items()} == written
        dvx_repo.add(["data", "one.bin"], cwd=str(repo))
        shutil.rmtree(repo / "data")
        (repo / "one.bin").unlink()
        dvx_repo.checkout(cwd=str(repo))
        after = tree_bytes(repo / "data")
        assert after == before
        assert (repo / "one.bin").read_bytes() == single[0]
        st_ = dvx_repo.status(cwd=str(repo))
        assert st_.clean
    finally:
        shutil.rmtree(base, ignore_errors=True)
