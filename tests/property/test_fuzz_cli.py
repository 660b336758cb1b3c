"""CLI-level fuzz (issue 10): mutated pointer files and configs through ``dvx status``,
``dvx diff`` and ``dvx pull`` as real processes. Whatever the input: no traceback, only
``error:``/``warning:`` lines on stderr, and exit 2 whenever the input does not parse.

Few examples (each runs three processes); ``DVX_FUZZ_EXAMPLES`` scales them too.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from dvxtest import git, make_dvx_repo, run_dvx
from fuzzkit import EXAMPLES, fuzz_settings, mutations
from hypothesis import given
from hypothesis import strategies as st

from dvx.config import Config
from dvx.errors import ConfigError, PointerError
from dvx.workspace import pointer as ptr

pytestmark = [pytest.mark.property, pytest.mark.timeout(300 + 20 * EXAMPLES // 30)]

_SCALE = max(4, EXAMPLES // 30) / EXAMPLES  # 4 examples at the default


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed repository with a file and a folder pushed to a folder remote."""
    top = tmp_path_factory.mktemp("clifuzz")
    root = make_dvx_repo(top / "r")
    (root / "a.csv").write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(300)))
    (root / "d").mkdir()
    (root / "d" / "x.bin").write_bytes(bytes(range(256)) * 40)
    run_dvx(root, "add", "a.csv", "d")
    run_dvx(root, "remote", "add", "-d", "origin", "../remote")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    run_dvx(root, "push")
    return root


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cp = run_dvx(repo, *args, check=False, timeout=60)
    assert "Traceback" not in cp.stderr, (args, cp.stderr)
    assert cp.returncode in (0, 1, 2), (args, cp.returncode, cp.stderr)
    lines = cp.stderr.strip().splitlines()
    assert all(line.startswith(("error: ", "warning: ")) for line in lines), (args, cp.stderr)
    if cp.returncode:
        assert lines and lines[-1].startswith("error: "), (args, cp.stderr)
    return cp


def _copy(base: Path) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    tmp = tempfile.TemporaryDirectory(prefix="dvx-clifuzz-")
    shutil.copytree(base.parent, Path(tmp.name), dirs_exist_ok=True, symlinks=True)
    return tmp, Path(tmp.name) / base.name


@fuzz_settings(_SCALE, shrink=False)
@given(st.data())
def test_mutated_pointer(base: Path, data: st.DataObject) -> None:
    valid = (base / "a.csv.dvx").read_bytes()
    raw = data.draw(st.one_of(
        mutations(valid),
        st.sampled_from(["size: \u00b2", "id: 0x" + "0" * 30, "files: +1", "chunks: \uff11", "type: dir"]).map(
            lambda kv: b"\n".join(kv.encode() if line.startswith(kv.split(":")[0].encode() + b":") else line
                                  for line in valid.split(b"\n"))),
    ))
    tmp, repo = _copy(base)
    with tmp:
        (repo / "a.csv.dvx").write_bytes(raw)
        try:
            ptr.loads(raw, "a.csv.dvx")
            broken = False
        except PointerError:
            broken = True
        for args in (("status",), ("diff",), ("pull",)):
            cp = _run(repo, *args)
            if broken:
                assert cp.returncode == 2 and "a.csv.dvx" in cp.stderr, (args, cp.stderr)


_CONFIG_EDITS = [
    ("config", lambda t: t.replace("fsync = true", 'fsync = "yes"')),
    ("config", lambda t: t.replace('url = "../remote"', "url = 5")),
    ("config", lambda t: t + '\n[remote.origin.client_kwargs]\nx = 1\n[remote.origin]\njobs = "x"\n'),
    ("config.local", lambda t: "\udcff"),
    ("config.local", lambda t: '[core]\nremote = "nowhere"\n'),
]


@fuzz_settings(_SCALE, shrink=False)
@given(st.data())
def test_mutated_config(base: Path, data: st.DataObject) -> None:
    valid = (base / ".dvx" / "config").read_bytes()
    name, raw = data.draw(st.one_of(
        st.tuples(st.just("config"), mutations(valid)),
        st.sampled_from(_CONFIG_EDITS).map(
            lambda e: (e[0], e[1](valid.decode()).encode("utf-8", "surrogateescape"))),
    ))
    tmp, repo = _copy(base)
    with tmp:
        (repo / ".dvx" / name).write_bytes(raw)
        try:
            Config(repo / ".dvx")
            broken = False
        except ConfigError:
            broken = True
        for args in (("status",), ("diff",), ("pull",)):
            cp = _run(repo, *args)
            if broken and args == ("pull",):
                assert cp.returncode == 2 and f".dvx/{name}" in cp.stderr, cp.stderr
