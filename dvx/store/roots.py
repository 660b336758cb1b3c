"""Roots markers: what a push made reachable, kept by gc for the grace period.

Every push writes ``<root>/roots/<16 random hex>`` after its index files and
before it releases its shared lock (docs/format.md, "Locks and gc
protocol")::

    {"version": 1, "op": "push", "host": "ci-7", "clone": "5d1c0e6a9b2f4c81",
     "created": 1764770000, "roots": ["4eaf49f32f007bdb1fb3805796ffa4c7", ...]}

``roots`` are the tree/file manifest and PROFILE ids of the pointers it
pushed, including those whose objects the remote already had (the push
deduplicated against them, and a gc may have marked them garbage). gc keeps
the closure of every marker younger than its grace period and deletes
older markers. A marker that does not parse is refused (gc cannot know what
it protects): CorruptObjectError naming it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time
from collections.abc import Iterable

from dvx.errors import CorruptObjectError, FormatVersionError
from dvx.hashing import from_hex, is_oid
from dvx.store import sidefiles
from dvx.store.limits import MAX_MANIFEST
from dvx.store.store import ObjectStore
from dvx.store.types import ObjectId

ROOTS_DIR = "roots"
ROOTS_VERSION = 1
_NAME = re.compile(r"[0-9a-f]{16}")


def _path(store: ObjectStore, name: str) -> str:
    return f"{store.root}/{ROOTS_DIR}/{name}"


def write_roots(store: ObjectStore, ids: Iterable[bytes], *, op: str = "push", clone: str = "") -> str:
    """Write a marker listing ``ids`` (one PUT on a remote); its name."""
    name = secrets.token_hex(8)
    body = {"version": ROOTS_VERSION, "op": op, "host": socket.gethostname(), "clone": clone,
            "created": int(time.time()), "roots": sorted({i.hex() for i in ids})}
    data = json.dumps(body, sort_keys=True).encode()
    if len(data) > MAX_MANIFEST:
        raise ValueError(f"a roots marker of {len(data)} bytes is over the {MAX_MANIFEST}-byte limit")
    sidefiles.write(store, _path(store, name), data)
    return name


def _parse(store: ObjectStore, name: str, data: bytes) -> tuple[int, list[ObjectId]]:
    """(created, ids) of marker ``name``; CorruptObjectError or FormatVersionError naming it."""
    shown = f"{store.where}: {ROOTS_DIR}/{name}" if not store.local or store.where != store.root \
        else os.path.join(store.root, ROOTS_DIR, name)
    try:
        if len(data) > MAX_MANIFEST:
            raise ValueError(f"over {MAX_MANIFEST} bytes")
        d = json.loads(data)
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        version = d.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > ROOTS_VERSION:
            raise FormatVersionError(f"{shown}: roots marker version {version}, this dvx reads version {ROOTS_VERSION}",
                                     "upgrade dvx")
        created, roots = d.get("created"), d.get("roots")
        if version != ROOTS_VERSION or not isinstance(created, int) or isinstance(created, bool):
            raise ValueError("no version 1 header")
        if not isinstance(roots, list) or not all(is_oid(r) for r in roots):
            raise ValueError("'roots' is not a list of object ids")
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise CorruptObjectError(f"{shown}: not a roots marker ({e}); gc cannot tell what it protects") from None
    return created, [ObjectId(from_hex(r)) for r in roots]


def _markers(store: ObjectStore) -> list[tuple[str, int, list[ObjectId]]]:
    out = []
    for name in sidefiles.list_names(store, ROOTS_DIR):
        if not _NAME.fullmatch(name):
            continue  # temp files of a local writer
        data = sidefiles.read_small(store, _path(store, name), MAX_MANIFEST)
        if data is not None:  # expired by another gc a moment ago
            out.append((name, *_parse(store, name, data)))
    return out


def marker_names(store: ObjectStore) -> set[str]:
    """Names of the markers present (one listing)."""
    return {n for n in sidefiles.list_names(store, ROOTS_DIR) if _NAME.fullmatch(n)}


def read_roots(store: ObjectStore, newer_than: float) -> set[ObjectId]:
    """The ids listed by markers created at or after ``newer_than`` (UTC epoch seconds)."""
    out: set[ObjectId] = set()
    for _name, created, ids in _markers(store):
        if created >= newer_than:
            out.update(ids)
    return out


def expire_roots(store: ObjectStore, older_than: float) -> list[str]:
    """Delete markers created before ``older_than`` (UTC epoch seconds); their names."""
    gone = []
    for name, created, _ids in _markers(store):
        if created < older_than and sidefiles.remove(store, _path(store, name)):
            gone.append(name)
    return gone
