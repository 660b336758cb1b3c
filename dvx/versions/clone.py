"""Which work tree a ``repo`` argument names: a local folder, or a temporary clone of a git URL
or bare repository made once per process (as dvc.api does) and removed at exit."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from dvx import scm
from dvx.workspace import Workspace

_lock = threading.Lock()
_clones: dict[str, Path] = {}
_dirs: list[str] = []
_atexit_done: list[bool] = []
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[\w.-]+@[\w.-]+:")


def cleanup_clones() -> None:
    """Remove the temporary clones of this process (run at exit)."""
    with _lock:
        for d in _dirs:
            shutil.rmtree(d, ignore_errors=True)
        _dirs.clear()
        _clones.clear()


def _is_bare(path: str) -> bool:
    p = Path(path)
    return p.is_dir() and not (p / ".git").exists() and (p / "HEAD").is_file() and (p / "objects").is_dir()


def _clone(url: str) -> Path:
    """A clone of ``url`` in a temporary directory, made once per process."""
    with _lock:
        hit = _clones.get(url)
        if hit is not None:
            return hit
        if not _atexit_done:
            atexit.register(cleanup_clones)
            _atexit_done.append(True)
        base = tempfile.mkdtemp(prefix="dvx-clone-")
        _dirs.append(base)
        dest = os.path.join(base, "repo")
        scm.clone(url, dest)
        _clones[url] = Path(dest)
        return _clones[url]


def refresh_clone(repo: str | os.PathLike[str]) -> bool:
    """Fetch what the source of this process's clone of ``repo`` gained since (a long-lived
    process, such as a Dask worker, is asked for a commit pushed after it cloned); False
    when ``repo`` is not a clone here or the fetch failed."""
    s = os.fspath(repo)
    with _lock:
        root = _clones.get(s)
        return root is not None and scm.fetch_origin(root)


def is_url(repo: str | os.PathLike[str]) -> bool:
    """Whether ``repo`` is a git URL (``scheme://...`` or ``user@host:path``), not a local folder."""
    return bool(_URL.match(os.fspath(repo)))


def repo_root(repo: str | os.PathLike[str] = ".") -> Path:
    """The work tree of ``repo``: a local path (any folder inside it), or a clone of a git URL or bare repository."""
    s = os.fspath(repo)
    if is_url(s) or _is_bare(s):
        return _clone(s)
    return Workspace.find(s).root
