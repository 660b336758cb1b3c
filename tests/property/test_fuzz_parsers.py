"""Fuzzing every parser of hostile input (issue 10): only DvxError escapes, with exit 2
for bad input (1 for damaged data), one line, naming the file.

Inputs are arbitrary bytes and structured mutations of valid files
(fuzzkit.mutations: truncated, extended, bits flipped, one field set to an
edge value, slices repeated or cut). Where a pure decoder documents
ValueError (manifests, pack headers, index files), the decoder is fuzzed for
exactly that and the store API users reach is fuzzed for DvxError. Examples
per test: ``DVX_FUZZ_EXAMPLES`` (fuzzkit); the whole file runs in well under a
minute at the default. Memory bounds are checked in test_fuzz_limits.py.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml
from fsspec.implementations.local import LocalFileSystem
from fuzzkit import EXAMPLES, doc_mutations, fuzz_settings, mutations, text_mutations
from hypothesis import given
from hypothesis import strategies as st

from dvx._tomledit import dumps_toml
from dvx.config import DEFAULTS, Config
from dvx.errors import (
    ConfigError,
    CorruptObjectError,
    DvxError,
    ObjectMissingError,
    PointerError,
    SuiteError,
    UnsafePathError,
)
from dvx.hashing import hash_bytes, is_oid
from dvx.quality.drift import load_thresholds
from dvx.quality.suite import load_bindings, load_suite
from dvx.remote.config import get_remote, list_remotes
from dvx.store import ChunkRef, FileManifest, ObjectStore, ObjectType, TreeEntry, TreeManifest, walk
from dvx.store import index as idx
from dvx.store import pack as pk
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

# A hang fails by timeout; the budget grows with DVX_FUZZ_EXAMPLES (an example takes milliseconds).
pytestmark = [pytest.mark.property, pytest.mark.timeout(240 + EXAMPLES // 5)]


def _one_line(e: DvxError) -> str:
    msg = e.format_message()
    assert "\n" not in msg and "\r" not in msg, msg
    return msg


def _bad_input(e: DvxError, names: str) -> None:
    """A usage/config error: exit 2, one line, naming the file."""
    assert e.exit_code == 2, (type(e), e)
    assert names in _one_line(e), (names, e.format_message())


# ---------------------------------------------------------------- pointer files

_OID = "8f3c" * 8
VALID_POINTER = ptr.Pointer("file", _OID, 1048576, 1, 17, "5b1e" * 8).dumps("data/train.csv")
_KEYS = ["format", "type", "id", "size", "files", "chunks", "profile"]
# Values that int(), int(x, 16), str.isdigit or bytes.fromhex accept but a
# pointer must not, and plain junk.
_TRICKY = ["²", "١٢", "0x1f", "1_000", "+5", "-1", " 12 ", "12\u00a0", "1e3", "9" * 19, "9" * 40,
           "", "0" * 31, "0" * 33, "A" * 32, "0x" + "0" * 30, "0" * 30 + " 0", "٠" * 32, "ｆ" * 32,
           "dir", "file\x00", "1\r", "1\x0b2"]


def _set_field(text: str, key: str, value: str) -> str:
    return "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.split("\n"))


_pointer_texts = st.one_of(
    text_mutations(VALID_POINTER),
    st.builds(_set_field, st.just(VALID_POINTER), st.sampled_from(_KEYS), st.sampled_from(_TRICKY) | st.text(max_size=40)),
    st.lists(st.sampled_from(VALID_POINTER.split("\n")), max_size=12).map("\n".join),  # lines dropped/repeated
)


def _check_pointer(text: str, p: ptr.Pointer) -> None:
    assert p.kind in ptr.KINDS and is_oid(p.oid) and (p.profile is None or is_oid(p.profile))
    assert all(0 <= n < 2**63 for n in (p.size, p.files, p.chunks))
    assert ptr.parse(p.dumps("t"), "again") == p  # what is accepted writes back identically


@fuzz_settings(2)
@given(_pointer_texts)
def test_pointer_parse(text: str) -> None:
    try:
        p = ptr.parse(text, "data/x.csv.dvx")
    except PointerError as e:
        _bad_input(e, "data/x.csv.dvx")
        if e.line is not None:
            assert 1 <= e.line <= text.count("\n") + 1
        return
    _check_pointer(text, p)


@fuzz_settings()
@given(mutations(VALID_POINTER.encode()))
def test_pointer_loads_bytes(raw: bytes) -> None:
    try:
        p = ptr.loads(raw, "p.dvx")
    except PointerError as e:
        _bad_input(e, "p.dvx")
        return
    _check_pointer(raw.decode(), p)


# ---------------------------------------------------------------- manifests (pure decoders)

_FILE_M = FileManifest((ChunkRef(b"\x01" * 16, 5), ChunkRef(b"\x02" * 16, 70000))).encode()
_TREE_M = TreeManifest((TreeEntry(b"a/b.csv", b"\x03" * 16, 5, False), TreeEntry(b"c", b"\x04" * 16, 70000, True))).encode()
# Offsets of the integer fields: header count (8) and total (16); then records.
_FILE_FIELDS = [4, 6, 8, 16, 24 + 16, 24 + 20 + 16]
_TREE_FIELDS = [4, 6, 8, 16, 24 + 16, 24 + 24, 24 + 25]


@fuzz_settings()
@given(mutations(_FILE_M, fields=_FILE_FIELDS))
def test_file_manifest_decode(data: bytes) -> None:
    try:
        m = FileManifest.decode(data)
    except ValueError:
        return
    assert m.encode() == data  # accepted input is canonical


@fuzz_settings()
@given(mutations(_TREE_M, fields=_TREE_FIELDS))
def test_tree_manifest_decode(data: bytes) -> None:
    try:
        m = TreeManifest.decode(data)
    except ValueError:
        return
    assert m.encode() == data
    for e in m.entries:
        assert e.path and not e.path.startswith(b"/") and b".." not in e.path.split(b"/")


# ---------------------------------------------------------------- a real store, then damaged


@functools.cache
def _valid_store() -> dict[str, object]:
    """One store holding raw and zstd chunks, a FileManifest and a TreeManifest: its bytes."""
    top = Path(tempfile.mkdtemp(prefix="dvx-fuzz-"))
    try:
        # One pack mixing chunks and manifests (the format allows it; dvx's writer keeps them apart),
        # built with the low-level builder and the writer's per-blob compression rule.
        from dvx.store.blob import encode_blob
        from dvx.store.index import FLAG_ZSTD, encode_index
        from dvx.store.pack import PackBuilder

        rand, text = os.urandom(3000), b"0123456789,abc\n" * 400
        fm = FileManifest((ChunkRef(hash_bytes(rand), len(rand)), ChunkRef(hash_bytes(text), len(text))))
        foid = fm.oid
        tm = TreeManifest((TreeEntry(b"d/f.bin", foid, fm.size, False),))
        toid = tm.oid
        b = PackBuilder(None, str(top / "cache"), local=True)
        for otype, data in ((ObjectType.CHUNK, rand), (ObjectType.CHUNK, text), (ObjectType.FILE, fm.encode()),
                            (ObjectType.TREE, tm.encode())):
            z = encode_blob(data)
            b.add(hash_bytes(data), otype, 0 if z is None else FLAG_ZSTD, len(data), data if z is None else z)
        index = encode_index(b.finish().records)
        packs = {str(p.relative_to(top / "cache")): p.read_bytes() for p in (top / "cache" / "packs").rglob("*") if p.is_file()}
        assert len(packs) == 1
        return {"index": index, "packs": packs, "file": foid, "tree": toid}
    finally:
        shutil.rmtree(top)


def _write_store(top: Path, index: bytes, packs: dict[str, bytes]) -> str:
    root = top / "cache"
    (root / "index").mkdir(parents=True)
    # Named by its hash, as a writer names it, so the store does not skip it as torn.
    (root / "index" / hash_bytes(index).hex()).write_bytes(index)
    for rel, data in packs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return str(root)


def _exercise(root: str, file_oid: bytes, tree_oid: bytes) -> None:
    """Everything a user command does with a store; every byte returned must match its id."""
    store = ObjectStore(LocalFileSystem(), root, compression=None, fsync=False)
    try:
        for oid in list(store.entries()):
            store.locate(oid)
            try:
                assert hash_bytes(store.get(oid)) == oid
            except (CorruptObjectError, ObjectMissingError) as e:
                assert e.exit_code == 1
                _one_line(e)
            except UnsafePathError as e:  # a tree entry naming a path dvx must never write (NUL, "..")
                assert e.exit_code == 2
                _one_line(e)
        for oid, data in store.get_many(list(store.entries())):
            assert hash_bytes(data) == oid
        for oid, otype in ((tree_oid, ObjectType.TREE), (file_oid, ObjectType.FILE)):
            for sub, _ in walk(store, oid, otype):
                assert hash_bytes(store.get(sub)) == sub
    except DvxError as e:
        assert e.exit_code in (1, 2)
        _one_line(e)
    finally:
        store.close()


def _index_fields() -> list[int]:
    # Header: version (8), count (12); per record: offset, stored, raw, otype, flags.
    n = (len(_valid_store()["index"]) - idx.HEAD_SIZE) // idx.RECORD_SIZE  # type: ignore[arg-type]
    rec = [32, 40, 44, 48, 49]
    return [8, 12] + [idx.HEAD_SIZE + i * idx.RECORD_SIZE + f for i in range(n) for f in rec]


@fuzz_settings()
@given(st.data())
def test_store_with_crafted_index(data: st.DataObject) -> None:
    v = _valid_store()
    index = data.draw(mutations(v["index"], fields=_index_fields()))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as d:
        _exercise(_write_store(Path(d), index, v["packs"]), v["file"], v["tree"])  # type: ignore[arg-type]


@fuzz_settings()
@given(st.data())
def test_store_with_crafted_pack(data: st.DataObject) -> None:
    v = _valid_store()
    [(rel, pack)] = v["packs"].items()  # type: ignore[attr-defined]
    damaged = data.draw(mutations(pack))
    with tempfile.TemporaryDirectory() as d:
        _exercise(_write_store(Path(d), v["index"], {rel: damaged}), v["file"], v["tree"])  # type: ignore[arg-type]


@fuzz_settings()
@given(st.one_of(mutations(_FILE_M, fields=_FILE_FIELDS), mutations(_TREE_M, fields=_TREE_FIELDS)))
def test_store_with_crafted_manifest(manifest: bytes) -> None:
    """A manifest object that hashes to its id (a hostile remote can serve one) but says anything."""
    oid = hash_bytes(manifest)
    with tempfile.TemporaryDirectory() as d:
        store = ObjectStore(LocalFileSystem(), str(Path(d) / "cache"), compression=None, fsync=False)
        with store.writer() as w:
            w.put(oid, ObjectType.FILE, manifest)
        for get, otype in ((store.get_file_manifest, ObjectType.FILE), (store.get_tree_manifest, ObjectType.TREE)):
            try:
                get(oid)
                list(walk(store, oid, otype))
            except (CorruptObjectError, ObjectMissingError) as e:
                assert e.exit_code == 1
                _one_line(e)
            except UnsafePathError as e:  # a tree entry naming a path dvx must never write (NUL, "..")
                assert e.exit_code == 2
                _one_line(e)


@fuzz_settings()
@given(st.data())
def test_pack_header_and_trailer(data: st.DataObject) -> None:
    [pack] = _valid_store()["packs"].values()  # type: ignore[attr-defined]
    damaged = data.draw(mutations(pack, fields=[len(pack) - pk.TRAILER_SIZE, len(pack) - pk.TRAILER_SIZE + 4]))
    pid = b"\x09" * 16
    try:
        recs = pk.records_from_pack(damaged, pid)
    except ValueError:
        return
    for _oid, pack_id, offset, stored, _raw, _otype, _flags in recs:
        assert pack_id == pid and 0 <= offset and offset + stored <= len(damaged)


@fuzz_settings()
@given(st.data())
def test_index_decode(data: st.DataObject) -> None:
    raw = data.draw(mutations(_valid_store()["index"], fields=_index_fields()))  # type: ignore[arg-type]
    try:
        recs = idx.decode_index(raw)
    except ValueError:
        return
    assert all(len(k) == 16 for k in recs)


# ---------------------------------------------------------------- .dvx/config

_VALID_CONFIG = dumps_toml({**DEFAULTS, "core": {**DEFAULTS["core"], "remote": "origin"},
                            "remote": {"origin": {"url": "../remote", "jobs": 4, "anon": True}}})


@fuzz_settings(2)
@given(st.sampled_from(["config", "config.local"]),
       st.one_of(text_mutations(_VALID_CONFIG).map(str.encode), mutations(_VALID_CONFIG.encode()),
                 st.deferred(lambda: doc_mutations(tomllib.loads(_VALID_CONFIG)).map(_toml_doc))))
def test_config_files(name: str, raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        dvx_dir = Path(d) / ".dvx"
        dvx_dir.mkdir()
        (dvx_dir / "config").write_text(_VALID_CONFIG)
        (dvx_dir / name).write_bytes(raw)
        try:
            ws = Workspace(d)
            cfg = ws.config
            cfg.data  # noqa: B018
            list_remotes(cfg)
            if cfg.get("core", "remote"):
                get_remote(cfg)
            ws.chunker  # noqa: B018
            ws.cache  # noqa: B018
        except ConfigError as e:
            _bad_input(e, ".dvx/config")


# ---------------------------------------------------------------- stat cache


@pytest.fixture(scope="module")
def tracked_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    from dvxtest import make_dvx_repo

    from dvx import repo

    root = make_dvx_repo(tmp_path_factory.mktemp("statfuzz") / "r")
    (root / "f.csv").write_bytes(b"a,b\n1,2\n" * 100)
    (root / "d").mkdir()
    for i in range(3):
        (root / "d" / f"{i}.bin").write_bytes(os.urandom(100 + i))
    repo.add(["f.csv", "d"], cwd=str(root))
    repo.status(cwd=str(root))  # writes the stat cache
    return root, (root / ".dvx" / "tmp" / "statcache").read_bytes()


@fuzz_settings()
@given(st.data())
def test_stat_cache(tracked_repo: tuple[Path, bytes], data: st.DataObject) -> None:
    from dvx import repo

    # Before the checksummed format a flipped bit in a cached tree id made
    # status say "modified": this test found that.
    root, valid = tracked_repo
    (root / ".dvx" / "tmp" / "statcache").write_bytes(data.draw(mutations(valid) | st.binary(max_size=2000)))
    # It is a cache: damage may cost a re-hash, never a wrong answer or an error.
    r = repo.status(cwd=str(root))
    assert [(p.path, p.state) for p in r.paths] == [("d", "unchanged"), ("f.csv", "unchanged")]


# ---------------------------------------------------------------- suites and bindings

_GX = """{
  "name": "train",
  "expectations": [
    {"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "meta": {}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "b", "min_value": 0, "max_value": 10}}
  ],
  "meta": {"great_expectations_version": "1.3.0"}
}
"""
_PANDERA = """schema_type: dataframe
version: 0.20.0
columns:
  a:
    dtype: int64
    nullable: false
    checks:
      greater_than_or_equal_to: 0
  b:
    dtype: str
    nullable: true
coerce: false
strict: false
"""
_BINDINGS = """# which suites validate which datasets
[[bind]]
path = "data/*.csv"
suites = ["train.json", "schema.yaml"]

[drift]
psi = 0.2
gate = ["psi", "ks"]
[drift.columns.a]
psi = 0.3
"""


@fuzz_settings(2)
@given(st.sampled_from([("s.json", _GX), ("s.yaml", _PANDERA), ("s.py", "import pandera as pa\nschema = pa.DataFrameSchema({})\n")]), st.data())
def test_suite_files(kind: tuple[str, str], data: st.DataObject) -> None:
    name, valid = kind
    variants = [mutations(valid.encode()), text_mutations(valid).map(str.encode)]
    if name.endswith(".json"):
        variants.append(doc_mutations(json.loads(valid)).map(lambda d: json.dumps(d).encode()))
    if name.endswith(".yaml"):
        variants.append(doc_mutations(yaml.safe_load(valid)).map(lambda d: yaml.safe_dump(d).encode()))
    raw = data.draw(st.one_of(variants))
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(raw)
        try:
            s = load_suite(p)
        except SuiteError as e:
            _bad_input(e, str(p))
            return
        assert is_oid(s.id) and "\n" not in s.name


def _toml_value(v: object) -> str:
    """TOML for any JSON-like value (inline tables and arrays; None, which TOML lacks, as "")."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else "inf" if v == float("inf") else "-inf" if v == float("-inf") else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps("" if v is None else str(v))


def _toml_doc(doc: object) -> bytes:
    if not isinstance(doc, dict):
        doc = {"x": doc}
    return "".join(f"{json.dumps(str(k))} = {_toml_value(v)}\n" for k, v in doc.items()).encode("utf-8", "surrogatepass")


@fuzz_settings(2)
@given(st.one_of(mutations(_BINDINGS.encode()), text_mutations(_BINDINGS).map(str.encode),
                 doc_mutations(tomllib.loads(_BINDINGS)).map(_toml_doc)))
def test_bindings_and_thresholds(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "dvx.toml"
        p.write_bytes(raw)
        try:
            b = load_bindings(d)
            for e in b.entries:
                e.matches("data/x.csv")
        except SuiteError as e:
            _bad_input(e, str(p))
        try:
            load_thresholds(p)
        except ConfigError as e:
            _bad_input(e, str(p))


# ---------------------------------------------------------------- profile objects (a remote can serve them)


@functools.cache
def _valid_profile() -> bytes:
    import pyarrow as pa

    from dvx.quality.profile import profile_table

    t = pa.table({"n": list(range(50)) + [None], "s": [f"v{i % 7}" for i in range(51)], "f": [i / 3 for i in range(51)]})
    return profile_table(t).to_bytes()


@fuzz_settings()
@given(st.data())
def test_profile_from_bytes(data: st.DataObject) -> None:
    from dvx.quality.profile import Profile

    valid = _valid_profile()
    raw = data.draw(st.one_of(
        mutations(valid),
        doc_mutations(json.loads(valid)).map(lambda d: json.dumps(d).encode()),  # one field of the wrong type
    ))
    try:
        Profile.from_bytes(raw)
    except ValueError:
        pass
