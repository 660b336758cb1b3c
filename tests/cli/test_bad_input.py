"""Bad input and faults for the core commands (issue 2): one clear line, right exit code, nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dvxtest import env, git, run_dvx


def _one_line_error(cp: subprocess.CompletedProcess[str]) -> str:
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1, cp.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in cp.stderr
    return lines[0]


def test_empty_file_round_trip(repo: Path) -> None:
    (repo / "empty.csv").write_bytes(b"")
    run_dvx(repo, "add", "empty.csv")
    assert "size: 0" in (repo / "empty.csv.dvx").read_text()
    (repo / "empty.csv").unlink()
    run_dvx(repo, "checkout")
    assert (repo / "empty.csv").read_bytes() == b""


@pytest.mark.slow
def test_sparse_file_over_4gib(repo: Path) -> None:
    size = (4 << 30) + 12345
    p = repo / "sparse.bin"
    with open(p, "wb") as f:
        f.truncate(size)
        f.seek(1 << 30)
        f.write(b"island of data" * 1000)
    run_dvx(repo, "add", "sparse.bin", timeout=300)
    assert f"size: {size}" in (repo / "sparse.bin.dvx").read_text()
    cache = sum(x.stat().st_size for x in (repo / ".dvx" / "cache").rglob("*") if x.is_file())
    assert cache < 4 << 20  # zeros dedup to a handful of chunks
    p.unlink()
    run_dvx(repo, "checkout", timeout=300)
    assert p.stat().st_size == size
    with open(p, "rb") as f:
        f.seek(1 << 30)
        assert f.read(14) == b"island of data"
        f.seek(size - 10)
        assert f.read() == b"\0" * 10


def test_unreadable_file(repo: Path) -> None:
    (repo / "ok.bin").write_bytes(b"fine")
    secret = repo / "secret.bin"
    secret.write_bytes(b"x" * 1000)
    os.chmod(secret, 0o000)
    cmd = [sys.executable, "-m", "dvx", "add", "ok.bin", "secret.bin"]
    if os.geteuid() == 0:
        # Permission bits do not stop root: drop the two capabilities that
        # bypass them (util-linux setpriv) so the read really fails.
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *cmd]
    cp = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env())
    assert cp.returncode == 1, cp.stderr
    line = _one_line_error(cp)
    assert "secret.bin" in line and "cannot read" in line
    # nothing half-written: no pointer for the unreadable file, no temp files
    assert not (repo / "secret.bin.dvx").exists()
    assert not list((repo / ".dvx" / "cache").rglob("*.tmp"))
    assert not [p for p in repo.iterdir() if p.name.startswith(".secret")]


def test_path_outside_repo(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    cp = run_dvx(repo, "add", str(outside), check=False)
    assert cp.returncode == 2
    assert "outside the repository" in _one_line_error(cp)
    cp = run_dvx(repo, "add", "../outside.txt", check=False)
    assert cp.returncode == 2


def test_symlink_refused_and_skipped_inside_dirs(repo: Path) -> None:
    (repo / "target.txt").write_text("t")
    (repo / "link.txt").symlink_to("target.txt")
    cp = run_dvx(repo, "add", "link.txt", check=False)
    assert cp.returncode == 2
    assert "symbolic link" in _one_line_error(cp)
    (repo / "d").mkdir()
    (repo / "d" / "real").write_text("r")
    (repo / "d" / "alias").symlink_to("real")
    run_dvx(repo, "add", "d")
    assert "files: 1" in (repo / "d.dvx").read_text()


def test_path_tracked_by_git(repo: Path) -> None:
    (repo / "code.py").write_text("print(1)\n")
    git(repo, "add", "code.py")
    cp = run_dvx(repo, "add", "code.py", check=False)
    assert cp.returncode == 2
    line = _one_line_error(cp)
    assert "already tracked by git" in line and "git rm --cached code.py" in line
    assert not (repo / "code.py.dvx").exists()


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda t: t.replace("size: 3000", "size: lots"), ":5: 'size' must be a non-negative integer"),
        (lambda t: "\n".join(t.splitlines()[:3]) + "\n", "missing 'id'"),
        (lambda t: t.replace("type: file", "type: folder"), ":3: 'type' must be one of file, dir"),
        (lambda t: "", "is empty"),
        (lambda t: t.replace("id: ", "id: zz"), ":4: 'id' must be 32 lowercase hex digits"),
    ],
)
def test_bad_pointer_names_file_and_line(repo: Path, mutate, expect: str) -> None:
    (repo / "a.bin").write_bytes(b"abc" * 1000)
    run_dvx(repo, "add", "a.bin")
    ptr = repo / "a.bin.dvx"
    ptr.write_text(mutate(ptr.read_text()))
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 2
    line = _one_line_error(cp)
    assert "a.bin.dvx" in line and expect in line
    # status reports the state, then exits 2 like every command that meets a broken pointer
    cp = run_dvx(repo, "status", "--json", check=False)
    assert cp.returncode == 2 and "a.bin.dvx" in _one_line_error(cp)
    st = json.loads(cp.stdout)
    assert st["paths"][0]["state"] == "broken-pointer"


def test_conflict_markers_in_pointer(repo: Path) -> None:
    (repo / "a.bin").write_bytes(b"v1" * 1000)
    run_dvx(repo, "add", "a.bin")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "other")
    (repo / "a.bin").write_bytes(b"v2" * 1000)
    run_dvx(repo, "add", "a.bin")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "a.bin").write_bytes(b"v3" * 1000)
    run_dvx(repo, "add", "a.bin")
    git(repo, "commit", "-qam", "main")
    assert git(repo, "merge", "other", check=False).returncode != 0
    cp = run_dvx(repo, "checkout", check=False)
    assert cp.returncode == 2
    line = _one_line_error(cp)
    assert "a.bin.dvx:" in line and "merge conflict" in line and "--theirs" in line


def _cache_is_consistent(repo: Path) -> None:
    """Every object every index names is readable and hashes to its id."""
    code = (
        "import sys; from dvx.workspace import Workspace\n"
        "ws = Workspace(sys.argv[1]); c = ws.cache\n"
        "n = 0\n"
        "for oid in list(c.entries()):\n    c.get(oid); n += 1\n"
        "print('OK', n)"
    )
    cp = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True)
    assert cp.returncode == 0 and "OK" in cp.stdout, cp.stderr


@pytest.mark.slow
def test_kill_during_add_then_rerun(repo: Path) -> None:
    data = os.urandom(96 << 20)
    (repo / "big.bin").write_bytes(data)
    for delay in (0.15, 0.4, 0.8):
        p = subprocess.Popen([sys.executable, "-m", "dvx", "add", "big.bin"], cwd=repo, env=env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        _cache_is_consistent(repo)
        if not (repo / "big.bin.dvx").exists():
            continue
    run_dvx(repo, "add", "big.bin")
    _cache_is_consistent(repo)
    (repo / "big.bin").unlink()
    run_dvx(repo, "checkout")
    assert (repo / "big.bin").read_bytes() == data


def test_two_adds_at_once_wait_for_the_lock(repo: Path) -> None:
    import threading

    from dvx.workspace.lock import repo_lock

    (repo / "a.bin").write_bytes(os.urandom(8 << 20))
    (repo / "b.bin").write_bytes(os.urandom(1 << 20))
    lock = repo / ".dvx" / "tmp" / "lock"
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        # Another writer holding the repository lock, for as long as the test says.
        with repo_lock(lock, quiet=True):
            held.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    second = subprocess.Popen([sys.executable, "-m", "dvx", "add", "b.bin"], cwd=repo, env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert second.poll() is None  # it waits for the lock instead of writing beside the holder
    assert not (repo / "b.bin.dvx").exists()
    release.set()
    t.join()
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "waiting for another dvx process" in err
    assert (repo / "b.bin.dvx").exists()
    # and two real adds at once both complete, leaving a consistent cache
    first = subprocess.Popen([sys.executable, "-m", "dvx", "add", "a.bin"], cwd=repo, env=env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dvx(repo, "add", "b.bin")
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert (repo / "a.bin.dvx").exists()
    _cache_is_consistent(repo)


@pytest.mark.parametrize("name", ["données-é.csv", "数据.bin"])
def test_unicode_names(repo: Path, name: str) -> None:
    (repo / name).write_bytes(b"u" * 100)
    run_dvx(repo, "add", name)
    assert (repo / (name + ".dvx")).exists()
    (repo / name).unlink()
    run_dvx(repo, "checkout")
    assert (repo / name).read_bytes() == b"u" * 100


def test_non_utf8_names_in_tracked_dir(repo: Path) -> None:
    d = os.fsencode(repo / "d")
    os.mkdir(d)
    bad = d + b"/caf\xe9-latin1.txt"
    with open(bad, "wb") as f:
        f.write(b"latin-1 name")
    with open(d + b"/ok.txt", "wb") as f:
        f.write(b"ok")
    run_dvx(repo, "add", "d")
    os.unlink(bad)
    run_dvx(repo, "checkout")
    with open(bad, "rb") as f:
        assert f.read() == b"latin-1 name"
    # a non-UTF-8 top-level file name too
    top = os.fsencode(repo) + b"/raw\xff.bin"
    with open(top, "wb") as f:
        f.write(b"raw")
    subprocess.run([sys.executable, "-m", "dvx", "add", os.fsdecode(top)], cwd=repo, env=env(), check=True,
                   capture_output=True)
    os.unlink(top)
    run_dvx(repo, "checkout")
    with open(top, "rb") as f:
        assert f.read() == b"raw"
