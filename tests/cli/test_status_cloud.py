"""``dvx status --cloud``: which tracked paths the remote still lacks."""

from __future__ import annotations

import json
from pathlib import Path

from dvxtest import make_dvx_repo, run_dvx


def test_status_cloud_names_what_is_not_pushed(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    run_dvx(repo, "remote", "add", "-d", "store", str(tmp_path / "store"))
    (repo / "a.bin").write_bytes(b"a" * 5000)
    (repo / "b.bin").write_bytes(b"b" * 7000)
    run_dvx(repo, "add", "a.bin", "b.bin")
    run_dvx(repo, "push", "a.bin")
    out = run_dvx(repo, "status", "--cloud").stdout.splitlines()
    assert len(out) == 1 and out[0].startswith("not pushed (") and out[0].endswith("b.bin"), out
    st = json.loads(run_dvx(repo, "status", "--cloud", "--json").stdout)
    assert st["clean"] is False and st["remote"] == "store"
    rows = {r["path"]: r for r in st["paths"]}
    assert rows["a.bin"]["pushed"] is True and rows["a.bin"]["missing_objects"] == 0
    assert rows["b.bin"]["pushed"] is False and rows["b.bin"]["missing_objects"] > 0
    assert rows["b.bin"]["problems"] == ["not pushed"] and rows["b.bin"]["state"] is None
    # scripts: not pushed is a change with --exit-code or -q, nothing printed with -q
    assert run_dvx(repo, "status", "-c", "--exit-code", check=False).returncode == 1
    cp = run_dvx(repo, "status", "-c", "-q", check=False)
    assert (cp.returncode, cp.stdout) == (1, "")
    run_dvx(repo, "push", "-r", "store")
    assert run_dvx(repo, "status", "-c", "--exit-code").stdout.strip() == "2 tracked paths, all on the remote"
    assert json.loads(run_dvx(repo, "status", "-c", "--json", "-q").stdout)["clean"] is True
