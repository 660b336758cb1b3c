"""The example suites in expectations/ validate the demo data (make demo) and catch bad data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dvx.quality.suite import load_bindings, load_suite
from dvx.quality.validate import bound_suites, validate_dataset

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def demo_repo(tmp_path: Path) -> Path:
    from dvx._demo import generate

    shutil.copytree(REPO / "expectations", tmp_path / "expectations")
    generate(tmp_path, 5000, 1)
    return tmp_path


def test_examples_load() -> None:
    b = load_bindings(REPO / "expectations")
    assert len(b.entries) >= 2
    for e in b.entries:
        for s in e.suites:
            assert load_suite(REPO / "expectations" / s).id


@pytest.mark.parametrize("rel", ["data/train.parquet", "data/train.csv"])
def test_examples_pass_on_demo_data(demo_repo: Path, rel: str) -> None:
    suites = bound_suites(demo_repo, rel)
    assert len(suites) == 2
    dv = validate_dataset(demo_repo / rel, suites)
    assert dv.success, [r.to_gx() for r in dv.failed]
    assert not dv.notes  # everything on the Arrow engine or pandera, no slow path


def test_examples_catch_bad_data(demo_repo: Path) -> None:
    p = demo_repo / "data" / "train.parquet"
    t = pq.read_table(p)
    labels = t.column("label").to_pylist()
    labels[100] = "horse"
    pq.write_table(t.set_column(1, "label", pa.array(labels)), p)
    dv = validate_dataset(p, bound_suites(demo_repo, "data/train.parquet"))
    assert not dv.success
    assert {(r.engine, r.column) for r in dv.failed} == {("arrow", "label"), ("pandera", "label")}
