"""Opening a remote: ``open_remote(cfg, name)`` / ``open_url(url)`` -> ``Remote``.

A configured remote (``dvx/remote/config.py``) becomes the filesystem for
its URL (s3fs for ``s3://``, the local filesystem for a folder or
``file://``, any other installed fsspec protocol) and an ``ObjectStore``
rooted at the URL's path. s3fs and other filesystem packages are imported
here only when a remote is opened, never when the CLI starts.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from dvx.chunking import MAX_CHUNK, ChunkerParams
from dvx.config import Config
from dvx.errors import RemoteError
from dvx.hashing import hash_hex
from dvx.remote.config import get_remote
from dvx.remote.errors import translate_errors
from dvx.store import ObjectStore
from dvx.store.locks import STALE, WAIT, parse_duration

# Remote packs: 32 MiB sits in the 16-64 MiB band where one PUT/GET's fixed
# cost (~2-10 ms on loopback, ~20-50 ms to a cloud region) is <1% of its
# transfer time, while jobs x pack stays a modest amount of memory.
DEFAULT_PACK_SIZE = 32 << 20
# Concurrent pack uploads / range batches. 4 x 32 MiB = 128 MiB in flight.
DEFAULT_JOBS = 4
# An unreachable endpoint must fail in seconds, not minutes: botocore's
# defaults are 60 s connect timeout and up to 5 attempts.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 60
MAX_ATTEMPTS = 2

# Under the local cache: verified copies of each remote's index files.
INDEX_CACHE_DIR = "remote-index"

# fsspec protocol -> the package that provides it (for the "install X" line).
_PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "adl": "adlfs",
    "hf": "huggingface_hub",
    "ssh": "sshfs",
    "sftp": "sshfs",
    "webdav": "webdav4",
    "oss": "ossfs",
    "hdfs": "pyarrow",
}
_S3_RENAMES = {"access_key_id": "key", "secret_access_key": "secret", "session_token": "token"}
# Keys dvx reads itself, never passed to the filesystem.
_DVX_KEYS = {"url", "jobs", "pack_size", "compression", "connect_timeout", "read_timeout", "retries"}

__all__ = ["DEFAULT_JOBS", "DEFAULT_PACK_SIZE", "Remote", "RequestCounter", "open_remote", "open_url"]


class RequestCounter:
    """Counts HTTP requests a filesystem sends (botocore ``before-send`` on s3fs;
    the transfer code counts calls itself for other filesystems)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.hooked = False

    def add(self, n: int = 1) -> None:
        """Count ``n`` requests."""
        with self._lock:
            self.count += n

    def _on_send(self, **_: Any) -> None:
        self.add(1)


@dataclass
class Remote:
    """A remote opened for transfers: its name, URL, filesystem and store."""

    name: str
    url: str
    fs: Any
    store: ObjectStore
    jobs: int = DEFAULT_JOBS
    options: dict[str, Any] = field(default_factory=dict)
    requests: RequestCounter = field(default_factory=RequestCounter)
    lock_stale: float = STALE     # `[core] lock_stale`: a lock not refreshed for this long is stale
    lock_wait: float = WAIT       # `[core] lock_wait`: how long a push waits for a gc's lock

    @property
    def root(self) -> str:
        """The store root on ``fs`` (``bucket/prefix`` or an absolute folder)."""
        return self.store.root

    @property
    def label(self) -> str:
        """``name (url)`` for messages."""
        return f"{self.name!r} ({self.url})" if self.name != self.url else self.url

    @property
    def cache_key(self) -> str:
        """Stable id of where this remote's data lives (URL + endpoint), for the local index cache."""
        where = f"{self.store.display_root}|{self.options.get('endpoint_url', '')}"
        return hash_hex(where.encode())[:16]

    def use_index_cache(self, cache_root: str) -> None:
        """Keep verified copies of this remote's index files under ``cache_root/remote-index/<key>``."""
        self.store.set_index_cache(os.path.join(cache_root, INDEX_CACHE_DIR, self.cache_key))

    @property
    def is_s3(self) -> bool:
        """True for s3fs filesystems (requests counted through botocore)."""
        return type(self.fs).__module__.startswith("s3fs")

    def hook_requests(self) -> bool:
        """Count every HTTP request of an s3fs filesystem; False for other filesystems."""
        if self.requests.hooked:
            return True
        if not self.is_s3:
            return False
        with translate_errors(self):
            self.fs.connect()
        self.fs.s3.meta.events.register("before-send.s3", self.requests._on_send)
        self.requests.hooked = True
        return True


def _split_url(url: str) -> tuple[str, str]:
    if "://" in url:
        proto, _, rest = url.partition("://")
        return proto.lower(), rest
    return "file", url


def _missing_package(proto: str, remote_label: str) -> RemoteError:
    pkg = _PACKAGES.get(proto, f"the fsspec implementation of {proto}://")
    return RemoteError(
        f"remote {remote_label}: the {proto}:// protocol needs the {pkg} package, which is not installed",
        f"pip install {pkg}",
    )


