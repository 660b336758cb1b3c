"""Ordered, durable writes (docs/format.md, "Read and write ordering", "Power loss").

The real CLI runs under ``traced_dvx.py``, which records every completed
``fsync`` (with the path synced) and ``rename`` in order, across threads:

- default configuration: each pack is fsync'ed before it is renamed into
  ``packs/<xx>/``, that folder is synced before the index is renamed into
  ``index/``, the index is fsync'ed and ``index/`` synced before the pointer
  file is renamed into place; one pack fsync per pack, never per chunk, one
  folder sync per distinct folder;
- ``[cache] fsync = false`` skips the pack and pack-folder syncs, and still
  syncs the index before the pointer;
- push to a remote whose PUTs arrive one byte short fails naming the pack,
  and no index on the remote names it; a push that arrives whole checks one
  size per pack and per index, not per object.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dvxtest import env, make_dvx_repo

TRACER = Path(__file__).with_name("traced_dvx.py")
MiB = 1 << 20


def _traced(repo: Path, log: Path, *args: str, shortfs: str | None = None) -> subprocess.CompletedProcess[str]:
    e = env()
    e["DVX_TEST_IOLOG"] = str(log)
    if shortfs:
        e["DVX_TEST_SHORTFS"] = shortfs
    return subprocess.run([sys.executable, str(TRACER), *args], cwd=repo, capture_output=True, text=True,
                          env=e, timeout=300)


@dataclass
class Trace:
    events: list[tuple[str, ...]]

    @classmethod
    def read(cls, log: Path) -> Trace:
        return cls([tuple(ln.split("\t")) for ln in log.read_text().splitlines()])

    def fsyncs(self, path: str) -> list[int]:
        return [i for i, e in enumerate(self.events) if e[0] == "fsync" and e[1] == path]

    def renames_into(self, folder: str) -> list[tuple[int, str, str]]:
        """(position, source, target) of each rename whose target is in ``folder`` (any depth)."""
        return [(i, e[1], e[2]) for i, e in enumerate(self.events)
                if e[0] == "replace" and e[2].startswith(folder + os.sep)]


def _repo_with_data(tmp_path: Path, fsync: bool | None) -> Path:
    repo = make_dvx_repo(tmp_path / "repo")
    cfg = repo / ".dvx" / "config"
    text = cfg.read_text()
    assert "fsync = true" in text  # what `dvx init` writes: durable by default
    if fsync is False:
        cfg.write_text(text.replace("fsync = true", "fsync = false"))
    # 40 MiB of random bytes: two packs (32 MiB each at most), ~640 chunks.
    (repo / "big.bin").write_bytes(random.Random(3).randbytes(40 * MiB))
    return Path(os.path.realpath(repo))


def test_default_config_syncs_packs_then_index_then_pointer(tmp_path: Path) -> None:
    repo = _repo_with_data(tmp_path, fsync=None)
    log = tmp_path / "io.log"
    cp = _traced(repo, log, "add", "big.bin")
    assert cp.returncode == 0, cp.stderr
    t = Trace.read(log)
    cache = str(repo / ".dvx" / "cache")
    packs = t.renames_into(os.path.join(cache, "packs"))
    indexes = t.renames_into(os.path.join(cache, "index"))
    pointers = [i for i, e in enumerate(t.events) if e[0] == "replace" and e[2] == str(repo / "big.bin.dvx")]
    # big.bin's chunks fill two packs; its manifest is in a pack of its own
    assert len(packs) == 3 and len(indexes) == 1 and len(pointers) == 1, t.events
    (ipos, isrc, _idst), ptr_pos = indexes[0], pointers[0]
    pack_dirs = {os.path.dirname(dst) for _, _, dst in packs}
    for pos, src, dst in packs:
        synced = t.fsyncs(src)
        assert len(synced) == 1 and synced[0] < pos, f"pack {dst} not fsync'ed (once) before its rename"
        dir_syncs = t.fsyncs(os.path.dirname(dst))
        assert len(dir_syncs) == 1, f"{os.path.dirname(dst)} synced {len(dir_syncs)} times"
        assert pos < dir_syncs[0] < ipos, "pack folder not synced between the pack's rename and the index's"
    # One fsync per pack, never per chunk: the only fsync'ed files are the two
    # pack temp files, the index temp file, the pointer's temp file and the
    # dvx-store marker; everything else synced is a folder.
    files = [e[1] for e in t.events if e[0] == "fsync" and not os.path.isdir(e[1])]
    assert len(files) <= len(packs) + 3, files
    assert len([p for p in files if "/tmp/.pack." in p]) == len(packs)
    # The index: fsync'ed, renamed, its folder synced, then the pointer renamed.
    assert t.fsyncs(isrc) and t.fsyncs(isrc)[0] < ipos
    index_dir_syncs = [i for i in t.fsyncs(os.path.join(cache, "index")) if i > ipos]
    assert index_dir_syncs and index_dir_syncs[0] < ptr_pos
    assert len(pack_dirs) == len(packs) or len(pack_dirs) == 1


def test_fsync_false_opts_out_of_pack_syncs_only(tmp_path: Path) -> None:
    repo = _repo_with_data(tmp_path, fsync=False)
    log = tmp_path / "io.log"
    cp = _traced(repo, log, "add", "big.bin")
    assert cp.returncode == 0, cp.stderr
    t = Trace.read(log)
    cache = str(repo / ".dvx" / "cache")
    packs = t.renames_into(os.path.join(cache, "packs"))
    (ipos, isrc, _), = t.renames_into(os.path.join(cache, "index"))
    assert len(packs) == 3  # two of chunks, one of manifests
    for _pos, src, dst in packs:
        assert not t.fsyncs(src), "a pack was fsync'ed with [cache] fsync = false"
        assert not t.fsyncs(os.path.dirname(dst))
    ptr_pos = next(i for i, e in enumerate(t.events) if e[0] == "replace" and e[2] == str(repo / "big.bin.dvx"))
    assert t.fsyncs(isrc)[0] < ipos < t.fsyncs(os.path.join(cache, "index"))[-1] < ptr_pos


def _small_repo(tmp_path: Path, remote: Path) -> Path:
    repo = make_dvx_repo(tmp_path / "repo")
    rnd = random.Random(11)
    (repo / "data").mkdir()
    for k in range(30):
        (repo / "data" / f"f{k:02d}.bin").write_bytes(rnd.randbytes(30_000))
    cp = _traced(repo, tmp_path / "setup.log", "add", "data")
    assert cp.returncode == 0, cp.stderr
    cp = _traced(repo, tmp_path / "setup.log", "remote", "add", "-d", "r", f"dvxshort://{remote}",
                 shortfs="count")
    assert cp.returncode == 0, cp.stderr
    # Packs of ~200 KB: a push of the 900 KB makes several.
    cp = _traced(repo, tmp_path / "setup.log", "remote", "modify", "r", "pack_size", "200000", shortfs="count")
    assert cp.returncode == 0, cp.stderr
    return repo


def test_push_refuses_a_pack_that_arrives_short(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    repo = _small_repo(tmp_path, remote)
    cp = _traced(repo, tmp_path / "push.log", "push", shortfs="short")
    assert cp.returncode == 1, (cp.stdout, cp.stderr)
    line = cp.stderr.strip().splitlines()[-1]
    assert line.startswith("error: remote 'r'") and f"dvxshort://{remote}/packs/" in line, line
    assert "but the store holds" in line
    # The short pack is there, and nothing names it.
    assert list((remote / "packs").glob("*/*"))
    assert not (remote / "index").is_dir() or not list((remote / "index").iterdir())


def test_push_checks_one_size_per_pack_and_index_not_per_object(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    repo = _small_repo(tmp_path, remote)
    log = tmp_path / "push.log"
    cp = _traced(repo, log, "push", "--json", shortfs="count")
    assert cp.returncode == 0, cp.stderr
    t = Trace.read(log)
    packs = sorted(str(p) for p in (remote / "packs").glob("*/*"))
    indexes = sorted(str(p) for p in (remote / "index").iterdir())
    sized = [e[1] for e in t.events if e[0] == "size"]
    assert sorted(p for p in sized if "/packs/" in p) == packs
    assert sorted(p for p in sized if "/index/" in p) == indexes
    res = json.loads(cp.stdout)
    assert res["packs"] == len(packs) >= 3 and res["objects"] > 10 * len(packs)
    # Each index's size is checked after the size of every pack it names (push may write an
    # index for the packs finished so far before the last pack is uploaded).
    from dvx.store.index import decode_index

    pos = {p: i for i, e in enumerate(t.events) if e[0] == "size" for p in [e[1]]}
    by_id = {Path(p).name: p for p in packs}
    for ix in indexes:
        named = {r.pack.hex() for r in decode_index(Path(ix).read_bytes()).values()}
        assert named and all(pos[by_id[n]] < pos[ix] for n in named), ix
