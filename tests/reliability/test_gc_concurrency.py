"""gc beside concurrent work: lock files, roots markers, the two-phase collect (docs/format.md,
"Locks and gc protocol"), over a local folder remote and moto_server.

Real parts only: other holders are real processes, pushes are the real CLI.
The sweep is a minimal one written here (whole unreferenced packs and the
index files naming only them) with the signature of gc's ``plan_gc``/``apply_gc``.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dvxtest import env, git, make_git_repo, run_dvx, tree_bytes
from hintkit import commands, follow
from killpoints import verify_store

from dvx.errors import LockedError, LockTimeoutError
from dvx.remote import fetch_lock, open_url
from dvx.store import ObjectStore
from dvx.store.gcsafe import collect, marked_closure
from dvx.store.index import decode_index
from dvx.store.layout import index_path, pack_path
from dvx.store.locks import break_locks, exclusive, list_locks, shared
from dvx.store.roots import expire_roots, marker_names, read_roots, write_roots

KiB = 1 << 10


# ---------------------------------------------------------------- helpers
def _remote(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], Any]:
    """(url, dvx remote options, fsspec filesystem) of a fresh folder, moto or SeaweedFS remote."""
    if kind == "folder":
        from fsspec.implementations.local import LocalFileSystem

        return str(tmp_path / "remote"), {}, LocalFileSystem()
    b = request.getfixturevalue("seaweedfs").bucket() if kind == "seaweedfs" else request.getfixturevalue("s3_bucket")()
    return f"{b.url}/store", dict(b.options), b.fs()


def _store(url: str, opts: dict[str, Any]) -> ObjectStore:
    return open_url(url, opts, name="store").store


_HOLDER = """
import sys
from dvx.remote import open_url
from dvx.store.locks import exclusive, shared
store = open_url(sys.argv[1], {k: v for k, v in [a.split("=", 1) for a in sys.argv[3:]]}, name="store").store
with (exclusive if sys.argv[2] == "exclusive" else shared)(store, "gc" if sys.argv[2] == "exclusive" else "push"):
    print("held", flush=True)
    sys.stdin.readline()
