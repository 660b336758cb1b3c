"""Helpers for partition tests: a table written as a directory of Parquet files, and the one-pass reference."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dvx.quality import arrow
from dvx.quality.gx_results import missing_column_result
from dvx.quality.suite import Suite


def write_parts(root: Path, tbl: pa.Table, cuts: list[int], row_group_size: int) -> Path:
    """``tbl`` as part-0.parquet, part-1.parquet, ... cut before the rows ``cuts``."""
    root.mkdir(parents=True, exist_ok=True)
    bounds = [0, *cuts, tbl.num_rows]
    for k, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
        pq.write_table(tbl.slice(a, b - a), root / f"part-{k}.parquet", row_group_size=row_group_size)
    return root


def single_pass(tbl: pa.Table, suite: Suite, batch: int) -> list[tuple[bool, dict[str, Any]]]:
    """The Arrow engine's one pass over the whole table (no partitions): the reference."""
    planned = [arrow.plan(e, tbl.schema) for e in suite.expectations]
    evals = [p for p in planned if isinstance(p, arrow.Evaluator)]
    outs = iter(arrow.run(evals, tbl.to_batches(max_chunksize=batch), threaded=False))
    res: list[tuple[bool, dict[str, Any]]] = []
    for p in planned:
        if isinstance(p, arrow.Evaluator):
            ok, r = next(outs)
            res.append((bool(ok), r))
        elif isinstance(p, arrow.Missing):
            ok, r, _ = missing_column_result(p.column)
            res.append((ok, r))
        else:
            assert p is not None
            res.append((bool(p[0]), p[1]))
    return res


def same_results(ref: list[tuple[bool, dict[str, Any]]], got: list[Any], cases: list[Any]) -> list[str]:
    """Differences; floats of moments (mean, stdev, float sums) may differ in the last bits only."""
    bad = []
    for (typ, kw), (ok, r), g in zip(cases, ref, got, strict=True):
        if ok != g.success:
            bad.append(f"{typ} {kw}: success {ok} != {g.success}")
        for k in set(r) | set(g.result):
            a, b = r.get(k), g.result.get(k)
            if isinstance(a, float) and isinstance(b, float):
                if not (math.isclose(a, b, rel_tol=1e-12) or (math.isnan(a) and math.isnan(b))):
                    bad.append(f"{typ} {kw}: {k} {a} != {b}")
            elif a != b:
                bad.append(f"{typ} {kw}: {k} {a!r} != {b!r}")
    return bad
