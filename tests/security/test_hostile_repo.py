"""A hostile repository cannot make dvx write outside the work tree or into .git/.dvx (issue 10, defects 1 and 2).

Each case commits something crafted (a pointer naming ``.git``, a tree whose
entry is ``sub/.git/hooks/post-checkout`` or ``../escape``, a symbolic link
in the way) to a copy of an origin repository, clones it as a victim would,
and runs ``dvx pull`` against a real remote (a folder, or a moto S3 server).
The crafted trees are built byte by byte (docs/format.md, TreeManifest) and
written straight into the remote store, since dvx's own encoder refuses them.

Checked every time: the command fails with exit 2 and one line naming the
pointer file or link; a sibling folder outside the clone, ``.git`` and
dvx's own files are byte-identical before and after; git still works.
"""

from __future__ import annotations

import os
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dvxtest import git, make_git_repo, run_dvx
from s3kit import _make_bucket

from dvx import repo as dvx_repo
from dvx.errors import DvxError
from dvx.hashing import hash_bytes
from dvx.store.objects import ChunkRef, FileManifest, ObjectType
from dvx.workspace import pointer as ptr

HOOK = b"#!/bin/sh\ntouch \"$(dirname \"$0\")/../../../PWNED\"\n"


# ---------------------------------------------------------------- the arsenal


def tree_raw(entries: list[tuple[bytes, bytes, int, bool]]) -> bytes:
    """A TreeManifest encoded by hand (no path checks): head, then sorted records."""
    entries = sorted(entries)
    total = sum(e[2] for e in entries)
    out = [struct.pack("<4sHHQQ", b"DVXT", 1, 0, len(entries), total)]
    for path, oid, size, executable in entries:
        out.append(struct.pack("<16sQBI", oid, size, 1 if executable else 0, len(path)) + path)
    return b"".join(out)


@dataclass
class Arsenal:
    """An origin repository whose committed config names a remote holding the payload objects."""

    origin: Path
    url: str
    options: dict[str, Any]
    file_oid: bytes  # FileManifest of HOOK
    size: int

    def remote_put(self, otype: ObjectType, raw: bytes) -> bytes:
        """Write one object straight into the remote store; its id."""
        from dvx.remote import open_url

        oid = hash_bytes(raw)
        rem = open_url(self.url, self.options)
        with rem.store.writer() as w:
            w.put(oid, otype, raw)
        return oid

    def tree(self, paths: list[bytes]) -> tuple[bytes, str]:
        """A crafted tree on the remote whose entries all hold HOOK (executable); (id, pointer text)."""
        oid = self.remote_put(ObjectType.TREE, tree_raw([(p, self.file_oid, self.size, True) for p in paths]))
        p = ptr.Pointer("dir", oid.hex(), self.size * len(paths), len(paths), len(paths))
        return oid, p.dumps("data")

    def file_pointer(self) -> str:
        return ptr.Pointer("file", self.file_oid.hex(), self.size, 1, 1).dumps("file")


def _arsenal(base: Path, url: str, options: dict[str, Any]) -> Arsenal:
    from dvx.remote.config import add_remote, modify_remote
    from dvx.workspace import Workspace

    origin = make_git_repo(base / "origin")
    dvx_repo.init(origin)
    cfg = Workspace(origin).config
    add_remote(cfg, "store", url, default=True)
    for k, v in options.items():
        modify_remote(cfg, "store", k, v)
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "dvx init")
    a = Arsenal(origin, url, options, b"", len(HOOK))
    cid = a.remote_put(ObjectType.CHUNK, HOOK)
    a.file_oid = a.remote_put(ObjectType.FILE, FileManifest((ChunkRef(cid, len(HOOK)),)).encode())
    return a


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Arsenal:
    base = tmp_path_factory.mktemp("hostile-folder")
    return _arsenal(base, str(base / "remote"), {})


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory, moto_server: str) -> Arsenal:
    bk = _make_bucket(moto_server, "hostile")
    return _arsenal(tmp_path_factory.mktemp("hostile-moto"), bk.url + "/store", bk.options)


