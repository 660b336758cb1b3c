"""The gate: validation of the bound suites plus drift against a baseline version.

``run_gate`` is what the pre-commit hook, ``dvx check``, CI and
``dvx.require_valid`` run. For each dataset version (a pointer: in the index,
the workspace or a commit) it

1. validates the data against the suites ``expectations/dvx.toml`` binds to
   its path (the validation store answers for an unchanged data id, so a rerun
   reads one small JSON file per suite and never the data);
2. compares its profile with the baseline's (the same path at ``HEAD``, or at
   the commit's parent) using the thresholds of the ``[drift]`` table; drift
   reports are stored per (baseline id, current id, thresholds) too.

Stores, all under ``.dvx/cache/`` (git-ignored, rebuilt on demand):

- ``results/validation/``: :class:`dvx.quality.results.ResultStore`;
- ``results/drift/<b[:2]>/<b>-<c>-<t>.json``: ``DriftReport.to_dict()``;
- ``profiles/<id[:2]>/<id>.json``: the profile of a data id (when the pointer
  names no profile object).

Nothing here imports pyarrow, numpy, pandas or great_expectations at module
level; with every result stored none of them is imported at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvx import scm
from dvx._textfile import load_toml
from dvx.errors import (
    CorruptObjectError,
    DataFormatError,
    DataGateError,
    ObjectMissingError,
    PointerError,
    UsageError,
)
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.quality.profile import Profile
    from dvx.quality.results import ResultStore

# Bumped when the stored drift summary changes shape; older files are misses.
DRIFT_FORMAT = 1

PASSED, FAILED, NONE, ERROR = "passed", "failed", "none", "error"
OK, DRIFTED, NEW, UNCHANGED, SKIPPED = "ok", "drifted", "new", "unchanged", "skipped"


@dataclass
class Failure:
    """One failing check: a row of the gate's table."""

    check: str  # validation / drift / pointer / data
    name: str  # expectation type, drift metric, "schema", "row_count"
    column: str | None
    observed: str
    expected: str

    def line(self, dataset: str) -> str:
        col = f" [{self.column}]" if self.column else ""
        return f"{dataset}: {self.check} {self.name}{col}: {self.observed} (expected {self.expected})"


@dataclass
class DatasetGate:
    """The gate's verdict on one dataset version."""

    path: str
    data_id: str | None = None
    baseline_id: str | None = None
    validation: str = NONE  # passed / failed / none (no suite bound) / error
    drift: str = SKIPPED  # ok / drifted / new / unchanged / skipped / error
    suites: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cached: bool = True  # every answer came from the stores

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


@dataclass
class GateResult:
    """The verdict on every dataset checked."""

    datasets: list[DatasetGate] = field(default_factory=list)
    baseline: str | None = None

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.datasets)

    @property
    def failures(self) -> list[str]:
        """Every failing check as one line (what DataGateError carries)."""
        return [f.line(d.path) for d in self.datasets for f in d.failures]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "baseline": self.baseline, "datasets": [d.to_json() for d in self.datasets]}


# Stores ----------------------------------------------------------------------


def result_store(ws: Workspace) -> ResultStore:
    """The validation result store of a workspace."""
    from dvx.quality.results import ResultStore

    return ResultStore(ws.dvx_dir / "cache" / "results" / "validation")


def _drift_path(ws: Workspace, base_id: str, cur_id: str, th_key: str) -> Path:
    return ws.dvx_dir / "cache" / "results" / "drift" / base_id[:2] / f"{base_id}-{cur_id}-{th_key}.json"


def stored_drift(ws: Workspace, base_id: str, cur_id: str, th_key: str | None = None) -> dict[str, Any] | None:
    """The stored drift summary of two data ids under the current thresholds, or None."""
    key = th_key if th_key is not None else Policy.load(ws).thresholds_key
    try:
        d = json.loads(_drift_path(ws, base_id, cur_id, key).read_bytes())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    return d if isinstance(d, dict) and d.get("format") == DRIFT_FORMAT else None


def put_drift(ws: Workspace, base_id: str, cur_id: str, th_key: str, report: dict[str, Any]) -> None:
    from dvx._fsutil import atomic_write

    doc = {"format": DRIFT_FORMAT, **report}
    atomic_write(_drift_path(ws, base_id, cur_id, th_key), json.dumps(doc, allow_nan=False).encode())


