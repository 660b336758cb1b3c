"""``dvx doctor``: what a bug report needs and a new user wants to know, gathered in one look.

Versions (dvx, Python, git, the key packages read from their metadata, never
imported), the platform, the configuration files in effect, the remotes and
whether each answers, the git hooks and merge driver, the cache. Reads only:
nothing is written, and a remote gets one listing of its root with a short
timeout.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from dvx import __version__, scm
from dvx.config import SCOPES, Config
from dvx.errors import DvxError, NotARepoError

# The packages whose versions explain most behaviour differences (distribution names).
PACKAGES = ("click", "xxhash", "zstandard", "tomlkit", "pyarrow", "numpy", "pandas", "fsspec", "s3fs", "botocore",
            "great-expectations", "pandera", "gitpython")
PROBE_TIMEOUT = 5.0  # seconds a remote gets to answer one listing


@dataclass
class RemoteCheck:
    """One remote: reachable is None when it could not even be opened (``detail`` says why)."""

    name: str
    url: str
    default: bool
    reachable: bool | None
    detail: str


@dataclass
class DoctorResult:
    """Everything ``dvx doctor`` shows."""

    dvx: str
    python: str
    platform: str
    git: str | None
    packages: dict[str, str | None]
    config_files: list[dict[str, Any]]
    repository: str | None = None
    cache: dict[str, Any] | None = None
    remotes: list[RemoteCheck] = field(default_factory=list)
    hooks_dir: str | None = None
    hooks: dict[str, bool] = field(default_factory=dict)
    merge_driver: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _cache_usage(path: str) -> dict[str, Any]:
    """Bytes under the cache folder and the number of pack files (one walk, no file read)."""
    size = packs = 0
    for dirpath, _dirs, files in os.walk(path):
        in_packs = os.path.relpath(dirpath, path).split(os.sep)[0] == "packs"
        for f in files:
            try:
                size += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                continue
            packs += in_packs
    return {"path": path, "bytes": size, "packs": packs}


def _probe(name: str, cfg: Config, timeout: float) -> RemoteCheck:
    """Open remote ``name`` and list its root within ``timeout`` seconds (a folder: exists and writable)."""
    from dvx.remote.config import get_remote
    from dvx.remote.session import open_url

    spec = get_remote(cfg, name)
    check = RemoteCheck(spec.name, spec.url, spec.default, None, "")
    # Fail fast: one try, short timeouts (the remote's own settings win when it has them).
    opts = {"connect_timeout": int(timeout), "read_timeout": int(timeout), "retries": 0, **spec.options}
    try:
        rem = open_url(spec.url, opts, name=spec.name, base_dir=cfg.dir.parent if cfg.dir else None)
    except DvxError as e:
        check.detail = e.message
        return check
    if type(rem.fs).__module__.startswith("fsspec.implementations.local"):
        root = rem.root
        probe = root if os.path.exists(root) else os.path.dirname(root)
        check.reachable = os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)
        check.detail = ("folder, writable" if root == probe else "folder not made yet; its parent is writable") \
            if check.reachable else f"{probe}: not a writable folder"
        return check
    box: dict[str, Any] = {}

    def run() -> None:
        from dvx.remote.errors import describe_error

        try:
            box["exists"] = bool(rem.fs.exists(rem.root))
        except Exception as e:  # any failure of the filesystem is the answer
            box["error"] = describe_error(rem, e).message

    t = threading.Thread(target=run, name="dvx-doctor-probe", daemon=True)
    t.start()
    t.join(timeout * 2)
    if t.is_alive():
        check.reachable, check.detail = False, f"no answer within {timeout * 2:.0f} s"
    elif "error" in box:
        check.reachable, check.detail = False, box["error"]
    else:
        check.reachable = True
        check.detail = "answers; store root exists" if box["exists"] else "answers; nothing pushed yet"
    return check


def doctor(cwd: str | None = None, probe: bool = True, timeout: float = PROBE_TIMEOUT) -> DoctorResult:
    """What dvx sees from ``cwd``: versions, config files, remotes (probed unless ``probe`` is False), hooks, cache."""
    from dvx.workspace import Workspace

    r = DoctorResult(__version__, f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
                     platform.platform(), scm.git_version(), _versions(), [])
    try:
        ws: Workspace | None = Workspace.find(cwd or ".")
    except NotARepoError as e:
        ws = None
        r.problems.append(e.message)
    try:
        cfg = ws.config if ws is not None else Config(None)
    except DvxError as e:  # a broken file is the most useful thing doctor can say
        r.problems.append(e.message)
        return r
    for scope in SCOPES:
        f = cfg.files.get(scope)
        if f is not None:
            r.config_files.append({"scope": scope, "path": str(f.path), "exists": f.exists})
    if ws is None:
        return r
    r.repository = str(ws.root)
    r.cache = _cache_usage(str(ws.cache_dir))
    from dvx.remote.config import list_remotes

    try:
        names = [s.name for s in list_remotes(cfg)]
    except DvxError as e:
        names = []
        r.problems.append(e.message)
    for name in names:
        if probe:
            c = _probe(name, cfg, timeout)
        else:
            from dvx.remote.config import get_remote

            spec = get_remote(cfg, name)
            c = RemoteCheck(name, spec.url, spec.default, None, "not checked")
        r.remotes.append(c)
        if probe and not c.reachable:
            r.problems.append(c.detail if c.detail.startswith("remote ") else f"remote {name!r}: {c.detail}")
    try:
        r.hooks_dir = str(scm.hooks_dir(ws.root))
        present = set(scm.installed_hooks(ws.root))
        r.hooks = {n: n in present for n in scm.HOOK_NAMES}
        r.merge_driver = scm.config_value(ws.root, "merge.dvx.driver")
    except DvxError as e:
        r.problems.append(e.message)
    missing = [n for n, ok in r.hooks.items() if not ok]
    if missing:
        r.problems.append(f"git hooks not installed: {', '.join(missing)} (dvx hooks install)")
    return r
