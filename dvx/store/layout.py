"""Where things live under a store root (docs/format.md, "Layout"), writing one file there, and listing them."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from dvx._fsutil import atomic_write, fsync_dir
from dvx.hashing import is_oid

# Object stores have no directories; makedirs there would create a bucket.
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})


def pack_path(root: str, pack_id: bytes) -> str:
    """``root/packs/<first 2 hex>/<pack id hex>`` ("/"-separated)."""
    h = pack_id.hex()
    return f"{root}/packs/{h[:2]}/{h}"


def index_path(root: str, index_id: bytes) -> str:
    """``root/index/<index id hex>``."""
    return f"{root}/index/{index_id.hex()}"


def protocols(fs: Any) -> tuple[str, ...]:
    """An fsspec filesystem's protocol names."""
    p = getattr(fs, "protocol", ())
    return (p,) if isinstance(p, str) else tuple(p)


def pipe(fs: Any, path: str, data: bytes) -> None:
    """``fs.pipe_file``, creating the parent first on filesystems that have real directories."""
    try:
        fs.pipe_file(path, data)
    except FileNotFoundError:
        if set(protocols(fs)) & _OBJECT_STORES:
            raise  # a missing bucket: never create one implicitly
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, data)


def put_file(fs: Any, local: bool, path: str, data: bytes, *, fsync: bool = True, check: bool = True) -> None:
    """One file at its final name: temp + rename locally (with ``fsync``: the file and then
    its folder synced), a single PUT (atomic on S3) elsewhere.

    With ``check``, OSError naming the file when the store then holds another
    size: locally one ``stat``, elsewhere one more request (a HEAD). Writers
    check each pack before an index names it, and each index (docs/format.md,
    "Read and write ordering")."""
    if local:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, data, fsync=fsync)
        if fsync:
            fsync_dir(os.path.dirname(path))
        got = os.stat(path).st_size if check else len(data)
    else:
        pipe(fs, path, data)
        if not check:
            return
        got = fs.size(path)
    if got != len(data):
        proto = () if local else protocols(fs)
        shown = f"{proto[0]}://{path}" if proto else path
        raise OSError(f"{shown}: wrote {len(data)} bytes but the store holds {got} (cut short or changed on the way)")


def list_files(fs: Any, local: bool, base: str) -> dict[str, tuple[int, float]]:
    """``{name: (size, mtime)}`` of the id-named files under ``base`` (recursive; temp files left out;
    on an object store the listing cache is dropped first: another clone may have written)."""
    out: dict[str, tuple[int, float]] = {}
    if local:
        for dirpath, _dirs, names in os.walk(base):
            for n in names:
                if is_oid(n):
                    with contextlib.suppress(OSError):
                        st = os.stat(os.path.join(dirpath, n))
                        out[n] = (st.st_size, st.st_mtime)
        return out
    with contextlib.suppress(Exception):
        fs.invalidate_cache(base)
    try:
        infos: Any = fs.find(base, detail=True)
    except FileNotFoundError:
        return out
    for path, info in infos.items():
        n = path.rstrip("/").rsplit("/", 1)[-1]
        if is_oid(n) and info.get("type") != "directory":
            out[n] = (int(info.get("size") or 0), _mtime(info))
    return out


def _mtime(info: dict[str, Any]) -> float:
    """A listed file's modification time (S3: LastModified); 'now' when the listing gives none (young: kept)."""
    for key in ("LastModified", "mtime", "last_modified", "created"):
        v: Any = info.get(key)
        if v is not None and hasattr(v, "timestamp"):
            return float(v.timestamp())
        if isinstance(v, (int, float)):
            return float(v)
    return time.time()
