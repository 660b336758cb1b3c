"""Fixtures for the git-integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookkit import make_drepo


@pytest.fixture
def drepo(tmp_path: Path) -> Path:
    """A git repo with `dvx init` (hooks installed), a suite bound to
    data/train.csv and a first valid commit of it."""
    return make_drepo(tmp_path / "repo")