@pytest.fixture(params=["folder", "moto"])
def arsenal(request: pytest.FixtureRequest) -> Arsenal:
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------- a victim


def _snapshot(top: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[str, bytes, int]]:
    """Every entry under ``top`` (links not followed): kind, content or link target, mode."""
    out: dict[str, tuple[str, bytes, int]] = {}
    if not os.path.lexists(top):
        return out
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        dirnames[:] = [d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d)) not in skip]
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.normpath(os.path.join(rel_dir, n))
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("link", os.fsencode(os.readlink(p)), 0)
            elif os.path.isdir(p):
                out[rel] = ("dir", b"", st.st_mode)
            else:
                out[rel] = ("file", Path(p).read_bytes(), st.st_mode)
    return out


@dataclass
class Victim:
    """A clone of a hostile commit, with an ``outside`` folder beside it."""

    clone: Path
    outside: Path

    def snapshots(self) -> tuple[Any, ...]:
        # dvx's cache and tmp are its own working state (fetched packs, the
        # stat cache); config and the rest of .dvx must not change.
        return (
            _snapshot(self.outside),
            _snapshot(self.clone / ".git"),
            _snapshot(self.clone / ".dvx", skip=("cache", "tmp")),
        )

    def pull(self, *args: str) -> tuple[int, str]:
        """``dvx pull`` in-process: (exit code, the one line the CLI would print)."""
        old = os.getcwd()
        os.chdir(self.clone)
        try:
            dvx_repo.pull(cwd=str(self.clone), force="--force" in args)
        except DvxError as e:
            return e.exit_code, e.format_message()
        finally:
            os.chdir(old)
        return 0, ""


def _victim(tmp: Path, arsenal: Arsenal, craft) -> Victim:
    """Copy the origin, let ``craft(work)`` add hostile files, commit, clone it."""
    work = tmp / "attacker"
    git(tmp, "clone", "-q", str(arsenal.origin), str(work))
    craft(work)
    git(work, "add", "-A", "-f")
    git(work, "commit", "-qm", "hostile")
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious, in no cache\n")
    (outside / "empty.txt").write_bytes(b"")
    clone = tmp / "clone"
    git(tmp, "clone", "-q", str(work), str(clone))
    return Victim(clone, outside)


def _assert_refused(v: Victim, code: int, line: str, *names: str) -> None:
    assert code == 2, line
    for n in names:
        assert n in line, line
    assert "\n" not in line
    assert not (v.clone / ".git" / "hooks" / "post-checkout").exists()
    assert not (v.clone.parent / "PWNED").exists()
    assert git(v.clone, "status", "--short").returncode == 0
    assert git(v.clone, "log", "--oneline").stdout.count("\n") == 2


# ---------------------------------------------------------------- defect 1: pointers


def _hostile_pointer(arsenal: Arsenal, name: str):
    def craft(work: Path) -> None:
        _oid, text = arsenal.tree([b"hooks/post-checkout", b"config"])
        p = work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    return craft


POINTERS = [
    ".git.dvx",
    ".dvx.dvx",
    ".GIT.dvx",
    ".Dvx.dvx",
    "sub/.git.dvx",
    ".g\u200cit.dvx",
    "\ufeff.git.dvx",
    ".git..dvx",
    ".git .dvx",
    "git~1.dvx",
    "GIT~1.dvx",
    "...dvx",
    "sub/...dvx",
    "x.dvx.dvx",
    "a\\..\\..\\escape.dvx",
]


@pytest.mark.parametrize("name", POINTERS)
def test_pointer_naming_git_or_dvx_is_refused(tmp_path: Path, folder: Arsenal, name: str) -> None:
    v = _victim(tmp_path, folder, _hostile_pointer(folder, name))
    before = v.snapshots()
    code, line = v.pull()
    assert v.snapshots() == before
    _assert_refused(v, code, line, name)
    # nothing was fetched either: the pointers are checked before any transfer
    assert not (v.clone / ".dvx" / "cache" / "packs").exists()


