"""The slow path: expectations the Arrow engine does not implement, run by great_expectations.

The needed columns are read into one pandas frame (``tbl.to_pandas()``), so
memory here is that of pandas, not bounded by batches: this path is for the
rare expectation, and every result it produces carries a note saying so.
GX runs in an ephemeral context, analytics and progress bars off; it is
imported only inside these functions (~2.3 s).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dvx.errors import SuiteError
from dvx.quality.sources import TableRef
from dvx.quality.suite import Expectation, Suite

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


def check_known(suite: Suite, exps: Iterable[Expectation]) -> None:
    """Raise SuiteError (exit 2) naming the file and line of a type GX does not know."""
    known = known_types()
    for e in exps:
        if e.type not in known:
            raise SuiteError(suite.path, f"unknown expectation type '{e.type}' (expectation #{e.index})",
                             line=e.line, hint="see docs/validation.md for the supported types")


def to_domain(exp: Expectation, suite: Suite | None = None) -> Any:
    """A GX Expectation object; SuiteError when GX rejects the type or kwargs."""
    _gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    try:
        return ExpectationConfiguration(type=exp.type, kwargs=dict(exp.kwargs), meta=dict(exp.meta)).to_domain_obj()
    except Exception as e:  # noqa: BLE001 - GX raises many kinds; all mean a bad suite entry
        where = suite.path if suite else "<suite>"
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SuiteError(where, f"expectation #{exp.index} ({exp.type}) is invalid: {msg}", line=exp.line) from e


def validate_frame(df: pd.DataFrame, exps: list[Any]) -> list[dict[str, Any]]:
    """Run GX Expectation objects on a pandas frame; GX result dicts (SUMMARY format)."""
    bd = _batch_definition()
    batch = bd.get_batch(batch_parameters={"dataframe": df})
    out = []
    for e in exps:
        r = batch.validate(e, result_format="SUMMARY")
        out.append(r.to_json_dict())
    return out


def run_expectations(path: TableRef, suite: Suite, exps: list[Expectation], columns: list[str] | None
                     ) -> list[tuple[bool, dict[str, Any], str | None]]:
    """Evaluate expectations with GX on the dataset (only ``columns`` read; all when None).

    Returns (success, result, exception message) per expectation.
    """
    import pyarrow as pa

    from dvx.quality.tables import open_batches

    check_known(suite, exps)
    objs = [to_domain(e, suite) for e in exps]
    schema, batches = open_batches(path, columns=columns)
    tbl = pa.Table.from_batches(list(batches), schema=schema)
    df = tbl.to_pandas()
    del tbl
    out = []
    for d in validate_frame(df, objs):
        exc = None
        info = d.get("exception_info") or {}
        if info.get("raised_exception"):
            exc = info.get("exception_message")
        else:  # GX nests per-metric exceptions: take the first message
            for v in info.values():
                if isinstance(v, dict) and v.get("raised_exception"):
                    exc = v.get("exception_message")
                    break
        out.append((bool(d["success"]), d.get("result") or {}, exc))
    return out
