"""The stores the gate fills, keyed by content ids, under one cache folder.

Layout below ``.dvx/cache/`` (git-ignored, rebuilt on demand; see docs/hooks.md):

- ``results/validation/<id[:2]>/<id>-<suite>.json``: one suite's results
  (:class:`dvx.quality.results.ResultStore`);
- ``results/drift/<b[:2]>/<b>-<c>-<t>.json``: the drift summary of baseline
  id ``b`` against current id ``c`` under thresholds ``t``;
- ``profiles/<id[:2]>/<id>.json``: the profile of a data id (or of one file
  of a directory, by file id).

Every key is a content id, so an entry never goes stale: a changed dataset
has another id. A file that is missing, unreadable or of an older format is
a miss. Pure: no git, no object store; numpy loads only when a profile is
parsed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx._fsutil import atomic_write
from dvx.quality.results import ResultStore

if TYPE_CHECKING:
    from dvx.quality.profile import Profile

# Bumped when the stored drift summary changes shape; older files are misses.
DRIFT_FORMAT = 1


def _shard(root: Path, key: str, name: str) -> Path:
    return root / key[:2] / name


class DriftStore:
    """Drift summaries (``DriftReport.to_dict()``) keyed by (baseline id, current id, thresholds key)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, base_id: str, cur_id: str, th_key: str) -> Path:
        return _shard(self.root, base_id, f"{base_id}-{cur_id}-{th_key}.json")

    def get(self, base_id: str, cur_id: str, th_key: str) -> dict[str, Any] | None:
        """The stored summary, or None."""
        try:
            d = json.loads(self.path(base_id, cur_id, th_key).read_bytes())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        return d if isinstance(d, dict) and d.get("format") == DRIFT_FORMAT else None

    def put(self, base_id: str, cur_id: str, th_key: str, report: dict[str, Any]) -> None:
        """Store atomically."""
        doc = {"format": DRIFT_FORMAT, **report}
        atomic_write(self.path(base_id, cur_id, th_key), json.dumps(doc, allow_nan=False).encode())


class ProfileStore:
    """Profiles keyed by data id (a dataset) or file id (one file of a directory)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, data_id: str) -> Path:
        return _shard(self.root, data_id, f"{data_id}.json")

    def get(self, data_id: str) -> Profile | None:
        """The stored profile, or None (numpy is imported only when there is one)."""
        try:
            raw = self.path(data_id).read_bytes()
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        from dvx.quality.profile import Profile

        try:
            return Profile.from_bytes(raw)
        except ValueError:
            return None

    def row_count(self, data_id: str) -> int | None:
        """The stored row count, read from the JSON without importing numpy (``log``, ``diff``)."""
        try:
            return int(json.loads(self.path(data_id).read_bytes())["row_count"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None

    def put(self, data_id: str, prof: Profile) -> None:
        """Store atomically."""
        atomic_write(self.path(data_id), prof.to_bytes())


@dataclass(frozen=True)
class QualityStores:
    """The three stores of one cache folder."""

    results: ResultStore
    drift: DriftStore
    profiles: ProfileStore

    @classmethod
    def at(cls, cache_dir: str | os.PathLike[str]) -> QualityStores:
        """The stores under ``cache_dir`` (a repository's ``.dvx/cache``)."""
        root = Path(cache_dir)
        return cls(ResultStore(root / "results" / "validation"), DriftStore(root / "results" / "drift"),
                   ProfileStore(root / "profiles"))
