"""``make demo``: the main job end to end on generated data in a temporary git repo.

Every step runs the real ``dvx`` command line and prints the command and its
output, so the demo doubles as a walkthrough. Nothing outside the temporary
directory is touched; it is removed at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "dvx demo",
    "GIT_AUTHOR_EMAIL": "demo@example.invalid",
    "GIT_COMMITTER_NAME": "dvx demo",
    "GIT_COMMITTER_EMAIL": "demo@example.invalid",
    "GX_ANALYTICS_ENABLED": "false",
}


class Demo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**os.environ, **GIT_ENV}
        self.steps = 0

    def say(self, text: str) -> None:
        print(f"\n== {text}", flush=True)

    def run(self, *cmd: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        shown = " ".join(cmd)
        print(f"$ {shown}", flush=True)
        argv = [sys.executable, "-m", "dvx", *cmd[1:]] if cmd[0] == "dvx" else list(cmd)
        t0 = time.perf_counter()
        cp = subprocess.run(argv, cwd=self.root, env=self.env, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        out = (cp.stdout + cp.stderr).rstrip()
        if out:
            print("  " + out.replace("\n", "\n  "))
        if cmd[0] == "dvx":
            print(f"  [{dt:.2f} s, exit {cp.returncode}]")
        if cp.returncode not in ok:
            raise SystemExit(f"demo step failed: {shown} (exit {cp.returncode})")
        self.steps += 1
        return cp


def generate(root: Path, rows: int, version: int) -> None:
    """A CSV, a Parquet file and a folder of small files; ``version`` 2 appends and edits."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(version)
    n = rows + (rows // 100 if version > 1 else 0)
    labels = np.array(["cat", "dog", "bird"])
    table = pa.table(
        {
            "id": np.arange(n, dtype=np.int64),
            "label": labels[np.random.default_rng(7).integers(0, 3, n)],
            "x": np.clip(np.random.default_rng(8).normal(0, 2, n), -10, 10),
            "y": np.where(np.random.default_rng(9).random(n) < 0.02, np.nan, np.random.default_rng(10).normal(5, 1, n)),
            "ts": pa.array(np.arange(n, dtype="int64") * 1_000_000, type=pa.timestamp("us")),
        }
    )
    if version > 1:
        # edit 1% of the rows in the middle of the file
        x = table.column("x").to_numpy().copy()
        mid = n // 2
        x[mid : mid + rows // 100] = rng.normal(0, 2, rows // 100).clip(-10, 10)
        table = table.set_column(2, "x", pa.array(x))
    data = root / "data"
    data.mkdir(exist_ok=True)
    pcsv.write_csv(table, data / "train.csv")
    pq.write_table(table, data / "train.parquet")
    images = data / "images"
    images.mkdir(exist_ok=True)
    for i in range(200 + (10 if version > 1 else 0)):
        (images / f"img_{i:04d}.bin").write_bytes(np.random.default_rng(i).bytes(4096))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="dvx-demo-"))
    repo = tmp / "project"
    repo.mkdir()
    d = Demo(repo)
    try:
        d.say(f"a new git repository at {repo}")
        d.run("git", "init", "-q", "-b", "main")
        d.run("dvx", "init")
        d.say(f"generated data: CSV and Parquet ({args.rows:,} rows), a folder of 200 small files")
        generate(repo, args.rows, 1)
        d.run("dvx", "add", "data/train.csv", "data/train.parquet", "data/images")
        d.run("cat", "data/train.parquet.dvx")
        d.say("validation suites from the dvx repository's expectations/ (GX JSON, pandera YAML and Python)")
        shutil.copytree(Path(__file__).resolve().parent.parent / "expectations", repo / "expectations", dirs_exist_ok=True)
        d.run("cat", "expectations/dvx.toml")
        d.run("dvx", "validate")
        d.run("dvx", "validate")
        d.run("dvx", "stats", "data/train.parquet")
        d.run("git", "add", "-A")
        d.run("git", "commit", "-qm", "data v1")
        d.run("dvx", "status")
        d.say("the default remote: a local folder beside the repository")
        d.run("dvx", "remote", "add", "-d", "local", "../remote")
        d.run("dvx", "status", "--cloud")
        d.run("dvx", "push")
        d.say("version 2: 1% more rows, 1% of rows edited mid-file, 10 more files")
        generate(repo, args.rows, 2)
        d.run("dvx", "status")
        d.run("dvx", "add", "data/train.csv", "data/train.parquet", "data/images")
        d.run("dvx", "validate")
        d.run("dvx", "drift", "data/train.parquet")
        d.run("git", "commit", "-qam", "data v2")
        d.run("dvx", "ls")
        d.say("bad data: labels outside the allowed set, and x shifted by 3 standard deviations")
        bad = repo / "bad"
        bad.mkdir()
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        t = pq.read_table(repo / "data" / "train.parquet")
        t = t.set_column(1, "label", pc.if_else(pc.equal(t.column("label"), "bird"), "fish", t.column("label")))
        t = t.set_column(2, "x", pc.add(t.column("x"), 6.0))
        pq.write_table(t, repo / "data" / "train.parquet")
        d.run("dvx", "add", "data/train.parquet")
        d.run("dvx", "validate", "data/train.parquet", ok=(1,))
        d.run("dvx", "drift", "data/train.parquet", "--report", str(tmp / "drift.html"), ok=(1,))
        d.run("git", "checkout", "-q", "--", "data/train.parquet.dvx")
        d.run("dvx", "checkout", "--force", "data/train.parquet")
        d.say("push version 2: only the changed chunks travel")
        d.run("dvx", "push")
        d.say("delete the data, then restore it from the cache")
        shutil.rmtree(repo / "data" / "images")
        (repo / "data" / "train.csv").unlink()
        (repo / "data" / "train.parquet").unlink()
        d.run("dvx", "status")
        d.run("dvx", "checkout")
        d.run("dvx", "status")
        d.say("go back to version 1: git restores the pointers, dvx the data")
        d.run("git", "checkout", "-q", "HEAD~1", "--", "data")
        d.run("dvx", "checkout")
        d.run("dvx", "status")
        d.run("git", "checkout", "-q", "HEAD", "--", "data")
        d.run("dvx", "checkout")
        d.say("a teammate clones the repository and pulls the data")
        clone = tmp / "clone"
        d.run("git", "clone", "-q", str(repo), str(clone))
        c = Demo(clone)
        c.run("dvx", "pull")
        c.run("dvx", "status")
        for name in ("train.csv", "train.parquet"):
            same = (clone / "data" / name).read_bytes() == (repo / "data" / name).read_bytes()
            print(f"  data/{name} in the clone is byte-identical: {same}")
            if not same:
                raise SystemExit("demo failed: pulled data differs")
        cache = sum(p.stat().st_size for p in (repo / ".dvx" / "cache").rglob("*") if p.is_file())
        data = sum(p.stat().st_size for p in (repo / "data").rglob("*") if p.is_file() and not p.name.endswith((".dvx", ".gitignore")))
        d.say("done")
        print(f"{d.steps} steps ran; workspace data {data / 2**20:.1f} MiB, cache holding both versions {cache / 2**20:.1f} MiB")
        if args.keep:
            print(f"repository kept at {repo}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
