"""The drift report: metrics per column and the dataset's verdict, as JSON for ``dvx drift --json``."""

from __future__ import annotations

import dataclasses
import math
from typing import Any


@dataclasses.dataclass
class Metric:
    """One metric of one column: value (None when undefined), the effective
    threshold, whether it drifted and whether it gates the check."""

    name: str
    value: float | None
    threshold: float | None
    drifted: bool
    gated: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"name": self.name, "value": _clean(self.value), "threshold": _clean(self.threshold),
                "drifted": self.drifted, "gated": self.gated}


@dataclasses.dataclass
class ColumnDrift:
    """Drift of one column; ``status`` is ok, added, removed, retyped or skipped."""

    name: str
    status: str
    kind: str | None
    baseline_type: str | None
    current_type: str | None
    metrics: list[Metric] = dataclasses.field(default_factory=list)
    note: str = ""

    @property
    def drifted(self) -> bool:
        """True when a gated metric drifted."""
        return any(m.drifted and m.gated for m in self.metrics)

    def metric(self, name: str) -> Metric | None:
        """The metric called ``name``, if computed."""
        return next((m for m in self.metrics if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"name": self.name, "status": self.status, "kind": self.kind,
                "baseline_type": self.baseline_type, "current_type": self.current_type,
                "drifted": self.drifted, "note": self.note,
                "metrics": [m.to_dict() for m in self.metrics]}


@dataclasses.dataclass
class DriftReport:
    """Result of :func:`compare`. ``drifted`` is the dataset's verdict."""

    baseline_rows: int
    current_rows: int
    columns: list[ColumnDrift]
    added: list[str]
    removed: list[str]
    retyped: list[str]
    schema_drifted: bool
    row_count_drifted: bool
    row_count_threshold: float | None

    @property
    def drifted(self) -> bool:
        """True when the schema, row count or any column drifted (gated metrics)."""
        return self.schema_drifted or self.row_count_drifted or any(c.drifted for c in self.columns)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the columns with a gated metric beyond its threshold."""
        return [c.name for c in self.columns if c.drifted]

    def column(self, name: str) -> ColumnDrift:
        """The drift of column ``name`` (KeyError when absent)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the shape of ``dvx drift --json``)."""
        change = self.current_rows - self.baseline_rows
        return {
            "drifted": self.drifted,
            "drifted_columns": self.drifted_columns,
            "row_count": {"baseline": self.baseline_rows, "current": self.current_rows,
                          "change": change,
                          "relative_change": _clean(change / self.baseline_rows) if self.baseline_rows else None,
                          "threshold": self.row_count_threshold, "drifted": self.row_count_drifted},
            "schema": {"added": self.added, "removed": self.removed, "retyped": self.retyped,
                       "drifted": self.schema_drifted},
            "columns": [c.to_dict() for c in self.columns],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (never contains NaN or infinity)."""
        import json

        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def _clean(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
