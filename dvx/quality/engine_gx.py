"""The slow path: expectations the Arrow engine does not implement, run by great_expectations.

The needed columns are read into one pandas frame (``tbl.to_pandas()``), so
memory here is that of pandas, not bounded by batches: this path is for the
rare expectation, and every result it produces carries a note saying so.
GX runs in an ephemeral context, analytics and progress bars off; it is
imported only inside these functions (~2.3 s).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dvx.quality import kwargs as strict_kwargs
from dvx.quality.sources import TableRef
from dvx.quality.suite import Expectation, Suite, check_expectation, expectation_error

if TYPE_CHECKING:
    import pandas as pd

SLOW_NOTE = "ran on the slow path (great_expectations on pandas)"

_state: dict[str, Any] = {}


def _gx() -> Any:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import great_expectations as gx
    return gx


def _batch_definition() -> Any:
    """One ephemeral context and whole-dataframe batch definition per process."""
    if "bd" not in _state:
        gx = _gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        ds = ctx.data_sources.add_pandas("dvx")
        asset = ds.add_dataframe_asset("dvx_frame")
        _state["bd"] = asset.add_batch_definition_whole_dataframe("all")
    return _state["bd"]


def known_types() -> frozenset[str]:
    """Every expectation type GX registers (imports GX)."""
    _gx()
    from great_expectations.expectations.registry import _registered_expectations

    return frozenset(_registered_expectations)


def _fields(type_: str) -> dict[str, Any] | None:
    """The pydantic fields of GX's class for ``type_`` (None: GX does not know the type)."""
    _gx()
    from great_expectations.expectations.registry import _registered_expectations

    cls = _registered_expectations.get(type_)
    return None if cls is None else dict(cls.__fields__)


def check_expectations(suite: Suite, exps: Iterable[Expectation]) -> None:
    """Refuse, before anything runs, an expectation whose type or kwargs GX 1.x does not accept.

    Types of dvx's table (dvx.quality.kwargs) were checked when the suite was
    loaded; the others are checked against GX's own expectation class: its
    fields name the allowed keys, the value rules of kwargs.GENERIC apply, then
    GX's pydantic model validates the types. Raises SuiteError (exit 2):
    ``FILE: expectation N (TYPE): what is wrong``.
    """
    for e in exps:
        if e.type in strict_kwargs.TYPES:
            check_expectation(suite.path, e)
            continue
        fields = _fields(e.type)
        if fields is None:
            known = known_types() | strict_kwargs.TYPES.keys()
            raise expectation_error(suite.path, e.index, e.type,
                                    "unknown expectation type" + strict_kwargs.suggest(e.type, known), e.line)
        own = [k for k in fields if k not in strict_kwargs.COMMON and k not in _INTERNAL]
        for key in e.kwargs:
            if key not in fields or key in _INTERNAL:
                raise expectation_error(suite.path, e.index, e.type,
                                        strict_kwargs.unknown_key(key, [k for k in fields if k not in _INTERNAL], own),
                                        e.line)
        for key, f in fields.items():
            if f.required and e.kwargs.get(key) is None:
                raise expectation_error(suite.path, e.index, e.type, f"missing required key '{key}'", e.line)
        what = strict_kwargs.check_values(e.kwargs, strict_kwargs.GENERIC)
        if what:
            raise expectation_error(suite.path, e.index, e.type, what, e.line)
        to_domain(e, suite)


# fields of GX's classes that are not arguments a suite sets
_INTERNAL = frozenset({"library_metadata", "rendered_content", "args_keys"})


def _pydantic_message(e: Exception, kwargs: dict[str, Any]) -> str:
    """GX's pydantic ValidationError as one phrase about the first key it names."""
    errors = getattr(e, "errors", None)
    try:
        first = errors()[0] if callable(errors) else None
    except Exception:  # noqa: BLE001 - not a pydantic error after all
        first = None
    if isinstance(first, dict):
        loc = [str(x) for x in first.get("loc", ()) if x != "__root__"]
        msg = str(first.get("msg", "")).strip()
        if loc and loc[0] in kwargs:
            return f"{loc[0]} {strict_kwargs.show(kwargs[loc[0]])} is invalid: {msg}"
        return msg or type(e).__name__
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def to_domain(exp: Expectation, suite: Suite | None = None) -> Any:
    """A GX Expectation object; SuiteError when GX rejects the type or kwargs."""
    _gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    try:
        return ExpectationConfiguration(type=exp.type, kwargs=dict(exp.kwargs), meta=dict(exp.meta)).to_domain_obj()
    except Exception as e:  # noqa: BLE001 - GX raises many kinds; all mean a bad suite entry
        where = suite.path if suite else "<suite>"
        raise expectation_error(where, exp.index, exp.type, _pydantic_message(e, exp.kwargs), exp.line) from e


def validate_frame(df: pd.DataFrame, exps: list[Any]) -> list[dict[str, Any]]:
    """Run GX Expectation objects on a pandas frame; GX result dicts (SUMMARY format)."""
    bd = _batch_definition()
    batch = bd.get_batch(batch_parameters={"dataframe": df})
    out = []
    for e in exps:
        r = batch.validate(e, result_format="SUMMARY")
        out.append(r.to_json_dict())
    return out


def _exception_of(d: dict[str, Any]) -> str | None:
    """The exception GX caught while evaluating, from a result dict (None: none)."""
    info = d.get("exception_info") or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "an exception")
    for v in info.values():  # GX nests per-metric exceptions: take the first message
        if isinstance(v, dict) and v.get("raised_exception"):
            return str(v.get("exception_message") or "an exception")
    return None


_UNDEFINED = re.compile(r"^name '(.+)' is not defined$")


def _data_failure(exc: str) -> str | None:
    """The message of a failed result when GX's exception means the data lacks a column
    (the expectation's own, or one its row_condition names); None for any other exception."""
    if "in BatchData does not exist" in exc:
        return exc
    m = _UNDEFINED.match(exc.strip())
    if m:
        return f"row_condition names '{m.group(1)}', which is not a column of the data"
    return None


def _one_line(text: str, width: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def run_expectations(path: TableRef, suite: Suite, exps: list[Expectation], columns: list[str] | None
                     ) -> list[tuple[bool, dict[str, Any], str | None]]:
    """Evaluate expectations with GX on the dataset (only ``columns`` read; all when None).

    Returns (success, result, exception message) per expectation. A column the
    data lacks is a failed result, as in GX; any other exception GX raises or
    catches is a SuiteError (exit 2) naming the expectation.
    """
    import pyarrow as pa

    from dvx.quality.tables import open_batches

    check_expectations(suite, exps)
    objs = [to_domain(e, suite) for e in exps]
    schema, batches = open_batches(path, columns=columns)
    tbl = pa.Table.from_batches(list(batches), schema=schema)
    df = tbl.to_pandas()
    del tbl
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
    out = []
    for e, obj in zip(exps, objs, strict=True):
        try:
            d = batch.validate(obj, result_format="SUMMARY").to_json_dict()
        except Exception as x:  # noqa: BLE001 - GX raises many kinds; report one line
            what = f"great_expectations raised {type(x).__name__}: {_one_line(str(x))}"
            raise expectation_error(suite.path, e.index, e.type, what, e.line) from x
        exc = _exception_of(d)
        if exc is not None:
            msg = _data_failure(exc)
            if msg is None:
                raise expectation_error(suite.path, e.index, e.type,
                                        f"great_expectations could not evaluate it: {_one_line(exc)}", e.line)
            exc = msg
        out.append((bool(d["success"]), d.get("result") or {}, exc))
    return out
