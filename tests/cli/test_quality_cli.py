"""validate / expectations init / stats / drift through the real CLI in a real git repo."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dvxtest import git, run_dvx

ROOT = Path(__file__).resolve().parents[2]


def _table(n: int, seed: int, shift: float = 0.0, bad_label: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    labels = np.array(["cat", "dog", "bird"])[rng.integers(0, 3, n)]
    if bad_label:
        labels[: n // 10] = "fish"
    return pa.table(
        {
            "id": np.arange(n, dtype=np.int64),
            "label": labels,
            "x": np.clip(rng.normal(0, 2, n) + shift, -10, 10),
            "y": rng.normal(5, 1, n),
        }
    )


@pytest.fixture
def qrepo(repo: Path) -> Path:
    (repo / "data").mkdir()
    pq.write_table(_table(20_000, 1), repo / "data" / "train.parquet")
    (repo / "expectations" / "train.json").write_text(
        json.dumps(
            {
                "name": "train",
                "expectations": [
                    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
                    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["cat", "dog", "bird"]}},
                    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": -10, "max_value": 10}},
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "y"}},
                ],
            }
        )
    )
    (repo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/*.parquet"\nsuites = ["train.json"]\n')
    run_dvx(repo, "add", "data/train.parquet")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    return repo


def test_validate_pass_then_stored(qrepo: Path) -> None:
    cp = run_dvx(qrepo, "validate")
    assert "data/train.parquet [workspace]: passed (4/4" in cp.stdout
    cp = run_dvx(qrepo, "validate")
    assert "stored result" in cp.stdout  # the speed itself is measured in bench/bench_hooks.py


def test_validate_fail_json_speaks_gx(qrepo: Path, tmp_path: Path) -> None:
    pq.write_table(_table(20_000, 1, bad_label=True), qrepo / "data" / "train.parquet")
    run_dvx(qrepo, "add", "data/train.parquet")
    report = tmp_path / "v.html"
    cp = run_dvx(qrepo, "validate", "--json", "--report", str(report), check=False)
    assert cp.returncode == 1
    doc = json.loads(cp.stdout[cp.stdout.index("{") :])
    assert doc["success"] is False
    ds = doc["datasets"][0]
    by_type = {r["expectation_type"]: r for r in ds["results"]}
    r = by_type["expect_column_values_to_be_in_set"]
    assert r["success"] is False
    assert r["result"]["unexpected_count"] == 2000
    assert r["result"]["element_count"] == 20_000
    assert abs(r["result"]["unexpected_percent"] - 10.0) < 1e-9
    assert by_type["expect_column_values_to_be_unique"]["success"] is True
    assert report.read_text().lstrip().lower().startswith("<!doctype html")
    # the table names the failing expectation and column
    cp = run_dvx(qrepo, "validate", check=False)
    assert "FAIL  expect_column_values_to_be_in_set" in cp.stdout and "label" in cp.stdout


def test_validate_older_revision(qrepo: Path) -> None:
    pq.write_table(_table(20_000, 1, bad_label=True), qrepo / "data" / "train.parquet")
    run_dvx(qrepo, "add", "data/train.parquet")
    git(qrepo, "commit", "-qam", "v2 bad", "--no-verify")
    assert run_dvx(qrepo, "validate", check=False).returncode == 1
    cp = run_dvx(qrepo, "validate", "--rev", "HEAD~1")
    assert "data/train.parquet@HEAD~1 [HEAD~1 " in cp.stdout and "]: passed" in cp.stdout


def test_validate_unbound_path_is_config_error(qrepo: Path) -> None:
    (qrepo / "other.csv").write_text("a,b\n1,2\n")
    run_dvx(qrepo, "add", "other.csv")
    cp = run_dvx(qrepo, "validate", "other.csv", check=False)
    assert cp.returncode == 2
    assert "no suite is bound" in cp.stderr and "expectations init" in cp.stderr


def test_bad_suite_is_exit_2(qrepo: Path) -> None:
    (qrepo / "expectations" / "train.json").write_text('{"name": "train", "expectations": [\n  {"type": ')
    cp = run_dvx(qrepo, "validate", check=False)
    assert cp.returncode == 2
    assert "train.json:" in cp.stderr
    assert len(cp.stderr.strip().splitlines()) == 1


def test_expectations_init_then_validate(repo: Path) -> None:
    (repo / "d.parquet").write_bytes(b"")
    pq.write_table(_table(5000, 3), repo / "d.parquet")
    run_dvx(repo, "add", "d.parquet")
    cp = run_dvx(repo, "expectations", "init", "d.parquet")
    assert "bound it in expectations/dvx.toml" in cp.stdout
    assert "d.parquet" in (repo / "expectations" / "dvx.toml").read_text()
    cp = run_dvx(repo, "validate", "d.parquet")
    assert "passed" in cp.stdout
    cp = run_dvx(repo, "expectations", "init", "d.parquet", "--engine", "pandera")
    assert ".yaml" in cp.stdout or ".py" in cp.stdout


def test_stats_and_drift(qrepo: Path, tmp_path: Path) -> None:
    cp = run_dvx(qrepo, "stats", "data/train.parquet", "--json")
    prof = json.loads(cp.stdout)
    assert prof["row_count"] == 20_000
    # same data: no drift, exit 0
    cp = run_dvx(qrepo, "drift", "data/train.parquet", "--json")
    assert json.loads(cp.stdout)["drifted"] is False
    # shifted x: drift on x only, exit 1, report written
    pq.write_table(_table(20_000, 1, shift=1.0), qrepo / "data" / "train.parquet")
    run_dvx(qrepo, "add", "data/train.parquet")
    report = tmp_path / "d.html"
    cp = run_dvx(qrepo, "drift", "data/train.parquet", "--json", "--report", str(report), check=False)
    assert cp.returncode == 1
    doc = json.loads(cp.stdout[cp.stdout.index("{") :])
    assert doc["drifted"] is True and doc["drifted_columns"] == ["x"]
    x = next(c for c in doc["columns"] if c["name"] == "x")
    names = {m["name"] for m in x["metrics"]}
    assert {"psi", "ks", "js", "null_rate_delta"} <= names
    assert all({"value", "threshold", "drifted"} <= set(m) for m in x["metrics"])
    assert "x" in report.read_text()
    # baseline at a tag
    git(qrepo, "tag", "v1")
    cp = run_dvx(qrepo, "drift", "data/train.parquet", "--baseline", "v1", check=False)
    assert cp.returncode == 1 and re.search(r"DRIFTED: workspace [0-9a-f]{12} vs v1 [0-9a-f]{12} ", cp.stdout), cp.stdout


def test_drift_unknown_revision(qrepo: Path) -> None:
    cp = run_dvx(qrepo, "drift", "data/train.parquet", "--baseline", "nope", check=False)
    assert cp.returncode == 2
    assert "nope: unknown revision" in cp.stderr


def test_profile_is_named_by_the_pointer_and_travels_with_the_data(qrepo: Path, tmp_path: Path) -> None:
    """stats stores the profile by data id and leaves the pointer alone; `dvx add`
    names the stored profile; push sends it; a clone compares against that
    baseline without fetching the baseline's data."""
    pointer = qrepo / "data" / "train.parquet.dvx"
    before = pointer.read_bytes()
    run_dvx(qrepo, "stats", "data/train.parquet")
    assert pointer.read_bytes() == before  # a read command writes no pointer
    run_dvx(qrepo, "add", "data/train.parquet")
    text = pointer.read_text()
    assert "profile: " in text
    remote = tmp_path / "remote"
    run_dvx(qrepo, "remote", "add", "-d", "local", str(remote))
    git(qrepo, "add", "-A")
    git(qrepo, "commit", "-qm", "profile + remote", "--no-verify")
    run_dvx(qrepo, "push")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(qrepo), str(clone))
    # new data in the clone; the baseline's chunks are never fetched
    pq.write_table(_table(20_000, 1, shift=1.0), clone / "data" / "train.parquet")
    run_dvx(clone, "add", "data/train.parquet")
    cp = run_dvx(clone, "drift", "data/train.parquet", "--json", check=False)
    assert cp.returncode == 1, cp.stderr
    assert json.loads(cp.stdout)["drifted_columns"] == ["x"]
    base_id = text.split("id: ")[1].split()[0]
    code = (
        "import sys; from dvx.workspace import Workspace; from dvx.hashing import from_hex\n"
        f"print(Workspace(sys.argv[1]).cache_has(from_hex('{base_id}')))"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code, str(clone)], capture_output=True, text=True).stdout
    assert out.strip() == "False"  # the baseline data's manifest never reached the clone's cache


def test_directory_profile_after_append_reads_only_new_files(repo: Path, monkeypatch) -> None:
    from dvx import datasets
    from dvx.quality import profile as profile_mod

    d = repo / "parts"
    d.mkdir()
    for i in range(3):
        pq.write_table(_table(3000, i), d / f"part-{i}.parquet")
    run_dvx(repo, "add", "parts")
    first = datasets.stats("parts", cwd=str(repo))
    assert first.row_count == 9000

    calls: list[str] = []
    real = profile_mod.profile_path

    def counting(path, *a, **kw):
        calls.append(Path(path).name)
        return real(path, *a, **kw)

    monkeypatch.setattr(profile_mod, "profile_path", counting)
    pq.write_table(_table(1000, 9), d / "part-3.parquet")
    run_dvx(repo, "add", "parts")
    second = datasets.stats("parts", cwd=str(repo))
    assert second.row_count == 10_000
    assert calls == ["part-3.parquet"]  # the three unchanged files were not read again
    whole = real(d)
    assert whole.row_count == second.row_count
    assert whole.columns["x"].count == second.columns["x"].count
    assert abs(whole.columns["x"].mean - second.columns["x"].mean) < 1e-9
