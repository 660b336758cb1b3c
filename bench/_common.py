"""Shared helpers for the dvx benchmarks: venvs for anchor tools, whole-process
timing with peak RSS, seeded data generation and result tables.

Every benchmark module (`bench/bench_*.py`) exposes `run(ctx: Context) ->
list[Result]`; `bench/run.py` discovers them, prints one table and writes JSON
and Markdown. Nothing here is imported by dvx itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work"
# Where data and repos go; run.py --work moves them (e.g. to a tmpfs).
WORK_DIR = DEFAULT_WORK_DIR
DATA_DIR = WORK_DIR / "data"

MiB = 1 << 20
GiB = 1 << 30

# The anchor DVC version measured in ../shared/notes/dvc-detailed.md.
DVC_PACKAGES = ["dvc[s3]==3.67.1"]


def use_work_dir(path: Path) -> None:
    """Put generated data and repos under `path` instead of bench/.work."""
    global WORK_DIR, DATA_DIR
    WORK_DIR = path.resolve()
    DATA_DIR = WORK_DIR / "data"


class BenchError(RuntimeError):
    """A benchmark could not run (a command failed, a tool is missing)."""


# --------------------------------------------------------------------------
# venvs for anchor tools


def ensure_venv(name: str, packages: Sequence[str]) -> Path:
    """Create (once) bench/.venv-<name> holding `packages` and return its path.

    A marker file records the package list, so a changed list rebuilds the
    venv; an fcntl lock keeps two benchmarks from building it at once. The
    venv is never the project's own .venv: DVC must not be installed there.
    """
    venv = BENCH_DIR / f".venv-{name}"
    marker = venv / ".bench-packages"
    wanted = "\n".join(sorted(packages)) + "\n"
    DEFAULT_WORK_DIR.mkdir(parents=True, exist_ok=True)
    lock_path = DEFAULT_WORK_DIR / f".venv-{name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted:
            return venv
        if venv.exists():
            shutil.rmtree(venv)
        t0 = time.perf_counter()
        print(f"[bench] building {venv.name}: {' '.join(packages)}", file=sys.stderr)
        # The venv is based on the interpreter running the benchmark (3.11).
        base = getattr(sys, "_base_executable", sys.executable)
        _check_call([base, "-m", "venv", str(venv)])
        py = str(venv / "bin" / "python")
        _check_call([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "uv"])
        # --compile-bytecode: this machine sets PYTHONDONTWRITEBYTECODE, and a
        # tool without .pyc files pays its import cost on every single run.
        _check_call([str(venv / "bin" / "uv"), "pip", "install", "-q", "--python", py,
                     "--compile-bytecode", *packages])
        marker.write_text(wanted)
        print(f"[bench] {venv.name} ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        return venv


def _check_call(cmd: Sequence[str], **kw: Any) -> None:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise BenchError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
                         f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def run_cmd(cmd: Sequence[str], cwd: Path | None = None,
            env: dict[str, str] | None = None) -> str:
    """Run a set-up command (not timed); raise BenchError with its output on failure."""
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise BenchError(f"command failed ({proc.returncode}) in {cwd}: "
                         f"{' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


# --------------------------------------------------------------------------
# measurement


@dataclasses.dataclass
class Stats:
    """Wall-clock and peak-RSS figures of n runs of one command."""

    cmd: list[str]
    walls: list[float]
    rss_kib: list[int]          # ru_maxrss of each run: largest single process
    tree_rss_kib: list[int]     # sampled sum over the process tree (0 = not sampled)
    cpu: list[float]            # user + sys seconds of each run

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def min(self) -> float:
        return min(self.walls)

    @property
    def max(self) -> float:
        return max(self.walls)

    @property
    def rss_mib(self) -> float:
        """Median over the runs of the peak RSS, in MiB (tree sum when sampled)."""
        peaks = [max(a, b) for a, b in zip(self.rss_kib, self.tree_rss_kib, strict=True)]
        return statistics.median(peaks) / 1024

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary plus the raw per-run figures."""
        return {
            "cmd": self.cmd, "runs": len(self.walls),
            "median_s": round(self.median, 4), "min_s": round(self.min, 4),
            "max_s": round(self.max, 4), "peak_rss_mib": round(self.rss_mib, 1),
            "cpu_median_s": round(statistics.median(self.cpu), 3),
            "walls_s": [round(w, 4) for w in self.walls],
            "rss_kib": self.rss_kib, "tree_rss_kib": self.tree_rss_kib,
        }


