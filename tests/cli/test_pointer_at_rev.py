"""Pointer files read at a revision: a pointer whose blob git lacks is a clear error everywhere.

One batched reader (``scm.read_objects``) serves versions, history, datasets
and push; a missing blob (a partial or damaged clone) used to be an
``IndexError`` in one of the five readers and silently "removed" in another.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dvxtest import git, make_dvx_repo, run_dvx

import dvx
from dvx import datasets, history, repo
from dvx.errors import PointerError
from dvx.workspace import Workspace

MISSING = "git has no object for this pointer file"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A repository whose HEAD lists data.csv.dvx but whose object store lost that blob."""
    root = make_dvx_repo(tmp_path / "r")
    (root / "data.csv").write_text("id,v\n" + "".join(f"{i},{i * 2}\n" for i in range(200)))
    run_dvx(root, "add", "data.csv")
    git(root, "add", "-A")
    git(root, "commit", "--no-verify", "-qm", "data")
    blob = git(root, "rev-parse", "HEAD:data.csv.dvx").stdout.strip()
    os.unlink(root / ".git" / "objects" / blob[:2] / blob[2:])  # a fresh commit's objects are loose
    assert git(root, "cat-file", "-e", blob, check=False).returncode != 0
    return root


def test_versioned_read_names_the_pointer_whose_blob_is_missing(broken: Path) -> None:
    for call in (
        lambda: dvx.read_table("data.csv", rev="HEAD", repo=broken),
        lambda: dvx.open("data.csv", rev="HEAD", repo=broken),
        lambda: dvx.DvxFileSystem(repo=broken, rev="HEAD").ls(""),
    ):
        with pytest.raises(PointerError, match=f"HEAD:data.csv.dvx: {MISSING}"):
            call()


def test_diff_datasets_and_push_refuse_a_missing_pointer_blob(broken: Path) -> None:
    with pytest.raises(PointerError, match=f"HEAD:data.csv.dvx: {MISSING}"):
        history.diff("HEAD", cwd=str(broken))  # used to report the dataset as removed
    with pytest.raises(PointerError, match=MISSING):
        datasets.pointer_at(Workspace(broken), "data.csv", "HEAD")
    with pytest.raises(PointerError, match=MISSING):
        repo.push(revs=["HEAD"], cwd=str(broken))
    cp = run_dvx(broken, "diff", "HEAD", check=False)
    assert cp.returncode == 2 and MISSING in cp.stderr and "Traceback" not in cp.stderr


def test_a_path_not_tracked_at_the_revision_is_still_a_usage_error(broken: Path) -> None:
    from dvx.errors import UsageError

    with pytest.raises(UsageError, match="not tracked by dvx at revision HEAD"):
        datasets.pointer_at(Workspace(broken), "other.csv", "HEAD")
