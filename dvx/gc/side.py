"""The side folders of ``.dvx/cache`` that gc collects: results, drift reports, profiles, stale temp files.

Their files are keyed by content ids (docs/hooks.md): a validation result by
data id, a drift report by baseline and current data ids, a profile by data
id or file manifest id. An entry whose id no kept pointer reaches goes;
entries younger than the grace period stay (a gate may be writing them).
The ``quarantine/`` folder is never touched.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from dvx._fsutil import is_tmp_name
from dvx.hashing import is_oid

TMP_AGE = 3600.0  # a file in cache/tmp/ not named as dvx's locked temp files goes after an hour


@dataclass
class SideResult:
    """Files of the side folders removed (or that would be), and their bytes; files kept."""

    removed: int = 0
    bytes: int = 0
    kept: int = 0

    def to_json(self) -> dict[str, int]:
        return {"removed": self.removed, "bytes": self.bytes, "kept": self.kept}


def _files(top: str) -> Iterator[os.DirEntry[str]]:
    """Regular files one or two levels below ``top`` (``<id[:2]>/<name>``); links are never followed."""
    try:
        shards = [e for e in os.scandir(top) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for d in shards:
        with contextlib.suppress(OSError):
            yield from (e for e in os.scandir(d.path) if e.is_file(follow_symlinks=False))


def _keep(folder: str, name: str, live: set[bytes]) -> bool:
    stem = name[:-5] if name.endswith(".json") else None
    if stem is None:
        return True  # not ours: left alone
    parts = stem.split("-")
    if folder == "drift":  # <baseline>-<current>-<thresholds>
        ids = parts[:2]
    else:  # validation <data>-<suite>; profiles <id>
        ids = parts[:1]
    if not all(is_oid(i) for i in ids):
        return True
    return all(bytes.fromhex(i) in live for i in ids)


def sweep(cache_dir: str, live: set[bytes], grace: float, dry_run: bool, now: float | None = None,
          tmp_dir: str | None = None) -> SideResult:
    """Remove side entries of ``cache_dir`` (``.dvx/cache``) no live id names (``live``: object ids), and
    stale files in ``tmp_dir`` (default ``cache_dir/tmp``; the object cache's, which may be elsewhere)."""
    now = time.time() if now is None else now
    res = SideResult()
    tops = {"validation": os.path.join(cache_dir, "results", "validation"),
            "drift": os.path.join(cache_dir, "results", "drift"),
            "profiles": os.path.join(cache_dir, "profiles")}
    for folder, top in tops.items():
        for e in _files(top):
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            if _keep(folder, e.name, live) or now - st.st_mtime < grace:
                res.kept += 1
                continue
            _drop(e.path, st.st_size, dry_run, res)
    with contextlib.suppress(OSError):
        for e in os.scandir(tmp_dir or os.path.join(cache_dir, "tmp")):
            # dvx's own temp files are removed when their writer is gone (Workspace.remove_debris).
            if is_tmp_name(e.name) or not e.is_file(follow_symlinks=False):
                continue
            st = e.stat(follow_symlinks=False)
            if now - st.st_mtime >= TMP_AGE:
                _drop(e.path, st.st_size, dry_run, res)
    return res


def _drop(path: str, size: int, dry_run: bool, res: SideResult) -> None:
    if not dry_run:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError:
            res.kept += 1
            return
    res.removed += 1
    res.bytes += size