def test_hostile_pointer_cli_and_the_hint_fixes_it(tmp_path: Path, arsenal: Arsenal) -> None:
    v = _victim(tmp_path, arsenal, _hostile_pointer(arsenal, ".git.dvx"))
    before = v.snapshots()
    for force in ((), ("--force",)):
        cp = run_dvx(v.clone, "pull", *force, check=False)
        assert cp.returncode == 2, cp.stderr
        lines = cp.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: .git.dvx: "), cp.stderr
        assert "git rm -f -- .git.dvx" in lines[0]
    assert v.snapshots() == before
    _assert_refused(v, 2, lines[0], ".git")
    # the hint: delete the pointer; then pull works and .git is untouched
    hooks = _snapshot(v.clone / ".git" / "hooks")
    git(v.clone, "rm", "-q", "-f", "--", ".git.dvx")
    run_dvx(v.clone, "pull")
    assert _snapshot(v.clone / ".git" / "hooks") == hooks
    assert (v.clone / ".git" / "config").read_bytes() == before[1]["config"][1]
    assert not (v.clone / ".git" / "hooks" / "post-checkout").exists()


def test_checkout_and_status_refuse_a_local_hostile_pointer(tmp_path: Path, folder: Arsenal) -> None:
    v = _victim(tmp_path, folder, _hostile_pointer(folder, ".dvx.dvx"))
    for cmd in (("checkout", "--force"), ("status",), ("fetch",), ("checkout", ".dvx")):
        cp = run_dvx(v.clone, *cmd, check=False)
        assert cp.returncode == 2, (cmd, cp.stderr)
        assert ".dvx" in cp.stderr and "Traceback" not in cp.stderr
    assert (v.clone / ".dvx" / "config").read_text() == (folder.origin / ".dvx" / "config").read_text()


# ---------------------------------------------------------------- defect 1: tree entries


ENTRIES = [
    b"sub/.git/hooks/post-checkout",
    b".git/hooks/post-checkout",
    b".dvx/config.local",
    b"a/.DVX/config",
    b".GIT/config",
    b".g\xe2\x80\x8cit/config",  # U+200C ZERO WIDTH NON-JOINER
    b".git./config",
    b"git~1/config",
    b".git:stream",
    b"../escape.txt",
    b"a/../../escape.txt",
    b"/tmp/abs.txt",
    b"a//b",
    b"a/./b",
    b"..\\escape.txt",
    b"nul\x00byte",
    b"x" * 5000,
    b"d/" + b"y" * 256,
]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: repr(e[:40]))
def test_tree_entry_into_git_or_outside_is_refused(tmp_path: Path, folder: Arsenal, entry: bytes) -> None:
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(folder.tree([b"fine.txt", entry])[1])

    v = _victim(tmp_path, folder, craft)
    before = v.snapshots()
    code, line = v.pull()
    assert v.snapshots() == before
    _assert_refused(v, code, line, "data.dvx", repr(entry[:20])[2:-1])
    assert not (v.clone / "data").exists()
    assert not (tmp_path / "escape.txt").exists() and not (v.outside.parent / "abs.txt").exists()


def test_hostile_tree_from_moto_cli(tmp_path: Path, moto: Arsenal) -> None:
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(moto.tree([b"sub/.git/hooks/post-checkout", b"../escape.txt"])[1])

    v = _victim(tmp_path, moto, craft)
    before = v.snapshots()
    for force in ((), ("--force",)):
        cp = run_dvx(v.clone, "pull", *force, check=False)
        assert cp.returncode == 2, cp.stderr
        line = cp.stderr.strip()
        assert "\n" not in line and line.startswith("error: data.dvx: tree "), line
        assert "'../escape.txt'" in line or "'sub/.git/hooks/post-checkout'" in line
    assert v.snapshots() == before
    assert not (tmp_path / "escape.txt").exists()
    assert not (v.clone / "data").exists()


