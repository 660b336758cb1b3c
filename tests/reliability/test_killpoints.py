"""Kill points: SIGKILL add, push (folder and moto), gc, checkout, pull and fetch at random moments.

At least 200 kills land in the default run (three campaigns of 58 on a folder
remote and 29 on moto, run side by side under xdist); ``DVX_KILLPOINTS=1000`` is the long mode
(docs/reliability.md). After every kill the rerun must complete, the data
must match its version byte for byte, every cached object must verify, and
no temp file may be left in the work tree; every committed version must
pull byte-identical into a fresh clone at the end. See killpoints.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from killpoints import Campaign, points_wanted, report

# Three campaigns on a folder remote and one on moto, which takes half as
# many points (an S3 round costs ~2-3x a folder round); xdist runs them side by side.
CAMPAIGNS = [("folder", 1, 1.0), ("folder", 2, 1.0), ("folder", 3, 1.0), ("s3", 1, 0.5)]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the long mode runs for many minutes; the default run takes 1-2 (per campaign)
@pytest.mark.parametrize(("remote", "seed", "share"), CAMPAIGNS, ids=[f"{r}-{s}" for r, s, _ in CAMPAIGNS])
def test_kill_points(tmp_path: Path, request: pytest.FixtureRequest, remote: str, seed: int, share: float) -> None:
    points = math.ceil(points_wanted() * share / sum(c[2] for c in CAMPAIGNS))
    if remote == "s3":
        bucket = request.getfixturevalue("s3_bucket")()
        c = Campaign(tmp_path, bucket.url, seed, endpoint=bucket.endpoint)
    else:
        c = Campaign(tmp_path, str(tmp_path / "remote"), seed)
    s = c.run(points)
    report(s)
    print(s.to_json())
    assert s.points >= points
    assert s.versions_checked >= s.versions  # the final check pulled every committed version
    assert set(s.killed) == {"add", "push", "gc", "checkout", "pull", "fetch"}
