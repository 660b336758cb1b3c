"""What Dask workers read: a version named by a git URL and a commit, its data on the remote.

Workers share nothing with the client but the git URL of the repository and
the remote its committed ``.dvx/config`` names. So the client sends
:class:`WorkerSource` (URL, commit sha, tracked path, data id, remote name:
no local paths, no credentials) and refuses, before any task runs, a version
workers could not read:

- the version measured must be committed (the file on disk or the staged
  version equal to the one committed at ``HEAD``, or a ``--rev``);
- the commit must be on the git URL (checked against ``origin``'s
  remote-tracking branches when the URL is ``origin``'s);
- its data must be on the remote (its manifest there: ``dvx push`` writes a
  manifest after everything it names).

The git URL is ``--repo-url`` / ``[compute] repo_url`` when set, else the
URL of the repository's ``origin`` remote (a local path made absolute).
Workers take their remote credentials from their own environment or the
remote's profile; nothing secret travels in a task.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dvx import scm
from dvx.cluster.runner import scheduler_address
from dvx.config import Config
from dvx.errors import ClusterError, ConfigError, DvxError
from dvx.versions.clone import is_url
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from dvx.quality.sources import TableSource

REPO_URL_ENV = "DVX_REPO_URL"


@dataclass(frozen=True)
class Compute:
    """Where data-heavy work runs: the scheduler, and the git URL workers clone (None: ``origin``'s)."""

    scheduler: str
    repo_url: str | None = None
    remote: str | None = None  # the dvx remote workers read (None: the default of the committed config)


def compute_settings(scheduler: str | None, repo_url: str | None, cfg: Config | None) -> Compute | None:
    """The cluster the options and config name (``--scheduler``, ``DVX_SCHEDULER``,
    ``[compute] scheduler``; ``--repo-url``, ``DVX_REPO_URL``, ``[compute] repo_url``);
    None: run in this process."""
    address = scheduler_address(scheduler, cfg)
    if address is None:
        return None
    url = repo_url or os.environ.get(REPO_URL_ENV) or (cfg.get("compute", "repo_url") if cfg is not None else None)
    return Compute(address, url.strip() if isinstance(url, str) and url.strip() else None)


@dataclass(frozen=True)
class WorkerSource:
    """One version as a worker opens it: picklable, no client paths, no credentials."""

    repo_url: str
    sha: str
    rel: str
    data_id: str
    remote: str | None = None

    @contextlib.contextmanager
    def open(self) -> Iterator[TableSource]:
        """The version as a table source on this worker (the URL cloned once per process;
        chunks fetched from the remote as reads need them)."""
        from dvx import versions
        from dvx.quality.sources import TableSource

        view = versions.open_view(self.repo_url, self.sha, self.remote)
        node = view.resolve(self.rel)
        if node.oid is None or node.oid.hex() != self.data_id:
            raise DvxError(f"{self.rel}: {view.label} of {self.repo_url} names version "
                           f"{node.oid.hex()[:12] if node.oid else 'none'}, not {self.data_id[:12]}")
        fs = versions.arrow_filesystem(view)
        try:
            yield TableSource(fs, self.rel, view.describe(self.rel))
        finally:
            # No Arrow read-ahead may outlive the task (see dvx.versions.arrowfs).
            versions.release_arrow(fs)


def git_url(ws: Workspace, compute: Compute) -> tuple[str, bool]:
    """The git URL workers clone, and whether it is ``origin``'s (which the client can check)."""
    if compute.repo_url:
        return compute.repo_url, False
    url = origin_url(ws)
    if url is None:
        raise ConfigError(f"{ws.root}: no git URL for the Dask workers: the repository has no `origin` remote",
                          "set one with `dvx config compute.repo_url URL` (or pass --repo-url URL)")
    return url, True


def origin_url(ws: Workspace) -> str | None:
    """The URL of the ``origin`` remote (a local path made absolute), or None."""
    url = scm.config_value(ws.root, "remote.origin.url")
    if url and not is_url(url):  # a local path: relative to the work tree, absolute for the workers
        url = os.path.normpath(os.path.join(ws.root, url))
    return url or None


def dask_location(repo: str | os.PathLike[str], rev: str | None, repo_url: str | None) -> tuple[str, str]:
    """(git URL or path, commit sha) Dask workers read ``repo`` at ``rev`` by (``dvx.to_dask``).

    A git URL or bare repository is read as given, ``rev=None`` at its ``HEAD``. A
    work tree: ``repo_url`` if given, else its ``origin`` URL, else its own absolute
    path (workers on this machine only, such as a ``LocalCluster``); ``rev=None`` is
    the commit at ``HEAD``: workers never see uncommitted changes. The revision is
    resolved here, once, so every worker reads the same commit.
    """
    from dvx import versions

    s = os.fspath(repo)
    if is_url(s) or not (Path(s) / ".git").exists() and (Path(s) / "objects").is_dir():
        given = s if is_url(s) else os.path.abspath(s)
        return given, versions.open_view(given, rev or "HEAD").sha or ""
    ws = Workspace.find(s)
    sha = scm.resolve_rev(ws.root, rev or "HEAD")
    url = repo_url or origin_url(ws)
    if url is None:
        return str(ws.root), sha
    if repo_url is None and not scm.on_remote_branches(ws.root, sha, "origin"):
        raise ClusterError(f"{s}: commit {sha[:12]} is not on origin ({url}), which the Dask workers clone",
                           "run `git push`")
    return url, sha


def worker_source(ws: Workspace, rel: str, p: ptr.Pointer, rev: str | None, compute: Compute) -> WorkerSource:
    """The version ``p`` of ``rel`` (``rev``: the commit holding it; None: the workspace or the
    index) as workers read it; ClusterError when they could not (see the module docstring)."""
    if rev is not None:
        sha = scm.resolve_rev(ws.root, rev)
    else:
        head = scm.head_sha(ws.root)
        pp = ptr.pointer_path(rel)
        raw = scm.read_blobs_at(ws.root, head, [pp])[pp] if head else None
        committed = ptr.loads_at({pp: raw}, "HEAD")[pp] if raw is not None else None
        if head is None or committed is None or committed.oid != p.oid:
            raise ClusterError(f"{rel}: version {p.oid[:12]} is not committed, and Dask workers read committed "
                               "versions only", f"record it with `dvx add {rel}`, `git commit -am MESSAGE`, "
                               "`git push` and `dvx push` (or run without --scheduler)")
        sha = head
    url, from_origin = git_url(ws, compute)
    if from_origin and not scm.on_remote_branches(ws.root, sha, "origin"):
        raise ClusterError(f"{rel}: commit {sha[:12]} is not on origin ({url}), which the Dask workers clone",
                           "run `git push`")
    _check_pushed(ws, rel, p, rev, compute.remote)
    return WorkerSource(url, sha, rel, p.oid, compute.remote)


def _check_pushed(ws: Workspace, rel: str, p: ptr.Pointer, rev: str | None, remote: str | None) -> None:
    """ClusterError unless the remote holds the version's manifest (and so all it names)."""
    from dvx.hashing import from_hex
    from dvx.remote import open_remote
    from dvx.remote.status import remote_lacks

    rem = open_remote(ws.config, remote)
    if remote_lacks(ws.cache, rem, [from_hex(p.oid)]):
        push = f"dvx push --rev {rev}" if rev else "dvx push"
        raise ClusterError(f"{rel}: version {p.oid[:12]} is not on the remote {rem.name}, which the Dask workers read",
                           f"run `{push}`")
