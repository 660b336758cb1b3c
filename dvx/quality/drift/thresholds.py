"""Drift thresholds: per-metric defaults, per-column overrides, and their TOML form."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

from dvx._textfile import load_toml
from dvx.errors import ConfigError

METRICS = ("psi", "ks", "js", "linf", "null_rate_delta")


@dataclasses.dataclass(frozen=True)
class MetricThresholds:
    """Thresholds of one column (or the defaults of all columns).

    psi, js, ks, linf, null_rate_delta: the smallest value that counts as
    drift; alpha: false-alarm rate of the sampling critical values; gate: the
    metrics whose drift fails the check (the others are only reported).
    """

    psi: float = 0.2
    js: float = 0.1
    ks: float = 0.01
    linf: float = 0.02
    null_rate_delta: float = 0.01
    alpha: float = 1e-4
    gate: frozenset[str] = frozenset(METRICS)


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Defaults, per-column overrides and the dataset-level checks.

    schema: removed or retyped columns are drift (gated); row_count: relative
    row count change |current/baseline - 1| that is drift (None: reported only).
    """

    default: MetricThresholds = MetricThresholds()
    columns: dict[str, MetricThresholds] = dataclasses.field(default_factory=dict)
    schema: bool = True
    row_count: float | None = None

    def for_column(self, name: str) -> MetricThresholds:
        """The thresholds that apply to column ``name``."""
        return self.columns.get(name, self.default)


_KEYS = {"psi", "js", "ks", "linf", "null_rate_delta", "alpha", "gate"}


def _metric_thresholds(where: str, table: dict[str, Any], base: MetricThresholds) -> MetricThresholds:
    values: dict[str, Any] = {}
    for key, val in table.items():
        if key in ("columns", "schema", "row_count"):
            continue
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown drift key {key!r}",
                              hint=f"use one of {', '.join(sorted(_KEYS | {'schema', 'row_count'}))}")
        if key == "gate":
            if not isinstance(val, list) or not all(v in METRICS for v in val):
                raise ConfigError(f"{where}: gate must be a list of {', '.join(METRICS)}")
            values["gate"] = frozenset(val)
            continue
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val) or val < 0:
            raise ConfigError(f"{where}: {key} must be a non-negative number, got {val!r}")
        if key == "alpha" and not 0 < val < 1:
            raise ConfigError(f"{where}: alpha must be between 0 and 1, got {val!r}")
        values[key] = float(val)
    return dataclasses.replace(base, **values)


def thresholds_from_dict(drift: dict[str, Any], source: str = "[drift]") -> Thresholds:
    """Thresholds from the ``[drift]`` table of a TOML document (see
    :func:`load_thresholds`); ConfigError naming ``source`` when invalid."""
    if not isinstance(drift, dict):
        raise ConfigError(f"{source}: [drift] must be a table")
    default = _metric_thresholds(source, drift, MetricThresholds())
    cols: dict[str, MetricThresholds] = {}
    raw_cols = drift.get("columns", {})
    if not isinstance(raw_cols, dict):
        raise ConfigError(f"{source}: drift.columns must be a table of tables")
    for name, table in raw_cols.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: drift.columns.{name} must be a table")
        cols[name] = _metric_thresholds(f"{source} [drift.columns.{name}]", table, default)
    schema = drift.get("schema", True)
    if not isinstance(schema, bool):
        raise ConfigError(f"{source}: drift.schema must be true or false")
    row_count = drift.get("row_count")
    if row_count is not None and (isinstance(row_count, bool) or not isinstance(row_count, (int, float))
                                  or row_count < 0):
        raise ConfigError(f"{source}: drift.row_count must be a non-negative number")
    return Thresholds(default, cols, schema, None if row_count is None else float(row_count))


def load_thresholds(toml_path: str | os.PathLike[str] | None) -> Thresholds:
    """Thresholds from the ``[drift]`` table of a TOML file (normally
    ``expectations/dvx.toml``); the defaults when the file or table is absent.

    Example::

        [drift]
        psi = 0.2
        ks = 0.01
        gate = ["psi", "ks", "js", "linf", "null_rate_delta"]
        [drift.columns.age]
        psi = 0.3

    Raises ConfigError (exit 2) naming the file for bad TOML or values.
    """
    if toml_path is None:
        return Thresholds()
    doc = load_toml(toml_path)
    if doc is None:
        return Thresholds()
    return thresholds_from_dict(doc.get("drift", {}), os.fspath(toml_path))
