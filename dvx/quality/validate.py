"""Run the suites bound to a dataset; answer from the result store when unchanged.

``validate_dataset`` splits each GX suite in two: the expectations the Arrow
engine implements are evaluated together in one streaming pass; the rest run
through great_expectations on pandas (the slow path, noted in the output).
pandera suites run through pandera (engine_pandera). Results are stored per
(data id, suite id), so a rerun on an unchanged dataset reads one small JSON
file per suite: this module imports no pyarrow, pandas, GX or pandera at the
top, and the cached path never imports them at all.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dvx.quality.results import DatasetValidation, ResultStore, SuiteValidation, jsonable
from dvx.quality.sources import TableRef, TableSource, label_of
from dvx.quality.suite import Expectation, Suite, load_bindings, load_suite

SuiteLike = Suite | str | os.PathLike[str]
GX_TIME = "great_expectations: "  # the note with the time the slow path took: "SUITE: great_expectations: 8.4 s"


def _strings(v: object) -> list[str]:
    """Every string inside a row_condition (a pandas/GX string, or a GX condition object)."""
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return [s for x in v.values() for s in _strings(x)]
    if isinstance(v, (list, tuple)):
        return [s for x in v for s in _strings(x)]
    return []


def condition_columns(condition: object, names: Sequence[str]) -> list[str]:
    """The columns of ``names`` a row_condition mentions (as a whole word, quoted or not).

    A name that only looks like a word of the condition loads one column more
    than needed, which costs memory but never changes a result.
    """
    texts = _strings(condition)
    out = []
    for n in names:
        rx = re.compile(r"(?<![\w])" + re.escape(n) + r"(?![\w])")
        if any(rx.search(t) for t in texts):
            out.append(n)
    return out


def columns_of(exp: Expectation, names: Sequence[str]) -> list[str] | None:
    """Columns an expectation reads (None: it may read any), with those its row_condition names."""
    kw = exp.kwargs
    cols: list[str] = []
    for k in ("column", "column_A", "column_B"):
        if isinstance(kw.get(k), str):
            cols.append(kw[k])
    for k in ("column_list",):
        if isinstance(kw.get(k), list):
            cols.extend(c for c in kw[k] if isinstance(c, str))
    if not cols and not exp.type.startswith("expect_table_"):
        return None
    if kw.get("row_condition") is not None:
        cols.extend(condition_columns(kw["row_condition"], names))
    return cols


def _run_gx_suite(path: TableRef, suite: Suite, batch_size: int) -> SuiteValidation:
    """The Arrow pass as the plan of partitions, each validated then merged in
    plan order (in process: a Dask cluster runs the same partitions), and the
    slow path once over the whole dataset (dvx.quality.partvalidate)."""
    from dvx.quality import partitions

    t0 = time.perf_counter()
    plan = partitions.plan_suite(path, suite)
    parts = partitions.plan_partitions(path) if plan.evaluated else []
    partials = [partitions.validate_partition(path, p, suite, schema=plan.schema, batch_size=batch_size)
                for p in parts]
    slow = partitions.validate_slow(path, suite, plan) if plan.slow else None
    return partitions.merge_validation(suite, plan.schema, partials, slow, partitions=len(parts),
                                       elapsed=time.perf_counter() - t0)


def run_suite(path: TableRef, suite: Suite, *, batch_size: int = 131072) -> SuiteValidation:
    """Evaluate one suite on one dataset (a local path or a TableSource; no store)."""
    p = path if isinstance(path, TableSource) else os.fspath(path)
    if suite.kind == "pandera":
        from dvx.quality import engine_pandera

        return engine_pandera.run_schema(p, suite, batch_size=batch_size)
    return _run_gx_suite(p, suite, batch_size)


def validate_dataset(path: TableRef, suites: Sequence[SuiteLike], *, label: str | None = None,
                     data_id: str | None = None, store: ResultStore | None = None,
                     batch_size: int = 131072) -> DatasetValidation:
    """Validate ``path`` against ``suites`` (Suite objects or suite file paths).

    With ``store`` and ``data_id`` (the dataset's content id), each suite's
    result is read from / written to the store keyed by (data id, suite id).
    ``label`` is how the dataset is named in output (default: the path).
    Raises SuiteError (exit 2) for a bad suite and DataFormatError (exit 1) for
    unreadable data.
    """
    t0 = time.perf_counter()
    loaded = [s if isinstance(s, Suite) else load_suite(s) for s in suites]
    svs: list[SuiteValidation] = []
    for s in loaded:
        sv = store.get(data_id, s.id) if store is not None and data_id else None
        if sv is None:
            sv = run_suite(path, s, batch_size=batch_size)
            if store is not None and data_id:
                store.put(data_id, s.id, sv)
        svs.append(sv)
    results = [r for sv in svs for r in sv.results]
    # A stored result took no great_expectations time now: its timing note is not repeated.
    notes = [n for sv in svs for n in sv.notes if not (sv.cached and GX_TIME in n)]
    return DatasetValidation(dataset=label or label_of(path), success=all(sv.success for sv in svs),
                             results=results, suites=svs, notes=notes, elapsed=time.perf_counter() - t0,
                             label=label, data_id=data_id)


def bound_suites(repo_root: str | os.PathLike[str], rel_path: str, expectations_dir: str = "expectations"
                 ) -> list[str]:
    """Suite file paths ``expectations/dvx.toml`` binds to a repo-relative dataset path."""
    root = Path(repo_root) / expectations_dir
    return load_bindings(root).suites_for(Path(rel_path).as_posix())


def dataset_json(dv: DatasetValidation) -> dict[str, Any]:
    """One dataset in GX's ``ExpectationSuiteValidationResult`` vocabulary."""
    return {
        "dataset": dv.dataset,
        "version": dv.version,
        "data_id": dv.data_id,
        "success": dv.success,
        "statistics": dv.statistics(),
        "suites": [{"name": s.suite, "id": s.suite_id, "path": s.suite_path, "success": s.success,
                    "cached": s.cached} for s in dv.suites],
        "results": [r.to_gx() for r in dv.results],
        "notes": list(dv.notes),
        "elapsed": round(dv.elapsed, 6),
    }


def to_gx_json(validations: DatasetValidation | Sequence[DatasetValidation]) -> dict[str, Any]:
    """``--json`` output: overall ``success`` and one entry per dataset."""
    items = [validations] if isinstance(validations, DatasetValidation) else list(validations)
    return jsonable({"success": all(v.success for v in items), "datasets": [dataset_json(v) for v in items]})
