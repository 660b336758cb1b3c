"""The accepted-drift file ``expectations/accepted.toml``: drift the team meant.

One ``[[accept]]`` table per acceptance: version ``data_id`` of ``path`` may
differ from the baseline version ``baseline_id`` (content ids both), accepted
``by`` whom (git's author identity), ``at`` when (UTC), ``reason`` why, and the
drift ``figures`` it was accepted with. An acceptance binds to the two ids:
other data, or another baseline, is checked again. Validation is never
accepted: only a drift verdict turns into "accepted".

The file is committed like the suites and read, as hostile input, from where
the check reads its versions: the index for the pre-commit hook (an
acceptance that is not staged lets nothing through), the commit (and ``HEAD``)
for ``--rev``, the work tree otherwise. dvx writes it atomically, entries
sorted by (path, at, data_id, baseline_id), one key per line, so a review in
``git diff`` reads it like any text file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from dvx import scm
from dvx._paths import path_problem
from dvx._textfile import decode_utf8, parse_toml
from dvx.errors import AcceptanceError, DvxError
from dvx.hashing import is_oid
from dvx.workspace import Workspace

ACCEPTED_FILE = "expectations/accepted.toml"
FORMAT_VERSION = 1
MAX_BYTES = 4 << 20  # ~8,000 acceptances; far beyond any honest file
MAX_TEXT = 2000  # characters of one string (reason, identity, a figure)
MAX_FIGURES = 1000

HEADER = (
    "# Drift accepted with `dvx accept PATH -m REASON`. Each [[accept]] lets one version of a\n"
    "# dataset (data_id) pass the drift check against one baseline version (baseline_id);\n"
    "# other data or another baseline is checked again. Validation failures are never accepted.\n"
    "# Written by dvx, sorted; commit it with the data it accepts.\n"
)
_HINT = "fix or remove that entry by hand"
_KEYS = ("path", "data_id", "baseline_id", "by", "at", "reason", "figures")
_FIGURE_KEYS = ("name", "column", "observed", "expected")
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_ENTRY = re.compile(r"\s*\[\[\s*\"?accept\"?\s*\]\]\s*(#.*)?$")


@dataclass(frozen=True)
class Figure:
    """One drift check that failed when the version was accepted (a row of the gate's table)."""

    name: str
    column: str
    observed: str
    expected: str


@dataclass(frozen=True)
class Acceptance:
    """Version ``data_id`` of ``path`` accepted against baseline version ``baseline_id``."""

    path: str
    data_id: str
    baseline_id: str
    by: str
    at: str  # UTC, ISO 8601: 2026-12-03T14:30:00Z
    reason: str
    figures: tuple[Figure, ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.data_id, self.baseline_id)

    def summary(self) -> str:
        """``by NAME <EMAIL> at WHEN: REASON`` (the reason on one line)."""
        return f"by {self.by} at {self.at}: {' '.join(self.reason.split())}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "data_id": self.data_id, "baseline_id": self.baseline_id, "by": self.by,
                "at": self.at, "reason": self.reason, "figures": [vars(f) for f in self.figures]}


def now_utc() -> str:
    """The current time as an acceptance records it."""
    from datetime import UTC

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# writing ------------------------------------------------------------------------------


