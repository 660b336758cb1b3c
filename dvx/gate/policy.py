"""What the gate checks: the suites and drift thresholds of ``expectations/dvx.toml``,
and which pointer versions a run covers (staged, committed at a revision, or
in the workspace) with the baseline each is compared to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx import scm
from dvx._textfile import ErrorFactory, load_toml
from dvx.errors import SuiteError
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.quality.drift import Thresholds
    from dvx.quality.suite import Bindings, Suite


EXPECTATIONS = "expectations"
BINDINGS_FILE = "expectations/dvx.toml"


@dataclass
class Policy:
    """What the gate checks, read once from ``expectations/dvx.toml`` and the suites it binds.

    ``staged`` (the pre-commit hook, ``--staged``): every file of
    ``expectations/`` is read from the git index, so a suite edited but not
    staged does not count; otherwise from the work tree.
    """

    root: Path
    drift_table: dict[str, Any]
    thresholds_key: str
    staged: bool = False
    _texts: dict[str, str | None] = field(default_factory=dict)  # staged: repo-relative path -> text in the index
    _bindings: Bindings | None = None
    _differ: frozenset[str] = frozenset()  # staged: files whose work-tree copy is not the index's

    @classmethod
    def load(cls, ws: Workspace) -> Policy:
        path = ws.root / "expectations" / "dvx.toml"
        return cls._of(ws.root, load_toml(path) or {})

    @classmethod
    def load_staged(cls, ws: Workspace, differ: Collection[str] = ()) -> Policy:
        """The policy as staged: ``expectations/dvx.toml`` and the suites as the git index holds them.

        ``differ``: the files of ``expectations/`` whose work-tree copy is not the index's
        (modified, deleted, untracked or ignored: :func:`dvx.scm.expectations_status`); those
        are read from the index, every other one from the disk, where it is the same.
        """
        from dvx._textfile import parse_toml

        policy = cls(ws.root, {}, "", staged=True, _differ=frozenset(differ))
        text = policy.staged_texts([BINDINGS_FILE])[BINDINGS_FILE]
        doc = parse_toml(text, _error(str(ws.root / BINDINGS_FILE))) if text is not None else {}
        of = cls._of(ws.root, doc, staged=True)
        policy.drift_table, policy.thresholds_key = of.drift_table, of.thresholds_key
        return policy

    def staged_texts(self, rels: list[str]) -> dict[str, str | None]:
        """The text of each repository-relative file in the index (None: not there); cached."""
        from dvx._textfile import read_text

        missing = [r for r in rels if r not in self._texts]
        from_git = [r for r in missing if r in self._differ]
        if from_git:
            self._texts.update(_index_texts(self.root, from_git))
        for r in missing:
            if r not in from_git:  # the work-tree copy is the index's (or neither has the file)
                self._texts[r] = read_text(self.root / r, _error(str(self.root / r)))
        return {r: self._texts[r] for r in rels}

    @classmethod
    def _of(cls, root: Path, doc: dict[str, Any], staged: bool = False) -> Policy:
        from dvx.hashing import hash_hex

        table: dict[str, Any] = doc.get("drift", {}) or {}
        key = hash_hex(json.dumps(table, sort_keys=True, default=str).encode())[:16]
        return cls(root, table, key, staged)

    def bindings(self) -> Bindings:
        """The ``[[bind]]`` entries (parsed once)."""
        if self._bindings is None:
            from dvx.quality.suite import load_bindings

            exp = self.root / EXPECTATIONS
            self._bindings = load_bindings(exp, self._texts[BINDINGS_FILE]) if self.staged else load_bindings(exp)
        return self._bindings

    def suites_for(self, rel: str) -> list[str]:
        """Suite files bound to the dataset ``rel`` (absolute paths in the work tree)."""
        return self.bindings().suites_for(Path(rel).as_posix())

    def suite_rel(self, file: str) -> str:
        """The repository-relative path of suite file ``file`` (as git names it)."""
        return Path(os.path.relpath(file, self.root)).as_posix()

    def suites(self, rel: str) -> list[Suite]:
        """The suites bound to ``rel``, parsed (from the index when ``staged``)."""
        from dvx.quality.suite import load_suite

        files = self.suites_for(rel)
        if not self.staged:
            return [load_suite(f) for f in files]
        wanted = [self.suite_rel(f) for f in files]
        texts = self.staged_texts(wanted)
        out = []
        for f, w in zip(files, wanted, strict=True):
            text = texts[w]
            if text is None:
                raise SuiteError(f, "suite file not staged (the commit would bind a suite it does not hold)",
                                 hint=f"`git add {w}`, or remove it from expectations/dvx.toml")
            out.append(load_suite(f, text))
        return out

    def thresholds(self) -> Thresholds:
        """The drift thresholds of the ``[drift]`` table."""
        from dvx.quality.drift import thresholds_from_dict

        return thresholds_from_dict(self.drift_table, str(self.root / "expectations" / "dvx.toml"))


def _error(path: str) -> ErrorFactory:
    return lambda what, line: SuiteError(path, what, line=line)


def _index_texts(root: Path, rels: list[str]) -> dict[str, str | None]:
    """The UTF-8 text of each repository-relative file in the git index (None: not there), in one git call."""
    from dvx._textfile import decode_utf8

    objs = scm.read_objects(root, [f":{r}" for r in rels])
    return {r: (decode_utf8(o[1], _error(str(root / r))) if o is not None else None)
            for r, o in zip(rels, objs, strict=True)}


@dataclass
class Target:
    """One pointer version to gate, and its baseline."""

    rel: str
    text: str | None  # the pointer file (None: there is none)
    source: str  # how errors name the pointer file
    rev: str | None  # the commit holding the version; None: the index or the workspace
    base_text: str | None  # the baseline's pointer file (None: the dataset is new)
    where: str = "workspace"  # what is read (dvx.gate.reading): workspace (the disk) / staged / rev
    rev_name: str | None = None  # how output names ``rev`` (as given)
    base_name: str = "HEAD"  # how output names the baseline revision
    because: str | None = None  # staged: re-checked, its pointer unchanged, because expectations/ changed (why)


@dataclass
class Targets:
    """The versions one gate run covers and the baseline commit."""

    targets: list[Target]
    baseline: str | None


def _decode(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw is not None else None


def _read_text(path: Path) -> str | None:
    try:
        return _decode(path.read_bytes())
    except (FileNotFoundError, IsADirectoryError):
        return None


def select(ws: Workspace, paths: Sequence[str] | None, *, staged: bool, rev: str | None, baseline: str | None,
           cwd: str | None, added: bool = False, also: dict[str, str] | None = None) -> Targets:
    """The versions to gate.

    - ``staged``: the datasets whose pointer files are staged, as staged; baseline ``HEAD``.
    - ``rev``: the pointers committed at ``rev``; baseline its first parent.
    - otherwise the tracked paths ``paths`` (all when empty) as they are on disk
      (the gate measures the workspace copy, :mod:`dvx.gate.reading`), or with
      ``added`` the versions their pointer files name; baseline ``HEAD``.

    ``baseline`` overrides the baseline revision. ``also`` (staged): datasets in the
    index to check as well, their pointers unchanged, and why (:mod:`dvx.gate.staged`).
    """
    from dvx.gate.reading import which

    which(staged, rev)  # --staged and --rev exclude each other
    root = ws.root
    sha = scm.resolve_rev(root, rev) if rev is not None and not staged else None
    if staged:
        rels = [ptr.tracked_path(pp) for pp in scm.staged_pointers(root)]
        rels += [r for r in (also or {}) if r not in rels]
        if paths:
            wanted = {ws.tracked_rel(p, cwd) for p in paths}
            rels = [r for r in rels if r in wanted]
    elif sha is not None:
        if paths:
            rels = [ws.tracked_rel(p, cwd) for p in paths]
        else:
            rels = [ptr.tracked_path(pp) for pp in scm.pointers_at_rev(root, sha)]
    else:
        rels = ws.resolve_tracked(list(paths) if paths else None, cwd)
    for r in rels:  # names from git: refuse .git/.dvx and the like before reading anything under them
        ptr.check_tracked(r, ptr.pointer_path(r))
    if staged and baseline is None:
        return _staged(ws, rels, also or {})
    name = baseline
    if baseline is None:
        if sha is not None:
            baseline, name = scm.first_parent(root, sha), f"{rev}^"
        else:
            baseline, name = scm.head_sha(root), "HEAD"
    else:
        baseline = scm.resolve_rev(root, baseline)
    out: list[Target] = []
    for rel in rels:
        pp = ptr.pointer_path(rel)
        if staged:
            text, source = _decode(scm.read_staged(root, pp)), pp
        elif sha is not None:
            text, source = _decode(scm.read_at_rev(root, sha, pp)), f"{rev}:{pp}"
        else:
            text, source = _read_text(ws.abspath(pp)), ws.display(pp)
        base_text = _decode(scm.read_at_rev(root, baseline, pp)) if baseline else None
        where = "staged" if staged or added else ("rev" if sha is not None else "workspace")
        out.append(Target(rel, text, source, sha, base_text, where, rev, name or "HEAD",
                          (also or {}).get(rel) if staged else None))
    return Targets(out, baseline)


def _staged(ws: Workspace, rels: list[str], also: dict[str, str]) -> Targets:
    """The hot path of the pre-commit hook: HEAD, each staged pointer and its
    HEAD version in one ``git cat-file --batch``."""
    if not rels:
        return Targets([], scm.head_sha(ws.root))
    pps = [ptr.pointer_path(rel) for rel in rels]
    specs = ["HEAD"] + [s for pp in pps for s in (f":{pp}", f"HEAD:{pp}")]
    objs = scm.read_objects(ws.root, specs)
    head = objs[0][0] if objs[0] is not None else None
    out: list[Target] = []
    for i, (rel, pp) in enumerate(zip(rels, pps, strict=True)):
        cur, base = objs[1 + 2 * i], objs[2 + 2 * i]
        text = cur[1].decode("utf-8", "replace") if cur is not None else None
        base_text = base[1].decode("utf-8", "replace") if base is not None and head else None
        out.append(Target(rel, text, pp, None, base_text, "staged", because=also.get(rel)))
    return Targets(out, head)


def is_tabular(ws: Workspace, rel: str, p: ptr.Pointer) -> bool:
    """Whether drift applies: a table by extension, or a directory of tables
    (judged on the workspace copy; a folder of images is not profiled)."""
    from dvx.quality.tables import is_tabular as tabular
    from dvx.quality.tables import table_format

    if p.kind == "file":
        return table_format(rel) is not None
    ap = ws.abspath(rel)
    return tabular(ap) if ap.is_dir() else True


def absolute(path: str | os.PathLike[str], repo: str | os.PathLike[str]) -> str:
    """``path`` made absolute against ``repo`` (how require_valid names a dataset)."""
    p = Path(path)
    return str(p if p.is_absolute() else Path(os.path.abspath(os.path.join(os.fspath(repo), p))))
