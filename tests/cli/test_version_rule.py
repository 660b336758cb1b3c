"""Which version a command reads (issue 13, items 1-2), through the real CLI in real git repos.

Default: the file on disk, even when modified since ``dvx add``; ``--staged``:
the version last added (the pointer file); ``--rev``: a committed version;
``--baseline``: drift's baseline (default HEAD). Every output names the
version it measured and the baseline. And checks are read-only: no command
here writes or stages a pointer file or any other tracked file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dvxtest import env, git, run_dvx

DATA = "data/train.parquet"
MODIFIED = "workspace (modified since dvx add)"


def _table(n: int, seed: int, shift: float = 0.0, bad_label: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    labels = np.array(["cat", "dog", "bird"])[rng.integers(0, 3, n)]
    if bad_label:
        labels[: n // 10] = "fish"
    return pa.table({
        "id": np.arange(n, dtype=np.int64),
        "label": labels,
        "x": rng.normal(0, 2, n) + shift,  # sd 2: shift 1.0 is 0.5 sd
        "y": rng.normal(5, 1, n),
    })


SUITE = {
    "name": "train",
    "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["cat", "dog", "bird"]}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "y"}},
    ],
}


@pytest.fixture
def vrepo(repo: Path) -> Path:
    """data/train.parquet added and committed, with a suite bound to it."""
    (repo / "data").mkdir()
    pq.write_table(_table(20_000, 1), repo / DATA)
    (repo / "expectations" / "train.json").write_text(json.dumps(SUITE))
    (repo / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/*.parquet"\nsuites = ["train.json"]\n')
    run_dvx(repo, "add", DATA)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1", "--no-verify")
    return repo


def _pointer_id(repo: Path, rev: str | None = None) -> str:
    text = (git(repo, "show", f"{rev}:{DATA}.dvx").stdout if rev else (repo / f"{DATA}.dvx").read_text())
    return text.split("\nid: ")[1].split()[0]


def _tracked_state(repo: Path) -> tuple[str, dict[str, bytes]]:
    """``git status --porcelain`` and the bytes of every tracked file."""
    status = git(repo, "status", "--porcelain").stdout
    files = git(repo, "ls-files", "-z").stdout.split("\0")
    return status, {f: (repo / f).read_bytes() for f in files if f}


def test_drift_measures_the_modified_file_on_disk(vrepo: Path, tmp_path: Path) -> None:
    """The issue's first example: x shifted by 0.5 sd on disk, not re-added."""
    head_id = _pointer_id(vrepo)[:12]
    pq.write_table(_table(20_000, 1, shift=1.0), vrepo / DATA)
    report = tmp_path / "drift.html"
    cp = run_dvx(vrepo, "drift", DATA, "--report", str(report), check=False)
    assert cp.returncode == 1, cp.stdout + cp.stderr
    js = json.loads(run_dvx(vrepo, "drift", DATA, "--json", check=False).stdout)
    disk_id = js["current_id"][:12]  # both versions named with their ids
    assert disk_id != head_id
    assert f"DRIFTED: {MODIFIED} {disk_id} vs HEAD {head_id}" in cp.stdout
    assert f"({MODIFIED}) drifted from HEAD {head_id}" in cp.stderr
    assert f"{MODIFIED} {disk_id} vs HEAD {head_id}" in report.read_text()
    assert js["drifted"] is True and js["drifted_columns"] == ["x"]
    assert js["current_version"] == MODIFIED and js["baseline_version"] == f"HEAD {head_id}"
    assert js["current_id"] != js["baseline_id"] == _pointer_id(vrepo)
    # --staged reads the version last added: the committed one, so no drift
    cp = run_dvx(vrepo, "drift", DATA, "--staged")
    assert f"no drift: staged {head_id} vs HEAD {head_id}" in cp.stdout
    # the gate reads the disk too; --staged (the git index) has nothing staged
    js = json.loads(run_dvx(vrepo, "check", "--json", check=False).stdout)
    d = js["datasets"][0]
    assert js["ok"] is False and d["drift"] == "drifted"
    assert d["version"] == MODIFIED and d["baseline_version"] == f"HEAD {head_id}"
    cp = run_dvx(vrepo, "check", check=False)
    assert cp.returncode == 1 and f"[{MODIFIED} vs HEAD {head_id}]" in cp.stdout
    assert run_dvx(vrepo, "check", "--staged").returncode == 0


