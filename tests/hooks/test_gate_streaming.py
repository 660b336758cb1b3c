"""The gate reads a version through the versioned reader: no temporary copy of the data is written.

A ``sitecustomize`` module installs a Python audit hook in every dvx process
the test starts (the real pre-commit hook included) and logs each file or
folder opened or made for writing, so a copy that is written and deleted
within the run is still seen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dvxtest import env, git, run_dvx
from hookkit import write_csv

DATA = "data/train.csv"

AUDIT = '''
import os, sys
_log = os.environ.get("DVX_AUDIT_LOG")
if _log:
    _f = open(_log, "a", buffering=1)
    _W = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def _hook(event, args):
        if event == "open":
            path, mode, flags = args
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _W)
        elif event in ("os.mkdir", "shutil.copyfile", "shutil.copytree"):
            path, writes = args[0] if event == "os.mkdir" else args[1], True
        else:
            return
        if writes and isinstance(path, (str, bytes, os.PathLike)):
            _f.write(os.path.abspath(os.fsdecode(path)) + "\\n")

    sys.addaudithook(_hook)
'''


def _audited_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    site = tmp_path / "audit-site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(AUDIT)
    log = tmp_path / "writes.log"
    log.write_text("")
    e = env()
    e["PYTHONPATH"] = os.pathsep.join([str(site), e.get("PYTHONPATH", "")])
    e["DVX_AUDIT_LOG"] = str(log)
    tmp = tmp_path / "tmpdir"
    tmp.mkdir(exist_ok=True)
    e["TMPDIR"] = str(tmp)
    return e, log


def _writes(log: Path) -> list[str]:
    return [ln for ln in log.read_text().splitlines() if ln]


def _copies(writes: list[str], root: Path) -> list[str]:
    """Written paths that could hold a copy of the data: any named like the dataset
    or in a ``gate-`` folder, and any outside the stores (.dvx/cache), the stat
    cache and lock with its holder's pid (.dvx/tmp) and the pointer file (its profile is attached)."""
    tmp = root / ".dvx" / "tmp"
    out = []
    for w in writes:
        p = Path(w)
        if p.name == "train.csv" or "gate-" in w:
            out.append(w)
        elif p.is_relative_to(root / ".dvx" / "cache") or p in (tmp, root / "data"):  # mkdir of existing folders
            continue
        elif p.parent == tmp and (p.name in ("lock", "lock.pid") or "statcache" in p.name):
            continue
        elif p.parent == root / "data" and p.name.lstrip(".").startswith("train.csv.dvx"):
            continue
        else:
            out.append(w)
    return out


def test_pre_commit_gate_streams_the_staged_version_without_a_copy(drepo: Path, tmp_path: Path) -> None:
    # a staged version larger than a chunk, then a workspace copy that is no longer it:
    # the gate has to read the staged version from the cache
    write_csv(drepo / DATA, rows=60_000, seed=2)
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", "-A")
    git(drepo, "commit", "-q", "--no-verify", "-m", "baseline of the same size")
    write_csv(drepo / DATA, rows=60_000, seed=3)
    run_dvx(drepo, "add", DATA)
    pointer = (drepo / (DATA + ".dvx")).read_text()
    assert int(next(ln.split(":")[1] for ln in pointer.splitlines() if ln.startswith("chunks:"))) > 4
    git(drepo, "add", DATA + ".dvx")
    write_csv(drepo / DATA, rows=10, seed=4, labels=("zz",))  # would fail the suite if it were read
    e, log = _audited_env(tmp_path)
    cp = subprocess.run(["git", "-C", str(drepo), "commit", "-q", "-m", "v2"], capture_output=True, text=True, env=e)
    assert cp.returncode == 0, cp.stderr
    writes = _writes(log)
    assert any("/results/validation/" in w for w in writes), writes  # the gate did run and validate
    assert _copies(writes, drepo) == [], writes
    # the stored result is that of the staged version: 60,000 rows, no unexpected label
    js = json.loads(run_dvx(drepo, "check", "--rev", "HEAD", "--json").stdout)
    assert js["ok"] is True and js["datasets"][0]["validation"] == "passed"


def test_pointer_changed_after_staging_gates_the_staged_version(drepo: Path) -> None:
    # stage a broken version, then `dvx add` a valid one without staging it:
    # the commit holds the broken one, so the gate must refuse it
    write_csv(drepo / DATA, seed=8, labels=("a", "b", "zz"))
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", DATA + ".dvx")
    write_csv(drepo / DATA, seed=9)
    run_dvx(drepo, "add", DATA)
    cp = git(drepo, "commit", "-q", "-m", "broken staged", check=False)
    assert cp.returncode == 1
    assert "expect_column_values_to_be_in_set" in cp.stderr and "zz" in cp.stderr
    # staging the valid pointer lets the commit through
    git(drepo, "add", DATA + ".dvx")
    cp = git(drepo, "commit", "-q", "-m", "valid", check=False)
    assert cp.returncode == 0, cp.stderr


def test_check_fails_like_validate_with_one_error_line(drepo: Path) -> None:
    write_csv(drepo / DATA, seed=8, labels=("a", "b", "zz"))
    run_dvx(drepo, "add", DATA)
    for cmd in (("check",), ("validate",)):
        cp = run_dvx(drepo, *cmd, check=False)
        assert cp.returncode == 1, cmd
        errors = [ln for ln in cp.stderr.splitlines() if ln.strip()]
        assert len(errors) == 1 and errors[0].startswith("error: ") and DATA in errors[0], (cmd, cp.stderr)
        assert "Traceback" not in cp.stderr


def test_stats_of_a_version_streams_without_a_copy(drepo: Path, tmp_path: Path) -> None:
    write_csv(drepo / DATA, rows=60_000, seed=5)
    run_dvx(drepo, "add", DATA)
    git(drepo, "add", "-A")
    git(drepo, "commit", "-q", "--no-verify", "-m", "v2")
    write_csv(drepo / DATA, rows=10, seed=6)  # the workspace copy is another version now
    e, log = _audited_env(tmp_path)
    code = ("import dvx, sys; p = dvx.stats(sys.argv[1], rev='HEAD', repo=sys.argv[2]); print(p.row_count)")
    cp = subprocess.run([sys.executable, "-c", code, DATA, str(drepo)], capture_output=True, text=True, env=e,
                        cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "60000"
    assert _copies(_writes(log), drepo) == [], _writes(log)
