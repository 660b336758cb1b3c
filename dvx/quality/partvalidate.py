"""A GX suite validated partition by partition: partials on workers, the rest on the client.

A suite splits in two (:func:`plan_suite`): the expectations the Arrow engine
answers, which are computed per partition (:func:`validate_partition`, on
this machine or a Dask worker) into a small picklable
:class:`PartialValidation`, and the slow path (great_expectations on pandas,
for expectations or kwargs the Arrow engine lacks), which needs the whole
dataset in one pandas frame and so always runs once, on the client
(:func:`validate_slow`). :func:`merge_validation` absorbs the partials in plan
order into fresh evaluators and adds the slow path's results, giving the
:class:`~dvx.quality.results.SuiteValidation` of the whole dataset.
pandera suites are not partitioned: they run whole on the client
(:func:`dvx.quality.validate.run_suite`).

Every evaluator sees a partition's rows numbered from 0; unexpected row
numbers are shifted by the rows of the partitions before it when merged, so
counts, examples and their row numbers are those of one pass over the whole
dataset.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dvx.errors import DataFormatError
from dvx.quality import kwargs as strict_kwargs
from dvx.quality.results import ExpectationResult, SuiteValidation
from dvx.quality.sources import TableRef, label_of
from dvx.quality.suite import Suite

if TYPE_CHECKING:
    import pyarrow as pa

    from dvx.quality.arrow import Planned
    from dvx.quality.partitions import Partition


@dataclass(frozen=True)
class SuitePlan:
    """What the client decides before reading rows: the dataset's schema and the
    expectations (by position in the suite) left to the slow path."""

    schema: Any  # pyarrow.Schema: the dataset's (a directory's: as pyarrow.dataset reads it)
    slow: tuple[int, ...]
    evaluated: bool  # some expectation needs a pass over the rows (an evaluator)

    @property
    def partitionable(self) -> bool:
        """True when the whole suite is answered from partitions (no slow path)."""
        return not self.slow


@dataclass(frozen=True)
class PartialValidation:
    """The Arrow engine's state after one partition: picklable, keyed by the partition's index."""

    index: int  # the partition's position in the plan
    rows: int  # rows read (0 when the suite needed no pass over the rows)
    states: tuple[dict[str, Any], ...]  # one per evaluator, in suite order
    elapsed: float = 0.0


@dataclass(frozen=True)
class SlowValidation:
    """The slow path's results (great_expectations over the whole dataset, on the client)."""

    outcomes: tuple[tuple[int, bool, dict[str, Any], str | None], ...]  # (position in suite, success, result, exception)
    notes: tuple[str, ...] = field(default=())
    elapsed: float = 0.0


def _planned(suite: Suite, schema: pa.Schema) -> list[Planned]:
    from dvx.quality import arrow

    return [arrow.plan(e, schema) for e in suite.expectations]


def is_partitionable(suite: Suite, schema: pa.Schema) -> bool:
    """Whether every expectation of ``suite`` is answered from partitions on ``schema``
    (a GX suite without slow-path expectations; pandera suites never are)."""
    return suite.kind != "pandera" and all(p is not None for p in _planned(suite, schema))


def plan_suite(ref: TableRef, suite: Suite) -> SuitePlan:
    """Check the suite's GX-only expectations (SuiteError, exit 2, before any pass
    runs) and read the dataset's schema (footers only). GX suites only."""
    from dvx.quality.arrow import Evaluator
    from dvx.quality.tables import read_schema

    if suite.kind == "pandera":
        raise ValueError("pandera suites are not partitioned: run them with dvx.quality.validate.run_suite")
    gx_only = [e for e in suite.expectations if e.type not in strict_kwargs.TYPES]
    if gx_only:
        from dvx.quality import engine_gx

        engine_gx.check_expectations(suite, gx_only)
    schema = read_schema(ref)
    planned = _planned(suite, schema)
    return SuitePlan(schema, tuple(i for i, p in enumerate(planned) if p is None),
                     any(isinstance(p, Evaluator) for p in planned))