def _tree_rss_kib(pid: int) -> int:
    """Sum of VmRSS over pid and its descendants (0 when it is gone)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


# GNU time reports the peak RSS of the command alone. Measuring it with
# os.wait4 on a direct child is wrong on Linux: exec() folds the hiwater RSS
# of the mm it replaces into the child's ru_maxrss, and Python spawns with
# vfork, so the child inherits this benchmark process's own peak (seen: a
# 292 MiB floor after generating data). time's own mm is ~2 MiB.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def measure(cmd: Sequence[str | os.PathLike[str]], cwd: Path, env: dict[str, str] | None = None,
            setup: Callable[[], None] | None = None, runs: int = 3, warmup: bool = True,
            sample_tree: bool = False, label: str = "") -> Stats:
    """Run `cmd` as a whole process `runs` times (after one warm-up run when
    `warmup`), each preceded by `setup()` outside the timing.

    Wall time is perf_counter around spawn + reap. Peak RSS is the largest
    single process's maxrss, from GNU time (/usr/bin/time -f %M) when present,
    else from os.wait4 (which then includes this process's own peak as a
    floor, see GNU_TIME). With `sample_tree`, a thread also sums VmRSS over the
    process tree every 10 ms, which adds up worker processes. A non-zero exit
    raises BenchError with the command's output.
    """
    argv = [str(c) for c in cmd]
    walls: list[float] = []
    rss: list[int] = []
    tree: list[int] = []
    cpu: list[float] = []
    for i in range(runs + (1 if warmup else 0)):
        if setup is not None:
            setup()
        with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as tout:
            launch = argv
            if GNU_TIME is not None:
                launch = [GNU_TIME, "-q", "-f", "%M %U %S", "-o", tout.name, *argv]
            peak = [0]
            t0 = time.perf_counter()
            proc = subprocess.Popen(launch, cwd=cwd, env=env, stdout=out, stderr=out,
                                    stdin=subprocess.DEVNULL)
            sampler = None
            stop = threading.Event()
            if sample_tree:
                def sample() -> None:
                    while not stop.wait(0.01):
                        peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
            _, status, ru = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            stop.set()
            if sampler is not None:
                sampler.join()
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                out.seek(0)
                text = out.read().decode(errors="replace")
                raise BenchError(f"{' '.join(argv)} exited {proc.returncode} in {cwd}:\n"
                                 f"{text[-3000:]}")
            maxrss, used = ru.ru_maxrss, ru.ru_utime + ru.ru_stime
            if GNU_TIME is not None:
                fields = tout.read().split()
                maxrss, used = int(fields[0]), float(fields[1]) + float(fields[2])
        if warmup and i == 0:
            continue
        walls.append(wall)
        rss.append(maxrss)
        # The sampled tree includes GNU time itself (~2 MiB): negligible.
        tree.append(peak[0])
        cpu.append(used)
    st = Stats(cmd=argv, walls=walls, rss_kib=rss, tree_rss_kib=tree, cpu=cpu)
    if label:
        print(f"  {label:<44} median {st.median:7.3f} s  (min {st.min:.3f}, max {st.max:.3f},"
              f" n={len(walls)})  peak RSS {st.rss_mib:7.1f} MiB", file=sys.stderr)
    return st


@dataclasses.dataclass
class Spec:
    """One side of an interleaved measurement."""

    cmd: Sequence[str | os.PathLike[str]]
    cwd: Path
    env: dict[str, str] | None = None
    setup: Callable[[], None] | None = None


def measure_interleaved(specs: dict[str, Spec], runs: int, warmup: bool = True,
                        label: str = "") -> dict[str, Stats]:
    """`measure` several commands with their runs alternated (a, b, a, b, ...).

    Other work on a shared 2-core machine comes and goes; alternating makes
    every tool see the same load on average, so the ratio of medians is
    fair even when the absolute times drift.
    """
    parts: dict[str, list[Stats]] = {k: [] for k in specs}
    for i in range(runs + (1 if warmup else 0)):
        for name, sp in specs.items():
            st = measure(sp.cmd, cwd=sp.cwd, env=sp.env, setup=sp.setup, runs=1, warmup=False)
            if not (warmup and i == 0):
                parts[name].append(st)
    out: dict[str, Stats] = {}
    for name, sts in parts.items():
        st = Stats(cmd=sts[0].cmd, walls=[w for s in sts for w in s.walls],
                   rss_kib=[r for s in sts for r in s.rss_kib],
                   tree_rss_kib=[r for s in sts for r in s.tree_rss_kib],
                   cpu=[u for s in sts for u in s.cpu])
        out[name] = st
        if label:
            print(f"  {name} {label:<40} median {st.median:7.3f} s  (min {st.min:.3f}, max"
                  f" {st.max:.3f}, n={len(st.walls)})  peak RSS {st.rss_mib:7.1f} MiB",
                  file=sys.stderr)
    return out


# --------------------------------------------------------------------------
# results


@dataclasses.dataclass
class Result:
    """One row of the report: dvx against its anchor (usually DVC).

    For timings `dvx`/`anchor` carry Stats and ratio = anchor / dvx median
    (higher is better for dvx). For other metrics (memory, cache growth) set
    `value`/`anchor_value` with `unit`, and `ratio` as fits, or leave it None.
    """

    bench: str                     # module short name, e.g. "core"
    issue: int
    name: str                      # e.g. "add 1 GiB CSV, cold cache"
    goal: str                      # e.g. "ratio >= 3"
    ok: bool | None                # None: no goal or not measurable
    dvx: Stats | None = None
    anchor: Stats | None = None
    anchor_name: str = "dvc"
    value: float | None = None     # non-timing metric of dvx
    anchor_value: float | None = None
    unit: str = "s"
    ratio: float | None = None
    note: str = ""
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dvx is not None and self.value is None:
            self.value = self.dvx.median
        if self.anchor is not None and self.anchor_value is None:
            self.anchor_value = self.anchor.median
        if (self.ratio is None and self.unit == "s" and self.dvx is not None
                and self.anchor is not None and self.dvx.median > 0):
            a, d = self.anchor.walls, self.dvx.walls
            if len(a) == len(d) and all(w > 0 for w in d):
                # The brief's figure: the median of the per-pair ratios (runs alternate a, b, a, b,
                # so pair i saw the same load), not the ratio of the two medians.
                self.ratio = statistics.median(x / y for x, y in zip(a, d, strict=True))
            else:
                self.ratio = self.anchor.median / self.dvx.median

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form with the full Stats of both sides."""
        return {
            "bench": self.bench, "issue": self.issue, "name": self.name, "goal": self.goal,
            "ok": self.ok, "unit": self.unit, "value": self.value,
            "anchor_name": self.anchor_name, "anchor_value": self.anchor_value,
            "ratio": None if self.ratio is None else round(self.ratio, 2),
            "dvx_peak_rss_mib": None if self.dvx is None else round(self.dvx.rss_mib, 1),
            "anchor_peak_rss_mib": None if self.anchor is None else round(self.anchor.rss_mib, 1),
            "note": self.note,
            "dvx": None if self.dvx is None else self.dvx.to_dict(),
            "anchor": None if self.anchor is None else self.anchor.to_dict(),
            "details": self.details,
        }


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "s":
        return f"{v:.3f} s"
    if unit == "%":
        return f"{v:.2f} %"
    if unit == "MiB":
        return f"{v:,.0f} MiB"
    return f"{v:g} {unit}"


