"""Versioned reads: ``(repo, path, rev)`` -> what is there, and its bytes, without a checkout.

``open_view(repo, rev, remote)`` gives a :class:`RepoView`: one repository at
one revision. ``rev=None`` is the workspace (pointer files in the work tree);
any other revision is read from git (``git ls-tree`` once, pointer files in
one ``git cat-file --batch``) without touching the work tree. A view resolves
paths to :class:`Node` s and reads byte ranges of them.

Reads of tracked data go through the local cache's verified reads
(``ObjectStore.get_many``): a range maps to the chunks covering it; chunks
the cache lacks are fetched from the remote first and written to the cache
for reuse. A tracked path whose workspace copy is unchanged (per ``status``)
is read from the workspace file directly.

Modules: ``registry`` (open_view), ``clone`` (repo_root), ``view`` (RepoView),
``pointers`` (pointers at a revision), ``tree`` (directory listings),
``local`` (unchanged workspace copies), ``fill`` (remote fills),
``filedata`` (chunked ranged reads), ``files`` (VersionedFile), ``arrowfs``
(the pyarrow filesystem ``dvx.api`` and ``dvx.fs`` use for datasets).
"""

from dvx.versions.arrowfs import arrow_filesystem, release_arrow
from dvx.versions.clone import cleanup_clones, repo_root
from dvx.versions.files import VersionedFile
from dvx.versions.node import DIRECTORY, FILE, Node, ReadStats
from dvx.versions.registry import open_view
from dvx.versions.view import RepoView

__all__ = [
    "DIRECTORY",
    "FILE",
    "Node",
    "ReadStats",
    "RepoView",
    "VersionedFile",
    "arrow_filesystem",
    "cleanup_clones",
    "open_view",
    "release_arrow",
    "repo_root",
]