def _conform(batch: pa.RecordBatch, schema: pa.Schema, columns: list[str], label: str) -> pa.RecordBatch:
    """A file's batch as the dataset's schema has it: columns cast to its types, absent ones null."""
    import pyarrow as pa

    arrays = []
    for c in columns:
        want = schema.field(c).type
        if batch.schema.get_field_index(c) < 0:
            arrays.append(pa.nulls(batch.num_rows, want))
            continue
        a = batch.column(c)
        if a.type != want and not (pa.types.is_dictionary(a.type) and a.type.value_type == want):
            try:
                a = a.cast(want)
            except (pa.ArrowException, ValueError) as e:
                raise DataFormatError(label, f"column {c!r} is {a.type}, the dataset's is {want}: {e}") from e
        arrays.append(a)
    return pa.RecordBatch.from_arrays(arrays, names=columns)


def _batches(ref: TableRef, part: Partition, schema: pa.Schema, columns: list[str], batch_size: int
             ) -> Iterator[pa.RecordBatch]:
    from dvx.quality.partitions import partition_ref
    from dvx.quality.tables import dictionary_columns, open_batches, read_schema, table_format

    f = partition_ref(ref, part)
    if not part.file:  # the dataset is this one file: its schema is the dataset's
        _, it = open_batches(f, columns=columns, batch_size=batch_size,
                             dictionary=dictionary_columns(f, columns), row_groups=part.row_groups)
        return it
    if table_format(f) in ("csv", "tsv", "json"):
        # Text is parsed whole anyway, and its schema costs a parse of the first
        # block: one read of every column, then the wanted ones are picked.
        _, it = open_batches(f, batch_size=batch_size)
    else:  # Parquet, Arrow: the schema is in the footer; only the wanted columns are read
        names = read_schema(f).names
        have = [c for c in columns if c in names]
        _, it = open_batches(f, columns=have or names[:1], batch_size=batch_size,
                             dictionary=dictionary_columns(f, have), row_groups=part.row_groups)
    return (_conform(b, schema, columns, label_of(f)) for b in it)


def validate_partition(ref: TableRef, part: Partition, suite: Suite, *, schema: pa.Schema | None = None,
                       batch_size: int = 131072) -> PartialValidation:
    """The Arrow engine's pass over one partition of the dataset ``ref`` (the
    slow path is not run here; see :func:`validate_slow`). ``schema``: the
    dataset's (:attr:`SuitePlan.schema`; read from ``ref`` when None)."""
    from dvx.quality.arrow import Evaluator
    from dvx.quality.arrow.merge import state_of
    from dvx.quality.arrow.run import feed
    from dvx.quality.tables import read_schema

    t0 = time.perf_counter()
    if schema is None:
        schema = read_schema(ref)
    evals = [p for p in _planned(suite, schema) if isinstance(p, Evaluator)]
    if not evals:
        return PartialValidation(part.index, 0, (), time.perf_counter() - t0)
    wanted = {c for ev in evals for c in ev.columns}
    cols = [c for c in schema.names if c in wanted] or list(schema.names[:1])  # row counts need rows
    rows = feed(evals, _batches(ref, part, schema, cols, batch_size))
    return PartialValidation(part.index, rows, tuple(state_of(ev) for ev in evals), time.perf_counter() - t0)


