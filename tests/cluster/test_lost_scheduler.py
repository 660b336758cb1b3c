"""Item 4: the Dask scheduler killed mid-job is one line on the client, promptly; a restarted one serves a rerun."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from dvxtest import env

pytestmark = pytest.mark.s3

LOST_WITHIN = 30.0  # seconds from the kill to the client's exit


def _running(client) -> int:
    """How many partition tasks the scheduler has on its workers now."""
    return sum(str(k).startswith("dvx-profile-") for keys in client.processing().values() for k in keys)


def test_killed_scheduler_is_one_line_and_a_restarted_one_serves_the_rerun(own_cluster, cluster_repo,
                                                                            tmp_path) -> None:
    from distributed import Client

    cluster = own_cluster(workers=1)  # its own: the session's scheduler is shared by other tests
    repo = cluster_repo.clone(tmp_path / "repo")
    args = [sys.executable, "-m", "dvx", "stats", "data/train", "--rev", "v1", "--json", "--scheduler",
            cluster.address]
    job = subprocess.Popen(args, cwd=repo, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        running = False
        with Client(cluster.address, set_as_default=False) as c:
            deadline = time.monotonic() + 60
            while job.poll() is None and time.monotonic() < deadline:
                # a task on the worker: the client waits in gather (a fresh worker's first task clones
                # the repository first, far longer than this loop's turn)
                running = _running(c) > 0
                if running:
                    break
                time.sleep(0.02)
        assert running, "the job ended before the scheduler could be killed"
        cluster.kill_scheduler()
        killed_at = time.monotonic()
        out, err = job.communicate(timeout=LOST_WITHIN + 30)
        took = time.monotonic() - killed_at
    finally:
        if job.poll() is None:
            job.kill()
    assert took < LOST_WITHIN, f"{took:.1f} s after the kill"
    assert job.returncode == 1, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err  # no traceback, no log of distributed's reconnection
    assert lines[0].startswith(f"error: profiling data/train: lost the Dask scheduler at {cluster.address} mid-job"), err
    assert f"start a Dask scheduler and workers at {cluster.address} again" in lines[0]
    assert "run the command again" in lines[0]

    # what the hint says: a scheduler and a worker at the same address again, then the same command
    again = own_cluster(workers=1, port=cluster.port)
    assert again.address == cluster.address
    cp = subprocess.run(args, cwd=repo, env=env(), capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    got = json.loads(cp.stdout)
    assert got["path"] == "data/train" and got["row_count"] == 3000 + 2000 + 2500, got
