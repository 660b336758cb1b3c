"""Kill-point harness: SIGKILL dvx commands at random moments, rerun them, check nothing was lost.

A ``Campaign`` owns an origin repository, a remote (a folder or an S3
bucket) and a clone. It cycles through ``add -> push -> gc -> pull ->
checkout -> fetch`` (gc: ``gc -w`` in the origin); each round prepares work
for its command (a fresh data version for add and push; deleted data and an
emptied cache for the others), starts the
real CLI, sends SIGKILL after a random delay, and then:

1. reruns the command, which must exit 0;
2. checks the result: the data matches the version's snapshot byte for byte,
   or (push) the remote holds everything the version needs;
3. checks the store it wrote: every object an index names reads back and
   matches its id (the local cache, and the remote when it is a folder);
4. checks for debris: no dvx temp file in the work tree, ``git status``
   clean.

Every ``full_every`` kills, and at the end, a fresh clone pulls a sample of
(at the end: every) committed version and compares it byte for byte.

The delay is drawn from the command's measured undisturbed duration (mostly
its second half, so that most kills land while dvx moves data), and the
estimate adapts to the machine's load; a point counts when the kill landed
(exit status -SIGKILL). Seeded: a failure
prints the seed and the round, and the same seed replays the same choices.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dvxtest import env, git, make_git_repo, run_dvx, tree_bytes

MiB = 1 << 20
BIG = 1 * MiB   # x3 files + a folder: add, push and fetch spend about half their time on data
# pull follows push and checks out the version just pushed into an empty
# cache: that is the check that the push is complete.
# gc (``gc -w`` in the origin: the older versions' data leaves its cache, packs are
# repacked and index files compacted) runs right after push, so every version it
# removes from the cache is on the remote.
COMMANDS = ("add", "push", "gc", "pull", "checkout", "fetch")
BIG_FILES = ("big0.bin", "big1.bin", "big2.bin")
TRACKED = (*BIG_FILES, "data")

# dvx's temp files in the work tree. The historical pattern is
# ``.NAME.<12 hex>.tmp`` (dvx/_fsutil.py ``tmp_name``); when dvx exposes its
# own predicate (``is_tmp_name``/``is_temp_name``), that one decides too.
_TMP_PATTERNS = (
    re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$"),
    re.compile(r"^\..+\.dvxtmp-[0-9a-f]{12}$"),
    re.compile(r"^\..+\.[0-9a-f]{6,}\.dvx-?tmp$"),
    re.compile(r"^\.dvx-?tmp[.-].+$"),
)


def is_dvx_temp(name: str) -> bool:
    """True when ``name`` (a base name) looks like a temp file dvx writes beside its target."""
    try:
        from dvx import _fsutil
    except ImportError:  # pragma: no cover - the harness always runs with dvx importable
        _fsutil = None
    for attr in ("is_tmp_name", "is_temp_name"):
        fn = getattr(_fsutil, attr, None)
        if fn is not None and fn(name):
            return True
    return any(p.match(name) for p in _TMP_PATTERNS)


def temp_debris(top: Path) -> list[str]:
    """dvx temp files anywhere under ``top`` outside ``.git`` and ``.dvx``."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".dvx")]
        out.extend(os.path.relpath(os.path.join(dirpath, f), top) for f in filenames if is_dvx_temp(f))
    return sorted(out)


def verify_store(fs, root: str, seen: set[tuple] | None = None) -> int:
    """Read every object some index of the store names and check it against its id; the count.

    With ``seen``, records verified by an earlier call are skipped (packs are
    immutable, so a record once verified stays good) and the new ones added.
    """
    from dvx.store import ObjectStore

    s = ObjectStore(fs, root)
    recs = [r for r in s._ensure_index().records() if seen is None or r not in seen]
    ids = [r[0] for r in recs]
    n = 0
    for k in range(0, len(ids), 2048):
        n += sum(1 for _ in s.get_many(ids[k : k + 2048]))
    assert n == len(ids)
    if seen is not None:
        seen.update(recs)
    return n


