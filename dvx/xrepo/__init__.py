"""Across repositories: ``list``, ``get``, ``import`` and ``update`` of another dvx repository's data.

- ``source``: a bare temporary clone of a git URL at one commit (``SourceRepo``), its pointers
  and its default remote, read from git objects and checked (hostile until then);
- ``select``: what a path of the source names (a tracked file or directory, or a part of
  one) and its objects fetched from the source's remote into a store (``Selection``, ``Fetcher``);
- ``listing``, ``get``, ``imports``: the verbs, each returning a result dataclass.

Nothing is ever written to the source repository or to its remote (docs/imports.md).
"""

from dvx.xrepo.get import GetResult, get
from dvx.xrepo.imports import ImportedPath, ImportResult, UpdateCheck, check_updates, import_path, update
from dvx.xrepo.listing import ListEntry, ListResult, list_repo

__all__ = [
    "GetResult",
    "ImportResult",
    "ImportedPath",
    "ListEntry",
    "ListResult",
    "UpdateCheck",
    "check_updates",
    "get",
    "import_path",
    "list_repo",
    "update",
]
