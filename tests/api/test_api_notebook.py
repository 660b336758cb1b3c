"""docs/examples/read-versions.ipynb runs top to bottom (nbclient) against a local S3 server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "read-versions.ipynb"


@pytest.mark.s3
@pytest.mark.slow
def test_read_versions_notebook_runs(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    import nbclient
    import nbformat

    bucket = f"nb-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    # The kernel inherits the environment: the remote, its endpoint and moto's test credentials.
    monkeypatch.setenv("DVX_EXAMPLE_REMOTE_URL", f"s3://{bucket}/example")
    monkeypatch.setenv("DVX_EXAMPLE_ENDPOINT", moto_server)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # "python3" runs sys.executable (jupyter_client substitutes the "python" of the kernelspec).
    nbclient.NotebookClient(nb, timeout=240, kernel_name="python3").execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "workspace: 120000 rows;  v1.0: 100000 rows" in text
    assert "fetched" in text and "100000 rows x 2 columns" in text
    listed = boto3.client("s3", endpoint_url=moto_server).list_objects_v2(Bucket=bucket, Prefix="example/packs/")
    assert listed.get("KeyCount", 0) > 0, "the notebook pushed nothing to the S3 remote"