def _q(s: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but DEL must be escaped too."""
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def normalise(entries: Iterable[Acceptance]) -> list[Acceptance]:
    """Sorted by (path, at, data_id, baseline_id); the first of entries with one key kept."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for a in sorted(entries, key=lambda a: (a.path, a.at, a.data_id, a.baseline_id)):
        if a.key not in seen:
            seen.add(a.key)
            out.append(a)
    return out


def dumps(entries: Iterable[Acceptance]) -> str:
    """The file's text for ``entries`` (sorted, duplicates dropped)."""
    parts = [HEADER, f"version = {FORMAT_VERSION}\n"]
    for a in normalise(entries):
        parts.append(f"\n[[accept]]\npath = {_q(a.path)}\ndata_id = {_q(a.data_id)}\nbaseline_id = {_q(a.baseline_id)}\n"
                     f"by = {_q(a.by)}\nat = {_q(a.at)}\nreason = {_q(a.reason)}\n")
        if not a.figures:
            parts.append("figures = []\n")
            continue
        parts.append("figures = [\n")
        for f in a.figures:
            parts.append("  { " + ", ".join(f"{k} = {_q(getattr(f, k))}" for k in _FIGURE_KEYS) + " },\n")
        parts.append("]\n")
    return "".join(parts)


# reading ------------------------------------------------------------------------------


class _Where:
    """Line numbers for messages: ``[[accept]]`` headers and ``key =`` lines (tomllib gives none)."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = text.split("\n")
        self.starts = [n for n, ln in enumerate(self.lines, 1) if _ENTRY.match(ln)]

    def fail(self, what: str, line: int | None) -> NoReturn:
        where = f"{self.source}:{line}" if line is not None else self.source
        raise AcceptanceError(f"{where}: {what}", _HINT)

    def entry(self, i: int, count: int) -> int | None:
        return self.starts[i] if len(self.starts) == count else None

    def key(self, start: int | None, key: str) -> int | None:
        lo = start or 1
        hi = next((s for s in self.starts if s > lo), len(self.lines) + 1) if start else len(self.lines) + 1
        k = re.escape(key)
        pat = re.compile(r'\s*(?:(?:' + k + '|"' + k + r'")\s*=|\[\s*(?:' + k + '|"' + k + r'")\s*\])')  # key = / [key]
        return next((n for n in range(lo, hi) if pat.match(self.lines[n - 1])), start)


def _text(w: _Where, value: object, what: str, line: int | None, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        w.fail(f"{what} must be a string, not {type(value).__name__}", line)
    if not allow_empty and not value.strip():
        w.fail(f"{what} is empty", line)
    if len(value) > MAX_TEXT:
        w.fail(f"{what} is longer than {MAX_TEXT} characters", line)
    return value


def _entry(w: _Where, n: int, e: object, line: int | None) -> Acceptance:
    what = f"entry {n}"
    if not isinstance(e, dict):
        w.fail(f"{what} is not a table", line)
    for k in e:
        if k not in _KEYS:
            w.fail(f"{what}: unknown key {k!r} (one of {', '.join(_KEYS)})", w.key(line, k))
    for k in _KEYS[:-1]:
        if k not in e:
            w.fail(f"{what}: missing {k}", line)
    at = {k: w.key(line, k) for k in _KEYS}
    path = _text(w, e["path"], f"{what}: path", at["path"])
    why = path_problem(path) or ("names a pointer file" if path.endswith(".dvx") else None)
    if why:
        w.fail(f"{what}: path {path[:80]!r} {why}", at["path"])
    ids = {}
    for k in ("data_id", "baseline_id"):
        if not is_oid(e[k]):
            w.fail(f"{what}: {k} must be 32 lowercase hex digits, got {str(e[k])[:80]!r}", at[k])
        ids[k] = e[k]
    when = _text(w, e["at"], f"{what}: at", at["at"])
    try:
        ok = _AT.fullmatch(when) is not None and datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ") is not None
    except ValueError:
        ok = False
    if not ok:
        w.fail(f"{what}: at must be a UTC time like 2026-01-31T12:00:00Z, got {when[:80]!r}", at["at"])
    figures = e.get("figures", [])
    if not isinstance(figures, list) or len(figures) > MAX_FIGURES:
        w.fail(f"{what}: figures must be a list of at most {MAX_FIGURES} tables", at["figures"])
    figs = []
    for f in figures:
        if not isinstance(f, dict) or set(f) != set(_FIGURE_KEYS):
            w.fail(f"{what}: each figure is a table of {', '.join(_FIGURE_KEYS)}", at["figures"])
        figs.append(Figure(*(_text(w, f[k], f"{what}: figure {k}", at["figures"], allow_empty=True) for k in _FIGURE_KEYS)))
    return Acceptance(path, ids["data_id"], ids["baseline_id"], _text(w, e["by"], f"{what}: by", at["by"]), when,
                      _text(w, e["reason"], f"{what}: reason", at["reason"]), tuple(figs))


def parse(text: str, source: str = ACCEPTED_FILE) -> list[Acceptance]:
    """The acceptances of the file's ``text``; AcceptanceError ``source:line: what`` (exit 2) when it is wrong."""
    w = _Where(source, text)
    doc = parse_toml(text, lambda what, line: AcceptanceError(f"{source}:{line}: {what}" if line else f"{source}: {what}", _HINT))
    for k in doc:
        if k not in ("version", "accept"):
            w.fail(f"unknown key {k!r} (the file holds version and [[accept]] tables)", w.key(None, k))
    version = doc.get("version", FORMAT_VERSION)
    if type(version) is not int or version != FORMAT_VERSION:
        w.fail(f"version {str(version)[:20]} is not one this dvx reads ({FORMAT_VERSION})", w.key(None, "version"))
    entries = doc.get("accept", [])
    if not isinstance(entries, list):
        w.fail("accept must be an array of tables ([[accept]])", w.key(None, "accept"))
    return [_entry(w, i + 1, e, w.entry(i, len(entries))) for i, e in enumerate(entries)]


def loads(raw: bytes, source: str = ACCEPTED_FILE) -> list[Acceptance]:
    """Parse the file's bytes: at most MAX_BYTES of UTF-8 TOML."""
    if len(raw) > MAX_BYTES:
        raise AcceptanceError(f"{source}: is larger than {MAX_BYTES >> 20} MiB; not an accepted-drift file",
                              _HINT)
    return parse(decode_utf8(raw, lambda what, line: AcceptanceError(f"{source}:{line}: {what}", _HINT)), source)


class AcceptedSet:
    """The acceptances one check honours, read on first use (a check with no drift reads no file)."""

    def __init__(self, load: Callable[[], list[Acceptance]]) -> None:
        self._load = load
        self._by_key: dict[tuple[str, str, str], Acceptance] | None = None

    def find(self, path: str, data_id: str, baseline_id: str) -> Acceptance | None:
        """The acceptance of version ``data_id`` of ``path`` against ``baseline_id``, if there is one."""
        if self._by_key is None:
            self._by_key = {a.key: a for a in reversed(normalise(self._load()))}
        return self._by_key.get((path, data_id, baseline_id))

    @classmethod
    def of(cls, entries: list[Acceptance]) -> AcceptedSet:
        return cls(lambda: entries)


def _guarded(read: Callable[[], bytes | None], source: str) -> list[Acceptance]:
    raw = read()
    return [] if raw is None else loads(raw, source)


def read_file(path: Any, source: str) -> list[Acceptance]:
    """The acceptances of the work-tree file (none when it does not exist)."""

    def read() -> bytes | None:
        try:
            with open(path, "rb") as f:
                return f.read(MAX_BYTES + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise AcceptanceError(f"{source}: cannot read: {e.strerror or e}") from e

    return _guarded(read, source)


def read_git(read: Callable[[], bytes | None], source: str) -> list[Acceptance]:
    """The acceptances of a git blob (the index's or a commit's); none when git has no such file."""
    try:
        return _guarded(read, source)
    except AcceptanceError:
        raise
    except DvxError as e:
        raise AcceptanceError(f"{source}: cannot read from git: {e.message}") from e


def for_check(ws: Workspace, *, staged: bool = False, rev: str | None = None, rev_name: str | None = None) -> AcceptedSet:
    """The acceptances a check honours, by where it reads its versions: the index
    (``staged``, the pre-commit hook), the commit ``rev`` and ``HEAD`` (an
    acceptance committed later still names the same ids), else the work tree."""
    root = ws.root
    if staged:
        return AcceptedSet(lambda: read_git(lambda: scm.read_staged(root, ACCEPTED_FILE), ACCEPTED_FILE))
    if rev is not None:

        def load() -> list[Acceptance]:
            out = read_git(lambda: scm.read_at_rev(root, rev, ACCEPTED_FILE), f"{rev_name or rev[:12]}:{ACCEPTED_FILE}")
            head = scm.head_sha(root)
            if head and head != rev:
                out += read_git(lambda: scm.read_at_rev(root, head, ACCEPTED_FILE), f"HEAD:{ACCEPTED_FILE}")
            return out

        return AcceptedSet(load)
    return AcceptedSet(lambda: read_file(root / ACCEPTED_FILE, ws.display(ACCEPTED_FILE)))
