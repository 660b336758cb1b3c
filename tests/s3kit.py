"""S3 test servers on loopback (moto_server, SeaweedFS): helpers shared by fixtures and tests.

Import from here (`from s3kit import free_port`), never `from conftest import ...`:
several conftest.py files exist and the module name `conftest` is ambiguous.
"""

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

S3_KEY = "testing"


S3_SECRET = "testing"


S3_REGION = "us-east-1"


_S3_ENV = {
    "AWS_ACCESS_KEY_ID": S3_KEY,
    "AWS_SECRET_ACCESS_KEY": S3_SECRET,
    "AWS_DEFAULT_REGION": S3_REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    # Never read the developer's real ~/.aws files.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _bin(name: str) -> str | None:
    for d in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return shutil.which(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_s3_ready(endpoint: str, key: str = S3_KEY, secret: str = S3_SECRET, timeout: float = 30.0,
                  proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll a real create_bucket + put_object until it works (a port or /healthz is not enough)."""
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                      region_name=S3_REGION,
                      config=BotoConfig(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with contextlib.suppress(ClientError):
                s3.create_bucket(Bucket="readiness")
            s3.put_object(Bucket="readiness", Key="probe", Body=b"x")
            return
        except (ClientError, BotoCoreError, OSError):
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"S3 server exited with {proc.returncode} before it was ready") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


@dataclass
class S3Bucket:
    """A fresh bucket: ``url`` (``s3://bucket``), s3fs ``storage_options`` and dvx remote ``options``."""

    name: str
    endpoint: str
    storage_options: dict[str, Any]
    options: dict[str, Any]

    @property
    def url(self) -> str:
        return f"s3://{self.name}"

    def client(self) -> Any:
        """A boto3 client for this server (for tampering with objects in tests)."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=S3_REGION,
                            aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET)

    def fs(self) -> Any:
        """A fresh s3fs filesystem for this server."""
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, **self.storage_options)


def _make_bucket(endpoint: str, prefix: str = "b") -> S3Bucket:
    import boto3

    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION,
                 aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET).create_bucket(Bucket=name)
    return S3Bucket(name, endpoint, {"client_kwargs": {"endpoint_url": endpoint}}, {"endpoint_url": endpoint})


@dataclass
class SeaweedFS:
    """A SeaweedFS ``weed server`` with S3 on 127.0.0.1; ``stop`` is ``kill -9``, ``start`` reuses the data dir."""

    exe: str
    data_dir: Path
    conf_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def _pick_ports(self) -> None:
        # Eight listeners (http + grpc for master, volume, filer, s3); all distinct and free.
        while True:
            base = [free_port() for _ in range(4)]
            grpc = [free_port() for _ in range(4)]
            allp = base + grpc
            if len(set(allp)) == 8 and all(_port_free(p) for p in allp):
                break
        names = ["master", "volume", "filer", "s3"]
        self.ports = dict(zip(names, base, strict=True)) | {f"{n}_grpc": p for n, p in zip(names, grpc, strict=True)}

    def start(self, timeout: float = 40.0) -> None:
        """Start the server (same ports and data dir as before) and wait until a write works."""
        if self.proc is not None and self.proc.poll() is None:
            return
        if not self.ports:
            self._pick_ports()
        p = self.ports
        cfg = self.conf_dir / "s3.json"
        cfg.write_text(json.dumps({"identities": [{
            "name": "admin", "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        env = dict(os.environ, WEED_MASTER_VOLUME_GROWTH_COPY_1="1", GOMEMLIMIT="384MiB")
        args = [
            self.exe, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data_dir}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            "-filer", f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}", f"-s3.config={cfg}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=1024", "-volume.max=1000",
            "-master.electionTimeout=1s", "-volume.preStopSeconds=0",
        ]
        log = open(self.conf_dir / "weed.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.conf_dir)
        log.close()
        try:
            wait_s3_ready(self.endpoint, timeout=timeout, proc=self.proc)
        except BaseException:
            self.stop()
            raise

    def ensure_running(self) -> None:
        """Start the server again if a fault test left it stopped."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()

    def stop(self) -> None:
        """kill -9 the server (data on disk survives; s3-servers.md section 5)."""
        if self.proc is not None:
            _kill(self.proc)
            self.proc = None

    def restart(self) -> None:
        """stop + start on the same ports and data."""
        self.stop()
        self.start()

    def bucket(self) -> S3Bucket:
        """A fresh bucket on this server (~0.2 s for its first write)."""
        self.ensure_running()
        return _make_bucket(self.endpoint, "w")

