"""Disk used by a checkout of the 1 GiB CSV with and without copy-on-write clones (issue 14, item 9).

    sudo .venv/bin/python bench/clones.py               # the 1 GiB CSV (7.15M rows, bench_core's)
    sudo .venv/bin/python bench/clones.py --rows 20000  # a smoke run (~3 MiB)

On a loop-mounted XFS image (``mkfs.xfs -m reflink=1``, sparse, made and
removed here; needs root, loop devices and xfsprogs: ``make xfsprogs``) it
adds the CSV to a fresh repository, deletes the file, and checks it out
twice: with ``[cache] type = "auto"`` (clones) and ``"copy"``. For each it
prints the file system's used bytes before and after (``statvfs``, after
``sync``), the difference, and the ``st_blocks`` of the checked-out file (a
clone's blocks count in full there: only ``statvfs`` shows the sharing).
Not part of run.py (it needs root); it measures disk, not time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as c

FULL_ROWS = 7_150_000  # bench_core's 1 GiB CSV


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    cp = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if cp.returncode != 0:
        raise c.BenchError(f"{' '.join(cmd)} exited {cp.returncode}: {cp.stderr.strip()[:400]}")
    return cp.stdout


def _used(path: Path) -> int:
    os.sync()
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def _dvx(repo: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(c.PROJECT_DIR)}
    cp = subprocess.run([sys.executable, "-m", "dvx", *args], cwd=repo, capture_output=True, text=True, env=env)
    if cp.returncode != 0:
        raise c.BenchError(f"dvx {' '.join(args)} exited {cp.returncode}: {cp.stderr.strip()[:400]}")
    return cp.stdout


def _set_type(repo: Path, value: str) -> None:
    cfg = repo / ".dvx" / "config.local"
    cfg.write_text(f'[cache]\ntype = "{value}"\n')


def measure(csv: Path, mnt: Path) -> dict[str, object]:
    """Add ``csv`` in a repository on ``mnt``; the disk each kind of checkout used."""
    repo = mnt / "repo"
    repo.mkdir()
    _run(["git", "init", "-q", "-b", "main"], cwd=repo)
    _dvx(repo, "init", "-q")
    shutil.copyfile(csv, repo / "data.csv")
    size = (repo / "data.csv").stat().st_size
    _dvx(repo, "add", "data.csv")
    out: dict[str, object] = {"file_bytes": size}
    for kind in ("auto", "copy"):
        _set_type(repo, kind)
        (repo / "data.csv").unlink()
        before = _used(mnt)
        said = _dvx(repo, "checkout").strip()
        after = _used(mnt)
        out[kind] = {"used_before": before, "used_after": after, "checkout_used": after - before,
                     "st_blocks_bytes": (repo / "data.csv").stat().st_blocks * 512, "dvx_says": said}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--rows", type=int, default=FULL_ROWS, help=f"CSV rows (default {FULL_ROWS:,} = 1 GiB)")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args(argv)
    if os.geteuid() != 0 or shutil.which("mkfs.xfs") is None:
        print("needs root and mkfs.xfs (make xfsprogs)", file=sys.stderr)
        return 2
    csv = c.csv_file(args.rows)
    size = csv.stat().st_size
    with tempfile.TemporaryDirectory(prefix="dvx-clones-") as tmp:
        img, mnt = Path(tmp) / "fs.img", Path(tmp) / "mnt"
        mnt.mkdir()
        with open(img, "wb") as f:  # sparse: the cache, two checkouts and the copy, plus slack
            f.truncate(max(320 * c.MiB, 4 * size + 256 * c.MiB))
        _run(["mkfs.xfs", "-q", "-m", "reflink=1", str(img)])
        _run(["mount", "-o", "loop", str(img), str(mnt)])
        try:
            res = measure(csv, mnt)
        finally:
            subprocess.run(["umount", str(mnt)], capture_output=True)
    for kind in ("auto", "copy"):
        r = res[kind]
        assert isinstance(r, dict)
        print(f"{kind:5} checkout of {size / c.MiB:,.1f} MiB: {r['checkout_used'] / c.MiB:,.1f} MiB more used "
              f"on the file system (st_blocks says {r['st_blocks_bytes'] / c.MiB:,.1f} MiB); {r['dvx_says']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
