"""Evaluator state across partitions: what one partition's pass leaves, and how it merges.

:func:`state_of` takes the state of an evaluator fed one partition (row
numbers from 0) as plain picklable values: counters, the first unexpected
values and their partition-local row numbers, moments, collected columns.
:func:`absorb` adds such a state to an evaluator of the same plan, shifting
row numbers by the rows of the partitions before it. Absorbing the states of
every partition in plan order into a fresh evaluator, then ``finish()``, is
how dvx answers on one machine and on a cluster alike.

Counters and example lists are exact whatever the cut; moments merge with
the formula the batches use (StatsEval.merge_moments); collected columns
(uniqueness, median, distinct values) are concatenated in order, so a
partial of those holds a partition's present (or distinct) values: exactness
needs them.
"""

from __future__ import annotations

from typing import Any

from dvx.quality.arrow.collect import DISTINCT_MODES, CollectEval
from dvx.quality.arrow.evaluators import CompoundUniqueEval, Evaluator, MapEval, RowCountEval, StatsEval, TypeEval
from dvx.quality.gx_results import PARTIAL


def state_of(ev: Evaluator) -> dict[str, Any]:
    """The picklable state of ``ev`` after one partition's batches."""
    if isinstance(ev, MapEval):
        return {"n": ev.n, "missing": ev.missing, "unexpected": ev.unexpected,
                "values": list(ev.values), "index": list(ev.index)}
    if isinstance(ev, StatsEval):
        return {"count": ev.count, "mean": ev.mean, "m2": ev.m2, "total": ev.total, "lo": ev.lo, "hi": ev.hi,
                "is_int": ev.is_int, "posinf": ev.posinf, "neginf": ev.neginf}
    if isinstance(ev, CollectEval):
        ev._flush_dict()  # noqa: SLF001 - the last dictionary's values join the chunks
        chunks = list(ev.chunks)
        if ev.mode in DISTINCT_MODES and len(chunks) > 1:  # only distinct values matter: send each once
            import pyarrow as pa

            chunks = [pa.chunked_array(chunks).unique()]
        return {"n": ev.n, "missing": ev.missing, "chunks": chunks, "increasing": ev.increasing,
                "decreasing": ev.decreasing}
    if isinstance(ev, CompoundUniqueEval):
        return {"n": ev.n, "considered": ev.considered, "parts": list(ev.parts)}
    if isinstance(ev, RowCountEval):
        return {"n": ev.n}
    if isinstance(ev, TypeEval):
        return {"n": ev.n, "nulls": ev.nulls}
    raise TypeError(f"no partition state for {type(ev).__name__}")


def absorb(ev: Evaluator, st: dict[str, Any], offset: int) -> None:
    """Add a partition's state to ``ev``; ``offset`` = rows of the partitions before it."""
    if isinstance(ev, MapEval):
        ev.n += st["n"]
        ev.missing += st["missing"]
        ev.unexpected += st["unexpected"]
        room = max(0, PARTIAL - len(ev.values))
        ev.values.extend(st["values"][:room])
        ev.index.extend(i + offset for i in st["index"][:room])
    elif isinstance(ev, StatsEval):
        _absorb_stats(ev, st)
    elif isinstance(ev, CollectEval):
        _absorb_collect(ev, st)
    elif isinstance(ev, CompoundUniqueEval):
        ev.n += st["n"]
        ev.considered += st["considered"]
        ev.parts.extend(st["parts"])
    elif isinstance(ev, RowCountEval):
        ev.n += st["n"]
    elif isinstance(ev, TypeEval):
        ev.n += st["n"]
        ev.nulls += st["nulls"]
    else:
        raise TypeError(f"no partition state for {type(ev).__name__}")


def _absorb_stats(ev: StatsEval, st: dict[str, Any]) -> None:
    ev.is_int = ev.is_int or st["is_int"]
    if ev.stat in ("mean", "stdev"):
        ev.posinf += st["posinf"]
        ev.neginf += st["neginf"]
        ev.merge_moments(st["count"], st["mean"], st["m2"])
        return
    if st["count"] == 0:
        return
    ev.count += st["count"]
    if ev.stat == "sum":
        ev.total += st["total"]
    if st["lo"] is not None and (ev.lo is None or st["lo"] < ev.lo):
        ev.lo = st["lo"]
    if st["hi"] is not None and (ev.hi is None or st["hi"] > ev.hi):
        ev.hi = st["hi"]


def _absorb_collect(ev: CollectEval, st: dict[str, Any]) -> None:
    import pyarrow.compute as pc

    ev.n += st["n"]
    ev.missing += st["missing"]
    chunks = [c for c in st["chunks"] if len(c)]
    if not chunks:
        return
    if ev.increasing or ev.decreasing:
        # Monotonic across the cut too: this partition's first value against the last one before it.
        first = chunks[0][0]
        if ev.last is not None:
            last = ev.last[0]
            ev.increasing = ev.increasing and st["increasing"] and bool(pc.greater(first, last).as_py())
            ev.decreasing = ev.decreasing and st["decreasing"] and bool(pc.less(first, last).as_py())
        else:
            ev.increasing = ev.increasing and st["increasing"]
            ev.decreasing = ev.decreasing and st["decreasing"]
        ev.last = chunks[-1].slice(len(chunks[-1]) - 1, 1)
    ev.chunks.extend(chunks)
