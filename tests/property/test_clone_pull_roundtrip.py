"""add -> push -> fresh clone -> pull is byte-identical, for random trees (issue 3)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from dvxtest import git, make_git_repo, tree_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_workspace_roundtrip import _content, _materialise, _tree

from dvx import repo as dvx_repo

pytestmark = pytest.mark.property


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=_tree, single=st.tuples(_content, st.booleans()), tree2=_tree)
def test_push_clone_pull_is_identity(tree, single, tree2) -> None:
    base = Path(tempfile.mkdtemp(prefix="dvx-prop-pull-"))
    try:
        origin = make_git_repo(base / "origin")
        dvx_repo.init(origin)
        from dvx.remote.config import add_remote
        from dvx.workspace import Workspace

        add_remote(Workspace(origin).config, "store", str(base / "remote"), default=True)
        _materialise(origin / "data", tree)
        (origin / "one.bin").write_bytes(single[0])
        dvx_repo.add(["data", "one.bin"], cwd=str(origin))
        dvx_repo.push(cwd=str(origin))
        git(origin, "add", "-A")
        git(origin, "commit", "-qm", "v1", "--no-verify")
        # a second version: pushing it moves only what is new, the clone gets v2
        shutil.rmtree(origin / "data")
        _materialise(origin / "data", tree2)
        dvx_repo.add(["data"], cwd=str(origin))
        dvx_repo.push(cwd=str(origin))
        git(origin, "add", "-A")
        git(origin, "commit", "-qm", "v2", "--no-verify", "--allow-empty")

        clone = base / "clone"
        git(base, "clone", "-q", str(origin), str(clone))
        dvx_repo.pull(cwd=str(clone))
        assert tree_bytes(clone / "data") == tree_bytes(origin / "data")
        assert (clone / "one.bin").read_bytes() == single[0]
        # and the older version, from the same remote, after checking out v1's pointers
        git(clone, "checkout", "-q", "HEAD~1", "--", "data.dvx")
        dvx_repo.pull(cwd=str(clone))
        git(origin, "checkout", "-q", "HEAD~1", "--", "data.dvx")
        dvx_repo.checkout(cwd=str(origin), force=True)
        assert tree_bytes(clone / "data") == tree_bytes(origin / "data")
    finally:
        shutil.rmtree(base, ignore_errors=True)
