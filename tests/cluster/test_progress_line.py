"""The one line a cluster job prints on a terminal (what runs where), and its absence when stderr is not one."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest
from dvxtest import env

pytestmark = pytest.mark.s3


def _stderr_on_a_terminal(args: list[str], cwd, stdout_path) -> tuple[int, str]:
    """Run ``args`` with stderr on a pseudo-terminal (stdout to a file): exit code and what the terminal got."""
    master, slave = pty.openpty()
    with open(stdout_path, "wb") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=env(), stdin=subprocess.DEVNULL, stdout=out, stderr=slave)
    os.close(slave)
    got = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end of the terminal
                break
            if not data:
                break
            got += data
        return proc.wait(60), got.decode()
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


def test_cluster_job_announces_itself_on_a_terminal_only(dask_cluster, cluster_repo, tmp_path) -> None:
    dask_cluster.ensure_workers(2)
    args = ["stats", "data/train", "--rev", "v1", "--json", "--scheduler", dask_cluster.address]
    line = f"profiling data/train: 3 partition task(s) on {dask_cluster.address}"  # one task per file

    term = cluster_repo.clone(tmp_path / "term")  # a clone each: a stored profile would start no job
    rc, err = _stderr_on_a_terminal([sys.executable, "-m", "dvx", *args], term, tmp_path / "out.json")
    assert rc == 0, err
    assert err.splitlines() == [line], repr(err)
    assert json.loads((tmp_path / "out.json").read_text())["path"] == "data/train"

    piped = cluster_repo.clone(tmp_path / "piped")
    cp = subprocess.run([sys.executable, "-m", "dvx", *args], cwd=piped, env=env(), capture_output=True, text=True,
                        timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert cp.stderr == "", cp.stderr
    assert json.loads(cp.stdout) == json.loads((tmp_path / "out.json").read_text())  # the same job ran
