"""Hostile remotes: crafted packs and indexes served from a folder and from moto (issue 10).

Each case builds a remote by hand (pack bytes, pack header, index file) whose
index entries lie in one way: a 4 GiB raw length, a decompression bomb, an
offset of 2**63, unknown flag bits or type, a short pack, a pack id nobody
stored, a chunk shorter than its manifest says. A fresh repository whose
pointer names the crafted data then runs the real ``dvx pull`` / ``dvx fetch``
/ ``dvx.read_table`` in a wrapper process that reports the child's peak RSS.
Every case must end in one ``error:`` line naming the object or pack, exit 1
(exit 2 for unknown flag bits in an index that hashes to its name: a newer format),
nothing of the bad data in the work tree, and under 256 MiB of memory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dvxtest import env, make_dvx_repo, run_dvx, write_files

from dvx.hashing import hash_bytes
from dvx.store import blob as _blob
from dvx.store import pack as _pack
from dvx.store.index import FLAG_ZSTD, encode_index
from dvx.store.objects import ChunkRef, FileManifest, ObjectType

MEMORY_LIMIT_KIB = 256 << 10
GiB4 = 0xFFFFFFFF

# Runs argv as a child and appends the child's peak RSS (KiB) to stderr.
_WRAP = textwrap.dedent(
    """
    import resource, subprocess, sys
    p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    sys.stderr.write("\\nMAXRSS_KIB=%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.exit(p.returncode)
    """
)


@dataclass
class Run:
    code: int
    out: str
    err: str  # without the MAXRSS line
    maxrss_kib: int


def measured(cwd: Path, *argv: str) -> Run:
    """Run ``argv`` (a Python child) under the RSS wrapper."""
    cp = subprocess.run([sys.executable, "-c", _WRAP, *argv], cwd=cwd, capture_output=True, text=True, check=False,
                        env=env(), timeout=120)
    lines = cp.stderr.rstrip("\n").split("\n")
    assert lines[-1].startswith("MAXRSS_KIB="), cp.stderr
    return Run(cp.returncode, cp.stdout, "\n".join(lines[:-1]).strip(), int(lines[-1].split("=")[1]))


def dvx(cwd: Path, *args: str) -> Run:
    return measured(cwd, sys.executable, "-m", "dvx", *args)


# ------------------------------------------------------------------ crafting


@dataclass
class Blob:
    """One object in a crafted pack; the ``*_decl`` fields are what the index claims instead of the truth."""

    raw: bytes
    otype: int = ObjectType.CHUNK
    zstd: bool = False
    stored: bytes | None = None  # bytes put in the pack (default: raw, or its zstd)
    oid: bytes | None = None  # default: hash of raw
    raw_decl: int | None = None
    stored_decl: int | None = None
    offset_decl: int | None = None
    flags_decl: int | None = None
    type_decl: int | None = None
    pack_decl: bytes | None = None

    @property
    def id(self) -> bytes:
        return self.oid if self.oid is not None else hash_bytes(self.raw)


def zstd(data: bytes) -> bytes:
    return _blob._zstd().compress(data, asbytes=True)


def craft(blobs: list[Blob], truncate_to: int | None = None) -> dict[str, bytes]:
    """``{path under the store root: bytes}`` of one pack and one index naming ``blobs``."""
    body = bytearray()
    recs = []
    for b in blobs:
        stored = b.stored if b.stored is not None else (zstd(b.raw) if b.zstd else b.raw)
        flags = FLAG_ZSTD if b.zstd else 0
        recs.append((b.id, b"", len(body), len(stored), len(b.raw), int(b.otype), flags))
        body += stored
    tail = _pack.encode_header(recs)
    pid = _pack.pack_id_of(tail)
    pack = bytes(body + tail)
    if truncate_to is not None:
        pack = pack[:truncate_to]
    index = []
    for b, (oid, _p, off, stored_len, raw_len, otype, flags) in zip(blobs, recs, strict=True):
        index.append((
            oid,
            b.pack_decl if b.pack_decl is not None else pid,
            b.offset_decl if b.offset_decl is not None else off,
            b.stored_decl if b.stored_decl is not None else stored_len,
            b.raw_decl if b.raw_decl is not None else raw_len,
            b.type_decl if b.type_decl is not None else otype,
            b.flags_decl if b.flags_decl is not None else flags,
        ))
    idx = encode_index(index)
    return {f"packs/{pid.hex()[:2]}/{pid.hex()}": pack, f"index/{hash_bytes(idx).hex()}": idx}


def file_of(*chunks: tuple[bytes, int]) -> tuple[Blob, FileManifest]:
    """A FileManifest blob listing ``(chunk id, size)`` pairs."""
    m = FileManifest(tuple(ChunkRef(o, n) for o, n in chunks))
    return Blob(m.encode(), ObjectType.FILE), m


# 4 GiB of zeros in ~130 KB: 64 zstd frames of 64 MiB each (a decoder reads
# concatenated frames as one stream). Before the caps, a pull of one object
# like this reached 4.17 GB of memory.
_FRAME = None


def bomb_4gib() -> bytes:
    global _FRAME
    if _FRAME is None:
        _FRAME = zstd(bytes(64 << 20))
    return _FRAME * 64


TEXT = b"".join(b"%06d,some text that compresses well,%d\n" % (i, i * 7) for i in range(150))  # ~6 KB
ZEROS = bytes(33_000)


def case(name: str) -> tuple[dict[str, bytes], FileManifest, str, int]:
    """(remote files, the manifest the pointer names, what the error must name, pointer size)."""
    chunk = Blob(TEXT, zstd=True)
    if name == "chunk declares 4 GiB raw":
        chunk = Blob(TEXT, zstd=True, stored=bomb_4gib(), raw_decl=GiB4)
    elif name == "zstd bomb within the cap":
        # 64 MiB of zeros in ~2 KB, declared as a 200 KB chunk: the decompressor's
        # output buffer is the declared length, never the bomb's.
        chunk = Blob(bytes(200_000), zstd=True, stored=zstd(bytes(64 << 20)))
    elif name == "offset 2**63":
        chunk.offset_decl = 1 << 63
    elif name == "unknown flag bits":
        chunk.flags_decl = 0x81
    elif name == "unknown object type":
        chunk.type_decl = 9
    elif name == "stored length lies":
        chunk = Blob(TEXT, stored_decl=len(TEXT) + 10)
    elif name == "pack id nobody stored":
        chunk.pack_decl = b"\x11" * 16
    fblob, m = file_of((chunk.id, len(chunk.raw)))
    if name == "manifest declares 4 GiB raw":
        fblob.raw_decl = GiB4
        fblob.zstd = True
        fblob.stored = bomb_4gib()
    must_name = (b"\x11" * 16).hex() if name == "pack id nobody stored" else chunk.id.hex()
    if name == "manifest declares 4 GiB raw":
        must_name = m.oid.hex()
    truncate = None
    if name == "short pack":
        truncate = 100  # inside the chunk: the manifest after it is cut off
        must_name = m.oid.hex()
    if name == "chunk shorter than its manifest says":
        short = Blob(TEXT[:5000])
        fblob, m = file_of((short.id, 9000))
        chunk = short
        must_name = short.id.hex()
    return craft([chunk, fblob], truncate), m, must_name, m.size


CASES = [
    "chunk declares 4 GiB raw",
    "zstd bomb within the cap",
    "manifest declares 4 GiB raw",
    "offset 2**63",
    "unknown flag bits",
    "unknown object type",
    "stored length lies",
    "short pack",
    "pack id nobody stored",
    "chunk shorter than its manifest says",
]
# The S3 runs cover the cases whose reads differ on S3 (ranges past the end,
# missing keys, large declared lengths); the others only parse index bytes.
S3_CASES = ["chunk declares 4 GiB raw", "zstd bomb within the cap", "offset 2**63", "short pack",
            "pack id nobody stored", "chunk shorter than its manifest says"]


_PLACEHOLDER = "/nowhere/placeholder-remote"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised repository with default remote ``r`` (copied per test: git and dvx init cost seconds)."""
    repo = make_dvx_repo(tmp_path_factory.mktemp("template") / "repo")
    run_dvx(repo, "remote", "add", "-d", "r", _PLACEHOLDER)
    return repo


@pytest.fixture
def make_victim(template: Path, tmp_path: Path) -> Any:
    def make(url: str, m: FileManifest, size: int, options: dict[str, str] | None = None) -> Path:
        return victim(template, tmp_path, url, m, size, options)

    return make


def victim(template: Path, tmp: Path, url: str, m: FileManifest, size: int,
           options: dict[str, str] | None = None) -> Path:
    """A repository whose pointer ``data.bin.dvx`` names manifest ``m`` and whose default remote is ``url``."""
    repo = tmp / "victim"
    shutil.copytree(template, repo, symlinks=True)
    cfg = repo / ".dvx" / "config"
    extra = "".join(f'{k} = "{v}"\n' for k, v in (options or {}).items())
    text = cfg.read_text()
    assert _PLACEHOLDER in text
    cfg.write_text(text.replace(f'url = "{_PLACEHOLDER}"\n', f'url = "{url}"\n{extra}'))
    text = f"format: 1\ntype: file\nid: {m.oid.hex()}\nsize: {size}\nfiles: 1\nchunks: {len(m.chunks)}\n"
    (repo / "data.bin.dvx").write_text(text)
    return repo


def assert_refused(r: Run, must_name: str, code: int = 1) -> None:
    assert r.code == code, (r.code, r.err)
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    assert must_name in lines[0], r.err
    assert "run with -v" not in r.err and "Traceback" not in r.err, r.err  # a DvxError, not a bare exception
    assert r.maxrss_kib < MEMORY_LIMIT_KIB, f"peak RSS {r.maxrss_kib} KiB"


def assert_nothing_written(repo: Path) -> None:
    assert not (repo / "data.bin").exists()
    leftovers = [p.name for p in repo.iterdir() if p.name not in (".git", ".dvx", ".gitattributes", ".gitignore", "expectations", "data.bin.dvx")]
    assert leftovers == [], leftovers


# ------------------------------------------------------------------ folder remote


@pytest.mark.parametrize("name", CASES)
def test_pull_from_hostile_folder_remote(tmp_path: Path, make_victim: Any, name: str) -> None:
    files, m, must_name, size = case(name)
    write_files(tmp_path / "remote", files)
    repo = make_victim(str(tmp_path / "remote"), m, size)
    r = dvx(repo, "pull")
    # Flag bits this dvx does not know, in an index that hashes to its name: written by a newer
    # format, refused as such (docs/format.md, "Format versions").
    assert_refused(r, must_name, 2 if name == "unknown flag bits" else 1)
    if name == "unknown flag bits":
        assert "unknown flag bits 0x80" in r.err and "upgrade dvx" in r.err
    assert_nothing_written(repo)


def test_pointer_size_disagreeing_with_manifest_writes_nothing(tmp_path: Path, make_victim: Any) -> None:
    # A valid 33 KB all-zero chunk listed twice, under a pointer that says 100 bytes:
    # the data is all genuine, but pull must not write 66 KB (or 2 GiB) where 100 were promised.
    z = Blob(ZEROS)
    fblob, m = file_of((z.id, len(ZEROS)), (z.id, len(ZEROS)))
    write_files(tmp_path / "remote", craft([z, fblob]))
    repo = make_victim(str(tmp_path / "remote"), m, 100)
    r = dvx(repo, "pull")
    assert_refused(r, "data.bin.dvx")
    assert "size 100" in r.err
    assert_nothing_written(repo)


def test_directory_named_like_an_index_is_ignored(tmp_path: Path, make_victim: Any) -> None:
    chunk = Blob(TEXT, zstd=True)
    fblob, m = file_of((chunk.id, len(TEXT)))
    write_files(tmp_path / "remote", craft([chunk, fblob]))
    (tmp_path / "remote" / "index" / ("ab" * 16)).mkdir()
    (tmp_path / "remote" / "index" / ("ab" * 16) / "x").write_bytes(b"not an index")
    repo = make_victim(str(tmp_path / "remote"), m, m.size)
    r = dvx(repo, "pull")
    assert r.code == 0, r.err
    assert (repo / "data.bin").read_bytes() == TEXT


# ------------------------------------------------------------------ moto (S3)


@pytest.mark.parametrize("name", S3_CASES)
def test_fetch_or_pull_from_hostile_s3_remote(tmp_path: Path, make_victim: Any, s3_bucket: Any, name: str) -> None:
    bk = s3_bucket()
    files, m, must_name, size = case(name)
    client = bk.client()
    for rel, data in files.items():
        client.put_object(Bucket=bk.name, Key=f"evil/{rel}", Body=data)
    repo = make_victim(f"{bk.url}/evil", m, size, {"endpoint_url": bk.endpoint})
    # One command per case (each costs an s3fs start-up): fetch and pull alternate.
    command = "fetch" if S3_CASES.index(name) % 2 else "pull"
    assert_refused(dvx(repo, command), must_name)
    assert_nothing_written(repo)


# ------------------------------------------------------------------ dvx.read_table

_READ = textwrap.dedent(
    """
    import sys, dvx
    from dvx.errors import DvxError
    try:
        dvx.read_table("data.csv", repo=sys.argv[1])
    except DvxError as e:
        print("error: " + e.format_message(), file=sys.stderr)
        sys.exit(e.exit_code)
    print("read")
    """
)


@pytest.mark.parametrize("name", ["chunk declares 4 GiB raw", "zstd bomb within the cap",
                                  "chunk shorter than its manifest says"])
def test_read_table_from_hostile_remote(tmp_path: Path, make_victim: Any, name: str) -> None:
    files, m, must_name, size = case(name)
    write_files(tmp_path / "remote", files)
    repo = make_victim(str(tmp_path / "remote"), m, size)
    os.replace(repo / "data.bin.dvx", repo / "data.csv.dvx")
    r = measured(repo, sys.executable, "-c", _READ, str(repo))
    assert_refused(r, must_name)
    assert not (repo / "data.csv").exists()


def test_hostile_remote_object_not_cached_after_refusal(tmp_path: Path, make_victim: Any) -> None:
    """A refused object leaves no trace in the cache: the same pull after the remote is repaired works."""
    chunk = Blob(TEXT, zstd=True, raw_decl=GiB4)
    fblob, m = file_of((chunk.id, len(TEXT)))
    write_files(tmp_path / "remote", craft([chunk, fblob]))
    repo = make_victim(str(tmp_path / "remote"), m, m.size)
    assert_refused(dvx(repo, "pull"), chunk.id.hex())
    shutil.rmtree(tmp_path / "remote")
    good = Blob(TEXT, zstd=True)
    write_files(tmp_path / "remote", craft([good, fblob]))
    r = dvx(repo, "pull")
    assert r.code == 0, r.err
    assert (repo / "data.bin").read_bytes() == TEXT
