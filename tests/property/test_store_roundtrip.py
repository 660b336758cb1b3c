"""Property tests: manifest encodings and store put/get round-trip on arbitrary input."""

from __future__ import annotations

import tempfile

import pytest
from fsspec.implementations.local import LocalFileSystem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvx._paths import path_problem
from dvx.chunking import MAX_CHUNK
from dvx.hashing import hash_bytes
from dvx.store import ChunkRef, FileManifest, ObjectStore, ObjectType, TreeEntry, TreeManifest

pytestmark = pytest.mark.property

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

oids = st.binary(min_size=16, max_size=16)
# Chunk sizes up to the format's 64 MiB maximum (docs/format.md, "Limits"); larger ones are refused.
chunk_refs = st.builds(ChunkRef, oids, st.integers(0, MAX_CHUNK))
# Path components: any bytes but "/" and NUL (non-UTF-8 included), never "." or "..";
# whole paths as dvx._paths accepts them (no "\\"-separated "..", no .git variants).
component = st.binary(min_size=1, max_size=12).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)
paths = st.lists(component, min_size=1, max_size=4).map(b"/".join).filter(lambda p: path_problem(p) is None)


@SETTINGS
@given(st.lists(chunk_refs, max_size=200))
def test_file_manifest_round_trip(chunks: list[ChunkRef]) -> None:
    m = FileManifest(tuple(chunks))
    data = m.encode()
    back = FileManifest.decode(data)
    assert back == m and back.size == sum(c.size for c in chunks)
    assert back.encode() == data and back.oid == hash_bytes(data)


def _valid_tree_paths(ps: list[bytes]) -> list[bytes]:
    """Drop paths that would make a file also a directory."""
    out: list[bytes] = []
    for p in sorted(set(ps), key=len):
        prefixes = {p[:i] for i in range(len(p)) if p[i : i + 1] == b"/"}
        if not prefixes & set(out) and not any(q.startswith(p + b"/") for q in out):
            out.append(p)
    return out


@SETTINGS
@given(
    st.lists(paths, max_size=40).map(_valid_tree_paths),
    st.data(),
)
def test_tree_manifest_round_trip_any_path_bytes(ps: list[bytes], data: st.DataObject) -> None:
    entries = [
        TreeEntry(p, data.draw(oids), data.draw(st.integers(0, 2**48)), data.draw(st.booleans())) for p in ps
    ]
    shuffled = data.draw(st.permutations(entries))
    t = TreeManifest(tuple(shuffled))
    assert [e.path for e in t.entries] == sorted(ps)
    enc = t.encode()
    back = TreeManifest.decode(enc)
    assert back == t and back.encode() == enc
    assert back.nfiles == len(ps) and back.size == sum(e.size for e in entries)


@SETTINGS
@given(
    blobs=st.lists(st.binary(max_size=3000) | st.text(max_size=3000).map(str.encode), max_size=30),
    pack_size=st.integers(1, 20_000),
    compression=st.sampled_from(["zstd", None]),
)
def test_put_get_round_trip(blobs: list[bytes], pack_size: int, compression: str | None) -> None:
    with tempfile.TemporaryDirectory() as d:
        store = ObjectStore(LocalFileSystem(), d, pack_size=pack_size, compression=compression)
        with store.writer() as w:
            for b in blobs:
                w.put(hash_bytes(b), ObjectType.CHUNK, b)
        fresh = ObjectStore(LocalFileSystem(), d)
        want = {hash_bytes(b): b for b in blobs}
        assert len(fresh.entries()) == len(want)
        for o, b in want.items():
            assert fresh.get(o) == b
        assert dict(fresh.get_many(want)) == want
