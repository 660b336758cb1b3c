from __future__ import annotations

from pathlib import Path

import pytest
from dvxtest import make_dvx_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with dvx initialised."""
    return make_dvx_repo(tmp_path / "repo")
