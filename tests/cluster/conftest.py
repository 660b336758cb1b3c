"""A real Dask cluster on 127.0.0.1 (``dask scheduler`` + two ``dask worker`` processes) and a
repository whose data lives on moto_server, reachable by the workers only through its bare git URL.

The workers run in a temporary folder with the S3 test credentials in their
environment (never the repository's path): they see the repository as a git
URL and the data as the remote its committed ``.dvx/config`` names.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from clusterkit import MANY, parquet_bytes
from dvxtest import env, git, make_dvx_repo, run_dvx, write_files
from s3kit import free_port

pytestmark = pytest.mark.s3

# Small chunks: every file is many chunks, so workers' ranged reads fetch part of a file.
SMALL_CHUNKS = {"min_size": 1024, "avg_size": 4096, "max_size": 16384}
READY_TIMEOUT = 60.0


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


@dataclass
class DaskCluster:
    """A scheduler and its workers, each in its own process group (killed by group at teardown)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workdir: Path
    worker_env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        """One more ``dask worker`` (one thread, no nanny: killing it loses the worker)."""
        n = len(self.workers)
        log = open(self.workdir / f"worker{n}.log", "ab")  # noqa: SIM115 - kept open by the child
        proc = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1", "--no-dashboard",
             "--no-nanny", "--host", "127.0.0.1", "--name", f"w{n}", "--death-timeout", "60"],
            cwd=self.workdir, env=self.worker_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.workers.append(proc)
        return proc

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def wait_workers(self, n: int, timeout: float = READY_TIMEOUT) -> None:
        """Wait until the scheduler knows ``n`` workers (a deadline, not a sleep)."""
        from distributed import Client

        deadline = time.monotonic() + timeout
        with Client(self.address, timeout="20s", set_as_default=False) as c:
            while True:
                got = len(c.scheduler_info(n_workers=-1)["workers"])
                if got == n:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{got} Dask workers after {timeout} s, wanted {n}; logs in {self.workdir}")
                time.sleep(0.1)

    def kill_worker(self, proc: subprocess.Popen[bytes] | None = None) -> None:
        """Kill one worker (SIGKILL to its process group): its tasks are lost mid-job."""
        _kill_group(proc or self.live_workers()[0])

    def kill_worker_mid_job(self, job: subprocess.Popen[str], pick: Callable[[Any], tuple[str, Any] | None],
                            timeout: float = 60) -> tuple[Any, str, str]:
        """Watch ``job`` (a dvx command on this cluster) and kill the worker ``pick(client)`` names
        (``(worker name, what it saw)``, or None: not yet); then (what pick saw, None if the job ended
        first; stdout; stderr). The cluster has two workers again afterwards."""
        from distributed import Client

        seen = None
        try:
            with Client(self.address, set_as_default=False) as c:
                deadline = time.monotonic() + timeout
                while job.poll() is None and time.monotonic() < deadline:
                    got = pick(c)
                    if got is not None:
                        name, seen = got
                        self.kill_worker(self.workers[int(name[1:])])  # names are w0, w1, ... (start_worker)
                        break
                    time.sleep(0.02)
            out, err = job.communicate(timeout=120)
        finally:
            if job.poll() is None:
                job.kill()
            self.ensure_workers(2)
        return seen, out, err

    def kill_scheduler(self) -> None:
        """Kill the scheduler (SIGKILL to its process group): every client and worker loses it mid-job."""
        _kill_group(self.scheduler)

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def ensure_workers(self, n: int = 2) -> None:
        """Start workers until ``n`` are alive (after a test killed one)."""
        while len(self.live_workers()) < n:
            self.start_worker()
        self.wait_workers(n)

    def stop(self) -> None:
        for w in self.workers:
            _kill_group(w)
        _kill_group(self.scheduler)