def validate_slow(ref: TableRef, suite: Suite, plan: SuitePlan) -> SlowValidation:
    """The slow-path expectations of ``plan`` through great_expectations on the whole dataset."""
    from dvx.quality import engine_gx
    from dvx.quality.validate import GX_TIME, columns_of

    if not plan.slow:
        return SlowValidation(())
    names = list(plan.schema.names)
    exps = [suite.expectations[i] for i in plan.slow]
    wanted = [columns_of(e, names) for e in exps]
    cols: list[str] | None = None
    if all(c is not None for c in wanted):
        need = {c for cs in wanted if cs is not None for c in cs}
        cols = [c for c in names if c in need]
    t0 = time.perf_counter()
    outs = engine_gx.run_expectations(ref, suite, exps, cols or None)  # none: table-level, give GX every column
    took = time.perf_counter() - t0
    kinds = sorted({e.type for e in exps})
    notes = (f"{suite.name}: {len(exps)} expectation(s) {engine_gx.SLOW_NOTE}: {', '.join(kinds)}",
             f"{suite.name}: {GX_TIME}{took:.1f} s")  # what the slow path cost (shown when it ran)
    return SlowValidation(tuple((i, ok, res, exc) for i, (ok, res, exc) in zip(plan.slow, outs, strict=True)),
                          notes, took)


def merge_validation(suite: Suite, schema: pa.Schema, partials: Sequence[PartialValidation],
                     slow: SlowValidation | None = None, *, partitions: int | None = None,
                     elapsed: float | None = None) -> SuiteValidation:
    """The suite's result on the whole dataset from every partition's partial
    (merged by partition index, in any order of arrival; exactly one each) and
    the slow path's results. ``partitions``: the plan's length, checked when
    given (no partials at all is fine for a suite that reads no rows).
    ``elapsed``: the wall time to report (default: the partials' and slow path's times added)."""
    from dvx.quality.arrow import Evaluator, Missing
    from dvx.quality.arrow.merge import absorb
    from dvx.quality.gx_results import missing_column_result

    ordered = sorted(partials, key=lambda p: p.index)
    seen = [p.index for p in ordered]
    if len(set(seen)) != len(seen):
        raise ValueError(f"partials repeat a partition: {seen}")
    if seen != list(range(len(seen))) or (partitions is not None and len(seen) not in (0, partitions)):
        raise ValueError(f"partials of partitions {seen} for a plan of {partitions or '?'}: one each is needed")
    planned = _planned(suite, schema)
    evals = [p for p in planned if isinstance(p, Evaluator)]
    offset = 0
    for pv in ordered:
        if pv.states:
            if len(pv.states) != len(evals):
                raise ValueError(f"partition {pv.index}: {len(pv.states)} states for {len(evals)} evaluators")
            for ev, st in zip(evals, pv.states, strict=True):
                absorb(ev, st, offset)
        offset += pv.rows
    slow_out = {i: (ok, res, exc) for i, ok, res, exc in (slow.outcomes if slow is not None else ())}
    results: list[ExpectationResult] = []
    for i, (exp, p) in enumerate(zip(suite.expectations, planned, strict=True)):
        if p is None:
            if i not in slow_out:
                raise ValueError(f"expectation {i + 1} ({exp.type}) needs the slow path's result")
            ok, res, exc = slow_out[i]
            results.append(ExpectationResult(exp.type, exp.kwargs, ok, res, exp.meta, "gx", suite.name, exc))
            continue
        engine_msg = None
        if isinstance(p, Missing):
            ok, res, engine_msg = missing_column_result(p.column)
        elif isinstance(p, Evaluator):
            ok, res = p.finish()
        else:
            ok, res = p
        results.append(ExpectationResult(exp.type, exp.kwargs, bool(ok), res, exp.meta, "arrow", suite.name,
                                         engine_msg))
    notes = list(slow.notes) if slow is not None else []
    for n, r in enumerate(results, 1):
        if r.exception:
            notes.append(f"{suite.name}: expectation {n} ({r.expectation_type}) failed: {r.exception}")
    if elapsed is None:
        elapsed = sum(p.elapsed for p in ordered) + (slow.elapsed if slow is not None else 0.0)
    return SuiteValidation(suite=suite.name, suite_id=suite.id, suite_path=suite.path,
                           success=all(r.success for r in results), results=results, notes=notes, elapsed=elapsed)
