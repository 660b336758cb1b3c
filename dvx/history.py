"""Datasets across git history: ``diff`` of two versions and ``log`` of one path.

Everything shown comes from the pointer files (ids and sizes) and the stores
the gate fills (profiles: rows and schema; drift summaries; validation
results): neither command reads data or re-runs validation. A value that was
never computed is shown as unknown (None); ``dvx check`` fills the stores.

Sits above ``dvx.gate`` (whose store layout it reads).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dvx import gate, scm
from dvx.errors import PointerError, UsageError
from dvx.gate.accepted import for_check
from dvx.hashing import from_hex
from dvx.store.objects import TreeManifest
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr
from dvx.workspace.changes import FileChanges, compare_trees

UNKNOWN = "unknown"


def _parse(raw: bytes | None, source: str) -> ptr.Pointer | None:
    if raw is None:
        return None
    try:
        return ptr.loads(raw, source)
    except PointerError:
        return None


def validation_status(ws: Workspace, policy: gate.Policy, rel: str, p: ptr.Pointer | None) -> str:
    """passed / failed from stored results of the bound suites; none when no
    suite is bound; unknown when a result is not stored."""
    if p is None:
        return UNKNOWN
    from dvx.quality.suite import load_suite

    files = policy.suites_for(rel)
    if not files:
        return gate.NONE
    store = gate.stores(ws).results
    ok = True
    for f in files:
        try:
            sid = load_suite(f).id
        except Exception:  # a broken suite file: status cannot be known
            return UNKNOWN
        sv = store.get(p.oid, sid)
        if sv is None:
            return UNKNOWN
        ok = ok and sv.success
    return gate.PASSED if ok else gate.FAILED


def _drift_of(ws: Workspace, policy: gate.Policy, a: ptr.Pointer, b: ptr.Pointer, compute: bool
              ) -> dict[str, Any] | None:
    """Stored drift summary of a -> b; computed from two stored profiles when ``compute``."""
    drift = gate.stores(ws).drift
    rep = drift.get(a.oid, b.oid, policy.thresholds_key)
    if rep is not None or not compute:
        return rep
    pa_, pb_ = gate.stored_profile(ws, a), gate.stored_profile(ws, b)
    if pa_ is None or pb_ is None:
        return None
    from dvx.quality.drift import compare

    rep = compare(pa_, pb_, policy.thresholds()).to_dict()
    drift.put(a.oid, b.oid, policy.thresholds_key, rep)
    return rep


# diff ------------------------------------------------------------------------------


@dataclass
class DatasetDiff:
    """How one tracked dataset differs between two sides (a: old, b: new)."""

    path: str
    change: str  # added / removed / modified
    id_a: str | None
    id_b: str | None
    size_a: int | None
    size_b: int | None
    rows_a: int | None = None
    rows_b: int | None = None
    columns_added: list[str] | None = None
    columns_removed: list[str] | None = None
    columns_retyped: list[str] | None = None
    drifted_columns: list[str] | None = None
    drifted: bool | None = None
    validation_a: str = UNKNOWN
    validation_b: str = UNKNOWN
    error: str | None = None
    accepted: dict[str, Any] | None = None  # b's drift from a, accepted (expectations/accepted.toml of side b)
    kind: str = "file"  # file / dir (side b's, else side a's)
    files: FileChanges | None = None  # a directory's files, from its two trees
    not_in_cache: bool = False  # a directory whose tree on either side is not in the cache: files unknown

    @property
    def size_change(self) -> int | None:
        if self.size_a is None and self.size_b is None:
            return None
        return (self.size_b or 0) - (self.size_a or 0)

    @property
    def rows_change(self) -> int | None:
        if self.rows_a is None and self.rows_b is None:
            return None
        if (self.rows_a is None and self.id_a) or (self.rows_b is None and self.id_b):
            return None
        return (self.rows_b or 0) - (self.rows_a or 0)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["size_change"] = self.size_change
        d["rows_change"] = self.rows_change
        d["files"] = None if self.files is None else self.files.to_json()
        return d


@dataclass
class DiffResult:
    rev_a: str
    rev_b: str | None  # None: the workspace
    datasets: list[DatasetDiff] = field(default_factory=list)

    def paths(self) -> dict[str, list[dict[str, Any]]]:
        """``dvc diff --json``'s lists: every changed tracked file, directory (with a trailing ``/``)
        and file inside a directory, by change; directories whose trees are not in the cache."""
        out: dict[str, list[dict[str, Any]]] = {"added": [], "deleted": [], "modified": [], "renamed": [],
                                                "not in cache": []}
        for d in self.datasets:
            change = "deleted" if d.change == "removed" else d.change
            out[change].append({"path": d.path + "/" if d.kind == "dir" else d.path})
            if d.not_in_cache:
                out["not in cache"].append({"path": d.path + "/"})
            if d.files is not None:
                for k, v in d.files.to_json().items():
                    out[k] += v
        return out

    def to_json(self) -> dict[str, Any]:
        """``diff --json`` (docs/status.md): DVC's lists, then each dataset's details."""
        return {"a": self.rev_a, "b": self.rev_b or "workspace", **self.paths(),
                "datasets": [d.to_json() for d in self.datasets]}


def _tree(ws: Workspace, p: ptr.Pointer | None) -> TreeManifest | None:
    """The tree of a directory pointer from the cache (an empty tree for a file or no pointer);
    None when it is not in the cache."""
    if p is None or p.kind != "dir":
        return TreeManifest(())
    oid = from_hex(p.oid)
    return ws.cache.get_tree_manifest(oid) if ws.cache_has(oid) else None


def _file_changes(ws: Workspace, d: DatasetDiff, a: ptr.Pointer | None, b: ptr.Pointer | None) -> None:
    """Fill ``d.files`` of a directory dataset by comparing its two trees (no file bytes read)."""
    side = b if b is not None else a
    d.kind = side.kind if side is not None else "file"
    if d.kind != "dir":
        return
    ta, tb = _tree(ws, a), _tree(ws, b)
    if ta is None or tb is None:
        d.not_in_cache = True
        return
    d.files = compare_trees(ta, tb, d.path)


def _pointers_at(ws: Workspace, sha: str, rev: str) -> dict[str, bytes]:
    """Each pointer file committed at ``sha`` -> its bytes (one batch); PointerError naming
    ``rev:path`` when git lacks one's blob."""
    blobs = scm.read_blobs_at(ws.root, sha, scm.pointers_at_rev(ws.root, sha))
    return {pp: ptr.require_blob(raw, f"{rev}:{pp}") for pp, raw in blobs.items()}