def test_validate_default_and_staged_give_different_verdicts(vrepo: Path, tmp_path: Path) -> None:
    added = _pointer_id(vrepo)[:12]
    pq.write_table(_table(20_000, 1, bad_label=True), vrepo / DATA)  # on disk only
    report = tmp_path / "v.html"
    cp = run_dvx(vrepo, "validate", "--report", str(report), check=False)
    assert cp.returncode == 1
    assert f"{DATA} [{MODIFIED}]: FAILED" in cp.stdout
    assert MODIFIED in report.read_text()
    js = json.loads(run_dvx(vrepo, "validate", "--json", check=False).stdout)
    assert js["success"] is False and js["datasets"][0]["version"] == MODIFIED
    assert js["datasets"][0]["data_id"] != _pointer_id(vrepo)
    cp = run_dvx(vrepo, "validate", "--staged")
    assert f"{DATA} [staged {added}]: passed" in cp.stdout
    js = json.loads(run_dvx(vrepo, "validate", "--staged", "--json").stdout)
    assert js["success"] is True and js["datasets"][0]["version"] == f"staged {added}"
    # the modified file's result is stored by its content id: a rerun reads no data
    cp = run_dvx(vrepo, "validate", check=False)
    assert "stored result" in cp.stdout
    # once added, the default and --staged agree
    run_dvx(vrepo, "add", DATA)
    new = _pointer_id(vrepo)[:12]
    assert run_dvx(vrepo, "validate", "--staged", check=False).returncode == 1
    cp = run_dvx(vrepo, "validate", check=False)
    assert cp.returncode == 1 and f"{DATA} [workspace]: FAILED" in cp.stdout
    assert f"[staged {new}]" in run_dvx(vrepo, "validate", "--staged", check=False).stdout


def test_rev_reads_the_committed_version_and_names_it(vrepo: Path) -> None:
    v1 = _pointer_id(vrepo)[:12]
    pq.write_table(_table(20_000, 2, bad_label=True), vrepo / DATA)
    run_dvx(vrepo, "add", DATA)
    git(vrepo, "commit", "-qam", "v2 bad", "--no-verify")
    cp = run_dvx(vrepo, "validate", "--rev", "HEAD~1")
    assert f"[HEAD~1 {v1}]: passed" in cp.stdout
    js = json.loads(run_dvx(vrepo, "validate", "--rev", "HEAD~1", "--json").stdout)
    assert js["datasets"][0]["version"] == f"HEAD~1 {v1}"
    js = json.loads(run_dvx(vrepo, "stats", DATA, "--rev", "HEAD~1", "--json").stdout)
    assert js["measured"] == f"HEAD~1 {v1}" and js["row_count"] == 20_000
    cp = run_dvx(vrepo, "stats", DATA)
    assert f"{DATA} [workspace]: 20,000 rows" in cp.stdout
    js = json.loads(run_dvx(vrepo, "check", "--rev", "HEAD", "--json", check=False).stdout)
    d = js["datasets"][0]
    assert d["version"] == f"HEAD {_pointer_id(vrepo)[:12]}" and d["baseline_version"] == f"HEAD^ {v1}"
    cp = run_dvx(vrepo, "drift", DATA, "--rev", "HEAD", "--baseline", "HEAD~1", "--json", check=False)
    js = json.loads(cp.stdout)
    assert js["current_version"] == f"HEAD {_pointer_id(vrepo)[:12]}" and js["baseline_version"] == f"HEAD~1 {v1}"


def test_stats_of_the_modified_file(vrepo: Path) -> None:
    pq.write_table(_table(5_000, 3), vrepo / DATA)
    js = json.loads(run_dvx(vrepo, "stats", DATA, "--json").stdout)
    assert js["measured"] == MODIFIED and js["row_count"] == 5_000
    js = json.loads(run_dvx(vrepo, "stats", DATA, "--staged", "--json").stdout)
    assert js["measured"].startswith("staged ") and js["row_count"] == 20_000


def test_expectations_init_then_validate_on_the_modified_file(vrepo: Path) -> None:
    # new columns and values on disk, not re-added: the inferred suite describes them
    t = _table(3_000, 9).append_column("z", pa.array(np.arange(3_000) % 7, pa.int64()))
    pq.write_table(t, vrepo / DATA)
    (vrepo / "expectations" / "dvx.toml").write_text("")
    cp = run_dvx(vrepo, "expectations", "init", DATA, "--force")
    assert f"inferred from {MODIFIED}" in cp.stdout
    cp = run_dvx(vrepo, "validate", DATA)
    assert f"[{MODIFIED}]: passed" in cp.stdout
    # the version last added (no column z) is another matter
    assert run_dvx(vrepo, "validate", DATA, "--staged", check=False).returncode == 1


def test_staged_and_rev_exclude_each_other_and_a_deleted_file_is_named(vrepo: Path) -> None:
    cp = run_dvx(vrepo, "validate", "--staged", "--rev", "HEAD", check=False)
    assert cp.returncode == 2 and "--staged and --rev exclude each other" in cp.stderr
    (vrepo / DATA).unlink()
    cp = run_dvx(vrepo, "drift", DATA, check=False)
    assert cp.returncode == 2 and f"{DATA}: not in the workspace" in cp.stderr and "--staged" in cp.stderr
    assert run_dvx(vrepo, "drift", DATA, "--staged").returncode == 0
    cp = run_dvx(vrepo, "check", check=False)
    assert cp.returncode == 1 and "not in the workspace" in cp.stdout
    assert run_dvx(vrepo, "check", "--staged").returncode == 0