def _worker_env(s3: dict[str, str]) -> dict[str, str]:
    """The environment of scheduler and workers: the S3 credentials, dvx importable, no repository path."""
    e = {k: v for k, v in env().items() if not k.startswith(("DVX_SCHEDULER", "GIT_DIR", "GIT_WORK_TREE"))}
    e.update(s3)
    e["DASK_DISTRIBUTED__DIAGNOSTICS__NVML"] = "False"
    e["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    # The dvx sources under test (a worktree on PYTHONPATH), as the client runs them.
    import dvx

    e["PYTHONPATH"] = str(Path(dvx.__file__).resolve().parent.parent)
    return e


def start_cluster(workdir: Path, wenv: dict[str, str], workers: int = 2, port: int | None = None) -> DaskCluster:
    """A ``dask scheduler`` on 127.0.0.1 (``port``, else a free one) and ``workers`` workers, ready."""
    port = port or free_port()
    log = open(workdir / "scheduler.log", "ab")  # noqa: SIM115 - kept open by the child
    sched = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], cwd=workdir, env=wenv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    cluster = DaskCluster(f"tcp://127.0.0.1:{port}", sched, workdir, wenv)
    try:
        for _ in range(workers):
            cluster.start_worker()
        cluster.wait_workers(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def dask_cluster(s3_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 (free ports, one thread each)."""
    pytest.importorskip("distributed")
    cluster = start_cluster(tmp_path_factory.mktemp("dask"), _worker_env(s3_env))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def own_cluster(s3_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., DaskCluster]]:
    """``own_cluster(workers=1, port=None)``: a cluster of this test's own (one it may kill whole, which
    the session's ``dask_cluster`` is not); every one started is stopped at teardown."""
    pytest.importorskip("distributed")
    started: list[DaskCluster] = []
    wenv = _worker_env(s3_env)

    def start(workers: int = 1, port: int | None = None) -> DaskCluster:
        workdir = tmp_path / f"dask{len(started)}"
        workdir.mkdir()
        started.append(start_cluster(workdir, wenv, workers, port))
        return started[-1]

    try:
        yield start
    finally:
        for c in started:
            c.stop()


SUITE = {
    "expectation_suite_name": "train",
    "expectations": [
        {"expectation_type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "min_value": -10,
                                                                              "max_value": 10}},
        {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": "label"}},
        {"expectation_type": "expect_column_values_to_be_in_set", "kwargs": {"column": "kind",
                                                                            "value_set": ["a", "b", "c"]}},
        {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"expectation_type": "expect_column_mean_to_be_between", "kwargs": {"column": "x", "min_value": -1,
                                                                            "max_value": 1}},
        {"expectation_type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1,
                                                                                "max_value": 10_000_000}},
    ],
}


@dataclass
class ClusterRepo:
    """The repository (work tree ``root``, pushed), its bare copy at ``url`` (``file://``), its S3 remote."""

    root: Path
    url: str
    bare: Path
    endpoint: str
    remote_url: str
    files: dict[str, bytes] = field(default_factory=dict)

    def clone(self, dest: Path) -> Path:
        """A fresh clone of the bare URL (origin = the URL): empty cache, data not checked out."""
        git(dest.parent, "clone", "-q", self.url, str(dest))
        return dest


@pytest.fixture(scope="session")
def cluster_repo(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterRepo]:
    """data/train: 3 Parquet files of 4-6 row groups each, a bound suite, v1 tag; pushed to S3 and to a bare repo."""
    import json

    import boto3

    bucket = f"cl-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    base = tmp_path_factory.mktemp("cluster")
    root = make_dvx_repo(base / "repo")
    cfg = root / ".dvx" / "config"
    text = cfg.read_text()
    for k, v in SMALL_CHUNKS.items():
        text = "\n".join(f"{k} = {v}" if line.startswith(f"{k} =") else line for line in text.splitlines()) + "\n"
    cfg.write_text(text)
    remote_url = f"s3://{bucket}/store"
    run_dvx(root, "remote", "add", "-d", "s3", remote_url)
    run_dvx(root, "remote", "modify", "s3", "endpoint_url", moto_server)
    files = {
        "data/train/part-0.parquet": parquet_bytes(0, 3000, 600),
        "data/train/part-1.parquet": parquet_bytes(1, 2000, 500),
        "data/train/sub/part-2.parquet": parquet_bytes(2, 2500, 500),
        "data/small.parquet": parquet_bytes(3, 1200, 300),
        "data/big.parquet": parquet_bytes(5, 100_000, 10_000),  # ~3 MB: the client fetches its footer only
        # many partitions: a job long enough to lose a worker in the middle of it
        **{f"data/many/f{i:02d}.parquet": parquet_bytes(10 + i, 4000, 1000) for i in range(MANY)},
    }
    write_files(root, files)
    (root / "expectations" / "train.json").write_text(json.dumps(SUITE, indent=1))
    (root / "expectations" / "dvx.toml").write_text('[[bind]]\npath = "data/train"\nsuites = ["train.json"]\n\n'
                                                    '[[bind]]\npath = "data/small.parquet"\nsuites = ["train.json"]\n')
    run_dvx(root, "add", "data/train", "data/small.parquet", "data/big.parquet", "data/many")
    git(root, "add", "-A")
    git(root, "commit", "--no-verify", "-qm", "v1")
    git(root, "tag", "v1")
    run_dvx(root, "push")
    # v2: one file of data/train shifted (drift) and one more file
    v2 = {"data/train/part-1.parquet": parquet_bytes(1, 2000, 500, shift=3.0),
          "data/train/part-3.parquet": parquet_bytes(4, 1000, 250)}
    write_files(root, v2)
    run_dvx(root, "add", "data/train")
    git(root, "add", "-A")
    git(root, "commit", "--no-verify", "-qm", "v2")
    git(root, "tag", "v2")
    bare = base / "hub.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(bare))
    git(root, "remote", "add", "origin", f"file://{bare}")
    git(root, "push", "-q", "origin", "main", "--tags")
    git(root, "branch", "-u", "origin/main")
    run_dvx(root, "push")
    yield ClusterRepo(root, f"file://{bare}", bare, moto_server, remote_url, files)


def dvx_env(**extra: str) -> dict[str, Any]:
    """The environment of a dvx child process (the scheduler is passed as an option unless given here)."""
    e = env()
    e.pop("DVX_SCHEDULER", None)
    e.update(extra)
    return e