"""


class Holder:
    """Another process holding a lock on the store until ``release``."""

    def __init__(self, url: str, opts: dict[str, Any], kind: str) -> None:
        args = [f"{k}={v}" for k, v in opts.items()]
        self.p = subprocess.Popen([sys.executable, "-c", _HOLDER, url, kind, *args], env=env(), text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.p.stdout is not None and self.p.stdout.readline() == "held\n", self.p.stderr

    def release(self) -> None:
        out, err = self.p.communicate("\n", timeout=60)
        assert self.p.returncode == 0, err


def _lock_file(store: ObjectStore, name: str, **fields: Any) -> None:
    now = int(time.time())
    body = {"version": 1, "exclusive": False, "op": "push", "host": "elsewhere", "pid": 4242,
            "clone": "0123456789abcdef", "created": now, "refreshed": now} | fields
    if store.local:
        os.makedirs(f"{store.root}/locks", exist_ok=True)
    store.fs.pipe_file(f"{store.root}/locks/{name}", json.dumps(body).encode())


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@dataclass
class MiniPlan:
    index_files: list[str]
    packs: list[bytes]


def mini_plan(store: ObjectStore, live: set[Any]) -> MiniPlan:
    """Index files naming only packs without a live object, and the packs only they name."""
    recs = {n: list(decode_index(d).values()) for n, d in store._files.load(store._files.names())}
    live_packs = {r.pack for rs in recs.values() for r in rs if r.oid in live}
    dead = [n for n, rs in recs.items() if all(r.pack not in live_packs for r in rs)]
    kept = {r.pack for n, rs in recs.items() if n not in dead for r in rs}
    return MiniPlan(dead, sorted({r.pack for n in dead for r in recs[n]} - kept))


def mini_apply(store: ObjectStore, plan: MiniPlan) -> int:
    """Index files first, then the packs (no index ever names a missing pack)."""
    fs = store.fs
    for n in plan.index_files:
        fs.rm_file(index_path(store.root, bytes.fromhex(n)))
    for p in plan.packs:
        fs.rm_file(pack_path(store.root, p))
    return len(plan.packs)


def _hub(tmp_path: Path, url: str, opts: dict[str, Any]) -> Path:
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(hub))
    seed = make_git_repo(tmp_path / "seed")
    run_dvx(seed, "init")
    run_dvx(seed, "remote", "add", "-d", "store", url)
    if opts.get("endpoint_url"):
        run_dvx(seed, "remote", "modify", "store", "endpoint_url", opts["endpoint_url"])
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "dvx init", "--no-verify")
    git(seed, "push", "-q", str(hub), "main")
    return hub


def _clone(hub: Path, dest: Path) -> Path:
    git(hub.parent, "clone", "-q", str(hub), str(dest))
    git(dest, "config", "user.name", "dvx test")
    git(dest, "config", "user.email", "test@example.invalid")
    return dest


def _start(repo: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dvx", *args], cwd=repo, env=env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _live_ids(g: Path, store: ObjectStore) -> set[Any]:
    """What the gc clone keeps: everything every commit the hub has reaches (as it knows them now)."""
    from dvx.scope import Revisions, gather
    from dvx.workspace import Workspace

    git(g, "fetch", "-q", "origin")
    revs = git(g, "rev-list", "--remotes").stdout.split()
    roots = gather(Workspace(g), Revisions(revs=tuple(revs)), workspace=False).roots()
    return marked_closure(store, [o for o, _t in roots], set())


# ---------------------------------------------------------------- lock files
@pytest.mark.parametrize("kind", ["folder", "s3", "seaweedfs"])
def test_exclusive_refused_while_another_process_holds_a_shared_lock(
        tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    url, opts, _fs = _remote(kind, tmp_path, request)
    store = _store(url, opts)
    h = Holder(url, opts, "shared")
    try:
        with pytest.raises(LockedError) as e, exclusive(store, "gc", remote="store"):
            pass
        msg = e.value.format_message()
        assert f"is locked by push (shared) on host {socket.gethostname()}, pid {h.p.pid}" in msg
        assert "wait for it to finish" in msg and "--break-lock -f -r store" in msg
        assert [i.pid for i in list_locks(store)] == [h.p.pid]  # the refused gc left no file
        with shared(store, "push", wait=0):  # shared locks coexist
            assert len(list_locks(store)) == 2
    finally:
        h.release()
    assert list_locks(store) == []
    with exclusive(store, "gc") as held:
        assert [i.exclusive for i in list_locks(store)] == [True] and held.info.op == "gc"
    assert list_locks(store) == []


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_shared_refused_while_exclusive_held(tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    url, opts, _fs = _remote(kind, tmp_path, request)
    store = _store(url, opts)
    h = Holder(url, opts, "exclusive")
    try:
        with pytest.raises(LockedError, match=r"locked by gc \(exclusive\) on host .*; cannot take a lock for push"), \
                shared(store, "push", wait=0):
            pass
        with pytest.raises(LockedError):  # and a second exclusive one
            with exclusive(store, "gc"):
                pass
        assert [i.pid for i in list_locks(store)] == [h.p.pid]  # neither left a file
    finally:
        h.release()
    with shared(store, "push", wait=0):
        pass


@pytest.mark.parametrize("first", ["exclusive", "shared"])
def test_two_lockers_writing_at_once_back_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str) -> None:
    """Another process writes its lock file right after this one wrote its own (before it lists):
    the exclusive one backs off, and a shared one beside an exclusive one does too."""
    import dvx.store.locks as locks

    store = _store(str(tmp_path / "remote"), {})
    real_new = locks._new

    def racing_new(*a: Any, **kw: Any) -> Any:
        held = real_new(*a, **kw)
        _lock_file(store, "00000000000000e1", exclusive=first == "shared", op="gc" if first == "shared" else "push")
        return held

    monkeypatch.setattr(locks, "_new", racing_new)
    with pytest.raises(LockedError, match="refreshed [0-9]+ s ago; cannot take"):
        with (exclusive(store, "gc") if first == "exclusive" else shared(store, "push", wait=0)):
            pass
    assert [i.name for i in list_locks(store)] == ["00000000000000e1"]  # its own file is gone


def test_a_push_waits_for_a_gc_and_then_succeeds(tmp_path: Path) -> None:
    url = str(tmp_path / "remote")
    repo = make_git_repo(tmp_path / "repo")
    run_dvx(repo, "init")
    run_dvx(repo, "remote", "add", "-d", "store", url)
    (repo / "a.bin").write_bytes(random.Random(1).randbytes(300 * KiB))
    run_dvx(repo, "add", "a.bin")
    store = _store(url, {})
    with exclusive(store, "gc"):
        p = _start(repo, "push")
        assert p.stderr is not None
        line = p.stderr.readline()  # printed once the push found the gc's lock: certainly concurrent
        assert "waiting for gc (exclusive) on host" in line and url in line
        assert p.poll() is None
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert len(read_roots(store, 0)) == 1 and list_locks(store) == []


@pytest.mark.parametrize("kind", ["folder", "s3", "seaweedfs"])
def test_stale_locks_are_reported_and_break_lock_fixes_them(
        tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    url, opts, _fs = _remote(kind, tmp_path, request)
    store = _store(url, opts)
    old = int(time.time()) - 3 * 3600
    _lock_file(store, "00000000000000a1", refreshed=old, created=old)            # not refreshed for 3 h
    _lock_file(store, "00000000000000a2", host=socket.gethostname(), pid=_dead_pid())  # this host, process gone
    _lock_file(store, "00000000000000a3", exclusive=True, op="gc")               # live, another host
    for name in ("00000000000000a1", "00000000000000a2"):
        assert name in {i.name for i in list_locks(store) if i.is_stale(time.time(), 1800)}
    with pytest.raises(LockedError) as e, exclusive(store, "gc", remote="store"):
        pass
    msg = e.value.format_message()
    assert "push (shared) on host elsewhere, pid 4242, refreshed 3.0 h ago: stale" in msg
    assert "(hint: if no dvx process is still running there, run `dvx gc --break-lock -r store`)" in msg
    # --break-lock removes the two stale ones and says which; the live one stays
    gone = break_locks(store)
    assert sorted(i.name for i in gone) == ["00000000000000a1", "00000000000000a2"]
    assert [i.name for i in list_locks(store)] == ["00000000000000a3"]
    with pytest.raises(LockedError, match=r"refreshed [0-9]+ s ago; cannot") as e2, exclusive(store, "gc", remote="store"):
        pass
    assert "`dvx gc --break-lock -f -r store`" in e2.value.format_message()
    assert [i.name for i in break_locks(store, force=True)] == ["00000000000000a3"]  # -f: the hint's command
    with exclusive(store, "gc"):
        pass
    # An unreadable lock file counts as a stale exclusive lock
    # An unreadable lock file (another version, a host name that would break the one-line message)
    # counts as a stale exclusive lock
    _lock_file(store, "00000000000000a4", version=99)
    _lock_file(store, "00000000000000a5", host="evil\nerror: fake")
    with pytest.raises(LockedError, match="an unreadable lock file locks/00000000000000a4: stale") as e3:
        with shared(store, "push", wait=0):
            pass
    assert "\n" not in e3.value.format_message()
    assert [i.name for i in break_locks(store)] == ["00000000000000a4", "00000000000000a5"]


def test_a_stale_gc_lock_stops_push_with_the_hint_and_break_lock_fixes_it(tmp_path: Path) -> None:
    url = str(tmp_path / "remote")
    repo = make_git_repo(tmp_path / "repo")
    run_dvx(repo, "init")
    run_dvx(repo, "remote", "add", "-d", "store", url)
    (repo / "a.bin").write_bytes(random.Random(2).randbytes(200 * KiB))
    run_dvx(repo, "add", "a.bin")
    store = _store(url, {})
    _lock_file(store, "00000000000000b1", exclusive=True, op="gc", host=socket.gethostname(), pid=_dead_pid())
    cp = run_dvx(repo, "push", check=False)
    assert cp.returncode == 1
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: remote 'store' ({url}) is locked by gc (exclusive) on host")
    assert ": stale, cannot take a lock for push (hint: if no dvx process is still running there, " \
           "run `dvx gc --break-lock -r store`)" in lines[0]
    assert not (tmp_path / "remote" / "index").exists()  # nothing was pushed
    done = follow(repo, commands(cp)[0])  # the hint's command, through the real CLI
    assert "removed lock 00000000000000b1 (gc (exclusive) on host" in done.stdout
    assert list_locks(store) == []
    run_dvx(repo, "push")
    assert list_locks(store) == [] and len(read_roots(store, 0)) == 1


def test_the_holder_refreshes_its_lock_and_notices_a_break(tmp_path: Path) -> None:
    store = _store(str(tmp_path / "remote"), {})
    with shared(store, "push", refresh=0.05) as held:
        first = list_locks(store)[0].refreshed
        while list_locks(store)[0].refreshed == first:  # rewritten by the daemon thread
            time.sleep(0.05)
        held.check()
        assert break_locks(store, force=True)
        while held._lost is None:  # the next refresh finds its file gone and does not write it again
            time.sleep(0.05)
        with pytest.raises(LockedError, match=r"the push lock locks/[0-9a-f]{16} was removed"):
            held.check()
    assert list_locks(store) == []


# ---------------------------------------------------------------- roots markers
@pytest.mark.parametrize("kind", ["folder", "s3", "seaweedfs"])
def test_push_writes_a_roots_marker_even_when_the_remote_had_everything(
        tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    url, opts, _fs = _remote(kind, tmp_path, request)
    repo = make_git_repo(tmp_path / "repo")
    run_dvx(repo, "init")
    run_dvx(repo, "remote", "add", "-d", "store", url)
    if opts:
        run_dvx(repo, "remote", "modify", "store", "endpoint_url", opts["endpoint_url"])
    rng = random.Random(3)
    (repo / "a.bin").write_bytes(rng.randbytes(100 * KiB))
    (repo / "d").mkdir()
    (repo / "d" / "x.bin").write_bytes(rng.randbytes(50 * KiB))
    run_dvx(repo, "add", "a.bin", "d")
    ids = {bytes.fromhex(json.loads(run_dvx(repo, "ls", "--json").stdout)[k]["id"]) for k in (0, 1)}
    t0 = int(time.time())
    run_dvx(repo, "push")
    store = _store(url, opts)
    assert read_roots(store, t0) == ids
    run_dvx(repo, "push")  # nothing to send: the marker still says what it relied on
    names = marker_names(store)
    assert len(names) == 2 and read_roots(store, t0) == ids
    assert read_roots(store, time.time() + 10) == set()
    assert sorted(expire_roots(store, time.time() + 10)) == sorted(names)
    assert read_roots(store, 0) == set()


def test_an_unreadable_roots_marker_stops_gc(tmp_path: Path) -> None:
    store = _store(str(tmp_path / "remote"), {})
    write_roots(store, [b"\x01" * 16])
    (tmp_path / "remote" / "roots" / "00000000000000c1").write_text("{not json")
    from dvx.errors import CorruptObjectError

    with pytest.raises(CorruptObjectError, match=r"roots/00000000000000c1: not a roots marker"):
        collect(store, set, mini_plan, mini_apply, 3600)


# ---------------------------------------------------------------- the local cache
def test_local_gc_waits_for_a_lazy_fetch_into_the_cache(tmp_path: Path) -> None:
    """Decision: a gc of the local cache takes ``<cache>/fetch.lock`` (with the repository lock), so a lazy
    read of the Python API (``fetch_objects``) never writes into a cache being swept."""
    repo = make_git_repo(tmp_path / "repo")
    run_dvx(repo, "init")
    cache = ObjectStore(None, str(repo / ".dvx" / "cache"))
    code = ("import sys; from dvx.store import ObjectStore; from dvx.remote import fetch_lock\n"
            f"with fetch_lock(ObjectStore(None, {str(cache.root)!r})):\n"
            "    print('held', flush=True); sys.stdin.readline()\n")
    p = subprocess.Popen([sys.executable, "-c", code], env=env(), text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline() == "held\n"
    calls: list[str] = []
    try:
        with pytest.raises(LockTimeoutError, match="fetch.lock: still locked by another dvx process"):
            collect(cache, set, lambda s, live: calls.append("plan"), lambda s, plan: calls.append("apply"), 3600,
                    lock=lambda: fetch_lock(cache, timeout=0))
        assert calls == ["plan"]  # marked, never swept
    finally:
        p.communicate("\n", timeout=60)
    collect(cache, set, lambda s, live: calls.append("plan"), lambda s, plan: calls.append("apply"), 3600,
            lock=lambda: fetch_lock(cache, timeout=0))
    assert calls == ["plan", "plan", "apply"]


# ---------------------------------------------------------------- two phases
def test_collect_marks_but_does_not_sweep_beside_a_push(tmp_path: Path) -> None:
    url = str(tmp_path / "remote")
    store = _store(url, {})
    calls: list[str] = []
    h = Holder(url, {}, "shared")
    try:
        with pytest.raises(LockedError, match=r"locked by push \(shared\).*cannot take the exclusive lock for gc"):
            collect(store, set, lambda s, live: calls.append("plan"), lambda s, plan: calls.append("apply"), 3600)
    finally:
        h.release()
    assert calls == ["plan"] and list_locks(store) == []


def test_a_push_between_mark_and_sweep_is_kept(tmp_path: Path) -> None:
    """The mark says garbage; a push that deduplicates against it finishes before the lock: the re-check keeps it."""
    url = str(tmp_path / "remote")
    rng = random.Random(4)
    scratch = rng.randbytes(300 * KiB)
    repo = make_git_repo(tmp_path / "repo")
    run_dvx(repo, "init")
    run_dvx(repo, "remote", "add", "-d", "store", url)
    (repo / "s.bin").write_bytes(scratch)
    run_dvx(repo, "add", "s.bin")
    run_dvx(repo, "push")  # pushed, never committed: garbage once its marker is past the grace period
    expire_roots(_store(url, {}), time.time() + 10)
    (repo / "s.bin").unlink()
    (repo / "s.bin.dvx").unlink()
    (repo / "v.bin").write_bytes(scratch)  # the same bytes, the same manifest: its push sends nothing
    run_dvx(repo, "add", "v.bin")
    store = _store(url, {})
    pushed: list[str] = []

    def plan_then_push(s: ObjectStore, live: set[Any]) -> MiniPlan:
        plan = mini_plan(s, live)
        if not pushed:  # the mark is done; now the push runs to completion
            assert plan.packs, "the scratch pack is garbage at the mark"
            pushed.append(run_dvx(repo, "push").stdout)
        return plan

    done = collect(store, set, plan_then_push, mini_apply, 3600)
    assert done.replanned and done.kept_by_markers > 0 and done.stats == 0
    # a fresh repository with v.bin's pointer pulls its bytes from the remote
    fresh = make_git_repo(tmp_path / "fresh")
    run_dvx(fresh, "init")
    run_dvx(fresh, "remote", "add", "-d", "store", url)
    (fresh / "v.bin.dvx").write_bytes((repo / "v.bin.dvx").read_bytes())
    run_dvx(fresh, "pull")
    assert (fresh / "v.bin").read_bytes() == scratch
    # and once the marker is past the grace period (no commit names v.bin), gc takes it
    assert collect(_store(url, {}), set, mini_plan, mini_apply, 0, now=time.time() + 10).stats > 0


_GRACE = 8  # seconds: longer than a push's end to its commit reaching the gc clone, shorter than a round


def _gc_cloud(g: Path) -> tuple[int, bool]:
    """``dvx gc --cloud -A -f`` in the gc clone, after fetching what the others committed:
    (packs deleted on the remote, refused because a push held its lock)."""
    git(g, "fetch", "-q", "origin")
    cp = run_dvx(g, "gc", "--cloud", "-A", "-f", "--json", check=False)
    if cp.returncode == 1 and "is locked by push" in cp.stderr:
        return 0, True
    assert cp.returncode == 0, cp.stderr
    remote = [st for st in json.loads(cp.stdout)["stores"] if st["store"].startswith("remote")]
    return int(remote[0]["done"]["packs_deleted"]), False


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_two_clones_push_while_a_third_gcs_the_remote(tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    """The real ``dvx gc --cloud`` in a third clone, again and again while two clones push data that
    deduplicates against what gc sees as garbage; every committed version pulls byte-identical."""
    url, opts, fs = _remote(kind, tmp_path, request)
    hub = _hub(tmp_path, url, opts)
    a, b, g = _clone(hub, tmp_path / "a"), _clone(hub, tmp_path / "b"), _clone(hub, tmp_path / "g")
    (g / ".dvx" / "config.local").write_text(f'[gc]\ngrace = "{_GRACE}s"\n')
    rng = random.Random(5)
    versions: list[tuple[str, dict]] = []
    swept = refused = 0
    for rnd in range(3):
        # Each clone pushes two files it never commits: junk (garbage for good) and scratch, whose
        # bytes both clones then commit: their pushes deduplicate against what gc sees as garbage.
        scratch = {c: rng.randbytes(200 * KiB) for c in "ab"}
        for clone, c in ((a, "a"), (b, "b")):
            for name, data in ((f"junk{rnd}", rng.randbytes(150 * KiB)), (f"scratch{rnd}", scratch[c])):
                (clone / c).mkdir(exist_ok=True)
                (clone / c / name).write_bytes(data)
                run_dvx(clone, "add", f"{c}/{name}")
                run_dvx(clone, "push", f"{c}/{name}")
                (clone / c / name).unlink()
                (clone / c / f"{name}.dvx").unlink()
        time.sleep(_GRACE + 0.5)  # their packs and roots markers are now older than the grace period
        for clone, c in ((a, "a"), (b, "b")):
            (clone / c / "data.bin").write_bytes(scratch["a"] + rng.randbytes(50 * KiB) + scratch["b"])
            (clone / c / "dir").mkdir(exist_ok=True)
            for k in range(4):
                (clone / c / "dir" / f"f{k}.bin").write_bytes(rng.randbytes(30 * KiB))
            run_dvx(clone, "add", f"{c}/data.bin", f"{c}/dir")
            git(clone, "add", "-A")
            git(clone, "commit", "-qm", f"{c} round {rnd}", "--no-verify")
            versions.append((git(clone, "rev-parse", "HEAD").stdout.strip(), tree_bytes(clone)))
        pushes = [_start(a, "push"), _start(b, "push")]
        while any(p.poll() is None for p in pushes):  # gc again and again while the pushes run
            n, was_refused = _gc_cloud(g)
            swept += n
            refused += was_refused
            if not was_refused:
                time.sleep(1.5)  # a waiting push polls every second: let it in between two sweeps
        for p, what in zip(pushes, "ab", strict=True):
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, f"push in {what}: {out}\n{err}"
        # The commits reach the hub right after their data, as the pre-push hook orders it; the grace
        # period covers that gap (docs/format.md), not the time a gc takes to start on a loaded machine.
        git(a, "push", "-q", "origin", "main")
        git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
        git(b, "push", "-q", "origin", "main")
        git(a, "pull", "-q", "--ff-only", "origin", "main")
        while True:  # and once after, when nothing holds the lock
            n, was_refused = _gc_cloud(g)
            swept += n
            refused += was_refused
            if not was_refused:
                break
        run_dvx(b, "pull")  # the other clone's data, pushed beside a gc
        run_dvx(a, "pull")
        versions.append((git(b, "rev-parse", "HEAD").stdout.strip(), tree_bytes(b)))
    time.sleep(_GRACE + 0.5)
    swept += _gc_cloud(g)[0]  # every commit is known now: the junk goes
    assert swept > 0, "gc removed nothing: the test would prove nothing"
    fresh = _clone(hub, tmp_path / "fresh")
    for sha, want in versions:
        git(fresh, "clean", "-q", "-fdx", "-e", ".dvx")
        git(fresh, "checkout", "-q", "--detach", sha)
        run_dvx(fresh, "pull")
        got = tree_bytes(fresh)
        assert got == want, f"version {sha[:10]}: {sorted(set(got) ^ set(want))}"
    root = url if "://" not in url else url.split("://", 1)[1]
    assert verify_store(fs, root) > 0
    print(f"swept {swept} packs, gc refused {refused} times beside a push")


def test_lock_settings_from_config_and_the_live_lock_hint(tmp_path: Path) -> None:
    url = str(tmp_path / "remote")
    repo = make_git_repo(tmp_path / "repo")
    run_dvx(repo, "init")
    run_dvx(repo, "remote", "add", "-d", "store", url)
    (repo / "a.bin").write_bytes(random.Random(6).randbytes(100 * KiB))
    run_dvx(repo, "add", "a.bin")
    local = repo / ".dvx" / "config.local"
    local.write_text('[core]\nlock_wait = "soon"\n')
    cp = run_dvx(repo, "push", check=False)
    assert cp.returncode == 2
    assert f'error: {local}:2: [core] lock_wait must be a duration such as "30m", "1h" or "2d", got \'soon\'' \
        in cp.stderr
    local.write_text('[core]\nlock_wait = "0s"\nlock_stale = "2h"\n')
    store = _store(url, {})
    old = int(time.time()) - 3600  # stale under the default 30 min, live under lock_stale = "2h"
    _lock_file(store, "00000000000000d1", exclusive=True, op="gc", refreshed=old)
    cp = run_dvx(repo, "push", check=False)  # lock_wait = 0: no waiting
    assert cp.returncode == 1
    assert re.search(r"is locked by gc \(exclusive\) on host elsewhere, pid 4242, refreshed [0-9]+ min ago; cannot "
                     r"take a lock for push \(hint: wait for it to finish; if that process is gone, run "
                     r"`dvx gc --break-lock -f -r store`\)", cp.stderr), cp.stderr
    assert break_locks(store, stale=7200) == []  # live: only -f removes it
    no_f = run_dvx(repo, "gc", "--break-lock", "-r", "store")
    assert "no stale lock files" in no_f.stdout and [i.name for i in list_locks(store)] == ["00000000000000d1"]
    done = follow(repo, commands(cp)[0])  # `dvx gc --break-lock -f -r store`
    assert "removed lock 00000000000000d1" in done.stdout and list_locks(store) == []
    run_dvx(repo, "push")
    assert list_locks(store) == [] and len(read_roots(store, 0)) == 1