def _profile_path(ws: Workspace, data_id: str) -> Path:
    return ws.dvx_dir / "cache" / "profiles" / data_id[:2] / f"{data_id}.json"


def stored_profile(ws: Workspace, p: ptr.Pointer) -> Profile | None:
    """The profile of a pointer's data if one is stored (pointer's profile object or the side store)."""
    from dvx.quality.profile import Profile

    raw: bytes | None = None
    if p.profile:
        from dvx.hashing import from_hex

        oid = from_hex(p.profile)
        if not ws.cache_has(oid):
            _fetch_profile(ws, oid)
        if ws.cache_has(oid):
            try:
                raw = ws.cache.get(oid)
            except Exception:  # a damaged object is only a cache miss here
                raw = None
    if raw is None:
        try:
            raw = _profile_path(ws, p.oid).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
    try:
        return Profile.from_bytes(raw)
    except ValueError:
        return None


def _fetch_profile(ws: Workspace, oid: bytes) -> None:
    """Fetch one PROFILE object from the default remote, if one is configured.

    This is how a baseline at an old revision is compared without its data:
    only the small profile object travels.
    """
    if not ws.config.get("core", "remote"):
        return
    from dvx.errors import DvxError
    from dvx.remote import open_remote
    from dvx.remote.transfer import fetch
    from dvx.store.objects import ObjectType

    try:
        remote = open_remote(ws.config)
        with ws.lock(quiet=True):
            fetch(remote, ws.cache, [(oid, ObjectType.PROFILE)])
    except DvxError:
        return  # unreachable remote: the caller falls back to the data