def _pointers_in_workspace(ws: Workspace) -> dict[str, bytes]:
    out = {}
    for pp in ws.find_pointers():
        try:
            out[pp] = ws.abspath(pp).read_bytes()
        except OSError:
            continue
    return out


def diff(rev_a: str | None = None, rev_b: str | None = None, cwd: str | None = None,
         compute_drift: bool = True) -> DiffResult:
    """Tracked datasets that differ between ``rev_a`` (default HEAD) and
    ``rev_b`` (default: the workspace's pointer files).

    Drift is computed only from stored profiles (cheap: no data is read) when
    ``compute_drift``; otherwise only stored drift summaries are shown.
    """
    ws = Workspace.find(cwd or ".")
    a_name = rev_a or "HEAD"
    sha_a = scm.resolve_rev(ws.root, a_name)
    side_a = _pointers_at(ws, sha_a, a_name)
    if rev_b is None:
        side_b = _pointers_in_workspace(ws)
    else:
        side_b = _pointers_at(ws, scm.resolve_rev(ws.root, rev_b), rev_b)
    policy = gate.Policy.load(ws)
    accepted = for_check(ws, rev=None if rev_b is None else scm.resolve_rev(ws.root, rev_b), rev_name=rev_b)
    result = DiffResult(a_name, rev_b)
    for pp in sorted(set(side_a) | set(side_b)):
        ta, tb = side_a.get(pp), side_b.get(pp)
        if ta == tb:
            continue
        rel = ptr.tracked_path(pp)
        pa_ = _parse(ta, f"{a_name}:{pp}")
        pb_ = _parse(tb, f"{rev_b or 'workspace'}:{pp}")
        if pa_ is not None and pb_ is not None and pa_.oid == pb_.oid:
            continue  # only the header or key order changed
        change = "added" if ta is None else "removed" if tb is None else "modified"
        d = DatasetDiff(rel, change, pa_.oid if pa_ else None, pb_.oid if pb_ else None,
                        pa_.size if pa_ else None, pb_.size if pb_ else None)
        for text, p, side in ((ta, pa_, a_name), (tb, pb_, rev_b or "workspace")):
            if text is not None and p is None:
                try:
                    ptr.loads(text, f"{side}:{pp}")
                except PointerError as e:
                    if rev_b is None and side == "workspace":
                        e.hint = e.hint or ptr.repair_hint(ws.display(pp))
                    d.error = e.format_message()
        _file_changes(ws, d, pa_, pb_)
        d.rows_a = gate.profile_rows(ws, pa_) if pa_ else None
        d.rows_b = gate.profile_rows(ws, pb_) if pb_ else None
        d.validation_a = validation_status(ws, policy, rel, pa_) if pa_ else gate.NONE
        d.validation_b = validation_status(ws, policy, rel, pb_) if pb_ else gate.NONE
        if pa_ is not None and pb_ is not None:
            rep = _drift_of(ws, policy, pa_, pb_, compute_drift)
            if rep is not None:
                sch = rep.get("schema", {})
                d.columns_added = list(sch.get("added", []))
                d.columns_removed = list(sch.get("removed", []))
                d.columns_retyped = list(sch.get("retyped", []))
                d.drifted_columns = list(rep.get("drifted_columns", []))
                d.drifted = bool(gate.drift_failures(rep))
                rc = rep.get("row_count", {})
                d.rows_a = d.rows_a if d.rows_a is not None else rc.get("baseline")
                d.rows_b = d.rows_b if d.rows_b is not None else rc.get("current")
            acc = accepted.find(rel, pb_.oid, pa_.oid) if d.drifted is not False else None
            d.accepted = acc.to_json() if acc is not None else None
        result.datasets.append(d)
    return result