READS = [
    ("validate",), ("validate", "--json"), ("validate", "--staged"), ("validate", "--rev", "HEAD"),
    ("stats", DATA), ("stats", DATA, "--json"), ("stats", DATA, "--staged"), ("stats", DATA, "--rev", "HEAD"),
    ("drift", DATA), ("drift", DATA, "--json"), ("drift", DATA, "--staged"), ("drift", DATA, "--rev", "HEAD"),
    ("check",), ("check", "--json"), ("check", "--staged"), ("check", "--rev", "HEAD"),
    ("diff",), ("diff", "HEAD"), ("diff", "--json"), ("log", DATA), ("log", DATA, "--json"),
]


@pytest.mark.parametrize("modified", [False, True], ids=["clean", "modified-not-added"])
def test_read_commands_change_no_tracked_file(vrepo: Path, tmp_path: Path, modified: bool) -> None:
    if modified:
        pq.write_table(_table(20_000, 5, shift=1.0), vrepo / DATA)
    before = _tracked_state(vrepo)
    assert before[0] == ""  # the data file is git-ignored; the pointer is committed
    for args in READS:
        cp = run_dvx(vrepo, *args, check=False)
        assert cp.returncode in (0, 1), (args, cp.stderr)
        assert _tracked_state(vrepo) == before, args
    for args in (("validate", "--report"), ("drift", DATA, "--report")):
        cp = run_dvx(vrepo, *args, str(tmp_path / "r.html"), check=False)
        assert cp.returncode in (0, 1), (args, cp.stderr)
        assert _tracked_state(vrepo) == before, args


def test_add_names_a_stored_profile(vrepo: Path) -> None:
    """The profile `dvx stats` stored for the bytes on disk is named by the `dvx add` that adds them."""
    pq.write_table(_table(20_000, 6), vrepo / DATA)
    run_dvx(vrepo, "stats", DATA)
    assert "profile: " not in (vrepo / f"{DATA}.dvx").read_text()
    run_dvx(vrepo, "add", DATA)
    assert "profile: " in (vrepo / f"{DATA}.dvx").read_text()


def test_python_api_follows_the_rule(vrepo: Path) -> None:
    pq.write_table(_table(5_000, 1, bad_label=True), vrepo / DATA)
    code = (
        "import dvx\n"
        "from dvx.errors import DataGateError\n"
        f"p = {DATA!r}\n"
        "print(dvx.stats(p).row_count, dvx.stats(p, staged=True).row_count, dvx.stats(p, rev='HEAD').row_count)\n"
        "v = dvx.validate(p)[0]; s = dvx.validate(p, staged=True)[0]\n"
        "print(v.success, v.version, '|', s.success, s.version.split()[0])\n"
        "d = dvx.drift(p)\n"
        "print(d.current_version, '|', d.baseline_version.split()[0])\n"
        "dvx.require_valid(p, staged=True)\n"
        "try:\n"
        "    dvx.require_valid(p)\n"
        "except DataGateError as e:\n"
        "    print('REFUSED', e)\n"
    )
    cp = subprocess.run([sys.executable, "-c", code], cwd=vrepo, capture_output=True, text=True, env=env())
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert lines[0] == "5000 20000 20000"
    assert lines[1] == f"False {MODIFIED} | True staged"
    assert lines[2] == f"{MODIFIED} | HEAD"
    assert lines[3].startswith("REFUSED") and f"({MODIFIED})" in lines[3]


def _heavy_imports(repo: Path, *args: str) -> set[str]:
    cp = subprocess.run([sys.executable, "-X", "importtime", "-m", "dvx", *args], cwd=repo, capture_output=True,
                        text=True, env=env())
    mods = {ln.split("|")[-1].strip().split(".")[0] for ln in cp.stderr.splitlines() if ln.startswith("import time:")}
    assert mods, cp.stderr
    return mods & {"pyarrow", "numpy", "pandas", "great_expectations"}


@pytest.mark.parametrize("modified", [False, True], ids=["unchanged", "modified-not-added"])
def test_rerun_on_the_same_bytes_reads_no_data(vrepo: Path, modified: bool) -> None:
    """The disk's id comes from the stat cache and the stored results answer: a rerun of
    validate and check imports neither pyarrow nor numpy, modified file or not."""
    if modified:
        pq.write_table(_table(20_000, 1, shift=1.0), vrepo / DATA)
    run_dvx(vrepo, "validate")
    run_dvx(vrepo, "check", check=False)
    assert _heavy_imports(vrepo, "validate") == set()
    assert _heavy_imports(vrepo, "check") == set()
