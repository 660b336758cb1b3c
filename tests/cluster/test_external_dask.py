"""Item 3 on a real cluster: ``dvx add --external --scheduler`` chunks on ``dask worker`` processes.

Uses the ``dask_cluster`` fixture of tests/cluster/conftest.py (a scheduler and two workers on
127.0.0.1 with the S3 test credentials in their environment); skipped where that fixture is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dvxtest import make_dvx_repo, run_dvx, write_files

from dvx.workspace import pointer as ptr

pytestmark = pytest.mark.s3


def test_external_add_on_workers_matches_a_local_add(request, s3_bucket, tmp_path: Path) -> None:
    try:
        cluster = request.getfixturevalue("dask_cluster")
    except pytest.FixtureLookupError:
        pytest.skip("no dask_cluster fixture (tests/cluster/conftest.py)")
    cluster.ensure_workers(2)
    src, remote = s3_bucket(), s3_bucket()
    files = {f"part-{i}.bin": bytes([i]) * 50_000 + (b"%d" % i) * 70_000 for i in range(4)}
    files["sub/notes.txt"] = b"on the workers\n"
    client = src.client()
    for key, data in files.items():
        client.put_object(Bucket=src.name, Key=f"raw/{key}", Body=data)
    repo = make_dvx_repo(tmp_path / "repo")
    run_dvx(repo, "remote", "add", "-d", "store", f"{remote.url}/store")
    run_dvx(repo, "remote", "modify", "store", "endpoint_url", remote.endpoint)
    out = run_dvx(repo, "add", "--external", f"{src.url}/raw/", "--out", "data/raw",
                  "--scheduler", cluster.address).stdout
    assert out.startswith("added     data/raw  (5 files") and f"read on {cluster.address}" in out, out
    other = make_dvx_repo(tmp_path / "other")
    write_files(other / "data/raw", files)
    run_dvx(other, "add", "data/raw")
    assert ptr.load(repo / "data/raw.dvx").oid == ptr.load(other / "data/raw.dvx").oid
    run_dvx(repo, "pull", "data/raw")
    for key, data in files.items():
        assert (repo / "data/raw" / key).read_bytes() == data, key