def test_hostile_tree_already_in_the_cache_is_refused_at_checkout(tmp_path: Path, folder: Arsenal) -> None:
    """A tree that reached the cache another way (an older dvx, a read through the API)."""
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(folder.tree([b"sub/.git/hooks/post-checkout"])[1])

    v = _victim(tmp_path, folder, craft)
    from dvx.remote import open_url
    from dvx.workspace import Workspace

    oid = bytes.fromhex(ptr.load(v.clone / "data.dvx").oid)
    rem = open_url(folder.url, folder.options)
    cache = Workspace(v.clone).cache
    with cache.writer() as w:
        for o in (oid, folder.file_oid):
            rec = rem.store.locate(o)
            w.put(o, ObjectType(rec.otype), rem.store.get(o))
        w.put(hash_bytes(HOOK), ObjectType.CHUNK, HOOK)
    before = v.snapshots()
    cp = run_dvx(v.clone, "checkout", "--force", check=False)
    assert cp.returncode == 2, cp.stderr
    assert cp.stderr.startswith("error: data.dvx: tree ") and "sub/.git/hooks" in cp.stderr
    assert v.snapshots() == before
    assert not (v.clone / "data").exists()


# ---------------------------------------------------------------- defect 2: symbolic links


def test_symlinked_folder_inside_tracked_dir(tmp_path: Path, arsenal: Arsenal) -> None:
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(arsenal.tree([b"sub/evil.txt", b"fine.txt"])[1])
        (work / "data").mkdir()
        (work / "data" / "sub").symlink_to("../../outside")

    v = _victim(tmp_path, arsenal, craft)
    assert (v.clone / "data" / "sub").is_symlink()
    before = v.snapshots()
    for force in (False, True):
        code, line = v.pull(*(["--force"] if force else []))
        _assert_refused(v, code, line, "data/sub", "symbolic link")
        assert v.snapshots() == before
        assert not (v.outside / "evil.txt").exists()
        assert not (v.clone / "data" / "fine.txt").exists()  # nothing written before the refusal
    # the hint: remove the link, then `dvx checkout` writes inside the work tree
    assert "rm data/sub" in line and "dvx checkout" in line
    (v.clone / "data" / "sub").unlink()
    run_dvx(v.clone, "checkout")
    assert (v.clone / "data" / "sub" / "evil.txt").read_bytes() == HOOK
    assert v.snapshots()[0] == before[0]


def test_symlinked_tracked_dir(tmp_path: Path, folder: Arsenal) -> None:
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(folder.tree([b"a.txt"])[1])
        (work / "data").symlink_to("../outside")

    v = _victim(tmp_path, folder, craft)
    before = v.snapshots()
    for args in ((), ("--force",)):
        cp = run_dvx(v.clone, "pull", *args, check=False)
        assert cp.returncode == 2, cp.stderr
        assert cp.stderr.startswith("error: data: is a symbolic link"), cp.stderr
        assert v.snapshots() == before  # outside/empty.txt and keep.txt still there
    assert (v.outside / "empty.txt").exists() and (v.outside / "keep.txt").exists()


def test_symlinked_tracked_file_and_parent_of_a_file_pointer(tmp_path: Path, folder: Arsenal) -> None:
    def craft(work: Path) -> None:
        (work / "file.dvx").write_text(folder.file_pointer())
        (work / "file").symlink_to("../outside/keep.txt")
        (work / "real").mkdir()
        (work / "real" / "x.dvx").write_text(folder.file_pointer())
        (work / "lib").symlink_to("real")

    v = _victim(tmp_path, folder, craft)
    before = v.snapshots()
    code, line = v.pull("--force")
    _assert_refused(v, code, line, "file", "symbolic link")
    assert v.snapshots() == before
    assert not (v.clone / "real" / "x").exists()  # checked before anything was written
    # a pointer reached through a linked folder (inside the repository) is refused too
    cp = run_dvx(v.clone, "checkout", "--force", "lib/x", check=False)
    assert cp.returncode == 2 and cp.stderr.startswith("error: lib: is a symbolic link on the way to lib/x"), cp.stderr
    assert not (v.clone / "real" / "x").exists()
    assert v.snapshots() == before


