"""Rules of docs/architecture.md that import-linter cannot check."""

from __future__ import annotations

import ast
from pathlib import Path

import dvx

PACKAGE = Path(dvx.__file__).parent
MAX_LINES = 400  # issue 11: modules of one job; past this a module holds two


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_over_the_size_limit() -> None:
    big = {str(p.relative_to(PACKAGE)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert big == {}


def test_only_scm_runs_git() -> None:
    """subprocess is imported only by dvx.scm (and the demo driver, which runs dvx and git as a user does)."""
    allowed = {PACKAGE / "scm" / "git.py", PACKAGE / "_demo.py"}
    users = []
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "subprocess" or n.startswith("subprocess.") for n in names) and p not in allowed:
                users.append(str(p.relative_to(PACKAGE)))
    assert users == []
