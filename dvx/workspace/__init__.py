"""The workspace: pointer files and the files they describe, on local disk.

``Workspace`` is the object every verb takes: the repository root, its
``.dvx`` directory, configuration, stat cache and local object cache. Verbs
live in their own modules (``add``, ``checkout``, ``status``, ``ls``), each
with one public function returning a result dataclass.

This package imports the store, never the remote, git or the CLI.
"""

from dvx.workspace.core import DVX_DIR, Workspace, find_git_root, init_workspace

__all__ = ["DVX_DIR", "Workspace", "find_git_root", "init_workspace"]