def _rss(st: Stats | None) -> str:
    return "-" if st is None else f"{st.rss_mib:,.0f} MiB"


def _cpu(r: Result) -> str:
    """Median user+sys CPU seconds of both sides: a check on wall times taken
    while other work shared the machine."""
    def one(st: Stats | None) -> str:
        return "-" if st is None else f"{statistics.median(st.cpu):.2f}"
    return "-" if r.dvx is None and r.anchor is None else f"{one(r.dvx)} / {one(r.anchor)} s"


def _verdict(ok: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "-"}[ok]


def table_rows(results: Sequence[Result]) -> list[list[str]]:
    """Rows of the report table (header first)."""
    rows = [["benchmark", "dvx", "anchor", "ratio", "dvx peak RSS", "anchor peak RSS",
             "CPU dvx / anchor", "goal", "result"]]
    for r in results:
        anchor = _fmt(r.anchor_value, r.unit)
        if r.anchor_value is not None:
            anchor = f"{anchor} ({r.anchor_name})"
        rows.append([r.name, _fmt(r.value, r.unit), anchor,
                     "-" if r.ratio is None else f"{r.ratio:.1f}x",
                     _rss(r.dvx), _rss(r.anchor), _cpu(r), r.goal, _verdict(r.ok)])
    return rows


