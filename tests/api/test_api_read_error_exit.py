"""``dvx.read_table`` failing inside Arrow's read-ahead must exit cleanly (issue 10, defect 7).

Arrow reads ahead on its own I/O threads, which call back into dvx. When the
read failed, the exception reached the top while such a thread was still in
a dvx read, and the interpreter aborted at exit (SIGABRT, exit 134) or hung:
20 of 20 runs here before the fix. Each run is a fresh process, because the
failure happens at interpreter exit.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from dvxtest import env, make_dvx_repo, run_dvx

from dvx.hashing import from_hex, to_hex
from dvx.store.objects import ChunkRef, FileManifest
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

RUNS = 5

_READ = textwrap.dedent(
    """
    import sys, dvx
    from dvx.errors import DvxError
    try:
        dvx.read_table(sys.argv[2], repo=sys.argv[1])
    except DvxError as e:
        print("error: " + e.format_message(), file=sys.stderr)
        sys.exit(e.exit_code)
    print("read")
    """
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two CSVs in a zstd cache, their workspace copies removed so reads go through Arrow's read-ahead:
    ``ragged.csv`` has a short row at line ~6000 (the parser fails while read-ahead runs);
    ``lying.csv``'s manifest misstates the size of a compressed chunk."""
    root = make_dvx_repo(tmp_path_factory.mktemp("abort") / "repo")
    cfg = root / ".dvx" / "config"
    cfg.write_text(cfg.read_text().replace('compression = "none"', 'compression = "zstd"'))
    rows = [f"{i},{i * 3},name{i % 97},{i * 0.5}" for i in range(300_000)]
    (root / "lying.csv").write_text("a,b,c,d\n" + "\n".join(rows) + "\n")
    rows[6000] = "1,2,3"
    (root / "ragged.csv").write_text("a,b,c,d\n" + "\n".join(rows) + "\n")
    run_dvx(root, "add", "ragged.csv", "lying.csv")
    ws = Workspace(root)
    p = ptr.load(ws.abspath("lying.csv.dvx"))
    m = ws.cache.get_file_manifest(from_hex(p.oid))
    assert ws.cache.locate(m.chunks[1].oid).compressed
    refs = list(m.chunks)
    refs[1] = ChunkRef(refs[1].oid, refs[1].size - 1000)
    lie = FileManifest(tuple(refs))
    with ws.cache.writer() as w:
        oid = w.put_manifest(lie)
    (root / "lying.csv.dvx").write_text(ptr.Pointer("file", to_hex(oid), lie.size, 1, len(refs)).dumps("lying.csv"))
    (root / "ragged.csv").unlink()
    (root / "lying.csv").unlink()
    return root


@pytest.mark.parametrize(("path", "expected"), [
    ("ragged.csv", "Expected 4 columns, got 3"),
    ("lying.csv", "bytes in the cache, its manifest says"),
])
def test_read_table_error_exits_cleanly_every_time(repo: Path, path: str, expected: str) -> None:
    codes = []
    for _ in range(RUNS):
        try:
            cp = subprocess.run([sys.executable, "-c", _READ, str(repo), path], capture_output=True, text=True, cwd=repo, check=False,
                                env=env(), timeout=30)
        except subprocess.TimeoutExpired:
            codes.append("hang")
            continue
        codes.append(cp.returncode)
        if cp.returncode == 1:
            lines = cp.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], cp.stderr
    assert codes == [1] * RUNS, codes  # 134 is SIGABRT at interpreter exit
