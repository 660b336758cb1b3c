"""Remotes: an ``ObjectStore`` on a remote fsspec filesystem, and moving objects between two stores.

- ``session``: opening a remote (``open_remote``, ``open_url``, ``Remote``);
- ``errors``: filesystem/botocore exceptions as one-line ``RemoteError``s;
- ``push`` / ``fetch`` / ``status``: cache -> remote, remote -> cache, and
  what a remote lacks; ``common`` holds what they share.
"""

from __future__ import annotations

from dvx.remote.common import TransferResult
from dvx.remote.config import RemoteSpec
from dvx.remote.errors import describe_error, translate_errors
from dvx.remote.fetch import fetch, fetch_lock, fetch_objects
from dvx.remote.push import push
from dvx.remote.session import DEFAULT_JOBS, DEFAULT_PACK_SIZE, Remote, RequestCounter, open_remote, open_url
from dvx.remote.status import cloud_status

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_PACK_SIZE",
    "Remote",
    "RemoteSpec",
    "RequestCounter",
    "TransferResult",
    "cloud_status",
    "describe_error",
    "fetch",
    "fetch_lock",
    "fetch_objects",
    "open_remote",
    "open_url",
    "push",
    "translate_errors",
]
