"""Strict pandera YAML checks: each check's arguments are checked before the schema is built.

pandera builds a YAML schema's checks by calling ``Check.<name>(**arguments)``;
a misspelled argument then surfaces as "missing required argument", an empty
``isin`` list is accepted and ``greater_than: quack`` on an integer column
fails only while validating. Here every check of every column (and the
dataframe-level checks) is looked up on pandera's ``Check`` class, its
arguments matched against that method's signature and the options every check
takes, then built on its own, so a bad one is refused as
``FILE: column C, check NAME: what is wrong`` (SuiteError, exit 2).
"""

from __future__ import annotations

import copy
import inspect
import warnings
from typing import Any

from dvx.errors import SuiteError
from dvx.quality import kwargs as strict_kwargs

_NUMERIC_DTYPES = ("int", "uint", "float")
_COMPARISONS = frozenset({"greater_than", "greater_than_or_equal_to", "less_than", "less_than_or_equal_to",
                          "in_range", "gt", "ge", "lt", "le", "between"})
_VALUE_LISTS = frozenset({"isin", "notin", "unique_values_eq"})
_REGEX = frozenset({"str_matches", "str_contains"})


def _check_names(check_cls: Any) -> list[str]:
    return [n for n in dir(check_cls) if not n.startswith("_") and inspect.ismethod(getattr(check_cls, n, None))]


def _params(fn: Any) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in ("self", "cls", "check_fn")]


def _numeric(dtype: Any) -> bool:
    return isinstance(dtype, str) and dtype.lower().startswith(_NUMERIC_DTYPES)


def _values_wrong(name: str, args: dict[str, Any], dtype: Any) -> str | None:
    """The value rules pandera leaves to validation time."""
    values = list(args.values()) if set(args) <= {"value"} else [args.get(k) for k in ("min_value", "max_value")]
    if name in _COMPARISONS and _numeric(dtype):
        for v in values:
            if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
                return f"{v!r} is not a number, and column dtype is {dtype}"
    if name in _VALUE_LISTS:
        v = args.get("value", args.get("allowed_values", args.get("forbidden_values", args.get("values"))))
        if isinstance(v, (list, tuple)) and not v:
            return "the list of values is empty"
    if name in _REGEX:
        what = strict_kwargs.check_values({"regex": args.get("value", args.get("pattern"))}, {"regex": strict_kwargs.GENERIC["regex"]})
        if what:
            return what
    return None


def _one(path: str, where: str, name: Any, raw: Any, dtype: Any, check_cls: Any, build: Any) -> None:
    def refuse(what: str) -> SuiteError:
        return SuiteError(path, f"{where}, check {name}: {what}")

    if not isinstance(name, str) or not inspect.ismethod(getattr(check_cls, name, None)):
        raise SuiteError(path, f"{where}: unknown check {name!r}{strict_kwargs.suggest(str(name), _check_names(check_cls))}")
    args = {k: v for k, v in raw.items() if k != "options"} if isinstance(raw, dict) else {"value": raw}
    own = _params(getattr(check_cls, name))
    allowed = set(own) | set(_params(check_cls.__init__)) | {"value"}
    for key in args:
        if key not in allowed:
            raise refuse(strict_kwargs.unknown_key(key, allowed, own).replace("unknown key", "unknown argument"))
    what = _values_wrong(name, args, dtype)
    if what:
        raise refuse(what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build(getattr(check_cls, name), copy.deepcopy(raw), None)
    except Exception as e:  # noqa: BLE001 - pandera raises many kinds for bad arguments
        text = " ".join(str(e).split())[:160] or type(e).__name__
        raise refuse(f"{type(e).__name__}: {text}") from e


def _checks_of(component: Any) -> list[tuple[Any, Any]]:
    """(check name, its serialized arguments) of one column or of the dataframe, any YAML shape."""
    from pandera.io._check_io import checks_dict_to_list
    from pandera.io._flat_checks import unflatten_component_checks_dict

    if not isinstance(component, dict):
        return []
    comp = copy.deepcopy(component)
    unflatten_component_checks_dict(comp)
    checks = checks_dict_to_list(comp.get("checks"))
    out = []
    for c in checks or []:
        if isinstance(c, dict):
            opts = c.get("options")
            name = opts.get("check_name") if isinstance(opts, dict) else None
            out.append((name, c))
    return out


def check_yaml(path: str, doc: Any) -> None:
    """Refuse the first bad check argument of a pandera YAML schema (SuiteError, exit 2)."""
    if not isinstance(doc, dict):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pandera.api.checks import Check
        if str(doc.get("api", "pandas")).lower() == "polars":
            from pandera.io.polars_io import _deserialize_check_stats
        else:
            from pandera.io.pandas_io import _deserialize_check_stats
    columns = doc.get("columns")
    for col, spec in (columns.items() if isinstance(columns, dict) else []):
        dtype = spec.get("dtype") if isinstance(spec, dict) else None
        for name, raw in _checks_of(spec):
            _one(path, f"column {col}", name, raw, dtype, Check, _deserialize_check_stats)
    for name, raw in _checks_of({"checks": doc.get("checks")}):
        _one(path, "dataframe", name, raw, None, Check, _deserialize_check_stats)