# log -------------------------------------------------------------------------------


@dataclass
class LogEntry:
    """One commit that changed a dataset's pointer file."""

    rev: str
    date: str
    author: str
    message: str
    change: str  # added / modified / removed
    id: str | None
    size: int | None
    rows: int | None
    validation: str
    drift: str  # ok / drifted / accepted / new / unknown / removed
    drifted_columns: list[str] | None = None
    error: str | None = None
    accepted: dict[str, Any] | None = None  # the acceptance of this version's drift (expectations/accepted.toml at REV)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def log(path: str, rev: str = "HEAD", max_count: int | None = None, cwd: str | None = None) -> list[LogEntry]:
    """History of the dataset at ``path`` (data or pointer path), newest first."""
    ws = Workspace.find(cwd or ".")
    rel = ws.relpath(path, cwd)
    if rel.endswith(ptr.SUFFIX):
        rel = rel[: -len(ptr.SUFFIX)]
    pp = ptr.pointer_path(rel)
    versions = scm.log_pointer(ws.root, pp, rev=rev, max_count=max_count)
    if not versions:
        raise UsageError(f"{path}: no commit on {rev} changed {pp}", f"check the path; `git log -- {pp}`")
    policy = gate.Policy.load(ws)
    accepted = for_check(ws, rev=scm.resolve_rev(ws.root, rev), rev_name=rev)
    parsed: list[ptr.Pointer | None] = []
    errors: list[str | None] = []
    for v in versions:
        err = None
        p = None
        if v.text is not None:
            try:
                p = ptr.parse(v.text, f"{v.sha[:12]}:{pp}")
            except PointerError as e:
                err = e.format_message()
        parsed.append(p)
        errors.append(err)
    out: list[LogEntry] = []
    for i, v in enumerate(versions):
        p = parsed[i]
        older = parsed[i + 1] if i + 1 < len(parsed) else None
        had_older = i + 1 < len(versions) and versions[i + 1].text is not None
        if v.text is None:
            change = "removed"
        elif not had_older:
            change = "added"
        else:
            change = "modified"
        drift, cols = UNKNOWN, None
        if p is None:
            drift = "removed" if v.text is None else UNKNOWN
        elif older is None:
            drift = gate.NEW
        elif older.oid == p.oid:
            drift = gate.UNCHANGED
        else:
            rep = gate.stores(ws).drift.get(older.oid, p.oid, policy.thresholds_key)
            if rep is not None:
                fails = gate.drift_failures(rep)
                drift = gate.DRIFTED if fails else gate.OK
                cols = list(rep.get("drifted_columns", []))
        acc = accepted.find(rel, p.oid, older.oid) if p and older and drift in (gate.DRIFTED, UNKNOWN) else None
        if acc is not None:
            drift = gate.ACCEPTED
            cols = cols or sorted({f.column for f in acc.figures if f.column})
        out.append(LogEntry(
            rev=v.sha, date=v.date, author=v.author, message=v.message, change=change,
            id=p.oid if p else None, size=p.size if p else None,
            rows=gate.profile_rows(ws, p) if p else None,
            validation=validation_status(ws, policy, rel, p) if p else gate.NONE,
            drift=drift, drifted_columns=cols, error=errors[i], accepted=acc.to_json() if acc is not None else None,
        ))
    return out