def test_symlinked_dvx_cache_is_refused(tmp_path: Path, folder: Arsenal) -> None:
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(folder.tree([b"a.txt"])[1])
        (work / ".dvx" / "cache").mkdir(exist_ok=True)
        os.symlink("../../outside", work / ".dvx" / "cache" / "packs")

    v = _victim(tmp_path, folder, craft)
    assert (v.clone / ".dvx" / "cache" / "packs").is_symlink()
    before = _snapshot(v.outside)
    cp = run_dvx(v.clone, "pull", check=False)
    assert cp.returncode == 2, cp.stderr
    assert "packs: is a symbolic link inside dvx's own folder" in cp.stderr
    assert _snapshot(v.outside) == before
    # the hint
    (v.clone / ".dvx" / "cache" / "packs").unlink()
    run_dvx(v.clone, "pull")
    assert (v.clone / "data" / "a.txt").read_bytes() == HOOK
    assert _snapshot(v.outside) == before


def test_removal_of_unnamed_files_never_follows_links(tmp_path: Path, folder: Arsenal) -> None:
    """Files a tree does not name are removed; a link among them is neither followed nor removed."""
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(folder.tree([b"a.txt"])[1])

    v = _victim(tmp_path, folder, craft)
    (v.clone / "data").mkdir()
    (v.clone / "data" / "stale.txt").write_bytes(HOOK)  # in the cache after the pull: safe to remove
    (v.clone / "data" / "ln").symlink_to("../../outside")
    (v.clone / "data" / "lnfile").symlink_to("../../outside/empty.txt")
    before = _snapshot(v.outside)
    run_dvx(v.clone, "pull", "--force")
    assert not (v.clone / "data" / "stale.txt").exists()
    assert (v.clone / "data" / "a.txt").read_bytes() == HOOK
    assert (v.clone / "data" / "ln").is_symlink()
    assert _snapshot(v.outside) == before


# ---------------------------------------------------------------- add


def test_add_refuses_reserved_names_and_symlinked_parents(tmp_path: Path) -> None:
    from dvxtest import make_dvx_repo

    r = make_dvx_repo(tmp_path / "r")
    (r / "d" / ".GIT").mkdir(parents=True)
    (r / "d" / ".GIT" / "x").write_text("x")
    (r / "d" / "ok.txt").write_text("ok")
    cp = run_dvx(r, "add", "d", check=False)
    assert cp.returncode == 2 and "d/.GIT/x" in cp.stderr and "rename it" in cp.stderr, cp.stderr
    assert not (r / "d.dvx").exists()
    # the hint: rename it and add again
    (r / "d" / ".GIT").rename(r / "d" / "git-meta")
    run_dvx(r, "add", "d")
    assert "files: 2" in (r / "d.dvx").read_text()

    (r / "real").mkdir()
    (r / "real" / "f.txt").write_text("f")
    (r / "alias").symlink_to("real")
    cp = run_dvx(r, "add", "alias/f.txt", check=False)
    assert cp.returncode == 2 and "alias is a symbolic link" in cp.stderr and "real/f.txt" in cp.stderr, cp.stderr
    assert not (r / "real" / "f.txt.dvx").exists()
    run_dvx(r, "add", "real/f.txt")  # the hint
    assert (r / "real" / "f.txt.dvx").exists()
    cp = run_dvx(r, "add", ".Git/config", check=False)
    assert cp.returncode == 2 and ".Git" in cp.stderr


