"""``dvx.stats`` and ``dvx stats`` (``dvx.datasets.stats``) are one function: same profile, same stores."""

from __future__ import annotations

import pytest

import dvx
from dvx import datasets


@pytest.mark.parametrize("rev", ["v1.0", "release", None])
@pytest.mark.parametrize("path", ["data/train.parquet", "data/train.csv", "data/parts"])
def test_api_and_cli_stats_agree(history, tmp_path, path, rev) -> None:
    repo = history.copy(tmp_path / "repo")
    api = dvx.stats(path, rev=rev, repo=repo)
    # what the API computed is stored: the CLI's answer reads no data
    for f in (repo / "data").rglob("*"):
        if f.is_file() and not f.name.endswith(".dvx"):
            f.unlink()
    # rev None: the API read the (unchanged) file on disk; with it deleted, the CLI's
    # --staged asks for the version last added, which has the same id
    cli = datasets.stats(path, rev=rev, cwd=str(repo), staged=rev is None)
    assert api.to_dict() == cli.to_dict()
    csv_rows = history.files[{"v1.0": "v1.0", "release": "v2", None: "head"}[rev]]["data/train.csv"].count(b"\n") - 1
    assert api.row_count == {"data/parts": 500, "data/train.csv": csv_rows}.get(path, 4000)


def test_cli_stats_fetches_from_the_remote_like_the_api(history, tmp_path) -> None:
    clone = history.clone(tmp_path / "clone")  # empty cache: the data is on the remote only
    cli = datasets.stats("data/train.csv", rev="v1.0", cwd=str(clone))
    other = history.clone(tmp_path / "other")
    api = dvx.stats("data/train.csv", rev="v1.0", repo=other)
    assert cli.row_count == history.files["v1.0"]["data/train.csv"].count(b"\n") - 1
    assert cli.to_dict() == api.to_dict()
