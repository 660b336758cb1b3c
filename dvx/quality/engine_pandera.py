"""pandera schemas run batch by batch, with uniqueness checked exactly over the dataset.

A schema (pandera YAML, or a Python module's ``schema``: a DataFrameSchema or
DataFrameModel, pandas or polars API) is validated on each record batch
converted to pandas (or polars) with ``lazy=True``; failure cases are counted
per (column, check) with the first few kept. Row checks (ranges, sets, regex,
nullability) are exact batch by batch. Uniqueness is not: ``unique=True``
columns and schema-level ``unique=[...]`` are taken out of the per-batch
schema and evaluated by the Arrow engine over the whole dataset (nulls do not
count as duplicates, as in GX). Custom dataset-wide checks (a check comparing
a column's mean, say) see one batch at a time: documented in
docs/validation.md.

Results use the GX vocabulary: one per check, ``expectation_type`` is
``pandera:<check>`` and ``kwargs`` holds ``column`` and ``check``.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import warnings
from typing import Any

from dvx.errors import SuiteError
from dvx.quality import arrow
from dvx.quality.gx_results import PARTIAL, map_result
from dvx.quality.results import ExpectationResult, SuiteValidation
from dvx.quality.sources import TableRef
from dvx.quality.suite import Suite


def load_schema(suite: Suite) -> Any:
    """The pandera schema object of a pandera suite (YAML or Python module)."""
    if suite.path.endswith(".py"):
        name = f"dvx_suite_{suite.id[:12]}"
        spec = importlib.util.spec_from_file_location(name, suite.path)
        if spec is None or spec.loader is None:
            raise SuiteError(suite.path, "cannot import the Python suite")
        mod = importlib.util.module_from_spec(spec)
        try:
            sys.modules[name] = mod
            # The text the suite was loaded from (the git index for the pre-commit hook), not the file again.
            # dont_inherit: the suite is compiled as its own module would be, without this file's __future__ flags
            exec(compile(str(suite.document), suite.path, "exec", dont_inherit=True), mod.__dict__)  # noqa: S102
        except Exception as e:  # noqa: BLE001 - user code: any error is a bad suite
            raise SuiteError(suite.path, f"importing the suite failed: {type(e).__name__}: {e}") from e
        finally:
            sys.modules.pop(name, None)
        schema = getattr(mod, "schema", None)
        if isinstance(schema, type) and hasattr(schema, "to_schema"):
            schema = schema.to_schema()  # a DataFrameModel class
        if schema is None or not hasattr(schema, "validate") or not hasattr(schema, "columns"):
            raise SuiteError(suite.path, "'schema' is not a pandera DataFrameSchema or DataFrameModel")
        return schema
    import yaml

    from dvx.quality.pandera_args import check_yaml

    doc = suite.document or {}
    check_yaml(suite.path, doc)
    text = yaml.safe_dump(doc, sort_keys=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if str(doc.get("api", "pandas")).lower() == "polars":
                from pandera.io.polars_io import from_yaml
            else:
                from pandera.io.pandas_io import from_yaml
            return from_yaml(text)
    except Exception as e:  # noqa: BLE001 - pandera raises several kinds for a bad schema
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SuiteError(suite.path, f"not a loadable pandera schema: {msg}") from e


def _is_polars(schema: Any) -> bool:
    return "polars" in type(schema).__module__


def _check_name(error: str) -> str:
    return error.split("(", 1)[0] if "(" in error else error


class _Tally:
    """Failures of one (column, check) across batches."""

    def __init__(self, column: str | None, check: str, row_level: bool) -> None:
        self.column = column
        self.check = check
        self.row_level = row_level
        self.count = 0
        self.values: list[Any] = []
        self.index: list[int] = []
        self.observed: Any = None


def _plan(schema: Any) -> tuple[Any, list[tuple[str | None, str]], list[arrow.Evaluator], list[str]]:
    """(per-batch schema without uniqueness, declared checks, uniqueness evaluators, their labels)."""
    declared: list[tuple[str | None, str]] = []
    uniq: list[arrow.Evaluator] = []
    labels: list[str] = []
    updates: dict[str, dict[str, Any]] = {}
    for name, col in schema.columns.items():
        if getattr(col, "dtype", None) is not None:
            declared.append((name, f"dtype('{col.dtype}')"))
        if not getattr(col, "nullable", True):
            declared.append((name, "not_nullable"))
        for ch in getattr(col, "checks", []) or []:
            declared.append((name, str(getattr(ch, "error", None) or ch.name)))
        if getattr(col, "unique", False):
            uniq.append(arrow.CollectEval(name, "unique", {}))
            labels.append(name)
            updates[name] = {"unique": False}
    batch_schema = schema.update_columns(updates) if updates else copy.deepcopy(schema)
    for ch in getattr(schema, "checks", []) or []:
        declared.append((None, str(getattr(ch, "error", None) or ch.name)))
    su = getattr(schema, "unique", None)
    if su:
        cols = [su] if isinstance(su, str) else list(su)
        uniq.append(arrow.CompoundUniqueEval(cols, 1.0, "never"))
        labels.append(",".join(cols))
        batch_schema.unique = None
    if getattr(schema, "strict", False) is True:
        declared.append((None, "column_in_schema"))
    return batch_schema, declared, uniq, labels


def run_schema(path: TableRef, suite: Suite, *, batch_size: int = 131072) -> SuiteValidation:
    """Validate ``path`` against a pandera suite; one result per declared check."""
    import time

    from dvx.quality.tables import open_batches

    t0 = time.perf_counter()
    schema = load_schema(suite)
    polars = _is_polars(schema)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if polars:
            import polars as pl
            from pandera.errors import SchemaError, SchemaErrors
        else:
            from pandera.errors import SchemaError, SchemaErrors
    batch_schema, declared, uniq, labels = _plan(schema)
    tallies: dict[tuple[str | None, str], _Tally] = {}
    for col, chk in declared:
        tallies[(col, chk)] = _Tally(col, chk, not chk.startswith("dtype(") and chk != "column_in_schema")
    file_schema, batches = open_batches(path, batch_size=batch_size)
    names = list(file_schema.names)
    uniq_ok: list[arrow.Evaluator] = []
    missing_uniq: list[str] = []
    for ev, label in zip(uniq, labels, strict=True):
        if all(c in names for c in ev.columns):
            uniq_ok.append(ev)
        else:
            missing_uniq.append(label)
    n = 0
    for b in batches:
        view = arrow.BatchView(b, n)
        for ev in uniq_ok:
            ev.update(view)
        if polars:
            frame: Any = pl.from_arrow(b)
        else:
            frame = b.to_pandas()
            frame.index = frame.index + n  # failure indexes are dataset row numbers
        n += b.num_rows
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                batch_schema.validate(frame, lazy=True)
        except SchemaErrors as e:
            _refuse_check_errors(suite.path, e)
            fc = e.failure_cases
            if polars:
                fc = fc.to_pandas()
            _tally(tallies, fc)
        except SchemaError as e:  # non-lazy errors (e.g. a check that raised)
            key = (getattr(getattr(e, "schema", None), "name", None), str(e).splitlines()[0])
            t = tallies.setdefault(key, _Tally(key[0], key[1], False))
            t.count += 1
        except Exception as e:  # noqa: BLE001 - a check or pandera itself failed: one line, not a traceback
            text = " ".join(str(e).split())[:160] or type(e).__name__
            raise SuiteError(suite.path, f"pandera raised {type(e).__name__} while validating: {text}") from e
    results: list[ExpectationResult] = []
    for (col, chk), t in tallies.items():
        kwargs: dict[str, Any] = {"check": chk}
        if col is not None:
            kwargs["column"] = col
        etype = f"pandera:{_check_name(chk)}"
        if t.row_level:
            ok, res = map_result(n, None, t.count, 1.0, t.values, t.index)
            ok = t.count == 0
        else:
            ok = t.count == 0
            res = {"observed_value": t.observed} if t.observed is not None else {}
        results.append(ExpectationResult(etype, kwargs, ok, res, {}, "pandera", suite.name))
    for ev, (ok, res) in zip(uniq_ok, arrow.run(uniq_ok, []), strict=True):
        col_label = ",".join(ev.columns)
        kw = {"column": col_label, "check": "unique"} if len(ev.columns) == 1 else {
            "column_list": ev.columns, "check": "unique"}
        results.append(ExpectationResult("pandera:unique", kw, ok, res, {}, "pandera", suite.name))
    for label in missing_uniq:
        results.append(ExpectationResult("pandera:unique", {"column": label, "check": "unique"}, False, {},
                                         {}, "pandera", suite.name, f"column '{label}' not in dataframe"))
    return SuiteValidation(suite=suite.name, suite_id=suite.id, suite_path=suite.path,
                           success=all(r.success for r in results), results=results,
                           notes=[], elapsed=time.perf_counter() - t0)


def _refuse_check_errors(path: str, errors: Any) -> None:
    """A check function that raised (pandera's CHECK_ERROR) cannot be evaluated: one line, exit 2.

    Not when the column also has the wrong dtype: the data failed, and the
    failed dtype check says so (exit 1)."""
    found = list(getattr(errors, "schema_errors", None) or [])

    def reason(se: Any) -> str:
        return str(getattr(getattr(se, "reason_code", None), "name", ""))

    wrong_dtype = {getattr(se, "column_name", None) for se in found if reason(se) == "WRONG_DATATYPE"}
    for se in found:
        if reason(se) != "CHECK_ERROR" or getattr(se, "column_name", None) in wrong_dtype:
            continue
        check = getattr(se, "check", None)
        name = getattr(check, "error", None) or getattr(check, "name", None) or "check"
        col = getattr(se, "column_name", None)
        where = f"column {col}, check {name}" if col is not None else f"dataframe, check {name}"
        first = (str(se).strip().splitlines() or [type(se).__name__])[0]
        first = first.removeprefix("Error while executing check function: ")
        raise SuiteError(path, f"{where}: pandera could not run it: {first[:200]}")


def _tally(tallies: dict[tuple[str | None, str], _Tally], fc: Any) -> None:
    """Add one batch's pandera failure_cases frame to the per-check tallies."""
    import pandas as pd

    for (ctx, col, check), grp in fc.groupby(["schema_context", "column", "check"], dropna=False, sort=False):
        column = None if ctx == "DataFrameSchema" or (isinstance(col, float) and col != col) else str(col)
        check = str(check)
        if check == "column_in_schema":
            column = None
        row_level = grp["index"].notna().any()
        key = (column, check)
        t = tallies.get(key)
        if t is None:
            t = tallies[key] = _Tally(column, check, bool(row_level))
        if check == "column_in_schema":
            extra = [str(v) for v in grp["failure_case"].tolist()]
            if t.count == 0:
                t.count = len(extra)
                t.observed = extra
            continue
        if not row_level:
            if t.count == 0:  # one dtype / missing-column failure per dataset, not per batch
                t.count = 1
                t.observed = grp["failure_case"].iloc[0]
            continue
        t.count += len(grp)
        room = PARTIAL - len(t.values)
        if room > 0:
            head = grp.head(room)
            t.values.extend(None if pd.isna(v) else v for v in head["failure_case"].tolist())
            t.index.extend(int(i) for i in head["index"].tolist())