def local_store_facts(repo: Path) -> tuple[int, int]:
    """(files left in the cache's tmp/, packs no index names) of a repository's cache."""
    from fsspec.implementations.local import LocalFileSystem

    from dvx.store import ObjectStore

    cache = repo / ".dvx" / "cache"
    tmp = cache / "tmp"
    ntmp = len(list(tmp.iterdir())) if tmp.is_dir() else 0
    named = {p.hex() for p in ObjectStore(LocalFileSystem(), str(cache)).pack_ids()}
    packs = {p.name for p in (cache / "packs").glob("*/*")} if (cache / "packs").is_dir() else set()
    return ntmp, len(packs - named)


@dataclass
class Summary:
    """The figures of one campaign (docs/reliability.md)."""

    remote: str
    seed: int
    points: int = 0                                   # kills that landed mid-command
    rounds: int = 0
    killed: Counter = field(default_factory=Counter)    # per command: kills that landed
    finished: Counter = field(default_factory=Counter)  # per command: finished before the kill (exit 0)
    versions: int = 0
    full_checks: int = 0
    versions_checked: int = 0
    debris_after_kill: int = 0                       # kills that left a temp file in the work tree (before the rerun)
    cache_tmp_after_kill: int = 0                    # kills that left a pack or index being written in .dvx/cache/tmp
    cache_tmp_left: int = 0                          # files under .dvx/cache/tmp after the campaign
    orphan_packs: int = 0                            # local packs no index names after the campaign
    seconds: float = 0.0

    def to_json(self) -> str:
        d = asdict(self)
        d["killed"], d["finished"] = dict(self.killed), dict(self.finished)
        return json.dumps(d, sort_keys=True)


