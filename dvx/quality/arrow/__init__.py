"""The Arrow engine: common GX expectations evaluated with pyarrow.compute.

One streaming pass over the record batches feeds every planned expectation;
each keeps counters (map expectations, min/max/mean/stdev) or, where exactness
needs the whole column (uniqueness, median, distinct values), the column's
present values only: one column of 10M int64 is 80 MB.

Semantics follow great_expectations 1.x on the pandas frame ``tbl.to_pandas()``
would give (the agreement test checks this against GX itself):

- missing = null, or NaN in a float column (pandas treats NaN as missing);
  map expectations count unexpected values among the present ones, except
  ``not_be_null`` / ``be_null`` which count over all rows;
- ``mostly``: success when (present - unexpected) / present >= mostly, and
  vacuously when there are no rows or no present values;
- stdev is the sample standard deviation (ddof=1), median the midpoint median;
- types use pandas dtype names: an integer column holding nulls is ``float64``
  (as in pandas), strings are ``str`` (pandas 3), timestamps ``datetime64``.

Modules: ``compute`` (Arrow kernels and literals), ``dtypes`` (the pandas
dtype GX sees), ``evaluators`` and ``collect`` (one evaluator per
expectation), ``plan`` (expectation -> evaluator, immediate result, or None
for the slow path through great_expectations), ``run`` (the streaming pass),
``merge`` (an evaluator's state after one partition, and how states merge).
Results use GX's vocabulary from :mod:`dvx.quality.gx_results`.
"""

from dvx.quality.arrow.collect import CollectEval
from dvx.quality.arrow.compute import is_numeric, is_string, literal, literal_array
from dvx.quality.arrow.dtypes import pandas_type
from dvx.quality.arrow.evaluators import BatchView, CompoundUniqueEval, Evaluator
from dvx.quality.arrow.plan import SUPPORTED, Missing, Planned, plan
from dvx.quality.arrow.run import run

__all__ = [
    "SUPPORTED", "BatchView", "CollectEval", "CompoundUniqueEval", "Evaluator", "Missing", "Planned",
    "is_numeric", "is_string", "literal", "literal_array", "pandas_type", "plan", "run",
]
