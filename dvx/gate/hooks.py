"""What the dvx git hooks do: pre-commit gates the staged datasets, pre-push
uploads the data of the commits being pushed, post-checkout and post-merge
bring the data files in line with the pointer files (fetching what the cache
lacks from the default remote when ``hooks.fetch = true``).

``run_hook`` returns what to say and the exit code; ``dvx hook-run`` (the
command the installed hook programs execute) prints it. The follower hooks
never fail the git command: problems become warnings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dvx import scm
from dvx.errors import DvxError, NotARepoError, ObjectMissingError, UsageError
from dvx.gate.result import GateResult

if TYPE_CHECKING:
    from dvx.workspace import Workspace

Ref = tuple[str, str, str, str]  # local ref, local sha, remote ref, remote sha (pre-push's stdin)


@dataclass(frozen=True)
class Pushed:
    """What pre-push uploaded."""

    objects: int
    raw_bytes: int
    commits: int
    present: int


@dataclass
class HookOutcome:
    """What a hook says on stderr and its exit code.

    ``gate``: the verdict of a refused commit (shown before ``lines``);
    ``pushed``: what pre-push uploaded (shown after them).
    """

    code: int = 0
    lines: list[str] = field(default_factory=list)
    gate: GateResult | None = None
    pushed: Pushed | None = None


def pre_commit() -> HookOutcome:
    """The gate on the staged datasets, and on those bound to staged changes of
    ``expectations/`` (suites, bindings, thresholds: :mod:`dvx.gate.staged`);
    exit 1 refuses the commit."""
    from dvx.gate.render import accepted_lines, refusal
    from dvx.gate.run import run_gate
    result = run_gate(staged=True)
    # dataset notes too: a drift that could not be checked (baseline not in the cache) must not pass unsaid
    notes = [f"note: dvx: {n}" for n in [*(n for d in result.datasets for n in d.notes), *result.notes]]
    if result.ok:
        _name_profiles(result)
        return HookOutcome(lines=[*accepted_lines(result), *notes])
    drift_only = [d.path for d in result.datasets if d.failures and all(f.check == "drift" for f in d.failures)]
    accept = (f"if the drift is intended, `dvx accept {drift_only[0]} -m REASON` and "
              "`git add expectations/accepted.toml`; " if drift_only else "")
    return HookOutcome(1, [*accepted_lines(result), *notes, "", f"dvx: commit refused: {refusal(result)}",
                           f"hint: fix the data or the suites (expectations/); {accept}"
                           "or bypass once with `git commit --no-verify`"],
                       result)


def _name_profiles(result: GateResult) -> None:
    """The one place a check writes a pointer file: a passing pre-commit names each
    staged dataset's stored profile (``profile:``) and restages the pointer, so
    the commit carries it. ``dvx check``, ``validate``, ``stats`` and ``drift`` never do."""
    from dvx.gate.profiles import name_stored_profile
    from dvx.workspace import Workspace

    if not result.datasets:
        return
    ws = Workspace.find(".")
    for d in result.datasets:
        if d.data_id and d.because is None:  # a dataset re-checked for a suite change: its pointer is not in this commit's changes
            name_stored_profile(ws, d.path, d.data_id)


def push_refs(stdin: str, env: Mapping[str, str]) -> list[Ref]:
    """The refs being pushed: pre-push's stdin lines, or the pre-commit framework's ``PRE_COMMIT_*`` variables."""
    refs: list[Ref] = []
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) == 4:
            refs.append((parts[0], parts[1], parts[2], parts[3]))
    local = env.get("PRE_COMMIT_LOCAL_BRANCH", "")
    to = env.get("PRE_COMMIT_TO_REF", "")
    if not refs and (to or local):
        # The framework leaves out the from/to refs when the whole history is new.
        if not to:
            to = scm.try_resolve(".", local) or ""
        frm = env.get("PRE_COMMIT_FROM_REF", "")
        if to:
            refs.append((local, to, env.get("PRE_COMMIT_REMOTE_BRANCH", ""), frm if frm and frm != to else scm.ZERO_SHA))
    return refs


def pre_push(args: tuple[str, ...], stdin: str, env: Mapping[str, str]) -> HookOutcome:
    """Push the data named by the commits being pushed; exit 1 refuses the git push when that fails."""
    from dvx import repo
    from dvx.workspace import Workspace

    remote = args[0] if args else env.get("PRE_COMMIT_REMOTE_NAME", "")
    ws = Workspace.find(".")
    commits = scm.commits_to_push(ws.root, remote, push_refs(stdin, env))
    if not commits:
        return HookOutcome()
    try:
        r = repo.push(revs=commits, cwd=str(ws.root))
    except DvxError as e:
        return HookOutcome(1, [
            f"error: {e.format_message()}",
            f"dvx: git push refused: the data named by {len(commits)} commit(s) is not on the dvx remote, "
            "and git must not publish pointers without their data",
            "hint: fix the dvx remote (`dvx remote list`, `dvx push`), or bypass once with `git push --no-verify`"])
    return HookOutcome(lines=[f"warning: dvx: skipped pointer {s}" for s in r.skipped],
                       pushed=Pushed(r.objects, r.raw_bytes, len(commits), r.present))


def follow_checkout(rels: list[str] | None) -> HookOutcome:
    """``dvx checkout`` of ``rels`` (all when None); never fails: warnings name what is missing."""
    from dvx.workspace import Workspace
    from dvx.workspace import pointer as ptr

    ws = Workspace.find(".")
    if rels is None:
        rels = [ptr.tracked_path(pp) for pp in ws.find_pointers()]
    out = HookOutcome()
    # the pointers gone in this commit are skipped: their data files stay (git-ignored)
    present = [rel for rel in rels if os.path.exists(ws.abspath(ptr.pointer_path(rel)))]
    missing, restored = _checkout_each(ws, present, out)
    if missing and ws.config.get("hooks", "fetch", False):
        missing, fetched = _fetch_missing(ws, missing, out)
        restored += fetched
    if restored:
        out.lines.append(f"dvx: updated {restored} data file(s) to match the pointer files")
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        out.lines.append(f"warning: dvx: data not in the cache for {shown}; run `dvx pull` to get it")
    return out


def _fetch_missing(ws: Workspace, rels: list[str], out: HookOutcome) -> tuple[list[str], int]:
    """``hooks.fetch = true``: fetch what ``rels`` lack from the default remote, as git-lfs does after a
    checkout, then check them out. (Still missing, files updated); a failed fetch is one warning."""
    from dvx import repo

    try:
        f = repo.fetch(rels, cwd=str(ws.root))
    except DvxError as e:
        out.lines.append(f"warning: dvx: hooks.fetch: {e.format_message()}")
        return rels, 0
    out.lines.append(f"dvx: fetched {f.objects} objects for {len(rels)} path(s) (hooks.fetch)")
    return _checkout_each(ws, rels, out)


def _checkout_each(ws: Workspace, rels: list[str], out: HookOutcome) -> tuple[list[str], int]:
    """``dvx checkout`` of each of ``rels``: (those whose data the cache lacks, files updated); other
    errors become warnings (a hook that follows a checkout never fails)."""
    from dvx import repo

    missing: list[str] = []
    updated = 0
    for rel in rels:
        try:
            r = repo.checkout([rel], cwd=str(ws.root))
            updated += len(r.restored) + len(r.removed)
        except ObjectMissingError:
            missing.append(rel)
        except DvxError as e:
            out.lines.append(f"warning: dvx: {e.format_message()}")
    return missing, updated


def post_checkout(args: tuple[str, ...]) -> HookOutcome:
    """After a branch checkout: follow the pointers that changed between the two commits."""
    from dvx.workspace import pointer as ptr

    prev, new, flag = (list(args) + ["", "", ""])[:3]
    rels: list[str] | None = None
    if flag == "1" and prev and prev != scm.ZERO_SHA:
        root = Path.cwd()  # the project's folder (_project_roots): git lists its pointers relative to it
        rels = [ptr.tracked_path(p) for p in scm.changed_pointers(root, prev, new)]
        if not rels:
            return HookOutcome()
    return follow_checkout(rels)


def post_merge(_args: tuple[str, ...]) -> HookOutcome:
    """After a merge: follow the pointers the merge changed (all when that cannot be told)."""
    from dvx.workspace import pointer as ptr

    root = Path.cwd()
    try:
        rels: list[str] | None = [ptr.tracked_path(p) for p in scm.changed_pointers(root, "ORIG_HEAD", "HEAD")]
    except DvxError:
        rels = None
    if rels == []:
        return HookOutcome()
    return follow_checkout(rels)


def run_hook(name: str, args: tuple[str, ...], stdin: str = "", env: Mapping[str, str] | None = None) -> HookOutcome:
    """The dvx part of git hook ``name``. UsageError for an unknown hook; a failed
    pre-commit/pre-push raises or returns code 1, the followers only warn."""
    if name not in scm.HOOK_NAMES:
        raise UsageError(f"hook-run {name}: unknown hook (one of {', '.join(scm.HOOK_NAMES)})")
    env = os.environ if env is None else env
    try:
        roots = _project_roots()
    except NotARepoError:
        return HookOutcome()  # hooks in a repository where dvx is not initialised have nothing to do
    if len(roots) == 1 and roots[0] == os.getcwd():
        return _run_one(name, args, stdin, env)
    outcomes: list[HookOutcome] = []
    here = os.getcwd()
    try:
        for root in roots:
            os.chdir(root)
            outcomes.append(_run_one(name, args, stdin, env))
    finally:
        os.chdir(here)
    return _combined(outcomes)


def _run_one(name: str, args: tuple[str, ...], stdin: str, env: Mapping[str, str]) -> HookOutcome:
    """Hook ``name`` for the project whose folder is the current directory."""
    try:
        if name == "pre-commit":
            return pre_commit()
        if name == "pre-push":
            return pre_push(args, stdin, env)
        if name == "post-checkout":
            return post_checkout(args)
        return post_merge(args)
    except NotARepoError:
        return HookOutcome()
    except DvxError as e:
        if name not in ("post-checkout", "post-merge"):
            raise
        # post-checkout/post-merge never fail the git command: one warning line.
        return HookOutcome(0, [f"warning: dvx: {e.format_message()}"])


def _project_roots() -> list[str]:
    """The dvx projects a hook (run at the top of the work tree) serves: the one enclosing the current
    directory, else every project in a subfolder (``dvx init --subdir``: a monorepo may hold several);
    NotARepoError when there is none."""
    from dvx.workspace import Workspace

    try:
        return [str(Workspace.find(".").root)]
    except NotARepoError:
        top = scm.toplevel(".")
    roots = [str(top / Path(p).parent.parent) for p in scm.project_configs(top)]
    roots = [r for r in roots if os.path.isfile(os.path.join(r, ".dvx", "config"))]
    if not roots:
        raise NotARepoError(f"{top}: no dvx project")
    return roots


def _combined(outcomes: list[HookOutcome]) -> HookOutcome:
    """One outcome for several projects: the worst exit code, every line, the first refusal's gate."""
    out = HookOutcome(max((o.code for o in outcomes), default=0))
    for o in outcomes:
        out.lines.extend(o.lines)
        out.gate = out.gate or o.gate
        if o.pushed is not None:
            p = out.pushed
            out.pushed = o.pushed if p is None else Pushed(p.objects + o.pushed.objects, p.raw_bytes + o.pushed.raw_bytes,
                                                           max(p.commits, o.pushed.commits), p.present + o.pushed.present)
    return out
