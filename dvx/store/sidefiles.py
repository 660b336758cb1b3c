"""Small files in a store's side folders (``locks/``, ``roots/``): list, read (bounded), write, remove.

The same calls serve the local cache (plain ``os``) and every remote
(``fs.ls`` / ``fs.cat_file`` / ``fs.pipe_file`` / ``fs.rm_file``); every
call is counted in the store's ``io``. Names are checked by the caller.
"""

from __future__ import annotations

import contextlib
import os

from dvx.store.layout import put_file
from dvx.store.store import ObjectStore


def list_names(store: ObjectStore, folder: str) -> list[str]:
    """Sorted names of the files in ``root/folder`` (none when it does not exist)."""
    d = f"{store.root}/{folder}"
    store.io.add()
    if store.local:
        try:
            return sorted(e.name for e in os.scandir(d) if e.is_file(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            return []
    fs = store.fs
    with contextlib.suppress(Exception):
        fs.invalidate_cache(d)  # s3fs caches listings: another clone's lock must show at once
    try:
        infos = fs.ls(d, detail=True)
    except FileNotFoundError:
        return []
    return sorted(i["name"].rstrip("/").rsplit("/", 1)[-1] for i in infos if i.get("type") != "directory")


def read_small(store: ObjectStore, path: str, cap: int) -> bytes | None:
    """At most ``cap + 1`` bytes of ``path`` (the caller refuses more), or None when it is gone."""
    store.io.add()
    try:
        if store.local:
            with open(path, "rb") as f:
                data = f.read(cap + 1)
        else:
            data = bytes(store.fs.cat_file(path, start=0, end=cap + 1))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    store.io.add(0, received=len(data))
    return data


def exists(store: ObjectStore, path: str) -> bool:
    """True when ``path`` is a file of the store."""
    store.io.add()
    if store.local:
        return os.path.isfile(path)
    with contextlib.suppress(Exception):
        store.fs.invalidate_cache(path.rsplit("/", 1)[0])
    return bool(store.fs.exists(path))


def write(store: ObjectStore, path: str, data: bytes) -> None:
    """``path`` with ``data``: temp + rename locally, one PUT (atomic on S3) elsewhere."""
    put_file(store.fs if not store.local else None, store.local, path, data, check=False)
    store.io.add(1, sent=len(data))


def remove(store: ObjectStore, path: str) -> bool:
    """Delete ``path``; False when it was already gone."""
    store.io.add()
    try:
        if store.local:
            os.unlink(path)
        else:
            store.fs.rm_file(path)
    except FileNotFoundError:
        return False
    return True