def report(results: Sequence[Result], json_path: Path | None = None) -> None:
    """What a bench script run on its own prints: the table, each row's note, and the JSON file when asked."""
    print()
    print_table(results)
    for r in results:
        if r.note:
            print(f"- {r.name}: {r.note}")
    if json_path:
        json_path.write_text(json.dumps([r.to_dict() for r in results], indent=1) + "\n")


def print_table(results: Sequence[Result], file: Any = sys.stdout) -> None:
    """Print the results as an aligned plain-text table."""
    rows = table_rows(results)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=file)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=file)


def markdown_table(results: Sequence[Result]) -> str:
    """The results as a Markdown table (for docs/benchmarks.md)."""
    rows = table_rows(results)
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# context handed to every benchmark module


@dataclasses.dataclass
class Context:
    """What run.py hands to each benchmark's `run(ctx)`."""

    quick: bool
    runs: int | None             # None: each benchmark's own default
    dvx: Path                    # the dvx executable under test
    work: Path = DEFAULT_WORK_DIR
    keep_big: bool = False       # keep the 10 GiB file after the run
    keep_repos: bool = False     # keep the benchmark repos in .work/repos
    skip_dvx: bool = False       # run the anchor side only (harness shake-out)
    skip_anchor: bool = False    # run the dvx side only
    base: str | None = None      # bench_revs: the earlier dvx commit to compare with

    def n(self, default: int) -> int:
        """Number of timed runs: --runs if given, else 2 in quick mode, else `default`."""
        if self.runs is not None:
            return self.runs
        return 2 if self.quick else default

    def env(self) -> dict[str, str]:
        """Environment for every timed command: analytics off for every tool."""
        env = dict(os.environ)
        env.update(DVC_NO_ANALYTICS="1", GX_ANALYTICS_ENABLED="false",
                   GIT_TERMINAL_PROMPT="0", PYTHONWARNINGS="ignore")
        # A tool must not pick up the benchmark's own venv by accident.
        env.pop("VIRTUAL_ENV", None)
        return env


