"""Validation suites and the bindings that attach them to datasets.

Three suite formats live in ``expectations/``:

- Great Expectations 1.x suites as JSON (``ExpectationSuite.to_json_dict()``:
  ``name, id, expectations[{type, kwargs, meta, id, severity}], meta, notes``;
  the legacy ``expectation_type`` key and ``expectation_suite_name`` are read too);
- pandera schemas as YAML (``DataFrameSchema.to_yaml()``);
- Python modules (``*.py``) exposing a pandera schema as ``schema``.

``expectations/dvx.toml`` binds datasets to suites::

    [[bind]]
    path = "data/*.parquet"          # repo-relative path or glob (** crosses /)
    suites = ["train.json", "train_schema.yaml"]

Loading a suite only parses it (json / yaml / the raw text for Python), so its
id is cheap to compute: the xxh3-128 of its canonical JSON. pandera and
great_expectations are imported only when a suite is run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dvx._textfile import ErrorFactory, parse_toml, read_text
from dvx.errors import SuiteError
from dvx.hashing import hash_hex
from dvx.quality import kwargs as strict_kwargs

BINDINGS_NAME = "dvx.toml"
SUITE_EXTS = (".json", ".yaml", ".yml", ".py")


@dataclass(frozen=True)
class Expectation:
    """One expectation: its GX type name, kwargs and meta, and where it was written."""

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    index: int = 0
    line: int | None = None

    @property
    def column(self) -> str | None:
        """The column the expectation is about (None for table-level ones)."""
        c = self.kwargs.get("column")
        if c is None and "column_list" in self.kwargs:
            return ",".join(map(str, self.kwargs["column_list"]))
        return c


@dataclass
class Suite:
    """A loaded suite: ``kind`` is "gx" or "pandera"; pandera suites keep their document."""

    name: str
    path: str
    kind: str
    id: str
    expectations: list[Expectation] = field(default_factory=list)
    document: Any = None  # GX: the JSON dict; pandera YAML: the parsed YAML; .py: the source text

    def where(self, exp: Expectation) -> str:
        """``file:line`` (or ``file[#index]``) of an expectation, for messages."""
        if exp.line is not None:
            return f"{self.path}:{exp.line}"
        return f"{self.path}[expectations #{exp.index}]"


def canonical_json(obj: Any) -> bytes:
    """Key-sorted, compact JSON: the bytes a suite id hashes."""
    # surrogatepass: JSON "\ud800" escapes load as lone surrogates, which
    # plain UTF-8 cannot encode; valid text encodes exactly as before.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8", "surrogatepass")


def suite_id(obj: Any) -> str:
    """xxh3-128 of the canonical JSON of a suite document."""
    return hash_hex(canonical_json(obj))


_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _name(value: Any) -> str:
    """A suite name for messages: a string, cut to one short line."""
    text = value if isinstance(value, str) else repr(value)
    if not text.isprintable():  # newlines or control characters would break the one-line report
        text = repr(text)
    return text if len(text) <= 120 else text[:117] + "..."


def _line_of(text: str, needle: str, start: int = 0) -> tuple[int | None, int]:
    pos = text.find(needle, start)
    if pos < 0:
        return None, start
    return text.count("\n", 0, pos) + 1, pos + len(needle)


def _document_id(path: str, doc: Any) -> str:
    """``suite_id(doc)``, SuiteError when the document cannot be written as canonical JSON."""
    if _node_count(doc) > _MAX_NODES:
        raise SuiteError(path, f"has more than {_MAX_NODES:,} values (YAML aliases expanding?)")
    try:
        return suite_id(doc)
    except (TypeError, ValueError, RecursionError) as e:  # mixed-type or non-scalar keys, deep nesting
        raise SuiteError(path, f"cannot be written as canonical JSON: {str(e)[:120]}") from e


# A suite has hundreds of values; a YAML file of 200 bytes can name 9**9
# through nested aliases, which canonical JSON would expand.
_MAX_NODES = 1_000_000


def _node_count(doc: Any) -> int:
    """Values in ``doc`` with aliases counted each time they are reached; stops past _MAX_NODES."""
    n, stack = 0, [doc]
    while stack and n <= _MAX_NODES:
        cur = stack.pop()
        n += 1
        if isinstance(cur, dict):
            stack.extend(cur.keys())
            stack.extend(cur.values())
        elif isinstance(cur, (list, tuple, set, frozenset)):
            stack.extend(cur)
    return n


def _load_gx(path: str, text: str) -> Suite:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SuiteError(path, f"not valid JSON: {e.msg} (column {e.colno})", line=e.lineno,
                         hint="fix the suite file; it must be a Great Expectations suite as JSON") from e
    except RecursionError as e:
        raise SuiteError(path, "not valid JSON: nested too deeply") from e
    except ValueError as e:  # an integer longer than int() accepts
        raise SuiteError(path, f"not valid JSON: {str(e)[:80]}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("expectations", None), list):
        raise SuiteError(path, "not a Great Expectations suite: expected an object with an 'expectations' list")
    name = doc.get("name") or doc.get("expectation_suite_name") or Path(path).stem
    exps: list[Expectation] = []
    cursor = 0
    for i, raw in enumerate(doc["expectations"]):
        if not isinstance(raw, dict):
            raise expectation_error(path, i, None, "not an object")
        typ = raw.get("type", raw.get("expectation_type"))
        line, cursor = _line_of(text, f'"{typ}"', cursor) if isinstance(typ, str) else (None, cursor)
        if not isinstance(typ, str) or not _TYPE_RE.match(typ):
            raise expectation_error(path, i, None, f"no valid 'type' (got {_name(repr(typ))})", line)
        kwargs = raw.get("kwargs", {})
        if not isinstance(kwargs, dict):
            raise expectation_error(path, i, typ, "'kwargs' must be an object", line)
        meta = raw.get("meta") or {}
        exp = Expectation(typ, dict(kwargs), dict(meta) if isinstance(meta, dict) else {}, i, line)
        check_expectation(path, exp)
        exps.append(exp)
    return Suite(name=_name(name), path=path, kind="gx", id=_document_id(path, doc), expectations=exps, document=doc)


def expectation_error(path: str, index: int, type_: str | None, what: str, line: int | None = None) -> SuiteError:
    """``FILE: expectation N (TYPE): what is wrong`` (N counts from 1 in the file), exit 2."""
    label = f"expectation {index + 1}" + (f" ({type_})" if type_ else "")
    err = SuiteError(path, f"{label}: {what}")
    err.line = line  # kept for tools; the message names the expectation by number
    return err


def check_expectation(path: str, exp: Expectation) -> None:
    """Refuse kwargs that do not fit an Arrow-engine type (types only GX knows are
    checked by engine_gx before they run)."""
    if exp.type in strict_kwargs.TYPES:
        what = strict_kwargs.check(exp.type, exp.kwargs)
        if what:
            raise expectation_error(path, exp.index, exp.type, what, exp.line)


def _load_yaml(path: str, text: str) -> Suite:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except RecursionError as e:
        raise SuiteError(path, "not valid YAML: nested too deeply") from e
    except ValueError as e:  # an integer longer than int() accepts; a bad !!timestamp
        raise SuiteError(path, f"not valid YAML: {str(e)[:80]}") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SuiteError(path, f"not valid YAML: {problem}", line=line,
                         hint="fix the schema file; it must be pandera's to_yaml format") from e
    if not isinstance(doc, dict) or ("columns" not in doc and "schema_type" not in doc):
        raise SuiteError(path, "not a pandera schema: expected a mapping with 'columns' (pandera's to_yaml format)")
    name = doc.get("name") or Path(path).stem
    return Suite(name=_name(name), path=path, kind="pandera", id=_document_id(path, {"pandera-yaml": doc}),
                 document=doc)


def _load_py(path: str, text: str) -> Suite:
    # The module is imported only when the suite runs; its id is the source text's.
    if not re.search(r"^\s*schema\s*[:=]", text, re.M):
        raise SuiteError(path, "Python suite defines no module-level 'schema'",
                         hint="assign a pandera DataFrameSchema to a variable named 'schema'")
    return Suite(name=Path(path).stem, path=path, kind="pandera", id=suite_id({"pandera-py": text}), document=text)


def _suite_error(path: str) -> ErrorFactory:
    return lambda what, line: SuiteError(path, what, line=line)


def load_suite(path: str | os.PathLike[str], text: str | None = None) -> Suite:
    """Parse a suite file (.json GX suite, .yaml/.yml pandera schema, .py module);
    ``text``: its content read elsewhere (the git index), named by ``path``.

    Raises SuiteError (exit 2) naming the file and line for unreadable or
    malformed suites.
    """
    p = os.fspath(path)
    ext = os.path.splitext(p)[1].lower()
    if ext not in SUITE_EXTS:
        raise SuiteError(p, f"unknown suite format '{ext}' (expected .json, .yaml, .yml or .py)")
    if text is None:
        text = read_text(p, _suite_error(p))
    if text is None:
        raise SuiteError(p, "suite file not found", hint="check the suites listed in expectations/dvx.toml")
    if ext == ".json":
        return _load_gx(p, text)
    if ext == ".py":
        return _load_py(p, text)
    return _load_yaml(p, text)


def suite_from_expectations(name: str, expectations: list[tuple[str, dict[str, Any]]]) -> Suite:
    """Build an in-memory GX suite (tests, inference, the Python API)."""
    doc = {"name": name, "expectations": [{"type": t, "kwargs": k, "meta": {}} for t, k in expectations]}
    exps = [Expectation(t, dict(k), {}, i, None) for i, (t, k) in enumerate(expectations)]
    for e in exps:
        check_expectation(f"<{name}>", e)
    return Suite(name=name, path=f"<{name}>", kind="gx", id=suite_id(doc), expectations=exps, document=doc)


# ---------------------------------------------------------------- bindings


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob: ``**`` crosses directories, ``*`` and ``?`` do not."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out) + r"/?\Z")


@dataclass(frozen=True)
class Binding:
    """One ``[[bind]]`` entry: a path glob and the suite files (relative to expectations/)."""

    path: str
    suites: tuple[str, ...]
    line: int | None = None

    def matches(self, rel_path: str) -> bool:
        """True when a repo-relative dataset path (posix separators) matches."""
        return glob_to_regex(self.path.strip("/")).match(rel_path.strip("/")) is not None


@dataclass
class Bindings:
    """The parsed ``expectations/dvx.toml``."""

    path: str
    root: str  # the expectations directory
    entries: list[Binding] = field(default_factory=list)

    def suites_for(self, rel_path: str) -> list[str]:
        """Suite file paths bound to a dataset, in binding order without repeats."""
        out: list[str] = []
        for b in self.entries:
            if b.matches(rel_path):
                for s in b.suites:
                    full = os.path.join(self.root, s)
                    if full not in out:
                        out.append(full)
        return out

    def datasets(self) -> list[str]:
        """The binding patterns, in file order."""
        return [b.path for b in self.entries]


_READ = object()


def load_bindings(expectations_dir: str | os.PathLike[str], text: Any = _READ) -> Bindings:
    """Read ``<expectations_dir>/dvx.toml`` (``text``: its content read elsewhere, None: absent);
    an absent file binds nothing."""
    root = os.fspath(expectations_dir)
    path = os.path.join(root, BINDINGS_NAME)
    if text is _READ:
        text = read_text(path, _suite_error(path))
    if text is None:
        return Bindings(path=path, root=root)
    doc = parse_toml(text, _suite_error(path))
    binds = doc.get("bind", [])
    if not isinstance(binds, list):
        raise SuiteError(path, "'bind' must be an array of tables ([[bind]])")
    entries: list[Binding] = []
    cursor = 0
    for i, b in enumerate(binds):
        line, cursor = _line_of(text, "[[bind]]", cursor)
        if not isinstance(b, dict) or not isinstance(b.get("path"), str) or not b["path"].strip():
            raise SuiteError(path, f"[[bind]] #{i + 1} needs a 'path' string", line=line)
        suites = b.get("suites", b.get("suite"))
        if isinstance(suites, str):
            suites = [suites]
        if not isinstance(suites, list) or not suites or not all(isinstance(s, str) for s in suites):
            raise SuiteError(path, f"[[bind]] #{i + 1} needs 'suites', a list of suite file names", line=line)
        entries.append(Binding(b["path"], tuple(suites), line))
    return Bindings(path=path, root=root, entries=entries)


def write_binding(expectations_dir: str | os.PathLike[str], dataset: str, suite_file: str) -> Path:
    """Append (or extend) the binding of ``dataset`` to ``suite_file`` in dvx.toml."""
    from dvx._fsutil import atomic_write

    root = Path(expectations_dir)
    path = root / BINDINGS_NAME
    bindings = load_bindings(root)
    for b in bindings.entries:
        if b.path == dataset and suite_file in b.suites:
            return path
    text = path.read_text(encoding="utf-8") if path.exists() else (
        "# Which suites validate which datasets (docs/validation.md).\n")
    if text and not text.endswith("\n"):
        text += "\n"
    text += f"\n[[bind]]\npath = {json.dumps(dataset)}\nsuites = [{json.dumps(suite_file)}]\n"
    atomic_write(path, text.encode())
    return path