def profile_rows(ws: Workspace, p: ptr.Pointer) -> int | None:
    """Row count from a stored profile, without importing numpy when the side store has it."""
    try:
        d = json.loads(_profile_path(ws, p.oid).read_bytes())
        return int(d["row_count"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        pass
    prof = stored_profile(ws, p) if p.profile else None
    return prof.row_count if prof is not None else None


def compute_profile(ws: Workspace, rel: str, p: ptr.Pointer) -> Profile:
    """The profile of a pointer's data: stored, or computed (from the workspace
    or a copy materialised from the cache) and stored.

    A computed profile is stored twice: in the side store keyed by the data id
    (cheap row counts for ``log``/``diff``) and as a PROFILE object in the
    cache, whose id the workspace pointer file then names (``profile:``), so
    the profile is pushed with the data and a later baseline at this revision
    is available without its data.
    """
    prof = stored_profile(ws, p)
    if prof is not None:
        if not p.profile:
            attach_profile(ws, rel, p, prof)
        return prof
    from dvx._fsutil import atomic_write
    from dvx.quality.profile import profile_path

    prof = _profile_tree_incrementally(ws, rel, p) if p.kind == "dir" else None
    if prof is None:
        with data_path(ws, rel, p) as path:
            prof = profile_path(path)
    atomic_write(_profile_path(ws, p.oid), prof.to_bytes())
    attach_profile(ws, rel, p, prof)
    return prof


def _profile_tree_incrementally(ws: Workspace, rel: str, p: ptr.Pointer) -> Profile | None:
    """A directory's profile as the merge of its files' profiles, each stored by file id.

    After files are appended to a dataset directory only the new files are
    read: the others' profiles come from the side store (profiles merge:
    counts and moments add, sketches merge). Files are merged in path order,
    as ``profile_path`` does for a directory. None when the tree is not in
    the cache (the caller then reads the data as a whole).
    """
    from dvx._fsutil import atomic_write
    from dvx.hashing import from_hex, to_hex
    from dvx.quality.profile import Profile, profile_path
    from dvx.quality.tables import table_format

    oid = from_hex(p.oid)
    if not ws.cache_has(oid):
        return None
    tree = ws.cache.get_tree_manifest(oid)
    entries = []
    for e in tree.entries:
        name = os.fsdecode(e.path)
        parts = Path(name).parts
        if any(x.startswith((".", "_")) for x in parts) or table_format(parts[-1]) is None:
            continue
        entries.append((Path(name), e))
    if not entries:
        return None
    entries.sort(key=lambda t: t[0])
    in_workspace: bool | None = None
    out: Profile | None = None
    for fname, e in entries:
        fid = to_hex(e.file_oid)
        side = _profile_path(ws, fid)
        part: Profile | None = None
        try:
            part = Profile.from_bytes(side.read_bytes())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            part = None
        if part is None:
            if in_workspace is None:
                in_workspace = _workspace_matches(ws, rel, p)
            if in_workspace:
                part = profile_path(ws.abspath(rel) / fname)
            else:
                fp = ptr.Pointer("file", fid, e.size, 1, 0)
                with data_path(ws, f"{rel}/{fname.as_posix()}", fp) as path:
                    part = profile_path(path)
            atomic_write(side, part.to_bytes())
        out = part if out is None else out.merge(part)
    return out


def attach_profile(ws: Workspace, rel: str, p: ptr.Pointer, prof: Profile) -> str | None:
    """Store ``prof`` as a PROFILE object and name it in the workspace pointer of ``rel``.

    Only when the workspace pointer still names the same data (``p.oid``); if
    that pointer is staged as it was, the updated pointer is staged too, so
    a pre-commit gate commits the profile with the data. Returns the profile
    id, or None when the pointer was left alone.
    """
    from dvx.hashing import from_hex
    from dvx.store.objects import ObjectType

    data = prof.to_bytes()
    oid_hex = prof.oid
    with ws.lock(quiet=True), ws.cache.writer() as w:
        w.put(from_hex(oid_hex), ObjectType.PROFILE, data)
    pp = ptr.pointer_path(rel)
    target = ws.abspath(pp)
    try:
        old_text = target.read_text(encoding="utf-8")
        cur = ptr.parse(old_text, ws.display(pp))
    except (OSError, PointerError, UnicodeDecodeError):
        return None
    if cur.oid != p.oid or cur.profile == oid_hex:
        return None
    from dvx._fsutil import atomic_write

    new = ptr.Pointer(cur.kind, cur.oid, cur.size, cur.files, cur.chunks, oid_hex, cur.extra)
    atomic_write(target, new.dumps(rel).encode("utf-8"))
    staged = scm.read_staged(ws.root, pp)
    if staged is not None and staged.decode("utf-8", "replace") == old_text:
        scm.stage(ws.root, [pp])
    return oid_hex


# Data of a version -----------------------------------------------------------


def _workspace_matches(ws: Workspace, rel: str, p: ptr.Pointer) -> bool:
    """Whether the workspace copy of ``rel`` is the version ``p`` names (stat cache first)."""
    from dvx.hashing import from_hex
    from dvx.workspace.status import workspace_id

    return workspace_id(ws, rel, p.kind, save=True) == from_hex(p.oid)


@contextlib.contextmanager
def data_path(ws: Workspace, rel: str, p: ptr.Pointer) -> Iterator[str]:
    """A local path holding the version ``p`` of ``rel``: the workspace copy when
    it matches, else a temporary copy from the cache (same file name, so the
    table format is still known by extension). ObjectMissingError when the
    cache lacks it."""
    ptr.check_tracked(rel, ptr.pointer_path(rel))  # names from git reach here too (validate --rev)
    if _workspace_matches(ws, rel, p):
        yield str(ws.abspath(rel))
        return
    from dvx.hashing import from_hex

    oid = from_hex(p.oid)
    if not ws.cache_has(oid):
        raise ObjectMissingError(f"{rel}: version {p.oid[:12]} is not in the cache", "run `dvx pull` (or `dvx fetch`) to get it")
    tmp = ws.tmp_dir / f"gate-{p.oid}-{os.getpid()}"
    target = tmp / Path(rel).name
    try:
        cache = ws.cache
        if p.kind == "file":
            _write_manifest(cache, cache.get_file_manifest(oid), target)
        else:
            for e in cache.get_tree_manifest(oid).entries:
                _write_manifest(cache, cache.get_file_manifest(e.file_oid), target / os.fsdecode(e.path))
        yield str(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_manifest(cache: Any, m: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as f:
        for ref in m.chunks:
            data = cache.get(ref.oid)
            if len(data) != ref.size:  # never validate a file of another length than the version's
                raise CorruptObjectError(
                    f"{target.name}: chunk {ref.oid.hex()} is {len(data)} bytes, its manifest says {ref.size}",
                    "the manifest or the chunk was damaged or tampered with",
                )
            f.write(data)


# Policy: suites and thresholds -------------------------------------------------


@dataclass
class Policy:
    """What the gate checks, read once from ``expectations/dvx.toml``."""

    root: Path
    drift_table: dict[str, Any]
    thresholds_key: str

    @classmethod
    def load(cls, ws: Workspace) -> Policy:
        from dvx.hashing import hash_hex

        path = ws.root / "expectations" / "dvx.toml"
        doc = load_toml(path) or {}
        table: dict[str, Any] = doc.get("drift", {}) or {}
        key = hash_hex(json.dumps(table, sort_keys=True, default=str).encode())[:16]
        return cls(ws.root, table, key)

    def suites_for(self, rel: str) -> list[str]:
        from dvx.quality.validate import bound_suites

        return bound_suites(self.root, rel)

    def thresholds(self) -> Any:
        from dvx.quality.drift import thresholds_from_dict

        return thresholds_from_dict(self.drift_table, str(self.root / "expectations" / "dvx.toml"))


def _is_tabular(ws: Workspace, rel: str, p: ptr.Pointer) -> bool:
    """Whether drift applies: a table by extension, or a directory of tables
    (judged on the workspace copy; a folder of images is not profiled)."""
    from dvx.quality.tables import is_tabular, table_format

    if p.kind == "file":
        return table_format(rel) is not None
    ap = ws.abspath(rel)
    return is_tabular(ap) if ap.is_dir() else True


# The checks --------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    s = json.dumps(v, default=str) if isinstance(v, (list, dict)) else str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _expected(r: Any) -> str:
    kw = {k: v for k, v in r.kwargs.items() if k not in ("column", "batch_id", "result_format")}
    return ", ".join(f"{k}={_fmt(v)}" for k, v in kw.items()) or "true"


def _validation_failures(dv: Any) -> list[Failure]:
    out = []
    for r in dv.failed:
        if r.exception:
            observed = f"error: {r.exception}"
        elif r.unexpected_count:
            pct = r.unexpected_percent
            observed = f"{r.unexpected_count} unexpected" + (f" ({pct:.2f}%)" if pct is not None else "")
            if r.examples:
                observed += f" e.g. {_fmt(r.examples[:3])}"
        else:
            observed = _fmt(r.observed_value)
        out.append(Failure("validation", r.expectation_type, r.column, observed, _expected(r)))
    return out


def drift_failures(report: dict[str, Any]) -> list[Failure]:
    """Failing rows of a stored drift summary (``DriftReport.to_dict()``)."""
    out: list[Failure] = []
    schema = report.get("schema", {})
    if schema.get("drifted"):
        for c in schema.get("removed", []):
            out.append(Failure("drift", "schema", c, "column removed", "column present"))
        cols = {c["name"]: c for c in report.get("columns", [])}
        for c in schema.get("retyped", []):
            col = cols.get(c, {})
            out.append(Failure("drift", "schema", c, f"type {col.get('current_type')}", f"type {col.get('baseline_type')}"))
    rc = report.get("row_count", {})
    if rc.get("drifted"):
        rel = rc.get("relative_change")
        out.append(Failure("drift", "row_count", None, f"{rc.get('baseline')} -> {rc.get('current')}"
                           + (f" ({rel:+.1%})" if rel is not None else ""), f"change <= {_fmt(rc.get('threshold'))}"))
    for c in report.get("columns", []):
        if not c.get("drifted"):
            continue
        for m in c.get("metrics", []):
            if m.get("drifted") and m.get("gated"):
                out.append(Failure("drift", m["name"], c["name"], _fmt(m.get("value")), f"<= {_fmt(m.get('threshold'))}"))
    return out


def _validate(ws: Workspace, policy: Policy, store: ResultStore, rel: str, p: ptr.Pointer, g: DatasetGate) -> None:
    from dvx.quality.suite import load_suite
    from dvx.quality.validate import validate_dataset

    files = policy.suites_for(rel)
    if not files:
        g.validation = NONE
        return
    suites = [load_suite(f) for f in files]
    g.suites = [s.name for s in suites]
    hits = all(store.get(p.oid, s.id) is not None for s in suites)
    try:
        if hits:
            dv = validate_dataset(str(ws.abspath(rel)), suites, label=rel, data_id=p.oid, store=store)
        else:
            g.cached = False
            with data_path(ws, rel, p) as path:
                dv = validate_dataset(path, suites, label=rel, data_id=p.oid, store=store)
    except DataFormatError as e:
        g.validation = ERROR
        g.failures.append(Failure("data", "readable", None, e.message, "a readable table"))
        return
    g.validation = PASSED if dv.success else FAILED
    g.failures.extend(_validation_failures(dv))
    g.notes.extend(dv.notes)


def _drift(ws: Workspace, policy: Policy, rel: str, p: ptr.Pointer, base: ptr.Pointer | None, g: DatasetGate) -> None:
    if base is None:
        g.drift = NEW
        return
    g.baseline_id = base.oid
    if base.oid == p.oid:
        g.drift = UNCHANGED
        return
    report = stored_drift(ws, base.oid, p.oid, policy.thresholds_key)
    if report is None:
        if not (_is_tabular(ws, rel, p) and _is_tabular(ws, rel, base)):
            g.drift = SKIPPED
            return
        g.cached = False
        from dvx.quality.drift import compare

        try:
            bprof = compute_profile(ws, rel, base)
        except ObjectMissingError:
            g.drift = SKIPPED
            g.notes.append(f"{rel}: baseline version {base.oid[:12]} is not in the cache: drift not checked (run `dvx pull`)")
            return
        except DataFormatError as e:
            g.drift = SKIPPED
            g.notes.append(f"{rel}: baseline is not a readable table ({e.message}): drift not checked")
            return
        try:
            cprof = compute_profile(ws, rel, p)
        except DataFormatError as e:
            g.drift = ERROR
            if not any(f.check == "data" for f in g.failures):  # validation may have said it already
                g.failures.append(Failure("data", "readable", None, e.message, "a readable table"))
            return
        report = compare(bprof, cprof, policy.thresholds()).to_dict()
        put_drift(ws, base.oid, p.oid, policy.thresholds_key, report)
    fails = drift_failures(report)
    g.drift = DRIFTED if fails else OK
    g.failures.extend(fails)


def gate_version(ws: Workspace, rel: str, text: str | None, source: str, base_text: str | None,
                 policy: Policy | None = None, store: ResultStore | None = None) -> DatasetGate:
    """Gate one version of ``rel``: ``text`` is its pointer file, ``base_text``
    the baseline's (None: no baseline, the dataset is new)."""
    policy = policy or Policy.load(ws)
    store = store or result_store(ws)
    g = DatasetGate(rel)
    if text is None:
        g.failures.append(Failure("pointer", "present", None, f"{source}: no pointer file", "a pointer file"))
        return g
    try:
        p = ptr.parse(text, source)
    except PointerError as e:
        g.validation = g.drift = ERROR
        g.failures.append(Failure("pointer", "parse", None, e.format_message(), "a valid pointer file"))
        return g
    g.data_id = p.oid
    base: ptr.Pointer | None = None
    if base_text is not None:
        try:
            base = ptr.parse(base_text, f"baseline of {rel}")
        except PointerError:
            base = None
            g.notes.append(f"{rel}: the baseline pointer is unreadable: drift not checked")
    _validate(ws, policy, store, rel, p, g)
    _drift(ws, policy, rel, p, base, g)
    return g


# Entry points ------------------------------------------------------------------


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except (FileNotFoundError, IsADirectoryError):
        return None


def run_gate(paths: Sequence[str] | None = None, *, staged: bool = False, rev: str | None = None,
             baseline: str | None = None, cwd: str | None = None) -> GateResult:
    """Run the gate.

    - ``staged``: the datasets whose pointer files are staged (pre-commit), as
      staged; baseline ``HEAD``.
    - ``rev``: the pointers committed at ``rev``; baseline its first parent.
    - otherwise: the workspace pointer files of ``paths`` (all when empty);
      baseline ``HEAD``.

    ``baseline`` overrides the baseline revision.
    """
    ws = Workspace.find(cwd or ".")
    root = ws.root
    if staged:
        rels = [ptr.tracked_path(pp) for pp in scm.staged_pointers(root)]
        if paths:
            wanted = {ws.tracked_rel(p, cwd) for p in paths}
            rels = [r for r in rels if r in wanted]
    elif rev is not None:
        sha = scm.resolve_rev(root, rev)
        if paths:
            rels = [ws.tracked_rel(p, cwd) for p in paths]
        else:
            rels = [ptr.tracked_path(pp) for pp in scm.pointers_at_rev(root, sha)]
    else:
        rels = ws.resolve_tracked(list(paths) if paths else None, cwd)
    for r in rels:  # names from git: the gate writes temporary copies under them
        ptr.check_tracked(r, ptr.pointer_path(r))
    if staged and baseline is None:
        # The hot path of the pre-commit hook: HEAD, each staged pointer and its
        # HEAD version in one `git cat-file --batch`.
        return _gate_staged(ws, rels)
    if baseline is None:
        if rev is not None:
            parent = scm.git(root, "rev-list", "--parents", "-n", "1", sha).decode().split()
            baseline = parent[1] if len(parent) > 1 else None
        else:
            baseline = scm.head_sha(root)
    else:
        baseline = scm.resolve_rev(root, baseline)
    result = GateResult(baseline=baseline)
    if not rels:
        return result
    policy = Policy.load(ws)
    store = result_store(ws)
    for rel in rels:
        pp = ptr.pointer_path(rel)
        if staged:
            raw = scm.read_staged(root, pp)
            text, source = (raw.decode("utf-8", "replace") if raw is not None else None), pp
        elif rev is not None:
            raw = scm.read_at_rev(root, sha, pp)
            text, source = (raw.decode("utf-8", "replace") if raw is not None else None), f"{rev}:{pp}"
        else:
            text, source = _read_text(ws.abspath(pp)), ws.display(pp)
        base_raw = scm.read_at_rev(root, baseline, pp) if baseline else None
        base_text = base_raw.decode("utf-8", "replace") if base_raw is not None else None
        result.datasets.append(gate_version(ws, rel, text, source, base_text, policy, store))
    return result


def _gate_staged(ws: Workspace, rels: list[str]) -> GateResult:
    if not rels:
        return GateResult(baseline=scm.head_sha(ws.root))
    pps = [ptr.pointer_path(rel) for rel in rels]
    specs = ["HEAD"] + [s for pp in pps for s in (f":{pp}", f"HEAD:{pp}")]
    objs = scm.read_objects(ws.root, specs)
    head = objs[0][0] if objs[0] is not None else None
    result = GateResult(baseline=head)
    policy = Policy.load(ws)
    store = result_store(ws)
    for i, (rel, pp) in enumerate(zip(rels, pps, strict=True)):
        cur, base = objs[1 + 2 * i], objs[2 + 2 * i]
        text = cur[1].decode("utf-8", "replace") if cur is not None else None
        base_text = base[1].decode("utf-8", "replace") if base is not None and head else None
        result.datasets.append(gate_version(ws, rel, text, pp, base_text, policy, store))
    return result


def require_valid(path: str | os.PathLike[str], rev: str | None = None, repo: str | os.PathLike[str] = ".") -> GateResult:
    """Raise DataGateError unless the dataset at ``path`` passes its gate.

    ``rev`` None checks the version the workspace pointer names (drift against
    ``HEAD``); a revision checks the version committed there (drift against
    its parent). For training scripts::

        import dvx
        dvx.require_valid("data/train.parquet")      # raises DataGateError

    Returns the GateResult when it passes.
    """
    ws = Workspace.find(repo)
    p = Path(path)
    absolute = p if p.is_absolute() else Path(os.path.abspath(os.path.join(os.fspath(repo), p)))
    result = run_gate([str(absolute)], rev=rev, cwd=str(ws.root))
    if not result.datasets:
        raise UsageError(f"{path}: not tracked by dvx at {rev}", "check the path and revision")
    if not result.ok:
        fails = result.failures
        where = f" at {rev}" if rev else ""
        raise DataGateError(
            f"{os.fspath(path)}{where}: {len(fails)} failing check(s): {fails[0]}" + (" ..." if len(fails) > 1 else ""),
            fails,
            "run `dvx check` for the table",
        )
    return result
