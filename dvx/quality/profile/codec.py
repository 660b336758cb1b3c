"""A profile's canonical bytes: sorted-key UTF-8 JSON, sketches in base64.

The same data always gives the same bytes, so ``profile.oid`` (xxh3-128 of
:func:`encode`) can name it in the object store. Histograms are not stored:
drift derives common bins for two profiles from their quantile sketches.
A stored profile can come from a hostile remote: :func:`decode` turns every
way the bytes can be wrong into ValueError (a stored copy is then unused).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from dvx.quality.profile.model import ColumnProfile, Profile, SkippedColumn
from dvx.quality.sketches import DistinctSketch, FrequentItems, QuantileSketch

FORMAT = "dvx-profile"
FORMAT_VERSION = 1

_COUNTS = ("count", "null_count", "nan_count", "posinf_count", "neginf_count", "finite_count")


def _finite_or_none(x: float | str | None) -> float | str | None:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def column_to_dict(c: ColumnProfile) -> dict[str, Any]:
    """JSON-able form of one column (no NaN or infinity anywhere)."""
    d: dict[str, Any] = {
        "name": c.name, "type": c.type, "kind": c.kind, "count": c.count,
        "null_count": c.null_count, "nan_count": c.nan_count,
        "posinf_count": c.posinf_count, "neginf_count": c.neginf_count,
        "min": _finite_or_none(c.min), "max": _finite_or_none(c.max),
        "mean": _finite_or_none(c.mean), "m2": _finite_or_none(c.m2) or 0.0,
        "finite_count": c.finite_count,
    }
    if c.quantiles is not None:
        d["quantiles"] = c.quantiles.to_dict()
    if c.distinct is not None:
        d["distinct"] = c.distinct.to_dict()
    if c.top is not None:
        d["top"] = c.top.to_dict()
    return d


def column_from_dict(d: dict[str, Any]) -> ColumnProfile:
    """Inverse of :func:`column_to_dict`."""
    c = ColumnProfile(str(d["name"]), str(d["type"]), str(d["kind"]))
    for f in _COUNTS:
        setattr(c, f, int(d[f]))
    c.min, c.max, c.mean, c.m2 = d["min"], d["max"], d["mean"], float(d["m2"])
    if "quantiles" in d:
        lo = float(c.min) if isinstance(c.min, (int, float)) else math.inf
        hi = float(c.max) if isinstance(c.max, (int, float)) else -math.inf
        c.quantiles = QuantileSketch.from_dict(d["quantiles"], lo, hi)
    if "distinct" in d:
        c.distinct = DistinctSketch.from_dict(d["distinct"])
    if "top" in d:
        c.top = FrequentItems.from_dict(d["top"])
    return c


def profile_to_dict(p: Profile) -> dict[str, Any]:
    """JSON-able form of a profile, with its format name and version."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "row_count": p.row_count,
        "columns": [column_to_dict(c) for c in p.columns.values()],
        "skipped": [dataclasses.asdict(s) for s in p.skipped.values()],
    }


def profile_from_dict(d: dict[str, Any]) -> Profile:
    """Inverse of :func:`profile_to_dict`; ValueError on another format or version."""
    if d.get("format") != FORMAT:
        raise ValueError("not a dvx profile")
    if int(d.get("version", -1)) != FORMAT_VERSION:
        raise ValueError(f"profile format version {d.get('version')} is not {FORMAT_VERSION}")
    p = Profile(int(d["row_count"]))
    for cd in d["columns"]:
        c = column_from_dict(cd)
        p.columns[c.name] = c
    for sd in d["skipped"]:
        p.skipped[sd["name"]] = SkippedColumn(sd["name"], sd["type"], sd["reason"])
    return p


def encode(p: Profile) -> bytes:
    """Canonical UTF-8 JSON: sorted keys, no spaces, no NaN."""
    return json.dumps(profile_to_dict(p), sort_keys=True, separators=(",", ":"),
                      allow_nan=False, ensure_ascii=False).encode("utf-8")


def decode(data: bytes) -> Profile:
    """Parse :func:`encode` output; ValueError when it is not a profile."""
    try:
        d = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # not UTF-8, not JSON, nested too deeply, huge int
        raise ValueError(f"not a dvx profile: {str(e)[:120]}") from e
    if not isinstance(d, dict):
        raise ValueError("not a dvx profile: not a JSON object")
    try:
        return profile_from_dict(d)
    except (KeyError, TypeError, AttributeError, IndexError, OverflowError, RecursionError) as e:
        raise ValueError(f"malformed dvx profile: missing or bad {str(e)[:120]}") from e