def fresh_dir(path: Path) -> Path:
    """Empty directory at `path` (removed first if present)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def git_init(path: Path) -> None:
    """git init a fresh repo with a local identity (no global config needed)."""
    run_cmd(["git", "init", "-q", "-b", "main", str(path)])
    run_cmd(["git", "-C", str(path), "config", "user.email", "bench@dvx.invalid"])
    run_cmd(["git", "-C", str(path), "config", "user.name", "dvx bench"])


def link_into(src: Path, dst: Path) -> None:
    """Hard-link a generated file (or a tree of files) to dst, replacing dst.

    Hard links share the page-cached bytes, so both tools read the same
    cached data and no GiB is copied. Neither tool writes to its inputs.
    """
    if dst.is_dir() and not dst.is_symlink():
        shutil.rmtree(dst)
    elif dst.exists() or dst.is_symlink():
        dst.unlink()
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, copy_function=os.link)
    else:
        tmp = dst.with_name(dst.name + ".linktmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.link(src, tmp)
        os.replace(tmp, dst)


def tree_bytes(path: Path) -> int:
    """Apparent size (sum of st_size) of every file under path; 0 if missing."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def tree_disk_bytes(path: Path) -> int:
    """Allocated size (st_blocks * 512, like `du`) of every file under path."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def remove(*paths: Path) -> None:
    """Remove files or trees if present."""
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


# --------------------------------------------------------------------------
# data generation (seeded; reused when the parameters match)


@contextlib.contextmanager
def _generated(path: Path, params: dict[str, Any]) -> Iterator[Path | None]:
    """Yield a temp path to write when `path` is missing or stale, else None.

    A `<path>.params.json` marker holds the parameters and the size written;
    a matching marker and size means the data is reused. Writing goes to a
    temp name renamed at the end, so an interrupted run leaves nothing stale.
    """
    marker = path.with_name(path.name + ".params.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.parent / ".gen.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and path.exists():
            saved = json.loads(marker.read_text())
            if saved.get("params") == params and saved.get("bytes") == tree_bytes(path):
                yield None
                return
        remove(path, marker)
        tmp = path.with_name(path.name + ".tmp")
        remove(tmp)
        t0 = time.perf_counter()
        yield tmp
        os.replace(tmp, path)
        marker.write_text(json.dumps({"params": params, "bytes": tree_bytes(path)}))
        print(f"[bench] generated {path.name} ({tree_bytes(path) / MiB:,.0f} MiB) in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)


# The CSV: id, 6 normal floats, 3 ints, one 4-value string (as in
# ../shared/notes/dvc-baseline.md: 6M rows = 924 MB, so ~154 bytes a row).
CSV_ROW_BYTES = 154
_CSV_BATCH = 500_000


def _csv_batch(rng: Any, start: int, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    cats = pa.array(["alpha", "beta", "gamma", "delta"])
    cols: dict[str, Any] = {"id": pa.array(np.arange(start, start + n, dtype=np.int64))}
    for j in range(6):
        cols[f"f{j}"] = pa.array(rng.normal(100.0 * j, 1.0 + j, n))
    cols["i0"] = pa.array(rng.integers(0, 1_000, n))
    cols["i1"] = pa.array(rng.integers(-1_000_000, 1_000_000, n))
    cols["i2"] = pa.array(rng.integers(0, 2**40, n))
    cols["cat"] = cats.take(pa.array(rng.integers(0, 4, n)))
    return pa.table(cols)


def _write_csv_rows(path: Path, rows: int, seed: int, start_id: int, header: bool,
                    mode: str = "wb") -> None:
    import numpy as np
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    with open(path, mode) as f:
        done = 0
        first = True
        while done < rows:
            n = min(_CSV_BATCH, rows - done)
            table = _csv_batch(rng, start_id + done, n)
            pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=header and first))
            first = False
            done += n


def csv_file(rows: int, seed: int = 1) -> Path:
    """The base CSV (`rows` rows x 11 columns), generated once."""
    path = DATA_DIR / f"base-{rows}.csv"
    with _generated(path, {"kind": "csv", "rows": rows, "seed": seed}) as tmp:
        if tmp is not None:
            _write_csv_rows(tmp, rows, seed, 0, header=True)
    return path


def csv_appended(rows: int, pct: float = 1.0, seed: int = 1) -> Path:
    """The base CSV with `pct`% more rows appended at the end (base bytes unchanged)."""
    base = csv_file(rows, seed)
    extra = max(1, int(rows * pct / 100))
    path = DATA_DIR / f"append-{rows}-{pct:g}.csv"
    with _generated(path, {"kind": "csv-append", "rows": rows, "pct": pct, "seed": seed}) as tmp:
        if tmp is not None:
            shutil.copyfile(base, tmp)
            _write_csv_rows(tmp, extra, seed + 1000, rows, header=False, mode="ab")
    return path


def csv_edited(rows: int, pct: float = 1.0, seed: int = 1) -> Path:
    """The base CSV with `pct`% of its rows edited in the middle, same length.

    The rows of a contiguous block centred in the file get every digit
    outside the id column shifted (d -> (d + 7) % 10): values change, each row
    keeps its length and id, and every byte outside the block is unchanged.
    """
    import numpy as np

    base = csv_file(rows, seed)
    path = DATA_DIR / f"edit-{rows}-{pct:g}.csv"
    with _generated(path, {"kind": "csv-edit", "rows": rows, "pct": pct, "seed": seed}) as tmp:
        if tmp is not None:
            shutil.copyfile(base, tmp)
            size = base.stat().st_size
            span = int(size * pct / 100)
            start = size // 2 - span // 2
            with open(tmp, "r+b") as f:
                f.seek(start)
                buf = np.frombuffer(f.read(span), dtype=np.uint8).copy()
                nl = np.flatnonzero(buf == ord("\n"))
                # Whole lines only: from the first newline to the last.
                lo, hi = int(nl[0]) + 1, int(nl[-1]) + 1
                region = buf[lo:hi]
                inid = np.zeros(len(region) + 1, dtype=np.int8)
                line_starts = np.concatenate(([0], np.flatnonzero(region == ord("\n"))[:-1] + 1))
                commas = np.flatnonzero(region == ord(","))
                first_comma = commas[np.searchsorted(commas, line_starts)]
                np.add.at(inid, line_starts, 1)
                np.add.at(inid, first_comma, -1)
                in_id = np.cumsum(inid[:-1]) > 0
                digits = (region >= ord("0")) & (region <= ord("9")) & ~in_id
                region[digits] = (region[digits] - ord("0") + 7) % 10 + ord("0")
                f.seek(start + lo)
                f.write(region.tobytes())
    return path


def parquet_file(rows: int, seed: int = 2) -> Path:
    """A Parquet file of `rows` x 20 columns (7 int, 9 float incl. a float32
    and one with 10% nulls, 4 string: 2 low-card, 1 mid-card, 1 random hex),
    pyarrow defaults (snappy), 1,048,576-row row groups: as dvc-detailed.md
    (10M rows = 1.066 GiB)."""
    path = DATA_DIR / f"base-{rows}.parquet"
    with _generated(path, {"kind": "parquet", "rows": rows, "seed": seed}) as tmp:
        if tmp is None:
            return path
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        rng = np.random.default_rng(seed)
        low1 = pa.array(["red", "green", "blue", "cyan", "magenta"])
        low2 = pa.array([f"region-{i}" for i in range(12)])
        mid = pa.array([f"city-{i:05d}" for i in range(50_000)])
        hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
        group = 1_048_576
        writer = None
        done = 0
        while done < rows:
            n = min(group, rows - done)
            cols: dict[str, Any] = {"id": pa.array(np.arange(done, done + n, dtype=np.int64))}
            for j in range(6):
                cols[f"int{j}"] = pa.array(rng.integers(0, 10 ** (j + 2), n))
            for j in range(7):
                cols[f"float{j}"] = pa.array(rng.normal(j, 1 + j, n))
            cols["float32"] = pa.array(rng.random(n, dtype=np.float32))
            vals = rng.normal(0, 1, n)
            cols["float_nulls"] = pa.array(vals, mask=rng.random(n) < 0.1)
            cols["color"] = low1.take(pa.array(rng.integers(0, len(low1), n)))
            cols["region"] = low2.take(pa.array(rng.integers(0, len(low2), n)))
            cols["city"] = mid.take(pa.array(rng.integers(0, len(mid), n)))
            raw = hexdigits[rng.integers(0, 16, n * 16, dtype=np.uint8)]
            offsets = np.arange(0, 16 * (n + 1), 16, dtype=np.int32)
            cols["token"] = pa.StringArray.from_buffers(
                n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(raw.tobytes()))
            table = pa.table(cols)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=group)
            done += n
        assert writer is not None
        writer.close()
    return path


def small_files_dir(files: int, subdirs: int = 20, size: int = 4096, seed: int = 3) -> Path:
    """`files` random files of `size` bytes spread over `subdirs` folders."""
    path = DATA_DIR / f"small-{files}x{size}"
    params = {"kind": "dir", "files": files, "subdirs": subdirs, "size": size, "seed": seed}
    with _generated(path, params) as tmp:
        if tmp is not None:
            import numpy as np

            rng = np.random.default_rng(seed)
            blob = rng.integers(0, 256, files * size, dtype=np.uint8).tobytes()
            per_dir = -(-files // subdirs)
            for i in range(files):
                d = tmp / f"d{i // per_dir:02d}"
                if i % per_dir == 0:
                    d.mkdir(parents=True)
                (d / f"f{i:05d}.bin").write_bytes(blob[i * size:(i + 1) * size])
    return path


def big_random_file(size: int, seed: int = 4, data_dir: Path | None = None) -> Path:
    """A file of `size` random bytes, written in 64 MiB blocks.

    numpy's generator makes ~1 GiB/s of random words; so one 64 MiB random
    block is made and each block written is that block XORed with its own
    random 64-bit word: every block's bytes differ (no chunk repeats, nothing
    compresses) at memory speed, ~10 s for 10 GiB. `data_dir` overrides
    the data folder (the memory test keeps 10 GiB on disk, not on a tmpfs).
    """
    path = (data_dir or DATA_DIR) / f"big-{size}.bin"
    with _generated(path, {"kind": "big", "size": size, "seed": seed}) as tmp:
        if tmp is not None:
            import numpy as np

            rng = np.random.Generator(np.random.SFC64(seed))
            block = 64 * MiB
            base = rng.integers(0, 2**64, block // 8, dtype=np.uint64, endpoint=False)
            out = np.empty_like(base)
            with open(tmp, "wb") as f:
                left = size
                while left > 0:
                    np.bitwise_xor(base, rng.integers(0, 2**64, dtype=np.uint64), out=out)
                    # Also rotate by a random word offset so block boundaries shift.
                    view = np.roll(out, int(rng.integers(0, len(out))))
                    n = min(block, left)
                    f.write(memoryview(view).cast("B")[:n])
                    left -= n
    return path


def drop_big_files(data_dir: Path | None = None) -> None:
    """Delete the 10 GiB-class files (big-*.bin) to free disk."""
    d = data_dir or DATA_DIR
    if d.exists():
        for p in d.glob("big-*.bin*"):
            remove(p)
