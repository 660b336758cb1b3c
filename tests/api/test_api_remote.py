"""Reads without the data in the cache: ranged fetches from the S3 remote, kept in the cache; clear errors."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest
from dvxtest import git, run_dvx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dvx
from dvx import versions
from dvx.errors import ObjectMissingError

pytestmark = pytest.mark.s3


def _cached_chunks(root) -> int:
    from dvx.workspace import Workspace

    ws = Workspace(root)
    ws.cache.refresh()
    return len(ws.cache.entries())


def test_two_columns_of_twenty_fetch_only_their_chunks(history, tmp_path) -> None:
    clone = history.clone(tmp_path / "clone")
    data = history.files["v1.0"]["data/train.parquet"]
    got = dvx.read_table("data/train.parquet", rev="v1.0", columns=["c01", "c07"], repo=clone)
    assert got.equals(pq.read_table(io.BytesIO(data), columns=["c01", "c07"]))
    stats = versions.open_view(clone, "v1.0").stats
    # footer + 2 of 20 column chunks (+ the chunks straddling their edges)
    assert 0 < stats.raw_bytes <= 0.35 * len(data), (stats, len(data))
    fills, before = stats.fills, _cached_chunks(clone)
    # kept in the cache: the same read again fetches nothing
    again = dvx.read_table("data/train.parquet", rev="v1.0", columns=["c01", "c07"], repo=clone)
    assert again.equals(got)
    assert versions.open_view(clone, "v1.0").stats.fills == fills
    assert _cached_chunks(clone) == before


@pytest.mark.parametrize("rev", ["v1.0", "release", "HEAD"])
def test_every_function_without_the_cache(history, tmp_path, rev) -> None:
    name = {"v1.0": "v1.0", "release": "v2", "HEAD": "head"}[rev]
    files = history.files[name]
    clone = history.clone(tmp_path / "clone")
    assert not (clone / "data" / "train.parquet").exists()  # nothing checked out
    with dvx.open("data/train.csv", rev=rev, repo=clone) as f:
        assert f.read() == files["data/train.csv"]
    t = dvx.read_table("data/train.parquet", rev=rev, repo=clone)
    assert t.equals(pq.read_table(io.BytesIO(files["data/train.parquet"])))
    assert len(dvx.read_pandas("data/events.jsonl", rev=rev, repo=clone)) == 200
    assert dvx.dataset("data/parts", rev=rev, repo=clone).count_rows() == 500
    prof = dvx.stats("data/train.parquet", rev=rev, repo=clone)
    assert prof.row_count == 4000
    if rev != "v1.0":  # the stored profile object came from the remote
        assert prof.oid == history.profile_oid
    # workspace of the clone (rev=None): pointers of HEAD, data only on the remote
    assert dvx.read_table("data/new.parquet", repo=clone).num_rows == 100


def test_git_url_and_bare_repository(history, tmp_path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(history.root), str(bare))
    for repo in (str(bare), f"file://{bare}"):
        t = dvx.read_table("data/train.parquet", rev="v1.0", columns=["c00"], repo=repo)
        assert t.column("c00")[0].as_py() == 1000.0
        # a branch of the cloned repository (origin/release in the clone)
        with dvx.open("README.md", rev="release", repo=repo, mode="r") as f:
            assert f.read() == "# demo v2\n"
        assert dvx.read_table("data/new.parquet", repo=repo).num_rows == 100
    # one clone per URL for the process
    assert versions.repo_root(str(bare)) == versions.repo_root(str(bare))


def test_unreachable_git_url_is_a_usage_error(tmp_path) -> None:
    from dvx.errors import UsageError

    with pytest.raises(UsageError, match="cannot clone"):
        dvx.read_table("data/x.parquet", repo=f"file://{tmp_path}/missing.git")


def test_no_remote_configured_says_add_a_remote(history, tmp_path) -> None:
    clone = history.clone(tmp_path / "clone")
    run_dvx(clone, "remote", "remove", "s3")
    with pytest.raises(ObjectMissingError) as ei:
        dvx.read_table("data/train.parquet", rev="v1.0", repo=clone)
    e = ei.value
    assert "data/train.parquet" in e.message and "v1.0" in e.message and "not in the local cache" in e.message
    # `dvx pull` would fail the same way (no remote); tests/cli/test_hints_remote.py follows this hint
    assert "dvx remote add" in (e.hint or "") and "dvx pull" not in (e.hint or "")


def test_remote_without_the_data_says_push(history, tmp_path) -> None:
    clone = history.clone(tmp_path / "clone")
    run_dvx(clone, "remote", "modify", "s3", "url", history.remote_url + "-empty")
    with pytest.raises(ObjectMissingError) as ei:
        dvx.open("data/train.csv", rev="release", repo=clone).read()
    assert "data/train.csv" in ei.value.message and "release" in ei.value.message
    assert "dvx push" in (ei.value.hint or "")


def test_named_remote_argument(history, tmp_path) -> None:
    clone = history.clone(tmp_path / "clone")
    run_dvx(clone, "remote", "add", "other", history.remote_url)
    run_dvx(clone, "remote", "modify", "other", "endpoint_url", history.endpoint)
    run_dvx(clone, "remote", "modify", "s3", "url", history.remote_url + "-empty")
    with pytest.raises(ObjectMissingError):
        dvx.read_table("data/new.parquet", rev="HEAD", repo=clone)
    assert dvx.read_table("data/new.parquet", rev="HEAD", repo=clone, remote="other").num_rows == 100


@pytest.fixture(scope="module")
def cold_clone(history, tmp_path_factory):
    return history.clone(tmp_path_factory.mktemp("cold") / "clone")


@pytest.mark.property
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 700_000), st.integers(0, 70_000)), min_size=1, max_size=4),
       st.sampled_from(["v1.0", "release"]))
def test_random_ranges_through_lazy_fill_equal_the_bytes(history, cold_clone, ranges, rev) -> None:
    data = history.files["v1.0" if rev == "v1.0" else "v2"]["data/train.parquet"]
    fs = dvx.DvxFileSystem(repo=cold_clone, rev=rev)
    for start, n in ranges:
        assert fs.cat_file("data/train.parquet", start, start + n) == data[start : start + n]
