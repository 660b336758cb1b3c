"""What a view resolves a path to (``Node``), and what its reads fetched (``ReadStats``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

FILE = "file"
DIRECTORY = "directory"


@dataclass(frozen=True, slots=True)
class Node:
    """One path at a view's revision."""

    path: str  # repo-relative, "/"-separated; "" is the repository root
    kind: str  # FILE or DIRECTORY
    size: int
    source: str  # "dvx" (tracked data), "git" (a file git tracks, at a revision) or "workspace"
    oid: bytes | None = None  # FileManifest id (dvx files) or TreeManifest id (tracked directories)
    tracked: str | None = None  # the tracked path whose pointer names this node
    blob: str | None = None  # git blob id (git files at a revision)
    local: str | None = None  # workspace copy to read directly
    stamp: tuple[int, ...] | None = None  # stat_key of ``local`` when it was found unchanged (ctime: a restored mtime is not enough)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass
class ReadStats:
    """What reads of one view fetched from its remote (for benchmarks and tests)."""

    fills: int = 0  # fetches from the remote (each writes one pack + index to the cache)
    objects: int = 0
    raw_bytes: int = 0
    local_bytes: int = 0  # bytes served from the local cache
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
