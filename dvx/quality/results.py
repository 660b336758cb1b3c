"""Validation results in Great Expectations' vocabulary, and their store.

``ExpectationResult.to_gx()`` gives the shape GX tooling reads: ``success``,
``expectation_config {type, kwargs, meta}``, ``result {element_count,
unexpected_count, unexpected_percent, partial_unexpected_list, observed_value,
missing_count, ...}`` and ``exception_info``; dvx adds ``expectation_type`` and
``kwargs`` at the top level (the older GX shape) and ``engine``.

``ResultStore`` keeps one JSON document per (data id, suite id) under
``root/<data_id[:2]>/<data_id>-<suite_id>.json``, written atomically, so an
unchanged dataset is never validated twice and ``dvx log`` can show the status
of every version without re-running.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dvx._fsutil import atomic_write

# Bumped when an engine changes what it reports; older stored results are misses.
RESULTS_FORMAT = 1


def jsonable(v: Any) -> Any:
    """Plain JSON value: NaN/inf -> None, numpy/arrow scalars -> Python, dates -> ISO text."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [jsonable(x) for x in v]
    item = getattr(v, "item", None)  # numpy scalars
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    iso = getattr(v, "isoformat", None)
    if callable(iso):
        return iso()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


@dataclass
class ExpectationResult:
    """One expectation's outcome (``engine`` is "arrow", "gx" or "pandera")."""

    expectation_type: str
    kwargs: dict[str, Any]
    success: bool
    result: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    engine: str = "arrow"
    suite: str = ""
    exception: str | None = None

    @property
    def column(self) -> str | None:
        """The column (or comma-joined columns) the result is about."""
        c = self.kwargs.get("column")
        if c is None and isinstance(self.kwargs.get("column_list"), list):
            return ",".join(map(str, self.kwargs["column_list"]))
        return c

    @property
    def observed_value(self) -> Any:
        return self.result.get("observed_value")

    @property
    def unexpected_count(self) -> int | None:
        return self.result.get("unexpected_count")

    @property
    def unexpected_percent(self) -> float | None:
        return self.result.get("unexpected_percent")

    @property
    def partial_unexpected_list(self) -> list[Any] | None:
        return self.result.get("partial_unexpected_list")

    @property
    def examples(self) -> list[Any]:
        """A few unexpected values (partial_unexpected_list)."""
        return list(self.result.get("partial_unexpected_list") or [])[:5]

    def to_gx(self) -> dict[str, Any]:
        """GX ``ExpectationValidationResult.to_json_dict()`` shape plus dvx keys."""
        return {
            "success": bool(self.success),
            "expectation_type": self.expectation_type,
            "kwargs": jsonable(self.kwargs),
            "expectation_config": {"type": self.expectation_type, "kwargs": jsonable(self.kwargs),
                                   "meta": jsonable(self.meta)},
            "result": jsonable(self.result),
            "meta": {"engine": self.engine, "suite": self.suite},
            "exception_info": {"raised_exception": self.exception is not None,
                               "exception_message": self.exception, "exception_traceback": None},
        }

    @classmethod
    def from_gx(cls, d: dict[str, Any]) -> ExpectationResult:
        """Inverse of :meth:`to_gx` (also reads plain GX result dicts)."""
        cfg = d.get("expectation_config") or {}
        exc = d.get("exception_info") or {}
        meta = d.get("meta") or {}
        return cls(
            expectation_type=d.get("expectation_type") or cfg.get("type") or cfg.get("expectation_type", ""),
            kwargs=d.get("kwargs") or cfg.get("kwargs") or {},
            success=bool(d.get("success")),
            result=d.get("result") or {},
            meta=cfg.get("meta") or {},
            engine=meta.get("engine", "gx"),
            suite=meta.get("suite", ""),
            exception=exc.get("exception_message") if exc.get("raised_exception") else None,
        )


@dataclass
class SuiteValidation:
    """The results of one suite on one dataset (the unit the store caches)."""

    suite: str
    suite_id: str
    suite_path: str
    success: bool
    results: list[ExpectationResult]
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RESULTS_FORMAT,
            "suite": self.suite,
            "suite_id": self.suite_id,
            "suite_path": self.suite_path,
            "success": self.success,
            "notes": list(self.notes),
            "elapsed": round(self.elapsed, 6),
            "results": [r.to_gx() for r in self.results],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SuiteValidation:
        return cls(suite=d["suite"], suite_id=d["suite_id"], suite_path=d.get("suite_path", ""),
                   success=bool(d["success"]), results=[ExpectationResult.from_gx(r) for r in d["results"]],
                   notes=list(d.get("notes", [])), elapsed=float(d.get("elapsed", 0.0)))


@dataclass
class DatasetValidation:
    """Every bound suite's results on one dataset (what ``dvx validate`` renders)."""

    dataset: str
    success: bool
    results: list[ExpectationResult]
    suites: list[SuiteValidation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    label: str | None = None
    data_id: str | None = None
    version: str | None = None  # which version was measured ("workspace (modified since dvx add)", "staged <id12>", ...)

    @property
    def suite(self) -> str:
        """The suite names, comma-joined (what report.render_validation_html shows)."""
        return ", ".join(s.suite for s in self.suites)

    @property
    def cached(self) -> bool:
        """True when every suite's result came from the store."""
        return bool(self.suites) and all(s.cached for s in self.suites)

    @property
    def failed(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success]

    def statistics(self) -> dict[str, Any]:
        n = len(self.results)
        ok = sum(1 for r in self.results if r.success)
        return {"evaluated_expectations": n, "successful_expectations": ok,
                "unsuccessful_expectations": n - ok,
                "success_percent": (ok / n * 100.0) if n else None}


class ResultStore:
    """Validation results keyed by (data id, suite id), one JSON file each."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, data_id: str, suite_id: str) -> Path:
        return self.root / data_id[:2] / f"{data_id}-{suite_id}.json"

    def get(self, data_id: str, suite_id: str) -> SuiteValidation | None:
        """The stored result, or None (absent, unreadable, or an older format)."""
        try:
            d = json.loads(self.path(data_id, suite_id).read_bytes())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        if not isinstance(d, dict) or d.get("format") != RESULTS_FORMAT:
            return None
        try:
            sv = SuiteValidation.from_json(d)
        except (KeyError, TypeError):
            return None
        sv.cached = True
        return sv

    def put(self, data_id: str, suite_id: str, sv: SuiteValidation) -> Path:
        """Store atomically (temp + fsync + rename); returns the file path."""
        p = self.path(data_id, suite_id)
        atomic_write(p, json.dumps(sv.to_json(), indent=1, sort_keys=False, allow_nan=False).encode())
        return p
