"""Hostile sizes are checked before memory is spent (issue 10): each parser meets its bomb in a
child process whose address space is capped at 256 MiB above what its imports took.

A parser that trusted a declared size would die with MemoryError (a bare exception) or be
killed; the child prints one line per case naming the DvxError/ValueError each one raised.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.property, pytest.mark.timeout(180)]

_CHILD = textwrap.dedent(
    r'''
    import os, resource, struct, sys, tempfile
    from pathlib import Path

    import yaml
    from fsspec.implementations.local import LocalFileSystem

    from dvx import errors
    from dvx.config import Config
    from dvx.hashing import hash_bytes
    from dvx.quality.suite import load_suite
    from dvx.store import FileManifest, ObjectStore, TreeManifest
    from dvx.store import index as idx
    from dvx.store import blob as bl
    from dvx.store import pack as pk
    from dvx.workspace import pointer as ptr

    bl._zstd()  # pyarrow's codec: imported before the cap is measured

    def vm_size() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
        raise SystemExit("no /proc/self/status")

    cap = vm_size() + (256 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    top = Path(sys.argv[1])

    def case(name, fn, expect):
        try:
            fn()
        except expect as e:
            print(f"{name}: {type(e).__name__}")
        else:
            print(f"{name}: accepted")

    head = struct.Struct("<4sHHQQ")
    case("file manifest count 2**64-1",
         lambda: FileManifest.decode(head.pack(b"DVXF", 1, 0, 2**64 - 1, 0) + b"\0" * 40), ValueError)
    case("tree manifest count 2**40",
         lambda: TreeManifest.decode(head.pack(b"DVXT", 1, 0, 2**40, 0) + b"\0" * 40), ValueError)
    case("index count 2**32-1",
         lambda: idx.decode_index(struct.pack("<8sII", b"DVXINDEX", 1, 2**32 - 1) + b"\0" * 50), ValueError)
    case("pack trailer header length 2**32-1",
         lambda: pk.records_from_pack(b"\0" * 64 + struct.pack("<I8s", 2**32 - 1, pk.PACK_MAGIC), b"\1" * 16),
         ValueError)

    big = top / "big"
    with open(big, "wb") as f:  # sparse: 1 GiB that costs no disk
        f.truncate(1 << 30)
    case("pointer file of 1 GiB", lambda: ptr.load(big), errors.PointerError)
    (top / ".dvx").mkdir()
    os.link(big, top / ".dvx" / "config")
    case("config file of 1 GiB", lambda: Config(top / ".dvx"), errors.ConfigError)
    os.link(big, top / "suite.json")
    case("suite file of 1 GiB", lambda: load_suite(top / "suite.json"), errors.SuiteError)

    bomb = ["columns: {}", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (top / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    case("YAML alias bomb (9**9 values)", lambda: load_suite(top / "bomb.yaml"), errors.SuiteError)
    (top / "deep.json").write_text("[" * 5_000_000)
    case("JSON nested 5 million deep", lambda: load_suite(top / "deep.json"), errors.SuiteError)

    def store_claiming(stored: int, raw: int, flags: int, offset: int = 0) -> ObjectStore:
        root = Path(tempfile.mkdtemp(dir=top)) / "cache"
        pid = b"\x07" * 16
        blob = b"x" * 100
        (root / "packs" / pid.hex()[:2]).mkdir(parents=True)
        (root / "packs" / pid.hex()[:2] / pid.hex()).write_bytes(blob + pk.encode_header([]))
        data = idx.encode_index([(hash_bytes(blob), pid, offset, stored, raw, 0, flags)])
        (root / "index").mkdir()
        (root / "index" / hash_bytes(data).hex()).write_bytes(data)
        return ObjectStore(LocalFileSystem(), str(root), compression=None)

    oid = hash_bytes(b"x" * 100)
    case("index claims 4 GiB stored", lambda: store_claiming(2**32 - 1, 100, 0).get(oid), errors.CorruptObjectError)
    case("index claims 4 GiB after zstd", lambda: store_claiming(100, 2**32 - 1, idx.FLAG_ZSTD).get(oid),
         errors.CorruptObjectError)
    case("index offset 2**63", lambda: store_claiming(100, 100, 0, 2**63).get(oid), errors.CorruptObjectError)
    case("index offset 2**40", lambda: store_claiming(100, 100, 0, 2**40).get(oid), errors.CorruptObjectError)
    print("done")
    '''
)


def test_bombs_stay_under_256_mib(tmp_path: Path) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to measure the child's address space")
    cp = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path)], capture_output=True, text=True, timeout=170)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    lines = cp.stdout.strip().splitlines()
    assert lines[-1] == "done", cp.stdout + cp.stderr
    for line in lines[:-1]:
        assert not line.endswith(("accepted", "MemoryError")), line