class Campaign:
    """One origin, one remote, one clone; ``run(points)`` kills commands until ``points`` kills landed."""

    def __init__(self, base: Path, remote_url: str, seed: int, endpoint: str | None = None,
                 full_every: int = 50, big: int = BIG) -> None:
        self.base = base
        self.big = big
        self.rng = random.Random(seed)
        self.summary = Summary("s3" if endpoint else "folder", seed)
        self.remote_url = remote_url
        self.endpoint = endpoint
        self.full_every = full_every
        self.versions: list[tuple[str, dict[str, tuple[bytes, bool]]]] = []
        self.durations: dict[str, float] = {}
        self.round_no = 0
        self._verified: dict[str, set[tuple]] = {}
        self.pushed = 0  # versions[:pushed] are on the remote
        self.origin = make_git_repo(base / "origin")
        run_dvx(self.origin, "init")
        run_dvx(self.origin, "remote", "add", "-d", "store", remote_url)
        if endpoint:
            run_dvx(self.origin, "remote", "modify", "store", "endpoint_url", endpoint)
        git(self.origin, "add", ".dvx", "expectations", ".gitattributes")  # what `dvx init` made
        git(self.origin, "commit", "-qm", "dvx init", "--no-verify")
        # No grace period: the packs gc may remove were written seconds ago (config.local is git-ignored).
        (self.origin / ".dvx" / "config.local").write_text('[gc]\ngrace = "0s"\n')
        self._write_initial_data()
        self.clone = base / "clone"

    # ------------------------------------------------------------------ data
    def _write_initial_data(self) -> None:
        for name in BIG_FILES:
            (self.origin / name).write_bytes(self.rng.randbytes(self.big))
        d = self.origin / "data"
        d.mkdir()
        for k in range(24):
            self._small(d / f"part-{k:03d}.csv")

    def _small(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.rng.randbytes(self.rng.randrange(4_000, 60_000)))

    def _mutate(self) -> None:
        """A new version: one big file new, one patched, and the folder changed by one file each way."""
        fresh, patched = self.rng.sample(BIG_FILES, 2)
        (self.origin / fresh).write_bytes(self.rng.randbytes(self.big))
        with open(self.origin / patched, "r+b") as f:
            f.seek(self.rng.randrange(0, self.big - 65536))
            f.write(self.rng.randbytes(65536))
        files = sorted((self.origin / "data").rglob("*.csv"))
        self._small(self.rng.choice(files))
        if len(files) > 8:
            self.rng.choice(files).unlink()
        self._small(self.origin / "data" / f"sub{self.rng.randrange(3)}" / f"new-{self.round_no:04d}.csv")

    def _snapshot(self, repo: Path) -> dict[str, tuple[bytes, bool]]:
        out = {}
        for t in TRACKED:
            p = repo / t
            if p.is_dir():
                out.update({f"{t}/{k}": v for k, v in tree_bytes(p).items()})
            elif p.exists():
                out[t] = (p.read_bytes(), bool(p.stat().st_mode & 0o100))
        return out

    def _commit_version(self) -> None:
        git(self.origin, "add", "-A")
        git(self.origin, "commit", "-qm", f"version {len(self.versions) + 1}", "--no-verify")
        sha = git(self.origin, "rev-parse", "HEAD").stdout.strip()
        self.versions.append((sha, self._snapshot(self.origin)))
        self.summary.versions = len(self.versions)

    # ------------------------------------------------------------------ one command
    def _timed(self, repo: Path, *args: str) -> float:
        t0 = time.perf_counter()
        run_dvx(repo, *args)
        return time.perf_counter() - t0

    def _kill_run(self, cmd: str, repo: Path, args: tuple[str, ...]) -> bool:
        """Start ``dvx args`` and SIGKILL it after a random delay; True when the kill landed."""
        dur = self.durations[cmd]
        if self.rng.random() < 0.1:   # sometimes anywhere, start-up included
            delay = self.rng.uniform(0, dur)
        else:
            # Mostly in the second half, where dvx moves data (the first is the
            # interpreter, imports and index loading); a little past the end so
            # that some commands finish first.
            delay = self.rng.uniform(0.4 * dur, 1.05 * dur)
        p = subprocess.Popen([sys.executable, "-m", "dvx", *args], cwd=repo, env=env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        # Not yet waited for, so the pid cannot have been reused: a kill after
        # the exit only hits the zombie.
        os.kill(p.pid, signal.SIGKILL)
        _out, err = p.communicate(timeout=300)
        # The estimate adapts to the machine's load: it shrinks when a command
        # beat the kill and grows slowly while kills land.
        if p.returncode == -signal.SIGKILL:
            self.durations[cmd] *= 1.03
            self.summary.killed[cmd] += 1
            self.summary.points += 1
            if temp_debris(repo):
                self.summary.debris_after_kill += 1
            tmp = repo / ".dvx" / "cache" / "tmp"
            if tmp.is_dir() and any(tmp.iterdir()):
                self.summary.cache_tmp_after_kill += 1
            return True
        assert p.returncode == 0, f"{self._where(cmd)}: dvx {' '.join(args)} exited {p.returncode}: {err.decode()}"
        self.summary.finished[cmd] += 1
        # No floor at the start-up time measured once: under changing load it
        # can exceed a whole command's run (a campaign then landed 56 kills in 252 rounds).
        self.durations[cmd] = max(0.75 * self.durations[cmd], 0.02)
        return False

    def _where(self, cmd: str) -> str:
        return f"seed {self.summary.seed}, round {self.round_no} ({cmd}, {self.summary.remote} remote)"

    def _rerun(self, cmd: str, repo: Path, args: tuple[str, ...]) -> None:
        cp = run_dvx(repo, *args, check=False)
        assert cp.returncode == 0, (
            f"{self._where(cmd)}: rerun of dvx {' '.join(args)} exited {cp.returncode}\n{cp.stdout}\n{cp.stderr}")

    def _check_clean(self, cmd: str, repo: Path) -> None:
        debris = temp_debris(repo)
        assert not debris, f"{self._where(cmd)}: temp files left after the rerun: {debris}"
        st = git(repo, "status", "--porcelain", "--untracked-files=all").stdout
        assert st == "", f"{self._where(cmd)}: git status is not clean after the rerun:\n{st}"

    def _check_add_status(self) -> None:
        """Before the commit: no temp file, and git sees only the pointers and .gitignore changed."""
        debris = temp_debris(self.origin)
        assert not debris, f"{self._where('add')}: temp files left after the rerun: {debris}"
        expected = {f"{t}.dvx" for t in TRACKED} | {".gitignore"}
        lines = git(self.origin, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
        unexpected = [ln for ln in lines if ln[3:] not in expected]
        assert not unexpected, f"{self._where('add')}: unexpected changes after the rerun: {unexpected}"

    def _check_cache(self, cmd: str, repo: Path) -> None:
        from fsspec.implementations.local import LocalFileSystem

        try:
            verify_store(LocalFileSystem(), str(repo / ".dvx" / "cache"), self._verified.setdefault(str(repo), set()))
        except Exception as e:
            raise AssertionError(f"{self._where(cmd)}: cache of {repo.name} is inconsistent: {e}") from e

    def _check_remote(self, cmd: str) -> None:
        """A folder remote is verified object by object; on S3 that costs too much per round,
        and the pull round that follows reads the pushed version back byte for byte."""
        if self.endpoint:
            return
        from fsspec.implementations.local import LocalFileSystem

        try:
            verify_store(LocalFileSystem(), self.remote_url, self._verified.setdefault("remote", set()))
        except Exception as e:
            raise AssertionError(f"{self._where(cmd)}: remote is inconsistent: {e}") from e

    def _check_data(self, cmd: str, repo: Path, want: dict[str, tuple[bytes, bool]]) -> None:
        got = self._snapshot(repo)
        if got != want:
            diff = sorted(set(got) ^ set(want)) or sorted(k for k in want if got.get(k) != want[k])
            raise AssertionError(f"{self._where(cmd)}: {repo.name} data differs from the version: {diff[:5]}")

    # ------------------------------------------------------------------ rounds
    def _empty_clone(self, sha: str) -> None:
        """Clone at ``sha`` with no data and an empty cache (so fetch and pull have everything to do)."""
        git(self.clone, "fetch", "-q", "origin")
        git(self.clone, "checkout", "-q", "--detach", sha)
        for t in TRACKED:
            p = self.clone / t
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        cache = self.clone / ".dvx" / "cache"
        for sub in ("packs", "index", "tmp"):
            shutil.rmtree(cache / sub, ignore_errors=True)
        self._verified.pop(str(self.clone), None)

    def round(self, cmd: str, kill: bool = True) -> None:
        """One kill point of ``cmd`` (or, with ``kill`` False, one undisturbed timed run)."""
        self.round_no += 1
        self.summary.rounds += 1 if kill else 0
        if cmd == "add":
            if self.versions:
                self._mutate()
            repo, args = self.origin, ("add", *TRACKED)
        elif cmd == "push":
            repo, args = self.origin, ("push",)
        elif cmd == "gc":
            repo, args = self.origin, ("gc", "-w", "-f")
        elif cmd == "checkout":
            repo, args = self.origin, ("checkout",)
            for t in self.rng.sample(TRACKED, self.rng.randrange(1, len(TRACKED) + 1)):
                p = self.origin / t
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        else:  # pull: the version just pushed; fetch: a random pushed one; in the clone
            on_remote = self.versions[: self.pushed]
            sha, want = on_remote[-1] if cmd == "pull" else self.rng.choice(on_remote)
            self._empty_clone(sha)
            repo, args = self.clone, (cmd,)
        if kill:
            self._kill_run(cmd, repo, args)
            self._rerun(cmd, repo, args)
        else:
            self.durations[cmd] = self._timed(repo, *args)
        if cmd == "add":
            self._check_add_status()
            self._commit_version()
            self._check_cache(cmd, self.origin)
            self._check_clean(cmd, self.origin)
        elif cmd == "push":
            self.pushed = len(self.versions)
            self._check_remote(cmd)
            self._check_clean(cmd, self.origin)
        elif cmd == "gc":
            self._check_cache(cmd, self.origin)
            for t in TRACKED:  # what the workspace needs is all still there
                p = self.origin / t
                shutil.rmtree(p) if p.is_dir() else p.unlink()
            run_dvx(self.origin, "checkout")
            self._check_data(cmd, self.origin, self.versions[-1][1])
            self._check_clean(cmd, self.origin)
        elif cmd == "checkout":
            self._check_data(cmd, self.origin, self.versions[-1][1])
            self._check_cache(cmd, self.origin)
            self._check_clean(cmd, self.origin)
        else:
            if cmd == "fetch":
                run_dvx(self.clone, "checkout")
            self._check_data(cmd, self.clone, want)
            self._check_cache(cmd, self.clone)
            self._check_clean(cmd, self.clone)

    def full_check(self, every: bool) -> None:
        """A fresh clone pulls committed versions (all, or the newest and two others) byte for byte."""
        fresh = self.base / f"fresh-{self.summary.full_checks}"
        git(self.base, "clone", "-q", str(self.origin), str(fresh))
        on_remote = self.versions[: self.pushed]
        picks = list(on_remote) if every else [on_remote[-1], *self.rng.sample(on_remote, min(2, len(on_remote)))]
        for sha, want in picks:
            git(fresh, "checkout", "-q", "--detach", sha)
            cp = run_dvx(fresh, "pull", check=False)
            assert cp.returncode == 0, f"fresh clone: dvx pull at {sha[:10]} exited {cp.returncode}: {cp.stderr}"
            self._check_data("full check", fresh, want)
            self.summary.versions_checked += 1
        self._check_cache("full check", fresh)
        shutil.rmtree(fresh)
        self.summary.full_checks += 1

    def run(self, points: int) -> Summary:
        """Kill commands in turn until ``points`` kills landed; full checks on the way and at the end."""
        t0 = time.perf_counter()
        # Undisturbed timed runs give each command's duration (and version 1).
        self.round("add", kill=False)
        self.round("push", kill=False)
        git(self.base, "clone", "-q", str(self.origin), str(self.clone))
        for cmd in ("gc", "checkout", "pull", "fetch"):
            self.round(cmd, kill=False)
        next_full = self.full_every
        k = 0
        while self.summary.points < points:
            assert self.summary.rounds < 4 * points + 20, f"only {self.summary.points} kills landed in {self.summary.rounds} rounds"
            self.round(COMMANDS[k % len(COMMANDS)])
            k += 1
            if self.summary.points >= next_full:
                self.full_check(every=False)
                next_full += self.full_every
        if self.pushed < len(self.versions):  # the last round was an add
            run_dvx(self.origin, "push")
            self.pushed = len(self.versions)
        self.full_check(every=True)
        self.summary.cache_tmp_left, self.summary.orphan_packs = local_store_facts(self.origin)
        self.summary.seconds = round(time.perf_counter() - t0, 1)
        return self.summary


def points_wanted(default: int = 200) -> int:
    """Kill points for the whole kill-point test: ``DVX_KILLPOINTS`` (long mode: 1000) or ``default``."""
    raw = os.environ.get("DVX_KILLPOINTS", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else default


def report(summary: Summary) -> None:
    """Append the campaign's figures to ``$DVX_KILLPOINTS_REPORT`` (JSON lines) when it is set."""
    path = os.environ.get("DVX_KILLPOINTS_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(summary.to_json() + "\n")