def test_git_itself_still_works_after_refusals(tmp_path: Path, folder: Arsenal) -> None:
    v = _victim(tmp_path, folder, _hostile_pointer(folder, ".git.dvx"))
    run_dvx(v.clone, "pull", "--force", check=False)
    cp = subprocess.run(["git", "-C", str(v.clone), "fsck", "--no-dangling"], capture_output=True, text=True, check=False)
    assert cp.returncode == 0, cp.stderr
    assert len(list((v.clone / ".git").rglob("*"))) > 10


def test_file_in_the_way_of_a_folder_is_a_conflict_then_forced(tmp_path: Path, folder: Arsenal) -> None:
    """A local file where the tree needs a folder: a conflict (it crashed before), replaced with --force."""
    def craft(work: Path) -> None:
        (work / "data.dvx").write_text(folder.tree([b"a/b.txt", b"c.txt"])[1])

    v = _victim(tmp_path, folder, craft)
    (v.clone / "data").mkdir()
    (v.clone / "data" / "a").write_text("my notes, in no cache\n")
    cp = run_dvx(v.clone, "pull", check=False)
    assert cp.returncode == 1 and "data/a: local changes" in cp.stderr, cp.stderr
    assert (v.clone / "data" / "a").read_text() == "my notes, in no cache\n"
    assert (v.clone / "data" / "c.txt").read_bytes() == HOOK
    run_dvx(v.clone, "checkout", "--force")  # the hint
    assert (v.clone / "data" / "a" / "b.txt").read_bytes() == HOOK
    # the x bit follows the tree without rewriting the file
    os.chmod(v.clone / "data" / "c.txt", 0o644)
    ino = os.stat(v.clone / "data" / "c.txt").st_ino
    run_dvx(v.clone, "checkout")
    st = os.stat(v.clone / "data" / "c.txt")
    assert st.st_mode & 0o111 and st.st_ino == ino


def test_reading_a_version_refuses_hostile_pointers_and_trees(tmp_path: Path, folder: Arsenal) -> None:
    """The Python API (dvx.open, read_table, dvx://) resolves the same names: refused the same way."""
    import dvx

    def craft(work: Path) -> None:
        (work / ".git.dvx").write_text(folder.tree([b"hooks/post-checkout"])[1])
        (work / "data.dvx").write_text(folder.tree([b"sub/.git/config", b"ok.txt"])[1])

    v = _victim(tmp_path, folder, craft)
    before = v.snapshots()
    for path, names in ((".git/hooks/post-checkout", "HEAD:.git.dvx"), ("data/ok.txt", "data at revision HEAD")):
        with pytest.raises(DvxError) as ei:
            dvx.open(path, rev="HEAD", repo=str(v.clone)).read()
        assert ei.value.exit_code == 2 and names in ei.value.message, ei.value.message
    assert "sub/.git/config" in ei.value.message
    assert v.snapshots() == before


def test_git_hooks_following_a_hostile_pointer_do_not_write(tmp_path: Path, folder: Arsenal) -> None:
    """With dvx's hooks installed, `git pull` of a commit adding .git.dvx runs dvx checkout: it refuses."""
    work = tmp_path / "attacker"
    git(tmp_path, "clone", "-q", str(folder.origin), str(work))
    victim = tmp_path / "victim"
    git(tmp_path, "clone", "-q", str(work), str(victim))
    run_dvx(victim, "hooks", "install")
    hooks = _snapshot(victim / ".git" / "hooks")
    _hostile_pointer(folder, ".git.dvx")(work)
    (work / "data.dvx").write_text(folder.tree([b"sub/.git/config"])[1])
    git(work, "add", "-A")
    git(work, "commit", "-qm", "hostile")
    cp = git(victim, "pull", "-q", "--no-rebase", "origin", "main")
    assert "dvx: .git: has a component" in cp.stderr and "dvx never writes into .git" in cp.stderr, cp.stderr
    assert _snapshot(victim / ".git" / "hooks") == hooks
    assert not (victim / "data").exists()
    assert git(victim, "log", "--oneline").stdout.count("\n") == 2
