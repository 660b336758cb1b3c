"""Restic-style lock files on a store: shared (push) and exclusive (gc's sweep).

A lock is ``<root>/locks/<16 random hex>`` holding one JSON object
(docs/format.md, "Locks and gc protocol")::

    {"version": 1, "exclusive": false, "op": "push", "host": "ci-7", "pid": 4711,
     "clone": "5d1c0e6a9b2f4c81", "created": 1764770000, "refreshed": 1764770300}

A holder rewrites it (``refreshed``, UTC epoch seconds) from a daemon
thread every ``refresh`` seconds. A lock is *live* while it was refreshed
within ``stale`` seconds, except that a lock of this host whose pid is
gone is stale at once; a file that does not parse counts as a stale
exclusive lock. Shared locks coexist; an exclusive lock must be the only
one, live or stale: a stale lock is reported (``LockedError``, exit 1) and
removed only by ``break_locks`` (``dvx gc --break-lock``). Both kinds write
their file first and then list the folder, so of two writers racing at
least the later lister sees the other: a shared lock that sees an
exclusive one removes its file and waits, an exclusive one that sees any
other lock removes its file and fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dvx._configkeys import parse_duration as _seconds
from dvx.errors import ConfigError, LockedError
from dvx.hashing import hash_hex
from dvx.store import sidefiles
from dvx.store.store import ObjectStore

LOCKS_DIR = "locks"
LOCK_VERSION = 1
STALE = 30 * 60.0    # `[core] lock_stale`: a lock not refreshed for this long is stale
REFRESH = 5 * 60.0   # how often a holder rewrites its lock
WAIT = 10 * 60.0     # `[core] lock_wait`: how long a push waits for a gc to finish
POLL = 1.0           # seconds between listings while waiting
_MAX = 4096          # bytes read of a lock file
_NAME = re.compile(r"[0-9a-f]{16}")


def parse_duration(value: object, where: str) -> float:
    """Seconds of a duration (``dvx._configkeys.parse_duration``); ConfigError naming ``where``
    (``file:line: [section] key``) otherwise."""
    try:
        return _seconds(value)
    except ValueError as e:
        raise ConfigError(f"{where} {e}", "fix the file by hand") from None


def clone_id(cache_root: str) -> str:
    """A stable id of one clone on one host (16 hex): names the holder in lock files and roots markers."""
    return hash_hex(f"{socket.gethostname()}|{os.path.realpath(cache_root)}".encode())[:16]


@dataclass
class LockInfo:
    """One lock file as read (``readable`` False: it did not parse and counts as a stale exclusive lock)."""

    name: str
    exclusive: bool
    op: str
    host: str
    pid: int
    clone: str
    created: int
    refreshed: int
    readable: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"version": LOCK_VERSION, "exclusive": self.exclusive, "op": self.op, "host": self.host,
                "pid": self.pid, "clone": self.clone, "created": self.created, "refreshed": self.refreshed}

    def age(self, now: float) -> float:
        """Seconds since the holder last refreshed it (0 when its clock is ahead)."""
        return max(0.0, now - self.refreshed)

    def is_stale(self, now: float, stale: float) -> bool:
        """Not refreshed within ``stale`` seconds, unreadable, or of this host with its process gone."""
        if not self.readable or self.age(now) > stale:
            return True
        return self.host == socket.gethostname() and not _alive(self.pid)

    def describe(self, now: float) -> str:
        """``gc (exclusive) on host H, pid P, refreshed 12 s ago``."""
        if not self.readable:
            return f"an unreadable lock file {LOCKS_DIR}/{self.name}"
        kind = "exclusive" if self.exclusive else "shared"
        return f"{self.op} ({kind}) on host {self.host}, pid {self.pid}, refreshed {_ago(self.age(now))} ago"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid we can ask about: assume alive
    return True


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _lock_path(store: ObjectStore, name: str) -> str:
    return f"{store.root}/{LOCKS_DIR}/{name}"


def _parse(name: str, data: bytes | None) -> LockInfo | None:
    """The lock file ``name`` (None when it vanished); an unreadable one as ``readable=False``."""
    if data is None:
        return None
    try:
        if len(data) > _MAX:
            raise ValueError("too long")
        d = json.loads(data)
        fields = (d["exclusive"], d["op"], d["host"], d["pid"], d["clone"], d["created"], d["refreshed"])
        if d.get("version") != LOCK_VERSION or not isinstance(fields[0], bool):
            raise ValueError("unknown version")
        if not all(isinstance(v, str) and len(v) <= 256 and v.isprintable() for v in fields[1:3] + fields[4:5]):
            raise ValueError("bad text field")
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 62 for v in (fields[3], *fields[5:])):
            raise ValueError("bad number")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        return LockInfo(name, True, "?", "?", 0, "", 0, 0, readable=False)
    return LockInfo(name, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6])


def list_locks(store: ObjectStore, skip: str | None = None) -> list[LockInfo]:
    """Every lock file of ``store`` but ``skip`` (names that are not 16 hex, such as temp files, are ignored)."""
    out = []
    for name in sidefiles.list_names(store, LOCKS_DIR):
        if name != skip and _NAME.fullmatch(name):
            info = _parse(name, sidefiles.read_small(store, _lock_path(store, name), _MAX))
            if info is not None:
                out.append(info)
    return out


def locked_error(store: ObjectStore, info: LockInfo, stale: float, remote: str | None, doing: str) -> LockedError:
    """The one-line report of a lock in the way; the hint names ``--break-lock`` only for a stale lock
    (or, with ``-f``, for a process the user knows is gone)."""
    now = time.time()
    r = f" -r {remote}" if remote else ""
    if info.is_stale(now, stale):
        return LockedError(f"{store.where} is locked by {info.describe(now)}: stale, cannot {doing}",
                           f"if no dvx process is still running there, run `dvx gc --break-lock{r}`")
    return LockedError(f"{store.where} is locked by {info.describe(now)}; cannot {doing}",
                       f"wait for it to finish; if that process is gone, run `dvx gc --break-lock -f{r}`")


def break_locks(store: ObjectStore, force: bool = False, *, stale: float = STALE) -> list[LockInfo]:
    """Remove the stale locks of ``store`` (with ``force``, every lock); the ones removed."""
    now = time.time()
    gone = []
    for info in list_locks(store):
        if (force or info.is_stale(now, stale)) and sidefiles.remove(store, _lock_path(store, info.name)):
            gone.append(info)
    return gone


class HeldLock:
    """A lock this process holds: refreshed by a daemon thread until ``release``."""

    def __init__(self, store: ObjectStore, info: LockInfo, stale: float, refresh: float) -> None:
        # Refreshed at least three times per stale limit, whatever `[core] lock_stale` says.
        self.store, self.info, self.stale, self.refresh = store, info, stale, min(refresh, max(stale / 3, 0.05))
        self.path = _lock_path(store, info.name)
        self._last_ok = time.monotonic()
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _write(self) -> None:
        sidefiles.write(self.store, self.path, json.dumps(self.info.to_json(), sort_keys=True).encode())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"dvx-lock-{self.info.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh):
            try:
                if not sidefiles.exists(self.store, self.path):
                    self._lost = "was removed (dvx gc --break-lock)"
                    return
                self.info.refreshed = int(time.time())
                self._write()
                self._last_ok = time.monotonic()
            except Exception:  # noqa: BLE001 - retried at the next tick; check() reports a lock gone stale
                pass

    def check(self) -> None:
        """LockedError when this lock may no longer hold: removed by someone, or not refreshed within
        the stale limit (another process may have taken it as stale)."""
        why = self._lost
        if why is None and time.monotonic() - self._last_ok > self.stale:
            why = f"was not refreshed for {_ago(time.monotonic() - self._last_ok)}"
        if why is not None:
            raise LockedError(f"{self.store.where}: the {self.info.op} lock {LOCKS_DIR}/{self.info.name} {why}",
                              "run the command again")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(Exception):
            sidefiles.remove(self.store, self.path)


def _new(store: ObjectStore, op: str, exclusive: bool, clone: str, stale: float, refresh: float) -> HeldLock:
    now = int(time.time())
    info = LockInfo(secrets.token_hex(8), exclusive, op, socket.gethostname(), os.getpid(), clone, now, now)
    held = HeldLock(store, info, stale, refresh)
    held._write()
    return held


@contextlib.contextmanager
def exclusive(store: ObjectStore, op: str, *, clone: str = "", stale: float = STALE, refresh: float = REFRESH,
              remote: str | None = None) -> Iterator[HeldLock]:
    """Hold the only lock of ``store`` for the block; LockedError (nothing written) when any other lock,
    live or stale, exists before or right after this one is written."""
    doing = f"take the exclusive lock for {op}"
    others = list_locks(store)
    if others:
        raise locked_error(store, others[0], stale, remote, doing)
    held = _new(store, op, True, clone, stale, refresh)
    try:
        others = list_locks(store, skip=held.info.name)
        if others:  # another process wrote its lock at the same moment: this one backs off
            raise locked_error(store, others[0], stale, remote, doing)
        held.start()
        yield held
    finally:
        held.release()


@contextlib.contextmanager
def shared(store: ObjectStore, op: str, *, clone: str = "", stale: float = STALE, refresh: float = REFRESH,
           wait: float = WAIT, remote: str | None = None, quiet: bool = False) -> Iterator[HeldLock]:
    """Hold a shared lock of ``store`` for the block. While an exclusive lock exists the lock is not held:
    a live one is waited for (at most ``wait`` seconds), a stale one is reported (LockedError)."""
    doing = f"take a lock for {op}"
    deadline = time.monotonic() + wait
    told = False
    while True:
        held = _new(store, op, False, clone, stale, refresh)
        try:
            blocker = next((i for i in list_locks(store, skip=held.info.name) if i.exclusive), None)
        except BaseException:
            held.release()
            raise
        if blocker is None:
            break
        held.release()
        if blocker.is_stale(time.time(), stale) or time.monotonic() >= deadline:
            raise locked_error(store, blocker, stale, remote, doing)
        if not told and not quiet:
            print(f"waiting for {blocker.describe(time.time())} to release {store.where} ...", file=sys.stderr)
            told = True
        time.sleep(min(POLL, max(0.0, deadline - time.monotonic())))
    try:
        held.start()
        yield held
    finally:
        held.release()