def _s3_options(opts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    client: dict[str, Any] = dict(opts.pop("client_kwargs", {}) or {})
    config: dict[str, Any] = dict(opts.pop("config_kwargs", {}) or {})
    endpoint = opts.pop("endpoint_url", None)
    if endpoint:
        client["endpoint_url"] = endpoint
    region = opts.pop("region", None)
    if region:
        client["region_name"] = region
    for k, v in list(opts.items()):
        out[_S3_RENAMES.get(k, k)] = v
    config.setdefault("connect_timeout", int(opts.get("connect_timeout", CONNECT_TIMEOUT)))
    config.setdefault("read_timeout", int(opts.get("read_timeout", READ_TIMEOUT)))
    config.setdefault("retries", {"max_attempts": int(opts.get("retries", MAX_ATTEMPTS)), "mode": "standard"})
    for k in ("connect_timeout", "read_timeout", "retries"):
        out.pop(k, None)
    out["client_kwargs"] = client
    out["config_kwargs"] = config
    return out


def open_url(url: str, options: dict[str, Any] | None = None, *, name: str | None = None,
             base_dir: str | os.PathLike[str] | None = None, jobs: int | None = None,
             max_chunk: int = MAX_CHUNK) -> Remote:
    """A ``Remote`` for ``url`` with fsspec storage ``options`` (keys as in ``[remote.NAME]``).

    ``max_chunk``: the repository's chunker max_size; a remote chunk declaring
    more is refused before it is read (docs/format.md, "Limits").
    """
    opts = dict(options or {})
    label = f"{name!r} ({url})" if name else url
    pack_size = int(opts.get("pack_size", DEFAULT_PACK_SIZE))
    njobs = int(jobs or opts.get("jobs") or DEFAULT_JOBS)
    proto, rest = _split_url(url)
    fs_opts = {k: v for k, v in opts.items() if k not in _DVX_KEYS or k in ("connect_timeout", "read_timeout", "retries")}
    if proto == "file":
        from fsspec.implementations.local import LocalFileSystem

        path = rest
        if not os.path.isabs(path):
            path = os.path.join(os.fspath(base_dir) if base_dir is not None else os.getcwd(), path)
        fs: Any = LocalFileSystem()
        root = os.path.abspath(path)
    else:
        import fsspec

        if proto in ("s3", "s3a"):
            fs_opts = _s3_options(fs_opts)
        else:
            for k in ("connect_timeout", "read_timeout", "retries"):
                fs_opts.pop(k, None)
        try:
            cls = fsspec.get_filesystem_class(proto)
        except ImportError:
            raise _missing_package(proto, label) from None
        except ValueError:
            raise RemoteError(
                f"remote {label}: unknown URL protocol {proto}://",
                "use s3://bucket/prefix, a folder, file:///path or another fsspec URL",
            ) from None
        try:
            # Own instance per remote: request counters hook into its client.
            fs = cls(skip_instance_cache=True, **fs_opts)
        except ImportError:
            raise _missing_package(proto, label) from None
        except (TypeError, ValueError) as e:
            raise RemoteError(f"remote {label}: invalid option for {proto}://: {e}",
                              f"check `dvx remote modify {name or 'NAME'} ...` settings") from None
        if proto in ("s3", "s3a"):
            # s3fs's own retry loop (5 tries with back-off) on top of botocore's
            # would stretch an outage to tens of seconds.
            fs.retries = 2
        root = cls._strip_protocol(url).rstrip("/")
        if not root:
            raise RemoteError(f"remote {label}: the URL names no bucket or folder", f"use {proto}://bucket/prefix")
    raw_only = str(opts.get("compression", "zstd")).lower() in ("none", "false", "off", "")
    store = ObjectStore(fs, root, pack_size=pack_size, max_chunk=max_chunk, compression=None if raw_only else "zstd",
                        where=f"remote {label}")
    return Remote(name or url, url, fs, store, jobs=njobs, options=opts)


def open_remote(cfg: Config, name: str | None = None, *, jobs: int | None = None) -> Remote:
    """Open remote ``name`` (default: ``[core] remote``) of the repository whose config is ``cfg``."""
    spec = get_remote(cfg, name)
    try:
        max_chunk = ChunkerParams.from_config(cfg.section("chunking")).max_size
    except ValueError:
        max_chunk = MAX_CHUNK  # reported by the workspace, which reads the same table
    remote = open_url(spec.url, spec.options, name=spec.name, base_dir=cfg.dir.parent if cfg.dir is not None else None, jobs=jobs, max_chunk=max_chunk)
    for key in ("lock_stale", "lock_wait"):
        value = cfg.get("core", key)
        if value is not None:
            setattr(remote, key, parse_duration(value, f"{cfg.where('core', key)}: [core] {key}"))
    return remote


